//! Parses maud syntax from raw token trees (keywords such as `type` or `for` are valid names).

use super::ast::{Attr, AttrValue, ClassName, Element, Markup};
use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use std::iter::Peekable;

type Tokens = Peekable<proc_macro2::token_stream::IntoIter>;

pub(crate) fn markups(input: TokenStream) -> syn::Result<Vec<Markup>> {
    let mut tokens = input.into_iter().peekable();
    let mut out = Vec::new();
    while tokens.peek().is_some() {
        out.push(markup(&mut tokens)?);
    }
    Ok(out)
}

fn err<T>(span: Span, message: &str) -> syn::Result<T> {
    Err(syn::Error::new(span, message))
}

fn markup(tokens: &mut Tokens) -> syn::Result<Markup> {
    let Some(token) = tokens.next() else {
        return err(Span::call_site(), "unexpected end of template");
    };
    match token {
        TokenTree::Literal(lit) => Ok(Markup::Text(literal_text(&lit)?)),
        TokenTree::Group(g) => match g.delimiter() {
            Delimiter::Parenthesis => Ok(Markup::Splice(g.stream())),
            Delimiter::Brace => Ok(Markup::Block(markups(g.stream())?)),
            Delimiter::Bracket => err(
                g.span(),
                "`[…]` is only allowed after an attribute or class as a toggle",
            ),
            Delimiter::None => Ok(Markup::Block(markups(g.stream())?)),
        },
        TokenTree::Punct(p) if p.as_char() == '@' => control(tokens, p.span()),
        TokenTree::Ident(ident) => {
            let span = ident.span();
            let name = name_rest(ident.to_string(), tokens);
            element(name, span, tokens)
        }
        TokenTree::Punct(p) => err(
            p.span(),
            "expected an element, a string, a `(splice)`, a `{ block }` or `@if`/`@for`/…",
        ),
    }
}

/// Text of a literal: strings as they are, other literals (numbers, chars, bools) as written.
fn literal_text(lit: &proc_macro2::Literal) -> syn::Result<String> {
    let parsed: syn::Lit = syn::parse2(TokenTree::Literal(lit.clone()).into())?;
    Ok(match parsed {
        syn::Lit::Str(s) => s.value(),
        syn::Lit::Char(c) => c.value().to_string(),
        syn::Lit::Int(i) => i.base10_digits().to_owned(),
        syn::Lit::Float(f) => f.base10_digits().to_owned(),
        other => {
            return err(
                other.span(),
                "only string, char and number literals can be text",
            );
        }
    })
}

/// Continues a name made of identifiers joined by `-` or `:` (`data-on:click`, `my-element`).
fn name_rest(mut name: String, tokens: &mut Tokens) -> String {
    loop {
        match tokens.peek() {
            Some(TokenTree::Punct(p)) if p.as_char() == '-' || p.as_char() == ':' => {
                let sep = p.as_char();
                let mut ahead = tokens.clone();
                ahead.next();
                match ahead.next() {
                    Some(TokenTree::Ident(next)) => {
                        tokens.next();
                        tokens.next();
                        name.push(sep);
                        name.push_str(&next.to_string());
                    }
                    Some(TokenTree::Literal(lit))
                        if lit.to_string().bytes().all(|b| b.is_ascii_alphanumeric()) =>
                    {
                        tokens.next();
                        tokens.next();
                        name.push(sep);
                        name.push_str(&lit.to_string());
                    }
                    _ => return name,
                }
            }
            _ => return name,
        }
    }
}

/// Continues a Datastar attribute name through its modifier tags: after a `__modifier`, each
/// `.tag` (`.300ms`, `.1s`, `.leading`, `.notrail`) belongs to the name, so
/// `data-on:input__debounce.300ms` needs no quotes. Only a `data-*` name that already has a `__`
/// takes tags: everywhere else `.name` is still a class.
fn modifier_tags(mut name: String, tokens: &mut Tokens) -> String {
    if !(name.starts_with("data-") && name.contains("__")) {
        return name;
    }
    while let Some(TokenTree::Punct(p)) = tokens.peek() {
        if p.as_char() != '.' {
            break;
        }
        let mut ahead = tokens.clone();
        ahead.next();
        let tag = match ahead.next() {
            Some(TokenTree::Ident(tag)) => tag.to_string(),
            // `300ms`, `1s`, `1.5s`: number literals with a suffix
            Some(TokenTree::Literal(lit)) => {
                let text = lit.to_string();
                let is_tag = text.starts_with(|c: char| c.is_ascii_digit())
                    && text
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
                if !is_tag {
                    break;
                }
                text
            }
            _ => break,
        };
        tokens.next();
        tokens.next();
        name.push('.');
        name.push_str(&tag);
    }
    name
}

