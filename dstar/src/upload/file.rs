//! An uploaded file, what it really holds, and the policy that judges it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde::de::{self, Deserializer};
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The mime type a browser declares when it knows none.
const OCTET_STREAM: &str = "application/octet-stream";

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

/// What a file's content is, by its first bytes.
fn sniff(bytes: &[u8]) -> &'static str {
    let found = infer::get(bytes).map(|t| t.mime_type());
    match found {
        // a binary format: its magic number says it all
        Some(mime) if mime != "text/xml" && mime != "text/html" => mime,
        // markup or text: an SVG is an image that can hold script, so it is named as such
        _ if looks_like_text(bytes) && is_svg(bytes) => "image/svg+xml",
        Some(markup) => markup,
        None if looks_like_text(bytes) => "text/plain",
        None => OCTET_STREAM,
    }
}

/// How much of a file the text checks read.
const SNIFF_LEN: usize = 8 * 1024;

/// Valid UTF-8 (a character cut at the end of the prefix is fine) with no control characters
/// but whitespace.
fn looks_like_text(bytes: &[u8]) -> bool {
    if bytes.is_empty() {
        return false;
    }
    let head = &bytes[..bytes.len().min(SNIFF_LEN)];
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or("")
        }
        Err(_) => return false,
    };
    text.chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\x0c'))
}

/// An `<svg` element near the start of a text file.
fn is_svg(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(SNIFF_LEN)];
    head.windows(4).any(|w| w.eq_ignore_ascii_case(b"<svg"))
}

/// Which types a policy accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Types {
    /// PNG, JPEG, GIF and WebP.
    Images,
    /// These mime types, exactly.
    Listed(Vec<String>),
    /// Any content.
    Any,
}

/// The raster image types [`Accept::images`] takes. Not SVG: it can hold script.
const IMAGES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

/// What an upload may be: its types, judged by content, and its size. Check a file with
/// [`UploadedFile::check`].
///
/// ```
/// use dstar::upload::Accept;
/// let avatars = Accept::images().max_bytes(2_000_000);
/// let documents = Accept::types(&["application/pdf"]).max_bytes(10 << 20);
/// assert!(avatars.allows("image/webp") && !avatars.allows("image/svg+xml"));
/// assert!(documents.allows("application/pdf"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accept {
    types: Types,
    max_bytes: Option<usize>,
}

impl Accept {
    /// Raster images: PNG, JPEG, GIF and WebP. Not SVG, which can hold script that runs when the
    /// file is opened from your origin.
    ///
    /// ```
    /// let a = dstar::upload::Accept::images();
    /// assert!(a.allows("image/png") && a.allows("image/jpeg"));
    /// assert!(!a.allows("image/svg+xml") && !a.allows("text/html"));
    /// ```
    pub fn images() -> Self {
        Accept {
            types: Types::Images,
            max_bytes: None,
        }
    }

    /// These mime types exactly (as [`UploadedFile::sniffed_mime`] names them), e.g.
    /// `&["application/pdf", "image/png"]`.
    ///
    /// ```
    /// let a = dstar::upload::Accept::types(&["application/pdf", "text/plain"]);
    /// assert!(a.allows("text/plain") && !a.allows("image/png"));
    /// ```
    pub fn types(types: &[&str]) -> Self {
        Accept {
            types: Types::Listed(
                types
                    .iter()
                    .map(|t| t.trim().to_ascii_lowercase())
                    .collect(),
            ),
            max_bytes: None,
        }
    }

    /// Any content, for a policy on size alone.
    ///
    /// ```
    /// assert!(dstar::upload::Accept::any().allows("application/octet-stream"));
    /// ```
    pub fn any() -> Self {
        Accept {
            types: Types::Any,
            max_bytes: None,
        }
    }

    /// The largest file accepted, in bytes.
    ///
    /// ```
    /// use dstar::upload::{Accept, UploadedFile};
    /// let err = UploadedFile::new("a.txt", "text/plain", "12345")
    ///     .check(&Accept::any().max_bytes(4))
    ///     .unwrap_err();
    /// assert_eq!(err.to_string(), "too large: 5 bytes; at most 4 bytes");
    /// ```
    pub fn max_bytes(mut self, bytes: usize) -> Self {
        self.max_bytes = Some(bytes);
        self
    }

