//! [`TestPage`]: drive a page the way a browser with Datastar would, without a browser.

//!
//! Files: the page and what a test reads of it here; its stream in `stream.rs`; the interactions
//! (click, fill, press) and the handlers they run in `interact.rs`; how an answer is applied to the
//! page in `apply.rs`; its signals as values in `values.rs`.

mod apply;
mod interact;
mod stream;
mod values;

use super::dom;
use super::{TestClient, TestStream};
use axum::Router;
use scraper::{ElementRef, Html};
use serde_json::{Map, Value};
use values::display;

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

    /// The one element `selector` matches; panics unless exactly one does.
    #[track_caller]
    pub(super) fn one(&self, selector: &str) -> ElementRef<'_> {
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
}
