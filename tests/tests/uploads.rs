//! Uploads: files in signals (Datastar's file binding) and in multipart forms, judged by their
//! content; per-event body limits that refuse a body before reading it; CSRF with both; and the
//! page's glue script.

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use dstar::csrf::Csrf;
use dstar::prelude::*;
use dstar::test::TestClient;
use dstar::upload::{Accept, Multipart, UploadedFile};
use futures_util::StreamExt as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const KEY: &[u8] = b"a test key that is long enough, 32+ bytes";

/// A 1×1 transparent PNG, byte by byte.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// Raised only by a handler that ran: refusals before reading must leave them alone.
static SMALL_RAN: AtomicUsize = AtomicUsize::new(0);
static COMPONENT_RAN: AtomicUsize = AtomicUsize::new(0);

#[derive(serde::Deserialize)]
struct Profile {
    #[serde(default)]
    avatar: Vec<UploadedFile>,
}

#[derive(Default)]
struct Uploads;

#[dstar::page("/uploads")]
impl Uploads {
    fn render(&self) -> Markup {
        html! {
            div data-signals:avatar="[]" {
                input type="file" data-bind:avatar;
                button data-on:click=(event("avatar")) { "Save" }
            }
            form enctype="multipart/form-data" data-ds-refusal="form-refusal" {
                input type="text" name="title";
                input type="file" name="photo";
                button data-on:click=(event("form").options("{contentType: 'form'}")) { "Send" }
            }
            p #result {}
        }
    }

