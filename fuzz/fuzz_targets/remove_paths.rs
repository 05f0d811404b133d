//! The `remove_signals` path parser: any paths are refused with an error or give an object patch
//! in which every path is removed (its leaf is null, or an ancestor is).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &str| {
    let paths: Vec<&str> = data.split('\n').take(16).collect();
    match dstar::signals::remove_patch(&paths) {
        Err(_) => {
            assert!(paths.iter().any(|p| p.is_empty()
                || p.starts_with('.')
                || p.ends_with('.')
                || p.contains("..")))
        }
        Ok(patch) => {
            assert!(patch.is_object());
            for path in &paths {
                let mut node = &patch;
                for seg in path.split('.') {
                    match node {
                        Value::Object(map) => {
                            node = map.get(seg).expect("every segment is in the patch")
                        }
                        Value::Null => break, // an ancestor is removed
                        other => panic!("unexpected {other}"),
                    }
                }
                assert!(node.is_null() || node.is_object());
            }
        }
    }
});
