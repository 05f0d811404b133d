//! A request body under the server's limits.
//!
//! - **A deadline** on reading it, from the first time the handler waits for it: a client that
//!   trickles its body (a byte every few seconds) cannot hold its connection and a handler's buffer
//!   forever. It lives in the server, whose runtime has timers, so extractors need none. A body
//!   that has already arrived when the handler reads it (a small JSON body sent with its headers,
//!   the common case) never arms a timer.
//! - **A budget** shared by every body being read: the bytes a body has handed its handler count
//!   against it until the body is dropped (a handler that buffers a body drops it once read), up
//!   to [`BODY_CHARGE_CAP`] per body (a handler that streams a large upload does not hold it).
//!   Each body is bounded on its own (the signals limit, axum's `DefaultBodyLimit`), but clients
//!   that open many connections, each with up to 200 HTTP/2 streams, and send large bodies slowly
//!   would otherwise hold that many buffers at once. A body that would take the total past the
//!   budget fails with [`BodyOverBudget`], which the signals reader answers with a `503`.
//! - **A share per client**: one public address (an IPv6 /64) may hold an eighth of the budget,
//!   so a single client cannot take it all and shut everyone else out. A request from a loopback
//!   or private peer (a reverse proxy in front) counts for the address its proxy appended to
//!   `X-Forwarded-For`; without one it has no share of its own, and only the budget bounds it.

use crate::signals::read::{BodyOverBudget, BodyTimedOut};
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Sleep;

/// How long a request body may take to arrive in full, by default
/// ([`Server::body_read_timeout`](crate::Server::body_read_timeout)).
///
/// ```
/// assert_eq!(dstar::BODY_READ_TIMEOUT.as_secs(), 30);
/// ```
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// What the request bodies being read may hold in all, by default
/// ([`Server::body_budget`](crate::Server::body_budget)): 64 MiB.
///
/// ```
/// assert_eq!(dstar::BODY_BUDGET, 64 << 20);
/// ```
pub const BODY_BUDGET: usize = 64 << 20;

/// The most one body is charged: axum's default body limit. A handler that streams a larger
/// upload (to a file) does not hold it all in memory, and a handler that buffers one has raised
/// axum's limit on purpose.
pub(crate) const BODY_CHARGE_CAP: usize = 2 << 20;

/// The bytes every body being read holds, against a limit, and per public client against a share
/// of it.
#[derive(Debug)]
pub(crate) struct BodyBudget {
    limit: usize,
    used: AtomicUsize,
    /// What one public client may hold.
    share: usize,
    /// What each public client holds now (an entry only while it holds something).
    clients: Mutex<HashMap<Client, usize>>,
    /// When a refusal was last logged (ms since the budget was made), so a flood of refusals
    /// logs one warning every few seconds, not one per request.
    warned_at: AtomicU64,
    made: std::time::Instant,
}

/// A client with a share of its own: a public IPv4 address, or a public IPv6 /64 (one host can
/// hold a whole /64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Client(u128);

impl Client {
    /// The client a peer counts as; `None` for loopback and private addresses, which are most
    /// likely a proxy speaking for many clients.
    pub(crate) fn of(peer: SocketAddr) -> Option<Client> {
        Client::of_ip(peer.ip())
    }

    /// The client a request from a proxy (a loopback or private peer) was sent for: the last
    /// address of its `X-Forwarded-For`, the one the proxy itself appended (nginx's
    /// `$proxy_add_x_forwarded_for`, and most load balancers'). Earlier ones came from the client
    /// and prove nothing. `None` when there is none, or it is private too.
    pub(crate) fn forwarded(headers: &axum::http::HeaderMap) -> Option<Client> {
        let last = headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()?
            .to_str()
            .ok()?
            .rsplit(',')
            .next()?
            .trim();
        // `1.2.3.4`, `2001:db8::1`, and with a port, `1.2.3.4:5` or `[2001:db8::1]:5`
        let ip = last
            .parse::<IpAddr>()
            .or_else(|_| last.parse::<SocketAddr>().map(|a| a.ip()))
            .ok()?;
        Client::of_ip(ip)
    }