    #[event(limit = "4MB")]
    async fn avatar(sse: &mut Sse, Signals(p): Signals<Profile>) {
        let message = match p.avatar.first() {
            None => "no file".to_owned(),
            Some(file) => match file.check(&Accept::images().max_bytes(2_000_000)) {
                Ok(()) => format!("accepted {} ({} bytes)", file.sniffed_mime(), file.len()),
                Err(why) => format!("refused: {why}"),
            },
        };
        sse.patch_elements(html! { p #result { (message) } });
    }

    #[event(limit = "4MB")]
    async fn form(sse: &mut Sse, mut form: Multipart) {
        let title = form.text("title").unwrap_or("").to_owned();
        let message = match form.take_file("photo") {
            None => format!("{title}: no photo"),
            Some(photo) => match photo.check(&Accept::images()) {
                Ok(()) => format!(
                    "{title}: {} {} ({} bytes)",
                    photo.name(),
                    photo.sniffed_mime(),
                    photo.len()
                ),
                Err(why) => format!("{title}: refused: {why}"),
            },
        };
        sse.patch_elements(html! { p #result { (message) } });
    }

    #[event(limit = "64KB")]
    async fn small(sse: &mut Sse, Signals(s): Signals) {
        SMALL_RAN.fetch_add(1, Ordering::SeqCst);
        sse.patch_signals(json!({ "got": s.len() }));
    }

    #[event]
    async fn plain(sse: &mut Sse, Signals(s): Signals) {
        sse.patch_signals(json!({ "got": s.len() }));
    }
}

/// A component event with a limit: the same layer on its route.
struct Dropbox;

#[dstar::component]
impl Dropbox {
    #[event(limit = "1KB")]
    async fn put_file(sse: &mut Sse, Signals(s): Signals) {
        COMPONENT_RAN.fetch_add(1, Ordering::SeqCst);
        sse.patch_signals(json!({ "got": s.len() }));
    }
}

fn app(csrf: bool) -> Router {
    let app = dstar::App::empty().page::<Uploads>().component::<Dropbox>();
    if csrf {
        app.csrf(Csrf::new(KEY)).build()
    } else {
        app.build()
    }
}

/// A client that loaded the page (so it has the session cookie and the token, with CSRF on).
async fn loaded(csrf: bool) -> TestClient {
    let client = TestClient::new(app(csrf));
    client.get("/uploads").await.assert_status(200);
    client
}

fn file_signal(name: &str, mime: &str, contents: &str) -> serde_json::Value {
    json!({ "avatar": [{ "name": name, "contents": contents, "mime": mime }] })
}

/// A Datastar POST as the page's glue script sends it: the session cookie, and the token in the
/// `x-csrf-token` header when `header` is set.
fn datastar_post(
    client: &TestClient,
    path: &str,
    content_type: &str,
    header: bool,
) -> axum::http::request::Builder {
    let mut b = Request::post(path)
        .header("datastar-request", "true")
        .header("content-type", content_type);
    if let Some(cookie) = client.cookie("dstar_csrf") {
        b = b.header("cookie", format!("dstar_csrf={cookie}"));
    }
    if let Some(token) = client.csrf_token().filter(|_| header) {
        b = b.header("x-csrf-token", token);
    }
    b
}

/// A body that sends one chunk and then nothing, ever: a server that waited for it would hang.
fn never_ending_body() -> Body {
    let first = futures_util::stream::once(async {
        Ok::<_, std::io::Error>(Bytes::from_static(b"{\"a\":"))
    });
    Body::from_stream(first.chain(futures_util::stream::pending()))
}

fn multipart(boundary: &str, title: &str, file: Option<(&str, &str, &[u8])>) -> Vec<u8> {
    let mut body = format!(
        "--{boundary}\r\ncontent-disposition: form-data; name=\"title\"\r\n\r\n{title}\r\n"
    )
    .into_bytes();
    if let Some((name, mime, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\ncontent-disposition: form-data; name=\"photo\"; filename=\"{name}\"\r\ncontent-type: {mime}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

#[tokio::test]
async fn a_png_in_signals_is_accepted_by_its_content() {
    for csrf in [false, true] {
        let client = loaded(csrf).await;
        let res = client
            .post(
                "/uploads/_event/avatar",
                file_signal("me.png", "image/png", &STANDARD.encode(PNG)),
            )
            .await;
        res.assert_status(200);
        assert!(
            res.text().contains("accepted image/png (67 bytes)"),
            "{}",
            res.text()
        );
    }
}

#[tokio::test]
async fn a_text_file_declared_as_png_is_refused_by_its_content() {
    let client = loaded(false).await;
    let res = client
        .post(
            "/uploads/_event/avatar",
            file_signal("me.png", "image/png", &STANDARD.encode("just text")),
        )
        .await;
    res.assert_status(200);
    assert!(
        res.text()
            .contains("refused: not an accepted image: the file's content is text/plain"),
        "{}",
        res.text()
    );
}

#[tokio::test]
async fn bad_base64_is_a_400_naming_the_field() {
    let client = loaded(false).await;
    let res = client
        .post(
            "/uploads/_event/avatar",
            file_signal("me.png", "image/png", "not base64!"),
        )
        .await;
    res.assert_status(400);
    let text = res.text();
    assert!(text.contains("signals.avatar[0]"), "{text}");
    assert!(
        text.contains("the contents of file \"me.png\" are not valid base64"),
        "{text}"
    );
}

#[tokio::test]
async fn an_oversize_body_is_refused_before_it_is_read() {
    for csrf in [false, true] {
        let client = loaded(csrf).await;
        let before = SMALL_RAN.load(Ordering::SeqCst);
        // declares 100 MB, sends a few bytes, and never ends: only a refusal from the head returns
        let req = datastar_post(&client, "/uploads/_event/small", "application/json", true)
            .header("content-length", "100000000")
            .body(never_ending_body())
            .unwrap();
        let res = tokio::time::timeout(Duration::from_secs(5), client.send(req))
            .await
            .expect("the 413 comes before the body");
        res.assert_status(413);
        assert_eq!(res.text(), "too large: this event takes at most 64 KB");
        // with no length, a chunked body is cut at the limit
        let chunks = futures_util::stream::iter(
            (0..3).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b' '; 30_000]))),
        );
        let req = datastar_post(&client, "/uploads/_event/small", "application/json", true)
            .body(Body::from_stream(chunks))
            .unwrap();
        let res = client.send(req).await;
        res.assert_status(413);
        assert!(res.text().contains("too large"), "{}", res.text());
        // under the limit it runs
        let res = client
            .post("/uploads/_event/small", json!({ "a": 1 }))
            .await;
        res.assert_status(200);
        assert_eq!(
            SMALL_RAN.load(Ordering::SeqCst),
            before + 1,
            "a refused event ran"
        );
    }
}

#[tokio::test]
async fn with_csrf_on_a_too_large_body_is_too_large_not_a_csrf_failure() {
    let client = loaded(true).await;
    // no header: the CSRF layer would have to read 1.5 MB to find the token, over the signals
    // limit it reads with
    let pad = "a".repeat(1_500_000);
    let body = json!({ "csrf": client.csrf_token(), "pad": pad }).to_string();
    let req = datastar_post(&client, "/uploads/_event/avatar", "application/json", false)
        .header("content-length", body.len())
        .body(Body::from(body.clone()))
        .unwrap();
    let res = client.send(req).await;
    res.assert_status(413);
    assert!(res.text().starts_with("too large"), "{}", res.text());
    assert!(!res.text().contains("CSRF"), "{}", res.text());
    // the same body with the token in the header (as the glue script sends it): the event's own
    // 4 MB limit applies, over the signals default of 1 MiB
    let req = datastar_post(&client, "/uploads/_event/avatar", "application/json", true)
        .body(Body::from(body))
        .unwrap();
    let res = client.send(req).await;
    res.assert_status(200);
    assert!(res.text().contains("no file"), "{}", res.text());
    // and past the event's limit, a 413 that says so
    let req = datastar_post(&client, "/uploads/_event/avatar", "application/json", true)
        .header("content-length", "5000000")
        .body(never_ending_body())
        .unwrap();
    let res = tokio::time::timeout(Duration::from_secs(5), client.send(req))
        .await
        .expect("refused from the head");
    res.assert_status(413);
    assert_eq!(res.text(), "too large: this event takes at most 4 MB");
}

#[tokio::test]
async fn without_a_limit_nothing_changes() {
    let client = loaded(false).await;
    let pad = "a".repeat(1_500_000);
    let res = client
        .post("/uploads/_event/plain", json!({ "pad": pad }))
        .await;
    res.assert_status(413);
    let res = client
        .post("/uploads/_event/plain", json!({ "pad": "a" }))
        .await;
    res.assert_status(200);
}

#[tokio::test]
async fn a_multipart_form_with_the_token_header_passes_csrf() {
    let client = loaded(true).await;
    let content_type = "multipart/form-data; boundary=XyZ";
    let body = multipart("XyZ", "My cat", Some(("cat.png", "image/png", PNG)));
    let req = datastar_post(&client, "/uploads/_event/form", content_type, true)
        .body(Body::from(body.clone()))
        .unwrap();
    let res = client.send(req).await;
    res.assert_status(200);
    assert!(
        res.text().contains("My cat: cat.png image/png (67 bytes)"),
        "{}",
        res.text()
    );
    // without the header the layer cannot find the token in a multipart body
    let req = datastar_post(&client, "/uploads/_event/form", content_type, false)
        .body(Body::from(body))
        .unwrap();
    client.send(req).await.assert_status(415);
    // a text file in the form is refused by its content
    let body = multipart("XyZ", "Fake", Some(("cat.png", "image/png", b"hello")));
    let req = datastar_post(&client, "/uploads/_event/form", content_type, true)
        .body(Body::from(body))
        .unwrap();
    let res = client.send(req).await;
    assert!(
        res.text().contains("Fake: refused: not an accepted image"),
        "{}",
        res.text()
    );
    // an empty file input is no file
    let body = multipart("XyZ", "Empty", Some(("", "application/octet-stream", b"")));
    let req = datastar_post(&client, "/uploads/_event/form", content_type, true)
        .body(Body::from(body))
        .unwrap();
    assert!(client.send(req).await.text().contains("Empty: no photo"));
}

#[tokio::test]
async fn a_bad_multipart_body_is_a_4xx_never_a_500() {
    let client = loaded(false).await;
    let content_type = "multipart/form-data; boundary=XyZ";
    // malformed
    let req = datastar_post(&client, "/uploads/_event/form", content_type, false)
        .body(Body::from("--XyZ\r\nbroken"))
        .unwrap();
    client.send(req).await.assert_status(400);
    // no boundary
    let req = datastar_post(
        &client,
        "/uploads/_event/form",
        "multipart/form-data",
        false,
    )
    .body(Body::from("x"))
    .unwrap();
    client.send(req).await.assert_status(400);
    // not multipart
    let req = datastar_post(&client, "/uploads/_event/form", "application/json", false)
        .body(Body::from("{}"))
        .unwrap();
    client.send(req).await.assert_status(415);
    // over the event's 4 MB, chunked (no length): cut by the multipart reader at the limit
    let big = vec![0u8; 4_100_000];
    let body = multipart(
        "XyZ",
        "Big",
        Some(("big.bin", "application/octet-stream", &big)),
    );
    let chunks: Vec<Result<Bytes, std::io::Error>> = body
        .chunks(64 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let req = datastar_post(&client, "/uploads/_event/form", content_type, false)
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .unwrap();
    let res = client.send(req).await;
    res.assert_status(413);
    assert_eq!(res.text(), "too large: this event takes at most 4 MB");
}

#[tokio::test]
async fn component_events_take_a_limit_too() {
    let client = TestClient::new(app(false));
    let module = dstar::actions::encode_module(<Dropbox as dstar::component::Component>::PATH);
    let path = format!("/ds/{module}/put_file");
    let req = Request::post(&path)
        .header("content-type", "application/json")
        .header("content-length", "2000")
        .body(never_ending_body())
        .unwrap();
    let res = tokio::time::timeout(Duration::from_secs(5), client.send(req))
        .await
        .expect("refused from the head");
    res.assert_status(413);
    assert_eq!(res.text(), "too large: this event takes at most 1 KB");
    assert_eq!(COMPONENT_RAN.load(Ordering::SeqCst), 0);
    client
        .post(&path, json!({ "a": 1 }))
        .await
        .assert_status(200);
    assert_eq!(COMPONENT_RAN.load(Ordering::SeqCst), 1);
}

/// The inline scripts of a page (those without `src`), by their text.
fn inline_scripts(html: &str) -> Vec<&str> {
    html.match_indices("<script>")
        .map(|(at, tag)| {
            let start = at + tag.len();
            let end = html[start..].find("</script>").expect("closed") + start;
            &html[start..end]
        })
        .collect()
}

#[tokio::test]
async fn the_glue_script_is_in_the_page_and_holds_no_token() {
    let client = TestClient::new(app(true));
    let html = client.get("/uploads").await.text();
    let token = client.csrf_token().expect("a token");
    assert!(
        html.contains(&format!(r#"<meta name="dstar-csrf" content="{token}">"#)),
        "{html}"
    );
    let scripts = inline_scripts(&html);
    let glue = scripts
        .iter()
        .find(|s| s.contains("x-csrf-token"))
        .expect("the glue script");
    for marker in [
        "dstar-csrf",
        "ds-refusal",
        "pagehide",
        "x-dstar-rendered",
        "datastar-fetch",
    ] {
        assert!(glue.contains(marker), "{marker}");
    }
    assert!(scripts.iter().all(|s| !s.contains(&token)));
    // in debug builds, it logs refused responses' bodies
    assert_eq!(glue.contains("console.error"), cfg!(debug_assertions));
    // one `</script>` per `<script`: nothing in the page closes a script early
    assert_eq!(
        html.matches("<script").count(),
        html.matches("</script>").count()
    );

    // without CSRF tokens: the same script, no meta tag
    let html = TestClient::new(app(false)).get("/uploads").await.text();
    assert!(!html.contains("dstar-csrf\" content"));
    assert!(
        inline_scripts(&html)
            .iter()
            .any(|s| s.contains("ds-refusal"))
    );
}

#[test]
fn the_token_meta_tag_is_attribute_escaped() {
    let evil = r#""></script><script>alert(1)</script>"#;
    let ctx = dstar::page::PageContext {
        title: "t",
        client_src: "/ds.js",
        client_integrity: None,
        csrf: Some(evil),
        dispatch_base: "/ds",
        rendered: std::time::UNIX_EPOCH,
        flash: None,
        nonce: None,
    };
    let html = ctx.client_script().into_string();
    assert!(!html.contains("alert(1)</script>"), "{html}");
    assert!(
        html.contains(
            r#"content="&quot;&gt;&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;""#
        ),
        "{html}"
    );
    assert_eq!(html.matches("</script>").count(), 2);
}
