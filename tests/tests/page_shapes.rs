//! Every supported page and handler shape, over HTTP: path parameters, state, extractors,
//! `authorize`, `mount` short-circuits, `Result` handlers, sync handlers, custom names and methods.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::response::{IntoResponse, Redirect};
use dstar::event::{Access, RequestHead};
use dstar::prelude::*;
use dstar::test::parse_events;
use dstar_tests::send;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Clone, Default)]
struct Db {
    hits: Arc<AtomicI64>,
}

#[derive(serde::Deserialize)]
struct Step {
    by: i64,
}

struct Workspace {
    slug: String,
}

#[dstar::page("/w/{slug}/counter", state = Db, title = "Workspace")]
impl Workspace {
    async fn mount(Path(slug): Path<String>) -> Result<Self, impl IntoResponse> {
        match slug.as_str() {
            "missing" => Err((StatusCode::NOT_FOUND, "no such workspace").into_response()),
            "old" => Err(Redirect::to("/w/new/counter").into_response()),
            _ => Ok(Workspace { slug }),
        }
    }

    fn render(&self) -> Markup {
        html! { h1 { (self.slug) } button data-on:click=(event("add")) {} }
    }

    fn authorize(head: &RequestHead, access: Access<WorkspaceEvent>) -> bool {
        // `add` needs a header; the other events are open
        access != Access::Event(WorkspaceEvent::Add) || head.headers.contains_key("x-member")
    }

    /// State, path, headers and typed signals together; `&mut Sse` in the middle.
    #[event]
    async fn add(
        State(db): State<Db>,
        sse: &mut Sse,
        Path(slug): Path<String>,
        headers: HeaderMap,
        Signals(step): Signals<Step>,
    ) {
        let total = db.hits.fetch_add(step.by, Ordering::SeqCst) + step.by;
        let who = headers["x-member"].to_str().unwrap_or("?");
        sse.patch_signals(json!({ "total": total, "slug": slug, "who": who }));
    }

    /// A handler may fail: events before the error are kept, the error is reported.
    #[event]
    async fn fail(sse: &mut Sse) -> Result<(), String> {
        sse.patch_signals(json!({ "before": true }));
        Err("the database is down".into())
    }

    /// Sync handlers work too, and names and methods can be chosen.
    #[event(name = "wipe-all", method = "delete")]
    fn wipe(sse: &mut Sse, Signals(s): Signals) {
        sse.patch_signals(json!({ "wiped": s.len() }));
    }

    /// No `Sse`: the response is an empty event stream.
    #[event]
    async fn ping() {}
}

/// A page without `mount` is built with `Default`.
#[derive(Default)]
struct Plain;

#[dstar::page("/")]
impl Plain {
    fn render(&self) -> Markup {
        html! { p { "root" } }
    }
}

/// A page whose `mount` fails with plain text, or with a status of its own.
struct Report;

#[dstar::page("/report/{kind}")]
impl Report {
    async fn mount(Path(kind): Path<String>) -> Result<Self, String> {
        match kind.as_str() {
            "ok" => Ok(Report),
            _ => Err(format!(
                "report `{kind}` failed: connection refused (db:5432)"
            )),
        }
    }

    fn render(&self) -> Markup {
        html! { p { "report" } }
    }
}

struct Gone;

#[dstar::page("/gone")]
impl Gone {
    fn mount() -> Result<Self, StatusCode> {
        Err(StatusCode::GONE)
    }

    fn render(&self) -> Markup {
        html! {}
    }
}

fn app() -> axum::Router {
    dstar::App::empty()
        .page::<Workspace>()
        .page::<Report>()
        .page::<Gone>()
        .page::<Plain>()
        .state(Db::default())
        .build()
}

async fn call(req: Request<Body>) -> (StatusCode, String, axum::http::HeaderMap) {
    let (res, body) = send(app(), req).await;
    (
        res.status(),
        String::from_utf8_lossy(&body).into_owned(),
        res.headers().clone(),
    )
}

fn post(path: &str) -> axum::http::request::Builder {
    Request::post(path).header("content-type", "application/json")
}

