//! Phase 2: what every impl block with events must satisfy, pages and components alike. The
//! owner's own rules (a page's `render`, its stream hooks) are in `page::check`. Every problem is
//! reported to the context; nothing stops at the first.

use super::Owner;
use super::model::{Arg, Event, Handler, ImplBlock, Method};
use crate::ctxt::Ctxt;
use quote::ToTokens;
use syn::{FnArg, Type};

pub(crate) fn check(cx: &Ctxt, block: &ImplBlock) {
    let attr = block.owner.attr();
    let kind = block.owner.kind();
    if let Some((_, path, _)) = &block.item.trait_ {
        cx.error(
            path,
            format!("{attr} goes on an inherent impl (`impl MyType`), not a trait impl"),
        );
    }
    if !block.item.generics.params.is_empty() {
        cx.error(&block.item.generics, format!("a {kind} cannot be generic"));
    }
    if block.ident.is_none() {
        cx.error(
            &block.item.self_ty,
            format!("{attr} needs a named type: `impl MyType`"),
        );
    }
    for event in &block.events {
        check_event(cx, block, event);
    }
    check_duplicates(cx, block);
    if let Some(f) = &block.hooks.authorize {
        let receiver = matches!(f.sig.inputs.first(), Some(FnArg::Receiver(_)));
        if receiver || !f.sig.generics.params.is_empty() {
            cx.error(
                &f.sig,
                format!(
                    "`authorize` is `async fn authorize(access: Access<…Event>, user: CurrentUser<User>, …) -> Result<(), impl IntoResponse>` (or `-> bool`): it takes `Access`, `&RequestHead` and extractors that read no body, and runs before every event of this {kind}"
                ),
            );
        }
    }
}

fn check_event(cx: &Ctxt, block: &ImplBlock, event: &Event) {
    let wire = event.name.value();
    let valid = !wire.is_empty()
        && wire != "."
        && wire != ".."
        && wire
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'~'));
    if !valid {
        cx.error(
            &event.name,
            format!("invalid event name `{wire}`: use letters, digits, `_`, `-` and `~`"),
        );
    }
    if let Some((lit, _)) = &event.limit {
        if matches!(event.method, Method::Get | Method::Delete) {
            cx.error(
                lit,
                format!(
                    "`limit` bounds the request body, and a {} event sends its signals in the URL: drop `limit`, or use `method = \"post\"`",
                    event.method.as_str()
                ),
            );
        }
    }
    check_handler(cx, block, &event.handler, HandlerKind::Event);
}

/// What a handler is, for what its arguments may be.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum HandlerKind {
    Event,
    /// `mount` or `subscribe`, by name.
    Hook(&'static str),
}

/// A handler's arguments: no `self`, `&mut Sse` once and only in events, `#[arg]` only in a
/// component's events and with a plain name, `State<T>` only with `state = T`, the body read by
/// the last extractor only, no generics.
pub(crate) fn check_handler(cx: &Ctxt, block: &ImplBlock, handler: &Handler, kind: HandlerKind) {
    let owner = block.owner;
    let what = match kind {
        HandlerKind::Event => "event",
        HandlerKind::Hook(name) => name,
    };
    let mut sse_seen = false;
    for arg in &handler.args {
        match arg {
            Arg::Receiver(r) => cx.error(
                r,
                format!(
                    "`{}` takes no `self`: {what} handlers get their data from extractors and signals",
                    handler.ident
                ),
            ),
            Arg::Sse(ty) if kind != HandlerKind::Event => cx.error(
                ty,
                format!("`{what}` renders HTML; `&mut Sse` is only for event handlers"),
            ),
            Arg::Sse(ty) if sse_seen => cx.error(ty, "only one `&mut Sse` argument is allowed"),
            Arg::Sse(_) => sse_seen = true,
            Arg::Url { pat, .. } if owner != Owner::Component || kind != HandlerKind::Event => {
                cx.error(
                    pat,
                    "`#[arg]` URL arguments are for component events; page events take signals and extractors",
                );
            }
            Arg::Url {
                pat, name: None, ..
            } => cx.error(pat, "an `#[arg]` needs a plain name: `#[arg] id: u64`"),
            Arg::Url { .. } | Arg::Extract(_) => {}
        }
    }
    if !handler.sig.generics.params.is_empty() {
        cx.error(
            &handler.sig.generics,
            format!("{what} handlers cannot be generic"),
        );
    }
    check_extractors(cx, block, handler);
}

/// Extractors that read the request body: only the last argument may be one.
const BODY_EXTRACTORS: &[&str] = &[
    "Signals",
    "Json",
    "Form",
    "Bytes",
    "String",
    "Request",
    "Body",
    "Multipart",
    "RawForm",
];

/// What rustc would report far from the user's mistake, or with a bound on generated code:
/// `State<T>` on a page with no `state = T`, and a body extractor before another extractor.
fn check_extractors(cx: &Ctxt, block: &ImplBlock, handler: &Handler) {
    let extractors: Vec<&Type> = handler
        .args
        .iter()
        .filter_map(|a| match a {
            Arg::Extract(ty) => Some(&**ty),
            _ => None,
        })
        .collect();
    for (i, ty) in extractors.iter().enumerate() {
        let Some(last) = last_segment(ty) else {
            continue;
        };
        let name = last.ident.to_string();
        if name == "State" && block.options.state.is_none() {
            let inner = match &last.arguments {
                syn::PathArguments::AngleBracketed(a) => a.args.to_token_stream().to_string(),
                _ => "T".to_owned(),
            };
            let attr = match block.owner {
                Owner::Page => format!("#[dstar::page(\"…\", state = {inner})]"),
                Owner::Component => format!("#[dstar::component(state = {inner})]"),
            };
            cx.error(
                ty,
                format!(
                    "`State<{inner}>` reads the {}'s state, but it declares none: add `state = {inner}`, as in `{attr}`",
                    block.owner.kind()
                ),
            );
        }
        if BODY_EXTRACTORS.contains(&name.as_str()) && i + 1 < extractors.len() {
            let next = extractors[i + 1].to_token_stream().to_string();
            cx.error(
                ty,
                format!(
                    "`{name}` reads the request body, so it must be the last argument: move it after `{next}`"
                ),
            );
        }
    }
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        _ => None,
    }
}

fn check_duplicates(cx: &Ctxt, block: &ImplBlock) {
    let events = &block.events;
    for (i, e) in events.iter().enumerate() {
        let name = e.name.value();
        if let Some(first) = events[..i].iter().find(|o| o.name.value() == name) {
            cx.error_at(
                e.variant.span(),
                format!(
                    "duplicate event `{name}` on {} `{}`: `{}` and `{}` both handle it",
                    block.owner.kind(),
                    block.name(),
                    first.handler.ident,
                    e.handler.ident
                ),
            );
        } else if let Some(first) = events[..i].iter().find(|o| o.variant == e.variant) {
            cx.error_at(
                e.variant.span(),
                format!(
                    "events `{}` and `{name}` would both be the variant `{}`; rename one",
                    first.name.value(),
                    e.variant
                ),
            );
        }
    }
}
