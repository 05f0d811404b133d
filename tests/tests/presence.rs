//! Presence: who is on a topic, in one process and across two nodes sharing a real Redis. The
//! Redis tests need `redis-server` (`.ci/run` installs it); they start their own on a free
//! loopback port, without persistence, and stop it.

use dstar::presence::{Member, Presence};
use dstar::stream::{PubSub, Source};
use dstar_tests::{Proc, free_port, wait_port};
use std::process::{Command, Stdio};
use std::time::Duration;
use tokio::time::Instant;

/// Waits (10 s at most) until `check` holds.
async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn ids(members: &[Member<String>]) -> Vec<(&str, &str, usize)> {
    members
        .iter()
        .map(|m| (m.id.as_str(), m.meta.as_str(), m.count))
        .collect()
}

#[tokio::test]
async fn members_join_list_and_leave() {
    let presence = Presence::new(&PubSub::new());
    assert!(presence.list::<String>("notes").is_empty());
    let ada = presence.join("notes", "u1", "Ada");
    let bob = presence.join("notes", "u2", "Bob");
    let elsewhere = presence.join("todos", "u3", "Cy");
    // by join time, then id
    assert_eq!(
        ids(&presence.list("notes")),
        [("u1", "Ada", 1), ("u2", "Bob", 1)]
    );
    assert_eq!(presence.count("notes"), 2);
    assert_eq!(presence.count("todos"), 1);
    assert_eq!((ada.topic(), ada.id()), ("notes", "u1"));
    drop(ada);
    assert_eq!(ids(&presence.list("notes")), [("u2", "Bob", 1)]);
    drop((bob, elsewhere));
    assert_eq!(presence.count("notes"), 0);
    assert_eq!(presence.count("todos"), 0);
}

#[tokio::test]
async fn two_tabs_of_one_user_are_one_member_until_the_last_closes() {
    let presence = Presence::new(&PubSub::new());
    let tab1 = presence.join("notes", "u1", "Ada");
    let tab2 = presence.join("notes", "u1", "Ada");
    assert_eq!(ids(&presence.list("notes")), [("u1", "Ada", 2)]);
    assert_eq!(presence.count("notes"), 1);
    drop(tab1);
    assert_eq!(ids(&presence.list("notes")), [("u1", "Ada", 1)]);
    drop(tab2);
    assert!(presence.list::<String>("notes").is_empty());
}

/// The next change on `live` (5 s at most).
async fn next(live: &mut dstar::stream::Changes) -> Option<()> {
    tokio::time::timeout(Duration::from_secs(5), live.recv_message())
        .await
        .expect("a change within 5 s")
}

#[tokio::test]
async fn a_live_page_of_the_topic_hears_joins_and_leaves() {
    let pubsub = PubSub::new();
    let presence = Presence::new(&pubsub);
    // what a page declared `live = "notes"` listens to
    let mut live = pubsub.changes(&["notes"], Duration::from_millis(1));
    let ada = presence.join("notes", "u1", "Ada");
    assert_eq!(next(&mut live).await, Some(()));
    assert_eq!(presence.count("notes"), 1);
    drop(ada);
    assert_eq!(next(&mut live).await, Some(()));
    assert_eq!(presence.count("notes"), 0);
    // a typed subscriber of the topic skips the notices
    let mut typed = pubsub.subscribe::<String>("notes");
    let _bob = presence.join("notes", "u2", "Bob");
    assert_eq!(next(&mut live).await, Some(()));
    pubsub.publish("notes", "a note".to_owned()).await.unwrap();
    assert_eq!(typed.recv_message().await.as_deref(), Some("a note"));
}

#[tokio::test]
async fn a_stream_holding_a_join_watches_the_list() {
    let presence = Presence::new(&PubSub::new());
    let mut stream = presence
        .join("notes", "u1", "Ada")
        .hold(presence.watch::<String>("notes", Duration::from_millis(1)));
    assert_eq!(stream.joined().id(), "u1");
    let seen = tokio::time::timeout(Duration::from_secs(5), stream.recv_message())
        .await
        .expect("the list within 5 s")
        .unwrap();
    assert_eq!(ids(&seen), [("u1", "Ada", 1)]);
    drop(stream);
    assert_eq!(presence.count("notes"), 0);
}

