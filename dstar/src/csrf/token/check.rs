//! The check of one request: its session, then its token, looked for in the header, the
//! `datastar` query parameter, or the body (a form field or the `csrf` signal).

use super::Csrf;
use super::cookie::{Existing, SECRET_LEN};
use super::masked::CsrfToken;
use super::refusal::{BAD_SESSION, BAD_TOKEN, STALE_OR_WRONG, body_too_large, refuse, reload_page};
use crate::csrf::{FORM_FIELD, HEADER_NAME, SIGNAL};
use crate::signals::SignalsConfig;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand::RngCore;

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl Csrf {
    /// Checks a request; on success returns it (body intact) and a new session cookie to set.
    #[allow(clippy::result_large_err)]
    pub(super) async fn check(
        &self,
        req: Request,
    ) -> Result<(Request, Option<HeaderValue>), Response> {
        let (mut parts, body) = req.into_parts();
        let secure = self.is_secure(&parts);
        let existing = self.session(&parts.headers, secure);
        let (secret, fresh) = match existing {
            Existing::One(secret) => (secret, None),
            // several: none is trusted, a safe request gets a new one (and an unsafe one a 403)
            Existing::Missing | Existing::Several => {
                let mut secret = [0u8; SECRET_LEN];
                rand::rng().fill_bytes(&mut secret);
                (secret, Some(self.cookie(&secret, secure)))
            }
        };
        parts.extensions.insert(CsrfToken { secret });
        if is_safe(&parts.method) {
            return Ok((Request::from_parts(parts, body), fresh));
        }
        // an open page whose token went stale (the key changed, another tab replaced the
        // session) is told to reload, once, instead of failing on every event and retry
        let from_datastar = parts.headers.contains_key("datastar-request");
        match existing {
            Existing::One(_) => {}
            Existing::Missing => {
                let reason = "no CSRF session: load a page first (the session cookie is missing or was tampered with)";
                if from_datastar && self.has_stale_cookie(&parts.headers, secure) {
                    return Err(reload_page(reason));
                }
                return Err(refuse(StatusCode::FORBIDDEN, BAD_SESSION, reason));
            }
            // not a reload: the planted cookie would still be there, and win again
            Existing::Several => {
                return Err(refuse(
                    StatusCode::FORBIDDEN,
                    BAD_SESSION,
                    "several CSRF session cookies: one was planted by another site (cookie tossing); clear this site's cookies, and serve it over HTTPS only",
                ));
            }
        }
        let session = CsrfToken { secret };
        let checked = |token: Option<String>| match token {
            Some(token) if session.verify(&token) => Ok(()),
            Some(_) if from_datastar => Err(reload_page(STALE_OR_WRONG)),
            Some(_) => Err(refuse(StatusCode::FORBIDDEN, BAD_TOKEN, STALE_OR_WRONG)),
            None => Err(refuse(
                StatusCode::FORBIDDEN,
                BAD_TOKEN,
                format!(
                    "missing token: send the `{SIGNAL}` signal (the default layout sets it), an `{HEADER_NAME}` header or a `{FORM_FIELD}` form field"
                ),
            )),
        };
        // the header needs no body
        if let Some(token) = parts.headers.get(HEADER_NAME) {
            checked(token.to_str().ok().map(str::to_owned))?;
            return Ok((Request::from_parts(parts, body), fresh));
        }
        // GET and DELETE actions carry their signals, and so the token, in `?datastar=`
        if crate::signals::read::reads_query(&parts.method) {
            checked(query_token(parts.uri.query().unwrap_or("")))?;
            return Ok((Request::from_parts(parts, body), fresh));
        }
        let limit = SignalsConfig::limit_of(&parts.extensions);
        if crate::signals::read::declared_length(&parts.headers, &body)
            .is_some_and(|len| len > limit as u64)
        {
            return Err(body_too_large(limit));
        }
        let content_type = content_type(&parts.headers);
        if content_type.starts_with("multipart/") {
            return Err(refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the CSRF token in a header",
                format!(
                    "a multipart body is not searched for the CSRF token: send it in the `{HEADER_NAME}` header (Datastar: `headers: {{'{HEADER_NAME}': ${SIGNAL}}}`)"
                ),
            ));
        }
        let bytes = crate::signals::read::read_body(body, limit)
            .await
            .map_err(|e| match e {
                crate::signals::SignalsRejection::TooLarge { limit } => body_too_large(limit),
                e => e.into_response(),
            })?;
        checked(find_body_token(&content_type, &bytes))?;
        Ok((Request::from_parts(parts, Body::from(bytes)), fresh))
    }
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The `csrf` signal in a `datastar=` query parameter.
fn query_token(query: &str) -> Option<String> {
    let json = form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "datastar")?
        .1;
    signal_token(json.as_bytes())
}

fn signal_token(json: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Signals {
        csrf: Option<String>,
    }
    serde_json::from_slice::<Signals>(json).ok()?.csrf
}

/// The token in a body: the `_csrf_token` field of a form, or the `csrf` signal of JSON.
fn find_body_token(content_type: &str, bytes: &[u8]) -> Option<String> {
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return form_urlencoded::parse(bytes)
            .find(|(name, _)| name == FORM_FIELD)
            .map(|(_, value)| value.into_owned());
    }
    signal_token(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{assert_quiet, quietly};
    use std::convert::Infallible;
    use tower::{Layer, ServiceExt};

    fn service(
        csrf: &Csrf,
    ) -> impl tower_service::Service<Request, Response = Response, Error = Infallible> + Clone {
        let route = tower::service_fn(|_req: Request| async {
            Ok::<_, Infallible>(Response::new(Body::from("ran")))
        });
        csrf.clone().layer().layer(route)
    }

    fn cookie_of(csrf: &Csrf) -> String {
        let mut secret = [0u8; SECRET_LEN];
        rand::rng().fill_bytes(&mut secret);
        let cookie = csrf.cookie(&secret, false);
        cookie
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn release_bodies_name_the_check_and_nothing_of_the_request() {
        let csrf = Csrf::random();
        let cookie = cookie_of(&csrf);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let send =
            |req: Request| quietly(|| runtime.block_on(service(&csrf).oneshot(req)).unwrap());
        let post = || {
            Request::post("/save")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::COOKIE, &cookie)
        };
        let no_token = post().body(Body::from("{}")).unwrap();
        assert_quiet(send(no_token), 403, BAD_TOKEN);
        let wrong = post()
            .header(HEADER_NAME, "<script>alert(1)</script>")
            .body(Body::empty())
            .unwrap();
        assert_quiet(send(wrong), 403, BAD_TOKEN);
        let no_session = Request::post("/save")
            .header(HEADER_NAME, "<script>")
            .body(Body::empty())
            .unwrap();
        assert_quiet(send(no_session), 403, BAD_SESSION);
        let several = Request::post("/save")
            .header(header::COOKIE, format!("{cookie}; {}", cookie_of(&csrf)))
            .header(HEADER_NAME, "<script>")
            .body(Body::empty())
            .unwrap();
        assert_quiet(send(several), 403, BAD_SESSION);
        let multipart = Request::post("/save")
            .header(header::COOKIE, &cookie)
            .header(
                header::CONTENT_TYPE,
                "multipart/form-data; boundary=<script>",
            )
            .body(Body::empty())
            .unwrap();
        assert_quiet(send(multipart), 415, "send the CSRF token in a header");
        let big = post().body(Body::from(vec![b' '; (1 << 20) + 1])).unwrap();
        assert_quiet(send(big), 413, "too large");
    }
}
