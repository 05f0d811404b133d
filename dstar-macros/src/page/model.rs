//! Phases 1 and 2: parse the attribute and the impl block into a model, validating as we go and
//! collecting every error.

use crate::ctxt::Ctxt;
use proc_macro2::TokenStream;
use syn::parse::{Parse, ParseStream};
use syn::{FnArg, Ident, ImplItem, ImplItemFn, ItemImpl, LitStr, ReturnType, Token, Type};

pub(crate) struct Args {
    pub(crate) path: LitStr,
    pub(crate) state: Option<Type>,
    pub(crate) title: Option<LitStr>,
    pub(crate) layout: Option<syn::Path>,
    /// The stream liveness interval in milliseconds.
    pub(crate) idle_check_ms: Option<u64>,
    /// `live = "topic"` or `live = ["a", "b"]`: a live page re-rendered on every message.
    pub(crate) live: Option<(Ident, Vec<LitStr>)>,
    /// `frame = "16ms"`: a live page renders at most once per frame.
    pub(crate) frame_ms: Option<(Ident, u64)>,
}

/// `"30s"`, `"500ms"`, `"2m"` → milliseconds.
fn parse_duration(lit: &LitStr) -> syn::Result<u64> {
    let text = lit.value();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map_or((text.as_str(), ""), |i| text.split_at(i));
    let n: u64 = number.parse().map_err(|_| {
        syn::Error::new(
            lit.span(),
            "expected a duration such as \"30s\", \"500ms\" or \"2m\"",
        )
    })?;
    let ms = match unit {
        "ms" => n,
        "s" => n * 1000,
        "m" => n * 60_000,
        _ => {
            return Err(syn::Error::new(
                lit.span(),
                "duration units are `ms`, `s` and `m`: \"10s\"",
            ));
        }
    };
    if ms == 0 {
        return Err(syn::Error::new(
            lit.span(),
            "idle_check must be more than zero",
        ));
    }
    Ok(ms)
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(
                input.error("#[dstar::page] needs the page's path: `#[dstar::page(\"/counter\")]`")
            );
        }
        let path: LitStr = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected the page's path as a string: `#[dstar::page(\"/counter\")]`",
            )
        })?;
        let mut args = Args {
            path,
            state: None,
            title: None,
            layout: None,
            idle_check_ms: None,
            live: None,
            frame_ms: None,
        };
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            match key.to_string().as_str() {
                "state" => args.state = Some(input.parse()?),
                "title" => args.title = Some(input.parse()?),
                "layout" => args.layout = Some(input.parse()?),
                "idle_check" => args.idle_check_ms = Some(parse_duration(&input.parse()?)?),
                "live" => {
                    let topics = if input.peek(syn::token::Bracket) {
                        let inner;
                        syn::bracketed!(inner in input);
                        inner
                            .parse_terminated(<LitStr as Parse>::parse, Token![,])?
                            .into_iter()
                            .collect()
                    } else {
                        vec![input.parse::<LitStr>()?]
                    };
                    if topics.is_empty() {
                        return Err(syn::Error::new(
                            key.span(),
                            "`live` needs a topic: `live = \"scores\"` or `live = [\"a\", \"b\"]`",
                        ));
                    }
                    args.live = Some((key.clone(), topics));
                }
                "frame" => args.frame_ms = Some((key.clone(), parse_duration(&input.parse()?)?)),
                other => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!(
                            "unknown page option `{other}`; options are `state`, `title`, `layout`, `idle_check`, `live`, `frame`"
                        ),
                    ));
                }
            }
        }
        Ok(args)
    }
}

/// How a handler argument is provided.
pub(crate) enum Arg {
    /// `&mut Sse`
    Sse,
    /// An axum extractor.
    Extract(Box<Type>),
    /// `#[arg] name: T`: a typed argument in the event's URL (components only).
    Url(Box<Type>, Ident),
}

