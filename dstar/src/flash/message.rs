//! One flash message: its [`Level`] and its text.

use serde::{Deserialize, Serialize};

/// How a message is meant: it becomes the `flash-{level}` class.
///
/// ```
/// assert_eq!(dstar::flash::Level::Success.as_str(), "success");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Neutral news.
    Info,
    /// Something worked.
    Success,
    /// Something needs attention.
    Warning,
    /// Something failed.
    Error,
}

impl Level {
    /// `"info"`, `"success"`, `"warning"` or `"error"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Success => "success",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// One message.
///
/// ```
/// let m = dstar::flash::Message { level: dstar::flash::Level::Info, text: "Saved".into() };
/// assert_eq!(m.text, "Saved");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// How it is meant.
    pub level: Level,
    /// The text (shown escaped).
    pub text: String,
}
