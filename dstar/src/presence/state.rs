//! A node's presence state: its own members, its replicas of the other nodes', and what waits to
//! be published.

use super::*;

/// Another node's members on one topic.
#[derive(Debug)]
pub(super) struct Replica {
    pub(super) members: HashMap<String, Entry>,
    /// When they are forgotten unless word of them comes.
    pub(super) expires: Instant,
}

/// What the task publishes.
pub(super) enum Out {
    Wire(Wire),
    /// `()` on a topic whose members changed.
    Notice(String),
}

/// What waits to be published.
#[derive(Default)]
pub(super) struct Outbox {
    /// The latest entry of every member that changed, per topic.
    pub(super) diffs: BTreeMap<String, BTreeMap<String, Option<Entry>>>,
    pub(super) pending: usize,
    /// The full state of every topic (a heartbeat, or another node asked).
    pub(super) snapshots: bool,
    pub(super) notices: BTreeSet<String>,
    pub(super) sync: bool,
}

impl Outbox {
    pub(super) fn diff(&mut self, topic: &str, id: &str, entry: Option<Entry>) {
        if self.pending >= MAX_PENDING {
            // the full state says it all (and a topic left empty expires on the other nodes)
            self.diffs.clear();
            self.pending = 0;
            self.snapshots = true;
        }
        let changes = self.diffs.entry(topic.to_owned()).or_default();
        if changes.insert(id.to_owned(), entry).is_none() {
            self.pending += 1;
        }
    }
}

/// A member of a topic on every node, for [`Presence::list`].
pub(super) struct Merged<'a> {
    pub(super) count: usize,
    pub(super) joined: u64,
    /// The node whose entry joined first (ties: the smallest node id), whose meta is shown.
    pub(super) first: (u64, &'a str),
    pub(super) meta: &'a serde_json::Value,
}

/// A node's state: its own members, its replicas of the others', and what it has to publish.
pub(super) struct Core {
    pub(super) node: Arc<str>,
    pub(super) every: Duration,
    pub(super) local: HashMap<String, HashMap<String, Entry>>,
    /// Topic, then node.
    pub(super) remote: HashMap<String, HashMap<String, Replica>>,
    pub(super) remote_entries: usize,
    /// The internal topic, read by the task and by `list` (so a change notice from another node
    /// never finds the list without the diff published before it).
    pub(super) incoming: Option<crate::stream::Subscription<Wire>>,
    pub(super) out: Outbox,
    /// Until this node's own `Sync` comes back.
    pub(super) syncing: bool,
    /// Before it, what this node learns from other nodes' state is not announced on the topics:
    /// it is starting, and every node it hears of is news.
    pub(super) quiet_until: Instant,
    /// A limit was logged.
    pub(super) warned: bool,
}

impl Core {
    pub(super) fn new(node: Arc<str>, every: Duration) -> Core {
        Core {
            node,
            every,
            local: HashMap::new(),
            remote: HashMap::new(),
            remote_entries: 0,
            incoming: None,
            out: Outbox::default(),
            syncing: false,
            quiet_until: Instant::now(),
            warned: false,
        }
    }

    pub(super) fn warn_limit(&mut self, what: &str) {
        if !std::mem::replace(&mut self.warned, true) {
            tracing::warn!(
                limit = what,
                "dstar presence: a limit was reached; members past it are not counted (logged once)"
            );
        }
    }

    pub(super) fn is_member(&self, topic: &str, id: &str, now: Instant) -> bool {
        self.local.get(topic).is_some_and(|m| m.contains_key(id))
            || self.remote.get(topic).is_some_and(|nodes| {
                nodes
                    .values()
                    .any(|r| r.expires > now && r.members.contains_key(id))
            })
    }

    /// Counts a join; false when a limit refused it.
    pub(super) fn join(
        &mut self,
        topic: &str,
        id: &str,
        meta: serde_json::Value,
        now: Instant,
    ) -> bool {
        let was = self.is_member(topic, id, now);
        if !self.local.contains_key(topic) && self.local.len() >= MAX_TOPICS {
            self.warn_limit("MAX_TOPICS");
            return false;
        }
        let members = self.local.entry(topic.to_owned()).or_default();
        let full = members.len() >= MAX_MEMBERS;
        let entry = match members.get_mut(id) {
            Some(entry) => {
                entry.count = entry.count.saturating_add(1);
                entry.clone()
            }
            None if full => {
                self.warn_limit("MAX_MEMBERS");
                return false;
            }
            None => {
                let entry = Entry {
                    count: 1,
                    joined: now_ms(),
                    meta,
                };
                members.insert(id.to_owned(), entry.clone());
                entry
            }
        };
        self.out.diff(topic, id, Some(entry));
        if !was {
            self.out.notices.insert(topic.to_owned());
        }
        true
    }

