//! Six versions of the counter's `increment` endpoint, for `bench/load.sh`:
//!
//! - `POST /dstar/increment`: dstar's `Signals` extractor and `Sse` batch;
//! - `POST /page/_event/increment`: the same handler as a `#[dstar::page]` event (the page layer);
//! - `POST /app/page/_event/increment`: the same page inside `dstar::App` with its default layers
//!   (cross-origin check, compression), as its own page at `/app/page` (not nested: nesting is
//!   axum's cost, not the layers');
//! - `POST /sdk/increment`: hand-written axum + the `datastar` 0.4.1 SDK;
//! - `POST /ceiling/increment`: the same bytes, precomputed, with the same response headers (the
//!   ceiling);
//! - `POST /read/increment`: the ceiling after reading the request body frame by frame: what
//!   hyper charges any handler that reads its body, apart from dstar's work.
//!
//! Each reads `{"count":41}`, patches the signal `count` to 42 and patches the `#history` span.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::response::sse::{Event, Sse as AxumSse};
use dstar::prelude::*;
use serde::Deserialize;
use std::convert::Infallible;

#[derive(Deserialize)]
struct Counter {
    count: i64,
}

/// What every dstar version sends for a new count.
fn counted(sse: &mut Sse, count: i64) {
    sse.patch_signals(json!({ "count": count }))
        .patch_elements(html! { span #history { "Last: +1 → " (count) } });
}

async fn with_dstar(Signals(c): Signals<Counter>) -> Sse {
    let mut sse = Sse::with_capacity(256);
    counted(&mut sse, c.count + 1);
    sse
}

async fn with_sdk(
    datastar::axum::ReadSignals(c): datastar::axum::ReadSignals<Counter>,
) -> impl IntoResponse {
    use datastar::prelude::{PatchElements, PatchSignals};
    let count = c.count + 1;
    let signals = PatchSignals::new(format!("{{\"count\":{count}}}"));
    let history = PatchElements::new(format!("<span id=\"history\">Last: +1 → {count}</span>"));
    let events: [Result<Event, Infallible>; 2] = [
        Ok(signals.write_as_axum_sse_event()),
        Ok(history.write_as_axum_sse_event()),
    ];
    AxumSse::new(futures_util::stream::iter(events))
}

/// The counter as a page, `$name` at `$path`: one definition for both pages below.
macro_rules! counter_page {
    ($(#[$doc:meta])* $name:ident, $path:tt) => {
        $(#[$doc])*
        #[derive(Default)]
        pub struct $name;

        #[dstar::page($path)]
        impl $name {
            fn render(&self) -> Markup {
                html! { button data-on:click=(event("increment")) { "+1" } }
            }

            #[event]
            async fn increment(sse: &mut Sse, Signals(c): Signals<Counter>) {
                counted(sse, c.count + 1);
            }
        }
    };
}

counter_page!(
    /// The counter as a page: its event goes through the page layer.
    Page,
    "/page"
);
counter_page!(
    /// The same page, served by `dstar::App` with its default layers.
    AppPage,
    "/app/page"
);

/// The exact bytes the dstar handler sends for `{"count":41}`.
fn precomputed() -> bytes::Bytes {
    let mut sse = Sse::new();
    counted(&mut sse, 42);
    sse.into_bytes()
}

/// The same head as every dstar version: what dstar sends with an `Sse`.
fn sse_head() -> [(header::HeaderName, HeaderValue); 3] {
    [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::CONNECTION, HeaderValue::from_static("keep-alive")),
    ]
}

/// The six endpoints, listed for start-up.
pub fn routes() -> dstar::Routes {
    let bytes = precomputed();
    let ceiling = move || {
        let bytes = bytes.clone();
        async move { (sse_head(), bytes) }
    };
    let bytes = precomputed();
    // the ceiling's answer once the body is read frame by frame and dropped: hyper's own cost of
    // a request body, with no extractor's (axum's `Bytes` collects through a limit and a buffer)
    let read = move |req: axum::extract::Request| {
        let bytes = bytes.clone();
        async move {
            use futures_util::StreamExt as _;
            let mut body = req.into_body().into_data_stream();
            while body.next().await.is_some() {}
            (sse_head(), bytes)
        }
    };
    use dstar::page::Page as _;
    // the page bare, and the same page inside `App`
    let page_listing = dstar::App::empty().page::<Page>().routes();
    let app = dstar::App::empty().page::<AppPage>();
    let app_listing = app.routes();
    dstar::routes! {
        "/dstar/increment" => post(with_dstar),
        "/sdk/increment" => post(with_sdk),
        "/ceiling/increment" => post(ceiling),
        "/read/increment" => post(read),
    }
    .merge(dstar::Routes::from_router(Page::routes(), page_listing))
    .merge(dstar::Routes::from_router(app.build(), app_listing))
}

/// The six endpoints' router.
pub fn app() -> Router {
    routes().into_parts().0
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    dstar::Server::from_routes(routes()).run().await
}
