//! What nodes tell each other on the internal topic: a member's entry, diffs, snapshots and
//! sync requests.

use super::*;

/// A member on one node, as kept and sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Entry {
    /// Its joins on that node.
    pub(super) count: u32,
    /// When it first joined there, in milliseconds since the Unix epoch.
    pub(super) joined: u64,
    pub(super) meta: serde_json::Value,
}

/// A message on the internal topic.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Wire {
    pub(super) node: String,
    pub(super) body: Body,
}

/// A member id and its entry now, or `None` when it left.
pub(super) type MemberChange = (String, Option<Entry>);

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Body {
    /// Members of the node that changed, per topic: their entry now, or `None` when they left.
    Diff {
        every_ms: u64,
        topics: Vec<(String, Vec<MemberChange>)>,
    },
    /// All the node's members on some topics (a heartbeat, or an answer to `Sync`); a node's
    /// full state takes as many of these as [`CHUNK`] members a message allows.
    Snapshot {
        every_ms: u64,
        topics: Vec<(String, Vec<(String, Entry)>)>,
    },
    /// "Send me your state": from a node that starts or lost messages.
    Sync,
}

/// `topics` grouped into messages of at most [`CHUNK`] members (a bigger topic alone).
pub(super) fn chunks<T>(
    topics: impl Iterator<Item = (String, Vec<T>)>,
) -> Vec<Vec<(String, Vec<T>)>> {
    let mut chunks: Vec<Vec<(String, Vec<T>)>> = Vec::new();
    let mut size = 0;
    for (topic, members) in topics {
        if chunks.is_empty() || size + members.len() > CHUNK {
            chunks.push(Vec::new());
            size = 0;
        }
        size += members.len();
        if let Some(chunk) = chunks.last_mut() {
            chunk.push((topic, members));
        }
    }
    chunks
}
