//! Presence: who is on a page or topic right now, on this node and on every other node that shares
//! the same [`PubSub`].
//!
//! A [`Presence`] is built on a [`PubSub`] ([`Presence::new`]). A stream [joins](Presence::join) a
//! topic for someone (a user id, with some `meta` such as a display name) and holds the [`Joined`]
//! guard for its lifetime: dropping the guard leaves. So joins and leaves follow streams opening
//! and closing, and a tab that vanished leaves when its stream's liveness check fails. Several
//! joins with one id (two tabs of one user) are one [`Member`] with a `count`; it leaves when the
//! last one goes. [`Presence::list`] and [`Presence::count`] answer at once, from memory.
//!
//! ```
//! use dstar::presence::Presence;
//! use dstar::stream::PubSub;
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let presence = Presence::new(&PubSub::new());
//! let ada = presence.join("notes", "u1", "Ada".to_owned());
//! let ada_again = presence.join("notes", "u1", "Ada".to_owned()); // a second tab
//! let bob = presence.join("notes", "u2", "Bob".to_owned());
//! let members = presence.list::<String>("notes");
//! assert_eq!(members.len(), 2);
//! assert_eq!((members[0].id.as_str(), members[0].meta.as_str(), members[0].count), ("u1", "Ada", 2));
//! drop(ada);
//! assert_eq!(presence.count("notes"), 2); // Ada still has a tab open
//! drop((ada_again, bob));
//! assert_eq!(presence.count("notes"), 0);
//! # });
//! ```
//!
//! # Live pages
//!
//! Every join or leave that adds or removes a member publishes `()` on the topic itself, so a page
//! declared `live = "notes"` renders again when someone joins or leaves `notes`, and its `mount`
//! reads the list (a second tab of a member already there publishes nothing, nor does its close:
//! a reload would otherwise render every page of the topic again):
//!
//! ```ignore
//! #[dstar::page("/notes", state = App, live = "notes")]
//! impl Notes {
//!     async fn mount(State(app): State<App>) -> Self {
//!         Notes { here: app.presence.list::<String>("notes"), notes: app.notes() }
//!     }
//!     fn render(&self) -> Markup {
//!         html! { ul #here { @for m in &self.here { li { (m.meta) } } } /* … */ }
//!     }
//! }
//! ```
//!
//! The viewer joins in the page's `on_connect` hook, whose value lives exactly as long as the
//! tab's stream (and comes back to `on_disconnect(reason, joined)`):
//!
//! ```ignore
//! async fn on_connect(State(app): State<App>, CurrentUser(user): CurrentUser<User>) -> Joined {
//!     app.presence.join("notes", user.id.to_string(), user.name)
//! }
//! ```
//!
//! A page with a stream of its own can join through it instead: [`Joined::hold`] wraps its
//! `subscribe` source, and [`Presence::watch`] is a source that yields the member list on every
//! change, for a page whose `on_message` patches the list itself:
//!
//! ```ignore
//! async fn subscribe(State(app): State<App>, CurrentUser(user): CurrentUser<User>) -> Held<Watch<String>> {
//!     let me = app.presence.join("notes", user.id, user.name);
//!     me.hold(app.presence.watch("notes", Duration::from_millis(50)))
//! }
//! async fn on_message(sse: &mut Sse, here: Vec<Member<String>>) {
//!     sse.patch_elements(html! { ul #here { @for m in &here { li { (m.meta) } } } });
//! }
//! ```
//!
//! Why `()` on the topic itself: a live page needs only *a* message, and `()` is what code already
//! publishes on a live topic to say "something changed". A typed subscriber of the same topic
//! (`subscribe::<Note>("notes")`) skips it as a message of another type; only one whose type reads
//! JSON `null` (`()`, `Option<_>`, a unit struct) sees it, over Redis, as a change.
//!
//! # Across nodes
//!
//! Nothing to configure: when the [`PubSub`] is Redis-backed (`PubSub::redis`, cargo feature
//! `redis`), every node's presence is shared through it. Each `Presence` is a node with a random id. It publishes its
//! joins and leaves as diffs on an internal topic (`dstar:presence`), keeps a replica of every
//! other node's members per topic, and publishes its full state for its topics every heartbeat
//! (5 s by default, [`Presence::with_heartbeat`]). A node's members on a topic expire when it was
//! not heard about that topic for 3 of its heartbeats, so a crashed node's members vanish within
//! about 15 s. A node that starts, or whose subscription lost messages (a Redis reconnect), asks
//! the others for their state, and asks again until its own request comes back to it (so its
//! subscription is live). A page that learns of a change on another node finds it in the list:
//! the diff is published, and so delivered, before the change notice, and `list` reads what has
//! arrived first.
//!
//! # Files
//!
//! The handle ([`Presence`]) here; what a join or a read gives back in `guards.rs`; what nodes
//! tell each other in `wire.rs`; a node's state (its members, its replicas of the others') in
//! `state.rs`; the background task in `task.rs`.
//!
//! # Background work and limits
//!
//! Each `Presence` runs one tokio task (publishing, heartbeats, expiry), spawned on its first use
//! inside a runtime and ended once every clone and every [`Joined`] guard is dropped.
//!
//! Memory is bounded: at most [`MAX_MEMBERS`] members per topic per node and [`MAX_TOPICS`] topics
//! (of this node, and of the replicas), and at most [`MAX_REMOTE_ENTRIES`] members held for other
//! nodes in all. A join past a limit is not counted ([`Joined::is_counted`]), and the excess of
//! another node's state is not kept; both are logged.

