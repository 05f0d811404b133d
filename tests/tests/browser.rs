//! End-to-end tests in headless Chromium against the real Datastar client (v1.0.4, fetched through
//! cargo at test time, sha256-checked, served by the app from `DSTAR_CLIENT_FILE`, never
//! committed). The apps are the example binaries, run as child processes on loopback ports.
//! Without `chromium` and `chromedriver` (Debian packages; `.ci/run` installs them) each test
//! prints one "skipped" line.

#[path = "support/browser.rs"]
mod support;

use dstar_tests::free_port;
use fantoccini::Locator;
use serde_json::json;
use sha2::Digest;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[test]
fn the_default_client_integrity_is_the_hash_of_the_pinned_bundle() {
    use base64::Engine;
    let bundle = std::fs::read(datastar_client()).unwrap();
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(&bundle));
    assert_eq!(
        dstar::page::DEFAULT_CLIENT_INTEGRITY,
        format!("sha384-{hash}")
    );
    let version = String::from_utf8_lossy(&bundle[..40]).into_owned();
    assert!(version.starts_with("// Datastar v1.0.4"), "{version}");
    assert!(dstar::page::DEFAULT_CLIENT_SRC.contains("@v1.0.4/"));
}

/// Saves what the browser shows as `target/tmp/{name}.png`, to look at the examples' styling.
async fn screenshot(browser: &Browser, name: &str) {
    let png = browser.client.screenshot().await.unwrap();
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.png"));
    std::fs::write(&shot, png).unwrap();
    println!("screenshot: {}", shot.display());
}

#[tokio::test]
async fn the_counter_counts_and_logs_to_the_console() {
    if !have_browser("counter") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let (_app, port) = app("counter", &[]).await;
    let browser = Browser::start().await;
    browser
        .client
        .goto(&format!("http://127.0.0.1:{port}/counter"))
        .await
        .unwrap();
    browser.wait_text("h1", "0").await;
    for _ in 0..3 {
        browser.click("button:nth-of-type(1)").await;
    }
    browser.wait_text("h1", "3").await;
    browser.wait_text("#history", "Last: +1 → 3").await;
    screenshot(&browser, "counter-after-clicks").await;
    // read the browser console: record console.log, then Reset
    browser
        .js("window.__logs = []; const log = console.log; console.log = (...a) => { window.__logs.push(a.join(' ')); log(...a); };")
        .await;
    browser.click("button:nth-of-type(2)").await;
    browser.wait_text("h1", "0").await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let logs = browser.js("return window.__logs").await;
        if logs
            .as_array()
            .is_some_and(|l| l.iter().any(|m| m == "Counter reset"))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no `Counter reset` in the console: {logs}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    browser.client.close().await.unwrap();
}

