//! [`UploadError`]: why a file was refused, in words fit to show the user, and its response.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::fmt;

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
    /// The file is bigger than [`Accept::max_bytes`](super::Accept::max_bytes).
    TooLarge,
    /// Its content is not of an accepted type.
    NotAccepted,
}

/// Why [`UploadedFile::check`](super::UploadedFile::check) refused a file, in words fit to show the
/// user: `empty file`, `too large: 2.4 MB; at most 2 MB`, `not an accepted image: the file's
/// content is text/plain`. As a response it is a `422`, `413` or `415` with that text (in release
/// builds only its class, `413 payload too large: too large`: show the user the text yourself).
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
    pub(super) fn new(kind: UploadErrorKind, message: String) -> Self {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{assert_quiet, quietly};
    use crate::upload::{Accept, UploadedFile};

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
}