mod guards;
mod state;
mod task;
mod wire;

pub use guards::{Held, Joined, Member, Watch};
use state::*;
use task::*;
use wire::*;

use crate::stream::{Changes, Delivery, PubSub, Source};
use futures_util::FutureExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How often a node publishes its full state when [`Presence::new`] builds it.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(5);
/// The most members a node counts on one topic; joins past it are not counted.
pub const MAX_MEMBERS: usize = 10_000;
/// The most topics a node holds members of (its own, and apart from them other nodes').
pub const MAX_TOPICS: usize = 10_000;
/// The most members of other nodes a node holds, all topics together.
pub const MAX_REMOTE_ENTRIES: usize = 1_000_000;

/// The internal topic of diffs, heartbeats and state requests.
const CHANNEL: &str = "dstar:presence";
/// A node's members on a topic expire after this many of its heartbeats without word of them.
const EXPIRE_AFTER: u32 = 3;
/// The shortest heartbeat.
const MIN_HEARTBEAT: Duration = Duration::from_millis(10);
/// The longest heartbeat another node's messages are believed to announce.
const MAX_HEARTBEAT: Duration = Duration::from_secs(600);
/// How often a node asks for the others' state until its own request comes back.
const RESYNC: Duration = Duration::from_millis(500);
/// The most pending diffs: past it they are dropped and the full state is sent instead.
const MAX_PENDING: usize = 100_000;
/// Topics go together in one message up to this many members (one topic is never split): a
/// heartbeat of many small topics is a few messages, not one each, so the internal topic's
/// subscribers do not fall behind.
const CHUNK: usize = 10_000;

/// Who is on which topic, on this node and on the others sharing its [`PubSub`]. Cheap to clone
/// (one `Arc`). See the [module docs](self).
///
/// ```
/// let presence = dstar::presence::Presence::new(&dstar::stream::PubSub::new());
/// assert_eq!(presence.count("lobby"), 0);
/// ```
#[derive(Clone)]
pub struct Presence {
    shared: Arc<Shared>,
}

/// What every clone of a [`Presence`] and every [`Joined`] shares; dropping the last one ends the
/// task (its end of `wake` closes).
struct Shared {
    node: Arc<str>,
    core: Arc<Mutex<Core>>,
    pubsub: PubSub,
    every: Duration,
    /// Wakes the task; set when the task is spawned.
    wake: OnceLock<mpsc::Sender<()>>,
}

impl fmt::Debug for Presence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Presence")
            .field("node", &self.node())
            .field("heartbeat", &self.shared.every)
            .finish_non_exhaustive()
    }
}

impl Presence {
    /// Presence over `pubsub`, heartbeating every [`DEFAULT_HEARTBEAT`]. Its task starts on first
    /// use inside a tokio runtime.
    ///
    /// ```
    /// let presence = dstar::presence::Presence::new(&dstar::stream::PubSub::new());
    /// ```
    pub fn new(pubsub: &PubSub) -> Presence {
        Presence::with_heartbeat(pubsub, DEFAULT_HEARTBEAT)
    }

