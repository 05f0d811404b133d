//! What a join or a read of the presence list gives back: a member, the guard of a join, a
//! stream source that holds a join, and one that watches a topic's list.

use super::*;

/// One member of a topic, as [`Presence::list`] gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Member<M> {
    /// The id it joined with (a user id).
    pub id: String,
    /// The meta of its first join still counted.
    pub meta: M,
    /// How many joins it has, on every node (its open tabs).
    pub count: usize,
}

/// Being on a topic: dropping it leaves ([`Presence::join`]). A stream holds it for its lifetime.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let presence = dstar::presence::Presence::new(&dstar::stream::PubSub::new());
/// let joined = presence.join("lobby", "u1", ());
/// let (topic, id) = (joined.topic().to_owned(), joined.id().to_owned());
/// drop(joined);
/// println!("{id} left {topic}");
/// # });
/// ```
pub struct Joined {
    pub(super) shared: Arc<Shared>,
    pub(super) topic: String,
    pub(super) id: String,
    pub(super) counted: bool,
}

impl Joined {
    /// The member's id.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let presence = dstar::presence::Presence::new(&dstar::stream::PubSub::new());
    /// assert_eq!(presence.join("lobby", "u1", ()).id(), "u1");
    /// # });
    /// ```
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The topic joined.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let presence = dstar::presence::Presence::new(&dstar::stream::PubSub::new());
    /// assert_eq!(presence.join("lobby", "u1", ()).topic(), "lobby");
    /// # });
    /// ```
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Whether the join is counted: false only when a limit refused it ([`MAX_MEMBERS`],
    /// [`MAX_TOPICS`]).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let presence = dstar::presence::Presence::new(&dstar::stream::PubSub::new());
    /// assert!(presence.join("lobby", "u1", ()).is_counted());
    /// # });
    /// ```
    pub fn is_counted(&self) -> bool {
        self.counted
    }

    /// `source`, holding this join for as long as it lives: what a page's `subscribe` returns, so
    /// the member leaves when the stream ends.
    ///
    /// ```
    /// use dstar::stream::{PubSub, Source};
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let pubsub = PubSub::new();
    /// let presence = dstar::presence::Presence::new(&pubsub);
    /// let stream = presence.join("lobby", "u1", ()).hold(pubsub.subscribe::<String>("chat"));
    /// assert_eq!(stream.joined().id(), "u1");
    /// assert_eq!(presence.count("lobby"), 1);
    /// drop(stream);
    /// assert_eq!(presence.count("lobby"), 0);
    /// # });
    /// ```
    pub fn hold<S: Source>(self, source: S) -> Held<S> {
        Held {
            source,
            joined: self,
        }
    }
}

impl fmt::Debug for Joined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Joined")
            .field("topic", &self.topic)
            .field("id", &self.id)
            .field("counted", &self.counted)
            .finish()
    }
}

impl Drop for Joined {
    fn drop(&mut self) {
        if !self.counted {
            return;
        }
        self.shared
            .lock()
            .leave(&self.topic, &self.id, Instant::now());
        self.shared.poke();
    }
}

/// A [`Source`] that holds a [`Joined`] ([`Joined::hold`]); its messages are the source's.
///
/// ```
/// use dstar::stream::{PubSub, Source};
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let pubsub = PubSub::new();
/// let presence = dstar::presence::Presence::new(&pubsub);
/// let mut stream = presence.join("lobby", "u1", ()).hold(pubsub.subscribe::<u32>("n"));
/// pubsub.publish("n", 7u32).await.unwrap();
/// assert_eq!(stream.recv_message().await, Some(7));
/// # });
/// ```
pub struct Held<S> {
    source: S,
    joined: Joined,
}

impl<S> Held<S> {
    /// The join held.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let presence = dstar::presence::Presence::new(&dstar::stream::PubSub::new());
    /// let held = presence.join("lobby", "u1", ()).hold(tokio::sync::mpsc::channel::<u8>(1).1);
    /// assert_eq!(held.joined().topic(), "lobby");
    /// # });
    /// ```
    pub fn joined(&self) -> &Joined {
        &self.joined
    }
}

impl<S> fmt::Debug for Held<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Held")
            .field("joined", &self.joined)
            .finish_non_exhaustive()
    }
}

impl<S: Source> Source for Held<S> {
    type Message = S::Message;

    fn recv_message(&mut self) -> impl Future<Output = Option<S::Message>> + Send {
        self.source.recv_message()
    }

    fn missed_since(&self, since: SystemTime) -> bool {
        self.source.missed_since(since)
    }

    fn recv_delivery(&mut self) -> impl Future<Output = Delivery<S::Message>> + Send {
        self.source.recv_delivery()
    }
}

/// The members of a topic on every change ([`Presence::watch`]).
///
/// ```
/// let presence = dstar::presence::Presence::new(&dstar::stream::PubSub::new());
/// let watch: dstar::presence::Watch<String> = presence.watch("lobby", std::time::Duration::ZERO);
/// ```
pub struct Watch<M> {
    pub(super) presence: Presence,
    pub(super) topic: String,
    pub(super) changes: Changes,
    pub(super) _meta: PhantomData<fn() -> M>,
}

impl<M> fmt::Debug for Watch<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watch")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

impl<M: DeserializeOwned + Send + 'static> Source for Watch<M> {
    type Message = Vec<Member<M>>;

    async fn recv_message(&mut self) -> Option<Vec<Member<M>>> {
        self.changes.recv_message().await?;
        Some(self.presence.list(&self.topic))
    }

    fn missed_since(&self, since: SystemTime) -> bool {
        self.changes.missed_since(since)
    }
}