#[tokio::test]
async fn the_ticker_updates_live_and_one_tab_keeps_one_stream() {
    if !have_browser("ticker") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let (_app, port) = app("ticker", &[("TICK_MS", "0")]).await;
    let browser = Browser::start().await;
    let url = format!("http://127.0.0.1:{port}/ticker");
    browser.client.goto(&url).await.unwrap();
    wait_for_streams(port, 1).await;
    // a broadcast from the server shows up in the page
    assert!(
        http(port, "POST", "/ticker/_event/bump")
            .await
            .starts_with("HTTP/1.1 200")
    );
    browser.wait_text("#tick", "1").await;
    // away and back three times in the same tab: still exactly one live stream
    for _ in 0..3 {
        browser.client.goto("about:blank").await.unwrap();
        browser.client.goto(&url).await.unwrap();
        // the page renders the current tick
        browser.wait_text("#tick", "1").await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    wait_for_streams(port, 1).await;
    // the page carries its render time, and the client sends it when the stream opens: a page
    // still current gets no second render (a marker put into the page stays) ...
    assert!(
        browser
            .js("return document.body.dataset.dsRendered")
            .await
            .as_str()
            .is_some_and(|t| t.parse::<u64>().is_ok())
    );
    browser
        .js("document.getElementById('ticker').setAttribute('data-marker', 'kept')")
        .await;
    browser
        .js("window.dispatchEvent(new Event('online'))")
        .await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    wait_for_streams(port, 1).await;
    assert_eq!(
        browser
            .js("return document.getElementById('ticker').getAttribute('data-marker')")
            .await,
        "kept",
        "a current page was rendered again"
    );
    assert!(
        http(port, "POST", "/ticker/_event/bump")
            .await
            .starts_with("HTTP/1.1 200")
    );
    browser.wait_text("#tick", "2").await;
    // ... and one with a message since its render (here the bump) gets a fresh render when a
    // stream opens again without Last-Event-ID: the morph drops the marker
    browser
        .js("window.dispatchEvent(new Event('online'))")
        .await;
    browser
        .wait_until("!document.getElementById('ticker').hasAttribute('data-marker')")
        .await;
    browser.wait_text("#tick", "2").await;
    browser.client.close().await.unwrap();
}

#[tokio::test]
async fn the_shared_component_works_on_both_pages_with_csrf_on() {
    if !have_browser("todo") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let (_app, port) = app("todo", &[]).await;
    let browser = Browser::start().await;
    for (page, id, title) in [
        ("/todos", 1, "From the list"),
        ("/todos/2", 2, "From the detail"),
    ] {
        browser
            .client
            .goto(&format!("http://127.0.0.1:{port}{page}"))
            .await
            .unwrap();
        let input = browser
            .client
            .find(Locator::Css("#detail-drawer input"))
            .await
            .unwrap();
        input.clear().await.unwrap();
        input.send_keys(title).await.unwrap();
        // change fires on blur
        browser.click("h1").await;
        browser.wait_text(&format!("#todo-{id}-title"), title).await;
        if id == 2 {
            screenshot(&browser, "todo-detail").await;
        }
    }
    // the change reached the server: a fresh load shows it
    browser
        .client
        .goto(&format!("http://127.0.0.1:{port}/todos"))
        .await
        .unwrap();
    browser.wait_text("#todo-2-title", "From the detail").await;
    // a forged cross-site POST (no token, a foreign origin) is refused
    let module = "todo-DetailDrawer";
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let forged = format!(
        "POST /ds/{module}/change_title/1 HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\norigin: https://evil.example\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: 17\r\n\r\n{{\"title\":\"pwned\"}}"
    );
    tcp.write_all(forged.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tcp.read_to_end(&mut out).await;
    assert!(
        out.starts_with(b"HTTP/1.1 403"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    // Delete is a DELETE event: the real client sends its signals, and with them the CSRF token,
    // in the `datastar` query parameter
    browser.click("#detail-drawer button.destroy").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while browser
        .js("return document.querySelector('#todo-1') !== null")
        .await
        == true
    {
        assert!(Instant::now() < deadline, "#todo-1 was not removed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    browser
        .client
        .goto(&format!("http://127.0.0.1:{port}/todos"))
        .await
        .unwrap();
    browser.wait_text("#todo-2-title", "From the detail").await;
    assert_eq!(
        browser
            .js("return document.querySelector('#todo-1') === null")
            .await,
        true,
        "the delete reached the server"
    );
    browser.client.close().await.unwrap();
}

#[tokio::test]
async fn todomvc_works_in_a_real_browser() {
    use fantoccini::key::Key;
    if !have_browser("todomvc") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let (_app, port) = app("todo", &[]).await;
    let browser = Browser::start().await;
    let count = "document.querySelectorAll('.todo-list li').length";
    browser
        .client
        .goto(&format!("http://127.0.0.1:{port}/todos"))
        .await
        .unwrap();
    browser.wait_text(".todo-count", "3 items left").await;
    // Enter adds a trimmed todo and empties the field; blanks add nothing
    browser
        .type_into("input.new-todo", "  Buy milk ", Some(Key::Enter))
        .await;
    browser.wait_until(&format!("{count} === 4")).await;
    browser.wait_text("#todo-4 label", "Buy milk").await;
    browser
        .wait_until("document.querySelector('input.new-todo').value === ''")
        .await;
    browser
        .type_into("input.new-todo", "   ", Some(Key::Enter))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(browser.js(&format!("return {count}")).await, 4);
    // toggle one, then all
    browser.click("#todo-1 input.toggle").await;
    browser
        .wait_until("document.querySelector('#todo-1').classList.contains('completed')")
        .await;
    browser.wait_text(".todo-count", "3 items left").await;
    screenshot(&browser, "todo-list").await;
    browser.click("input.toggle-all").await;
    browser.wait_text(".todo-count", "0 items left").await;
    browser.click("input.toggle-all").await;
    browser.wait_text(".todo-count", "4 items left").await;
    // double-click edits; Enter saves, Escape cancels
    browser
        .js("document.querySelector('#todo-2 label').dispatchEvent(new MouseEvent('dblclick', {bubbles: true}))")
        .await;
    browser
        .wait_until("document.querySelector('#todo-2.editing input.edit')")
        .await;
    browser
        .wait_until("document.activeElement === document.querySelector('#todo-2 input.edit')")
        .await;
    screenshot(&browser, "todo-editing").await;
    browser
        .type_into("#todo-2 input.edit", "Ship dstar 1.0", Some(Key::Enter))
        .await;
    browser.wait_text("#todo-2 label", "Ship dstar 1.0").await;
    browser
        .wait_until("!document.querySelector('li.editing')")
        .await;
    browser
        .js("document.querySelector('#todo-3 label').dispatchEvent(new MouseEvent('dblclick', {bubbles: true}))")
        .await;
    browser
        .wait_until("document.querySelector('#todo-3 input.edit')")
        .await;
    browser
        .type_into("#todo-3 input.edit", "Never mind", Some(Key::Escape))
        .await;
    browser
        .wait_until("!document.querySelector('li.editing')")
        .await;
    browser.wait_text("#todo-3 label", "Celebrate").await;
    // delete (a DELETE event), filters, clear completed
    browser.click("#todo-4 button.destroy").await;
    browser.wait_until(&format!("{count} === 3")).await;
    browser.click("#todo-1 input.toggle").await;
    browser.wait_text(".todo-count", "2 items left").await;
    browser
        .click(".filters a[href='/todos?filter=active']")
        .await;
    browser.wait_text(".filters a.selected", "Active").await;
    browser.wait_until(&format!("{count} === 2")).await;
    browser.click(".filters a[href='/todos']").await;
    browser.wait_text(".filters a.selected", "All").await;
    browser.click("button.clear-completed").await;
    browser.wait_until(&format!("{count} === 2")).await;
    browser
        .wait_until("!document.querySelector('button.clear-completed')")
        .await;
    // the state is on the server: a reload shows it
    browser.client.refresh().await.unwrap();
    browser.wait_text("#todo-2 label", "Ship dstar 1.0").await;
    assert_eq!(browser.js(&format!("return {count}")).await, 2);
    browser.client.close().await.unwrap();
}

#[tokio::test]
async fn http2_is_negotiated_over_dev_tls() {
    if !have_browser("http2") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let (_app, port) = app("counter", &[("DSTAR_TLS", "dev")]).await;
    let browser = Browser::start().await;
    browser
        .client
        .goto(&format!("https://localhost:{port}/counter"))
        .await
        .unwrap();
    browser.wait_text("h1", "0").await;
    let protocol = browser
        .js("return performance.getEntries()[0].nextHopProtocol")
        .await;
    assert_eq!(protocol, json!("h2"));
    // and events work over it
    browser.click("button:nth-of-type(1)").await;
    browser.wait_text("h1", "1").await;
    browser.client.close().await.unwrap();
}

/// Waits until `#tick` shows a number other than `before` (10 s); returns it.
async fn next_tick(browser: &Browser, before: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = browser.text("#tick").await;
        if !now.is_empty() && now != before {
            return now;
        }
        assert!(Instant::now() < deadline, "#tick stayed at {before:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_restarted_server_brings_the_open_page_back_to_life_without_a_reload() {
    if !have_browser("ticker restart") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let port = free_port();
    let env = [("TICK_MS", "200"), ("DSTAR_LIVE_RELOAD", "0")];
    let server = app_on("ticker", port, &env).await;
    let browser = Browser::start().await;
    browser
        .client
        .goto(&format!("http://127.0.0.1:{port}/ticker"))
        .await
        .unwrap();
    let first = next_tick(&browser, "0").await;
    let second = next_tick(&browser, &first).await;
    browser.js("window.__mark = 1; return true").await;
    // the process goes away (a crash, a deploy), and a new one starts on the same port
    drop(server);
    let frozen = browser.text("#tick").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _server = app_on("ticker", port, &env).await;
    let restarted = Instant::now();
    // within 5 s of the restart the page shows ticks of the new process, live
    let deadline = restarted + Duration::from_secs(5);
    let mut seen = Vec::new();
    let mut last = frozen.clone();
    while seen.len() < 2 {
        let now = browser.text("#tick").await;
        if now != last {
            seen.push(now.clone());
            last = now;
        }
        assert!(
            Instant::now() < deadline,
            "no new ticks within 5 s of the restart (before: {second}, frozen at {frozen}, then {seen:?})"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    println!("ticks again {:?} after the restart", restarted.elapsed());
    assert_eq!(
        browser.js("return window.__mark === 1").await,
        true,
        "the page reloaded"
    );
    browser.client.close().await.unwrap();
}

#[tokio::test]
async fn a_duplicated_tab_does_not_steal_the_original_tabs_stream() {
    if !have_browser("ticker window.open") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let (_app, port) = app("ticker", &[("TICK_MS", "200")]).await;
    let browser = Browser::start().await;
    browser
        .client
        .goto(&format!("http://127.0.0.1:{port}/ticker"))
        .await
        .unwrap();
    next_tick(&browser, "0").await;
    let original = browser.client.window().await.unwrap();
    // window.open copies sessionStorage, and with it whatever tab id is stored there
    browser.js("window.open(location.href); return true").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let copy = loop {
        let windows = browser.client.windows().await.unwrap();
        if let Some(w) = windows.into_iter().find(|w| *w != original) {
            break w;
        }
        assert!(Instant::now() < deadline, "the second window did not open");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    browser.client.switch_to_window(copy.clone()).await.unwrap();
    next_tick(&browser, "0").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    // after 3 s both windows still receive ticks
    for window in [original.clone(), copy] {
        browser.client.switch_to_window(window).await.unwrap();
        let now = browser.text("#tick").await;
        next_tick(&browser, &now).await;
    }
    wait_for_streams(port, 2).await;
    browser.client.close().await.unwrap();
}

#[tokio::test]
async fn live_reload_reloads_the_page_when_a_new_build_serves_it() {
    if !have_browser("live reload") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let port = free_port();
    let old = [
        ("TICK_MS", "0"),
        ("DSTAR_LIVE_RELOAD", "1"),
        ("DSTAR_BUILD_ID", "build-a"),
    ];
    let server = app_on("ticker", port, &old).await;
    let browser = Browser::start().await;
    browser
        .client
        .goto(&format!("http://127.0.0.1:{port}/ticker"))
        .await
        .unwrap();
    browser.wait_text("h1", "Tick 0").await;
    wait_for_streams(port, 1).await;
    browser.js("window.__mark = 1; return true").await;
    // an edit and `cargo run` again: a new build with a new template
    drop(server);
    let new = [
        ("TICK_MS", "0"),
        ("DSTAR_LIVE_RELOAD", "1"),
        ("DSTAR_BUILD_ID", "build-b"),
        ("TICKER_HEADING", "Edited"),
    ];
    let _server = app_on("ticker", port, &new).await;
    browser.wait_text("h1", "Edited 0").await;
    assert_eq!(
        browser.js("return window.__mark === undefined").await,
        true,
        "the page did not reload"
    );
    browser.client.close().await.unwrap();
}

/// The sum of the leaderboard's scores as the page shows them.
async fn score_sum(browser: &Browser) -> u64 {
    browser
        .js("return Array.from(document.querySelectorAll('td.score')).reduce((s, td) => s + Number(td.textContent), 0)")
        .await
        .as_u64()
        .unwrap_or(0)
}

#[tokio::test]
async fn the_leaderboard_is_re_rendered_live_compressed() {
    if !have_browser("leaderboard") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let (_app, port) = app("leaderboard", &[("BUMP_MS", "0")]).await;
    let browser = Browser::start().await;
    browser
        .client
        .goto(&format!("http://127.0.0.1:{port}/leaderboard"))
        .await
        .unwrap();
    browser.wait_text("h1", "Leaderboard").await;
    wait_for_streams(port, 1).await;
    let before = score_sum(&browser).await;
    assert!(before > 0);
    // the Bump button, and bumps from elsewhere: the whole table is morphed each time
    browser.click("#bump").await;
    for _ in 0..4 {
        let bump = http(port, "POST", "/leaderboard/_event/bump").await;
        assert!(bump.starts_with("HTTP/1.1 200"), "{bump}");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while score_sum(&browser).await != before + 50 {
        assert!(
            Instant::now() < deadline,
            "the table shows {} instead of {}",
            score_sum(&browser).await,
            before + 50
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    screenshot(&browser, "leaderboard").await;
    // still one table, ranked
    let rows = browser
        .js("return document.querySelectorAll('#leaderboard tbody tr').length")
        .await;
    assert_eq!(rows, 100);
    // what the page's stream was: a request like Datastar's, from the page, says which
    // encoding Chromium gets (brotli, by dstar's delta writer, which Chromium decoded above)
    let encoding = browser
        .js("return fetch('/leaderboard', {method: 'POST', headers: {'content-type': 'application/json', 'datastar-request': 'true'}, body: '{\"tabId\":\"encoding-probe\"}'}).then(r => { const e = r.headers.get('content-encoding'); r.body.cancel(); return e; })")
        .await;
    assert_eq!(encoding, "br");
    browser.client.close().await.unwrap();
}

/// The opt-in strict Content Security Policy (`DSTAR_CSP=strict`) leaves the counter working:
/// the client and dstar's inline script carry the nonce, Datastar compiles its expressions
/// (`'unsafe-eval'`), and the scripts an event sends (Reset's console log) run through
/// `'strict-dynamic'`. Script in injected markup does not run.
#[tokio::test]
async fn the_counter_works_under_the_strict_csp() {
    if !have_browser("csp") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let (_app, port) = app("counter", &[("DSTAR_CSP", "strict")]).await;
    let browser = Browser::start().await;
    browser
        .client
        .goto(&format!("http://127.0.0.1:{port}/counter"))
        .await
        .unwrap();
    browser.wait_text("h1", "0").await;
    for _ in 0..2 {
        browser.click("button:nth-of-type(1)").await;
    }
    browser.wait_text("h1", "2").await;
    browser
        .js("window.__logs = []; const log = console.log; console.log = (...a) => { window.__logs.push(a.join(' ')); log(...a); };")
        .await;
    browser.click("button:nth-of-type(2)").await;
    browser.wait_text("h1", "0").await;
    browser
        .wait_until("window.__logs.includes('Counter reset')")
        .await;
    // injected markup cannot run script: its inline handler is blocked by the policy (without
    // it, this handler runs), while the image's own error event still fires
    browser
        .js("window.__errored = false; document.body.insertAdjacentHTML('beforeend', '<img id=\"x\" src=\"/nope\" onerror=\"window.__injected = 1\">'); document.getElementById('x').addEventListener('error', () => { window.__errored = true; });")
        .await;
    browser.wait_until("window.__errored").await;
    assert_eq!(browser.js("return window.__injected === 1").await, false);
    browser.client.close().await.unwrap();
}
