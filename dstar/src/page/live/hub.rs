//! The shared render of one key: a task that listens to the page's topics and, once per frame,
//! runs `mount` and `render` once and formats the SSE event once, for every stream of the key.

use super::super::stream::ViewTemplate;
use super::fanout::{Fanout, Watcher};
use crate::sse::Sse;
use crate::sse::lifecycle::{Parked, Reachable};
use crate::stream::{Changes, Delivery, PubSub, Source as _};
use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;
use futures_util::FutureExt as _;
use maud::Markup;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// The shared renders of one live page in one app, by key. `#[dstar::page]` makes one per page
/// router, so two apps in one process (tests, say) never share a render. A router is meant for
/// one state: one made with [`Page::routes`](crate::page::Page::routes), cloned, and given two
/// different states would share its renders between them (`App` binds each page once).
///
/// ```
/// let hubs = dstar::page::LiveHubs::default();
/// assert_eq!(hubs.len(), 0);
/// ```
#[derive(Clone, Default)]
pub struct LiveHubs(Arc<Mutex<HashMap<String, Arc<Hub>>>>);

impl std::fmt::Debug for LiveHubs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveHubs")
            .field("keys", &self.len())
            .finish()
    }
}

/// One key's shared render.
struct Hub {
    /// The frames, and the viewers waiting for them.
    fanout: Arc<Fanout>,
    /// A stream that catches up asked for a render before the first change came, or after the
    /// last render failed.
    render_now: tokio::sync::Notify,
    /// The last render failed (a 5xx, a panic): the latest frame may be older than the state.
    stale: std::sync::atomic::AtomicBool,
    /// The request the render runs with: the first viewer's; with a `render_key`, the latest
    /// viewer's (so a render runs with the request of someone who is still there).
    template: Mutex<ViewTemplate>,
}

/// What the shared render made of one change.
#[derive(Debug, Clone)]
pub(crate) enum Frame {
    /// Nothing yet (the value a hub starts with, which no stream is sent).
    Nothing,
    /// The page root morphed with the render: one formatted event, shared by every stream.
    Patch(Bytes),
    /// `mount` refused, and the refusal is the same for everyone (the render reads no viewer):
    /// its redirect or reload, after which each stream ends.
    Refusal(Bytes),
    /// `mount` refused a render made with one viewer's request (a page with `render_key`): each
    /// stream renders its own, and so gets its own page or its own refusal.
    RenderYourself,
}

/// How a hub renders: the page's `mount` and `render` with a request (any such closure).
pub trait View<S>: Fn(S, Request) -> Self::Fut + Clone + Send + Sync + 'static {
    /// The render's future.
    type Fut: Future<Output = Result<Markup, Response>> + Send + 'static;
}

impl<S, F, Fut> View<S> for F
where
    F: Fn(S, Request) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Markup, Response>> + Send + 'static,
{
    type Fut = Fut;
}

/// What a hub listens to and how it renders.
pub(crate) struct HubSpec<'a, S, V> {
    pub(crate) key: String,
    pub(crate) pubsub: &'a PubSub,
    pub(crate) topics: &'a [&'a str],
    pub(crate) frame: Duration,
    pub(crate) state: &'a S,
    pub(crate) view: &'a V,
    pub(crate) template: &'a ViewTemplate,
    /// The key was named by the page (`render_key`): the render reads one viewer's request.
    pub(crate) named_key: bool,
    /// How long the key may go without a frame before its viewers check their clients (the
    /// first viewer's: every viewer of a page has the page's).
    pub(crate) idle_check: Duration,
}

