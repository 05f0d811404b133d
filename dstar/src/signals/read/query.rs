//! Signals in the `datastar` query parameter (GET, HEAD and DELETE).

use super::parse::parse;
use super::rejection::SignalsRejection;
use axum::http::Method;
use serde::de::DeserializeOwned;

pub(crate) fn reads_query(method: &Method) -> bool {
    *method == Method::GET || *method == Method::HEAD || *method == Method::DELETE
}

/// Finds `name` in a query string and decodes it as `application/x-www-form-urlencoded` (what the
/// Datastar client's `URLSearchParams` produces): `+` is a space and `%XX` a byte; a malformed
/// escape is kept as it is, as the URL standard and browsers do. The value stays raw bytes, not
/// `form_urlencoded::parse`'s lossy string, so invalid UTF-8 is reported rather than replaced.
pub(crate) fn query_param(query: &str, name: &str) -> Option<Vec<u8>> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| {
            let value = value.replace('+', " ");
            percent_encoding::percent_decode_str(&value).collect()
        })
    })
}

/// Reads signals from a query string's `datastar` parameter, as [`Signals`](super::Signals) does
/// for GET and DELETE: missing means `{}`, empty or malformed is a 400.
///
/// ```
/// let v: serde_json::Value = dstar::signals::signals_from_query("x=1&datastar=%7B%22a%22%3A1%7D").unwrap();
/// assert_eq!(v["a"], 1);
/// ```
pub fn signals_from_query<T: DeserializeOwned>(query: &str) -> Result<T, SignalsRejection> {
    match query_param(query, "datastar") {
        None => parse(b"{}"),
        Some(bytes) if bytes.is_empty() => Err(SignalsRejection::Malformed(
            "the `datastar` query parameter is empty; expected a JSON object".into(),
        )),
        Some(bytes) => parse(&bytes),
    }
}
