//! The module-name decoder: any input decodes to nothing or to a path that encodes back to
//! exactly the input; encoding any decoded path is URL-safe.
#![no_main]

use dstar::actions::{decode_module, encode_module};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    if let Some(path) = decode_module(data) {
        let encoded = encode_module(&path);
        assert_eq!(encoded, data);
        assert!(
            encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-%".contains(&b))
        );
    }
});
