//! The reconnect catch-up promise, with the race forced: a message published while a reconnect's
//! catch-up render runs (after `mount` read the state, before the render is sent) is not missed.
//! The stream subscribes before it renders, so the message waits in the subscription and
//! arrives right after the (stale) render.
//!
//! `mount` holds at a barrier on the reconnect: the test changes the state and publishes while
//! it holds, then lets it go. No sleeps: each step waits on the one before.

use dstar::axum::extract::State;
use dstar::prelude::*;
use dstar::test::{SseEvent, TestClient, assert_patched_element, assert_patched_signals};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

const WAIT: Duration = Duration::from_secs(5);

/// Where `mount` waits, once, when armed: it says it got there, then waits to be let go.
#[derive(Default)]
struct Barrier {
    armed: AtomicBool,
    reached: Notify,
    release: Notify,
}

impl Barrier {
    /// In `mount`, after it read the state: holds there if armed (only the first mount after
    /// arming, which is the reconnect's catch-up render).
    async fn hold(&self) {
        if self.armed.swap(false, Ordering::SeqCst) {
            self.reached.notify_one();
            self.release.notified().await;
        }
    }
}

#[derive(Clone, Default)]
struct Race {
    pubsub: PubSub,
    score: Arc<AtomicU64>,
    barrier: Arc<Barrier>,
}

/// A live page: every change renders it again.
struct LiveScore {
    score: u64,
}

#[dstar::page("/live", state = Race, live = "score", frame = "1ms")]
impl LiveScore {
    async fn mount(State(race): State<Race>) -> Self {
        let score = race.score.load(Ordering::SeqCst);
        race.barrier.hold().await;
        LiveScore { score }
    }

    fn render(&self) -> Markup {
        html! { p #score data-init=(connect()) { "score " (self.score) } }
    }

    fn pubsub(race: &Race) -> PubSub {
        race.pubsub.clone()
    }
}

/// The new score, as published.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Scored(u64);

/// A page with its own messages: each becomes a signal patch.
struct MessageScore {
    score: u64,
}

#[dstar::page("/messages", state = Race)]
impl MessageScore {
    async fn mount(State(race): State<Race>) -> Self {
        let score = race.score.load(Ordering::SeqCst);
        race.barrier.hold().await;
        MessageScore { score }
    }

    fn render(&self) -> Markup {
        html! { p #score data-signals:score=(self.score) data-init=(connect()) { (self.score) } }
    }

    async fn subscribe(State(race): State<Race>) -> Subscription<Scored> {
        race.pubsub.subscribe("score")
    }

    async fn on_message(sse: &mut Sse, scored: Scored) {
        sse.patch_signals(json!({ "score": scored.0 }));
    }
}

fn app(race: &Race) -> axum::Router {
    dstar::App::empty()
        .page::<LiveScore>()
        .page::<MessageScore>()
        .state(race.clone())
        .build()
}

/// Reconnects to `path` (a stream id of this process: the catch-up render runs) with `mount`
/// held at the barrier; while it holds, sets the score to 2 and runs `publish`; then lets it go.
/// Returns the stream and its catch-up render (which shows score 1: read before the change).
async fn reconnect_racing_a_publish<P: Future<Output = ()>>(
    race: &Race,
    client: &TestClient,
    path: &str,
    publish: impl FnOnce() -> P,
) -> (dstar::test::TestStream, Vec<SseEvent>) {
    race.score.store(1, Ordering::SeqCst);
    race.barrier.armed.store(true, Ordering::SeqCst);
    let open = client.reconnect(path, json!({ "tabId": "race" }), dstar::stream::stream_id());
    tokio::pin!(open);
    // drive the request until mount holds (the response comes only after the catch-up render)
    // a page stream renders its catch-up before it answers; a live page's stream answers at once
    // and its shared render catches it up, in the render's own task: either way, mount holds
    let mut opened = None;
    tokio::select! {
        stream = &mut open => opened = Some(stream),
        () = race.barrier.reached.notified() => {}
        () = tokio::time::sleep(WAIT) => panic!("mount never reached the barrier"),
    }
    if opened.is_some() {
        tokio::time::timeout(WAIT, race.barrier.reached.notified())
            .await
            .expect("the shared render's mount reached the barrier");
    }
    // mount read score 1 and holds; the request is not polled meanwhile
    race.score.store(2, Ordering::SeqCst);
    publish().await;
    race.barrier.release.notify_one();
    let mut stream = match opened {
        Some(stream) => stream,
        None => tokio::time::timeout(WAIT, open)
            .await
            .expect("the stream opened once mount was let go"),
    };
    assert_eq!(stream.status, 200);
    let catch_up = stream.next_events(1, WAIT).await;
    (stream, catch_up)
}

#[tokio::test]
async fn a_live_page_hears_a_change_published_during_its_catch_up_render() {
    let race = Race::default();
    let client = TestClient::new(app(&race));
    let (mut stream, catch_up) = reconnect_racing_a_publish(&race, &client, "/live", || async {
        race.pubsub.publish("score", ()).await.unwrap();
    })
    .await;
    // the catch-up render is stale (mount read the score before it changed), and the change is
    // not lost: the shared render renders again with it at once, and a stream that has not yet
    // sent the stale frame skips straight to the latest (a slow reader gets the latest frame)
    let first = assert_patched_element(&catch_up, "#ds-page").html.clone();
    if first.contains("score 1") {
        let next = stream.next_events(1, WAIT).await;
        assert_patched_element(&next, "#ds-page").contains("score 2");
    } else {
        assert!(first.contains("score 2"), "{first}");
    }
}

#[tokio::test]
async fn a_page_s_messages_published_during_its_catch_up_render_arrive_after_it() {
    let race = Race::default();
    let client = TestClient::new(app(&race));
    let (mut stream, catch_up) =
        reconnect_racing_a_publish(&race, &client, "/messages", || async {
            race.pubsub.publish("score", Scored(2)).await.unwrap();
        })
        .await;
    assert_patched_element(&catch_up, "#ds-page").contains(r#"data-signals:score="1""#);
    let next = stream.next_events(1, WAIT).await;
    assert_patched_signals(&next, json!({ "score": 2 }));
}
