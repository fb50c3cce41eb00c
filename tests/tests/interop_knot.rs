//! understudy as the secondary of a real Knot primary.

use understudy_e2e::Kind;
use understudy_e2e::interop;
use understudy_e2e::servers::Signing;

#[test]
fn axfr_then_ixfr_after_notify() {
    interop::axfr_then_ixfr_after_notify(Kind::Knot);
}

#[test]
fn tsig_signed_transfers_and_notify_succeed() {
    interop::tsig_success(Kind::Knot);
}

#[test]
fn tsig_with_a_wrong_secret_is_refused_and_old_data_kept() {
    interop::tsig_failure_keeps_old_data(Kind::Knot);
}

#[test]
fn signed_zone_with_nsec_served_with_correct_proofs() {
    interop::signed_zone_served_with_proofs(Kind::Knot, Signing::Nsec, "wildcard.test.");
}

#[test]
fn signed_zone_with_nsec3_served_with_correct_proofs() {
    interop::signed_zone_served_with_proofs(Kind::Knot, Signing::Nsec3, "deleg.test.");
}