    /// Whether content of this mime type is accepted.
    ///
    /// ```
    /// assert!(!dstar::upload::Accept::images().allows("application/pdf"));
    /// ```
    pub fn allows(&self, mime: &str) -> bool {
        match &self.types {
            Types::Images => IMAGES.contains(&mime),
            Types::Listed(list) => list.iter().any(|t| t.eq_ignore_ascii_case(mime)),
            Types::Any => true,
        }
    }
}

/// What was wrong with an upload (see [`UploadError::kind`]).
///
/// ```
/// use dstar::upload::{Accept, UploadErrorKind, UploadedFile};
/// let err = UploadedFile::new("a", "", "").check(&Accept::any()).unwrap_err();
/// assert_eq!(err.kind(), UploadErrorKind::Empty);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UploadErrorKind {
    /// The file has no bytes.
    Empty,
    /// The file is bigger than [`Accept::max_bytes`].
    TooLarge,
    /// Its content is not of an accepted type.
    NotAccepted,
}

/// Why [`UploadedFile::check`] refused a file, in words fit to show the user: `empty file`,
/// `too large: 2.4 MB; at most 2 MB`, `not an accepted image: the file's content is
/// text/plain`. As a response it is a `422`, `413` or `415` with that text (in release builds
/// only its class, `413 payload too large: too large`: show the user the text yourself).
///
/// ```
/// use dstar::upload::{Accept, UploadErrorKind, UploadedFile};
/// let big = UploadedFile::new("a.txt", "text/plain", vec![b'a'; 2_400_000]);
/// let err = big.check(&Accept::any().max_bytes(2_000_000)).unwrap_err();
/// assert_eq!(err.kind(), UploadErrorKind::TooLarge);
/// assert_eq!(err.to_string(), "too large: 2.4 MB; at most 2 MB");
/// assert_eq!(err.status(), 413);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadError {
    kind: UploadErrorKind,
    message: String,
}

impl UploadError {
    fn new(kind: UploadErrorKind, message: String) -> Self {
        UploadError { kind, message }
    }

    /// What was wrong.
    ///
    /// ```
    /// use dstar::upload::{Accept, UploadErrorKind, UploadedFile};
    /// let err = UploadedFile::new("a", "", "hi").check(&Accept::images()).unwrap_err();
    /// assert_eq!(err.kind(), UploadErrorKind::NotAccepted);
    /// ```
    pub fn kind(&self) -> UploadErrorKind {
        self.kind
    }

    /// The status it answers with: `422` (empty), `413` (too large), `415` (not accepted).
    ///
    /// ```
    /// use dstar::upload::{Accept, UploadedFile};
    /// let err = UploadedFile::new("a", "", "hi").check(&Accept::images()).unwrap_err();
    /// assert_eq!(err.status(), axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE);
    /// ```
    pub fn status(&self) -> StatusCode {
        match self.kind {
            UploadErrorKind::Empty => StatusCode::UNPROCESSABLE_ENTITY,
            UploadErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            UploadErrorKind::NotAccepted => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        }
    }
}

impl fmt::Display for UploadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UploadError {}

impl IntoResponse for UploadError {
    fn into_response(self) -> Response {
        let class = match self.kind {
            UploadErrorKind::Empty => "empty file",
            UploadErrorKind::TooLarge => "too large",
            UploadErrorKind::NotAccepted => "file type not accepted",
        };
        crate::error::refusal(self.status(), class, &self.message)
    }
}

/// `too large: 2.4 MB; at most 2 MB`, exact where rounding would make both the same.
fn too_large(size: u64, limit: u64) -> String {
    let (a, b) = (human_size(size), human_size(limit));
    if a == b {
        format!("too large: {size} bytes; at most {limit} bytes")
    } else {
        format!("too large: {a}; at most {b}")
    }
}