    fn of_ip(ip: IpAddr) -> Option<Client> {
        match ip.to_canonical() {
            IpAddr::V4(ip) => {
                let shared = ip.is_loopback()
                    || ip.is_private()
                    || ip.is_link_local()
                    || ip.is_unspecified();
                (!shared).then_some(Client(u32::from(ip) as u128))
            }
            IpAddr::V6(ip) => {
                let bits = u128::from(ip);
                let shared = ip.is_loopback()
                    || ip.is_unspecified()
                    || (bits >> 121) == 0x7e // fc00::/7, unique local
                    || (bits >> 118) == 0x3fa; // fe80::/10, link local
                (!shared).then_some(Client((bits >> 64) << 64 | 1 << 32))
            }
        }
    }
}

impl BodyBudget {
    pub(crate) fn new(limit: usize) -> Self {
        BodyBudget {
            limit,
            used: AtomicUsize::new(0),
            share: limit / 8,
            clients: Mutex::new(HashMap::new()),
            warned_at: AtomicU64::new(u64::MAX),
            made: std::time::Instant::now(),
        }
    }

    /// Takes `n` bytes for `client`, unless that would pass the budget or the client's share.
    fn take(&self, n: usize, client: Option<Client>) -> bool {
        let taken = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n).filter(|&total| total <= self.limit)
            })
            .is_ok();
        if !taken {
            self.warn(None);
            return false;
        }
        let Some(client) = client else {
            return true;
        };
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        let held = clients.entry(client).or_insert(0);
        if held.saturating_add(n) > self.share {
            if *held == 0 {
                clients.remove(&client);
            }
            drop(clients);
            self.used.fetch_sub(n, Ordering::AcqRel);
            self.warn(Some(client));
            return false;
        }
        *held += n;
        true
    }

    fn give_back(&self, n: usize, client: Option<Client>) {
        if let Some(client) = client {
            let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(held) = clients.get_mut(&client) {
                *held -= n.min(*held);
                if *held == 0 {
                    clients.remove(&client);
                }
            }
        }
        self.used.fetch_sub(n, Ordering::AcqRel);
    }

    fn warn(&self, client: Option<Client>) {
        const EVERY_MS: u64 = 10_000;
        let now = self.made.elapsed().as_millis() as u64;
        let last = self.warned_at.load(Ordering::Relaxed);
        if (last == u64::MAX || now.saturating_sub(last) >= EVERY_MS)
            && self
                .warned_at
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let in_use = self.used.load(Ordering::Relaxed);
            if client.is_some() {
                tracing::warn!(
                    share = self.share,
                    budget = self.limit,
                    in_use,
                    "dstar: one client's request bodies being read hold its whole share of the body budget; dstar's readers refuse its next ones with 503 (Server::body_budget)"
                );
            } else {
                tracing::warn!(
                    budget = self.limit,
                    in_use,
                    "dstar: the request bodies being read hold the whole body budget; dstar's readers refuse more with 503 until some are done (Server::body_budget)"
                );
            }
        }
    }

    #[cfg(test)]
    fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }
}

pub(crate) struct ServedBody {
    inner: Incoming,
    timeout: Duration,
    /// Set the first time a read has to wait (so `Expect: 100-continue`, which hyper answers at the
    /// first read, starts the clock only when the handler wants the body); `None` again once the
    /// body ended.
    deadline: Option<Pin<Box<Sleep>>>,
    ended: bool,
    budget: Arc<BodyBudget>,
    /// Whose share this body draws on (`None`: the budget only).
    client: Option<Client>,
    /// What this body took from the budget: given back when it is dropped.
    held: usize,
}

impl ServedBody {
    pub(crate) fn new(
        inner: Incoming,
        timeout: Duration,
        budget: Arc<BodyBudget>,
        client: Option<Client>,
    ) -> Self {
        ServedBody {
            inner,
            timeout,
            deadline: None,
            ended: false,
            budget,
            client,
            held: 0,
        }
    }