fn read_name(tokens: &mut Tokens, what: &str, span: Span) -> syn::Result<String> {
    match tokens.next() {
        Some(TokenTree::Ident(i)) => Ok(name_rest(i.to_string(), tokens)),
        Some(TokenTree::Literal(l)) => literal_text(&l),
        Some(other) => err(other.span(), &format!("expected a {what} name")),
        None => err(span, &format!("expected a {what} name")),
    }
}

fn toggle(tokens: &mut Tokens) -> Option<TokenStream> {
    match tokens.peek() {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket => {
            let stream = g.stream();
            tokens.next();
            Some(stream)
        }
        _ => None,
    }
}

fn element(name: String, span: Span, tokens: &mut Tokens) -> syn::Result<Markup> {
    let mut el = Element {
        name,
        classes: Vec::new(),
        id: None,
        attrs: Vec::new(),
        body: None,
        span,
    };
    loop {
        let Some(token) = tokens.next() else {
            return err(
                span,
                &format!("element `{}` needs a body `{{ … }}` or `;`", el.name),
            );
        };
        match token {
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => {
                el.body = Some(markups(g.stream())?);
                return Ok(Markup::Element(el));
            }
            TokenTree::Punct(p) if p.as_char() == ';' => return Ok(Markup::Element(el)),
            TokenTree::Punct(p) if p.as_char() == '.' => {
                let class = match tokens.peek() {
                    Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => {
                        let s = g.stream();
                        tokens.next();
                        ClassName::Splice(s)
                    }
                    _ => ClassName::Static(read_name(tokens, "class", p.span())?),
                };
                el.classes.push((class, toggle(tokens)));
            }
            TokenTree::Punct(p) if p.as_char() == '#' => {
                let id = match tokens.peek() {
                    Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => {
                        let s = g.stream();
                        tokens.next();
                        AttrValue::Splice(s)
                    }
                    _ => AttrValue::Static(read_name(tokens, "id", p.span())?),
                };
                el.id = Some(id);
            }
            TokenTree::Ident(ident) => {
                let attr_name = modifier_tags(name_rest(ident.to_string(), tokens), tokens);
                el.attrs.push(attribute(attr_name, ident.span(), tokens)?);
            }
            TokenTree::Literal(lit) => {
                // attribute names that are not identifiers: "@click"="…"
                let attr_name = literal_text(&lit)?;
                el.attrs.push(attribute(attr_name, lit.span(), tokens)?);
            }
            other => {
                return err(
                    other.span(),
                    &format!(
                        "unexpected token in element `{}`: expected `.class`, `#id`, an attribute, `{{` or `;`",
                        el.name
                    ),
                );
            }
        }
    }
}

fn attribute(name: String, span: Span, tokens: &mut Tokens) -> syn::Result<Attr> {
    match tokens.peek() {
        Some(TokenTree::Punct(p)) if p.as_char() == '=' => {
            tokens.next();
            match tokens.next() {
                Some(TokenTree::Literal(l)) => {
                    Ok(Attr::Value(name, AttrValue::Static(literal_text(&l)?)))
                }
                Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => {
                    Ok(Attr::Value(name, AttrValue::Splice(g.stream())))
                }
                Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket => {
                    Ok(Attr::Optional(name, g.stream()))
                }
                Some(other) => err(
                    other.span(),
                    "an attribute value is a \"string\", a (splice) or an [option]",
                ),
                None => err(span, "missing attribute value"),
            }
        }
        _ => Ok(Attr::Empty(name, toggle(tokens))),
    }
}

/// Tokens up to (not including) the next `{ … }` group.
fn until_block(
    tokens: &mut Tokens,
    span: Span,
    what: &str,
) -> syn::Result<(TokenStream, Vec<Markup>)> {
    let mut head = TokenStream::new();
    loop {
        match tokens.next() {
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => {
                return Ok((head, markups(g.stream())?));
            }
            Some(t) => head.extend([t]),
            None => return err(span, &format!("`@{what}` needs a `{{ … }}` body")),
        }
    }
}

fn control(tokens: &mut Tokens, at: Span) -> syn::Result<Markup> {
    let Some(TokenTree::Ident(keyword)) = tokens.next() else {
        return err(at, "expected `@if`, `@for`, `@while`, `@match` or `@let`");
    };
    let span = keyword.span();
    match keyword.to_string().as_str() {
        "if" => if_chain(tokens, span),
        "for" => {
            let (head, body) = until_block(tokens, span, "for")?;
            Ok(Markup::For { head, body })
        }
        "while" => {
            let (cond, body) = until_block(tokens, span, "while")?;
            Ok(Markup::While { cond, body })
        }
        "let" => {
            let mut stmt = TokenStream::new();
            loop {
                match tokens.next() {
                    Some(TokenTree::Punct(p)) if p.as_char() == ';' => {
                        return Ok(Markup::Let(stmt));
                    }
                    Some(t) => stmt.extend([t]),
                    None => return err(span, "`@let` needs a `;`"),
                }
            }
        }
        "match" => {
            let mut expr = TokenStream::new();
            let arms_group = loop {
                match tokens.next() {
                    Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => break g,
                    Some(t) => expr.extend([t]),
                    None => return err(span, "`@match` needs `{ arms }`"),
                }
            };
            Ok(Markup::Match {
                expr,
                arms: match_arms(arms_group.stream(), arms_group.span())?,
            })
        }
        other => err(
            span,
            &format!("unknown control `@{other}`: use @if, @for, @while, @match or @let"),
        ),
    }
}

