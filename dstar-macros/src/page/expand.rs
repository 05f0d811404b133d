//! Phase 3 for pages: the GET and stream handlers, the routes, the `Page` impl and the
//! registration, around the shared event core.

use super::{StreamKind, idle_check_ms, stream_kind};
use crate::event::expand::{
    authorize_call, authorize_fn, enum_ident, event_enum, event_handler, extract_args, handler_fn,
    handler_fn_with, handler_ident, lit, on_connect_call, rewrite_event_calls, state_type,
    stream_key_call,
};
use crate::event::model::{Handler, ImplBlock};
use crate::rewrite::{BareCall, rewrite_bare};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

/// Everything a page expands to; the block has passed its checks.
pub(crate) fn expand(block: &ImplBlock) -> TokenStream {
    let ident = block.ident.as_ref().expect("checked: the page has a name");
    let state = state_type(block);
    let path = page_path(block);
    let base = if path == "/" { "" } else { path.as_str() };
    let stream = stream_kind(block);

    let declarations = declarations(block, stream.is_some());
    let authorize = authorize_fn(block);
    let event_handlers = block.events.iter().map(|e| event_handler(block, e, &state));
    let get_handler = get_handler(block, &state);
    let stream_handler = stream
        .as_ref()
        .map(|kind| stream_handler(block, kind, &state));
    let post_root = if let Some(StreamKind::Live { .. }) = &stream {
        // a live page's shared renders belong to its router: two apps never share one
        quote!(.post({
            let __hubs = ::dstar::page::LiveHubs::default();
            ::dstar::__private::with_base(
                move |__s: ::dstar::__private::axum::extract::State<#state>,
                      __r: ::dstar::__private::axum::extract::Request,
                      __b: ::dstar::event::DispatchBase| Self::__dstar_stream(__s, __r, __b, __hubs),
                __base,
            )
        }))
    } else if stream.is_some() {
        quote!(.post(::dstar::__private::with_base(Self::__dstar_stream, __base)))
    } else {
        quote!(.post(::dstar::__private::no_stream::<Self>))
    };
    let event_routes = block.events.iter().map(|e| {
        let route = format!("{base}/_event/{}", e.name.value());
        let fn_ident = handler_ident(e);
        let method = e.method.routing_fn();
        // `#[event(limit = "…")]`: a body over it is refused before it is read
        let limit = e.limit.as_ref().map(|(_, bytes)| {
            let bytes = proc_macro2::Literal::u64_unsuffixed(*bytes);
            quote!(.layer(::dstar::upload::BodyLimit::event(#bytes)))
        });
        quote!(.route(#route, ::dstar::__private::axum::routing::#method(::dstar::__private::with_base(Self::#fn_ident, __base)) #limit))
    });
    // a catch-all next to the event routes: it makes the router keep a backtracking list (one
    // small allocation per event request), but unlike fallback routes it survives `nest`, wins
    // over a user's own catch-all and sits under `route_layer`
    let unknown_route = format!("{base}/_event/{{*__dstar_unknown}}");
    let route_infos =
        std::iter::once(quote!(::dstar::event::RouteInfo { method: "GET", path: #path }))
            .chain(
                stream
                    .is_some()
                    .then(|| quote!(::dstar::event::RouteInfo { method: "POST", path: #path })),
            )
            .chain(block.events.iter().map(|e| {
                let route = format!("{base}/_event/{}", e.name.value());
                let method = e.method.as_str();
                quote!(::dstar::event::RouteInfo { method: #method, path: #route })
            }));
    let name = ident.to_string();
    let enum_ident = enum_ident(block);

    quote! {
        #declarations

        #[doc(hidden)]
        impl #ident {
            #authorize
            #get_handler
            #stream_handler
            #(#event_handlers)*
        }

        impl ::dstar::page::Page for #ident {
            type State = #state;
            type Event = #enum_ident;
            const NAME: &'static str = #name;
            const PATH: &'static str = #path;
            fn routes_under(__base: &::dstar::event::DispatchBase) -> ::dstar::__private::axum::Router<#state> {
                ::dstar::__private::axum::Router::new()
                    .route(#path, ::dstar::__private::axum::routing::get(::dstar::__private::with_base(Self::__dstar_get, __base)) #post_root)
                    #(#event_routes)*
                    .route(#unknown_route, ::dstar::__private::axum::routing::any(::dstar::__private::unknown_event::<Self>))
            }
        }

        impl ::dstar::page::Registered for #ident {
            fn registration() -> &'static ::dstar::page::PageRegistration {
                static REGISTRATION: ::dstar::page::PageRegistration = ::dstar::page::PageRegistration::new(
                    #name,
                    &[#(#route_infos),*],
                    ::dstar::__private::build_page::<#ident>,
                );
                &REGISTRATION
            }
        }

        ::dstar::__private::inventory::submit! {
            ::dstar::__private::PageEntry::new(<#ident as ::dstar::page::Registered>::registration)
        }
    }
}

/// What an impl block with errors still gives (see `event::fallback`): the rewritten impl, the
/// enum, and a `Page` impl that serves nothing.
pub(crate) fn fallback(block: &ImplBlock) -> TokenStream {
    let ident = block.ident.as_ref().expect("the fallback has a name");
    let state = state_type(block);
    let path = page_path(block);
    let name = ident.to_string();
    let declarations = declarations(block, true);
    let enum_ident = enum_ident(block);
    quote! {
        #declarations

        impl ::dstar::page::Page for #ident {
            type State = #state;
            type Event = #enum_ident;
            const NAME: &'static str = #name;
            const PATH: &'static str = #path;
            fn routes_under(_: &::dstar::event::DispatchBase) -> ::dstar::__private::axum::Router<#state> {
                ::dstar::__private::axum::Router::new()
            }
        }

        impl ::dstar::page::Registered for #ident {
            fn registration() -> &'static ::dstar::page::PageRegistration {
                static REGISTRATION: ::dstar::page::PageRegistration =
                    ::dstar::page::PageRegistration::new(#name, &[], ::dstar::__private::build_page::<#ident>);
                &REGISTRATION
            }
        }
    }
}

fn page_path(block: &ImplBlock) -> String {
    block
        .options
        .path
        .as_ref()
        .map_or_else(|| "/".to_owned(), syn::LitStr::value)
}

/// The user's impl block with `event("…")` and `connect()` resolved, and the event enum.
fn declarations(block: &ImplBlock, has_stream: bool) -> TokenStream {
    let enum_ident = enum_ident(block);
    let route_base = format!("{}/_event", page_path(block).trim_end_matches('/'));
    let event_enum = event_enum(
        block,
        quote!(::dstar::page::event_action(self)),
        &route_base,
    );
    let tokens = rewrite_event_calls(block, block.item.to_token_stream(), &mut |e, call| {
        let span = call.span;
        if !call.rest.is_empty() {
            return quote_spanned!(span=> ::dstar::__private::core::compile_error!(
                "page events take no arguments: `event(\"name\")`; chain `.with_search()` or `.options(…)` for more"
            ));
        }
        let variant = syn::Ident::new(&e.variant.to_string(), span);
        quote_spanned!(span=> ::dstar::page::event_action(#enum_ident::#variant))
    });
    let page_name = block.name();
    let user_impl = rewrite_bare(tokens, "connect", &mut |call: BareCall| {
        let span = call.span;
        if !call.args.is_empty() {
            return quote_spanned!(span=> ::dstar::__private::core::compile_error!(
                "`connect()` takes no arguments: it opens this page's stream"
            ));
        }
        if !has_stream {
            let msg = format!(
                "page `{page_name}` has no stream for `connect()`: add `async fn subscribe(…)` and `async fn on_message(sse: &mut Sse, message: M)`, or `live = \"topic\"`"
            );
            return quote_spanned!(span=> ::dstar::__private::core::compile_error!(#msg));
        }
        quote_spanned!(span=> ::dstar::page::connect_action())
    });
    quote! {
        #user_impl
        #event_enum
    }
}

/// `E` in a return type written `Result<T, E>`.
fn result_error_type(output: &syn::ReturnType) -> Option<&syn::Type> {
    let syn::ReturnType::Type(_, ty) = output else {
        return None;
    };
    let syn::Type::Path(p) = &**ty else {
        return None;
    };
    let last = p.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    });
    let (_, error) = (types.next()?, types.next()?);
    types.next().is_none().then_some(error)
}

/// `__dstar_view` runs `mount` (with its extractors) and `render`: the page body, or the
/// response `mount` answered with. `GET` wraps it in the layout; a reconnecting stream sends it as
/// its catch-up, and a live page on every change.
fn get_handler(block: &ImplBlock, state: &TokenStream) -> TokenStream {
    let ident = block.ident.as_ref().expect("checked: the page has a name");
    let (extract, page_expr) = match &block.hooks.mount {
        Some(f) => {
            let handler = Handler::parse(f);
            let (extract, call_args) = extract_args(
                &handler,
                state,
                |r| quote!(return ::dstar::__private::core::result::Result::Err(#r)),
            );
            let await_ = handler.is_async.then(|| quote!(.await));
            let call = quote!(Self::mount(#(#call_args),*) #await_);
            let expr = if handler.returns_self(ident) {
                call
            } else {
                match result_error_type(&handler.sig.output) {
                    // `Result<Self, E>` as written: the error converted at `E`, so an `E` that is
                    // no response is reported there, once
                    Some(error_ty) => {
                        let span = error_ty.span();
                        let failed = if matches!(
                            error_ty,
                            syn::Type::ImplTrait(_) | syn::Type::Infer(_)
                        ) {
                            quote_spanned!(span=> ::dstar::__private::mount_failed::<Self, _>(__e))
                        } else {
                            quote_spanned!(span=> ::dstar::__private::mount_failed::<Self, #error_ty>(__e))
                        };
                        quote! {
                            match #call {
                                ::dstar::__private::core::result::Result::Ok(p) => p,
                                ::dstar::__private::core::result::Result::Err(__e) => {
                                    return ::dstar::__private::core::result::Result::Err(#failed)
                                }
                            }
                        }
                    }
                    // an alias (`io::Result<Self>`) or anything else: through `MountOutcome`
                    None => {
                        let span = match &handler.sig.output {
                            syn::ReturnType::Type(_, ty) => ty.span(),
                            syn::ReturnType::Default => handler.ident.span(),
                        };
                        let into_page = quote_spanned!(span=> ::dstar::page::MountOutcome::<Self>::into_page(__outcome));
                        quote! {{
                            let __outcome = #call;
                            match #into_page {
                                ::dstar::__private::core::result::Result::Ok(p) => p,
                                ::dstar::__private::core::result::Result::Err(r) => {
                                    return ::dstar::__private::core::result::Result::Err(r)
                                }
                            }
                        }}
                    }
                }
            };
            (extract, expr)
        }
        None => (
            quote!(let _ = (&mut __parts, __body);),
            quote!(<Self as ::dstar::__private::core::default::Default>::default()),
        ),
    };
    let layout = block.options.layout.as_ref().map_or_else(
        || quote!(::dstar::page::default_layout),
        |(_, path)| path.to_token_stream(),
    );
    let title = block
        .options
        .title
        .as_ref()
        .map_or_else(|| lit(&block.name()), |(_, title)| title.clone());
    let get = handler_fn(
        &format_ident!("__dstar_get"),
        state,
        false,
        mount_span(block),
        quote! {
            let __document = ::dstar::__private::Document::new(
                #layout,
                #title,
                __req.extensions(),
                ::dstar::__private::core::clone::Clone::clone(&__base),
            );
            match Self::__dstar_view(__state, __req, __base).await {
                ::dstar::__private::core::result::Result::Ok(__markup) => __document.render(__markup),
                ::dstar::__private::core::result::Result::Err(r) => r,
            }
        },
    );
    quote! {
        #[allow(unused_mut, unused_variables)]
        async fn __dstar_view(
            __state: #state,
            __req: ::dstar::__private::axum::extract::Request,
            __base: ::dstar::event::DispatchBase,
        ) -> ::dstar::__private::core::result::Result<::dstar::__private::maud::Markup, ::dstar::__private::axum::response::Response> {
            let (mut __parts, __body) = __req.into_parts();
            #extract
            let __page: Self = #page_expr;
            // component actions in the page know the dispatch base
            ::dstar::__private::core::result::Result::Ok(::dstar::__private::render_with(__base, || Self::render(&__page)))
        }

        #get
    }
}

/// `POST {path}`: the page's stream. The loop itself is `dstar::stream::run`; this reads the
/// request, checks it, claims the tab's stream and says where messages come from.
fn stream_handler(block: &ImplBlock, kind: &StreamKind<'_>, state: &TokenStream) -> TokenStream {
    let enum_ident = enum_ident(block);
    let page_name = block.name();
    let idle = idle_check_ms(block);
    let authorize = authorize_call(block, quote!(::dstar::event::Access::<#enum_ident>::Stream));
    let key = if let Some(f) = &block.hooks.stream_key {
        stream_key_call(f, state)
    } else {
        quote!(::dstar::__private::core::option::Option::None)
    };
    // `on_connect`'s value lives in the guard, and goes to `on_disconnect` (or is dropped) when
    // the stream ends, however it ends
    let connect = block.hooks.on_connect.as_ref().map(|f| {
        let call = on_connect_call(f, state);
        quote!(let __connected = #call;)
    });
    let guard = match (&block.hooks.on_connect, &block.hooks.on_disconnect) {
        (Some(_), Some(_)) => quote!(::dstar::stream::EndGuard::new(move |reason| {
            Self::on_disconnect(reason, __connected)
        })),
        (Some(_), None) => quote!(::dstar::stream::EndGuard::new(move |_| {
            ::dstar::__private::core::mem::drop(__connected)
        })),
        (None, Some(_)) => quote!(::dstar::stream::EndGuard::new(
            |reason| Self::on_disconnect(reason)
        )),
        (None, None) => quote!(::dstar::stream::EndGuard::none()),
    };
    let live = matches!(kind, StreamKind::Live { .. });
    // the page's request is kept to render it again (live pages), and to authorize every message
    let keep_template = live || block.hooks.authorize.is_some();
    // a live page's every render is for one viewer: `authorize` runs again, with the request as
    // it is now (the session loaded afresh), so a viewer who lost access gets the refusal
    let live_authorize = block.hooks.authorize.is_some().then(|| {
        quote! {
            let (mut __parts, __body) = __r.into_parts();
            if let ::dstar::__private::core::result::Result::Err(r) = Self::__dstar_authorize(&mut __parts, &__state, ::dstar::event::Access::<#enum_ident>::Stream).await {
                return ::dstar::__private::core::result::Result::Err(r);
            }
            let __r = ::dstar::__private::axum::extract::Request::from_parts(__parts, __body);
        }
    });
    // where the messages come from, and what each becomes
    let (extract, subscribe, on_message) = match kind {
        StreamKind::Messages {
            subscribe,
            on_message_async,
            sse_first,
        } => {
            let (extract, call_args) = extract_args(subscribe, state, |r| quote!(return #r));
            // with `authorize`, every message is for a viewer who may still see it: it runs again
            // (the session loaded afresh) before the message becomes patches
            let (message_authorize_setup, message_authorize_capture, message_authorize) = if block
                .hooks
                .authorize
                .is_some()
            {
                (
                    quote! {
                        let __template = __open.template();
                        let __viewer_state = ::dstar::__private::core::clone::Clone::clone(&__state);
                    },
                    quote! {
                        let __req = __template.fresh_request();
                        let __viewer_state = ::dstar::__private::core::clone::Clone::clone(&__viewer_state);
                    },
                    quote! {
                        let (mut __parts, _) = __req.into_parts();
                        if let ::dstar::__private::core::result::Result::Err(r) = Self::__dstar_authorize(&mut __parts, &__viewer_state, ::dstar::event::Access::<#enum_ident>::Stream).await {
                            return ::dstar::__private::stream_refused(&r);
                        }
                    },
                )
            } else {
                Default::default()
            };
            let await_subscribe = subscribe.is_async.then(|| quote!(.await));
            let await_message = on_message_async.then(|| quote!(.await));
            let call = if *sse_first {
                quote!(Self::on_message(&mut __sse, __message))
            } else {
                quote!(Self::on_message(__message, &mut __sse))
            };
            (
                extract,
                quote!(Self::subscribe(#(#call_args),*) #await_subscribe),
                quote! {{
                    let __base = ::dstar::__private::core::clone::Clone::clone(&__base);
                    #message_authorize_setup
                    move |__message| {
                        let __base = ::dstar::__private::core::clone::Clone::clone(&__base);
                        #message_authorize_capture
                        async move {
                            #message_authorize
                            let mut __sse = ::dstar::sse::Sse::new();
                            let __outcome = ::dstar::__private::handle_with(__base, async { #call #await_message }).await;
                            ::dstar::stream::MessageOutcome::report(__outcome, #page_name, &mut __sse);
                            __sse
                        }
                    }
                }},
            )
        }
        StreamKind::Live {
            topics,
            frame_ms,
            pubsub_hook,
        } => {
            return live_stream_handler(
                block,
                state,
                LiveParts {
                    topics,
                    frame_ms: *frame_ms,
                    pubsub_hook: *pubsub_hook,
                    authorize,
                    key,
                    connect,
                    guard,
                    live_authorize,
                    idle,
                },
            );
        }
    };
    handler_fn(
        &format_ident!("__dstar_stream"),
        state,
        true,
        stream_span(kind),
        quote! {
            let (mut __open, __body) = match ::dstar::__private::StreamOpen::read(&__parts, __body, #page_name, #keep_template).await {
                ::dstar::__private::core::result::Result::Ok(v) => v,
                ::dstar::__private::core::result::Result::Err(r) => return r,
            };
            #authorize
            __open.scope(#key, &__parts);
            #connect
            #extract
            // the claim ends another stream of the same tab, so it is made only once the request
            // has passed `authorize` and every extractor: a refused request never kills a stream
            let __claim = match __open.claim() {
                ::dstar::__private::core::result::Result::Ok(claim) => claim,
                ::dstar::__private::core::result::Result::Err(r) => return r,
            };
            let __source = #subscribe;
            let __on_message = #on_message;
            // rendered after subscribing: a message published in between shows in the render or
            // arrives after it (or both), never neither; on a first connect, only when the
            // source may have missed one since the page's own render
            let __first = __open.first_events(&__source, |__get| Self::__dstar_view(::dstar::__private::core::clone::Clone::clone(&__state), __get, __base)).await;
            let __stream = ::dstar::stream::PageStream {
                source: __source,
                idle_check: ::dstar::__private::core::time::Duration::from_millis(#idle),
                claim: __claim,
                guard: #guard,
                first: __first,
                catch_up: true,
            };
            ::dstar::__private::axum::response::IntoResponse::into_response(
                ::dstar::stream::run(__stream, __on_message),
            )
        },
    )
}

/// What [`stream_handler`] has already built for a live page's stream.
struct LiveParts<'a> {
    topics: &'a [syn::LitStr],
    frame_ms: u64,
    pubsub_hook: bool,
    authorize: Option<TokenStream>,
    key: TokenStream,
    connect: Option<TokenStream>,
    guard: TokenStream,
    live_authorize: Option<TokenStream>,
    idle: u64,
}

/// `POST {path}` of a live page: viewers who see the same thing (the page's [`render_scope`], or
/// its `render_key`) join one shared render; a page rendered per viewer runs its own loop.
fn live_stream_handler(block: &ImplBlock, state: &TokenStream, live: LiveParts<'_>) -> TokenStream {
    let enum_ident = enum_ident(block);
    let page_name = block.name();
    let LiveParts {
        topics,
        frame_ms,
        pubsub_hook,
        authorize,
        key,
        connect,
        guard,
        live_authorize,
        idle,
    } = live;
    let pubsub = if pubsub_hook {
        quote!(Self::pubsub(&__state))
    } else {
        quote!(::dstar::__private::axum::extract::FromRef::from_ref(
            &__state
        ))
    };
    let (share, named_key) = match &block.hooks.render_key {
        Some(f) => (stream_key_call(f, state), true),
        None => (
            quote!(::dstar::page::RenderScope::key_of(
                Self::__dstar_render_scope(),
                &__parts
            )),
            false,
        ),
    };
    let share_authorize = if block.hooks.authorize.is_some() {
        quote!(::dstar::__private::core::option::Option::Some(
            move |__state: #state, __r: ::dstar::__private::axum::extract::Request| async move {
                let (mut __parts, _) = __r.into_parts();
                Self::__dstar_authorize(&mut __parts, &__state, ::dstar::event::Access::<#enum_ident>::Stream).await
            }
        ))
    } else {
        quote!(::dstar::__private::core::option::Option::None::<
            fn(#state, ::dstar::__private::axum::extract::Request) -> ::dstar::__private::core::future::Ready<
                ::dstar::__private::core::result::Result<(), ::dstar::__private::axum::response::Response>,
            >,
        >)
    };
    let frame = quote!(::dstar::__private::core::time::Duration::from_millis(#frame_ms));
    let scope_fn = render_scope_fn(block);
    let handler = handler_fn_with(
        &format_ident!("__dstar_stream"),
        state,
        true,
        stream_span_live(topics),
        quote!(__hubs: ::dstar::page::LiveHubs,),
        quote! {
            let (mut __open, __body) = match ::dstar::__private::StreamOpen::read(&__parts, __body, #page_name, true).await {
                ::dstar::__private::core::result::Result::Ok(v) => v,
                ::dstar::__private::core::result::Result::Err(r) => return r,
            };
            #authorize
            __open.scope(#key, &__parts);
            let __share: ::dstar::__private::core::option::Option<::dstar::__private::std::string::String> = #share;
            #connect
            let _ = (&mut __parts, __body);
            // the claim ends another stream of the same tab, so it is made only once the request
            // has passed `authorize` and every extractor: a refused request never kills a stream
            let __claim = match __open.claim() {
                ::dstar::__private::core::result::Result::Ok(claim) => claim,
                ::dstar::__private::core::result::Result::Err(r) => return r,
            };
            let __pubsub: ::dstar::stream::PubSub = #pubsub;
            let __guard = #guard;
            let __idle = ::dstar::__private::core::time::Duration::from_millis(#idle);
            match __share {
                // one render per key, its bytes handed to every viewer of the key
                ::dstar::__private::core::option::Option::Some(__key) => {
                    let __view = {
                        let __base = ::dstar::__private::core::clone::Clone::clone(&__base);
                        move |__state: #state, __r: ::dstar::__private::axum::extract::Request| {
                            let __base = ::dstar::__private::core::clone::Clone::clone(&__base);
                            async move { Self::__dstar_view(__state, __r, __base).await }
                        }
                    };
                    ::dstar::__private::live::shared_stream(
                        __open,
                        ::dstar::__private::live::StreamParts { claim: __claim, guard: __guard, idle_check: __idle },
                        ::dstar::__private::live::SharedLive {
                            hubs: __hubs,
                            key: __key,
                            named_key: #named_key,
                            pubsub: __pubsub,
                            topics: &[#(#topics),*],
                            frame: #frame,
                            state: ::dstar::__private::core::clone::Clone::clone(&__state),
                            view: __view,
                            authorize: #share_authorize,
                        },
                    ).await
                }
                // a render per viewer, with the viewer's own request
                ::dstar::__private::core::option::Option::None => {
                    let __source = __pubsub.changes(&[#(#topics),*], #frame);
                    let __on_message = {
                        let __base = ::dstar::__private::core::clone::Clone::clone(&__base);
                        ::dstar::__private::live_renderer(
                            ::dstar::__private::core::clone::Clone::clone(&__state),
                            __open.template(),
                            move |__state, __r| {
                                let __base = ::dstar::__private::core::clone::Clone::clone(&__base);
                                async move {
                                    #live_authorize
                                    Self::__dstar_view(__state, __r, __base).await
                                }
                            },
                        )
                    };
                    // rendered after subscribing: a message published in between shows in the
                    // render or arrives after it (or both), never neither
                    let __first = __open.first_events(&__source, |__get| Self::__dstar_view(::dstar::__private::core::clone::Clone::clone(&__state), __get, __base)).await;
                    let __stream = ::dstar::stream::PageStream {
                        source: __source,
                        idle_check: __idle,
                        claim: __claim,
                        guard: __guard,
                        first: __first,
                        catch_up: true,
                    };
                    ::dstar::__private::axum::response::IntoResponse::into_response(
                        ::dstar::stream::run(__stream, __on_message),
                    )
                }
            }
        },
    );
    quote! {
        #scope_fn
        #handler
    }
}

/// `__dstar_render_scope`: what a render depends on, the widest scope of `mount`'s extractors,
/// each asked of the compiler by its type (`dstar::page::RenderScope`). No `mount`: shared.
fn render_scope_fn(block: &ImplBlock) -> TokenStream {
    let types: Vec<&syn::Type> = block
        .hooks
        .mount
        .as_ref()
        .map(|f| {
            f.sig
                .inputs
                .iter()
                .filter_map(|a| match a {
                    syn::FnArg::Typed(t) => Some(&*t.ty),
                    syn::FnArg::Receiver(_) => None,
                })
                .collect()
        })
        .unwrap_or_default();
    quote! {
        #[allow(unused_imports)]
        fn __dstar_render_scope() -> ::dstar::page::RenderScope {
            use ::dstar::__private::live::{KnownScope as _, ViewerScope as _};
            ::dstar::page::RenderScope::Shared
                #(.and((&&::dstar::__private::live::Probe::<#types>::new()).render_scope()))*
        }
    }
}

fn stream_span_live(topics: &[syn::LitStr]) -> Span {
    topics.first().map_or_else(Span::call_site, |t| t.span())
}

/// Where a page's GET future that is not `Send` is reported: the user's `mount`, when there is one.
fn mount_span(block: &ImplBlock) -> Span {
    block
        .hooks
        .mount
        .as_ref()
        .map_or_else(Span::call_site, |f| f.sig.ident.span())
}

/// Where a page stream's future that is not `Send` is reported: the user's `subscribe`, or the
/// `live` topics.
fn stream_span(kind: &StreamKind<'_>) -> Span {
    match kind {
        StreamKind::Messages { subscribe, .. } => subscribe.ident.span(),
        StreamKind::Live { topics, .. } => {
            topics.first().map_or_else(Span::call_site, |t| t.span())
        }
    }
}
