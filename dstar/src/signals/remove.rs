use super::PatchSignals;
use crate::error::Error;
use crate::sse::DatastarEvent;
use crate::sse::EventOptions as _;
use bytes::BytesMut;
use serde_json::{Map, Value};

/// One dot path or many: `"user.name"`, `["user.name", "user.email"]`, a `Vec<String>`, ….
///
/// ```
/// use dstar::signals::SignalPaths;
/// let paths: Vec<&str> = ["a.b", "c"].paths().collect();
/// assert_eq!(paths, ["a.b", "c"]);
/// ```
pub trait SignalPaths {
    /// The paths, in order.
    fn paths(&self) -> impl Iterator<Item = &str>;
}

impl SignalPaths for str {
    fn paths(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self)
    }
}
impl SignalPaths for String {
    fn paths(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.as_str())
    }
}
impl<S: AsRef<str>> SignalPaths for [S] {
    fn paths(&self) -> impl Iterator<Item = &str> {
        self.iter().map(AsRef::as_ref)
    }
}
impl<S: AsRef<str>, const N: usize> SignalPaths for [S; N] {
    fn paths(&self) -> impl Iterator<Item = &str> {
        self.iter().map(AsRef::as_ref)
    }
}
impl<S: AsRef<str>> SignalPaths for Vec<S> {
    fn paths(&self) -> impl Iterator<Item = &str> {
        self.iter().map(AsRef::as_ref)
    }
}
impl<P: SignalPaths + ?Sized> SignalPaths for &P {
    fn paths(&self) -> impl Iterator<Item = &str> {
        (**self).paths()
    }
}

fn validate(path: &str) -> Result<(), Error> {
    let reason = if path.is_empty() {
        "it is empty"
    } else if path.starts_with('.') {
        "it starts with a dot"
    } else if path.ends_with('.') {
        "it ends with a dot"
    } else if path.contains("..") {
        "it contains an empty segment (`..`)"
    } else {
        return Ok(());
    };
    Err(Error::InvalidSignalPath {
        path: path.to_owned(),
        reason,
    })
}

/// Builds the merge patch that removes every path: nested objects with `null` leaves.
///
/// Paths sharing a prefix are merged into one object. When a path and one of its ancestors are
/// both given, removing the ancestor wins (the descendant is already gone with it).
///
/// ```
/// use serde_json::json;
/// let patch = dstar::signals::remove_patch(&["user.name", "user.profile.theme", "session"]).unwrap();
/// assert_eq!(patch, json!({"user": {"name": null, "profile": {"theme": null}}, "session": null}));
/// let patch = dstar::signals::remove_patch(&["user.name", "user"]).unwrap();
/// assert_eq!(patch, json!({"user": null}));
/// assert!(dstar::signals::remove_patch(&[".user"]).is_err());
/// ```
pub fn remove_patch(paths: &(impl SignalPaths + ?Sized)) -> Result<Value, Error> {
    let mut root = Map::new();
    for path in paths.paths() {
        validate(path)?;
        let mut node = &mut root;
        let mut segments = path.split('.').peekable();
        while let Some(seg) = segments.next() {
            if segments.peek().is_none() {
                node.insert(seg.to_owned(), Value::Null);
                break;
            }
            let child = node
                .entry(seg.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            match child {
                Value::Object(map) => node = map,
                // An ancestor is already removed: nothing below it needs saying.
                _ => break,
            }
        }
    }
    Ok(Value::Object(root))
}

/// A patch-signals event removing signals by dot path.
///
/// ```
/// use dstar::signals::RemoveSignals;
/// let bytes = dstar::sse::format_event(&RemoveSignals::new(["user.name", "user.email"])).unwrap();
/// assert!(bytes.ends_with(b"data: signals {\"user\":{\"email\":null,\"name\":null}}\n\n"));
/// ```
#[derive(Debug, Clone)]
pub struct RemoveSignals<P> {
    paths: P,
    meta: crate::sse::EventMeta,
}

impl<P: SignalPaths> RemoveSignals<P> {
    /// Removes `paths` (one path or many).
    ///
    /// ```
    /// let event = dstar::signals::RemoveSignals::new("user.profile.theme");
    /// assert!(dstar::sse::format_event(&event).is_ok());
    /// ```
    pub fn new(paths: P) -> Self {
        RemoveSignals {
            paths,
            meta: crate::sse::EventMeta::default(),
        }
    }
}

impl<P: SignalPaths> DatastarEvent for RemoveSignals<P> {
    fn write_to(&self, out: &mut BytesMut) -> Result<(), Error> {
        let patch = remove_patch(&self.paths)?;
        let mut event = PatchSignals::new(patch);
        *event.meta_mut() = self.meta.clone();
        event.write_to(out)
    }
}

impl<P> crate::sse::EventOptions for RemoveSignals<P> {
    fn meta_mut(&mut self) -> &mut crate::sse::EventMeta {
        &mut self.meta
    }
}
