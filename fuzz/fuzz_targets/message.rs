#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    understudy_fuzz::checks::message::check_message(data);
});
