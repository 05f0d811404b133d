//! Live pages (fat morph): a page that names its topic is rendered again on every change, at
//! most once per frame, and only its root is sent. Uses the leaderboard example.

#[allow(dead_code, unreachable_pub)]
#[path = "../../examples/leaderboard.rs"]
mod leaderboard;

use dstar::test::{SseEvent, TestClient};
use leaderboard::{Board, Leaderboard};
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);

fn app(board: &Board) -> axum::Router {
    dstar::App::empty()
        .page::<Leaderboard>()
        .state(board.clone())
        .build()
}

/// The scores in a rendered table, in row order.
fn scores(event: &SseEvent) -> Vec<u64> {
    let html = event.value("elements").expect("an element patch");
    html.split(r#"<td class="score">"#)
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap().parse().unwrap())
        .collect()
}

#[tokio::test]
async fn a_burst_renders_at_most_once_per_frame_and_the_last_render_has_the_final_state() {
    let board = Board::default();
    let client = TestClient::new(app(&board));
    let total: u64 = board.ranking().iter().map(|p| p.score).sum();
    let mut stream = client
        .stream("/leaderboard", json!({ "tabId": "burst" }))
        .await;
    // one change: one render of the page root, with the layout left alone
    board.bump().await.unwrap();
    let events = stream.next_events(1, WAIT).await;
    let html = events[0].value("elements").unwrap();
    assert_eq!(events[0].event, "datastar-patch-elements");
    assert!(
        html.starts_with(r#"<div id="ds-page" style="display:contents">"#),
        "{html}"
    );
    assert!(!html.contains("<body") && !html.contains("<head"));
    assert_eq!(scores(&events[0]).len(), 100);
    assert_eq!(scores(&events[0]).iter().sum::<u64>(), total + 10);
    // a burst of 50 changes, faster than a frame: coalesced, and nothing lost at its end
    for _ in 0..50 {
        board.bump().await.unwrap();
    }
    let mut renders = stream.next_events(1, WAIT).await;
    while scores(renders.last().unwrap()).iter().sum::<u64>() < total + 510 {
        renders.extend(stream.next_events(1, WAIT).await);
    }
    assert!(
        renders.len() <= 2,
        "{} renders for one burst",
        renders.len()
    );
    let last = scores(renders.last().unwrap());
    assert_eq!(
        last.iter().sum::<u64>(),
        total + 510,
        "the last render has every change"
    );
    assert!(last.windows(2).all(|w| w[0] >= w[1]), "ranked: {last:?}");
}

#[tokio::test]
async fn live_pages_deduplicate_per_tab_and_catch_up_on_reconnect() {
    let board = Board::default();
    let client = TestClient::new(app(&board));
    let mut first = client
        .stream("/leaderboard", json!({ "tabId": "live-tab" }))
        .await;
    board.bump().await.unwrap();
    first.next_events(1, WAIT).await;
    let id = first.last_event_id().unwrap();
    // the same tab again (a reload): the older stream ends
    let mut second = client
        .reconnect("/leaderboard", json!({ "tabId": "live-tab" }), &id)
        .await;
    assert!(first.until_end(WAIT).await.is_some());
    // a reconnect starts with the current table, before any change
    let total: u64 = board.ranking().iter().map(|p| p.score).sum();
    let events = second.next_events(1, WAIT).await;
    assert_eq!(scores(&events[0]).iter().sum::<u64>(), total);
}

#[tokio::test]
async fn the_bump_event_changes_a_score_and_every_live_page_sees_it() {
    let board = Board::default();
    let client = TestClient::new(app(&board));
    let mut a = client.stream("/leaderboard", json!({ "tabId": "a" })).await;
    let mut b = client.stream("/leaderboard", json!({ "tabId": "b" })).await;
    client
        .post("/leaderboard/_event/bump", json!({}))
        .await
        .assert_status(200);
    let total: u64 = board.ranking().iter().map(|p| p.score).sum();
    for stream in [&mut a, &mut b] {
        let events = stream.next_events(1, WAIT).await;
        assert_eq!(scores(&events[0]).iter().sum::<u64>(), total);
    }
}

/// A live page whose state is an `Arc` (no `FromRef` impl is possible for it): the page says
/// where its `PubSub` is with a `pubsub` hook.
struct Shop {
    pubsub: dstar::stream::PubSub,
    stock: std::sync::atomic::AtomicU64,
}

struct Stock {
    count: u64,
}

#[dstar::page("/stock", state = std::sync::Arc<Shop>, live = ["stock", "prices"], frame = "5ms")]
impl Stock {
    fn mount(
        dstar::axum::extract::State(shop): dstar::axum::extract::State<std::sync::Arc<Shop>>,
    ) -> Self {
        Stock {
            count: shop.stock.load(std::sync::atomic::Ordering::SeqCst),
        }
    }

    fn render(&self) -> dstar::Markup {
        dstar::html! { p #stock data-init=(connect()) { (self.count) } }
    }

    fn pubsub(shop: &std::sync::Arc<Shop>) -> dstar::stream::PubSub {
        shop.pubsub.clone()
    }
}

#[tokio::test]
async fn a_live_page_with_an_arc_state_names_its_pubsub_and_hears_every_topic() {
    let shop = std::sync::Arc::new(Shop {
        pubsub: dstar::stream::PubSub::new(),
        stock: std::sync::atomic::AtomicU64::new(0),
    });
    let app = dstar::App::empty()
        .page::<Stock>()
        .state(shop.clone())
        .build();
    let client = TestClient::new(app);
    let mut stream = client.stream("/stock", json!({})).await;
    for (topic, count) in [("stock", 5u64), ("prices", 9)] {
        shop.stock.store(count, std::sync::atomic::Ordering::SeqCst);
        shop.pubsub.publish(topic, ()).await.unwrap();
        let events = stream.next_events(1, WAIT).await;
        let html = events[0].value("elements").unwrap();
        assert!(html.contains(r#"<p id="stock" data-init="#), "{html}");
        assert!(html.contains(&format!(">{count}</p>")), "{topic}: {html}");
    }
}
