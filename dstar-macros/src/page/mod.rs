//! `#[dstar::page("/path", state = T, title = "…", layout = path::to::fn, …)]` on an impl block:
//! the page's own rules and expansion, on top of the shared [`event`](crate::event) core.

mod check;
mod expand;

use crate::attr::duration_ms;
use crate::ctxt::Ctxt;
use crate::event::model::{Handler, ImplBlock};
use crate::event::{Owner, Rules};
use proc_macro2::TokenStream;
use syn::{FnArg, LitStr};

/// `#[dstar::page]`'s part of the event core's phases.
pub(crate) struct PageRules;

impl Rules for PageRules {
    const OWNER: Owner = Owner::Page;

    fn check(cx: &Ctxt, block: &ImplBlock) {
        check::check(cx, block);
    }

    fn expand(block: &ImplBlock) -> TokenStream {
        expand::expand(block)
    }

    fn fallback(block: &ImplBlock) -> TokenStream {
        expand::fallback(block)
    }
}

/// How long a stream may stay silent before a liveness check, unless `idle_check` says.
const DEFAULT_IDLE_CHECK_MS: u64 = 30_000;
/// How often a live page may render, unless `frame` says.
const DEFAULT_FRAME_MS: u64 = 16;

/// Where a page's stream gets its messages and what it makes of them.
pub(crate) enum StreamKind<'a> {
    /// `subscribe` (how to subscribe) and `on_message` (a message into patches).
    Messages {
        subscribe: Box<Handler>,
        on_message_async: bool,
        /// `on_message(sse, message)` rather than `on_message(message, sse)`.
        sse_first: bool,
    },
    /// `live = …`: every message re-renders the page (fat morph), at most once per frame.
    Live {
        topics: &'a [LitStr],
        frame_ms: u64,
        /// `fn pubsub(state: &S) -> PubSub` in the impl; else `PubSub: FromRef<S>`.
        pubsub_hook: bool,
    },
}

/// The page's stream, if it has one (read once the block has passed its checks).
pub(crate) fn stream_kind(block: &ImplBlock) -> Option<StreamKind<'_>> {
    let hooks = &block.hooks;
    if let Some((_, topics)) = &block.options.live {
        let frame_ms = block
            .options
            .frame
            .as_ref()
            .and_then(|(_, lit)| duration_ms(lit).ok())
            .unwrap_or(DEFAULT_FRAME_MS);
        return Some(StreamKind::Live {
            topics,
            frame_ms,
            pubsub_hook: hooks.pubsub.is_some(),
        });
    }
    let subscribe = hooks.subscribe.as_ref()?;
    let on_message = hooks.on_message.as_ref()?;
    Some(StreamKind::Messages {
        subscribe: Box::new(Handler::parse(subscribe)),
        on_message_async: on_message.sig.asyncness.is_some(),
        sse_first: matches!(on_message.sig.inputs.first(), Some(FnArg::Typed(t)) if crate::event::model::is_sse(&t.ty)),
    })
}

/// The stream's liveness interval in milliseconds.
fn idle_check_ms(block: &ImplBlock) -> u64 {
    block
        .options
        .idle_check
        .as_ref()
        .and_then(|(_, lit)| duration_ms(lit).ok())
        .unwrap_or(DEFAULT_IDLE_CHECK_MS)
}
