//! `DSTAR_CLIENT_FILE` and `DSTAR_CLIENT_SRC`. The client source is read once per process, so
//! each case re-runs this test binary as a child process with the variable set.

use axum::body::Body;
use axum::http::Request;
use dstar::prelude::*;
use dstar_tests::send;

#[derive(Default)]
struct Home;

#[dstar::page("/home")]
impl Home {
    fn render(&self) -> Markup {
        html! { p { "home" } }
    }
}

use dstar_tests::in_child;

async fn get(app: axum::Router, path: &str) -> (u16, String, String) {
    let (res, body) = send(app, Request::get(path).body(Body::empty()).unwrap()).await;
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        res.status().as_u16(),
        ct,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

#[tokio::test]
async fn client_file_is_served_and_the_layout_points_at_it() {
    let dir = std::env::temp_dir().join(format!("dstar-client-{}", std::process::id()));
    let file = dir.join("datastar.js");
    if !in_child(
        "client_file_is_served_and_the_layout_points_at_it",
        "DSTAR_CLIENT_FILE",
        file.as_os_str(),
    ) {
        return;
    }
    let file = std::path::PathBuf::from(std::env::var_os("DSTAR_CLIENT_FILE").unwrap());
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "/* the client */").unwrap();
    let app = dstar::App::empty().page::<Home>();
    assert!(
        app.routes()
            .iter()
            .any(|r| r.path == dstar::page::CLIENT_PATH)
    );
    let app = app.build();
    let (status, _, html) = get(app.clone(), "/home").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(r#"<script type="module" src="/_dstar/datastar.js"></script>"#),
        "{html}"
    );
    let (status, ct, js) = get(app, "/_dstar/datastar.js").await;
    assert_eq!((status, js.as_str()), (200, "/* the client */"));
    assert!(ct.starts_with("text/javascript"), "{ct}");
    let _ = std::fs::remove_file(&file);
}

#[tokio::test]
async fn client_src_overrides_the_cdn() {
    if !in_child(
        "client_src_overrides_the_cdn",
        "DSTAR_CLIENT_SRC",
        "/static/ds.js".as_ref(),
    ) {
        return;
    }
    let (_, _, html) = get(dstar::App::empty().page::<Home>().build(), "/home").await;
    assert!(html.contains(r#"src="/static/ds.js""#), "{html}");
}

#[tokio::test]
async fn the_default_is_the_datastar_cdn_bundle() {
    if std::env::var_os("DSTAR_CLIENT_SRC").is_some()
        || std::env::var_os("DSTAR_CLIENT_FILE").is_some()
    {
        return;
    }
    assert_eq!(dstar::page::client_src(), dstar::page::DEFAULT_CLIENT_SRC);
    assert!(dstar::page::DEFAULT_CLIENT_SRC.contains("datastar@v1.0.4/"));
    // the CDN script is pinned by its hash (the hash itself is checked against the real bundle
    // in the browser tests)
    let (_, _, html) = get(dstar::App::empty().page::<Home>().build(), "/home").await;
    let tag = format!(
        r#"<script type="module" src="{}" integrity="{}" crossorigin="anonymous"></script>"#,
        dstar::page::DEFAULT_CLIENT_SRC,
        dstar::page::DEFAULT_CLIENT_INTEGRITY
    );
    assert!(html.contains(&tag), "{html}");
}
