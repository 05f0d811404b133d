//! The `notes` example in headless Chromium with the real Datastar client, section by section:
//! sign-up and sign-in forms that validate as you type, the flash after a redirect, two users
//! seeing each other's notes and presence live, a signed-out tab sent to sign-in, the avatar
//! upload checked by its bytes, and nothing lost across a restart. Each test runs the example
//! binary on its own SQLite file.

#[path = "support/browser.rs"]
mod support;

use base64::Engine as _;
use dstar_tests::{Proc, free_port};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use support::*;

/// A fresh database file for one run of the app.
fn database(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("dstar-notes-{name}-{}.db", std::process::id()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    path
}

async fn notes_app(db: &std::path::Path, port: u16) -> Proc {
    app_on("notes", port, &[("NOTES_DB", db.to_str().unwrap())]).await
}

fn screenshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("notes-{name}.png"))
}

impl Browser {
    async fn goto(&self, port: u16, path: &str) {
        self.client
            .goto(&format!("http://127.0.0.1:{port}{path}"))
            .await
            .unwrap();
    }

    async fn path(&self) -> String {
        self.js("return location.pathname")
            .await
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    async fn wait_path(&self, path: &str) {
        self.wait_until(&format!(
            "location.pathname === {path:?} && document.readyState === 'complete'"
        ))
        .await;
    }

    /// Waits until the field's `aria-invalid` is `"true"` and its message (named by
    /// `aria-describedby`) reads `message`; or, with `None`, until it is valid and quiet.
    async fn wait_field(&self, id: &str, message: Option<&str>) {
        let check = match message {
            Some(message) => format!(
                "(() => {{ const f = document.getElementById('{id}'); const m = document.getElementById(f.getAttribute('aria-describedby').split(' ')[0]);
                   return f.getAttribute('aria-invalid') === 'true' && m.textContent.includes({message:?}); }})()"
            ),
            None => format!(
                "(() => {{ const f = document.getElementById('{id}'); const m = document.getElementById(f.getAttribute('aria-describedby').split(' ')[0]);
                   return !f.hasAttribute('aria-invalid') && m.textContent === ''; }})()"
            ),
        };
        self.wait_until(&check).await;
    }

    async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let path = screenshot_path(name);
        std::fs::write(&path, png).unwrap();
        println!("screenshot: {}", path.display());
    }

    /// Signs up through the form, landing on `/notes`.
    async fn sign_up(&self, port: u16, email: &str, password: &str) {
        self.goto(port, "/signup").await;
        self.type_into("#email", email, None).await;
        self.type_into("#password", password, None).await;
        self.click("button[type=submit]").await;
        self.wait_path("/notes").await;
    }

    /// Waits as a person does between typing and submitting: past the pause after which a
    /// field's own check runs, and its answer. (A submit within that pause races the check,
    /// whose later answer clears the message the submit set: a known gap of `Field::on_input`.)
    async fn pause_after_typing(&self) {
        tokio::time::sleep(Duration::from_millis(800)).await;
    }

    /// Types a note and adds it.
    async fn add_note(&self, text: &str) {
        self.type_into("#body", text, None).await;
        self.click("#new-note button[type=submit]").await;
    }
}

#[tokio::test]
async fn sign_up_and_sign_in_validate_as_you_type_and_land_with_a_flash() {
    if !have_browser("notes forms") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let db = database("forms");
    let port = free_port();
    let _app = notes_app(&db, port).await;
    let browser = Browser::start().await;

    // signed out, /notes sends the browser to sign-in
    browser.goto(port, "/notes").await;
    browser.wait_path("/signin").await;

    browser.goto(port, "/signup").await;
    // a malformed email, as it is typed; the untouched password stays quiet
    browser.type_into("#email", "bob@", None).await;
    browser
        .wait_field("email", Some("Enter a valid email address"))
        .await;
    browser.wait_field("password", None).await;
    browser.type_into("#password", "short", None).await;
    browser
        .wait_field("password", Some("Use at least 8 characters"))
        .await;
    browser.type_into("#email", "bob@example.com", None).await;
    browser.wait_field("email", None).await;
    browser.type_into("#password", "correct horse", None).await;
    browser.wait_field("password", None).await;
    browser.click("button[type=submit]").await;

    // on /notes, with a one-time flash
    browser.wait_path("/notes").await;
    browser.wait_until("document.querySelector('[role=status]')?.textContent.includes('Welcome, bob@example.com')").await;
    browser.screenshot("signed-up").await;
    browser.client.refresh().await.unwrap();
    browser
        .wait_until("document.querySelector('#notes') && !document.querySelector('[role=status]')")
        .await;

    // signing out lands on /signin
    browser.click("form[action='/signout'] button").await;
    browser.wait_path("/signin").await;
    browser
        .wait_until("document.querySelector('[role=status]')?.textContent.includes('signed out')")
        .await;

    // a taken email
    browser.goto(port, "/signup").await;
    browser.type_into("#email", "BOB@example.com", None).await;
    browser
        .type_into("#password", "another password", None)
        .await;
    browser.pause_after_typing().await;
    browser.click("button[type=submit]").await;
    browser
        .wait_field("email", Some("That email is already taken"))
        .await;

    // a wrong password, then the right one
    browser.goto(port, "/signin").await;
    browser.type_into("#email", "bob@example.com", None).await;
    browser.type_into("#password", "wrong password", None).await;
    browser.pause_after_typing().await;
    browser.click("button[type=submit]").await;
    browser
        .wait_field("password", Some("Wrong email or password"))
        .await;
    browser.screenshot("wrong-password").await;
    browser.type_into("#password", "correct horse", None).await;
    browser.click("button[type=submit]").await;
    browser.wait_path("/notes").await;
    browser
        .wait_until("document.querySelector('[role=status]')?.textContent.includes('Welcome back')")
        .await;
    browser.client.close().await.unwrap();
}