    pub(super) fn leave(&mut self, topic: &str, id: &str, now: Instant) {
        let Some(members) = self.local.get_mut(topic) else {
            return;
        };
        let Some(entry) = members.get_mut(id) else {
            return;
        };
        entry.count = entry.count.saturating_sub(1);
        let entry = if entry.count == 0 {
            members.remove(id);
            if members.is_empty() {
                self.local.remove(topic);
            }
            None
        } else {
            Some(entry.clone())
        };
        let gone = entry.is_none();
        self.out.diff(topic, id, entry);
        if gone && !self.is_member(topic, id, now) {
            self.out.notices.insert(topic.to_owned());
        }
    }

    /// Applies every message waiting on the internal topic.
    pub(super) fn drain(&mut self, now: Instant) {
        loop {
            let Some(incoming) = self.incoming.as_mut() else {
                return;
            };
            match incoming.recv_delivery().now_or_never() {
                None => return,
                Some(Delivery::Message(wire)) => self.receive(wire, now),
                Some(Delivery::Missed) => {
                    tracing::debug!("dstar presence: lost messages; asking the other nodes again");
                    self.syncing = true;
                    self.out.sync = true;
                }
                Some(Delivery::Closed) => {
                    self.incoming = None;
                    return;
                }
            }
        }
    }

    pub(super) fn receive(&mut self, wire: Wire, now: Instant) {
        if *wire.node == *self.node {
            if matches!(wire.body, Body::Sync) {
                // the subscription is live: the answers to it will arrive
                self.syncing = false;
            }
            return;
        }
        match wire.body {
            Body::Sync => self.out.snapshots = true,
            Body::Diff { every_ms, topics } => {
                for (topic, changes) in topics {
                    self.apply(&wire.node, topic, every_ms, changes, false, now);
                }
            }
            Body::Snapshot { every_ms, topics } => {
                for (topic, members) in topics {
                    let members = members.into_iter().map(|(id, e)| (id, Some(e))).collect();
                    self.apply(&wire.node, topic, every_ms, members, true, now);
                }
            }
        }
    }

    /// Another node's `changes` on `topic` (all its members there when `whole`).
    pub(super) fn apply(
        &mut self,
        node: &str,
        topic: String,
        every_ms: u64,
        changes: Vec<(String, Option<Entry>)>,
        whole: bool,
        now: Instant,
    ) {
        let every = Duration::from_millis(every_ms).clamp(MIN_HEARTBEAT, MAX_HEARTBEAT);
        // a diff is announced by the node that made it; a whole state that changes the list
        // here means something was missed: announce it
        let announce = whole && now >= self.quiet_until;
        let touched: Vec<String> = if announce {
            let old = self.remote.get(&topic).and_then(|nodes| nodes.get(node));
            let new: HashSet<&str> = changes.iter().map(|(id, _)| id.as_str()).collect();
            match old {
                Some(old) if old.expires > now => {
                    let old_ids: HashSet<&str> = old.members.keys().map(String::as_str).collect();
                    old_ids
                        .symmetric_difference(&new)
                        .map(|id| (*id).to_owned())
                        .collect()
                }
                // an expired replica comes back whole
                Some(old) => old
                    .members
                    .keys()
                    .map(String::as_str)
                    .chain(new)
                    .map(str::to_owned)
                    .collect(),
                None => new.into_iter().map(str::to_owned).collect(),
            }
        } else {
            Vec::new()
        };
        let before: Vec<bool> = touched
            .iter()
            .map(|id| self.is_member(&topic, id, now))
            .collect();
        if !self.remote.contains_key(&topic) && self.remote.len() >= MAX_TOPICS {
            self.warn_limit("MAX_TOPICS");
            return;
        }
        let mut over = false;
        let nodes = self.remote.entry(topic.clone()).or_default();
        let replica = nodes.entry(node.to_owned()).or_insert_with(|| Replica {
            members: HashMap::new(),
            expires: now,
        });
        replica.expires = now + every * EXPIRE_AFTER;
        if whole {
            self.remote_entries -= replica.members.len();
            replica.members.clear();
        }
        for (id, entry) in changes {
            match entry {
                Some(entry) => {
                    if let Some(old) = replica.members.get_mut(&id) {
                        *old = entry;
                    } else if replica.members.len() < MAX_MEMBERS
                        && self.remote_entries < MAX_REMOTE_ENTRIES
                    {
                        replica.members.insert(id, entry);
                        self.remote_entries += 1;
                    } else {
                        over = true;
                    }
                }
                None => {
                    if replica.members.remove(&id).is_some() {
                        self.remote_entries -= 1;
                    }
                }
            }
        }
        if replica.members.is_empty() {
            nodes.remove(node);
            if nodes.is_empty() {
                self.remote.remove(&topic);
            }
        }
        if over {
            self.warn_limit("MAX_MEMBERS or MAX_REMOTE_ENTRIES");
        }
        let changed = touched
            .iter()
            .zip(before)
            .any(|(id, was)| self.is_member(&topic, id, now) != was);
        if changed {
            self.out.notices.insert(topic);
        }
    }

