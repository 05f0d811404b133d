//! The Datastar SDK conformance endpoint: `GET|POST /test` reads `{"events":[…]}` from the signals
//! and streams those events back. Run the official suite against `http://127.0.0.1:7331`.
//!
//! ```text
//! cargo run --example sdk-test-server
//! ```

use axum::Router;
use axum::http::StatusCode;
use axum::routing::any;
use dstar::elements::{Mode, Namespace, PatchElements};
use dstar::scripts::ExecuteScript;
use dstar::signals::PatchSignals;
use dstar::sse::EventOptions as _;
use dstar::{PreEscaped, Signals, Sse};
use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use std::time::Duration;

#[derive(Deserialize)]
struct TestInput {
    events: Vec<TestEvent>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
enum TestEvent {
    #[serde(rename_all = "camelCase")]
    PatchElements {
        elements: Option<String>,
        selector: Option<String>,
        mode: Option<String>,
        namespace: Option<String>,
        use_view_transition: Option<bool>,
        view_transition_selector: Option<String>,
        event_id: Option<String>,
        retry_duration: Option<u64>,
    },
    #[serde(rename_all = "camelCase")]
    PatchSignals {
        signals: Option<serde_json::Value>,
        #[serde(rename = "signals-raw")]
        signals_raw: Option<String>,
        only_if_missing: Option<bool>,
        event_id: Option<String>,
        retry_duration: Option<u64>,
    },
    #[serde(rename_all = "camelCase")]
    ExecuteScript {
        script: String,
        auto_remove: Option<bool>,
        attributes: Option<OrderedAttributes>,
        event_id: Option<String>,
        retry_duration: Option<u64>,
    },
}

/// Script attributes in the order the file gives them (`type` before `blocking`).
struct OrderedAttributes(Vec<(String, String)>);

impl<'de> Deserialize<'de> for OrderedAttributes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedAttributes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of attributes")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
                    let v = match v {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    out.push((k, v));
                }
                Ok(OrderedAttributes(out))
            }
        }
        d.deserialize_map(V)
    }
}

type Rejection = (StatusCode, String);

fn bad(message: impl std::fmt::Display) -> Rejection {
    (StatusCode::BAD_REQUEST, message.to_string())
}

async fn test(Signals(input): Signals<TestInput>) -> Result<Sse, Rejection> {
    let mut sse = Sse::new();
    for event in input.events {
        write_event(&mut sse, event)?;
    }
    Ok(sse)
}

fn write_event(sse: &mut Sse, event: TestEvent) -> Result<(), Rejection> {
    let retry = |ms: Option<u64>| ms.map(Duration::from_millis);
    match event {
        TestEvent::PatchElements {
            elements,
            selector,
            mode,
            namespace,
            use_view_transition,
            view_transition_selector,
            event_id,
            retry_duration,
        } => {
            let mode = match mode.as_deref() {
                None => Mode::Outer,
                Some(m) => Mode::parse(m).ok_or_else(|| bad(format!("unknown mode `{m}`")))?,
            };
            let namespace = match namespace.as_deref() {
                None | Some("html") => Namespace::Html,
                Some("svg") => Namespace::Svg,
                Some("mathml") => Namespace::MathMl,
                Some(n) => return Err(bad(format!("unknown namespace `{n}`"))),
            };
            let options = ElementOptions {
                selector,
                mode,
                namespace,
                use_view_transition: use_view_transition.unwrap_or(false),
                view_transition_selector,
                event_id,
                retry: retry(retry_duration),
            };
            match elements {
                // the test cases send HTML for the server to echo: trusted here by definition
                Some(html) => sse.send(options.apply(PatchElements::new(PreEscaped(html)))),
                None if mode == Mode::Remove => {
                    let selector = options
                        .selector
                        .clone()
                        .ok_or_else(|| bad("mode `remove` needs a selector"))?;
                    sse.send(options.apply(PatchElements::remove(selector)))
                }
                None => return Err(bad("`elements` is required unless mode is `remove`")),
            }
            .map_err(bad)?;
        }
        TestEvent::PatchSignals {
            signals,
            signals_raw,
            only_if_missing,
            event_id,
            retry_duration,
        } => {
            let only = only_if_missing.unwrap_or(false);
            let (id, retry) = (event_id, retry(retry_duration));
            if let Some(raw) = signals_raw.as_deref() {
                let mut patch = PatchSignals::raw(raw).only_if_missing(only);
                if let Some(id) = id {
                    patch = patch.id(id);
                }
                if let Some(r) = retry {
                    patch = patch.retry(r);
                }
                sse.send(patch).map_err(bad)?;
            } else {
                let signals =
                    signals.ok_or_else(|| bad("`signals` or `signals-raw` is required"))?;
                let mut patch = PatchSignals::new(signals).only_if_missing(only);
                if let Some(id) = id {
                    patch = patch.id(id);
                }
                if let Some(r) = retry {
                    patch = patch.retry(r);
                }
                sse.send(patch).map_err(bad)?;
            }
        }
        TestEvent::ExecuteScript {
            script,
            auto_remove,
            attributes,
            event_id,
            retry_duration,
        } => {
            let mut exec = ExecuteScript::new(script).auto_remove(auto_remove.unwrap_or(true));
            for (name, value) in attributes.map(|a| a.0).unwrap_or_default() {
                exec = exec.attribute(&name, &value).map_err(bad)?;
            }
            if let Some(id) = event_id {
                exec = exec.id(id);
            }
            if let Some(r) = retry(retry_duration) {
                exec = exec.retry(r);
            }
            sse.send(exec).map_err(bad)?;
        }
    }
    Ok(())
}

struct ElementOptions {
    selector: Option<String>,
    mode: Mode,
    namespace: Namespace,
    use_view_transition: bool,
    view_transition_selector: Option<String>,
    event_id: Option<String>,
    retry: Option<Duration>,
}

impl ElementOptions {
    fn apply<H>(self, mut patch: PatchElements<H>) -> PatchElements<H> {
        patch = patch
            .mode(self.mode)
            .namespace(self.namespace)
            .use_view_transition(self.use_view_transition);
        if let Some(s) = self.selector {
            patch = patch.selector(s);
        }
        if let Some(s) = self.view_transition_selector {
            patch = patch.view_transition_selector(s);
        }
        if let Some(id) = self.event_id {
            patch = patch.id(id);
        }
        if let Some(r) = self.retry {
            patch = patch.retry(r);
        }
        patch
    }
}

/// The conformance router: `/test` for GET and POST.
pub fn app() -> Router {
    Router::new().route("/test", any(test))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    // `any` serves both methods the conformance cases use
    let routes = dstar::Routes::new().route("/test", &["GET", "POST"], any(test));
    dstar::Server::from_routes(routes)
        .default_addr("127.0.0.1:7331")
        .run()
        .await
}
