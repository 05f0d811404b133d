//! [`TestPage`]: drive a page the way a browser with Datastar would, without a browser.

use super::client::Batch;
use super::dom::{self, Place};
use super::expr::{self, Guard, Guarded, Statement, Term};
use super::{SseEvent, TestClient, TestResponse, TestStream, element_patches};
use axum::Router;
use axum::http::Method;
use scraper::{ElementRef, Html};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// A page opened without a browser: its HTML (parsed by `scraper`), its signals, and the client
/// that talks to the app. Interactions find an element by CSS selector, run its `data-on:*`
/// handler as Datastar would (the actions dstar writes, key checks such as
/// `evt.key === 'Enter' &&`, and `$signal = value` assignments), send the request with the page's
/// signals, and apply the answer: element patches by id or selector in every mode, signal
/// patches merged, scripts kept in [`scripts`](TestPage::scripts).
///
/// A handler this helper cannot run (any other JavaScript) fails the test with the expression
/// quoted, rather than being skipped.
///
/// A page's stream (its `data-init=(connect())`) opens with [`connect`](TestPage::connect), and
/// what it sends is applied by [`wait_until`](TestPage::wait_until), which reads the stream until
/// the page shows what the test waits for. Like the browser, the page reconnects when its stream
/// ends, with `Last-Event-ID`, so a stream's catch-up render is applied too. Two pages opened with
/// their own [`TestClient`]s are two browsers: one's clicks reach the other through its stream.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use dstar::prelude::*;
/// use dstar::test::TestPage;
///
/// async fn page() -> Markup {
///     html! { body data-signals:count="0" {
///         span #count data-text="$count" { "0" }
///         button data-on:click="@post('/add')" { "+1" }
///     } }
/// }
/// async fn add(Signals(s): Signals) -> Sse {
///     let mut sse = Sse::new();
///     sse.patch_signals(json!({ "count": s["count"].as_i64().unwrap() + 1 }));
///     sse
/// }
/// let app = axum::Router::new()
///     .route("/", axum::routing::get(page))
///     .route("/add", axum::routing::post(add));
///
/// let mut page = TestPage::open(app, "/").await;
/// page.click("button").await;
/// page.click("button").await;
/// assert_eq!(page.text("#count"), "2");
/// assert_eq!(page.signals()["count"], 2);
/// # });
/// ```
#[derive(Debug)]
pub struct TestPage {
    client: TestClient,
    path: String,
    dom: Html,
    signals: Value,
    scripts: Vec<String>,
    /// The page's stream, once [`connect`](TestPage::connect)ed: its URL and the response.
    stream: Option<(String, TestStream)>,
    /// How many times the stream was opened again after it ended.
    reconnects: usize,
}

