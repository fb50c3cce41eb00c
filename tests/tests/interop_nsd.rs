//! understudy as the secondary of a real Nsd primary.

use understudy_e2e::Kind;
use understudy_e2e::interop;
use understudy_e2e::servers::Signing;

#[test]
fn axfr_then_ixfr_after_notify() {
    interop::axfr_then_ixfr_after_notify(Kind::Nsd);
}

#[test]
fn tsig_signed_transfers_and_notify_succeed() {
    interop::tsig_success(Kind::Nsd);
}

#[test]
fn tsig_with_a_wrong_secret_is_refused_and_old_data_kept() {
    interop::tsig_failure_keeps_old_data(Kind::Nsd);
}

#[test]
fn signed_zone_with_nsec_served_with_correct_proofs() {
    interop::signed_zone_served_with_proofs(Kind::Nsd, Signing::Nsec, "wildcard.test.");
}

#[test]
fn signed_zone_with_nsec3_served_with_correct_proofs() {
    interop::signed_zone_served_with_proofs(Kind::Nsd, Signing::Nsec3, "deleg.test.");
}
