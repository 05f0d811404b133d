//! The one parser for dstar's attribute arguments: `#[dstar::page("/path", key = value, …)]`,
//! `#[dstar::component(state = T)]` and `#[event(name = "…", method = "…")]`, in the style of
//! axum-macros' `attr_parsing`: every key is a `custom_keyword!`, each may appear once, commas
//! separate them and a trailing comma is fine. A bad option is reported and the parser skips to
//! the next comma, so one typo in the attribute does not hide the errors in the impl body.

use crate::ctxt::Ctxt;
use crate::suggest::closest;
use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Ident, LitStr, Token, Type};

pub(crate) mod kw {
    syn::custom_keyword!(state);
    syn::custom_keyword!(title);
    syn::custom_keyword!(layout);
    syn::custom_keyword!(idle_check);
    syn::custom_keyword!(live);
    syn::custom_keyword!(frame);
    syn::custom_keyword!(name);
    syn::custom_keyword!(method);
    syn::custom_keyword!(limit);
}

/// Where the arguments are written; it decides which keys are allowed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    Page,
    Component,
    Event,
}

impl Place {
    fn keys(self) -> &'static [&'static str] {
        match self {
            Place::Page => &["state", "title", "layout", "idle_check", "live", "frame"],
            Place::Component => &["state"],
            Place::Event => &["name", "method", "limit"],
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Place::Page => "page option",
            Place::Component => "component option",
            Place::Event => "event option",
        }
    }
}

/// A key and its value, the key kept for its span.
pub(crate) type Keyed<K, V> = Option<(K, V)>;

/// Everything any of the three attributes may hold; the parser fills only what its place allows.
#[derive(Default)]
pub(crate) struct Options {
    /// The page's path, the one positional argument (pages only).
    pub(crate) path: Option<LitStr>,
    pub(crate) state: Keyed<kw::state, Type>,
    pub(crate) title: Keyed<kw::title, LitStr>,
    pub(crate) layout: Keyed<kw::layout, syn::Path>,
    pub(crate) idle_check: Keyed<kw::idle_check, LitStr>,
    /// `live = "topic"` or `live = ["a", "b"]`.
    pub(crate) live: Keyed<kw::live, Vec<LitStr>>,
    pub(crate) frame: Keyed<kw::frame, LitStr>,
    pub(crate) name: Keyed<kw::name, LitStr>,
    pub(crate) method: Keyed<kw::method, LitStr>,
    /// An event's body limit: `limit = "4MB"`.
    pub(crate) limit: Keyed<kw::limit, LitStr>,
}

/// Parses `tokens` as the arguments of an attribute at `place`, reporting every problem to `cx`.
/// `span` is where to report a missing page path.
pub(crate) fn parse(cx: &Ctxt, place: Place, tokens: TokenStream, span: Span) -> Options {
    let mut options = Options::default();
    let parser = |input: ParseStream| {
        parse_all(cx, place, input, span, &mut options);
        Ok(())
    };
    if let Err(e) = parser.parse2(tokens) {
        cx.push(e);
    }
    options
}

fn parse_all(cx: &Ctxt, place: Place, input: ParseStream, span: Span, out: &mut Options) {
    if place == Place::Page {
        if input.peek(LitStr) {
            out.path = input.parse().ok();
            if !input.is_empty() && input.parse::<Token![,]>().is_err() {
                cx.push(input.error("expected `,` after the page's path"));
                skip_to_comma(input);
            }
        } else {
            let at = if input.is_empty() { span } else { input.span() };
            cx.error_at(
                at,
                "#[dstar::page] needs the page's path first: `#[dstar::page(\"/counter\")]`",
            );
        }
    }
    while !input.is_empty() {
        if let Err(e) = parse_one(place, input, out) {
            cx.push(e);
            skip_to_comma(input);
        }
        if input.is_empty() {
            break;
        }
        if let Err(e) = input.parse::<Token![,]>() {
            cx.push(e);
            skip_to_comma(input);
        }
    }
}

