//! Shared components over HTTP: the todo example's drawer on both pages, dispatch with typed
//! arguments, every 4xx, and a component from another crate.

#[allow(dead_code, unreachable_pub)]
#[path = "../../examples/todo.rs"]
mod todo;

use dstar::component::Component;
use dstar::test::{TestClient, assert_patched_element, assert_patched_signals};
use serde_json::json;
use todo::{DetailDrawer, Store};

fn module<C: Component>() -> String {
    dstar::actions::encode_module(C::PATH)
}

fn client() -> TestClient {
    TestClient::new(todo::app(Store::default()).build())
}

#[tokio::test]
async fn both_pages_embed_the_drawer_with_its_event_url() {
    let client = client();
    let m = module::<DetailDrawer>();
    for (path, id) in [("/todos", 1), ("/todos/2", 2)] {
        let page = client.get(path).await;
        page.assert_status(200);
        let html = page.text();
        assert!(html.contains(r#"data-ds-base="/ds""#), "{html}");
        assert!(html.contains("<aside id=\"detail-drawer\""), "{path}");
        // the server knows the dispatch base while it renders: a plain URL, no script per
        // attribute
        assert!(
            html.contains(&format!("@post('/ds/{m}/change_title/{id}')")),
            "{path}: {html}"
        );
        assert!(!html.contains("dataset.dsBase"), "{path}: {html}");
    }
}

#[tokio::test]
async fn dispatch_runs_the_handler_with_the_typed_argument() {
    let client = client();
    let m = module::<DetailDrawer>();
    let r = client
        .post(
            &format!("/ds/{m}/change_title/2"),
            json!({ "title": "Renamed" }),
        )
        .await;
    r.assert_status(200);
    let events = r.events();
    assert_patched_element(&events, "#todo-2-title").contains("Renamed");
    assert_patched_signals(&events, json!({ "saved": true }));
    // both pages now show the new title
    assert!(
        client
            .get("/todos")
            .await
            .text()
            .contains(r#"<span id="todo-2-title">Renamed</span>"#)
    );
    assert!(
        client
            .get("/todos/2")
            .await
            .text()
            .contains(r#"<span id="todo-2-title">Renamed</span>"#)
    );
}

#[tokio::test]
async fn bad_requests_get_a_clear_4xx() {
    let client = client();
    let m = module::<DetailDrawer>();
    let cases = [
        ("/ds/nope/change_title/1", 404, "unknown component"),
        (
            &*format!("/ds/{m}/change_title/%zz"),
            400,
            "not valid percent-encoded UTF-8",
        ),
        (
            &*format!("/ds/{m}/rename/1"),
            404,
            "unknown event `rename` on component",
        ),
        (
            &*format!("/ds/{m}/change_title/abc"),
            400,
            "bad argument `id` = `abc` for `change_title`",
        ),
        (
            &*format!("/ds/{m}/change_title/%FF"),
            400,
            "not valid percent-encoded UTF-8",
        ),
        (
            &*format!("/ds/{m}/change_title"),
            404,
            "takes 1 argument(s) (id), got 0",
        ),
        (
            &*format!("/ds/{m}/change_title/1/2"),
            404,
            "takes 1 argument(s) (id), got 2",
        ),
    ];
    for (path, status, message) in cases {
        let r = client.post(path, json!({ "title": "x" })).await;
        r.assert_status(status);
        assert!(r.text().contains(message), "{path}: {}", r.text());
    }
    // the 404 for an unknown module lists nothing: module names are the app's type paths
    let r = client.post("/ds/nope/x", json!({})).await;
    assert_eq!(r.text(), "unknown component");
    // the wrong method
    let r = client
        .event(
            dstar::axum::http::Method::GET,
            &format!("/ds/{m}/change_title/1"),
            json!({}),
        )
        .await;
    r.assert_status(405);
    // malformed signals, and a handler error that becomes a console.error in debug builds
    client
        .post(&format!("/ds/{m}/change_title/1"), json!({ "title": 5 }))
        .await
        .assert_status(400);
    let r = client
        .post(&format!("/ds/{m}/change_title/99"), json!({ "title": "x" }))
        .await;
    r.assert_status(200);
    if cfg!(debug_assertions) {
        assert!(
            r.text()
                .contains("console.error(\"[dstar] DetailDrawer/change_title: no todo 99\")"),
            "{}",
            r.text()
        );
    }
}

#[tokio::test]
async fn a_component_from_another_crate_is_registered_too() {
    // naming the crate links it, as any use of it in an app would
    let _ = dstar_test_widgets::LikeButton;
    let app = dstar::App::new().state(Store::default());
    let routes: Vec<String> = app
        .routes()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let like = module::<dstar_test_widgets::LikeButton>();
    assert_eq!(like, "dstar_test_widgets-LikeButton");
    assert!(
        routes.contains(&format!("POST /ds/{like}/like/{{post}}")),
        "{routes:?}"
    );
    let client = TestClient::new(app.build());
    let r = client.post(&format!("/ds/{like}/like/7"), json!({})).await;
    assert_patched_signals(&r.events(), json!({ "liked": 7 }));
}

#[tokio::test]
async fn the_dispatch_base_is_configurable_and_the_layout_tells_the_browser() {
    // a child process: the base is process-wide, like the app
    if !dstar_tests::in_child(
        "the_dispatch_base_is_configurable_and_the_layout_tells_the_browser",
        "DSTAR_TEST_BASE_CHILD",
        "1".as_ref(),
    ) {
        return;
    }
    let app = todo::app(Store::default()).prefix("/admin/").build();
    let nested = TestClient::new(dstar::axum::Router::new().nest("/admin", app));
    // the app under /admin: pages and the dispatch route move together
    let html = nested.get("/admin/todos").await.text();
    assert!(html.contains(r#"data-ds-base="/admin/ds""#), "{html}");
    let m = module::<DetailDrawer>();
    assert!(
        html.contains(&format!("@post('/admin/ds/{m}/change_title/1')")),
        "{html}"
    );
    let r = nested
        .post(
            &format!("/admin/ds/{m}/change_title/1"),
            json!({ "title": "Moved" }),
        )
        .await;
    assert_patched_element(&r.events(), "#todo-1-title").contains("Moved");
    // and so do the 404s that say what is unknown
    let r = nested
        .post(&format!("/admin/ds/{m}/nope/1"), json!({}))
        .await;
    r.assert_status(404);
    assert!(
        r.text().contains("unknown event `nope` on component"),
        "{}",
        r.text()
    );
    let r = nested.post("/admin/ds/no-Such/x", json!({})).await;
    r.assert_status(404);
    assert_eq!(r.text(), "unknown component");
    let r = nested.post("/admin/todos/_event/nope", json!({})).await;
    r.assert_status(404);
    assert!(
        r.text().starts_with("unknown event `nope` on page"),
        "{}",
        r.text()
    );
}

#[test]
fn verb_helpers_are_checked_against_the_component_events() {
    let action = dstar_test_widgets::LikeButtonEvent::Like.action();
    assert!(action.to_string().starts_with("@post("), "{action}");
    assert!(
        action
            .to_string()
            .ends_with("+ '/dstar_test_widgets-LikeButton/like')")
    );
}

#[test]
fn arguments_that_a_browser_would_resolve_are_escaped_and_read_back() {
    use dstar::component::encode_arg;
    // `.`/`..` (even percent-encoded) and empty segments would change the route in a browser
    assert_eq!(encode_arg(".."), "~%2E%2E");
    assert_eq!(encode_arg(""), "~");
    assert_eq!(encode_arg("~tilde"), "~~tilde");
}

#[tokio::test]
async fn dot_and_empty_arguments_reach_the_handler_as_they_were() {
    use dstar::axum::http::Method;
    let client = client();
    let m = module::<todo::TodoItem>();
    // a DELETE of todo `..` reaches the handler with that id, not another route: `u64` refuses it
    let r = client
        .event(
            Method::DELETE,
            &format!("/ds/{m}/destroy/{}", dstar::component::encode_arg("..")),
            json!({}),
        )
        .await;
    r.assert_status(400);
    assert!(r.text().contains("`id` = `..`"), "{}", r.text());
}

#[test]
fn arguments_cannot_become_dot_segments() {
    // a "." or ".." argument would be resolved by the browser's URL parser, percent-encoded or
    // not: it travels behind a `~` that the server takes off
    let action = dstar_test_widgets::LikeButton::__dstar_action_like(7).to_string();
    assert!(action.ends_with("/like/7')"), "{action}");
    assert_eq!(dstar::actions::percent_encode(".."), "%2E%2E");
    let action = dstar::component::component_action(
        dstar::actions::Verb::Post,
        "app::Drawer",
        "open",
        &[&"..", &"a/b"],
    );
    assert!(
        action
            .to_string()
            .ends_with("/app-Drawer/open/~%2E%2E/a%2Fb')"),
        "{action}"
    );
}

/// A component whose events need a signed-in user: `authorize` runs before each of them.
pub struct AdminPanel;

static ADMIN_RAN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[dstar::component]
impl AdminPanel {
    /// The panel's one button.
    pub fn view() -> dstar::Markup {
        dstar::html! { button data-on:click=(event("purge", 7u32)) { "Purge" } }
    }

    fn authorize(
        head: &dstar::event::RequestHead,
        access: dstar::event::Access<AdminPanelEvent>,
    ) -> Result<(), (axum::http::StatusCode, &'static str)> {
        match (head.headers.get("x-user").map(|v| v.as_bytes()), access) {
            (Some(b"admin"), _) => Ok(()),
            _ => Err((axum::http::StatusCode::FORBIDDEN, "admins only")),
        }
    }

    #[event]
    async fn purge(sse: &mut dstar::Sse, #[arg] id: u32) {
        ADMIN_RAN.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        sse.patch_signals(json!({ "purged": id }));
    }
}

#[tokio::test]
async fn component_events_run_the_components_authorize_first() {
    use std::sync::atomic::Ordering;
    let app = dstar::App::empty().component::<AdminPanel>().build();
    let module = dstar::actions::encode_module(<AdminPanel as dstar::component::Component>::PATH);
    let path = format!("/ds/{module}/purge/7");
    let request = |user: Option<&str>, path: &str| {
        let mut b = axum::http::Request::post(path).header("content-type", "application/json");
        if let Some(user) = user {
            b = b.header("x-user", user);
        }
        b.body(axum::body::Body::from("{}")).unwrap()
    };
    for user in [None, Some("guest")] {
        let (res, body) = dstar_tests::send(app.clone(), request(user, &path)).await;
        assert_eq!(
            (res.status().as_u16(), &body[..]),
            (403, &b"admins only"[..])
        );
    }
    // refused before the URL arguments are even parsed
    let bad = format!("/ds/{module}/purge/not-a-number");
    let (res, _) = dstar_tests::send(app.clone(), request(None, &bad)).await;
    assert_eq!(res.status(), 403);
    assert_eq!(ADMIN_RAN.load(Ordering::SeqCst), 0, "a refused event ran");
    let (res, body) = dstar_tests::send(app, request(Some("admin"), &path)).await;
    assert_eq!(res.status(), 200);
    assert!(
        std::str::from_utf8(&body)
            .unwrap()
            .contains(r#"{"purged":7}"#)
    );
    assert_eq!(ADMIN_RAN.load(Ordering::SeqCst), 1);
}
