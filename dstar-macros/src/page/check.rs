//! Phase 2 for pages: the path, `render`, `mount`, and the stream hooks and options.

use crate::attr::duration_ms;
use crate::ctxt::Ctxt;
use crate::event::check::{HandlerKind, check_handler};
use crate::event::model::{Handler, ImplBlock, is_sse};
use syn::{FnArg, LitStr};

pub(crate) fn check(cx: &Ctxt, block: &ImplBlock) {
    let options = &block.options;
    let hooks = &block.hooks;
    if let Some(path) = &options.path {
        check_path(cx, path);
    }
    let durations = [
        &options.idle_check.as_ref().map(|(_, l)| l),
        &options.frame.as_ref().map(|(_, l)| l),
    ];
    for lit in durations.into_iter().flatten() {
        if let Err(why) = duration_ms(lit) {
            cx.error(lit, why);
        }
    }
    match &hooks.render {
        None => cx.error(
            &block.item.self_ty,
            format!(
                "page `{}` has no `render` method; add `fn render(&self) -> Markup {{ html! {{ … }} }}`",
                block.name()
            ),
        ),
        Some(f) => {
            let by_ref = matches!(f.sig.inputs.first(), Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_none());
            if !by_ref || f.sig.inputs.len() != 1 {
                cx.error(&f.sig, "`render` takes only `&self`: `fn render(&self) -> Markup`");
            }
            if let Some(asyncness) = &f.sig.asyncness {
                cx.error(asyncness, "`render` cannot be async: load data in `mount`");
            }
        }
    }
    if let Some(f) = &hooks.mount {
        check_handler(cx, block, &Handler::parse(f), HandlerKind::Hook("mount"));
    }
    check_stream(cx, block);
}

