//! A [`TestPage`]'s stream: opened as `data-init=(connect())` opens it, read until the page shows
//! what the test waits for, and opened again when it ends, as Datastar's `retry: 'always'` does.

use super::TestPage;
use super::values::display;
use crate::test::TestStream;
use crate::test::dom;
use crate::test::expr::{self, Statement};
use crate::test::stream::Batch;

impl TestPage {
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
}
