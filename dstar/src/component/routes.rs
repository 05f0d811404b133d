//! Component events as axum routes: each event is a route under `{base}/{module}`, and two
//! catch-alls answer what no route matches (an unknown component, an unknown event or a wrong
//! number of arguments) with a 404 that says which.

use super::{Component, ComponentRegistration};
use crate::event::{DispatchBase, States};
use axum::Router;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;

/// Every component's routes under `base`, and the 404s for what they don't match.
pub(crate) fn routes(
    base: &str,
    dispatch_base: &DispatchBase,
    states: &States,
    components: &[&'static ComponentRegistration],
) -> Result<Router, String> {
    if components.is_empty() {
        return Ok(Router::new());
    }
    let mut router = Router::new().route(
        &format!("{base}/{{*__dstar_component}}"),
        axum::routing::any(|| async {
            // no listing: the registered modules name the app's types, which is nobody's business
            not_found("unknown component", "unknown component".to_owned())
        }),
    );
    for &component in components {
        let module_base = format!("{base}/{}", component.module());
        router = router
            .merge((component.build)(states, &module_base, dispatch_base)?)
            .route(
                &format!("{module_base}/{{*__dstar_event}}"),
                axum::routing::any(move |uri: axum::http::Uri| async move {
                    unmatched_event(component, uri.path())
                }),
            );
    }
    Ok(router)
}

/// The 404 for a path under a known component that no event route matched.
fn unmatched_event(component: &ComponentRegistration, path: &str) -> Response {
    let module = component.module();
    let rest = path
        .split_once(&format!("/{module}/"))
        .map_or("", |(_, rest)| rest);
    let mut segments = rest.split('/');
    let event = segments.next().unwrap_or("");
    let args = segments.count();
    match component.events.iter().find(|e| e.name == event) {
        Some(info) => not_found(
            "wrong number of arguments",
            format!(
                "event `{event}` on component `{}` takes {} argument(s) ({}), got {args}",
                component.path,
                info.args.len(),
                info.args.join(", "),
            ),
        ),
        None => {
            let known: Vec<&str> = component.events.iter().map(|e| e.name).collect();
            not_found(
                "unknown event",
                format!(
                    "unknown event `{event}` on component `{}`; events here: {}",
                    component.path,
                    known.join(", ")
                ),
            )
        }
    }
}

/// A `404` with the whole `message` in debug builds, only `class` in release builds.
fn not_found(class: &'static str, message: String) -> Response {
    crate::error::refusal(StatusCode::NOT_FOUND, class, message)
}

/// Builds a component's router under `base` from the states (used by generated code).
pub fn build_component<C: Component>(
    states: &States,
    prefix: &str,
    base: &DispatchBase,
) -> Result<Router, String> {
    let state: C::State = states.get::<C::State>(&format!("component `{}`", C::PATH))?;
    Ok(C::routes(prefix, base).with_state(state))
}

/// `{base}{suffix}`: an event's route path (used by generated code).
pub fn event_route(base: &str, suffix: &str) -> String {
    format!("{base}{suffix}")
}

/// A type an `#[arg]` can be written with: `Display`. (Generated code checks it at the argument's
/// type, so a type that cannot be one is reported there.)
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an `#[arg]`: it is written into the event's URL with `Display`",
    label = "not `Display`",
    note = "an `#[arg]` is one URL segment (`FromStr + Display`): a number, a string, an id type; pass a list as signals instead"
)]
pub trait WriteUrlArg: std::fmt::Display {}

impl<T: std::fmt::Display> WriteUrlArg for T {}

/// A type an `#[arg]` can be read back as: `FromStr` with an error that says why.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an `#[arg]`: it is read back from the event's URL with `FromStr`",
    label = "not `FromStr`",
    note = "an `#[arg]` is one URL segment (`FromStr + Display`): a number, a string, an id type; pass a list as signals instead"
)]
pub trait ReadUrlArg: std::str::FromStr<Err: std::fmt::Display> {}

impl<T: std::str::FromStr<Err: std::fmt::Display>> ReadUrlArg for T {}

/// An `#[arg]` value for an event's action URL (used by generated code).
pub fn url_arg<T: WriteUrlArg>(value: &T) -> &dyn std::fmt::Display {
    value
}

