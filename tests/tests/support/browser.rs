//! What the browser tests share: headless Chromium through chromedriver, the real Datastar
//! client fetched through cargo, and the example binaries run on loopback ports.

#![allow(dead_code)]

use dstar_tests::{Proc, example_binary, free_port, wait_port};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One browser at a time: four Chromiums on two cores make timeouts, not tests.
pub(crate) static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub(crate) const CLIENT_SHA256: &str =
    "727844adfc825ee651fb93c544a2a739986f9a21820a94524b35f0cac470cf91";

pub(crate) fn have_browser(test: &str) -> bool {
    let ok = Command::new("chromedriver")
        .arg("--version")
        .output()
        .is_ok()
        && std::path::Path::new("/usr/bin/chromium").exists();
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is missing on CI: .ci/run must install it"
        );
        dstar_tests::skipped(&format!("chromium not installed ({test})"));
    }
    ok
}

/// The Datastar 1.0.4 bundle from the `runnerd-web` crate, fetched by cargo and verified.
pub(crate) fn datastar_client() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args(["info", "runnerd-web@0.0.27"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "`cargo info runnerd-web@0.0.27` failed");
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".cargo"));
    let src = home.join("registry").join("src");
    let file = std::fs::read_dir(&src)
        .unwrap()
        .filter_map(Result::ok)
        .map(|d| d.path().join("runnerd-web-0.0.27/assets/datastar.js"))
        .find(|p| p.exists())
        .expect("runnerd-web unpacked");
    let digest = Sha256::digest(std::fs::read(&file).unwrap());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        CLIENT_SHA256,
        "unexpected Datastar bundle at {}",
        file.display()
    );
    file
}

/// Runs an example binary on a free port with the real client.
pub(crate) async fn app(name: &str, env: &[(&str, &str)]) -> (Proc, u16) {
    let port = free_port();
    (app_on(name, port, env).await, port)
}

/// Runs an example binary on `port` (to restart a server where its pages expect it).
pub(crate) async fn app_on(name: &str, port: u16, env: &[(&str, &str)]) -> Proc {
    let mut cmd = Command::new(example_binary(name));
    cmd.env("DSTAR_ADDR", format!("127.0.0.1:{port}"))
        .env("DSTAR_CLIENT_FILE", datastar_client())
        .env("DSTAR_STATS_TOKEN", STATS_TOKEN)
        .env(
            "DSTAR_SECRET_FILE",
            std::env::temp_dir().join(format!("dstar-browser-key-{port}")),
        )
        .stdout(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = Proc(cmd.spawn().unwrap());
    wait_port(port).await;
    child
}

pub(crate) struct Browser {
    pub(crate) client: Client,
    _driver: Proc,
    _profile: PathBuf,
}

impl Browser {
    pub(crate) async fn start() -> Browser {
        let port = free_port();
        let driver = Proc(
            Command::new("chromedriver")
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        wait_port(port).await;
        let profile =
            std::env::temp_dir().join(format!("dstar-chromium-{}-{port}", std::process::id()));
        let mut caps = serde_json::Map::new();
        caps.insert("acceptInsecureCerts".into(), json!(true));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--ignore-certificate-errors",
                    "--disable-popup-blocking",
                    "--window-size=1024,768", format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("chromedriver session");
        Browser {
            client,
            _driver: driver,
            _profile: profile,
        }
    }

    pub(crate) async fn text(&self, css: &str) -> String {
        match self.client.find(Locator::Css(css)).await {
            Ok(el) => el.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Waits until the element's text is `want` (10 s), showing what it was on failure.
    pub(crate) async fn wait_text(&self, css: &str, want: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut last = String::new();
        while Instant::now() < deadline {
            last = self.text(css).await;
            if last == want {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("`{css}` shows {last:?}, expected {want:?}");
    }

    pub(crate) async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    pub(crate) async fn js(&self, script: &str) -> serde_json::Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    /// Waits until the JavaScript expression `check` is true (10 s).
    pub(crate) async fn wait_until(&self, check: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.js(&format!("return !!({check})")).await != true {
            assert!(Instant::now() < deadline, "never true: {check}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Replaces the element's text with `text` as a person would (select all, type: WebDriver's
    /// clear would also blur the field), then presses `key` (a WebDriver key such as Enter).
    pub(crate) async fn type_into(&self, css: &str, text: &str, key: Option<fantoccini::key::Key>) {
        use fantoccini::key::Key;
        let el = self.client.find(Locator::Css(css)).await.unwrap();
        let select_all = format!("{}a{}", char::from(Key::Control), char::from(Key::Null));
        el.send_keys(&select_all).await.unwrap();
        el.send_keys(text).await.unwrap();
        if let Some(key) = key {
            el.send_keys(&String::from(char::from(key))).await.unwrap();
        }
    }
}

/// The stats token the example processes get.
pub(crate) const STATS_TOKEN: &str = "browser-test-stats-token";

pub(crate) async fn http(port: u16, method: &str, path: &str) -> String {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\nauthorization: Bearer {STATS_TOKEN}\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{{}}"
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tcp.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// Waits (10 s at most) until the server holds exactly `n` live streams.
pub(crate) async fn wait_for_streams(port: u16, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = live_streams(port).await;
        if now == n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{now} live streams, expected {n}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) async fn live_streams(port: u16) -> u64 {
    let text = http(port, "GET", "/_dstar/stats").await;
    let body = text.rsplit("\r\n\r\n").next().unwrap_or("");
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["streams"].as_u64())
        .unwrap_or(u64::MAX)
}
