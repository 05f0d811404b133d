//! Procedural macros for `dstar`. Use them through the `dstar` crate: `#[dstar::page("/path")]`.
//!
//! Each macro works in three phases, one module each: parse into a model that keeps the syn nodes
//! for their spans, validate while collecting every error, expand. On error the user's item is
//! emitted unchanged next to the `compile_error!`s, so rust-analyzer keeps working.

use proc_macro::TokenStream;

mod component;
mod ctxt;
mod html;
mod page;
mod rewrite;
mod suggest;

/// Turns an impl block into a Datastar page. See the `dstar` crate docs.
#[proc_macro_attribute]
pub fn page(args: TokenStream, item: TokenStream) -> TokenStream {
    page::expand(args.into(), item.into()).into()
}

/// Turns an impl block into a shared component with its own event handlers. See the `dstar`
/// crate docs.
#[proc_macro_attribute]
pub fn component(args: TokenStream, item: TokenStream) -> TokenStream {
    component::expand(args.into(), item.into()).into()
}

/// maud's `html!` template syntax, expanded against dstar's re-export of maud's runtime, so a user
/// crate needs only `dstar`. See the `dstar` crate docs.
#[proc_macro]
pub fn html(input: TokenStream) -> TokenStream {
    html::expand(input.into()).into()
}
