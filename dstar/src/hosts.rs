//! The `Host` check: a server bound to a loopback address answers only loopback host names
//! unless told otherwise, so a web page cannot reach it through DNS rebinding (a name the
//! attacker controls, pointed at 127.0.0.1 after the page loaded).

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, Version, header};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

/// The hosts a server answers.
#[derive(Debug, Clone)]
pub(crate) struct AllowedHosts {
    /// Exact names (lowercase, no port), or `.suffix` for `*.suffix`.
    names: Vec<String>,
    /// `*`, or a public bind with no list: any host.
    any: bool,
    /// Bound to a loopback address: loopback names are allowed too.
    loopback: bool,
}

impl AllowedHosts {
    /// The hosts `configured` (code and `DSTAR_ALLOWED_HOSTS`) allow for a server bound to
    /// `bound`, and a start-up note when the check is off.
    pub(crate) fn new(configured: &[String], bound: SocketAddr) -> (AllowedHosts, Option<String>) {
        let mut names = Vec::new();
        let mut any = false;
        for entry in configured
            .iter()
            .flat_map(|e| e.split(','))
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            if entry == "*" {
                any = true;
            } else if let Some(suffix) = entry.strip_prefix("*.") {
                names.push(format!(".{}", suffix.to_ascii_lowercase()));
            } else {
                names.push(bare_host(entry).to_ascii_lowercase());
            }
        }
        let loopback = bound.ip().is_loopback();
        let mut note = None;
        if any {
            note = Some("host check OFF (allowed hosts: *)".to_owned());
        } else if names.is_empty() && !loopback {
            any = true;
            note = Some(
                "host check OFF: a public address with no allowed hosts; set DSTAR_ALLOWED_HOSTS=app.example (or App::allowed_hosts) so DNS rebinding cannot reach it".to_owned(),
            );
        }
        (
            AllowedHosts {
                names,
                any,
                loopback,
            },
            note,
        )
    }

    /// Whether `host` (as the request names it, with its port) is served. No allocation: it
    /// runs on every request.
    fn allows(&self, host: &str) -> bool {
        if self.any {
            return true;
        }
        let host = bare_host(host).trim_end_matches('.');
        if self.loopback && is_loopback_name(host) {
            return true;
        }
        self.names.iter().any(|name| match name.strip_prefix('.') {
            Some(suffix) => {
                host.eq_ignore_ascii_case(suffix)
                    || (host.len() > name.len()
                        && host.is_char_boundary(host.len() - name.len())
                        && host[host.len() - name.len()..].eq_ignore_ascii_case(name))
            }
            None => host.eq_ignore_ascii_case(name),
        })
    }
}

