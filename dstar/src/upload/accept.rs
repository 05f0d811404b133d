//! [`Accept`]: what an upload may be, its types judged by content, and its size.

/// Which types a policy accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Types {
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
/// [`UploadedFile::check`](super::UploadedFile::check).
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
    pub(super) types: Types,
    pub(super) max_bytes: Option<usize>,
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

    /// These mime types exactly (as
    /// [`UploadedFile::sniffed_mime`](super::UploadedFile::sniffed_mime) names them), e.g.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upload::UploadedFile;

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
}