pub(crate) struct Handler {
    pub(crate) ident: Ident,
    pub(crate) is_async: bool,
    pub(crate) args: Vec<Arg>,
}

pub(crate) struct Event {
    pub(crate) handler: Handler,
    pub(crate) name: String,
    pub(crate) variant: Ident,
    pub(crate) method: &'static str,
}

/// The stream hooks: where messages come from and what they become, plus `on_disconnect` and
/// `stream_key` (both optional).
pub(crate) struct Stream {
    pub(crate) kind: StreamKind,
    pub(crate) on_disconnect: bool,
    pub(crate) stream_key: bool,
}

pub(crate) enum StreamKind {
    /// `subscribe` (how to subscribe) and `on_message` (a message into patches).
    Messages {
        subscribe: Handler,
        on_message_async: bool,
        sse_first: bool,
    },
    /// `live = …`: every message re-renders the page (fat morph), at most once per frame.
    Live {
        topics: Vec<LitStr>,
        frame_ms: u64,
        /// `fn pubsub(state: &S) -> PubSub` in the impl; else `PubSub: FromRef<S>`.
        pubsub_hook: bool,
    },
}

pub(crate) struct Page {
    pub(crate) item: ItemImpl,
    pub(crate) ident: Ident,
    pub(crate) args: Args,
    pub(crate) mount: Option<(Handler, bool)>,
    pub(crate) authorize_async: Option<bool>,
    pub(crate) events: Vec<Event>,
    pub(crate) stream: Option<Stream>,
}

