//! Phase 1: the model of "an impl block with event handlers", read from the syntax tree. Parsing
//! reports only what it cannot read (a malformed `#[event(…)]`); whether what it read makes sense
//! is [`check`](super::check)'s job.

use super::Owner;
use crate::attr::{self, Options, Place};
use crate::ctxt::Ctxt;
use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt;
use syn::{FnArg, Ident, ImplItem, ImplItemFn, ItemImpl, LitStr, ReturnType, Type};

/// An impl block under `#[dstar::page]` or `#[dstar::component]`.
pub(crate) struct ImplBlock {
    pub(crate) owner: Owner,
    /// The user's impl block, with dstar's helper attributes (`#[event]`, `#[arg]`) removed.
    pub(crate) item: ItemImpl,
    /// The self type's name (`Counter` in `impl Counter`), when it is a plain path.
    pub(crate) ident: Option<Ident>,
    pub(crate) options: Options,
    pub(crate) events: Vec<Event>,
    /// The methods dstar gives a meaning to by name.
    pub(crate) hooks: Hooks,
}

/// The methods the owner looks for by name. Pages use all of them, components only `authorize`.
#[derive(Default)]
pub(crate) struct Hooks {
    pub(crate) render: Option<ImplItemFn>,
    pub(crate) mount: Option<ImplItemFn>,
    pub(crate) authorize: Option<ImplItemFn>,
    pub(crate) subscribe: Option<ImplItemFn>,
    pub(crate) on_message: Option<ImplItemFn>,
    pub(crate) on_disconnect: Option<ImplItemFn>,
    pub(crate) on_connect: Option<ImplItemFn>,
    pub(crate) stream_key: Option<ImplItemFn>,
    /// `render_key`: the key a live page's viewers share a render under.
    pub(crate) render_key: Option<ImplItemFn>,
    pub(crate) pubsub: Option<ImplItemFn>,
}

/// An `#[event]` method.
pub(crate) struct Event {
    pub(crate) handler: Handler,
    /// The wire name (the URL segment): `name = "…"`, or the method's name.
    pub(crate) name: LitStr,
    pub(crate) method: Method,
    /// The enum variant, spanned at the name.
    pub(crate) variant: Ident,
    /// `limit = "4MB"`: the largest request body its route takes, in bytes, with the literal.
    pub(crate) limit: Option<(LitStr, u64)>,
}

/// The HTTP method of an event's route.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    fn parse(text: &str) -> Option<Method> {
        Some(match text.to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            _ => return None,
        })
    }

    /// `"POST"`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// `Post`, the `dstar::actions::Verb` variant.
    pub(crate) fn verb(self) -> Ident {
        let name = match self {
            Method::Get => "Get",
            Method::Post => "Post",
            Method::Put => "Put",
            Method::Patch => "Patch",
            Method::Delete => "Delete",
        };
        Ident::new(name, Span::call_site())
    }

    /// `post`, the `axum::routing` function.
    pub(crate) fn routing_fn(self) -> Ident {
        Ident::new(&self.as_str().to_ascii_lowercase(), Span::call_site())
    }
}

/// A method called with extracted arguments: an event handler, `mount` or `subscribe`.
pub(crate) struct Handler {
    pub(crate) ident: Ident,
    pub(crate) is_async: bool,
    pub(crate) args: Vec<Arg>,
    pub(crate) sig: syn::Signature,
}

/// How a handler argument is provided.
pub(crate) enum Arg {
    /// `self` in any form: never allowed, [`check`](super::check) says why.
    Receiver(syn::Receiver),
    /// `&mut Sse`.
    Sse(Box<Type>),
    /// `#[arg] name: T`: a typed argument in the event's URL (components only).
    Url {
        ty: Box<Type>,
        pat: Box<syn::Pat>,
        name: Option<Ident>,
    },
    /// An axum extractor.
    Extract(Box<Type>),
}