fn have_redis() -> bool {
    let found = Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "redis-server is missing on CI: .ci/run must install it"
        );
        dstar_tests::skipped("redis-server not installed");
    }
    found
}

fn redis_server(port: u16) -> Proc {
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server starts");
    Proc(child)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// A node: its own runtime (so dropping it is a crash: its tasks end mid-flight and say
/// nothing), a Redis-backed PubSub and a Presence heartbeating every 50 ms.
fn node(url: &str) -> (tokio::runtime::Runtime, PubSub, Presence) {
    let rt = runtime();
    let (pubsub, presence) = rt.block_on(async {
        let pubsub = PubSub::redis_with_key(url, dstar::secret::AppKey::random()).unwrap();
        let presence = Presence::with_heartbeat(&pubsub, Duration::from_millis(50));
        // starts its task (on this runtime) and asks the others for their state
        presence.count("notes");
        (pubsub, presence)
    });
    (rt, pubsub, presence)
}

/// Waits until `live` has had no change for 300 ms.
async fn quiet(live: &mut dstar::stream::Changes) {
    while tokio::time::timeout(Duration::from_millis(300), live.recv_message())
        .await
        .is_ok()
    {}
}

#[test]
fn members_are_shared_across_nodes_and_a_crashed_node_s_expire() {
    if !have_redis() {
        return;
    }
    let port = free_port();
    let _redis = redis_server(port);
    runtime().block_on(wait_port(port));
    let url = format!("redis://127.0.0.1:{port}");
    let (rt_a, pubsub_a, presence_a) = node(&url);
    let (rt_b, pubsub_b, presence_b) = node(&url);
    // A's task runs on A's runtime: its handles are used from B's
    rt_b.block_on(async {
        // B's live page of "notes"
        let mut live_b = pubsub_b.changes(&["notes"], Duration::from_millis(1));

        // a join on A is listed on B, and B's page hears of it
        let ada = presence_a.join("notes", "u1", "Ada");
        until("B lists Ada", || {
            ids(&presence_b.list("notes")) == [("u1", "Ada", 1)]
        })
        .await;
        tokio::time::timeout(Duration::from_secs(5), live_b.recv_message())
            .await
            .expect("B's page hears that Ada joined");

        // a second tab of Ada on B: one member, two tabs, on both nodes
        let ada_on_b = presence_b.join("notes", "u1", "Ada on B");
        until("A counts both tabs", || {
            ids(&presence_a.list("notes")) == [("u1", "Ada", 2)]
        })
        .await;
        drop(ada_on_b);
        until("A counts one tab", || {
            ids(&presence_a.list("notes")) == [("u1", "Ada", 1)]
        })
        .await;

        // a leave on A disappears on B, and B's page hears of it
        quiet(&mut live_b).await;
        drop(ada);
        until("Ada left on B", || presence_b.count("notes") == 0).await;
        tokio::time::timeout(Duration::from_secs(5), live_b.recv_message())
            .await
            .expect("B's page hears that Ada left");

        // A's members expire on B once A is gone without a word; B's own member stays
        let bob = presence_a.join("notes", "u2", "Bob");
        let _cy = presence_b.join("notes", "u3", "Cy");
        until("B lists Bob and Cy", || presence_b.count("notes") == 2).await;

        // a node that starts later asks for the others' state
        let (rt_c, _pubsub_c, presence_c) =
            std::thread::scope(|s| s.spawn(|| node(&url)).join().unwrap());
        until("C lists Bob and Cy", || presence_c.count("notes") == 2).await;
        std::thread::scope(|s| {
            s.spawn(|| drop(rt_c));
        });
        quiet(&mut live_b).await;
        std::thread::scope(|s| {
            // a runtime is dropped outside any runtime
            s.spawn(|| drop(rt_a));
        });
        let crashed = Instant::now();
        until("Bob expired on B", || {
            ids(&presence_b.list("notes")) == [("u3", "Cy", 1)]
        })
        .await;
        // 3 heartbeats of 50 ms, and some slack
        assert!(
            crashed.elapsed() < Duration::from_secs(3),
            "expired after {:?}",
            crashed.elapsed()
        );
        // B tells its pages
        tokio::time::timeout(Duration::from_secs(5), live_b.recv_message())
            .await
            .expect("B's page hears that Bob is gone");
        // what is left of A goes without running anything
        drop((bob, presence_a, pubsub_a));
    });
}