impl LiveHubs {
    /// How many keys have a shared render now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no key has a shared render now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Hub>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Joins the key's shared render, starting it for the first viewer: its frames from now on.
    /// The hub is subscribed to the topics before this returns, so a render the stream makes
    /// afterwards (its catch-up) and the frames it gets miss no change between them.
    pub(crate) fn join<S, V>(&self, spec: HubSpec<'_, S, V>) -> Joined
    where
        S: Clone + Send + Sync + 'static,
        V: View<S>,
    {
        let mut hubs = self.lock();
        if let Some(hub) = hubs.get(&spec.key) {
            if spec.named_key {
                *hub.template.lock().unwrap_or_else(PoisonError::into_inner) =
                    spec.template.clone();
            }
            return Joined {
                frames: hub.fanout.watch(),
                hub: hub.clone(),
            };
        }
        // subscribed before the hub is listed: a second viewer that finds it finds it listening
        let changes = spec.pubsub.changes(spec.topics, spec.frame);
        let fanout = Arc::new(Fanout::new());
        let frames = fanout.watch();
        let hub = Arc::new(Hub {
            fanout,
            render_now: tokio::sync::Notify::new(),
            // a render that reads no viewer (its key was inferred) keeps no viewer's headers
            template: Mutex::new(if spec.named_key {
                spec.template.clone()
            } else {
                spec.template.without_headers()
            }),
            stale: std::sync::atomic::AtomicBool::new(false),
        });
        hubs.insert(spec.key.clone(), hub.clone());
        drop(hubs);
        tracing::debug!(key = %crate::error::Escaped(&spec.key), "dstar: a live page's shared render starts");
        // shutdown wakes every viewer of the key through it: a viewer is not in the shutdown set
        let parked: Arc<dyn Parked> = hub.fanout.clone();
        let reachable = Reachable::new(Arc::downgrade(&parked));
        tokio::spawn(render_loop(
            changes,
            hub.clone(),
            spec.state.clone(),
            spec.view.clone(),
            RenderLoop {
                hubs: self.clone(),
                key: spec.key,
                named_key: spec.named_key,
                idle_check: crate::sse::clock::period(spec.idle_check),
                _reachable: reachable,
            },
        ));
        Joined { frames, hub }
    }

    /// Forgets `key`'s hub when no stream watches it any more; false when one joined meanwhile.
    fn leave(&self, key: &str, hub: &Arc<Hub>, closed: bool) -> bool {
        let mut hubs = self.lock();
        if !closed && hub.fanout.viewers() > 0 {
            return false;
        }
        if hubs.get(key).is_some_and(|kept| Arc::ptr_eq(kept, hub)) {
            hubs.remove(key);
        }
        true
    }

    /// Forgets `key`'s hub, if it is still `hub`: its render ended.
    fn forget(&self, key: &str, hub: &Arc<Hub>) {
        let mut hubs = self.lock();
        if hubs.get(key).is_some_and(|kept| Arc::ptr_eq(kept, hub)) {
            hubs.remove(key);
        }
    }
}

/// A stream's place at a key's shared render: the frames from its joining on.
pub(crate) struct Joined {
    pub(crate) frames: Watcher,
    hub: Arc<Hub>,
}

impl Joined {
    /// A stream that must catch up (a reconnect, or a page that went stale while it loaded)
    /// takes the shared render instead of rendering for itself: the latest frame, which the hub
    /// rendered after every change it heard of (and renders again for any change since), or,
    /// before the first change, a render the hub makes now. So a deploy that reconnects ten
    /// thousand viewers of one key costs one render, not ten thousand.
    pub(crate) fn catch_up(&mut self) {
        let failed = self.hub.stale.load(std::sync::atomic::Ordering::Acquire);
        if failed || self.hub.fanout.is_empty() {
            self.hub.render_now.notify_one();
        } else {
            self.frames.mark_changed();
        }
    }
}

struct RenderLoop {
    hubs: LiveHubs,
    key: String,
    named_key: bool,
    idle_check: Duration,
    /// The hub's entry in the set `shutdown` wakes, while the render runs.
    _reachable: Reachable,
}

/// When the render ends, however it ends (its runtime may drop it), ends its viewers' streams
/// and forgets the hub: a later viewer of the key starts a new one.
struct EndOnDrop<'a> {
    hubs: &'a LiveHubs,
    key: &'a str,
    hub: &'a Arc<Hub>,
}