#[tokio::test]
async fn two_users_see_notes_and_each_other_live_and_a_signed_out_tab_stops() {
    if !have_browser("notes live") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let db = database("live");
    let port = free_port();
    let _app = notes_app(&db, port).await;
    let alice = Browser::start().await;
    let bob = Browser::start().await;
    alice
        .sign_up(port, "alice@example.com", "alice's password")
        .await;
    bob.sign_up(port, "bob@example.com", "bob's password!")
        .await;

    // who is on /notes, in both browsers
    let both = "['alice@example.com', 'bob@example.com'].every(e => document.querySelector('#online').textContent.includes(e))";
    alice.wait_until(both).await;
    bob.wait_until(both).await;

    // an empty note is refused in place
    alice.click("#new-note button[type=submit]").await;
    alice
        .wait_field("body", Some("Write something first"))
        .await;
    // a note reaches the other user live
    alice.add_note("Hello from Alice").await;
    bob.wait_until("document.querySelector('#notes').textContent.includes('Hello from Alice')")
        .await;
    alice.wait_field("body", None).await;
    bob.screenshot("live").await;

    // Bob leaves: Alice's list drops him at once (his tab closed its stream on the way out)
    bob.client.goto("about:blank").await.unwrap();
    alice
        .wait_until("!document.querySelector('#online').textContent.includes('bob@example.com')")
        .await;

    // Alice opens a second tab, and signs out there
    let first = alice.client.window().await.unwrap();
    let second = alice.client.new_window(true).await.unwrap();
    alice.client.switch_to_window(second.handle).await.unwrap();
    alice.goto(port, "/notes").await;
    alice
        .wait_until("document.querySelector('#online')?.textContent.includes('alice@example.com')")
        .await;
    alice.click("form[action='/signout'] button").await;
    alice.wait_path("/signin").await;

    // Bob writes: Alice's first tab is sent to sign-in by its next render, and never shows it
    bob.goto(port, "/notes").await;
    bob.wait_until("document.querySelector('#online')?.textContent.includes('bob@example.com')")
        .await;
    bob.add_note("Bob's secret plan").await;
    alice.client.switch_to_window(first).await.unwrap();
    alice.wait_path("/signin").await;
    assert!(alice.path().await == "/signin");
    let html = alice.js("return document.documentElement.outerHTML").await;
    assert!(!html.as_str().unwrap().contains("secret plan"));
    alice.client.close().await.unwrap();
    bob.client.close().await.unwrap();
}

/// A 1×1 PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

#[tokio::test]
async fn the_avatar_is_checked_by_its_bytes_and_nothing_is_lost_across_a_restart() {
    if !have_browser("notes avatar") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let db = database("avatar");
    let port = free_port();
    let app = notes_app(&db, port).await;
    let browser = Browser::start().await;
    browser
        .sign_up(port, "carol@example.com", "carol's password")
        .await;
    browser.add_note("Written before the restart").await;
    browser
        .wait_until("document.querySelector('#notes').textContent.includes('before the restart')")
        .await;

    let dir = std::env::temp_dir().join(format!("dstar-notes-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("me.png");
    std::fs::write(
        &png,
        base64::engine::general_purpose::STANDARD
            .decode(PNG)
            .unwrap(),
    )
    .unwrap();
    let fake = dir.join("fake.png");
    std::fs::write(&fake, "this is text, whatever its name says").unwrap();
    let huge = dir.join("huge.png");
    let mut bytes = base64::engine::general_purpose::STANDARD
        .decode(PNG)
        .unwrap();
    bytes.resize(3_500_000, 0);
    std::fs::write(&huge, bytes).unwrap();

    browser.goto(port, "/profile").await;
    let upload = |file: PathBuf| {
        let browser = &browser;
        async move {
            let input = browser
                .client
                .find(fantoccini::Locator::Css("#avatar"))
                .await
                .unwrap();
            input.send_keys(file.to_str().unwrap()).await.unwrap();
            // the binding reads the file before the signal holds it
            tokio::time::sleep(Duration::from_millis(500)).await;
            browser.click("#avatar-form button[type=submit]").await;
        }
    };
    // not an image, by its content
    upload(fake).await;
    browser
        .wait_field("avatar", Some("not an accepted image"))
        .await;
    // too large: refused before the body is read, and the page says so
    upload(huge).await;
    browser
        .wait_until(
            "document.querySelector('#avatar-refusal').textContent === 'Too large to send.'",
        )
        .await;
    // a real image (and the refusal's message goes with the next request)
    upload(png).await;
    browser
        .wait_until("document.querySelector('#avatar-refusal').textContent === ''")
        .await;
    browser.wait_until("document.querySelector('img.avatar')?.complete && document.querySelector('img.avatar').naturalWidth === 1").await;
    browser.wait_field("avatar", None).await;
    browser.screenshot("profile").await;

    // a restart: the session, the note and the avatar are still there
    drop(app);
    let start = Instant::now();
    let _app = notes_app(&db, port).await;
    println!("restarted in {:?}", start.elapsed());
    browser.goto(port, "/notes").await;
    browser
        .wait_until("document.querySelector('#notes')?.textContent.includes('before the restart')")
        .await;
    browser.goto(port, "/profile").await;
    browser.wait_until("document.querySelector('img.avatar')?.complete && document.querySelector('img.avatar').naturalWidth === 1").await;
    browser.client.close().await.unwrap();
}