    fn end(&mut self) {
        self.deadline = None;
        self.ended = true;
    }
}

impl Drop for ServedBody {
    fn drop(&mut self) {
        if self.held > 0 {
            self.budget.give_back(self.held, self.client);
        }
    }
}

impl Body for ServedBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if this.ended {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(None) => {
                this.end();
                Poll::Ready(None)
            }
            Poll::Ready(Some(Ok(frame))) => {
                let len = frame.data_ref().map_or(0, Bytes::len);
                let charge = len.min(BODY_CHARGE_CAP - this.held);
                if charge > 0 {
                    if !this.budget.take(charge, this.client) {
                        this.end();
                        return Poll::Ready(Some(Err(Box::new(BodyOverBudget))));
                    }
                    this.held += charge;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Pending => {
                let timeout = this.timeout;
                let deadline = this
                    .deadline
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                if deadline.as_mut().poll(cx).is_ready() {
                    this.end();
                    Poll::Ready(Some(Err(Box::new(BodyTimedOut))))
                } else {
                    Poll::Pending
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_refuses_past_its_limit_and_takes_again_once_given_back() {
        let budget = BodyBudget::new(100);
        assert!(budget.take(60, None));
        assert!(budget.take(40, None));
        assert!(!budget.take(1, None));
        assert_eq!(budget.used(), 100);
        budget.give_back(60, None);
        assert!(budget.take(50, None));
        assert!(!budget.take(usize::MAX, None), "no overflow");
        assert_eq!(budget.used(), 90);
    }

    fn client(addr: &str) -> Option<Client> {
        Client::of(addr.parse().unwrap())
    }

    #[test]
    fn one_public_client_holds_at_most_its_share() {
        let budget = BodyBudget::new(800); // a share of 100
        let attacker = client("203.0.113.9:4000");
        assert!(budget.take(100, attacker));
        assert!(!budget.take(1, attacker), "past its share");
        assert_eq!(budget.used(), 100, "a refused take leaves nothing held");
        // others are served
        assert!(budget.take(100, client("198.51.100.1:5000")));
        // the same address on another port is the same client; a v4-mapped one too
        assert!(!budget.take(1, client("203.0.113.9:4001")));
        assert!(!budget.take(1, client("[::ffff:203.0.113.9]:4002")));
        // an IPv6 host holds its whole /64
        let v6 = client("[2001:db8:1:2::1]:80");
        assert_eq!(v6, client("[2001:db8:1:2:ffff::7]:80"));
        assert_ne!(v6, client("[2001:db8:1:3::1]:80"));
        // a proxy in front (loopback, private) speaks for many clients: only the budget counts
        for shared in [
            "127.0.0.1:1",
            "10.1.2.3:1",
            "192.168.0.2:1",
            "[::1]:1",
            "[fd00::1]:1",
            "[fe80::1]:1",
        ] {
            assert_eq!(client(shared), None, "{shared}");
        }
        assert!(budget.take(600, None));
        assert!(!budget.take(1, None));
        // behind a proxy, the client is the address the proxy appended
        let forwarded = |value: &str| {
            let mut headers = axum::http::HeaderMap::new();
            headers.insert("x-forwarded-for", value.parse().unwrap());
            Client::forwarded(&headers)
        };
        assert_eq!(
            forwarded("10.0.0.5, 203.0.113.9"),
            attacker,
            "the last one counts"
        );
        assert_eq!(forwarded("203.0.113.9:51000"), attacker);
        assert_eq!(forwarded("[2001:db8:1:2::9]:443"), v6);
        assert_eq!(
            forwarded("203.0.113.9, 10.0.0.5"),
            None,
            "a private last hop"
        );
        assert_eq!(forwarded("unknown"), None);
        assert_eq!(Client::forwarded(&axum::http::HeaderMap::new()), None);
        // giving back frees the share, and forgets a client that holds nothing
        budget.give_back(100, attacker);
        assert!(
            budget
                .clients
                .lock()
                .unwrap()
                .get(&attacker.unwrap())
                .is_none()
        );
        assert!(budget.take(100, attacker));
    }
}
