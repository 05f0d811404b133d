//! [`Multipart`]: a `multipart/form-data` body read into memory, its text fields and its files.

use super::UploadedFile;
use super::limit::UploadLimit;
use super::rejection::MultipartRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};

/// A `multipart/form-data` form, read whole into memory under the request's body limit: its
/// text fields and its files (as [`UploadedFile`]s). What Datastar's
/// `@post(url, {contentType: 'form'})` sends from a `<form enctype="multipart/form-data">`.
///
/// The limit is the event's (`#[event(limit = "8MB")]`, see [`BodyLimit`](super::BodyLimit)), or
/// axum's `DefaultBodyLimit` (2 MiB unless changed). Past it the answer is a `413`; a malformed
/// body, a text field that is not UTF-8 or a body that is not multipart is a `400` or `415`, with
/// a one-line reason. Never a 500. A file input left empty (no file chosen) is skipped.
///
/// As the body's reader, it must be a handler's last argument. With CSRF tokens on, the default
/// layout's script sends the token in the `x-csrf-token` header, so such a form needs no hidden
/// field.
///
/// ```
/// use dstar::upload::{Accept, Multipart};
///
/// async fn upload(mut form: Multipart) -> Result<String, dstar::upload::UploadError> {
///     let title = form.text("title").unwrap_or("untitled").to_owned();
///     let Some(photo) = form.take_file("photo") else { return Ok("no photo".into()) };
///     photo.check(&Accept::images().max_bytes(4_000_000))?;
///     Ok(format!("{title}: {} bytes of {}", photo.len(), photo.sniffed_mime()))
/// }
/// let app: axum::Router = axum::Router::new().route("/upload", axum::routing::post(upload));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Multipart {
    texts: Vec<(String, String)>,
    files: Vec<(String, UploadedFile)>,
}

impl Multipart {
    /// Reads a request's multipart body, by the rules of the extractor.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let body = "--X\r\ncontent-disposition: form-data; name=\"title\"\r\n\r\nhello\r\n\
    ///             --X\r\ncontent-disposition: form-data; name=\"doc\"; filename=\"a.txt\"\r\n\
    ///             content-type: text/plain\r\n\r\nhi there\r\n--X--\r\n";
    /// let req = axum::http::Request::post("/")
    ///     .header("content-type", "multipart/form-data; boundary=X")
    ///     .body(axum::body::Body::from(body))
    ///     .unwrap();
    /// let form = dstar::upload::Multipart::read(req).await.unwrap();
    /// assert_eq!(form.text("title"), Some("hello"));
    /// assert_eq!(form.file("doc").unwrap().bytes(), b"hi there");
    /// # });
    /// ```
    pub async fn read(req: Request) -> Result<Multipart, MultipartRejection> {
        check_content_type(&req)?;
        let limit = req.extensions().get::<UploadLimit>().map(|l| l.0);
        let mut inner = <axum::extract::Multipart as FromRequest<()>>::from_request(req, &())
            .await
            .map_err(|e| MultipartRejection::new(StatusCode::BAD_REQUEST, e.body_text()))?;
        let mut form = Multipart::default();
        loop {
            let field = match inner.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => break,
                Err(e) => return Err(MultipartRejection::from_error(&e, limit)),
            };
            let name = field.name().unwrap_or("").to_owned();
            let file_name = field.file_name().map(str::to_owned);
            let mime = field.content_type().map(str::to_owned);
            let bytes = field
                .bytes()
                .await
                .map_err(|e| MultipartRejection::from_error(&e, limit))?;
            match file_name {
                // an empty file input: the browser sends a part with no name and no bytes
                Some(file_name) if file_name.is_empty() && bytes.is_empty() => {}
                Some(file_name) => {
                    let mime = mime.unwrap_or_else(|| "application/octet-stream".into());
                    form.files
                        .push((name, UploadedFile::new(file_name, mime, bytes)));
                }
                None => {
                    let text = String::from_utf8(bytes.into()).map_err(|_| {
                        MultipartRejection::new(
                            StatusCode::BAD_REQUEST,
                            format!("the form field `{name}` is not valid UTF-8"),
                        )
                    })?;
                    form.texts.push((name, text));
                }
            }
        }
        Ok(form)
    }

    /// The first text field of this name.
    ///
    /// ```
    /// let form = dstar::upload::Multipart::default();
    /// assert_eq!(form.text("title"), None);
    /// ```
    pub fn text(&self, name: &str) -> Option<&str> {
        self.texts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every text field, in order: `(name, value)`.
    ///
    /// ```
    /// assert_eq!(dstar::upload::Multipart::default().texts().count(), 0);
    /// ```
    pub fn texts(&self) -> impl Iterator<Item = (&str, &str)> {
        self.texts.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The first file of this field name.
    ///
    /// ```
    /// assert!(dstar::upload::Multipart::default().file("photo").is_none());
    /// ```
    pub fn file(&self, name: &str) -> Option<&UploadedFile> {
        self.files.iter().find(|(n, _)| n == name).map(|(_, f)| f)
    }

    /// Every file, in order: `(field name, file)`.
    ///
    /// ```
    /// assert_eq!(dstar::upload::Multipart::default().files().count(), 0);
    /// ```
    pub fn files(&self) -> impl Iterator<Item = (&str, &UploadedFile)> {
        self.files.iter().map(|(n, f)| (n.as_str(), f))
    }

    /// Takes the first file of this field name out of the form (no copy).
    ///
    /// ```
    /// assert!(dstar::upload::Multipart::default().take_file("photo").is_none());
    /// ```
    pub fn take_file(&mut self, name: &str) -> Option<UploadedFile> {
        let i = self.files.iter().position(|(n, _)| n == name)?;
        Some(self.files.remove(i).1)
    }

    /// Takes every file of this field name (`<input type="file" multiple>`), in order.
    ///
    /// ```
    /// assert!(dstar::upload::Multipart::default().take_files("photos").is_empty());
    /// ```
    pub fn take_files(&mut self, name: &str) -> Vec<UploadedFile> {
        let (taken, kept) = std::mem::take(&mut self.files)
            .into_iter()
            .partition(|(n, _)| n == name);
        self.files = kept;
        taken.into_iter().map(|(_, f)| f).collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for Multipart {
    type Rejection = MultipartRejection;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        Multipart::read(req).await
    }
}

/// A multipart body must say so; anything else gets a `415` that says what was sent.
fn check_content_type(req: &Request) -> Result<(), MultipartRejection> {
    let value = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "multipart/form-data" {
        return Ok(());
    }
    let sent = if essence.is_empty() {
        "no `Content-Type`".to_owned()
    } else {
        format!("`{essence}`")
    };
    Err(MultipartRejection::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!(
            "expected a multipart/form-data body (a <form enctype=\"multipart/form-data\"> sent with contentType: 'form'), got {sent}"
        ),
    ))
}