impl ImplBlock {
    pub(crate) fn parse(cx: &Ctxt, owner: Owner, args: TokenStream, item: ItemImpl) -> Self {
        let place = match owner {
            Owner::Page => Place::Page,
            Owner::Component => Place::Component,
        };
        let options = attr::parse(cx, place, args, Span::call_site());
        let mut events = Vec::new();
        let mut hooks = Hooks::default();
        for it in &item.items {
            let ImplItem::Fn(f) = it else { continue };
            if let Some(attr) = f.attrs.iter().find(|a| a.path().is_ident("event")) {
                events.push(parse_event(cx, f, attr));
                continue;
            }
            let slot = match f.sig.ident.to_string().as_str() {
                "render" => &mut hooks.render,
                "mount" => &mut hooks.mount,
                "authorize" => &mut hooks.authorize,
                "subscribe" => &mut hooks.subscribe,
                "on_message" => &mut hooks.on_message,
                "on_disconnect" => &mut hooks.on_disconnect,
                "on_connect" => &mut hooks.on_connect,
                "stream_key" => &mut hooks.stream_key,
                "render_key" => &mut hooks.render_key,
                "pubsub" => &mut hooks.pubsub,
                _ => continue,
            };
            *slot = Some(f.clone());
        }
        ImplBlock {
            owner,
            ident: self_ident(&item),
            item: strip_helper_attrs(item),
            options,
            events,
            hooks,
        }
    }

    /// The events whose names and variants are unique: what the event enum holds even when the
    /// block has errors, so `event("…")` calls keep resolving.
    pub(crate) fn distinct_events(&self) -> Vec<&Event> {
        let mut seen: Vec<&Event> = Vec::new();
        for e in &self.events {
            if !seen
                .iter()
                .any(|s| s.name.value() == e.name.value() || s.variant == e.variant)
            {
                seen.push(e);
            }
        }
        seen
    }

    /// The owner's name, e.g. `Counter` (or `_` when the self type is not a plain path).
    pub(crate) fn name(&self) -> String {
        self.ident
            .as_ref()
            .map_or_else(|| "_".to_owned(), ToString::to_string)
    }
}

fn parse_event(cx: &Ctxt, f: &ImplItemFn, attr: &syn::Attribute) -> Event {
    let options = match &attr.meta {
        syn::Meta::List(list) => {
            attr::parse(cx, Place::Event, list.tokens.clone(), attr_span(attr))
        }
        syn::Meta::Path(_) => Options::default(),
        syn::Meta::NameValue(nv) => {
            cx.error(
                nv,
                "write `#[event]` or `#[event(name = \"…\", method = \"…\", limit = \"…\")]`",
            );
            Options::default()
        }
    };
    let name = options.name.map_or_else(
        || LitStr::new(&f.sig.ident.unraw().to_string(), f.sig.ident.span()),
        |(_, lit)| lit,
    );
    let method = match options.method {
        None => Method::Post,
        Some((_, lit)) => Method::parse(&lit.value()).unwrap_or_else(|| {
            cx.error(
                &lit,
                "the method is one of \"get\", \"post\", \"put\", \"patch\", \"delete\"",
            );
            Method::Post
        }),
    };
    let limit = options
        .limit
        .and_then(|(_, lit)| match size_bytes(&lit.value()) {
            Ok(bytes) => Some((lit, bytes)),
            Err(why) => {
                cx.error(&lit, why);
                None
            }
        });
    Event {
        variant: Ident::new(&variant_name(&name.value()), name.span()),
        handler: Handler::parse(f),
        name,
        method,
        limit,
    }
}

/// `"512KB"`, `"4MB"`, `"1MiB"`, `"65536"` → bytes, more than zero: `KB`, `MB`, `GB` are powers
/// of 1000, `KiB`, `MiB`, `GiB` of 1024 (any case, a space before the unit is fine).
pub(crate) fn size_bytes(text: &str) -> Result<u64, String> {
    const EXAMPLES: &str = "\"512KB\", \"4MB\", \"1MiB\" or a byte count such as \"65536\"";
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    if number.is_empty() {
        return Err(format!("expected a size: {EXAMPLES}"));
    }
    if unit.starts_with(['.', ',']) {
        return Err(format!(
            "the size is a whole number: use a smaller unit (\"1500KB\", not \"1.5MB\"): {EXAMPLES}"
        ));
    }
    let n: u64 = number
        .parse()
        .map_err(|_| format!("the size `{text}` is too large"))?;
    let multiplier: u64 = match unit.trim_start().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "unknown size unit `{}`: use KB, MB or GB (powers of 1000), KiB, MiB or GiB (powers of 1024), or none for bytes: {EXAMPLES}",
                unit.trim_start()
            ));
        }
    };
    let bytes = n
        .checked_mul(multiplier)
        .ok_or_else(|| format!("the size `{text}` is too large"))?;
    if bytes == 0 {
        return Err("the limit must be more than zero bytes".to_owned());
    }
    Ok(bytes)
}

