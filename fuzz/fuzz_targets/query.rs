#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    understudy_fuzz::checks::query::check_query(data);
});
