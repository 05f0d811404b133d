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

fn decode_segment(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
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
            let mut known: Vec<&str> = self.modules.keys().map(String::as_str).collect();
            known.sort_unstable();
            return not_found(format!(
                "unknown component module `{module}`; modules here: {}",
                known.join(", ")
            ));
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