    /// Presence over `pubsub` that publishes its full state every `every` (10 ms at least); other
    /// nodes forget its members 3 heartbeats after they last heard of them.
    ///
    /// ```
    /// use std::time::Duration;
    /// let presence = dstar::presence::Presence::with_heartbeat(
    ///     &dstar::stream::PubSub::new(),
    ///     Duration::from_secs(2),
    /// );
    /// ```
    pub fn with_heartbeat(pubsub: &PubSub, every: Duration) -> Presence {
        let every = every.max(MIN_HEARTBEAT);
        let node = {
            use rand::RngCore;
            let mut id = [0u8; 8];
            rand::rng().fill_bytes(&mut id);
            hex::encode(id)
        };
        let node: Arc<str> = node.into();
        Presence {
            shared: Arc::new(Shared {
                core: Arc::new(Mutex::new(Core::new(node.clone(), every))),
                node,
                pubsub: pubsub.clone(),
                every,
                wake: OnceLock::new(),
            }),
        }
    }

    /// This node's id (random, one per `Presence`), for logs.
    ///
    /// ```
    /// let presence = dstar::presence::Presence::new(&dstar::stream::PubSub::new());
    /// assert_eq!(presence.node().len(), 16);
    /// ```
    pub fn node(&self) -> &str {
        &self.shared.node
    }

    /// Counts `id` as on `topic` with `meta` until the returned guard is dropped. Joins with an id
    /// already there (another tab) add to its count; the member keeps the `meta` of its first
    /// join. A join that makes `id` a member publishes `()` on `topic`.
    ///
    /// A `meta` that does not serialize to JSON is kept as `null` (logged).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let presence = dstar::presence::Presence::new(&dstar::stream::PubSub::new());
    /// let joined = presence.join("lobby", "u1", "Ada");
    /// assert_eq!((joined.topic(), joined.id()), ("lobby", "u1"));
    /// assert_eq!(presence.count("lobby"), 1);
    /// drop(joined);
    /// assert_eq!(presence.count("lobby"), 0);
    /// # });
    /// ```
    pub fn join<M: Serialize>(&self, topic: &str, id: impl Into<String>, meta: M) -> Joined {
        let id = id.into();
        let meta = serde_json::to_value(meta).unwrap_or_else(|e| {
            tracing::warn!(
                topic = %crate::error::Escaped(topic),
                error = %crate::error::Escaped(&e),
                "dstar presence: a member's meta does not serialize; kept as null"
            );
            serde_json::Value::Null
        });
        self.shared.start();
        let counted = {
            let mut core = self.shared.lock();
            core.join(topic, &id, meta, Instant::now())
        };
        self.shared.poke();
        Joined {
            shared: self.shared.clone(),
            topic: topic.to_owned(),
            id,
            counted,
        }
    }

    /// The members of `topic` on every node, by join time, then id. A member whose meta does not
    /// read as `M` is left out (logged).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let presence = dstar::presence::Presence::new(&dstar::stream::PubSub::new());
    /// let _ada = presence.join("lobby", "u1", "Ada");
    /// let here = presence.list::<String>("lobby");
    /// assert_eq!((here[0].id.as_str(), here[0].meta.as_str(), here[0].count), ("u1", "Ada", 1));
    /// # });
    /// ```
    pub fn list<M: DeserializeOwned>(&self, topic: &str) -> Vec<Member<M>> {
        self.shared.start();
        let now = Instant::now();
        let mut core = self.shared.lock();
        core.drain(now);
        let mut members: Vec<_> = core.merged(topic, now).into_iter().collect();
        members.sort_by(|(a, x), (b, y)| x.joined.cmp(&y.joined).then_with(|| a.cmp(b)));
        members
            .into_iter()
            .filter_map(
                |(id, m)| match serde_json::from_value::<M>(m.meta.clone()) {
                    Ok(meta) => Some(Member {
                        id: id.to_owned(),
                        meta,
                        count: m.count,
                    }),
                    Err(e) => {
                        tracing::warn!(
                            topic = %crate::error::Escaped(topic),
                            id = %crate::error::Escaped(id),
                            expected = std::any::type_name::<M>(),
                            error = %crate::error::Escaped(&e),
                            "dstar presence: left out a member whose meta is of another type"
                        );
                        None
                    }
                },
            )
            .collect()
    }

    /// How many members `topic` has, on every node.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let presence = dstar::presence::Presence::new(&dstar::stream::PubSub::new());
    /// let _tabs = [presence.join("lobby", "u1", ()), presence.join("lobby", "u1", ())];
    /// assert_eq!(presence.count("lobby"), 1);
    /// # });
    /// ```
    pub fn count(&self, topic: &str) -> usize {
        self.shared.start();
        let now = Instant::now();
        let mut core = self.shared.lock();
        core.drain(now);
        core.merged(topic, now).len()
    }

