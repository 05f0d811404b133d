//! Long-lived page streams: the loop `#[dstar::page]` owns, message sources, [`PubSub`], per-tab
//! stream deduplication ([`StreamRegistry`]), shutdown and live-stream statistics.
//!
//! A page declares how to subscribe and how to turn each message into patches:
//!
//! ```ignore
//! async fn subscribe(State(app): State<App>) -> Subscription<Tick> { app.pubsub.subscribe("ticker") }
//! async fn on_message(sse: &mut Sse, tick: Tick) { sse.patch_signals(json!({ "tick": tick.0 })); }
//! ```
//!
//! The loop waits for a message, a liveness check (`idle_check`, default 30 s), a takeover by a
//! newer stream of the same tab, or shutdown. Nothing runs in the background per stream: the loop
//! is the response body's future, so a client that goes away drops it, with its subscription (the
//! liveness checks come from one clock per period, see `sse/clock.rs`).
//!
//! Files: the loop as a function in `run.rs`; what a reconnect says in `reconnect.rs`; where messages come from in `source.rs` and
//! `pubsub/`; what else the loop waits for in `wake.rs`; how a stream ends in `end.rs`; what
//! `on_message` returns in `outcome.rs`; per-tab deduplication in `registry.rs` and `tab.rs`;
//! statistics in `stats.rs`.

mod end;
mod outcome;
mod pubsub;
mod reconnect;
mod registry;
mod run;
mod source;
mod stats;
mod tab;
mod wake;

pub use crate::sse::{shutdown, shutdown_signal};
pub use end::{EndGuard, EndReason};
pub use outcome::MessageOutcome;
#[cfg(feature = "redis")]
pub use pubsub::redis::{PUBLISH_TIMEOUT as REDIS_PUBLISH_TIMEOUT, RedisBackend};
pub use pubsub::{
    Changes, Message, PubSub, PubSubBackend, PublishError, PublishFuture, Published, Subscription,
};
pub(crate) use reconnect::next_stream_number;
pub use reconnect::{Reconnect, build_id, live_reload, previous_stream, stream_id};
pub use registry::dedup_scope;
#[cfg(feature = "redis")]
pub(crate) use registry::set_announce;
pub use registry::{Claim, StreamRegistry};
pub use run::{PageStream, run};
pub(crate) use source::skipping_losses;
pub use source::{Delivery, Source};
pub use stats::{STATS_PATH, StreamStats, stats, stats_route};
pub(crate) use tab::read_tab;
pub use tab::{TAB_HEADER, read_tab_id, start_stream, valid_tab_id};
pub(crate) use wake::{Next, StreamLoop};

use crate::sse::Sse;
use axum::response::IntoResponse;
use std::time::Duration;

/// Claims the per-tab slot of a page stream (numbered `number`), unless the stream this client
/// last had lost its slot to another live tab with the same id: then the page is told to draw a
/// new tab id and reload, instead of evicting the other tab, which would evict it back, forever.
#[allow(clippy::result_large_err)]
pub(crate) fn claim_page_stream(
    scope: Option<String>,
    tab: Option<String>,
    previous: Option<u64>,
    number: u64,
) -> Result<Option<Claim>, axum::response::Response> {
    let (Some(scope), Some(tab)) = (scope, tab) else {
        return Ok(None);
    };
    let registry = StreamRegistry::global();
    if previous.is_some_and(|last| registry.superseded(&scope, &tab, last)) {
        tracing::debug!("dstar: two live tabs share a tab id; the older one draws a new one");
        let mut sse = Sse::new();
        let _ = sse.send(crate::scripts::ExecuteScript::new(
            "sessionStorage.removeItem('_ds_tab'); location.reload()",
        ));
        return Err(sse.into_response());
    }
    Ok(Some(registry.claim_as(&scope, &tab, number)))
}

/// The liveness check interval when a page sets none.
pub const DEFAULT_IDLE_CHECK: Duration = Duration::from_secs(30);

#[cfg(test)]
mod tests {
    use tower::ServiceExt;

    #[test]
    fn a_release_stats_refusal_names_no_api() {
        let router: axum::Router = super::stats_route("a long random stats token").unwrap();
        let req = axum::http::Request::get(super::STATS_PATH)
            .header("authorization", "Bearer <script>")
            .body(axum::body::Body::empty())
            .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let refused = crate::error::quietly(|| runtime.block_on(router.oneshot(req)).unwrap());
        crate::error::assert_quiet(refused, 401, "stats token missing or wrong");
    }
}
