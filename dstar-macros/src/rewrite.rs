//! Finds `event("name")` calls anywhere in a token stream, including inside `html!` and other
//! macro invocations, and replaces each with a checked expression spanned at the literal.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};

/// A call the rewriter found: the helper's name, the string literal's value and span, and the
/// tokens after the literal (extra arguments).
pub(crate) struct Call {
    pub(crate) name: String,
    pub(crate) span: Span,
    pub(crate) rest: TokenStream,
}

/// Rewrites every `helper("literal" …)` that is a free call (not a method, path or definition).
/// `replace` returns the tokens to put in place of the whole call.
pub(crate) fn rewrite(
    tokens: TokenStream,
    helper: &str,
    replace: &mut dyn FnMut(Call) -> TokenStream,
) -> TokenStream {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(trees.len());
    let mut i = 0;
    while i < trees.len() {
        if let Some(call) = match_call(&trees, i, helper) {
            out.extend(replace(call));
            i += 2;
            continue;
        }
        match &trees[i] {
            TokenTree::Group(g) => {
                let inner = rewrite(g.stream(), helper, replace);
                let mut group = Group::new(g.delimiter(), inner);
                group.set_span(g.span());
                out.push(TokenTree::Group(group));
            }
            other => out.push(other.clone()),
        }
        i += 1;
    }
    out.into_iter().collect()
}

fn match_call(trees: &[TokenTree], i: usize, helper: &str) -> Option<Call> {
    let TokenTree::Ident(ident) = &trees[i] else {
        return None;
    };
    if ident != helper {
        return None;
    }
    // `x.event(…)`, `path::event(…)`, `fn event(…)` are not ours.
    if i > 0 {
        match &trees[i - 1] {
            TokenTree::Punct(p) if p.as_char() == '.' || p.as_char() == ':' => return None,
            TokenTree::Ident(prev) if prev == "fn" => return None,
            _ => {}
        }
    }
    let TokenTree::Group(args) = trees.get(i + 1)? else {
        return None;
    };
    if args.delimiter() != Delimiter::Parenthesis {
        return None;
    }
    let mut inner = args.stream().into_iter();
    let first = inner.next()?;
    if !matches!(first, TokenTree::Literal(_)) {
        return None;
    }
    let value: syn::LitStr = syn::parse2(TokenStream::from(first)).ok()?;
    Some(Call {
        name: value.value(),
        span: value.span(),
        rest: inner.collect(),
    })
}

/// A call with no string literal: `helper(...)`; `args` is whatever is inside the parentheses.
pub(crate) struct BareCall {
    pub(crate) span: Span,
    pub(crate) args: TokenStream,
}

/// Rewrites every free call `helper(…)` (not a method, path or definition).
pub(crate) fn rewrite_bare(
    tokens: TokenStream,
    helper: &str,
    replace: &mut dyn FnMut(BareCall) -> TokenStream,
) -> TokenStream {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(trees.len());
    let mut i = 0;
    while i < trees.len() {
        if is_free_call(&trees, i, helper) {
            if let TokenTree::Group(args) = &trees[i + 1] {
                out.extend(replace(BareCall {
                    span: trees[i].span(),
                    args: args.stream(),
                }));
                i += 2;
                continue;
            }
        }
        match &trees[i] {
            TokenTree::Group(g) => {
                let inner = rewrite_bare(g.stream(), helper, replace);
                let mut group = Group::new(g.delimiter(), inner);
                group.set_span(g.span());
                out.push(TokenTree::Group(group));
            }
            other => out.push(other.clone()),
        }
        i += 1;
    }
    out.into_iter().collect()
}

fn is_free_call(trees: &[TokenTree], i: usize, helper: &str) -> bool {
    let TokenTree::Ident(ident) = &trees[i] else {
        return false;
    };
    if ident != helper {
        return false;
    }
    if i > 0 {
        match &trees[i - 1] {
            TokenTree::Punct(p) if p.as_char() == '.' || p.as_char() == ':' => return false,
            TokenTree::Ident(prev) if prev == "fn" => return false,
            _ => {}
        }
    }
    matches!(trees.get(i + 1), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis)
}
