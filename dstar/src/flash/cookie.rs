//! The flash cookie: read from a request, set or cleared on an answer, and marked `Secure` over
//! HTTPS (with the session's).

use super::COOKIE_NAME;
use axum::http::{HeaderMap, HeaderValue, header};

pub(super) fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(::cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE_NAME)
        .map(|c| c.value().to_owned())
}

pub(super) fn set_cookie(value: &str, max_age: i64) -> Option<HeaderValue> {
    let cookie = ::cookie::Cookie::build((COOKIE_NAME, value))
        .path("/")
        .http_only(true)
        .same_site(::cookie::SameSite::Lax)
        .max_age(::cookie::time::Duration::seconds(max_age))
        .build();
    HeaderValue::from_str(&cookie.to_string()).ok()
}

/// Over HTTPS, dstar's own cookies (the session's and the flash's) are `Secure`, so a browser
/// never sends them over plain HTTP, where anyone on the network could read them (the CSRF
/// cookie takes its `__Host-` name on its own).
pub(super) fn mark_secure(headers: &mut HeaderMap) {
    let ours = [
        format!("{}=", crate::session::COOKIE_NAME),
        format!("{COOKIE_NAME}="),
    ];
    let cookies: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    if !cookies.iter().any(|c| {
        c.to_str()
            .is_ok_and(|c| ours.iter().any(|name| c.starts_with(name.as_str())))
    }) {
        return;
    }
    headers.remove(header::SET_COOKIE);
    for cookie in cookies {
        let secured = cookie.to_str().ok().filter(|c| {
            ours.iter().any(|name| c.starts_with(name.as_str()))
                && !c.to_ascii_lowercase().contains("; secure")
        });
        let value = secured
            .and_then(|c| HeaderValue::from_str(&format!("{c}; Secure")).ok())
            .unwrap_or(cookie);
        headers.append(header::SET_COOKIE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_tls_our_cookies_are_secure_and_others_are_left_alone() {
        let mut headers = HeaderMap::new();
        for c in [
            "dstar_session=abc; HttpOnly; SameSite=Lax; Path=/",
            "dstar_flash=x.y; HttpOnly; Secure; Path=/",
            "theirs=1; Path=/",
        ] {
            headers.append(header::SET_COOKIE, HeaderValue::from_static(c));
        }
        mark_secure(&mut headers);
        let out: Vec<&str> = headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(
            out,
            [
                "dstar_session=abc; HttpOnly; SameSite=Lax; Path=/; Secure",
                "dstar_flash=x.y; HttpOnly; Secure; Path=/",
                "theirs=1; Path=/",
            ]
        );
    }
}