/// A byte count for people, exact where it can be: in decimal units with at most one decimal
/// (`512 KB`, `2.4 MB`), else in whole binary units (`1 MiB`), else rounded to one decimal, or
/// in bytes under a kilobyte.
pub(crate) fn human_size(n: u64) -> String {
    const DECIMAL: [(u64, &str); 3] = [(1_000_000_000, "GB"), (1_000_000, "MB"), (1_000, "KB")];
    const BINARY: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    let Some(&(unit, name)) = DECIMAL.iter().find(|&&(unit, _)| n >= unit) else {
        return if n == 1 {
            "1 byte".to_owned()
        } else {
            format!("{n} bytes")
        };
    };
    let decimal = || {
        let text = format!("{:.1}", n as f64 / unit as f64);
        format!("{} {name}", text.strip_suffix(".0").unwrap_or(&text))
    };
    if n % (unit / 10) == 0 {
        return decimal();
    }
    match BINARY.iter().find(|&&(unit, _)| n >= unit) {
        Some(&(unit, name)) if n % unit == 0 => format!("{} {name}", n / unit),
        _ => decimal(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{assert_quiet, quietly};

    #[test]
    fn release_bodies_name_the_problem_only() {
        let file = |bytes: &'static [u8]| UploadedFile::new("<script>.txt", "text/<script>", bytes);
        let listed = Accept::types(&["image/png", "application/x-internal"]);
        let cases = [
            (file(b"").check(&Accept::any()), 422, "empty file"),
            (
                file(b"12345").check(&Accept::any().max_bytes(4)),
                413,
                "too large",
            ),
            (
                file(b"<script>").check(&listed),
                415,
                "file type not accepted",
            ),
        ];
        for (result, status, class) in cases {
            let refused = quietly(|| result.unwrap_err().into_response());
            assert_quiet(refused, status, class);
        }
    }

    #[test]
    fn human_sizes() {
        for (n, text) in [
            (0, "0 bytes"),
            (1, "1 byte"),
            (999, "999 bytes"),
            (1000, "1 KB"),
            (1024, "1 KiB"),
            (512_000, "512 KB"),
            (4_000_000, "4 MB"),
            (1 << 20, "1 MiB"),
            (1_024_000, "1000 KiB"),
            (2_000_001, "2 MB"),
            (2_400_000, "2.4 MB"),
            (2_097_152, "2 MiB"),
            (1_500, "1.5 KB"),
            (3 << 30, "3 GiB"),
        ] {
            assert_eq!(human_size(n), text, "{n}");
        }
        assert_eq!(
            too_large(2_000_001, 2_000_000),
            "too large: 2000001 bytes; at most 2000000 bytes"
        );
    }

    #[test]
    fn sniffing_judges_content_not_names() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
        assert_eq!(sniff(png), "image/png");
        assert_eq!(sniff(b"\xff\xd8\xff\xe0\0\x10JFIF\0"), "image/jpeg");
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0"), "image/gif");
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), "image/webp");
        assert_eq!(sniff(b"%PDF-1.7\n"), "application/pdf");
        assert_eq!(sniff("héllo\nworld".as_bytes()), "text/plain");
        assert_eq!(sniff(b"<?xml version=\"1.0\"?><svg/>"), "image/svg+xml");
        assert_eq!(sniff(b"<!DOCTYPE html><html></html>"), "text/html");
        assert_eq!(sniff(b"\0\x01\x02"), OCTET_STREAM);
        assert_eq!(sniff(b""), OCTET_STREAM);
        // a multi-byte character cut at the sniffing window is still text
        let mut long = "a".repeat(SNIFF_LEN - 1).into_bytes();
        long.extend_from_slice("é".as_bytes());
        assert_eq!(sniff(&long), "text/plain");
    }

    #[test]
    fn svg_is_never_an_accepted_image() {
        let svg = UploadedFile::new("x.png", "image/png", "<svg onload=alert(1)>");
        let err = svg.check(&Accept::images()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "not an accepted image: the file's content is image/svg+xml"
        );
        let listed = UploadedFile::new("x", "", "hi")
            .check(&Accept::types(&["application/pdf"]))
            .unwrap_err();
        assert_eq!(
            listed.to_string(),
            "not an accepted file type: the file's content is text/plain; accepted: application/pdf"
        );
    }

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
