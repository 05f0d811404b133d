//! The counter's increment event in process (no sockets), so only user-space work counts:
//! precomputed bytes (the ceiling), dstar's functional core, the same as a `#[dstar::page]`
//! event, and that page inside `dstar::App` with its default layers, also with the
//! `Accept-Encoding` a browser sends (so its answer is compressed).
//!
//! `cargo bench -p dstar --bench page_layer`

use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use dstar::prelude::*;
use tower::ServiceExt;

#[derive(serde::Deserialize)]
struct Counter {
    count: i64,
}

async fn core(Signals(c): Signals<Counter>) -> Sse {
    let count = c.count + 1;
    let mut sse = Sse::with_capacity(256);
    sse.patch_signals(json!({ "count": count }))
        .patch_elements(html! { span #history { "Last: +1 → " (count) } });
    sse
}

#[derive(Default)]
struct Page;

#[dstar::page("/page")]
impl Page {
    fn render(&self) -> Markup {
        html! { button data-on:click=(event("increment")) { "+1" } }
    }

    #[event]
    async fn increment(sse: &mut Sse, Signals(c): Signals<Counter>) {
        let count = c.count + 1;
        sse.patch_signals(json!({ "count": count }))
            .patch_elements(html! { span #history { "Last: +1 → " (count) } });
    }
}

fn request(path: &str) -> Request<Body> {
    let (path, accept) = match path.strip_suffix("#br") {
        // what a browser sends: the event's answer is compressed
        Some(path) => (path, "gzip, deflate, br, zstd"),
        None => (path, "identity"),
    };
    Request::post(path)
        .header("accept-encoding", accept)
        .header("content-type", "application/json")
        .header("datastar-request", "true")
        .header("host", "127.0.0.1:3000")
        .body(Body::from(r#"{"count":41}"#))
        .unwrap()
}

fn bench(c: &mut Criterion) {
    use dstar::page::Page as _;
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let bytes = {
        let mut sse = Sse::new();
        sse.patch_signals(json!({ "count": 42 }))
            .patch_elements(html! { span #history { "Last: +1 → " (42) } });
        sse.into_bytes()
    };
    let ceiling = axum::Router::new().route(
        "/ceiling",
        axum::routing::post(move || {
            let bytes = bytes.clone();
            async move { ([("content-type", "text/event-stream")], bytes) }
        }),
    );
    let core_router = axum::Router::new().route("/core", axum::routing::post(core));
    let page_router: axum::Router = Page::routes();
    let app_router = dstar::App::empty().page::<Page>().build();
    let bare = || {
        dstar::App::empty()
            .page::<Page>()
            .request_spans(false)
            .cross_origin_protection(false)
            .compression(dstar::sse::Compression::off())
    };
    let app_bare = bare().build();
    let page_with_extension: axum::Router = Page::routes().layer(axum::Extension(
        dstar::event::DispatchBase::new("/ds".to_owned()),
    ));
    let mut group = c.benchmark_group("increment");
    for (name, router, path) in [
        ("ceiling", ceiling, "/ceiling"),
        ("core", core_router, "/core"),
        ("page", page_router, "/page/_event/increment"),
        ("page_in_app", app_router.clone(), "/page/_event/increment"),
        (
            "page_in_app_browser",
            app_router,
            "/page/_event/increment#br",
        ),
        ("app_no_layers", app_bare, "/page/_event/increment"),
        (
            "page_extension",
            page_with_extension,
            "/page/_event/increment",
        ),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let response = router.clone().oneshot(request(path)).await.unwrap();
                    assert_eq!(response.status(), 200);
                    axum::body::to_bytes(response.into_body(), 4096)
                        .await
                        .unwrap()
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
