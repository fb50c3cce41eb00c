#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    understudy_fuzz::checks::xfr::check_xfr(data);
});