fn attr_span(attr: &syn::Attribute) -> Span {
    attr.bracket_token.span.join()
}

impl Handler {
    pub(crate) fn parse(f: &ImplItemFn) -> Handler {
        let args = f
            .sig
            .inputs
            .iter()
            .map(|input| match input {
                FnArg::Receiver(r) => Arg::Receiver(r.clone()),
                FnArg::Typed(t) if is_sse(&t.ty) => Arg::Sse(t.ty.clone()),
                FnArg::Typed(t) if t.attrs.iter().any(|a| a.path().is_ident("arg")) => Arg::Url {
                    ty: t.ty.clone(),
                    pat: t.pat.clone(),
                    name: match &*t.pat {
                        syn::Pat::Ident(p) => Some(p.ident.clone()),
                        _ => None,
                    },
                },
                FnArg::Typed(t) => Arg::Extract(t.ty.clone()),
            })
            .collect();
        Handler {
            ident: f.sig.ident.clone(),
            is_async: f.sig.asyncness.is_some(),
            args,
            sig: f.sig.clone(),
        }
    }

    /// Its `#[arg]`s with a plain name, in order: `(argument index, type, name)`.
    pub(crate) fn url_args(&self) -> impl Iterator<Item = (usize, &Type, &Ident)> {
        self.args.iter().enumerate().filter_map(|(i, a)| match a {
            Arg::Url {
                ty, name: Some(n), ..
            } => Some((i, &**ty, n)),
            _ => None,
        })
    }

    /// Whether it returns `Self` (or the type by name) directly, not a `Result`.
    pub(crate) fn returns_self(&self, ident: &Ident) -> bool {
        match &self.sig.output {
            ReturnType::Type(_, ty) => match &**ty {
                Type::Path(p) => {
                    p.qself.is_none() && (p.path.is_ident("Self") || p.path.is_ident(ident))
                }
                _ => false,
            },
            ReturnType::Default => false,
        }
    }
}

/// `&mut Sse` (by its last path segment).
pub(crate) fn is_sse(ty: &Type) -> bool {
    let Type::Reference(r) = ty else { return false };
    if r.mutability.is_none() {
        return false;
    }
    matches!(&*r.elem, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Sse"))
}

/// The name of the impl's self type (`Counter` in `impl Counter`), if it is a plain path.
fn self_ident(item: &ItemImpl) -> Option<Ident> {
    match &*item.self_ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| s.ident.clone()),
        _ => None,
    }
}

/// `change_title` / `change-title` → `ChangeTitle`.
pub(crate) fn variant_name(wire: &str) -> String {
    let mut out = String::new();
    for part in wire.split(['_', '-', '~']).filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(c) = chars.next() {
            out.extend(c.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    // not an identifier (empty, a digit first, a keyword, or characters that `check` refuses
    // anyway): made into one, so parsing never fails before `check` can say why
    out.retain(|c| c.is_ascii_alphanumeric() || c == '_');
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) || out == "Self" {
        out.insert(0, 'E');
    }
    out
}

/// Removes dstar's helper attributes (`#[event]`, `#[arg]`) so the emitted impl block compiles.
fn strip_helper_attrs(mut item: ItemImpl) -> ItemImpl {
    for it in &mut item.items {
        if let ImplItem::Fn(f) = it {
            f.attrs.retain(|a| !a.path().is_ident("event"));
            for input in &mut f.sig.inputs {
                if let FnArg::Typed(t) = input {
                    t.attrs.retain(|a| !a.path().is_ident("arg"));
                }
            }
        }
    }
    item
}
