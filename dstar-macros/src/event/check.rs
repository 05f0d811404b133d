//! Phase 2: what every impl block with events must satisfy, pages and components alike. The
//! owner's own rules (a page's `render`, its stream hooks) are in `page::check`. Every problem is
//! reported to the context; nothing stops at the first.

use super::Owner;
use super::model::{Arg, Event, Handler, ImplBlock};
use crate::ctxt::Ctxt;
use syn::FnArg;

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
        check_event(cx, block.owner, event);
    }
    check_duplicates(cx, block);
    if let Some(f) = &block.hooks.authorize {
        let receiver = matches!(f.sig.inputs.first(), Some(FnArg::Receiver(_)));
        if receiver || f.sig.inputs.len() != 2 {
            cx.error(
                &f.sig,
                format!(
                    "`authorize` is `fn authorize(head: &RequestHead, access: Access<…Event>) -> Result<(), impl IntoResponse>` (or `-> bool`): it runs before every event of this {kind}"
                ),
            );
        }
    }
}

fn check_event(cx: &Ctxt, owner: Owner, event: &Event) {
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
    check_handler(cx, owner, &event.handler, HandlerKind::Event);
}

/// What a handler is, for what its arguments may be.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum HandlerKind {
    Event,
    /// `mount` or `subscribe`, by name.
    Hook(&'static str),
}

/// A handler's arguments: no `self`, `&mut Sse` once and only in events, `#[arg]` only in a
/// component's events and with a plain name, no generics.
pub(crate) fn check_handler(cx: &Ctxt, owner: Owner, handler: &Handler, kind: HandlerKind) {
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
