//! The core both macros share: the model of an impl block with `#[event]` handlers, in three
//! phases as thiserror splits them.
//!
//! - [`model`] reads the attribute and the impl block (`ast`);
//! - [`check`] validates it, every error collected in one [`Ctxt`] (`valid`);
//! - [`expand`] generates what pages and components have in common (`expand`).
//!
//! `page` and `component` sit on top: each implements [`Rules`] with its own checks and
//! expansion, and this module never names them. When any phase reports an error, [`fallback`]
//! emits the user's item, the event enum and stub impls next to the errors, so one mistake gives
//! one error and no cascade.

pub(crate) mod check;
pub(crate) mod expand;
mod fallback;
pub(crate) mod model;

use crate::ctxt::Ctxt;
use model::ImplBlock;
use proc_macro2::TokenStream;

/// Which macro an impl block is under.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    Page,
    Component,
}

impl Owner {
    /// `#[dstar::page]`.
    pub(crate) fn attr(self) -> &'static str {
        match self {
            Owner::Page => "#[dstar::page]",
            Owner::Component => "#[dstar::component]",
        }
    }

    /// `page`.
    pub(crate) fn kind(self) -> &'static str {
        match self {
            Owner::Page => "page",
            Owner::Component => "component",
        }
    }
}

/// What an owner (page or component) adds to the shared phases.
pub(crate) trait Rules {
    const OWNER: Owner;
    /// Phase 2: the owner's own rules, reported to `cx`.
    fn check(cx: &Ctxt, block: &ImplBlock);
    /// Phase 3, once every check has passed.
    fn expand(block: &ImplBlock) -> TokenStream;
    /// What a block with errors still expands to (its self type has a name).
    fn fallback(block: &ImplBlock) -> TokenStream;
}

/// The one entry point of `#[dstar::page]` and `#[dstar::component]`.
pub(crate) fn expand<R: Rules>(args: TokenStream, item: TokenStream) -> TokenStream {
    let owner = R::OWNER;
    let item_impl = match syn::parse2::<syn::ItemImpl>(item.clone()) {
        Ok(item) => item,
        Err(_) => {
            let span = item.clone().into_iter().next().map(|t| t.span());
            let example = match owner {
                Owner::Page => "`#[dstar::page(\"/counter\")] impl Counter { … }`",
                Owner::Component => "`#[dstar::component] impl DetailDrawer { … }`",
            };
            let err = syn::Error::new(
                span.unwrap_or_else(proc_macro2::Span::call_site),
                format!("{} goes on an impl block: {example}", owner.attr()),
            );
            let mut out = err.to_compile_error();
            out.extend(item);
            return out;
        }
    };
    let cx = Ctxt::new();
    let block = ImplBlock::parse(&cx, owner, args, item_impl);
    check::check(&cx, &block);
    R::check(&cx, &block);
    match cx.check() {
        Ok(()) => R::expand(&block),
        Err(errors) => {
            let mut out = errors.to_compile_error();
            out.extend(fallback::expand::<R>(&block));
            out
        }
    }
}
