//! [`UploadedFile`]: a file the browser sent, as Datastar's file binding puts it in a signal, and
//! its check against an [`Accept`] policy.

use super::accept::{Accept, Types};
use super::error::{UploadError, UploadErrorKind};
use super::size::too_large;
use super::sniff::{OCTET_STREAM, sniff};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde::de::{self, Deserializer};
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A file the browser sent: its name, the mime type the browser *declared* (never trust it: see
/// [`sniffed_mime`](UploadedFile::sniffed_mime)), and its bytes.
///
/// It deserializes from what Datastar's file binding (`<input type="file" data-bind:avatar>`) puts
/// in a signal: an array of `{name, contents, mime}`, `contents` in base64. So a signals struct
/// takes `Vec<UploadedFile>` (with `#[serde(default)]`: the signal is missing until a file is
/// picked, unless the page declares `data-signals:avatar="[]"`). Bad base64 is a `400` naming the
/// field. [`Multipart`](super::Multipart) gives `UploadedFile`s too.
///
/// ```
/// use dstar::upload::{Accept, UploadedFile};
///
/// #[derive(serde::Deserialize)]
/// struct Profile {
///     #[serde(default)]
///     avatar: Vec<UploadedFile>,
/// }
///
/// let json = r#"{"avatar":[{"name":"a.gif","contents":"R0lGODlhAQABAAAAACw=","mime":"image/gif"}]}"#;
/// let profile: Profile = dstar::signals::parse_signals(json.as_bytes()).unwrap();
/// let file = &profile.avatar[0];
/// assert_eq!((file.name(), file.declared_mime(), file.len()), ("a.gif", "image/gif", 14));
/// assert_eq!(file.sniffed_mime(), "image/gif");
/// assert!(file.check(&Accept::images().max_bytes(1024)).is_ok());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct UploadedFile {
    name: String,
    declared_mime: String,
    bytes: Bytes,
}

impl UploadedFile {
    /// A file from its parts (tests, other sources).
    ///
    /// ```
    /// let f = dstar::upload::UploadedFile::new("notes.txt", "text/plain", "hello");
    /// assert_eq!(f.bytes(), b"hello");
    /// ```
    pub fn new(
        name: impl Into<String>,
        declared_mime: impl Into<String>,
        bytes: impl Into<Bytes>,
    ) -> Self {
        UploadedFile {
            name: name.into(),
            declared_mime: declared_mime.into(),
            bytes: bytes.into(),
        }
    }

    /// The file name the browser sent (the user's own name for it: never use it as a path).
    ///
    /// ```
    /// let f = dstar::upload::UploadedFile::new("cat.png", "image/png", vec![1]);
    /// assert_eq!(f.name(), "cat.png");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The mime type the browser declared, from the file's extension: anyone can send any.
    ///
    /// ```
    /// let f = dstar::upload::UploadedFile::new("cat.png", "image/png", "not a png");
    /// assert_eq!(f.declared_mime(), "image/png");
    /// assert_eq!(f.sniffed_mime(), "text/plain");
    /// ```
    pub fn declared_mime(&self) -> &str {
        &self.declared_mime
    }

