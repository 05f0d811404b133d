//! The counter's increment event in process (no sockets), so only user-space work counts: the
//! handlers of `examples/load-server.rs` (precomputed bytes, the ceiling; dstar's functional core;
//! the same as a `#[dstar::page]` event), and that page inside `dstar::App` with its default layers, also with the
//! `Accept-Encoding` a browser sends (so its answer is compressed).
//!
//! `cargo bench -p dstar --bench page_layer`

use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use tower::ServiceExt;

// the load benchmark's own handlers, so both benchmarks measure the same code
#[allow(dead_code, unreachable_pub)]
#[path = "../../examples/load-server.rs"]
mod load;

use load::Page;

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
    // the ceiling, the core and the bare page, as bench/load.sh serves them
    let load_router = load::app();
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
        ("ceiling", load_router.clone(), "/ceiling/increment"),
        ("core", load_router.clone(), "/dstar/increment"),
        ("page", load_router, "/page/_event/increment"),
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
