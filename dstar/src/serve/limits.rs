//! The server's limits against slow and hostile clients.

use std::time::Duration;

/// The connection cap when `DSTAR_MAX_CONNECTIONS` is not set.
pub(crate) const DEFAULT_MAX_CONNECTIONS: usize = 25_000;
/// How long a client may take to send a request's header (slowloris protection).
pub(crate) const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a client may take no bytes at all before its connection is closed.
pub(crate) const DEFAULT_WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a connection may carry no request before it is closed.
pub(crate) const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a graceful shutdown waits for open connections before closing them.
pub(crate) const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest connection cap: what one tokio semaphore (and a `u32` permit count) can hold.
pub(crate) const MAX_CONNECTIONS_CAP: usize = 1 << 28;
/// The longest timeout accepted: beyond it, deadline arithmetic would overflow.
pub(crate) const LONGEST_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_connections: usize,
    pub(crate) header_read_timeout: Duration,
    pub(crate) body_read_timeout: Duration,
    pub(crate) body_budget: usize,
    pub(crate) write_stall_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) shutdown_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        let max_connections = match std::env::var("DSTAR_MAX_CONNECTIONS") {
            Ok(text) => match text.parse::<usize>() {
                Ok(n) if n > 0 => n.min(MAX_CONNECTIONS_CAP),
                _ => {
                    crate::error::config_warning(&format!(
                        "DSTAR_MAX_CONNECTIONS={text:?} is not a positive number; using {DEFAULT_MAX_CONNECTIONS}"
                    ));
                    DEFAULT_MAX_CONNECTIONS
                }
            },
            Err(_) => DEFAULT_MAX_CONNECTIONS,
        };
        Limits {
            max_connections,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: super::BODY_READ_TIMEOUT,
            body_budget: super::BODY_BUDGET,
            write_stall_timeout: DEFAULT_WRITE_STALL_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
        }
    }
}
