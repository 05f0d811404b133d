//! The signals reader: any bytes, as a JSON body or as a query string, typed or untyped, give a
//! value or a 400/413-style rejection; never a panic or a stack overflow.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Typed {
    count: i64,
    user: Option<User>,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct User {
    name: String,
    tags: Vec<String>,
}

fuzz_target!(|data: &[u8]| {
    let _ = dstar::signals::parse_signals::<serde_json::Value>(data);
    let _ = dstar::signals::parse_signals::<serde_json::Map<String, serde_json::Value>>(data);
    let _ = dstar::signals::parse_signals::<Typed>(data);
    if let Ok(query) = std::str::from_utf8(data) {
        if let Err(e) = dstar::signals::signals_from_query::<serde_json::Value>(query) {
            assert!(!e.to_string().is_empty());
        }
    }
});