    /// Forgets the members of nodes not heard of in time, and announces the topics that lost a
    /// member.
    pub(super) fn expire(&mut self, now: Instant) {
        let mut gone: Vec<(String, Vec<String>)> = Vec::new();
        let mut dropped = 0;
        for (topic, nodes) in &mut self.remote {
            nodes.retain(|_, replica| {
                if replica.expires > now {
                    return true;
                }
                dropped += replica.members.len();
                gone.push((topic.clone(), replica.members.keys().cloned().collect()));
                false
            });
        }
        self.remote.retain(|_, nodes| !nodes.is_empty());
        self.remote_entries -= dropped;
        for (topic, ids) in gone {
            tracing::debug!(
                topic = %crate::error::Escaped(&topic),
                members = ids.len(),
                "dstar presence: another node's members expired"
            );
            if ids.iter().any(|id| !self.is_member(&topic, id, now)) {
                self.out.notices.insert(topic);
            }
        }
    }

    /// Every member of `topic`, on every node, by id.
    pub(super) fn merged(&self, topic: &str, now: Instant) -> HashMap<&str, Merged<'_>> {
        let mut merged: HashMap<&str, Merged<'_>> = HashMap::new();
        let local = self.local.get(topic).into_iter().flatten();
        let local = local.map(|(id, entry)| (&*self.node, id, entry));
        let remote = self.remote.get(topic).into_iter().flatten();
        let remote = remote
            .filter(|(_, replica)| replica.expires > now)
            .flat_map(|(node, replica)| {
                replica
                    .members
                    .iter()
                    .map(move |(id, entry)| (node.as_str(), id, entry))
            });
        for (node, id, entry) in local.chain(remote) {
            let first = (entry.joined, node);
            let member = merged.entry(id.as_str()).or_insert(Merged {
                count: 0,
                joined: entry.joined,
                first,
                meta: &entry.meta,
            });
            member.count += entry.count as usize;
            if first < member.first {
                member.first = first;
                member.joined = entry.joined;
                member.meta = &entry.meta;
            }
        }
        merged
    }

    /// Everything to publish now, in order: diffs, full states, change notices (after the diffs
    /// they follow), the state request.
    pub(super) fn take(&mut self) -> Vec<Out> {
        let every_ms = u64::try_from(self.every.as_millis()).unwrap_or(u64::MAX);
        let node = self.node.to_string();
        let wire = |body| {
            Out::Wire(Wire {
                node: node.clone(),
                body,
            })
        };
        let mut batch = Vec::new();
        self.out.pending = 0;
        let diffs = std::mem::take(&mut self.out.diffs)
            .into_iter()
            .map(|(topic, changes)| (topic, changes.into_iter().collect::<Vec<_>>()));
        for topics in chunks(diffs) {
            batch.push(wire(Body::Diff { every_ms, topics }));
        }
        if std::mem::take(&mut self.out.snapshots) {
            let local = self.local.iter().map(|(topic, members)| {
                let members = members.iter().map(|(id, e)| (id.clone(), e.clone()));
                (topic.clone(), members.collect::<Vec<_>>())
            });
            for topics in chunks(local) {
                batch.push(wire(Body::Snapshot { every_ms, topics }));
            }
        }
        batch.extend(
            std::mem::take(&mut self.out.notices)
                .into_iter()
                .map(Out::Notice),
        );
        if std::mem::take(&mut self.out.sync) {
            batch.push(wire(Body::Sync));
        }
        batch
    }

    /// Puts back what could not be published; what changed since wins. Bounded like the rest
    /// of the outbox: past [`MAX_PENDING`] diffs, the full state goes instead; past
    /// [`MAX_TOPICS`] notices, the rest are dropped (logged).
    pub(super) fn put_back(&mut self, unsent: impl IntoIterator<Item = Out>) {
        for out in unsent {
            match out {
                Out::Notice(topic) if self.out.notices.len() < MAX_TOPICS => {
                    self.out.notices.insert(topic);
                }
                Out::Notice(_) => self.warn_limit("MAX_TOPICS (change notices)"),
                Out::Wire(Wire { body, .. }) => match body {
                    Body::Sync => self.out.sync = true,
                    Body::Snapshot { .. } => self.out.snapshots = true,
                    Body::Diff { topics, .. } => {
                        for (topic, changes) in topics {
                            for (id, entry) in changes {
                                let newer = self.out.diffs.get(&topic);
                                if !newer.is_some_and(|newer| newer.contains_key(&id)) {
                                    self.out.diff(&topic, &id, entry);
                                }
                            }
                        }
                    }
                },
            }
        }
    }
}

pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
