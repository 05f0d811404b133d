//! Integration tests for dstar live in `tests/tests/`; this library holds their shared helpers.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response};
use tower::ServiceExt;

/// Sends one request through a router and returns the response with its whole body.
pub async fn send(app: Router, req: Request<Body>) -> (Response<()>, bytes::Bytes) {
    let response = app.oneshot(req).await.expect("router is infallible");
    let (parts, body) = response.into_parts();
    let bytes = http_body_util::BodyExt::collect(body)
        .await
        .expect("body")
        .to_bytes();
    (Response::from_parts(parts, ()), bytes)
}

/// Runs `test` again in a child process of this test binary with `var=value`, for tests that
/// touch process-wide state (a shutdown ends every stream of the process; the client script is
/// read once). Returns true in the child, which then runs the test body; the parent asserts the
/// child passed, and that it ran exactly that one test (a renamed test would otherwise match
/// nothing, and the child would pass with 0 tests run), and returns false.
///
/// The child's output is captured and shown (indented) with the parent's, so libtest prints it
/// only if the parent fails, and the child's own `test result:` line never reaches the run's log.
pub fn in_child(test: &str, var: &str, value: &std::ffi::OsStr) -> bool {
    if std::env::var_os(var).is_some() {
        return true;
    }
    let out = std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(var, value)
        .output()
        .expect("the child test runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let shown = indented(&stdout) + &indented(&stderr);
    println!("child run of {test}:\n{shown}");
    assert!(
        out.status.success(),
        "child run of {test} failed (its output is above)"
    );
    assert!(
        ran_exactly_one_test(&stdout),
        "child run of {test} did not run exactly one test (renamed?); its output is above"
    );
    false
}

/// Whether libtest's output says it ran exactly one test, and that it passed.
pub fn ran_exactly_one_test(stdout: &str) -> bool {
    stdout.lines().any(|l| l == "running 1 test")
        && stdout
            .lines()
            .any(|l| l.starts_with("test result: ok. 1 passed; 0 failed;"))
}

fn indented(text: &str) -> String {
    text.lines().map(|l| format!("  | {l}\n")).collect()
}

/// The prefix of a skip line: `dstar-test-skipped: <binary>::<test>: <reason>`.
pub const SKIP_PREFIX: &str = "dstar-test-skipped: ";

/// Records that the running test skips itself (what it needs is missing on this machine), so a
/// skip is not mistaken for a pass: libtest counts both as passed, and shows a passing test's
/// output only with `--nocapture`. The line `dstar-test-skipped: <binary>::<test>: <reason>` goes
/// to stderr and, when `DSTAR_SKIP_LOG` names a file, is appended to it; `.ci/run` counts those
/// lines, and fails on any skip it does not expect. Call it on the test's own thread (libtest
/// names that thread after the test), then return.
pub fn skipped(reason: &str) {
    let line = skip_line(reason);
    eprint!("{line}");
    if let Some(path) = std::env::var_os("DSTAR_SKIP_LOG") {
        use std::io::Write;
        // one write of one line, in append mode: lines of parallel tests do not mix
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = written {
            panic!("cannot record the skip in {}: {e}", path.to_string_lossy());
        }
    }
}

/// The skip line for the running test (see [`skipped`]), newline included.
fn skip_line(reason: &str) -> String {
    let binary = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_default();
    // cargo names a test binary `<name>-<16 hex digits>`
    let binary = match binary.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            name.to_owned()
        }
        _ => binary,
    };
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("unnamed");
    let reason = reason.replace(['\r', '\n'], " ");
    format!("{SKIP_PREFIX}{binary}::{test}: {reason}\n")
}

/// A free loopback port (bound, read and released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("an address")
        .port()
}

/// A child process that is killed and reaped when dropped, so tests never leak servers.
#[derive(Debug)]
pub struct Proc(pub std::process::Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits (10 s at most) until something accepts connections on `port`.
pub async fn wait_port(port: u16) {
    for _ in 0..400 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("nothing listens on 127.0.0.1:{port}");
}

/// The path of an example binary built by `cargo test --workspace` (beside the test binaries).
pub fn example_binary(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test binary");
    let dir = exe
        .parent()
        .and_then(|p| p.parent())
        .expect("target/<profile>");
    let path = dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing: `cargo test --workspace` builds it (or `cargo build --example {name}`)",
        path.display()
    );
    path
}

/// What [`serve_on_loopback`] returns: the address, the shutdown trigger, and the server's task.
pub type Served = (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
);

/// Serves `router` with `dstar::Server` on a free loopback port until the returned trigger
/// fires; `configure` sets the server's options (limits, TLS).
pub async fn serve_on_loopback(
    router: Router,
    configure: impl FnOnce(dstar::Server) -> dstar::Server,
) -> Served {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = dstar::Server::from_router(router, Vec::new())
        .default_addr("127.0.0.1:0")
        .shutdown_on(async {
            let _ = rx.await;
        });
    let bound = configure(server).bind().await.expect("a loopback port");
    let addr = bound.local_addr();
    (addr, tx, tokio::spawn(bound.run()))
}
