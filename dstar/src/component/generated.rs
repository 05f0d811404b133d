//! What `#[dstar::component]`'s generated code calls to register a component and to build its
//! actions (re-exported from `dstar::__private`, not part of the public API).

use super::{BASE_JS, ComponentRegistration, encode_arg};
use crate::actions::{Action, Verb, encode_segment};
use std::fmt;

/// Whether `events` holds `name`, at compile time (for the `post!`-style macros).
pub const fn has_event(events: &[&str], name: &str) -> bool {
    let mut i = 0;
    while i < events.len() {
        let (a, b) = (events[i].as_bytes(), name.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return true;
            }
        }
        i += 1;
    }
    false
}

/// What `inventory` collects for each component: a pointer to its
/// [`RegisteredComponent::registration`](crate::component::RegisteredComponent::registration).
pub struct ComponentEntry(fn() -> &'static ComponentRegistration);

impl ComponentEntry {
    /// The entry of one component's registration.
    pub const fn new(registration: fn() -> &'static ComponentRegistration) -> Self {
        ComponentEntry(registration)
    }

    pub(crate) fn registration(&self) -> &'static ComponentRegistration {
        (self.0)()
    }
}

inventory::collect!(ComponentEntry);

/// [`component_action`](crate::component::component_action) with the module already encoded (generated code caches it).
pub fn component_action_encoded(
    verb: Verb,
    module: &str,
    event: &str,
    args: &[&dyn fmt::Display],
) -> Action {
    let mut url = format!(
        "/{module}/{}",
        encode_segment(event).unwrap_or_else(|_| "_invalid".to_owned())
    );
    for arg in args {
        url.push('/');
        url.push_str(&encode_arg(&arg.to_string()));
    }
    match crate::event::DispatchBase::current() {
        // rendered while dstar handles a request: the base is known, the URL is plain
        Some(base) => Action::new(verb, &format!("{}{url}", base.as_str())),
        None => Action::from_js(
            verb,
            format!("{BASE_JS} + {}", crate::actions::js_single_quoted(&url)),
        ),
    }
}
