//! The signals a response leaves behind: its patch-signals events folded as a browser merges
//! them, and an assertion on the result.

use super::SseEvent;
use serde_json::{Map, Value};

/// Folds every patch-signals event into the signals a browser would end up with, starting from
/// `{}`: RFC 7386 merge patches, where `null` removes a signal, and `onlyIfMissing` events only
/// add what is not there yet.
///
/// ```
/// use serde_json::json;
/// let body = b"event: datastar-patch-signals\ndata: signals {\"user\":{\"name\":\"Ann\",\"age\":3}}\n\n\
///              event: datastar-patch-signals\ndata: signals {\"user\":{\"age\":null},\"n\":1}\n\n\
///              event: datastar-patch-signals\ndata: onlyIfMissing true\ndata: signals {\"n\":9,\"m\":2}\n\n";
/// let events = dstar::test::parse_events(body);
/// assert_eq!(dstar::test::patched_signals(&events), json!({"user": {"name": "Ann"}, "n": 1, "m": 2}));
/// ```
///
/// # Panics
///
/// When a patch-signals event does not hold a JSON object.
pub fn patched_signals(events: &[SseEvent]) -> Value {
    let mut state = Value::Object(Map::new());
    for (i, event) in events.iter().enumerate() {
        if event.event != "datastar-patch-signals" {
            continue;
        }
        let text = event.value("signals").unwrap_or_default();
        let patch: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!("event #{i} (datastar-patch-signals) does not hold JSON: {e}\n  signals: {text}")
        });
        assert!(
            patch.is_object(),
            "event #{i}: signals must be a JSON object, got {patch}"
        );
        let only_if_missing = event.lines("onlyIfMissing") == ["true"];
        merge(&mut state, &patch, only_if_missing);
    }
    state
}

pub(super) fn merge(target: &mut Value, patch: &Value, only_if_missing: bool) {
    let Value::Object(patch) = patch else {
        if !only_if_missing {
            *target = patch.clone();
        }
        return;
    };
    if !target.is_object() {
        if only_if_missing && !target.is_null() {
            return;
        }
        *target = Value::Object(Map::new());
    }
    let Value::Object(map) = target else { return };
    for (key, value) in patch {
        if value.is_null() {
            if !only_if_missing {
                map.remove(key);
            }
            continue;
        }
        match map.get_mut(key) {
            Some(existing) if value.is_object() => merge(existing, value, only_if_missing),
            Some(_) if only_if_missing => {}
            _ => {
                let mut fresh = Value::Null;
                merge(&mut fresh, value, false);
                map.insert(key.clone(), fresh);
            }
        }
    }
}

/// Asserts that the folded signals (see [`patched_signals`]) contain `expected`: every key of
/// `expected` must be there with an equal value (objects are compared key by key, so extra
/// signals are fine); `null` expects the signal to be absent, as a merge patch removes it. On failure every difference is listed by path, then the whole signals.
///
/// ```
/// use serde_json::json;
/// let events = dstar::test::parse_events(b"event: datastar-patch-signals\ndata: signals {\"count\":42,\"x\":1}\n\n");
/// dstar::test::assert_patched_signals(&events, json!({ "count": 42 }));
/// ```
///
/// ```should_panic
/// # use serde_json::json;
/// let events = dstar::test::parse_events(b"event: datastar-patch-signals\ndata: signals {\"count\":41}\n\n");
/// // panics: "signals.count: expected 42, got 41"
/// dstar::test::assert_patched_signals(&events, json!({ "count": 42 }));
/// ```
#[track_caller]
pub fn assert_patched_signals(events: &[SseEvent], expected: Value) {
    let actual = patched_signals(events);
    let mut diffs = Vec::new();
    diff("signals", &expected, &actual, &mut diffs);
    if !diffs.is_empty() {
        panic!(
            "patched signals do not match:\n  {}\n\nall patched signals:\n{}",
            diffs.join("\n  "),
            serde_json::to_string_pretty(&actual).unwrap_or_default()
        );
    }
}

fn diff(path: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, ev) in e {
                let p = format!("{path}.{key}");
                match a.get(key) {
                    Some(av) => diff(&p, ev, av, out),
                    // `null` removes a signal, so expecting `null` means expecting it absent
                    None if ev.is_null() => {}
                    None => out.push(format!("{p}: expected {ev}, but it was never patched")),
                }
            }
        }
        (e, a) if e == a => {}
        (e, a) => out.push(format!("{path}: expected {e}, got {a}")),
    }
}
