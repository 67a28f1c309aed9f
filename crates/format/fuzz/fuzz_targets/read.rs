//! Any bytes: `read` returns a profile or an error, never panics or hangs; a profile it returns
//! encodes back to bytes that read as the same profile.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(profile) = alloc_profile_format::read(data) {
        let again = alloc_profile_format::read(&profile.to_bytes())
            .expect("a profile read once re-encodes to a readable file");
        assert_eq!(again, profile);
    }
});
