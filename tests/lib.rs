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
/// child passed and returns false.
pub fn in_child(test: &str, var: &str, value: &std::ffi::OsStr) -> bool {
    if std::env::var_os(var).is_some() {
        return true;
    }
    let status = std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(var, value)
        .status()
        .expect("the child test runs");
    assert!(status.success(), "child run of {test} failed");
    false
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
