//! Finds helper calls such as `event("name")` or `connect()` anywhere in a token stream, including
//! inside `html!` and other macro invocations, and replaces each with checked tokens spanned at
//! the call.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};

/// A call with a string literal first: the literal's value and span, and the tokens after it.
pub(crate) struct Call {
    pub(crate) name: String,
    pub(crate) span: Span,
    pub(crate) rest: TokenStream,
}

/// A call with no string literal: `helper(...)`; `args` is whatever is inside the parentheses.
pub(crate) struct BareCall {
    pub(crate) span: Span,
    pub(crate) args: TokenStream,
}

/// Rewrites every free `helper("literal" …)` (not a method, path or definition).
pub(crate) fn rewrite(
    tokens: TokenStream,
    helper: &str,
    replace: &mut dyn FnMut(Call) -> TokenStream,
) -> TokenStream {
    walk(tokens, &mut |trees, i| {
        let args = free_call_args(trees, i, helper)?;
        let mut inner = args.stream().into_iter();
        let first = inner.next()?;
        if !matches!(first, TokenTree::Literal(_)) {
            return None;
        }
        let value: syn::LitStr = syn::parse2(TokenStream::from(first)).ok()?;
        Some(replace(Call {
            name: value.value(),
            span: value.span(),
            rest: inner.collect(),
        }))
    })
}

/// Rewrites every free call `helper(…)` (not a method, path or definition).
pub(crate) fn rewrite_bare(
    tokens: TokenStream,
    helper: &str,
    replace: &mut dyn FnMut(BareCall) -> TokenStream,
) -> TokenStream {
    walk(tokens, &mut |trees, i| {
        let args = free_call_args(trees, i, helper)?;
        Some(replace(BareCall {
            span: trees[i].span(),
            args: args.stream(),
        }))
    })
}

/// Walks every token tree, groups included; where `matcher` returns tokens, they replace the two
/// trees of the call (the name and its parentheses).
fn walk(
    tokens: TokenStream,
    matcher: &mut dyn FnMut(&[TokenTree], usize) -> Option<TokenStream>,
) -> TokenStream {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(trees.len());
    let mut i = 0;
    while i < trees.len() {
        if let Some(replacement) = matcher(&trees, i) {
            out.extend(replacement);
            i += 2;
            continue;
        }
        match &trees[i] {
            TokenTree::Group(g) => {
                let mut group = Group::new(g.delimiter(), walk(g.stream(), matcher));
                group.set_span(g.span());
                out.push(TokenTree::Group(group));
            }
            other => out.push(other.clone()),
        }
        i += 1;
    }
    out.into_iter().collect()
}

/// The parenthesised arguments when `trees[i]` is a free call of `helper`: not `x.helper(…)`,
/// `path::helper(…)` or `fn helper(…)`.
fn free_call_args<'a>(trees: &'a [TokenTree], i: usize, helper: &str) -> Option<&'a Group> {
    let TokenTree::Ident(ident) = &trees[i] else {
        return None;
    };
    if ident != helper {
        return None;
    }
    if i > 0 {
        match &trees[i - 1] {
            TokenTree::Punct(p) if p.as_char() == '.' || p.as_char() == ':' => return None,
            TokenTree::Ident(prev) if prev == "fn" => return None,
            _ => {}
        }
    }
    match trees.get(i + 1) {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => Some(g),
        _ => None,
    }
}
