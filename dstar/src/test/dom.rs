//! The page a [`TestPage`](super::TestPage) holds: HTML parsed by `scraper` (html5ever), patched the
//! way Datastar patches the browser's DOM, by writing the document out with the patch applied and
//! parsing it again.

use scraper::node::Node;
use scraper::{ElementRef, Html, Selector};
use std::collections::HashMap;
use std::fmt::Write as _;

/// Where a patch puts its HTML relative to its target (Datastar's patch modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// `outer` and `replace`: instead of the target (Datastar morphs; the result is the same).
    Outer,
    Inner,
    Remove,
    Prepend,
    Append,
    Before,
    After,
}

impl Place {
    pub(crate) fn from_mode(mode: &str) -> Option<Place> {
        Some(match mode {
            "outer" | "replace" => Place::Outer,
            "inner" => Place::Inner,
            "remove" => Place::Remove,
            "prepend" => Place::Prepend,
            "append" => Place::Append,
            "before" => Place::Before,
            "after" => Place::After,
            _ => return None,
        })
    }
}

pub(crate) fn selector(css: &str) -> Selector {
    Selector::parse(css).unwrap_or_else(|e| panic!("invalid CSS selector {css:?}: {e}"))
}

/// The top-level elements of an HTML fragment: `(id, outer HTML)`.
pub(crate) fn top_level_elements(fragment: &str) -> Vec<(Option<String>, String)> {
    let parsed = Html::parse_fragment(fragment);
    parsed
        .root_element()
        .children()
        .filter_map(ElementRef::wrap)
        .map(|e| (e.value().id().map(str::to_owned), e.html()))
        .collect()
}

/// `html` with `patches` applied: each target node gets its HTML placed around or inside it.
pub(crate) fn patched(html: &Html, patches: &HashMap<ego_tree::NodeId, (Place, String)>) -> Html {
    let mut out = String::with_capacity(4096);
    write_node(html.tree.root(), patches, &mut out);
    Html::parse_document(&out)
}

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

fn write_node(
    node: ego_tree::NodeRef<'_, Node>,
    patches: &HashMap<ego_tree::NodeId, (Place, String)>,
    out: &mut String,
) {
    let patch = patches.get(&node.id());
    if let Some((place, html)) = patch {
        match place {
            Place::Outer => return out.push_str(html),
            Place::Remove => return,
            Place::Before => out.push_str(html),
            _ => {}
        }
    }
    match node.value() {
        Node::Document | Node::Fragment => write_children(node, patches, out),
        Node::Doctype(d) => {
            let _ = write!(out, "<!DOCTYPE {}>", d.name());
        }
        Node::Comment(c) => {
            let _ = write!(out, "<!--{}-->", &**c);
        }
        Node::Text(t) => {
            let raw = node
                .parent()
                .and_then(|p| p.value().as_element().map(|e| e.name()))
                .is_some_and(|name| matches!(name, "script" | "style"));
            if raw {
                out.push_str(t);
            } else {
                escape(t, false, out);
            }
        }
        Node::Element(e) => {
            let name = e.name();
            out.push('<');
            out.push_str(name);
            for (attr, value) in e.attrs() {
                out.push(' ');
                out.push_str(attr);
                out.push_str("=\"");
                escape(value, true, out);
                out.push('"');
            }
            out.push('>');
            if VOID.contains(&name) {
                return after(patch, out);
            }
            match patch {
                Some((Place::Inner, html)) => out.push_str(html),
                Some((Place::Prepend, html)) => {
                    out.push_str(html);
                    write_children(node, patches, out);
                }
                Some((Place::Append, html)) => {
                    write_children(node, patches, out);
                    out.push_str(html);
                }
                _ => write_children(node, patches, out),
            }
            let _ = write!(out, "</{name}>");
        }
        Node::ProcessingInstruction(_) => {}
    }
    after(patch, out);
}

fn after(patch: Option<&(Place, String)>, out: &mut String) {
    if let Some((Place::After, html)) = patch {
        out.push_str(html);
    }
}

fn write_children(
    node: ego_tree::NodeRef<'_, Node>,
    patches: &HashMap<ego_tree::NodeId, (Place, String)>,
    out: &mut String,
) {
    for child in node.children() {
        write_node(child, patches, out);
    }
}

fn escape(text: &str, attribute: bool, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' if !attribute => out.push_str("&lt;"),
            '>' if !attribute => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\u{a0}' => out.push_str("&nbsp;"),
            c => out.push(c),
        }
    }
}

/// An element's text as a person reads it: its text nodes joined, whitespace collapsed.
pub(crate) fn text_of(element: ElementRef<'_>) -> String {
    let text: String = element.text().collect();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