/// `localhost`, `*.localhost` (RFC 6761), `127.x.y.z` and `::1`.
fn is_loopback_name(host: &str) -> bool {
    const SUFFIX: &str = ".localhost";
    host.eq_ignore_ascii_case("localhost")
        || (host.len() > SUFFIX.len()
            && host.is_char_boundary(host.len() - SUFFIX.len())
            && host[host.len() - SUFFIX.len()..].eq_ignore_ascii_case(SUFFIX))
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The host without its port: `example.com:3000` → `example.com`, `[::1]:3000` → `[::1]`.
fn bare_host(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// The request's host: HTTP/2's `:authority` (or an absolute URI), else the one `Host` header.
/// Zero or several `Host` headers on HTTP/1 are refused (RFC 9112 §3.2).
fn host_of(req: &Request) -> Result<&str, &'static str> {
    if let Some(authority) = req.uri().authority() {
        return Ok(authority.as_str());
    }
    let mut hosts = req.headers().get_all(header::HOST).iter();
    match (hosts.next(), hosts.next()) {
        (Some(host), None) => host.to_str().map_err(|_| "a Host header that is not text"),
        (Some(_), Some(_)) => Err("several Host headers"),
        (None, _) if req.version() == Version::HTTP_2 || req.version() == Version::HTTP_3 => {
            Err("no :authority")
        }
        (None, _) => Err("no Host header"),
    }
}

fn bad_request(line: &'static str) -> Response {
    let mut response = (StatusCode::BAD_REQUEST, line).into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// At most one warning every 10 s about refused hosts: a scanner must not flood the log.
fn warn_refused(host: &str) {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let last = LAST.load(Ordering::Relaxed);
    if now >= last + 10
        && LAST
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        tracing::warn!(
            host = ?host,
            "dstar: refused a request for a host this server does not serve (400); if it is yours, allow it with DSTAR_ALLOWED_HOSTS={} or App::allowed_hosts",
            bare_host(host).escape_debug()
        );
    } else {
        tracing::debug!(host = ?host, "dstar: refused a request for an unknown host (400)");
    }
}

/// The layer that checks every request's host.
#[derive(Debug, Clone)]
pub(crate) struct HostCheckLayer(pub(crate) Arc<AllowedHosts>);

impl<S> tower_layer::Layer<S> for HostCheckLayer {
    type Service = HostCheck<S>;
    fn layer(&self, inner: S) -> HostCheck<S> {
        HostCheck {
            inner,
            allowed: self.0.clone(),
        }
    }
}

/// The service of [`HostCheckLayer`].
#[derive(Debug, Clone)]
pub(crate) struct HostCheck<S> {
    inner: S,
    allowed: Arc<AllowedHosts>,
}

impl<S> tower_service::Service<Request> for HostCheck<S>
where
    S: tower_service::Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future =
        futures_util::future::Either<std::future::Ready<Result<Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        use futures_util::future::Either;
        match host_of(&req) {
            Ok(host) if self.allowed.allows(host) => Either::Right(self.inner.call(req)),
            Ok(host) => {
                warn_refused(host);
                Either::Left(std::future::ready(Ok(bad_request(
                    "bad request: unknown host",
                ))))
            }
            Err(reason) => {
                tracing::debug!(
                    reason,
                    "dstar: refused a request without one clear host (400)"
                );
                Either::Left(std::future::ready(Ok(bad_request(
                    "bad request: one Host header is required",
                ))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(list: &[&str], bound: &str) -> AllowedHosts {
        let list: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        AllowedHosts::new(&list, bound.parse().unwrap()).0
    }

    #[test]
    fn a_loopback_server_answers_loopback_names_only() {
        let h = hosts(&[], "127.0.0.1:3000");
        for ok in [
            "localhost:3000",
            "127.0.0.1:3000",
            "[::1]:3000",
            "LOCALHOST",
            "app.localhost",
            "127.0.0.1",
        ] {
            assert!(h.allows(ok), "{ok}");
        }
        for bad in [
            "rebind.attacker.example:3000",
            "localhost.attacker.example",
            "127.0.0.1.nip.io",
            "10.0.0.1",
        ] {
            assert!(!h.allows(bad), "{bad}");
        }
    }

    #[test]
    fn configured_hosts_and_wildcards() {
        let h = hosts(&["notes.example", "*.tenants.example"], "0.0.0.0:80");
        assert!(h.allows("notes.example"));
        assert!(h.allows("NOTES.example:8443"));
        assert!(h.allows("notes.example."));
        assert!(h.allows("a.tenants.example"));
        assert!(!h.allows("evil.example"));
        assert!(
            !h.allows("localhost"),
            "a public bind with a list is the list"
        );
        let (open, note) = AllowedHosts::new(&[], "0.0.0.0:80".parse().unwrap());
        assert!(open.allows("anything.example"));
        assert!(note.unwrap().contains("DSTAR_ALLOWED_HOSTS"));
    }

    #[test]
    fn the_port_is_not_part_of_the_name() {
        assert_eq!(bare_host("example.com:3000"), "example.com");
        assert_eq!(bare_host("[::1]:3000"), "[::1]");
        assert_eq!(bare_host("example.com"), "example.com");
    }
}
