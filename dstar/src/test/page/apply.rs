//! How a [`TestPage`] takes an answer: signal patches merged, element patches applied to its
//! DOM in every mode, the signals of new elements initialized, scripts kept.

use super::TestPage;
use super::values::{camel, nest};
use crate::test::dom::{self, Place};
use crate::test::expr;
use crate::test::signals::merge;
use crate::test::{SseEvent, TestResponse, element_patches};
use axum::http::Method;
use scraper::Html;
use serde_json::Value;
use std::collections::HashMap;

/// Stand-ins for values only a browser computes (a tab's id from its `sessionStorage`): unique
/// in the process, so two pages are two tabs.
static STAND_INS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl TestPage {
    /// Applies an answer: patches from an event stream; an error fails the test.
    #[track_caller]
    pub(super) fn apply(&mut self, method: &Method, url: &str, response: TestResponse) {
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

    pub(super) fn apply_events(&mut self, events: &[SseEvent]) {
        for event in events {
            match event.event.as_str() {
                "datastar-patch-signals" => {
                    let only_if_missing = event.value("onlyIfMissing").as_deref() == Some("true");
                    for line in event.lines("signals") {
                        let patch: Value = serde_json::from_str(line)
                            .unwrap_or_else(|e| panic!("invalid signals patch {line:?}: {e}"));
                        merge(&mut self.signals, &patch, only_if_missing);
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
    pub(super) fn init_signals(&mut self, html: &Html) {
        for element in html.select(&dom::selector("*")) {
            for (name, value) in element.value().attrs() {
                let (base, modifiers) = name.split_once("__").unwrap_or((name, ""));
                let only_if_missing = modifiers.contains("ifmissing");
                if base == "data-signals" {
                    let patch = expr::parse_literal(value.trim()).unwrap_or_else(|why| {
                        panic!("TestPage cannot read `data-signals=\"{value}\"` ({why}): write it as JSON")
                    });
                    merge(&mut self.signals, &patch, only_if_missing);
                } else if let Some(key) = base.strip_prefix("data-signals:") {
                    let parsed = expr::parse_literal(value.trim()).unwrap_or_else(|_| {
                        // an expression only a browser can run (the tab id): a stand-in value
                        let n = STAND_INS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                        Value::String(format!("test-{n}"))
                    });
                    let path = key.split('.').map(camel).collect::<Vec<_>>().join(".");
                    let patch = nest(&path, parsed);
                    merge(&mut self.signals, &patch, only_if_missing);
                }
            }
        }
    }
}
