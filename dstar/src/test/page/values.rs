//! A [`TestPage`]'s signals as values: one read or set by dot path, and a value read as
//! JavaScript reads it (truthy or not, as text), with signal names as Datastar spells them.

use super::TestPage;
use crate::test::signals::merge;
use serde_json::{Map, Value};

impl TestPage {
    /// The signal at a dot path (`null` when absent).
    pub(super) fn signal(&self, path: &str) -> &Value {
        path.split('.')
            .try_fold(&self.signals, |v, key| v.get(key))
            .unwrap_or(&Value::Null)
    }

    /// Sets the signal at a dot path, as a merge patch.
    pub(super) fn set_signal(&mut self, path: &str, value: Value) {
        merge(&mut self.signals, &nest(path, value), false);
    }
}

/// `{"a": {"b": value}}` for `a.b`.
pub(super) fn nest(path: &str, value: Value) -> Value {
    path.rsplit('.').fold(value, |inner, key| {
        let mut map = Map::new();
        map.insert(key.to_owned(), inner);
        Value::Object(map)
    })
}

/// `new-todo` → `newTodo`, as Datastar names signals from attribute keys.
pub(super) fn camel(kebab: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in kebab.chars() {
        if c == '-' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

pub(super) fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

pub(super) fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