/// A component event's URL arguments: the last path segments, percent-decoded.
#[derive(Debug)]
pub struct UrlArgs {
    event: &'static str,
    args: Vec<String>,
}

impl UrlArgs {
    /// The last `count` segments of the request's path; a bad escape or invalid UTF-8 is a 400.
    pub fn read(parts: &Parts, count: usize, event: &'static str) -> Result<UrlArgs, Response> {
        let path = parts.uri.path();
        let segments: Vec<&str> = path.rsplit('/').take(count).collect();
        let mut args = Vec::with_capacity(count);
        for segment in segments.into_iter().rev() {
            match decode_segment(segment) {
                // see `encode_arg`: one leading `~` marks an escaped value
                Some(arg) => args.push(match arg.strip_prefix('~') {
                    Some(rest) => rest.to_owned(),
                    None => arg,
                }),
                None => {
                    return Err(crate::error::refusal(
                        StatusCode::BAD_REQUEST,
                        "bad argument",
                        format!(
                            "bad argument `{segment}` for `{event}`: not valid percent-encoded UTF-8"
                        ),
                    ));
                }
            }
        }
        Ok(UrlArgs { event, args })
    }

    /// Argument `index` (named `name`) parsed as `T`, or a 400 naming it.
    pub fn parse<T: ReadUrlArg>(&self, index: usize, name: &str) -> Result<T, Response> {
        let raw = self.args.get(index).map(String::as_str).unwrap_or("");
        raw.parse::<T>().map_err(|e| {
            crate::error::refusal(
                StatusCode::BAD_REQUEST,
                "bad argument",
                format!(
                    "bad argument `{name}` = `{raw}` for `{}`: {e} (expected {})",
                    self.event,
                    std::any::type_name::<T>()
                ),
            )
        })
    }
}

/// A URL segment, percent-decoded; `None` for a malformed escape or invalid UTF-8.
fn decode_segment(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    // percent_decode passes a malformed escape through as it is: refuse it instead
    let well_formed = bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || bytes
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return None;
    }
    percent_encoding::percent_decode(bytes)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::ComponentEventInfo;
    use crate::error::{assert_quiet, quietly};

    static EVENTS: [ComponentEventInfo; 2] = [
        ComponentEventInfo {
            name: "toggle",
            method: "POST",
            args: &["id"],
        },
        ComponentEventInfo {
            name: "destroy",
            method: "POST",
            args: &["id"],
        },
    ];

    #[test]
    fn release_bodies_quote_no_argument_and_list_no_event() {
        let parts = axum::http::Request::get(
            "/_c/todo.TodoItem/toggle/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        )
        .body(())
        .unwrap()
        .into_parts()
        .0;
        let args = UrlArgs::read(&parts, 1, "toggle").unwrap();
        if cfg!(debug_assertions) {
            let (_, body) = crate::error::quiet_body(args.parse::<u32>(0, "id").unwrap_err());
            assert!(body.contains("<script>") && body.contains("u32"), "{body}");
        }
        let bad_escape = axum::http::Request::get("/_c/todo.TodoItem/toggle/%3Cscript%zz")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        let component =
            ComponentRegistration::new("todo::TodoItem", &EVENTS, |_, _, _| Ok(Router::new()));
        if cfg!(debug_assertions) {
            let path = format!("/_c/{}/<script>", component.module());
            let (_, body) = crate::error::quiet_body(unmatched_event(&component, &path));
            assert!(body.contains("events here: toggle, destroy"), "{body}");
        }
        quietly(|| {
            assert_quiet(args.parse::<u32>(0, "id").unwrap_err(), 400, "bad argument");
            let refused = UrlArgs::read(&bad_escape, 1, "toggle").unwrap_err();
            assert_quiet(refused, 400, "bad argument");
            let path = format!("/_c/{}/<script>", component.module());
            assert_quiet(unmatched_event(&component, &path), 404, "unknown event");
            let path = format!("/_c/{}/toggle/1/<script>", component.module());
            let refused = unmatched_event(&component, &path);
            assert_quiet(refused, 404, "wrong number of arguments");
        });
    }
}