impl Page {
    pub(crate) fn parse(args: TokenStream, item: ItemImpl) -> syn::Result<Page> {
        let args: Args = syn::parse2(args)?;
        let mut cx = Ctxt::default();
        validate_path(&mut cx, &args.path);
        if let Some((_, path, _)) = &item.trait_ {
            cx.error(
                path,
                "#[dstar::page] goes on an inherent impl (`impl Counter`), not a trait impl",
            );
        }
        if !item.generics.params.is_empty() {
            cx.error(&item.generics, "pages cannot be generic");
        }
        let Some(ident) = self_ident(&item) else {
            cx.error(
                &item.self_ty,
                "#[dstar::page] needs a named type: `impl Counter`",
            );
            cx.check()?;
            unreachable!("an error was recorded");
        };

        let mut page = Page {
            item: strip_helper_attrs(item.clone()),
            ident,
            args,
            mount: None,
            authorize_async: None,
            events: Vec::new(),
            stream: None,
        };
        let mut has_render = false;
        let mut subscribe: Option<Handler> = None;
        let mut on_message: Option<(&ImplItemFn, bool)> = None;
        let mut on_disconnect = false;
        let mut stream_key: Option<&ImplItemFn> = None;
        let mut pubsub: Option<&ImplItemFn> = None;
        for it in &item.items {
            let ImplItem::Fn(f) = it else { continue };
            let event_attr = f.attrs.iter().find(|a| a.path().is_ident("event"));
            let name = f.sig.ident.to_string();
            if let Some(attr) = event_attr {
                if let Some(event) = parse_event(&mut cx, f, attr) {
                    page.events.push(event);
                }
                continue;
            }
            match name.as_str() {
                "render" => {
                    has_render = true;
                    if !matches!(f.sig.inputs.first(), Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_none())
                        || f.sig.inputs.len() != 1
                    {
                        cx.error(
                            &f.sig,
                            "`render` takes only `&self`: `fn render(&self) -> Markup`",
                        );
                    }
                    if f.sig.asyncness.is_some() {
                        cx.error(
                            f.sig.asyncness,
                            "`render` cannot be async: load data in `mount`",
                        );
                    }
                }
                "mount" => {
                    let direct = returns_self(&f.sig.output, &page.ident);
                    if let Some(handler) = parse_handler(&mut cx, f, "mount", false) {
                        page.mount = Some((handler, direct));
                    }
                }
                "authorize" => {
                    if f.sig.inputs.len() != 2
                        || matches!(f.sig.inputs.first(), Some(FnArg::Receiver(_)))
                    {
                        cx.error(
                            &f.sig,
                            "`authorize` is `fn authorize(head: &RequestHead, access: Access<…Event>) -> Result<(), impl IntoResponse>` (or `-> bool`)",
                        );
                    }
                    page.authorize_async = Some(f.sig.asyncness.is_some());
                }
                "subscribe" => subscribe = parse_handler(&mut cx, f, "subscribe", false),
                "on_message" => {
                    let sse_at = f
                        .sig
                        .inputs
                        .iter()
                        .position(|a| matches!(a, FnArg::Typed(t) if is_sse(&t.ty)));
                    let receiver = matches!(f.sig.inputs.first(), Some(FnArg::Receiver(_)));
                    match sse_at {
                        Some(i) if f.sig.inputs.len() == 2 && !receiver => on_message = Some((f, i == 0)),
                        _ => cx.error(
                            &f.sig,
                            "`on_message` is `async fn on_message(sse: &mut Sse, message: M)`: it turns one message into patches",
                        ),
                    }
                }
                "on_disconnect" => {
                    if f.sig.asyncness.is_some() || f.sig.inputs.len() != 1 {
                        cx.error(
                            &f.sig,
                            "`on_disconnect` is `fn on_disconnect(reason: EndReason)`: it runs once, synchronously, at teardown",
                        );
                    }
                    on_disconnect = true;
                }
                "pubsub" => {
                    if f.sig.asyncness.is_some() || f.sig.inputs.len() != 1 {
                        cx.error(
                            &f.sig,
                            "`pubsub` is `fn pubsub(state: &State) -> PubSub`: where a `live` page listens",
                        );
                    }
                    pubsub = Some(f);
                }
                "stream_key" => {
                    if f.sig.asyncness.is_some() || f.sig.inputs.len() != 1 {
                        cx.error(
                            &f.sig,
                            "`stream_key` is `fn stream_key(head: &RequestHead) -> impl ToString`: the scope of per-tab deduplication",
                        );
                    }
                    stream_key = Some(f);
                }
                _ => {}
            }
        }
        if let Some((key, topics)) = page.args.live.clone() {
            if subscribe.is_some() || on_message.is_some() {
                cx.error(
                    &key,
                    "a `live` page re-renders itself on every message: remove `subscribe` and `on_message`, or the `live` option",
                );
            }
            let frame_ms = page.args.frame_ms.as_ref().map_or(16, |(_, ms)| *ms);
            if page.args.state.is_none() {
                cx.error(
                    &key,
                    "a `live` page listens on a `PubSub` in its state: add `state = T` (with `fn pubsub(state: &T) -> PubSub`, or `PubSub: FromRef<T>`)",
                );
            }
            page.stream = Some(Stream {
                kind: StreamKind::Live {
                    topics,
                    frame_ms,
                    pubsub_hook: pubsub.is_some(),
                },
                on_disconnect,
                stream_key: stream_key.is_some(),
            });
        } else if let Some(f) = pubsub {
            cx.error(
                &f.sig.ident,
                "`pubsub` tells a `live` page where to listen: add `live = \"topic\"` to the attribute",
            );
        } else if let Some((key, _)) = &page.args.frame_ms {
            cx.error(
                key,
                "`frame` sets how often a `live` page re-renders: add `live = \"topic\"`",
            );
        }
        match (subscribe, on_message) {
            _ if page.args.live.is_some() => {}
            (Some(subscribe), Some((on_message, sse_first))) => {
                page.stream = Some(Stream {
                    kind: StreamKind::Messages {
                        subscribe,
                        on_message_async: on_message.sig.asyncness.is_some(),
                        sse_first,
                    },
                    on_disconnect,
                    stream_key: stream_key.is_some(),
                });
            }
            (Some(_), None) => cx.error(
                &item.self_ty,
                "this page has `subscribe` but no `on_message`: add `async fn on_message(sse: &mut Sse, message: M)`",
            ),
            (None, Some((f, _))) => cx.error(
                &f.sig.ident,
                "`on_message` needs `subscribe`: add `async fn subscribe(…) -> impl Source` to say where messages come from",
            ),
            (None, None) => {
                if let Some(f) = stream_key {
                    cx.error(&f.sig.ident, "`stream_key` only applies to pages with a stream (`subscribe` and `on_message`)");
                }
            }
        }
        if !has_render {
            cx.error(
                &item.self_ty,
                format!(
                    "page `{}` has no `render` method; add `fn render(&self) -> Markup {{ html! {{ … }} }}`",
                    page.ident
                ),
            );
        }
        check_duplicates(&mut cx, &page.events, &page.ident, "page");
        cx.check()?;
        Ok(page)
    }
}

