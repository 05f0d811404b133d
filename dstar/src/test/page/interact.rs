//! What a test does to a [`TestPage`] (click, fill, press, …), and the `data-on:*` handlers it
//! runs: bubbling from the element, guards checked, actions sent, signals assigned.

use super::TestPage;
use super::values::{camel, display, truthy};
use crate::test::dom;
use crate::test::expr::{self, Guard, Guarded, Statement, Term};
use axum::http::Method;
use scraper::ElementRef;
use serde_json::Value;

impl TestPage {
    /// Clicks the one element `selector` matches: a checkbox bound with `data-bind` toggles its
    /// signal first, then the `click` handlers run (the element's and its ancestors').
    #[track_caller]
    pub fn click<'a>(
        &'a mut self,
        selector: &'a str,
    ) -> impl std::future::Future<Output = &'a mut Self> + 'a {
        let target = self.target(selector);
        async move {
            if self.is_checkbox(&target) {
                if let Some(signal) = self.bound_signal(&target) {
                    let checked = truthy(self.signal(&signal));
                    self.set_signal(&signal, Value::Bool(!checked));
                }
            }
            self.dispatch(&target, "click", None, None).await;
            self
        }
    }

    /// Double-clicks the one element `selector` matches (its `dblclick` handlers).
    #[track_caller]
    pub fn dblclick<'a>(
        &'a mut self,
        selector: &'a str,
    ) -> impl std::future::Future<Output = &'a mut Self> + 'a {
        self.fire(selector, "dblclick", None)
    }

    /// Types `text` into the one input `selector` matches: its `data-bind` signal takes the value,
    /// then its `input` and `change` handlers run.
    #[track_caller]
    pub fn fill<'a>(
        &'a mut self,
        selector: &'a str,
        text: &'a str,
    ) -> impl std::future::Future<Output = &'a mut Self> + 'a {
        let target = self.target(selector);
        async move {
            if let Some(signal) = self.bound_signal(&target) {
                self.set_signal(&signal, Value::String(text.to_owned()));
            }
            self.dispatch(&target, "input", None, Some(text)).await;
            self.dispatch(&target, "change", None, Some(text)).await;
            self
        }
    }

    /// Presses `key` (`"Enter"`, `"Escape"`, …) in the one element `selector` matches: its
    /// `keydown` handlers run with `evt.key`, then any `keydown__window` handler on the page.
    #[track_caller]
    pub fn press<'a>(
        &'a mut self,
        selector: &'a str,
        key: &'a str,
    ) -> impl std::future::Future<Output = &'a mut Self> + 'a {
        self.fire(selector, "keydown", Some(key))
    }

    /// Leaves the one element `selector` matches (its `blur` handlers).
    #[track_caller]
    pub fn blur<'a>(
        &'a mut self,
        selector: &'a str,
    ) -> impl std::future::Future<Output = &'a mut Self> + 'a {
        self.fire(selector, "blur", None)
    }

    /// Runs the `event` handlers of the one element `selector` matches (the element is found
    /// now, so a missing one fails at the caller's line).
    #[track_caller]
    fn fire<'a>(
        &'a mut self,
        selector: &'a str,
        event: &'static str,
        key: Option<&'a str>,
    ) -> impl std::future::Future<Output = &'a mut Self> + 'a {
        let target = self.target(selector);
        async move {
            self.dispatch(&target, event, key, None).await;
            self
        }
    }

    /// What an interaction needs of its element, read before the page changes under it.
    #[track_caller]
    fn target(&self, selector: &str) -> Target {
        let element = self.one(selector);
        let mut chain = Vec::new();
        let mut node = Some(element);
        while let Some(e) = node {
            chain.push(
                e.value()
                    .attrs()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
            );
            node = e.parent().and_then(ElementRef::wrap);
        }
        Target {
            selector: selector.to_owned(),
            chain,
            value: element.value().attr("value").map(str::to_owned),
        }
    }

    fn is_checkbox(&self, target: &Target) -> bool {
        target.attr("type") == Some("checkbox")
    }

    /// The signal an element's `data-bind:name` (or `data-bind="name"`) ties it to.
    fn bound_signal(&self, target: &Target) -> Option<String> {
        target.chain[0].iter().find_map(|(k, v)| {
            let key = k.split("__").next().unwrap_or(k);
            if let Some(name) = key.strip_prefix("data-bind:") {
                Some(camel(name))
            } else if key == "data-bind" {
                Some(v.clone())
            } else {
                None
            }
        })
    }

    /// Runs the handlers of `event` on the target and its ancestors (bubbling), then the
    /// page's `__window` handlers of the same event.
    async fn dispatch(
        &mut self,
        target: &Target,
        event: &str,
        key: Option<&str>,
        value: Option<&str>,
    ) {
        let attribute = format!("data-on:{event}");
        let mut handlers = Vec::new();
        // bubbling from the target up; `__self` only on the target, `__stop` ends the bubbling,
        // and `__outside` (a click elsewhere) never fires for the element itself
        for (depth, attrs) in target.chain.iter().enumerate() {
            let mut stop = false;
            for (name, expression) in attrs {
                let (base, modifiers) = name.split_once("__").unwrap_or((name, ""));
                if base != attribute {
                    continue;
                }
                let has = |m: &str| {
                    modifiers
                        .split("__")
                        .any(|x| x.split('.').next() == Some(m))
                };
                if has("window") || has("outside") || (has("self") && depth > 0) {
                    continue;
                }
                stop |= has("stop");
                handlers.push(expression.clone());
            }
            if stop {
                break;
            }
        }
        let window = dom::selector("*");
        for element in self.dom.select(&window) {
            for (name, expression) in element.value().attrs() {
                let (base, modifiers) = name.split_once("__").unwrap_or((name, ""));
                if base == attribute && modifiers.contains("window") {
                    handlers.push(expression.to_owned());
                }
            }
        }
        let value = value.map(str::to_owned).or_else(|| target.value.clone());
        for expression in handlers {
            let handler = expr::parse_handler(&expression).unwrap_or_else(|why| {
                panic!(
                    "TestPage cannot run the `data-on:{event}` handler of {:?}: {why}\n  handler: {expression}",
                    target.selector
                )
            });
            for guarded in handler {
                if self.guards_hold(&guarded, key) {
                    self.run(&guarded.statement, value.as_deref()).await;
                }
            }
        }
    }

    fn guards_hold(&self, guarded: &Guarded, key: Option<&str>) -> bool {
        guarded.guards.iter().all(|g| match g {
            Guard::Key { key: wanted, equal } => (key == Some(wanted.as_str())) == *equal,
            Guard::Signal {
                signal,
                truthy: want,
            } => truthy(self.signal(signal)) == *want,
        })
    }

    async fn run(&mut self, statement: &Statement, value: Option<&str>) {
        match statement {
            Statement::Assign {
                signal,
                value: term,
            } => {
                let v = self.eval(term, value);
                self.set_signal(signal, v);
            }
            Statement::Action { verb, url } => {
                let url: String = url.iter().map(|t| display(&self.eval(t, value))).collect();
                let method = Method::from_bytes(verb.as_bytes()).expect("a checked verb");
                let response = self
                    .client
                    .event(method.clone(), &url, self.outgoing())
                    .await;
                self.apply(&method, &url, response);
            }
        }
    }

    pub(super) fn eval(&self, term: &Term, value: Option<&str>) -> Value {
        match term {
            Term::Literal(v) => v.clone(),
            Term::Signal(name) => self.signal(name).clone(),
            Term::Not(name) => Value::Bool(!truthy(self.signal(name))),
            Term::TargetValue => Value::String(value.unwrap_or("").to_owned()),
            Term::Pathname => {
                // as the browser computes it for dstar's actions: `/` becomes ``
                let path = self.path.split('?').next().unwrap_or("/");
                let trimmed = path.trim_matches('/');
                Value::String(if trimmed.is_empty() {
                    String::new()
                } else {
                    format!("/{trimmed}")
                })
            }
            Term::Search => Value::String(
                self.path
                    .split_once('?')
                    .map(|(_, q)| format!("?{q}"))
                    .unwrap_or_default(),
            ),
            Term::DispatchBase => Value::String(
                self.dom
                    .select(&dom::selector("body"))
                    .next()
                    .and_then(|b| b.value().attr("data-ds-base"))
                    .unwrap_or(crate::actions::DEFAULT_DISPATCH_BASE)
                    .trim_end_matches('/')
                    .to_owned(),
            ),
        }
    }

    /// The signals a request carries: all but those whose name starts with `_`.
    pub(super) fn outgoing(&self) -> Value {
        fn strip(v: &Value) -> Value {
            match v {
                Value::Object(map) => Value::Object(
                    map.iter()
                        .filter(|(k, _)| !k.starts_with('_'))
                        .map(|(k, v)| (k.clone(), strip(v)))
                        .collect(),
                ),
                other => other.clone(),
            }
        }
        strip(&self.signals)
    }
}

/// The attributes of an element and its ancestors, nearest first.
struct Target {
    selector: String,
    chain: Vec<Vec<(String, String)>>,
    value: Option<String>,
}

impl Target {
    fn attr(&self, name: &str) -> Option<&str> {
        self.chain[0]
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}
