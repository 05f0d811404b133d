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

/// A start-up warning when the connection cap is above what the process may open: past the
/// open-file limit, `accept` fails before the cap is reached (Linux, from `/proc/self/limits`).
pub(crate) fn file_limit_note(max_connections: usize) -> Option<String> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let soft: usize = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()?;
    // a few files besides the connections: the listener, logs, a database, the key file
    let room = soft.saturating_sub(64);
    (max_connections > room).then(|| {
        format!(
            "the connection cap ({max_connections}) is above this process's open-file limit ({soft}): raise it (`ulimit -n`, LimitNOFILE=) or set DSTAR_MAX_CONNECTIONS={room}"
        )
    })
}

#[cfg(test)]
mod file_limit_tests {
    #[test]
    fn a_cap_above_the_file_limit_is_reported() {
        if std::fs::read_to_string("/proc/self/limits").is_err() {
            return; // not Linux
        }
        let note = super::file_limit_note(usize::MAX >> 1).expect("above any limit");
        assert!(note.contains("open-file limit"), "{note}");
        assert!(super::file_limit_note(1).is_none());
    }
}