/// The name of the impl's self type (`Counter` in `impl Counter`), if it is a plain path.
pub(crate) fn self_ident(item: &ItemImpl) -> Option<Ident> {
    match &*item.self_ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| s.ident.clone()),
        _ => None,
    }
}

fn returns_self(output: &ReturnType, ident: &Ident) -> bool {
    match output {
        ReturnType::Type(_, ty) => match &**ty {
            Type::Path(p) => {
                p.qself.is_none() && (p.path.is_ident("Self") || p.path.is_ident(ident))
            }
            _ => false,
        },
        ReturnType::Default => false,
    }
}

fn validate_path(cx: &mut Ctxt, lit: &LitStr) {
    let path = lit.value();
    let problem = if !path.starts_with('/') {
        Some("it must start with `/`")
    } else if path.len() > 1 && path.ends_with('/') {
        Some("it must not end with `/`")
    } else if path.contains("//") {
        Some("it must not contain `//`")
    } else if path.contains(['?', '#', ' ', '*']) {
        Some("it must not contain `?`, `#`, `*` or spaces")
    } else if path.split('/').any(|s| s == "_event") {
        Some("`_event` is reserved for page events")
    } else if path.split('/').any(|s| s == "." || s == "..") {
        Some("it must not contain `.` or `..` segments")
    } else if path.split('/').any(|s| {
        (s.contains('{') || s.contains('}'))
            && !(s.starts_with('{')
                && s.ends_with('}')
                && s.len() > 2
                && !s[1..s.len() - 1].contains(['{', '}']))
    }) {
        Some("path parameters are whole segments: `/w/{slug}/counter`")
    } else {
        None
    };
    if let Some(problem) = problem {
        cx.error(lit, format!("invalid page path `{path}`: {problem}"));
    }
}

