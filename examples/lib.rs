//! The dstar examples: `cargo run --example <name>`. Each listens on `DSTAR_ADDR` (default
//! `127.0.0.1:3000`; the sdk-test-server `127.0.0.1:7331`) and prints its routes on start.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Starts the example binary `name` built beside the running one (the benchmarks start their
/// servers this way) on `addr`, with `configure` adding its environment, and waits until it
/// accepts connections. Panics, having stopped the child, if it never does.
pub async fn start_sibling(name: &str, addr: &str, configure: impl FnOnce(&mut Command)) -> Child {
    let exe = std::env::current_exe()
        .expect("the running binary")
        .with_file_name(name);
    let mut command = Command::new(&exe);
    command.env("DSTAR_ADDR", addr).stdout(Stdio::null());
    configure(&mut command);
    let mut child = command.spawn().unwrap_or_else(|e| {
        panic!(
            "cannot start {}: {e} (build it: cargo build --release --examples)",
            exe.display()
        )
    });
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("{name} did not start on {addr}");
}

/// The resident memory of process `pid` in KB (0 when it cannot be read), for the benchmarks.
pub fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
