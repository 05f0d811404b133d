use super::ComponentRegistration;
use crate::page::States;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;

/// One dispatched request, as a component's generated dispatcher receives it.
#[derive(Debug)]
pub struct ComponentCall {
    /// The event name.
    pub event: String,
    /// The decoded URL arguments.
    pub args: Vec<String>,
    /// The request (its body is still unread).
    pub request: Request,
    /// The router states given to the app.
    pub states: States,
}

struct Dispatch {
    base: String,
    modules: HashMap<String, &'static ComponentRegistration>,
    states: States,
}

/// The dispatch route for `components` under `base`: `ANY {base}/{*rest}`.
pub fn dispatch_routes(
    base: &str,
    states: States,
    components: &[&'static ComponentRegistration],
) -> Router {
    if components.is_empty() {
        return Router::new();
    }
    let dispatch = Arc::new(Dispatch {
        base: base.to_owned(),
        modules: components.iter().map(|c| (c.module(), *c)).collect(),
        states,
    });
    Router::new().route(
        &format!("{base}/{{*__dstar_dispatch}}"),
        axum::routing::any(move |req: Request| {
            let dispatch = dispatch.clone();
            async move { dispatch.handle(req).await }
        }),
    )
}

fn not_found(message: String) -> Response {
    (StatusCode::NOT_FOUND, message).into_response()
}

/// A URL segment, percent-decoded; `None` for a bad escape or invalid UTF-8.
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

impl Dispatch {
    async fn handle(&self, req: Request) -> Response {
        let path = req.uri().path().to_owned();
        let rest = path
            .strip_prefix(self.base.as_str())
            .unwrap_or(&path)
            .trim_start_matches('/');
        let mut segments = rest.split('/');
        let module = segments.next().unwrap_or("");
        let event = segments.next().unwrap_or("");
        let Some(component) = self.modules.get(module) else {
            // no listing: the registered modules name the app's types, which is nobody's business
            tracing::debug!(module, "dstar: unknown component module");
            return not_found("unknown component".to_owned());
        };
        let Some(info) = component.events.iter().find(|e| e.name == event) else {
            let known: Vec<&str> = component.events.iter().map(|e| e.name).collect();
            return not_found(format!(
                "unknown event `{event}` on component `{}`; events here: {}",
                component.path,
                known.join(", ")
            ));
        };
        if req.method().as_str() != info.method {
            let mut response = (
                StatusCode::METHOD_NOT_ALLOWED,
                format!("`{}` on `{}` takes {}", event, component.path, info.method),
            )
                .into_response();
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(info.method));
            return response;
        }
        let mut args = Vec::new();
        for segment in segments {
            match decode_segment(segment) {
                Some(arg) => args.push(arg),
                None => {
                    return (
                        StatusCode::BAD_REQUEST,
                        format!("bad argument `{segment}` for `{event}`: not valid percent-encoded UTF-8"),
                    )
                        .into_response();
                }
            }
        }
        if args.len() != info.args.len() {
            return not_found(format!(
                "event `{event}` on component `{}` takes {} argument(s) ({}), got {}",
                component.path,
                info.args.len(),
                info.args.join(", "),
                args.len()
            ));
        }
        (component.dispatch)(super::ComponentCall {
            event: event.to_owned(),
            args,
            request: req,
            states: self.states.clone(),
        })
        .await
    }
}

/// Parses URL argument `index` (named `name`) of `call`, or answers 400 naming it.
#[doc(hidden)]
#[allow(clippy::result_large_err)]
pub fn parse_arg<T: std::str::FromStr>(
    call: &ComponentCall,
    index: usize,
    name: &str,
) -> Result<T, Response>
where
    T::Err: std::fmt::Display,
{
    let raw = call.args.get(index).map(String::as_str).unwrap_or("");
    raw.parse::<T>().map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            format!(
                "bad argument `{name}` = `{raw}` for `{}`: {e} (expected {})",
                call.event,
                std::any::type_name::<T>()
            ),
        )
            .into_response()
    })
}