fn if_chain(tokens: &mut Tokens, span: Span) -> syn::Result<Markup> {
    let (cond, then) = until_block(tokens, span, "if")?;
    let mut otherwise = None;
    let mut ahead = tokens.clone();
    if let (Some(TokenTree::Punct(at)), Some(TokenTree::Ident(kw))) = (ahead.next(), ahead.next())
        && at.as_char() == '@'
        && kw == "else"
    {
        tokens.next();
        tokens.next();
        let mut ahead = tokens.clone();
        match ahead.next() {
            Some(TokenTree::Ident(kw)) if kw == "if" => {
                tokens.next();
                otherwise = Some(Box::new(if_chain(tokens, kw.span())?));
            }
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => {
                tokens.next();
                otherwise = Some(Box::new(Markup::Block(markups(g.stream())?)));
            }
            _ => return err(kw.span(), "`@else` needs `{ … }` or `if`"),
        }
    }
    Ok(Markup::If {
        cond,
        then,
        otherwise,
    })
}

fn match_arms(stream: TokenStream, span: Span) -> syn::Result<Vec<(TokenStream, Vec<Markup>)>> {
    let mut tokens = stream.into_iter().peekable();
    let mut arms = Vec::new();
    while tokens.peek().is_some() {
        let mut pat = TokenStream::new();
        loop {
            match tokens.next() {
                Some(TokenTree::Punct(p))
                    if p.as_char() == '='
                        && matches!(tokens.peek(), Some(TokenTree::Punct(q)) if q.as_char() == '>') =>
                {
                    tokens.next();
                    break;
                }
                Some(t) => pat.extend([t]),
                None => return err(span, "a `@match` arm needs `=>`"),
            }
        }
        let body = match tokens.peek() {
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => {
                let s = g.stream();
                tokens.next();
                markups(s)?
            }
            _ => vec![markup(&mut tokens)?],
        };
        if matches!(tokens.peek(), Some(TokenTree::Punct(p)) if p.as_char() == ',') {
            tokens.next();
        }
        arms.push((pat, body));
    }
    Ok(arms)
}

#[cfg(test)]
mod tests {
    use super::super::ast::{Attr, Markup};
    use super::markups;
    use quote::quote;

    /// The names of the attributes and the classes of the template's only element.
    fn names(input: proc_macro2::TokenStream) -> (Vec<String>, usize) {
        let parsed = markups(input).expect("the template parses");
        let [Markup::Element(el)] = parsed.as_slice() else {
            panic!("expected one element");
        };
        let attrs = el
            .attrs
            .iter()
            .map(|a| match a {
                Attr::Value(name, _) | Attr::Optional(name, _) | Attr::Empty(name, _) => {
                    name.clone()
                }
            })
            .collect();
        (attrs, el.classes.len())
    }

    #[test]
    fn datastar_modifier_tags_belong_to_the_attribute_name() {
        let (attrs, classes) = names(quote! {
            input data-on:input__debounce.300ms=(check)
                data-on:keydown__window__throttle.1s.leading.notrail="x"
                data-on:click__prevent="y"
                data-on:scroll__debounce.1.5s="z"
                data-bind:email
                data-attr:aria-invalid="a"
                data-signals:_errors="{}"
                "data-on:input__debounce.500ms"="q";
        });
        assert_eq!(
            attrs,
            [
                "data-on:input__debounce.300ms",
                "data-on:keydown__window__throttle.1s.leading.notrail",
                "data-on:click__prevent",
                "data-on:scroll__debounce.1.5s",
                "data-bind:email",
                "data-attr:aria-invalid",
                "data-signals:_errors",
                "data-on:input__debounce.500ms",
            ]
        );
        assert_eq!(classes, 0);
    }

    #[test]
    fn a_dot_after_other_attributes_is_still_a_class() {
        let (attrs, classes) = names(quote! { input data-bind:email .big disabled .wide; });
        assert_eq!(attrs, ["data-bind:email", "disabled"]);
        assert_eq!(classes, 2);
        // BEM class names keep their dots as class separators
        let parsed = markups(quote! { div.card__title.big {} }).unwrap();
        let [Markup::Element(el)] = parsed.as_slice() else {
            panic!("expected one element");
        };
        assert_eq!(el.classes.len(), 2);
    }
}