/// Stand-ins for values only a browser computes (a tab's id from its `sessionStorage`): unique
/// in the process, so two pages are two tabs.
static STAND_INS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl TestPage {
    /// `GET path` on `app`, as a browser opens a page. Panics unless the answer is a 200.
    pub async fn open(app: Router, path: &str) -> TestPage {
        TestPage::open_with(TestClient::new(app), path).await
    }

    /// [`open`](TestPage::open) with a client you made (its cookies and token carry over).
    pub async fn open_with(client: TestClient, path: &str) -> TestPage {
        let response = client.get(path).await;
        assert_eq!(
            response.status.as_u16(),
            200,
            "GET {path} answered {}: {}",
            response.status,
            response.text()
        );
        let mut page = TestPage {
            client,
            path: path.to_owned(),
            dom: Html::parse_document(&response.text()),
            signals: Value::Object(Map::new()),
            scripts: Vec::new(),
            stream: None,
            reconnects: 0,
        };
        let dom = page.dom.clone();
        page.init_signals(&dom);
        page
    }

    /// Opens the page again (a reload): the server renders it afresh, the signals start over, and
    /// a page that was [`connect`](TestPage::connect)ed opens its stream again.
    pub async fn reload(&mut self) {
        let client = std::mem::replace(&mut self.client, TestClient::new(Router::new()));
        let path = self.path.clone();
        let connected = self.stream.take().is_some();
        *self = TestPage::open_with(client, &path).await;
        if connected {
            self.connect().await;
        }
    }

    /// Opens the page's stream as the browser does when its `data-init` runs: the action there
    /// (dstar's `connect()`, a `POST` to the page's own path) is sent with the page's signals and
    /// its render time (`x-dstar-rendered`). Panics when the page has no `data-init` action, or
    /// when the answer is not a stream. Read what it sends with
    /// [`wait_until`](TestPage::wait_until).
    #[track_caller]
    pub fn connect(&mut self) -> impl std::future::Future<Output = &mut Self> + '_ {
        let caller = std::panic::Location::caller();
        let mut actions = Vec::new();
        for element in self.dom.select(&dom::selector("*")) {
            for (name, expression) in element.value().attrs() {
                if name.split("__").next() != Some("data-init") {
                    continue;
                }
                let handler = expr::parse_handler(expression).unwrap_or_else(|why| {
                    panic!("{caller}: TestPage cannot run a `data-init` of {}: {why}\n  expression: {expression}", self.path)
                });
                for guarded in handler {
                    if let Statement::Action { verb, url } = guarded.statement {
                        actions.push((verb, url));
                    }
                }
            }
        }
        let (verb, url) = match actions.len() {
            1 => actions.remove(0),
            0 => panic!(
                "{caller}: no `data-init` on {} opens a stream: a page opens its own with `data-init=(connect())`",
                self.path
            ),
            n => panic!(
                "{caller}: {n} `data-init` actions on {}: TestPage follows one stream per page",
                self.path
            ),
        };
        assert_eq!(
            verb, "POST",
            "{caller}: the `data-init` action of {} is a {verb}: TestPage opens streams with POST, as `connect()` does",
            self.path
        );
        let url: String = url.iter().map(|t| display(&self.eval(t, None))).collect();
        async move {
            let stream = self.open_stream(&url, None).await;
            self.stream = Some((url, stream));
            self
        }
    }

    /// Reads the page's stream, applying what it sends, until `what` holds for the page; panics
    /// after `timeout` with the page as it is then. A stream that ends is opened again at once,
    /// with `Last-Event-ID`, as Datastar's `retry: 'always'` does (after a second or so, in a
    /// browser), so its catch-up render is applied too.
    ///
    /// ```standalone_crate
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use dstar::axum::extract::State;
    /// use dstar::prelude::*;
    /// use dstar::test::{TestClient, TestPage};
    /// use std::time::Duration;
    ///
    /// #[derive(Clone, Default)]
    /// struct Chat { pubsub: PubSub }
    ///
    /// #[derive(Default)]
    /// struct Room;
    ///
    /// #[dstar::page("/room", state = Chat)]
    /// impl Room {
    ///     fn render(&self) -> Markup {
    ///         html! { div data-signals:said="''" data-init=(connect()) {
    ///             p #said data-text="$said" {}
    ///             button data-on:click=(event("wave")) { "Wave" }
    ///         } }
    ///     }
    ///     async fn subscribe(State(chat): State<Chat>) -> Subscription<String> {
    ///         chat.pubsub.subscribe("room")
    ///     }
    ///     async fn on_message(sse: &mut Sse, said: String) {
    ///         sse.patch_signals(json!({ "said": said }));
    ///     }
    ///     #[event]
    ///     async fn wave(State(chat): State<Chat>) {
    ///         let _ = chat.pubsub.publish("room", "hello".to_owned()).await;
    ///     }
    /// }
    ///
    /// let app = dstar::App::empty().page::<Room>().state(Chat::default()).build();
    /// // two browsers on the same page
    /// let mut alice = TestPage::open(app.clone(), "/room").await;
    /// let mut bob = TestPage::open_with(TestClient::new(app), "/room").await;
    /// bob.connect().await;
    /// alice.click("button").await;
    /// bob.wait_until(|page| page.signals()["said"] == "hello", Duration::from_secs(5)).await;
    /// # });
    /// ```
    #[track_caller]
    pub fn wait_until<'a>(
        &'a mut self,
        what: impl Fn(&TestPage) -> bool + 'a,
        timeout: std::time::Duration,
    ) -> impl std::future::Future<Output = &'a mut Self> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let deadline = tokio::time::Instant::now() + timeout;
            while !what(self) {
                let Some((url, stream)) = self.stream.as_mut() else {
                    panic!(
                        "{caller}: the page is not what the test waits for, and it has no stream to wait on (call `connect` first)\n  page: {}\n  signals: {}",
                        self.html(),
                        self.signals
                    );
                };
                match stream.next_batch(deadline).await {
                    Batch::Events(events) => self.apply_events(&events),
                    Batch::Ended if tokio::time::Instant::now() < deadline => {
                        // Datastar's `retry: 'always'`: the same request, with the last event id
                        let last = stream.last_event_id();
                        let url = url.clone();
                        let again = self.open_stream(&url, last.as_deref()).await;
                        self.stream = Some((url, again));
                        self.reconnects += 1;
                    }
                    Batch::Ended => panic!(
                        "{caller}: timed out after {timeout:?} waiting for the page (its stream ended, {} reconnects so far)\n  page: {}\n  signals: {}",
                        self.reconnects,
                        self.html(),
                        self.signals
                    ),
                    Batch::Nothing => panic!(
                        "{caller}: timed out after {timeout:?} waiting for the page\n  page: {}\n  signals: {}",
                        self.html(),
                        self.signals
                    ),
                }
            }
            self
        }
    }

    /// Opens `url` as the page's stream, with the page's signals and render time, and
    /// `Last-Event-ID` when it reconnects.
    async fn open_stream(&self, url: &str, last_event_id: Option<&str>) -> TestStream {
        let rendered = self
            .dom
            .select(&dom::selector("body"))
            .next()
            .and_then(|b| b.value().attr("data-ds-rendered"))
            .unwrap_or("")
            .to_owned();
        let mut headers = vec![(crate::page::RENDERED_HEADER, rendered.as_str())];
        if let Some(id) = last_event_id {
            headers.push(("last-event-id", id));
        }
        let mut stream = self
            .client
            .stream_with_headers(url, self.outgoing(), &headers)
            .await;
        if let Some(refusal) = stream.refusal().await {
            panic!(
                "the stream of {} (POST {url}) answered {refusal}",
                self.path
            );
        }
        stream
    }

    /// How many times the page's stream ended and was opened again (by
    /// [`wait_until`](TestPage::wait_until)), to check that a stream stays open, or that it
    /// ended when it should have.
    pub fn reconnects(&self) -> usize {
        self.reconnects
    }

    /// The client: its cookies, its CSRF token, and streams.
    pub fn client(&self) -> &TestClient {
        &self.client
    }

    /// The whole document as HTML.
    pub fn html(&self) -> String {
        self.dom.root_element().html()
    }

    /// The page's signals, as the browser holds them.
    pub fn signals(&self) -> &Value {
        &self.signals
    }

    /// The scripts the server ran in the page (`ExecuteScript`, `console_log`, redirects), in order.
    pub fn scripts(&self) -> &[String] {
        &self.scripts
    }

    /// The text of the one element `selector` matches, whitespace collapsed. An element with
    /// `data-text="$signal"` shows that signal's value, as Datastar would. Panics unless exactly
    /// one element matches.
    #[track_caller]
    pub fn text(&self, selector: &str) -> String {
        let element = self.one(selector);
        match element.value().attr("data-text").map(str::trim) {
            Some(expr) if expr.starts_with('$') => display(self.signal(&expr[1..])),
            _ => dom::text_of(element),
        }
    }

    /// The texts of every element `selector` matches, in document order.
    pub fn texts(&self, selector: &str) -> Vec<String> {
        self.dom
            .select(&dom::selector(selector))
            .map(dom::text_of)
            .collect()
    }

    /// How many elements `selector` matches.
    pub fn count(&self, selector: &str) -> usize {
        self.dom.select(&dom::selector(selector)).count()
    }

    /// Whether `selector` matches anything.
    pub fn exists(&self, selector: &str) -> bool {
        self.count(selector) > 0
    }

    /// An attribute of the one element `selector` matches.
    #[track_caller]
    pub fn attr(&self, selector: &str, name: &str) -> Option<String> {
        self.one(selector).value().attr(name).map(str::to_owned)
    }

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

    #[track_caller]
    fn one(&self, selector: &str) -> ElementRef<'_> {
        let found: Vec<ElementRef<'_>> = self.dom.select(&dom::selector(selector)).collect();
        match found.len() {
            1 => found[0],
            0 => panic!(
                "no element matches {selector:?} on {}\n  page: {}",
                self.path,
                self.html()
            ),
            n => panic!(
                "{n} elements match {selector:?} on {}: make the selector match one (an id, or :nth-child)",
                self.path
            ),
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

    fn eval(&self, term: &Term, value: Option<&str>) -> Value {
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
    fn outgoing(&self) -> Value {
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

    /// Applies an answer: patches from an event stream; an error fails the test.
    #[track_caller]
    fn apply(&mut self, method: &Method, url: &str, response: TestResponse) {
        let status = response.status.as_u16();
        assert!(
            status < 400,
            "{method} {url} answered {status}: {}",
            response.text()
        );
        let is_stream = response
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if is_stream {
            self.apply_events(&response.events());
        }
    }

    fn apply_events(&mut self, events: &[SseEvent]) {
        for event in events {
            match event.event.as_str() {
                "datastar-patch-signals" => {
                    let only_if_missing = event.value("onlyIfMissing").as_deref() == Some("true");
                    for line in event.lines("signals") {
                        let patch: Value = serde_json::from_str(line)
                            .unwrap_or_else(|e| panic!("invalid signals patch {line:?}: {e}"));
                        super::signals::merge(&mut self.signals, &patch, only_if_missing);
                    }
                }
                "datastar-patch-elements" => {
                    for patch in element_patches(std::slice::from_ref(event)) {
                        self.patch_elements(patch.selector.as_deref(), &patch.mode, &patch.html);
                    }
                }
                _ => {}
            }
        }
    }

    fn patch_elements(&mut self, selector: Option<&str>, mode: &str, html: &str) {
        let place = Place::from_mode(mode).unwrap_or_else(|| panic!("unknown patch mode {mode:?}"));
        let mut patches = HashMap::new();
        match selector {
            Some(css) => {
                for element in self.dom.select(&dom::selector(css)) {
                    patches.insert(element.id(), (place, html.to_owned()));
                }
                assert!(
                    !patches.is_empty(),
                    "a patch targets {css:?}, which matches nothing on {}",
                    self.path
                );
            }
            None => {
                for (id, outer) in dom::top_level_elements(html) {
                    let id = id.unwrap_or_else(|| {
                        panic!("a patch without a selector has a top-level element without an id: {outer}")
                    });
                    let found = self
                        .dom
                        .select(&dom::selector(&format!("[id=\"{id}\"]")))
                        .next()
                        .unwrap_or_else(|| {
                            panic!("a patch targets #{id}, which is not on {}", self.path)
                        });
                    patches.insert(found.id(), (place, outer));
                }
            }
        }
        self.dom = dom::patched(&self.dom, &patches);
        // new elements bring their signals, as Datastar initializes them
        if place != Place::Remove {
            self.init_signals(&Html::parse_fragment(html));
        }
        // a script patched into the page runs there: keep it
        let scripts = scraper::Html::parse_fragment(html);
        for script in scripts.select(&dom::selector("script")) {
            self.scripts.push(script.text().collect());
        }
    }

    /// The `data-signals` of every element in `html`.
    fn init_signals(&mut self, html: &Html) {
        for element in html.select(&dom::selector("*")) {
            for (name, value) in element.value().attrs() {
                let (base, modifiers) = name.split_once("__").unwrap_or((name, ""));
                let only_if_missing = modifiers.contains("ifmissing");
                if base == "data-signals" {
                    let patch = expr::parse_literal(value.trim()).unwrap_or_else(|why| {
                        panic!("TestPage cannot read `data-signals=\"{value}\"` ({why}): write it as JSON")
                    });
                    super::signals::merge(&mut self.signals, &patch, only_if_missing);
                } else if let Some(key) = base.strip_prefix("data-signals:") {
                    let parsed = expr::parse_literal(value.trim()).unwrap_or_else(|_| {
                        // an expression only a browser can run (the tab id): a stand-in value
                        let n = STAND_INS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                        Value::String(format!("test-{n}"))
                    });
                    let path = key.split('.').map(camel).collect::<Vec<_>>().join(".");
                    let patch = nest(&path, parsed);
                    super::signals::merge(&mut self.signals, &patch, only_if_missing);
                }
            }
        }
    }

    fn signal(&self, path: &str) -> &Value {
        path.split('.')
            .try_fold(&self.signals, |v, key| v.get(key))
            .unwrap_or(&Value::Null)
    }

    fn set_signal(&mut self, path: &str, value: Value) {
        super::signals::merge(&mut self.signals, &nest(path, value), false);
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

/// `{"a": {"b": value}}` for `a.b`.
fn nest(path: &str, value: Value) -> Value {
    path.rsplit('.').fold(value, |inner, key| {
        let mut map = Map::new();
        map.insert(key.to_owned(), inner);
        Value::Object(map)
    })
}

/// `new-todo` → `newTodo`, as Datastar names signals from attribute keys.
fn camel(kebab: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in kebab.chars() {
        if c == '-' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
