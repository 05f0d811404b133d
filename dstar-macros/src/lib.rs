//! Procedural macros for `dstar`. Use them through the `dstar` crate: `#[dstar::page("/path")]`.
//!
//! The house, from the ground up:
//!
//! - `attr`: the one parser for attribute arguments (pages, components, events);
//! - `event`: the model of an impl block with `#[event]` handlers, in three phases (model,
//!   check, expand), every error collected in one `ctxt::Ctxt`, and the fallback emitted next
//!   to errors;
//! - `page` and `component`, side by side on top: each adds its own checks and expansion;
//! - `html`: maud's `html!` against dstar's re-export; `rewrite` finds `event("…")` calls,
//!   `html!` templates included.

use proc_macro::TokenStream;

mod attr;
mod component;
mod ctxt;
mod event;
mod html;
mod page;
mod rewrite;
mod suggest;

/// Turns an impl block into a Datastar page. See the `dstar` crate docs.
#[proc_macro_attribute]
pub fn page(args: TokenStream, item: TokenStream) -> TokenStream {
    event::expand::<page::PageRules>(args.into(), item.into()).into()
}

/// Turns an impl block into a shared component with its own event handlers. See the `dstar`
/// crate docs.
#[proc_macro_attribute]
pub fn component(args: TokenStream, item: TokenStream) -> TokenStream {
    event::expand::<component::ComponentRules>(args.into(), item.into()).into()
}

/// maud's `html!` template syntax, expanded against dstar's re-export of maud's runtime, so a user
/// crate needs only `dstar`. See the `dstar` crate docs.
#[proc_macro]
pub fn html(input: TokenStream) -> TokenStream {
    html::expand(input.into()).into()
}