#[tokio::test]
async fn path_parameters_reach_mount_and_handlers() {
    let (status, html, _) =
        call(Request::get("/w/acme/counter").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<title>Workspace</title>"));
    assert!(html.contains("<h1>acme</h1>"));
    let req = post("/w/acme/counter/_event/add")
        .header("x-member", "ann")
        .body(Body::from(r#"{"by":5}"#))
        .unwrap();
    let (status, body, _) = call(req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let events = parse_events(body.as_bytes());
    assert_eq!(
        events[0].lines("signals"),
        [r#"{"slug":"acme","total":5,"who":"ann"}"#]
    );
}

#[tokio::test]
async fn mount_can_answer_instead_of_rendering() {
    let (status, body, _) = call(
        Request::get("/w/missing/counter")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::NOT_FOUND, "no such workspace")
    );
    let (status, _, headers) =
        call(Request::get("/w/old/counter").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/w/new/counter");
}

#[tokio::test]
async fn a_failing_mount_answers_with_its_errors_status_never_200() {
    let (status, body, headers) =
        call(Request::get("/report/ok").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["cache-control"], "private, no-cache");
    assert!(body.contains("<p>report</p>"));
    // a String error is a failure: 500, logged; its text only in debug builds (tests are debug)
    let (status, body, _) = call(Request::get("/report/sales").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        body,
        "internal server error: report `sales` failed: connection refused (db:5432)"
    );
    // an error type with a status answers with it
    let (status, _, _) = call(Request::get("/gone").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::GONE);
}

#[tokio::test]
async fn authorize_runs_before_the_handler_and_can_refuse() {
    let req = post("/w/acme/counter/_event/add")
        .body(Body::from(r#"{"by":1}"#))
        .unwrap();
    let (status, body, _) = call(req).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    // refused before the signals were read: even malformed ones get the 403
    let req = post("/w/acme/counter/_event/add")
        .body(Body::from("{"))
        .unwrap();
    assert_eq!(call(req).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn handler_errors_keep_earlier_events_and_show_in_the_console_in_debug() {
    let (status, body, _) = call(
        post("/w/a/counter/_event/fail")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let events = parse_events(body.as_bytes());
    assert_eq!(events[0].lines("signals"), [r#"{"before":true}"#]);
    if cfg!(debug_assertions) {
        let script = events[1].value("elements").unwrap();
        assert_eq!(
            script,
            r#"<script data-effect="el.remove()">console.error("[dstar] Workspace/fail: the database is down")</script>"#
        );
    } else {
        assert_eq!(events.len(), 1);
    }
}

#[tokio::test]
async fn custom_names_methods_and_sync_handlers() {
    let query = "%7B%22a%22%3A1%2C%22b%22%3A2%7D";
    let req = Request::delete(format!("/w/a/counter/_event/wipe-all?datastar={query}"))
        .body(Body::empty())
        .unwrap();
    let (status, body, _) = call(req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        parse_events(body.as_bytes())[0].lines("signals"),
        [r#"{"wiped":2}"#]
    );
    // the declared method only
    let (status, _, _) = call(
        post("/w/a/counter/_event/wipe-all")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        WorkspaceEvent::WipeAll.action().to_string(),
        "@delete(location.pathname.replace(/^\\/+/, '/').replace(/\\/+$/, '') + '/_event/wipe-all')"
    );
}

#[tokio::test]
async fn a_handler_without_sse_answers_an_empty_stream() {
    let (status, body, headers) = call(
        post("/w/a/counter/_event/ping")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/event-stream");
    assert!(body.is_empty());
}

#[tokio::test]
async fn a_root_page_uses_default_and_its_events_live_under_slash_event() {
    let (status, html, _) = call(Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<p>root</p>"));
    let (status, body, _) = call(post("/_event/x").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        "unknown event `x` on page `Plain`; events here: (none)"
    );
}

#[test]
fn a_missing_state_is_a_clear_start_up_error() {
    let err = dstar::App::empty()
        .page::<Workspace>()
        .try_build()
        .unwrap_err();
    assert!(err.contains("page `Workspace` needs state"), "{err}");
    assert!(err.contains("Db"), "{err}");
}

#[tokio::test]
async fn unknown_events_under_path_parameters_and_the_root_page_are_404_with_the_list() {
    // unknown events are a catch-all under each page's `_event`, path parameters included
    let (status, text, _) = call(
        post("/w/acme/counter/_event/ad")
            .body(Body::from("{}"))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        text.starts_with("unknown event `ad` on page `Workspace`; events here: "),
        "{text}"
    );
    assert!(text.contains("add"), "{text}");
    let (status, text, _) = call(post("/_event/nope").body(Body::from("{}")).unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        text.starts_with("unknown event `nope` on page `Plain`"),
        "{text}"
    );
    // a path under no page is the router's plain 404
    let (status, text, _) = call(post("/nowhere/_event/x").body(Body::from("{}")).unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!text.contains("unknown event"), "{text}");
}