impl Drop for EndOnDrop<'_> {
    fn drop(&mut self) {
        self.hub.fanout.close();
        self.hubs.forget(self.key, self.hub);
    }
}

/// A liveness check for every viewer of the key at once (each writes a comment, and a write to a
/// client that is gone fails), and the next one a whole period later.
fn ping(fanout: &Fanout, idle: std::pin::Pin<&mut tokio::time::Sleep>, period: Duration) {
    fanout.ping();
    idle.reset(tokio::time::Instant::now() + period);
}

/// The hub's task: a render per coalesced change, until the last stream of the key goes (or the
/// topics close, which ends every stream of the key).
async fn render_loop<S, V>(mut changes: Changes, hub: Arc<Hub>, state: S, view: V, at: RenderLoop)
where
    S: Clone + Send + Sync + 'static,
    V: View<S>,
{
    let _end = EndOnDrop {
        hubs: &at.hubs,
        key: &at.key,
        hub: &hub,
    };
    // the viewers' liveness: after a whole period without a frame (also while a render hangs)
    let idle = tokio::time::sleep(at.idle_check);
    let mut idle = std::pin::pin!(idle);
    loop {
        let next = tokio::select! {
            biased;
            () = hub.fanout.all_left() => None,
            delivery = changes.recv_delivery() => Some(delivery),
            // a catch-up before any change: render the state as it is
            () = hub.render_now.notified() => Some(Delivery::Message(())),
            () = idle.as_mut() => {
                ping(&hub.fanout, idle.as_mut(), at.idle_check);
                continue;
            }
        };
        match next {
            None => {
                if at.hubs.leave(&at.key, &hub, false) {
                    break;
                }
            }
            Some(Delivery::Closed) => {
                at.hubs.leave(&at.key, &hub, true);
                break;
            }
            // a lost message is one more change: the render reads the state as it is now
            Some(Delivery::Message(()) | Delivery::Missed) => {
                let template = hub
                    .template
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                let render =
                    std::panic::AssertUnwindSafe(view(state.clone(), template.fresh_request()))
                        .catch_unwind();
                let mut render = std::pin::pin!(render);
                let render = loop {
                    tokio::select! {
                        biased;
                        done = render.as_mut() => break done,
                        () = idle.as_mut() => ping(&hub.fanout, idle.as_mut(), at.idle_check),
                    }
                };
                let frame = match render {
                    Ok(Ok(markup)) => {
                        let mut sse = Sse::new();
                        sse.patch_elements(super::super::page_root(markup));
                        Frame::Patch(sse.into_bytes())
                    }
                    Ok(Err(refusal)) if refusal.status().is_server_error() => {
                        tracing::warn!(
                            status = refusal.status().as_u16(),
                            "dstar: a live page's shared render failed; its pages keep their last render"
                        );
                        hub.stale.store(true, std::sync::atomic::Ordering::Release);
                        continue;
                    }
                    Ok(Err(_)) if at.named_key => Frame::RenderYourself,
                    Ok(Err(refusal)) => {
                        Frame::Refusal(super::super::stream_refused(&refusal).into_bytes())
                    }
                    Err(panic) => {
                        crate::headers::log_panic(
                            panic.as_ref(),
                            "a live page's shared render panicked; its pages keep their last render",
                        );
                        hub.stale.store(true, std::sync::atomic::Ordering::Release);
                        continue;
                    }
                };
                hub.stale.store(false, std::sync::atomic::Ordering::Release);
                hub.fanout.send(frame);
                idle.as_mut()
                    .reset(tokio::time::Instant::now() + at.idle_check);
            }
        }
    }
    tracing::debug!(key = %crate::error::Escaped(&at.key), "dstar: a live page's shared render ends");
}
