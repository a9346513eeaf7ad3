#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kwo_fuzz::verify::run(data));
