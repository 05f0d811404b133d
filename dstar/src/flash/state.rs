//! What the flash layer leaves in a request: the message to show, and the slot for the next one.

use super::message::Message;
use std::sync::{Arc, Mutex};

/// What the flash layer leaves in a request.
#[derive(Clone)]
pub(super) struct FlashState {
    /// The message to show, and its signed value (for the page to hand its stream).
    pub(super) shown: Option<(Message, String)>,
    pub(super) next: Arc<Mutex<Option<Message>>>,
}

/// The signed flash a page hands its stream (`<body data-ds-flash>`), when the page shows one.
pub(crate) fn page_value(extensions: &axum::http::Extensions) -> Option<String> {
    let state = extensions.get::<FlashState>()?;
    state.shown.as_ref().map(|(_, signed)| signed.clone())
}
