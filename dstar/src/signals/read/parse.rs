//! Signals parsed from JSON: nesting bounded, and errors that name the field.

use super::rejection::SignalsRejection;
use serde::de::DeserializeOwned;

/// The deepest nesting of objects and arrays accepted (serde_json's own recursion limit).
const MAX_DEPTH: usize = 128;

/// Parses signals from JSON bytes by the rules of [`Signals`](super::Signals): empty (or all
/// whitespace) means `{}`; bad input is a [`SignalsRejection`] naming the problem. For signals that
/// arrive some other way than an HTTP request.
///
/// ```
/// let v: serde_json::Value = dstar::signals::parse_signals(br#"{"a":1}"#).unwrap();
/// assert_eq!(v["a"], 1);
/// assert!(dstar::signals::parse_signals::<serde_json::Value>(b"[1]").is_ok());
/// assert!(dstar::signals::parse_signals::<serde_json::Map<String, serde_json::Value>>(b"[1]").is_err());
/// ```
pub fn parse_signals<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, SignalsRejection> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return parse(b"{}");
    }
    parse(bytes)
}

/// Refuses JSON nested deeper than [`MAX_DEPTH`] before any parsing, also where a typed struct
/// would skip the deep part: a linear scan that steps over string contents.
fn check_depth(bytes: &[u8]) -> Result<(), SignalsRejection> {
    if bytes.len() <= MAX_DEPTH {
        return Ok(()); // too short to open more than MAX_DEPTH brackets
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(SignalsRejection::Malformed(format!(
                        "signals: nested deeper than {MAX_DEPTH} levels (recursion limit exceeded)"
                    )));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

pub(super) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, SignalsRejection> {
    check_depth(bytes)?;
    // The fast path; errors are rare, so only they pay for tracking the field path.
    match serde_json::from_slice(bytes) {
        Ok(value) => Ok(value),
        Err(_) => parse_with_path(bytes),
    }
}

fn parse_with_path<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, SignalsRejection> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = describe(&inner);
        // a field path only means something for data errors, not for broken syntax
        let at = if path == "." || path.is_empty() || !inner.is_data() {
            "signals".to_owned()
        } else {
            format!("signals.{path}")
        };
        SignalsRejection::Malformed(format!("{at}: {message}"))
    })?;
    de.end()
        .map_err(|e| SignalsRejection::Malformed(format!("signals: {}", describe(&e))))?;
    Ok(value)
}

/// serde_json's message; the position is kept only for syntax errors, where it helps.
fn describe(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if e.is_data() {
        if let Some(at) = text.rfind(" at line ") {
            return text[..at].to_owned();
        }
    }
    text
}
