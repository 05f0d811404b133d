//! `dstar::html!`: maud's template syntax, expanded against `::dstar::__private::maud`, so a user
//! crate needs only `dstar`. (maud's own macro writes `extern crate maud;`, which only resolves
//! when the user's crate depends on maud itself.)
//!
//! Supported: elements with `.class`, `#id`, attributes (`name="…"`, `name=(expr)`,
//! `name=[option]`, `name[toggle]`, `.class[toggle]`; Datastar modifier tags such as
//! `data-on:input__debounce.300ms` unquoted), void elements (`br;`), text literals,
//! `(splices)`, `{ blocks }`, `@if`/`@else`, `@if let`, `@for`, `@while`, `@match`, `@let`.

mod ast;
mod generate;
mod parse;

use proc_macro2::TokenStream;

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let size_hint = input.to_string().len();
    match parse::markups(input) {
        Ok(markups) => generate::generate(&markups, size_hint),
        Err(e) => {
            let err = e.to_compile_error();
            quote::quote! {{ #err; ::dstar::__private::maud::PreEscaped(::std::string::String::new()) }}
        }
    }
}
