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
    /// Whether the cap was asked for (`DSTAR_MAX_CONNECTIONS`, `Server::max_connections`): a
    /// default cap above the open-file limit is lowered to fit it, an asked-for one is warned about.
    pub(crate) max_connections_asked: bool,
    pub(crate) header_read_timeout: Duration,
    pub(crate) body_read_timeout: Duration,
    pub(crate) body_budget: usize,
    pub(crate) write_stall_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) shutdown_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        let (max_connections, max_connections_asked) = match std::env::var("DSTAR_MAX_CONNECTIONS")
        {
            Ok(text) => match text.parse::<usize>() {
                Ok(n) if n > 0 => (n.min(MAX_CONNECTIONS_CAP), true),
                _ => {
                    crate::error::config_warning(&format!(
                        "DSTAR_MAX_CONNECTIONS={text:?} is not a positive number; using {DEFAULT_MAX_CONNECTIONS}"
                    ));
                    (DEFAULT_MAX_CONNECTIONS, false)
                }
            },
            Err(_) => (DEFAULT_MAX_CONNECTIONS, false),
        };
        Limits {
            max_connections,
            max_connections_asked,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: super::BODY_READ_TIMEOUT,
            body_budget: super::BODY_BUDGET,
            write_stall_timeout: DEFAULT_WRITE_STALL_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
        }
    }
}

/// The process's open-file limit (Linux, from `/proc/self/limits`).
fn open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    limits
        .lines()
        .find(|l| l.starts_with("Max open files"))?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()
}

/// What the open-file limit makes of the connection cap. Past that limit `accept` fails before
/// the cap is reached, so a default cap above it is lowered to fit (with a start-up note), and a
/// cap that was asked for is kept with a warning.
pub(crate) fn fit_to_file_limit(limits: &mut Limits) -> Option<(String, bool)> {
    fit(limits, open_file_limit()?)
}

fn fit(limits: &mut Limits, soft: usize) -> Option<(String, bool)> {
    // a few files besides the connections: the listener, logs, a database, the key file
    let room = soft.saturating_sub(64).max(1);
    if limits.max_connections <= room {
        return None;
    }
    if limits.max_connections_asked {
        return Some((
            format!(
                "the connection cap ({}) is above this process's open-file limit ({soft}): raise it (`ulimit -n`, LimitNOFILE=) or set DSTAR_MAX_CONNECTIONS={room}",
                limits.max_connections
            ),
            true,
        ));
    }
    limits.max_connections = room;
    Some((
        format!(
            "connection cap {room}, to fit the open-file limit ({soft}; raise it with `ulimit -n` for more)"
        ),
        false,
    ))
}

#[cfg(test)]
mod file_limit_tests {
    use super::*;

    #[test]
    fn a_default_cap_fits_the_file_limit_and_an_asked_for_one_is_warned_about() {
        let mut limits = Limits {
            max_connections_asked: false,
            ..Limits::default()
        };
        limits.max_connections = DEFAULT_MAX_CONNECTIONS;
        let (note, warn) = fit(&mut limits, 1024).expect("lowered");
        assert_eq!(limits.max_connections, 960);
        assert!(!warn && note.contains("960"), "{note}");
        limits.max_connections = 25_000;
        limits.max_connections_asked = true;
        let (note, warn) = fit(&mut limits, 1024).expect("warned");
        assert_eq!(limits.max_connections, 25_000);
        assert!(warn && note.contains("open-file limit (1024)"), "{note}");
        assert!(fit(&mut limits, 1 << 20).is_none());
    }
}
