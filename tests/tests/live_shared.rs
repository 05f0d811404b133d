//! Live pages render once per change for everyone who sees the same thing: the scope comes from
//! `mount`'s extractor types (or the page's `render_key`), the shared render's bytes go to every
//! stream as they are, each viewer's `authorize` runs before a frame is handed over, and a slow
//! reader gets the latest frame, not a queue.
//!
//! The streams here are read frame by frame from the page's own router (no compression layer),
//! so the bytes each stream is handed can be compared, allocation and all.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use dstar::axum::extract::{Path, State};
use dstar::event::RequestHead;
use dstar::page::Page;
use dstar::prelude::*;
use http_body_util::BodyExt as _;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower::ServiceExt as _;

const WAIT: Duration = Duration::from_secs(5);

/// The state every page here reads: a counter that changes, and how many renders each page made.
#[derive(Clone, Default)]
struct Arena {
    pubsub: PubSub,
    count: Arc<Mutex<u64>>,
    renders: Arc<Mutex<HashMap<String, usize>>>,
    banned: Arc<Mutex<HashSet<String>>>,
    /// Held by a test, it holds `Quiet`'s render (a slow database, say).
    hold: Arc<tokio::sync::Mutex<()>>,
}

impl Arena {
    fn rendered(&self, what: impl Into<String>) {
        *self.renders.lock().unwrap().entry(what.into()).or_default() += 1;
    }

    fn renders(&self, what: &str) -> usize {
        self.renders.lock().unwrap().get(what).copied().unwrap_or(0)
    }

    fn count(&self) -> u64 {
        *self.count.lock().unwrap()
    }

    async fn bump(&self) {
        *self.count.lock().unwrap() += 1;
        self.pubsub.publish("arena", ()).await.unwrap();
    }
}

impl axum::extract::FromRef<Arena> for PubSub {
    fn from_ref(arena: &Arena) -> PubSub {
        arena.pubsub.clone()
    }
}

/// `mount` reads only `State`: one render for every viewer. Its `authorize` refuses a banned
/// viewer (named by the `x-user` header).
struct Board {
    count: u64,
}

#[dstar::page("/board", state = Arena, live = "arena", frame = "1ms")]
impl Board {
    async fn mount(State(arena): State<Arena>) -> Self {
        arena.rendered("board");
        Board {
            count: arena.count(),
        }
    }

    fn render(&self) -> Markup {
        html! { p #count data-init=(connect()) { "count " (self.count) } }
    }

    fn authorize(
        head: &RequestHead,
        State(arena): State<Arena>,
    ) -> Result<(), axum::response::Redirect> {
        let user = head
            .headers
            .get("x-user")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if arena.banned.lock().unwrap().contains(user) {
            return Err(axum::response::Redirect::to("/signin"));
        }
        Ok(())
    }
}

/// `mount` reads the path: one render per room.
struct Room {
    id: u32,
    count: u64,
}

#[dstar::page("/rooms/{id}", state = Arena, live = "arena", frame = "1ms")]
impl Room {
    async fn mount(State(arena): State<Arena>, Path(id): Path<u32>) -> Self {
        arena.rendered(format!("room {id}"));
        Room {
            id,
            count: arena.count(),
        }
    }