/// One `key = value`.
fn parse_one(place: Place, input: ParseStream, out: &mut Options) -> syn::Result<()> {
    let allowed = place.keys();
    let lookahead = input.lookahead1();
    let peeked = |name: &str, yes: bool| yes && allowed.contains(&name);
    if peeked("state", lookahead.peek(kw::state)) {
        assign(input, &mut out.state, |i| i.parse())
    } else if peeked("title", lookahead.peek(kw::title)) {
        assign(input, &mut out.title, |i| i.parse())
    } else if peeked("layout", lookahead.peek(kw::layout)) {
        assign(input, &mut out.layout, |i| i.parse())
    } else if peeked("idle_check", lookahead.peek(kw::idle_check)) {
        assign(input, &mut out.idle_check, |i| i.parse())
    } else if peeked("live", lookahead.peek(kw::live)) {
        assign(input, &mut out.live, parse_topics)
    } else if peeked("frame", lookahead.peek(kw::frame)) {
        assign(input, &mut out.frame, |i| i.parse())
    } else if peeked("name", lookahead.peek(kw::name)) {
        assign(input, &mut out.name, |i| i.parse())
    } else if peeked("method", lookahead.peek(kw::method)) {
        assign(input, &mut out.method, |i| i.parse())
    } else if peeked("limit", lookahead.peek(kw::limit)) {
        assign(input, &mut out.limit, |i| i.parse())
    } else {
        Err(unknown_key(place, input))
    }
}

/// `key = value` into `slot`, refusing a second one.
fn assign<K: syn::parse::Parse + Spanned, V>(
    input: ParseStream,
    slot: &mut Keyed<K, V>,
    value: impl FnOnce(ParseStream) -> syn::Result<V>,
) -> syn::Result<()> {
    let key: K = input.parse()?;
    input.parse::<Token![=]>()?;
    let value = value(input)?;
    if slot.is_some() {
        let name = std::any::type_name::<K>().rsplit("::").next().unwrap_or("");
        return Err(syn::Error::new(
            key.span(),
            format!("`{name}` is given twice"),
        ));
    }
    *slot = Some((key, value));
    Ok(())
}

fn parse_topics(input: ParseStream) -> syn::Result<Vec<LitStr>> {
    if input.peek(syn::token::Bracket) {
        let inner;
        syn::bracketed!(inner in input);
        Ok(inner
            .parse_terminated(<LitStr as syn::parse::Parse>::parse, Token![,])?
            .into_iter()
            .collect())
    } else {
        Ok(vec![input.parse()?])
    }
}

/// The error for a key this place does not take: what it is instead, or the closest key here.
fn unknown_key(place: Place, input: ParseStream) -> syn::Error {
    let Ok(key) = input.fork().call(Ident::parse_any) else {
        return input.error(format!(
            "expected a {}: {}",
            place.describe(),
            list(place.keys())
        ));
    };
    let name = key.to_string();
    let elsewhere = [Place::Page, Place::Component, Place::Event]
        .into_iter()
        .find(|p| *p != place && p.keys().contains(&name.as_str()));
    let message = match (elsewhere, closest(&name, place.keys().iter().copied())) {
        (Some(other), _) => format!(
            "`{name}` is a {}, not a {}; here: {}",
            other.describe(),
            place.describe(),
            list(place.keys())
        ),
        (None, Some(best)) => format!(
            "unknown {} `{name}`; did you mean `{best}`? options: {}",
            place.describe(),
            list(place.keys())
        ),
        (None, None) => format!(
            "unknown {} `{name}`; options: {}",
            place.describe(),
            list(place.keys())
        ),
    };
    syn::Error::new(key.span(), message)
}

fn list(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Skips to just before the next top-level comma (or the end).
fn skip_to_comma(input: ParseStream) {
    let _ = input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((tt, next)) = rest.token_tree() {
            if matches!(&tt, proc_macro2::TokenTree::Punct(p) if p.as_char() == ',') {
                return Ok(((), rest));
            }
            rest = next;
        }
        Ok(((), rest))
    });
}

/// `"30s"`, `"500ms"`, `"2m"` → milliseconds (more than zero).
pub(crate) fn duration_ms(lit: &LitStr) -> Result<u64, &'static str> {
    let text = lit.value();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map_or((text.as_str(), ""), |i| text.split_at(i));
    let n: u64 = number
        .parse()
        .map_err(|_| "expected a duration such as \"30s\", \"500ms\" or \"2m\"")?;
    let ms = match unit {
        "ms" => n,
        "s" => n.saturating_mul(1000),
        "m" => n.saturating_mul(60_000),
        _ => return Err("duration units are `ms`, `s` and `m`: \"10s\""),
    };
    if ms == 0 {
        return Err("the duration must be more than zero");
    }
    Ok(ms)
}
