//! What the generated code of `#[dstar::page]` and `#[dstar::component]` calls to answer an event
//! and to find its state (re-exported from `dstar::__private`, not part of the public API).

use crate::sse::Sse;
use axum::response::{IntoResponse as _, Response};
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// Turns a handler's events and error (from [`EventOutcome::into_error`](super::EventOutcome::into_error)) into the response. An
/// error keeps the events written before it, is logged, and in debug builds is also sent to the
/// browser as `console.error`.
pub fn finish_event(mut sse: Sse, owner: &str, event: &str, error: Option<String>) -> Response {
    if let Some(error) = error {
        tracing::error!(
            owner,
            event,
            error = %crate::error::Escaped(&error),
            "dstar event handler failed"
        );
        sse.report_error(&format_args!("{owner}/{event}: {error}"));
    }
    sse.into_response()
}

/// Router states by type, for pages and components declared with `state = T`.
#[derive(Default, Clone)]
pub struct States(HashMap<TypeId, Arc<dyn Any + Send + Sync>>);

impl States {
    pub(crate) fn insert<S: Clone + Send + Sync + 'static>(&mut self, state: S) {
        self.0.insert(TypeId::of::<S>(), Arc::new(state));
    }

    /// The state of type `S` that `owner` (``page `Counter` ``) declared (`()` needs none).
    pub fn get<S: Clone + Send + Sync + 'static>(&self, owner: &str) -> Result<S, String> {
        if let Some(unit) = (&() as &dyn Any).downcast_ref::<S>() {
            return Ok(unit.clone());
        }
        self.0
            .get(&TypeId::of::<S>())
            .and_then(|s| s.downcast_ref::<S>())
            .cloned()
            .ok_or_else(|| {
                format!(
                    "{owner} needs state `{}`: build the app with `.state(value)` or `dstar::app!(value)`",
                    std::any::type_name::<S>()
                )
            })
    }
}

impl fmt::Debug for States {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "States({} types)", self.0.len())
    }
}
