//! [`ElementPatch`]: the patch-elements events of a response, and an assertion that finds the one
//! aimed at a target.

use super::SseEvent;
use crate::elements::Mode;
use std::fmt::Write as _;

/// One patch-elements event, as a test sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementPatch {
    /// The `selector`, if one was sent.
    pub selector: Option<String>,
    /// The mode (`outer` when none was sent).
    pub mode: String,
    /// The HTML, lines joined with `\n` (empty for `remove`).
    pub html: String,
    /// The ids of the top-level elements of `html`.
    pub ids: Vec<String>,
}

impl ElementPatch {
    /// Asserts the patch's mode.
    ///
    /// ```
    /// use dstar::elements::Mode;
    /// let events = dstar::test::parse_events(b"event: datastar-patch-elements\ndata: selector #l\ndata: mode append\ndata: elements <li>x</li>\n\n");
    /// dstar::test::assert_patched_element(&events, "#l").mode(Mode::Append);
    /// ```
    #[track_caller]
    pub fn mode(&self, mode: Mode) -> &Self {
        assert_eq!(
            self.mode,
            mode.as_str(),
            "element patch {} has mode `{}`, expected `{}`\n  html: {}",
            self.describe(),
            self.mode,
            mode.as_str(),
            self.html
        );
        self
    }

    /// Asserts that the patch's HTML contains `text`.
    ///
    /// ```
    /// let events = dstar::test::parse_events(b"event: datastar-patch-elements\ndata: elements <span id=\"history\">Last: +1</span>\n\n");
    /// dstar::test::assert_patched_element(&events, "#history").contains("Last: +1");
    /// ```
    #[track_caller]
    pub fn contains(&self, text: &str) -> &Self {
        assert!(
            self.html.contains(text),
            "element patch {} does not contain {text:?}\n  html: {}",
            self.describe(),
            self.html
        );
        self
    }

    /// Asserts that the patch's HTML matches the regular expression `pattern`.
    ///
    /// ```
    /// let events = dstar::test::parse_events(b"event: datastar-patch-elements\ndata: elements <span id=\"n\">42</span>\n\n");
    /// dstar::test::assert_patched_element(&events, "#n").matches(r">\d+<");
    /// ```
    #[track_caller]
    pub fn matches(&self, pattern: &str) -> &Self {
        let re = regex::Regex::new(pattern)
            .unwrap_or_else(|e| panic!("invalid regex {pattern:?} in test: {e}"));
        assert!(
            re.is_match(&self.html),
            "element patch {} does not match /{pattern}/\n  html: {}",
            self.describe(),
            self.html
        );
        self
    }

    fn describe(&self) -> String {
        match &self.selector {
            Some(s) => format!("(selector `{s}`)"),
            None => format!("(ids {:?})", self.ids),
        }
    }

    fn from_event(event: &SseEvent) -> ElementPatch {
        let html = event.value("elements").unwrap_or_default();
        ElementPatch {
            selector: event.value("selector"),
            mode: event.value("mode").unwrap_or_else(|| "outer".to_owned()),
            ids: top_level_ids(&html),
            html,
        }
    }

    fn targets(&self, target: &str) -> bool {
        if self.selector.as_deref() == Some(target) {
            return true;
        }
        match target.strip_prefix('#') {
            Some(id) if self.selector.is_none() => self.ids.iter().any(|i| i == id),
            _ => false,
        }
    }
}

/// Every patch-elements event, in order.
///
/// ```
/// let events = dstar::test::parse_events(b"event: datastar-patch-elements\ndata: elements <p id=\"a\"></p>\n\n");
/// assert_eq!(dstar::test::element_patches(&events)[0].ids, ["a"]);
/// ```
pub fn element_patches(events: &[SseEvent]) -> Vec<ElementPatch> {
    events
        .iter()
        .filter(|e| e.event == "datastar-patch-elements")
        .map(ElementPatch::from_event)
        .collect()
}

/// Finds the last element patch aimed at `target`: a patch whose `selector` is `target`, or, for
/// `#id`, a selector-less patch with a top-level element of that id. Panics, listing every patch
/// that was sent, when there is none. Chain [`mode`](ElementPatch::mode),
/// [`contains`](ElementPatch::contains) or [`matches`](ElementPatch::matches).
///
/// ```
/// use dstar::elements::Mode;
/// let body = b"event: datastar-patch-elements\ndata: elements <span id=\"history\">Last: +1 \xe2\x86\x92 42</span>\n\n";
/// let events = dstar::test::parse_events(body);
/// dstar::test::assert_patched_element(&events, "#history")
///     .mode(Mode::Outer)
///     .contains("Last: +1 → 42");
/// ```
#[track_caller]
pub fn assert_patched_element(events: &[SseEvent], target: &str) -> ElementPatch {
    let patches = element_patches(events);
    if let Some(found) = patches.iter().rev().find(|p| p.targets(target)) {
        return found.clone();
    }
    let mut sent = String::new();
    for (i, p) in patches.iter().enumerate() {
        let _ = write!(
            sent,
            "\n  #{i}: selector {:?}, mode {}, ids {:?}\n      {}",
            p.selector, p.mode, p.ids, p.html
        );
    }
    if patches.is_empty() {
        sent.push_str("\n  (no element patches at all)");
    }
    panic!("no element patch targets `{target}`; patches sent:{sent}");
}

/// The `id` attributes of the top-level elements of an HTML fragment (a light scanner, enough for
/// patches: comments, void elements and self-closing tags are understood).
fn top_level_ids(html: &str) -> Vec<String> {
    const VOID: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr",
    ];
    let mut ids = Vec::new();
    let mut depth = 0usize;
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        rest = &rest[start..];
        if rest.starts_with("<!--") {
            rest = rest.find("-->").map_or("", |e| &rest[e + 3..]);
            continue;
        }
        let Some(end) = rest.find('>') else { break };
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        if let Some(_closing) = tag.strip_prefix('/') {
            depth = depth.saturating_sub(1);
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '/')
            .collect::<String>()
            .to_ascii_lowercase();
        if depth == 0 {
            if let Some(id) = attribute(tag, "id") {
                ids.push(id);
            }
        }
        let self_closing = tag.ends_with('/') || VOID.contains(&name.as_str());
        if !self_closing {
            depth += 1;
        }
    }
    ids
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let mut search = tag;
    while let Some(pos) = search.find(name) {
        let before = search[..pos].chars().last();
        let after = &search[pos + name.len()..];
        if before.is_some_and(char::is_whitespace) {
            if let Some(value) = after.trim_start().strip_prefix('=') {
                let value = value.trim_start();
                let quote = value.chars().next()?;
                if quote == '"' || quote == '\'' {
                    let inner = &value[1..];
                    return inner.find(quote).map(|e| inner[..e].to_owned());
                }
                return Some(
                    value
                        .split(|c: char| c.is_whitespace() || c == '/')
                        .next()?
                        .to_owned(),
                );
            }
        }
        search = after;
    }
    None
}