    /// A [`Source`] that yields the members of `topic` whenever a message comes on it (the change
    /// notices of joins and leaves, and whatever else is published there), a burst coalesced per
    /// `frame` as [`PubSub::changes`] does. Hold a [`Joined`] with it ([`Joined::hold`]) to be on
    /// the list while the stream is open.
    ///
    /// ```
    /// use dstar::stream::Source;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let presence = dstar::presence::Presence::new(&dstar::stream::PubSub::new());
    /// let mut watch = presence.watch::<String>("lobby", std::time::Duration::ZERO);
    /// let _ada = presence.join("lobby", "u1", "Ada");
    /// let here = watch.recv_message().await.unwrap();
    /// assert_eq!(here[0].meta, "Ada");
    /// # });
    /// ```
    pub fn watch<M: DeserializeOwned + Send + 'static>(
        &self,
        topic: &str,
        frame: Duration,
    ) -> Watch<M> {
        Watch {
            presence: self.clone(),
            topic: topic.to_owned(),
            changes: self.shared.pubsub.changes(&[topic], frame),
            _meta: PhantomData,
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Core> {
        lock(&self.core)
    }

    /// Spawns the task on first use inside a runtime.
    fn start(&self) {
        if self.wake.get().is_some() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        self.wake.get_or_init(|| {
            let (tx, rx) = mpsc::channel(1);
            let doorbell = self.pubsub.changes(&[CHANNEL], Duration::ZERO);
            {
                let mut core = self.lock();
                core.incoming = Some(self.pubsub.subscribe::<Wire>(CHANNEL));
                core.syncing = true;
                core.out.sync = true;
                core.quiet_until = Instant::now() + self.every;
            }
            runtime.spawn(run(
                self.core.clone(),
                self.pubsub.clone(),
                rx,
                doorbell,
                self.every,
            ));
            tx
        });
    }

    /// Tells the task there is something to publish.
    fn poke(&self) {
        if let Some(wake) = self.wake.get() {
            let _ = wake.try_send(());
        }
    }
}

fn lock(core: &Mutex<Core>) -> MutexGuard<'_, Core> {
    core.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn core() -> Core {
        Core::new("local".into(), Duration::from_secs(1))
    }

    fn entry(count: u32, joined: u64, name: &str) -> Entry {
        Entry {
            count,
            joined,
            meta: json!(name),
        }
    }

    fn notices(core: &mut Core) -> Vec<String> {
        std::mem::take(&mut core.out.notices).into_iter().collect()
    }

    #[test]
    fn only_a_member_arriving_or_leaving_is_announced() {
        let mut core = core();
        let now = Instant::now();
        assert!(core.join("notes", "u1", json!("Ada"), now));
        assert_eq!(notices(&mut core), ["notes"]);
        // a second tab, and its close
        assert!(core.join("notes", "u1", json!("Ada"), now));
        core.leave("notes", "u1", now);
        assert!(notices(&mut core).is_empty());
        assert_eq!(core.local["notes"]["u1"].count, 1);
        core.leave("notes", "u1", now);
        assert_eq!(notices(&mut core), ["notes"]);
        assert!(core.local.is_empty());
        // the diffs say the latest: u1 left
        assert_eq!(core.out.diffs["notes"]["u1"], None);
    }

    #[test]
    fn a_member_on_another_node_is_merged_and_not_announced_again() {
        let mut core = core();
        let now = Instant::now();
        core.apply(
            "other",
            "notes".into(),
            1000,
            vec![("u1".into(), Some(entry(2, 5, "Ada")))],
            false,
            now,
        );
        // a diff is announced by the node that made it
        assert!(notices(&mut core).is_empty());
        core.join("notes", "u1", json!("Ada here"), now);
        assert!(notices(&mut core).is_empty(), "u1 was there already");
        let merged = core.merged("notes", now);
        assert_eq!(merged["u1"].count, 3);
        // the first join's meta
        assert_eq!(merged["u1"].meta, &json!("Ada"));
        core.leave("notes", "u1", now);
        assert!(
            notices(&mut core).is_empty(),
            "u1 is still on the other node"
        );
    }

    #[test]
    fn a_state_that_differs_is_announced_and_a_silent_node_expires() {
        let mut core = core();
        let now = Instant::now();
        let whole = |members: Vec<(&str, Entry)>| {
            members
                .into_iter()
                .map(|(id, e)| (id.to_owned(), Some(e)))
                .collect::<Vec<_>>()
        };
        core.apply(
            "other",
            "notes".into(),
            100,
            whole(vec![("u1", entry(1, 1, "Ada"))]),
            true,
            now,
        );
        assert_eq!(notices(&mut core), ["notes"]);
        // the same state again: nothing to say
        core.apply(
            "other",
            "notes".into(),
            100,
            whole(vec![("u1", entry(1, 1, "Ada"))]),
            true,
            now,
        );
        assert!(notices(&mut core).is_empty());
        assert_eq!(core.remote_entries, 1);
        // three heartbeats of silence
        let later = now + Duration::from_millis(301);
        assert!(core.merged("notes", later).is_empty());
        core.expire(later);
        assert_eq!(notices(&mut core), ["notes"]);
        assert!(core.remote.is_empty());
        assert_eq!(core.remote_entries, 0);
    }

    #[test]
    fn a_starting_node_does_not_announce_what_it_learns() {
        let mut core = core();
        let now = Instant::now();
        core.quiet_until = now + Duration::from_secs(1);
        core.apply(
            "other",
            "notes".into(),
            1000,
            vec![("u1".into(), Some(entry(1, 1, "Ada")))],
            true,
            now,
        );
        assert!(notices(&mut core).is_empty());
        assert_eq!(core.merged("notes", now).len(), 1);
    }

    #[test]
    fn limits_hold() {
        let mut core = core();
        let now = Instant::now();
        for n in 0..MAX_MEMBERS {
            assert!(core.join("big", &n.to_string(), json!(null), now));
        }
        assert!(!core.join("big", "one too many", json!(null), now));
        // another tab of a member is still counted
        assert!(core.join("big", "0", json!(null), now));
        // too many pending diffs become one full state
        assert!(core.out.pending <= MAX_PENDING);
        let changes = (0..MAX_MEMBERS + 5)
            .map(|n| (format!("r{n}"), Some(entry(1, 1, "x"))))
            .collect();
        core.apply("other", "big".into(), 1000, changes, true, now);
        assert_eq!(core.remote_entries, MAX_MEMBERS);
    }

    #[test]
    fn unsent_messages_are_put_back_without_undoing_newer_changes() {
        let mut core = core();
        let now = Instant::now();
        core.join("notes", "u1", json!("Ada"), now);
        let batch = core.take();
        assert_eq!(batch.len(), 2, "a diff, then the notice");
        assert!(matches!(
            &batch[0],
            Out::Wire(Wire {
                body: Body::Diff { .. },
                ..
            })
        ));
        assert!(matches!(&batch[1], Out::Notice(t) if t == "notes"));
        // u1 left while the batch was failing
        core.leave("notes", "u1", now);
        core.put_back(batch);
        assert_eq!(core.out.diffs["notes"]["u1"], None);
        assert!(core.out.notices.contains("notes"));
    }

    #[test]
    fn topics_go_together_in_messages_of_bounded_size() {
        let topic = |name: &str, n: usize| (name.to_owned(), vec![(); n]);
        let sizes = |chunks: Vec<Vec<(String, Vec<()>)>>| {
            chunks
                .iter()
                .map(|c| {
                    c.iter()
                        .map(|(t, _)| t.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .collect::<Vec<_>>()
        };
        let many = (0..3).map(|n| topic(&n.to_string(), CHUNK / 2));
        assert_eq!(sizes(chunks(many)), ["0,1", "2"]);
        let big = [topic("a", 1), topic("big", CHUNK + 1), topic("b", 1)];
        assert_eq!(sizes(chunks(big.into_iter())), ["a", "big", "b"]);
        assert!(chunks(std::iter::empty::<(String, Vec<()>)>()).is_empty());
    }

    #[test]
    fn a_node_ignores_its_own_messages_but_its_own_sync_ends_syncing() {
        let mut core = core();
        core.syncing = true;
        let now = Instant::now();
        let node = core.node.to_string();
        core.receive(
            Wire {
                node: node.clone(),
                body: Body::Diff {
                    every_ms: 1000,
                    topics: vec![(
                        "notes".into(),
                        vec![("u1".into(), Some(entry(1, 1, "Ada")))],
                    )],
                },
            },
            now,
        );
        assert!(core.remote.is_empty());
        core.receive(
            Wire {
                node,
                body: Body::Sync,
            },
            now,
        );
        assert!(!core.syncing);
        // another node's request is answered with the full state
        core.receive(
            Wire {
                node: "other".into(),
                body: Body::Sync,
            },
            now,
        );
        assert!(core.out.snapshots);
    }
}