fn is_sse(ty: &Type) -> bool {
    let Type::Reference(r) = ty else { return false };
    if r.mutability.is_none() {
        return false;
    }
    matches!(&*r.elem, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Sse"))
}

pub(crate) fn parse_handler(
    cx: &mut Ctxt,
    f: &ImplItemFn,
    what: &str,
    allow_sse: bool,
) -> Option<Handler> {
    let mut args = Vec::new();
    let mut ok = true;
    for input in &f.sig.inputs {
        match input {
            FnArg::Receiver(r) => {
                cx.error(r, format!("{what} handlers don't take `self`: they get their data from extractors and signals"));
                ok = false;
            }
            FnArg::Typed(t) if is_sse(&t.ty) => {
                if !allow_sse {
                    cx.error(
                        &t.ty,
                        format!("`{what}` renders HTML; `&mut Sse` is only for event handlers"),
                    );
                    ok = false;
                } else if args.iter().any(|a| matches!(a, Arg::Sse)) {
                    cx.error(&t.ty, "only one `&mut Sse` argument is allowed");
                    ok = false;
                } else {
                    args.push(Arg::Sse);
                }
            }
            FnArg::Typed(t) if t.attrs.iter().any(|a| a.path().is_ident("arg")) => {
                let name = match &*t.pat {
                    syn::Pat::Ident(p) => Some(p.ident.clone()),
                    _ => None,
                };
                match name {
                    Some(name) if allow_url_args(what) => args.push(Arg::Url(t.ty.clone(), name)),
                    Some(_) => {
                        cx.error(&t.pat, "`#[arg]` URL arguments are for component events; page events take signals and extractors");
                        ok = false;
                    }
                    None => {
                        cx.error(&t.pat, "an `#[arg]` needs a plain name: `#[arg] id: u64`");
                        ok = false;
                    }
                }
            }
            FnArg::Typed(t) => args.push(Arg::Extract(t.ty.clone())),
        }
    }
    if !f.sig.generics.params.is_empty() {
        cx.error(
            &f.sig.generics,
            format!("{what} handlers cannot be generic"),
        );
        ok = false;
    }
    ok.then(|| Handler {
        ident: f.sig.ident.clone(),
        is_async: f.sig.asyncness.is_some(),
        args,
    })
}

fn allow_url_args(what: &str) -> bool {
    what == "component event"
}

pub(crate) fn parse_event(cx: &mut Ctxt, f: &ImplItemFn, attr: &syn::Attribute) -> Option<Event> {
    parse_event_as(cx, f, attr, "event")
}

pub(crate) fn parse_event_as(
    cx: &mut Ctxt,
    f: &ImplItemFn,
    attr: &syn::Attribute,
    what: &str,
) -> Option<Event> {
    let mut name = LitStr::new(&f.sig.ident.to_string(), f.sig.ident.span());
    let mut method = "POST";
    if let syn::Meta::List(_) = &attr.meta {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                name = meta.value()?.parse()?;
                Ok(())
            } else if meta.path.is_ident("method") {
                let lit: LitStr = meta.value()?.parse()?;
                method = match lit.value().to_ascii_uppercase().as_str() {
                    "GET" => "GET",
                    "POST" => "POST",
                    "PUT" => "PUT",
                    "PATCH" => "PATCH",
                    "DELETE" => "DELETE",
                    _ => {
                        return Err(syn::Error::new(
                            lit.span(),
                            "method is one of get, post, put, patch, delete",
                        ));
                    }
                };
                Ok(())
            } else {
                Err(meta
                    .error("unknown event option; options are `name = \"…\"` and `method = \"…\"`"))
            }
        });
        if let Err(e) = result {
            cx.push(e);
            return None;
        }
    }
    let wire = name.value();
    let valid = !wire.is_empty()
        && wire != "."
        && wire != ".."
        && wire
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'~'));
    if !valid {
        cx.error(
            &name,
            format!("invalid event name `{wire}`: use letters, digits, `_`, `-` and `~`"),
        );
        return None;
    }
    let handler = parse_handler(cx, f, what, true)?;
    Some(Event {
        handler,
        variant: Ident::new(&variant_name(&wire), name.span()),
        name: wire,
        method,
    })
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
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'E');
    }
    out
}

pub(crate) fn check_duplicates(cx: &mut Ctxt, events: &[Event], page: &Ident, kind: &str) {
    for (i, e) in events.iter().enumerate() {
        if let Some(first) = events[..i].iter().find(|o| o.name == e.name) {
            cx.error_at(
                e.variant.span(),
                format!(
                    "duplicate event `{}` on {kind} `{page}`: `{}` and `{}` both handle it",
                    e.name, first.handler.ident, e.handler.ident
                ),
            );
        } else if let Some(first) = events[..i].iter().find(|o| o.variant == e.variant) {
            cx.error_at(
                e.variant.span(),
                format!(
                    "events `{}` and `{}` would both be the variant `{}`; rename one",
                    first.name, e.name, e.variant
                ),
            );
        }
    }
}

/// Removes `#[event]` attributes so the emitted impl block compiles.
pub(crate) fn strip_helper_attrs(mut item: ItemImpl) -> ItemImpl {
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