fn check_stream(cx: &Ctxt, block: &ImplBlock) {
    let options = &block.options;
    let hooks = &block.hooks;
    if let Some(f) = &hooks.subscribe {
        check_handler(
            cx,
            block,
            &Handler::parse(f),
            HandlerKind::Hook("subscribe"),
        );
    }
    if let Some(f) = &hooks.on_message {
        let receiver = matches!(f.sig.inputs.first(), Some(FnArg::Receiver(_)));
        let sse = f
            .sig
            .inputs
            .iter()
            .filter(|a| matches!(a, FnArg::Typed(t) if is_sse(&t.ty)))
            .count();
        if receiver || sse != 1 || f.sig.inputs.len() != 2 {
            cx.error(
                &f.sig,
                "`on_message` is `async fn on_message(sse: &mut Sse, message: M)`: it turns one message into patches",
            );
        }
    }
    if let Some(f) = &hooks.on_disconnect {
        // with `on_connect`, its value comes back as the second argument
        let args = if hooks.on_connect.is_some() { 2 } else { 1 };
        if f.sig.asyncness.is_some()
            || f.sig.inputs.len() != args
            || matches!(f.sig.inputs.first(), Some(FnArg::Receiver(_)))
        {
            cx.error(
                &f.sig,
                if args == 2 {
                    "`on_disconnect` is `fn on_disconnect(reason: EndReason, connected: T)` where `T` is what `on_connect` returned: it runs once, synchronously, at teardown"
                } else {
                    "`on_disconnect` is `fn on_disconnect(reason: EndReason)`: it runs once, synchronously, at teardown"
                },
            );
        }
    }
    if let Some(f) = &hooks.on_connect {
        if matches!(f.sig.inputs.first(), Some(FnArg::Receiver(_))) {
            cx.error(
                &f.sig,
                "`on_connect` is `async fn on_connect(user: CurrentUser<User>, …) -> T`: it takes extractors that read no body, runs once the stream is allowed, and what it returns lives as long as the stream (a presence join, say)",
            );
        }
    }
    // the hooks that are plain functions of one argument
    for (hook, shape) in [(
        &hooks.pubsub,
        "`pubsub` is `fn pubsub(state: &State) -> PubSub`: where a `live` page listens",
    )] {
        if let Some(f) = hook {
            if f.sig.asyncness.is_some() || f.sig.inputs.len() != 1 {
                cx.error(&f.sig, shape);
            }
        }
    }
    if let Some(f) = &hooks.stream_key {
        if matches!(f.sig.inputs.first(), Some(FnArg::Receiver(_))) || f.sig.inputs.is_empty() {
            cx.error(
                &f.sig,
                "`stream_key` is `fn stream_key(head: &RequestHead) -> impl ToString` (or takes extractors that read no body, such as `CurrentUser<User>`, and may be `async`): the scope of per-tab deduplication",
            );
        }
    }
    if let Some(f) = &hooks.render_key {
        if matches!(f.sig.inputs.first(), Some(FnArg::Receiver(_))) || f.sig.inputs.is_empty() {
            cx.error(
                &f.sig,
                "`render_key` is `fn render_key(user: CurrentUser<User>) -> impl ToString` (it takes `&RequestHead` or extractors that read no body, and may be `async`): viewers with the same key share one render",
            );
        }
        if options.live.is_none() {
            cx.error(
                &f.sig.ident,
                "`render_key` says who shares a `live` page's render: add `live = \"topic\"` to the attribute",
            );
        } else if hooks.authorize.is_none() {
            // the shared render is made with one viewer's request: no viewer's own `mount` runs,
            // so nothing but `authorize` checks that each may see the key's page
            cx.error(
                &f.sig.ident,
                "`render_key` hands one render to every viewer with the same key, and no viewer's own `mount` runs: add `fn authorize(…) -> bool` (it runs for each viewer before every frame) that refuses a viewer who may not see this key's page",
            );
        }
    }
    if let Some((key, topics)) = &options.live {
        if topics.is_empty() {
            cx.error(
                key,
                "`live` needs a topic: `live = \"scores\"` or `live = [\"a\", \"b\"]`",
            );
        }
        if hooks.subscribe.is_some() || hooks.on_message.is_some() {
            cx.error(
                key,
                "a `live` page re-renders itself on every message: remove `subscribe` and `on_message`, or the `live` option",
            );
        }
        if options.state.is_none() {
            cx.error(
                key,
                "a `live` page listens on a `PubSub` in its state: add `state = T` (with `fn pubsub(state: &T) -> PubSub`, or `PubSub: FromRef<T>`)",
            );
        }
        return;
    }
    if let Some(f) = &hooks.pubsub {
        cx.error(
            &f.sig.ident,
            "`pubsub` tells a `live` page where to listen: add `live = \"topic\"` to the attribute",
        );
    }
    if let Some((key, _)) = &options.frame {
        cx.error(
            key,
            "`frame` sets how often a `live` page re-renders: add `live = \"topic\"`",
        );
    }
    match (&hooks.subscribe, &hooks.on_message) {
        (Some(_), Some(_)) => {}
        (Some(_), None) => cx.error(
            &block.item.self_ty,
            "this page has `subscribe` but no `on_message`: add `async fn on_message(sse: &mut Sse, message: M)`",
        ),
        (None, Some(f)) => cx.error(
            &f.sig.ident,
            "`on_message` needs `subscribe`: add `async fn subscribe(…) -> impl Source` to say where messages come from",
        ),
        (None, None) => {
            if let Some(f) = &hooks.stream_key {
                cx.error(
                    &f.sig.ident,
                    "`stream_key` only applies to pages with a stream (`subscribe` and `on_message`, or `live`)",
                );
            }
            for f in [&hooks.on_disconnect, &hooks.on_connect].into_iter().flatten() {
                cx.error(
                    &f.sig.ident,
                    format!(
                        "`{}` only applies to pages with a stream (`subscribe` and `on_message`, or `live`)",
                        f.sig.ident
                    ),
                );
            }
        }
    }
}

fn check_path(cx: &Ctxt, lit: &LitStr) {
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