    /// The contents.
    ///
    /// ```
    /// let f = dstar::upload::UploadedFile::new("a", "text/plain", "abc");
    /// assert_eq!(f.bytes(), b"abc");
    /// ```
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The contents, owned (no copy).
    ///
    /// ```
    /// let f = dstar::upload::UploadedFile::new("a", "text/plain", "abc");
    /// assert_eq!(f.into_bytes(), bytes::Bytes::from_static(b"abc"));
    /// ```
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }

    /// The size in bytes.
    ///
    /// ```
    /// assert_eq!(dstar::upload::UploadedFile::new("a", "", "abc").len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the file is empty.
    ///
    /// ```
    /// assert!(dstar::upload::UploadedFile::new("a", "", "").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The mime type of what the file *holds*, by its first bytes (the `infer` crate's magic
    /// numbers), whatever its name and declared type say: `image/png`, `application/pdf`, … .
    /// Text is `text/plain` (`text/html`, `text/xml`, `image/svg+xml` when recognized), and
    /// anything unknown `application/octet-stream`.
    ///
    /// ```
    /// use dstar::upload::UploadedFile;
    /// let png = UploadedFile::new("x", "text/plain", &b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"[..]);
    /// assert_eq!(png.sniffed_mime(), "image/png");
    /// let svg = UploadedFile::new("x.png", "image/png", r#"<svg xmlns="http://www.w3.org/2000/svg"/>"#);
    /// assert_eq!(svg.sniffed_mime(), "image/svg+xml");
    /// assert_eq!(UploadedFile::new("x", "", vec![0, 159, 146, 150]).sniffed_mime(), "application/octet-stream");
    /// ```
    pub fn sniffed_mime(&self) -> &'static str {
        sniff(&self.bytes)
    }

    /// Checks the file against a policy: not empty, within its size, and of an accepted type by
    /// its content ([`sniffed_mime`](UploadedFile::sniffed_mime)), never by its declared type.
    ///
    /// ```
    /// use dstar::upload::{Accept, UploadErrorKind, UploadedFile};
    /// let text = UploadedFile::new("cat.png", "image/png", "hello");
    /// let err = text.check(&Accept::images()).unwrap_err();
    /// assert_eq!(err.kind(), UploadErrorKind::NotAccepted);
    /// assert_eq!(err.to_string(), "not an accepted image: the file's content is text/plain");
    /// ```
    pub fn check(&self, accept: &Accept) -> Result<(), UploadError> {
        if self.bytes.is_empty() {
            return Err(UploadError::new(
                UploadErrorKind::Empty,
                "empty file".into(),
            ));
        }
        if let Some(max) = accept.max_bytes {
            if self.bytes.len() > max {
                return Err(UploadError::new(
                    UploadErrorKind::TooLarge,
                    too_large(self.bytes.len() as u64, max as u64),
                ));
            }
        }
        let found = self.sniffed_mime();
        if accept.allows(found) {
            return Ok(());
        }
        let message = match &accept.types {
            Types::Listed(list) => format!(
                "not an accepted file type: the file's content is {found}; accepted: {}",
                list.join(", ")
            ),
            // `Any` allows everything
            Types::Images | Types::Any => {
                format!("not an accepted image: the file's content is {found}")
            }
        };
        Err(UploadError::new(UploadErrorKind::NotAccepted, message))
    }
}

impl fmt::Debug for UploadedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadedFile")
            .field("name", &self.name)
            .field("declared_mime", &self.declared_mime)
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl<'de> Deserialize<'de> for UploadedFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            #[serde(default)]
            name: String,
            contents: String,
            #[serde(default)]
            mime: Option<String>,
        }
        let wire = Wire::deserialize(deserializer)?;
        let bytes = STANDARD.decode(wire.contents.as_bytes()).map_err(|e| {
            de::Error::custom(format_args!(
                "the contents of file {:?} are not valid base64 ({e})",
                wire.name
            ))
        })?;
        Ok(UploadedFile {
            name: wire.name,
            declared_mime: wire
                .mime
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| OCTET_STREAM.to_owned()),
            bytes: Bytes::from(bytes),
        })
    }
}

/// The same `{name, contents, mime}` shape Datastar sends, `contents` in base64.
impl Serialize for UploadedFile {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("UploadedFile", 3)?;
        s.serialize_field("name", &self.name)?;
        s.serialize_field("contents", &STANDARD.encode(&self.bytes))?;
        s.serialize_field("mime", &self.declared_mime)?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deserializes_datastar_files_and_names_bad_base64() {
        let file: UploadedFile =
            serde_json::from_str(r#"{"name":"a.txt","contents":"aGk=","mime":"text/plain"}"#)
                .unwrap();
        assert_eq!(file.bytes(), b"hi");
        let round: UploadedFile =
            serde_json::from_value(serde_json::to_value(&file).unwrap()).unwrap();
        assert_eq!(round, file);
        let no_mime: UploadedFile = serde_json::from_str(r#"{"name":"a","contents":""}"#).unwrap();
        assert_eq!(no_mime.declared_mime(), OCTET_STREAM);
        let err = serde_json::from_str::<UploadedFile>(r#"{"name":"a.png","contents":"!!"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("the contents of file \"a.png\" are not valid base64"),
            "{err}"
        );
    }
}
