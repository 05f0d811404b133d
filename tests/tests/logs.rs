//! `dstar::serve` installs a `tracing` subscriber when the program has none, so what dstar logs
//! is seen: refused requests at debug (with `RUST_LOG`), and stream lifecycle.

use dstar_tests::{Proc, example_binary, free_port, wait_port};
use std::io::Read;
use std::process::{Command, Stdio};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn post(port: u16, path: &str, extra: &str, body: &str) -> String {
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let req = format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\ncontent-type: application/json\r\n{extra}content-length: {}\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tcp.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn refused_requests_are_logged_with_their_reason() {
    let port = free_port();
    let child = Command::new(example_binary("counter"))
        .env("DSTAR_ADDR", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "dstar=debug,tower_http=debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut server = Proc(child);
    wait_port(port).await;
    let bad = post(port, "/counter/_event/increment", "", r#"{"count":"x"}"#).await;
    assert!(bad.starts_with("HTTP/1.1 400"), "{bad}");
    let cross = post(
        port,
        "/counter/_event/increment",
        "sec-fetch-site: cross-site\r\n",
        "{}",
    )
    .await;
    assert!(cross.starts_with("HTTP/1.1 403"), "{cross}");
    let _ = server.0.kill();
    let _ = server.0.wait();
    let mut logs = String::new();
    server
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    assert!(logs.contains("request refused"), "{logs}");
    assert!(logs.contains("invalid signals: signals.count"), "{logs}");
    assert!(logs.contains("cross-site request refused"), "{logs}");
    // tower-http's request spans: the refused request has one too, with its URI and status
    assert!(logs.contains("uri=/counter/_event/increment"), "{logs}");
    assert!(logs.contains("status=403"), "{logs}");
}

#[tokio::test]
async fn a_hand_written_router_lists_its_routes_at_start_up() {
    // `dstar::routes!` in examples/plain.rs: the listing comes from the router's own definition
    let port = free_port();
    let child = Command::new(example_binary("plain"))
        .env("DSTAR_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Proc(child);
    wait_port(port).await;
    let _ = server.0.kill();
    let _ = server.0.wait();
    let mut out = String::new();
    server
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(out.contains(&format!("127.0.0.1:{port}")), "{out}");
    for line in [
        "GET    /",
        "POST   /counter/increment",
        "POST   /ticker/stream",
    ] {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
}
