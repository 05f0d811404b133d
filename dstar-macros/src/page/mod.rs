//! `#[dstar::page("/path", state = T, title = "…", layout = path::to::fn)]` on an impl block.

pub(crate) mod expand;
pub(crate) mod model;

use proc_macro2::TokenStream;
use quote::ToTokens;

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let item_impl = match syn::parse2::<syn::ItemImpl>(item.clone()) {
        Ok(item) => item,
        Err(_) => {
            let span = item.clone().into_iter().next().map(|t| t.span());
            let err = syn::Error::new(
                span.unwrap_or_else(proc_macro2::Span::call_site),
                "#[dstar::page] goes on an impl block: `#[dstar::page(\"/counter\")] impl Counter { … }`",
            );
            let mut out = err.to_compile_error();
            out.extend(item);
            return out;
        }
    };
    let cleaned = model::strip_helper_attrs(item_impl.clone());
    match model::Page::parse(args, item_impl).and_then(|page| expand::expand(&page)) {
        Ok(tokens) => tokens,
        Err(err) => {
            // Keep the user's code so the IDE keeps working and only the real error shows.
            let mut out = err.to_compile_error();
            out.extend(cleaned.to_token_stream());
            out
        }
    }
}