    fn render(&self) -> Markup {
        html! { p #room data-init=(connect()) { "room " (self.id) ", count " (self.count) } }
    }
}

/// `mount` reads the request's headers (a cookie): one render per viewer, each with its own.
struct Greeting {
    name: String,
    count: u64,
}

#[dstar::page("/greeting", state = Arena, live = "arena", frame = "1ms")]
impl Greeting {
    async fn mount(State(arena): State<Arena>, headers: axum::http::HeaderMap) -> Self {
        arena.rendered("greeting");
        let name = headers
            .get("cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|c| c.strip_prefix("name="))
            .unwrap_or("stranger")
            .to_owned();
        Greeting {
            name,
            count: arena.count(),
        }
    }

    fn render(&self) -> Markup {
        html! { p #hello data-init=(connect()) { "hello " (self.name) ", count " (self.count) } }
    }
}

/// `mount` reads a header the types cannot judge, and the page says who shares a render: the
/// viewers of one team.
struct Team {
    team: String,
    count: u64,
}

#[dstar::page("/team", state = Arena, live = "arena", frame = "1ms")]
impl Team {
    async fn mount(State(arena): State<Arena>, headers: axum::http::HeaderMap) -> Self {
        let team = team_of(&headers);
        arena.rendered(format!("team {team}"));
        Team {
            team,
            count: arena.count(),
        }
    }

    fn render(&self) -> Markup {
        html! { p #team data-init=(connect()) { "team " (self.team) ", count " (self.count) } }
    }

    fn render_key(head: &RequestHead) -> String {
        team_of(&head.headers)
    }

    /// Required with `render_key`: only viewers in a team see a team's page.
    fn authorize(head: &RequestHead) -> bool {
        head.headers.contains_key("x-team")
    }
}

fn team_of(headers: &axum::http::HeaderMap) -> String {
    headers
        .get("x-team")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
        .to_owned()
}

fn router<P: Page<State = Arena>>(arena: &Arena) -> axum::Router {
    P::routes().with_state(arena.clone())
}

/// A page stream read frame by frame, as the page's router hands its bytes over.
struct Frames(Body);

impl Frames {
    async fn open(router: &axum::Router, path: &str, headers: &[(&str, &str)]) -> Frames {
        let mut req = Request::post(path).header("content-type", "application/json");
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let res = router
            .clone()
            .oneshot(req.body(Body::from("{}")).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let mut frames = Frames(res.into_body());
        // the stream's id comes first
        let first = frames.next().await.expect("the stream's id");
        assert!(first.starts_with(b"id: "), "{first:?}");
        frames
    }

    /// The next frame's bytes; `None` when the stream ended.
    async fn next(&mut self) -> Option<bytes::Bytes> {
        loop {
            let frame = tokio::time::timeout(WAIT, self.0.frame())
                .await
                .expect("a frame in time")?
                .expect("no body error");
            if let Ok(data) = frame.into_data()
                && &data[..] != b": \n\n"
            {
                return Some(data);
            }
        }
    }

    /// The next frame, as text.
    async fn text(&mut self) -> String {
        String::from_utf8(self.next().await.expect("a frame").to_vec()).unwrap()
    }
}

#[tokio::test]
async fn viewers_of_a_shared_render_receive_identical_bytes_from_one_render() {
    let arena = Arena::default();
    let router = router::<Board>(&arena);
    let mut viewers = Vec::new();
    for user in ["ann", "ben", "cat"] {
        viewers.push(Frames::open(&router, "/board", &[("x-user", user)]).await);
    }
    arena.bump().await;
    let mut frames = Vec::new();
    for viewer in &mut viewers {
        frames.push(viewer.next().await.unwrap());
    }
    let text = std::str::from_utf8(&frames[0]).unwrap();
    assert!(
        text.starts_with("event: datastar-patch-elements\n"),
        "{text}"
    );
    assert!(text.contains("count 1"), "{text}");
    for frame in &frames[1..] {
        assert_eq!(frame, &frames[0], "every viewer gets the same bytes");
        assert_eq!(
            frame.as_ptr(),
            frames[0].as_ptr(),
            "the same bytes, not a copy of them"
        );
    }
    assert_eq!(arena.renders("board"), 1, "one render for three viewers");
    // and once more: one render per change, whoever watches
    arena.bump().await;
    for viewer in &mut viewers {
        assert!(viewer.text().await.contains("count 2"));
    }
    assert_eq!(arena.renders("board"), 2);
}

#[tokio::test]
async fn a_path_keyed_page_renders_once_per_path() {
    let arena = Arena::default();
    let router = router::<Room>(&arena);
    let mut one_a = Frames::open(&router, "/rooms/1", &[]).await;
    let mut one_b = Frames::open(&router, "/rooms/1", &[]).await;
    let mut two = Frames::open(&router, "/rooms/2", &[]).await;
    arena.bump().await;
    let (a, b, c) = (
        one_a.next().await.unwrap(),
        one_b.next().await.unwrap(),
        two.text().await,
    );
    assert_eq!(a.as_ptr(), b.as_ptr(), "room 1's viewers share its render");
    assert!(std::str::from_utf8(&a).unwrap().contains("room 1, count 1"));
    assert!(c.contains("room 2, count 1"), "{c}");
    assert_eq!(arena.renders("room 1"), 1);
    assert_eq!(arena.renders("room 2"), 1);
}

#[tokio::test]
async fn a_per_viewer_mount_still_sees_its_own_cookies() {
    let arena = Arena::default();
    let router = router::<Greeting>(&arena);
    let mut ann = Frames::open(&router, "/greeting", &[("cookie", "name=ann")]).await;
    let mut ben = Frames::open(&router, "/greeting", &[("cookie", "name=ben")]).await;
    arena.bump().await;
    let (to_ann, to_ben) = (ann.text().await, ben.text().await);
    assert!(to_ann.contains("hello ann, count 1"), "{to_ann}");
    assert!(to_ben.contains("hello ben, count 1"), "{to_ben}");
    assert_eq!(arena.renders("greeting"), 2, "one render per viewer");
}

#[tokio::test]
async fn a_render_key_shares_a_render_among_the_viewers_it_names() {
    let arena = Arena::default();
    let router = router::<Team>(&arena);
    let mut red_1 = Frames::open(&router, "/team", &[("x-team", "red")]).await;
    let mut red_2 = Frames::open(&router, "/team", &[("x-team", "red")]).await;
    let mut blue = Frames::open(&router, "/team", &[("x-team", "blue")]).await;
    arena.bump().await;
    let (a, b) = (red_1.next().await.unwrap(), red_2.next().await.unwrap());
    let c = blue.text().await;
    assert_eq!(a.as_ptr(), b.as_ptr());
    assert!(
        std::str::from_utf8(&a)
            .unwrap()
            .contains("team red, count 1")
    );
    assert!(c.contains("team blue, count 1"), "{c}");
    assert_eq!(arena.renders("team red"), 1);
    assert_eq!(arena.renders("team blue"), 1);
}

#[tokio::test]
async fn a_viewer_whose_authorize_starts_refusing_stops_receiving_shared_frames() {
    let arena = Arena::default();
    let router = router::<Board>(&arena);
    let mut ann = Frames::open(&router, "/board", &[("x-user", "ann")]).await;
    let mut ben = Frames::open(&router, "/board", &[("x-user", "ben")]).await;
    arena.bump().await;
    assert!(ann.text().await.contains("count 1"));
    assert!(ben.text().await.contains("count 1"));
    // ben loses access (signed out, say): his next frame is the refusal, then his stream ends
    arena.banned.lock().unwrap().insert("ben".into());
    arena.bump().await;
    assert!(ann.text().await.contains("count 2"));
    let refusal = ben.text().await;
    assert!(
        refusal.contains("/signin") && !refusal.contains("count 2"),
        "{refusal}"
    );
    assert_eq!(ben.next().await, None, "the refused stream ends");
    arena.bump().await;
    assert!(ann.text().await.contains("count 3"));
    assert_eq!(arena.renders("board"), 3, "still one render per change");
}

#[tokio::test]
async fn a_slow_reader_skips_to_the_latest_frame() {
    let arena = Arena::default();
    let router = router::<Board>(&arena);
    let mut fast = Frames::open(&router, "/board", &[]).await;
    let mut slow = Frames::open(&router, "/board", &[]).await;
    // the slow reader reads nothing while five changes are rendered and sent to the fast one
    for n in 1..=5 {
        arena.bump().await;
        assert!(fast.text().await.contains(&format!("count {n}")));
    }
    // it then gets the latest frame only, and the next change right after it
    assert!(slow.text().await.contains("count 5"));
    arena.bump().await;
    assert!(slow.text().await.contains("count 6"));
    assert!(fast.text().await.contains("count 6"));
}

/// The id a page stream of this process sends first, to reconnect with.
fn same_process_id() -> String {
    format!("{}.1", dstar::stream::stream_id())
}

#[tokio::test]
async fn reconnects_catch_up_with_the_shared_render_not_one_render_each() {
    let arena = Arena::default();
    let router = router::<Board>(&arena);
    let mut watching = Frames::open(&router, "/board", &[]).await;
    arena.bump().await;
    assert!(watching.text().await.contains("count 1"));
    assert_eq!(arena.renders("board"), 1);
    // three tabs come back (a deploy, a network drop): each catches up with the latest frame
    let id = same_process_id();
    let mut back = Vec::new();
    for _ in 0..3 {
        let mut tab = Frames::open(&router, "/board", &[("last-event-id", &id)]).await;
        assert!(tab.text().await.contains("count 1"));
        back.push(tab);
    }
    assert_eq!(
        arena.renders("board"),
        1,
        "the catch-ups cost no render of their own"
    );
    // and they follow the next change with everyone else
    arena.bump().await;
    for tab in back.iter_mut().chain([&mut watching]) {
        assert!(tab.text().await.contains("count 2"));
    }
    assert_eq!(arena.renders("board"), 2);
}

#[tokio::test]
async fn a_reconnect_before_any_change_gets_one_fresh_shared_render() {
    let arena = Arena::default();
    let router = router::<Board>(&arena);
    *arena.count.lock().unwrap() = 7;
    let id = same_process_id();
    let mut tab = Frames::open(&router, "/board", &[("last-event-id", &id)]).await;
    assert!(tab.text().await.contains("count 7"));
    assert_eq!(arena.renders("board"), 1);
}

/// `mount` reads every path parameter, those of a router it is nested under too.
struct TenantRoom {
    params: String,
}

#[dstar::page("/rooms/{id}", state = Arena, live = "arena", frame = "1ms")]
impl TenantRoom {
    async fn mount(Path(params): Path<HashMap<String, String>>) -> Self {
        let mut params: Vec<_> = params.into_iter().collect();
        params.sort();
        TenantRoom {
            params: format!("{params:?}"),
        }
    }

    fn render(&self) -> Markup {
        html! { p #params data-init=(connect()) { (self.params) } }
    }
}

#[tokio::test]
async fn a_page_nested_under_a_path_parameter_is_keyed_by_the_whole_uri() {
    let arena = Arena::default();
    let router: axum::Router = axum::Router::new()
        .nest("/{tenant}", TenantRoom::routes())
        .with_state(arena.clone());
    let mut acme = Frames::open(&router, "/acme/rooms/1", &[("host", "example.test")]).await;
    let mut globex = Frames::open(&router, "/globex/rooms/1", &[("host", "example.test")]).await;
    arena.bump().await;
    let (to_acme, to_globex) = (acme.text().await, globex.text().await);
    assert!(
        to_acme.contains("acme") && !to_acme.contains("globex"),
        "{to_acme}"
    );
    assert!(
        to_globex.contains("globex") && !to_globex.contains("acme"),
        "{to_globex}"
    );
}

/// A shared page that checks idle clients every 50 ms, and records how its streams end.
struct Quiet {
    count: u64,
}

static QUIET_ENDS: Mutex<Vec<dstar::stream::EndReason>> = Mutex::new(Vec::new());

#[dstar::page("/quiet", state = Arena, live = "arena", frame = "1ms", idle_check = "50ms")]
impl Quiet {
    async fn mount(State(arena): State<Arena>) -> Self {
        let _held = arena.hold.lock().await;
        Quiet {
            count: arena.count(),
        }
    }

    fn render(&self) -> Markup {
        html! { p #count data-init=(connect()) { "count " (self.count) } }
    }

    fn on_disconnect(reason: dstar::stream::EndReason) {
        QUIET_ENDS.lock().unwrap().push(reason);
    }
}

impl Frames {
    /// The next frame's bytes, liveness comments included.
    async fn raw(&mut self) -> Option<bytes::Bytes> {
        tokio::time::timeout(WAIT, self.0.frame())
            .await
            .expect("a frame in time")
            .map(|frame| frame.expect("no body error").into_data().unwrap())
    }
}

#[tokio::test]
async fn idle_viewers_of_a_shared_render_check_their_clients_and_frames_still_come() {
    let arena = Arena::default();
    let router = router::<Quiet>(&arena);
    let mut viewers = [
        Frames::open(&router, "/quiet", &[]).await,
        Frames::open(&router, "/quiet", &[]).await,
    ];
    // no change: every viewer writes a liveness comment once a period passed without a frame
    for viewer in &mut viewers {
        for _ in 0..2 {
            assert_eq!(viewer.raw().await.as_deref(), Some(&b": \n\n"[..]));
        }
    }
    arena.bump().await;
    for viewer in &mut viewers {
        assert!(viewer.text().await.contains("count 1"));
    }
    // a render that hangs (its database is slow) does not stop the checks
    let held = arena.hold.lock().await;
    arena.bump().await;
    for viewer in &mut viewers {
        for _ in 0..2 {
            assert_eq!(viewer.raw().await.as_deref(), Some(&b": \n\n"[..]));
        }
    }
    drop(held);
    for viewer in &mut viewers {
        assert!(viewer.text().await.contains("count 2"));
    }
}

#[tokio::test]
async fn shutdown_ends_every_viewer_of_a_shared_render() {
    // shutdown is for the whole process: run it in a child process of this test binary
    if !dstar_tests::in_child(
        "shutdown_ends_every_viewer_of_a_shared_render",
        "DSTAR_TEST_LIVE_SHUTDOWN_CHILD",
        "1".as_ref(),
    ) {
        return;
    }
    let arena = Arena::default();
    let router = router::<Quiet>(&arena);
    let mut viewers = [
        Frames::open(&router, "/quiet", &[]).await,
        Frames::open(&router, "/quiet", &[]).await,
    ];
    arena.bump().await;
    for viewer in &mut viewers {
        assert!(viewer.text().await.contains("count 1"));
    }
    dstar::sse::shutdown();
    for viewer in &mut viewers {
        assert_eq!(viewer.next().await, None, "the stream ends");
    }
    assert_eq!(
        *QUIET_ENDS.lock().unwrap(),
        [dstar::stream::EndReason::Shutdown; 2]
    );
    assert_eq!(dstar::sse::live_streams(), 0);
}
