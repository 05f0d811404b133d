//! What an impl block with errors still expands to, next to the errors (thiserror's
//! `fallback.rs`): the user's item with `event("…")` resolved, the event enum, and stub impls of
//! the owner's trait. So the code that uses the type keeps compiling, and a mistake shows once,
//! where it is, instead of again at every use of `CounterEvent` or `event("…")`.

use super::Rules;
use super::model::ImplBlock;
use quote::ToTokens;

pub(super) fn expand<R: Rules>(block: &ImplBlock) -> proc_macro2::TokenStream {
    if block.ident.is_none() {
        // no name to give the enum or the impls: the item as the user wrote it
        return block.item.to_token_stream();
    }
    R::fallback(block)
}
