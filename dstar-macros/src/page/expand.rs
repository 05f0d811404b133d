//! Phase 3: generate the event enum, the axum handlers, the routes and the registration.

use super::model::{Arg, Event, Handler, Page, Stream, StreamKind};
use crate::rewrite::{BareCall, Call, rewrite, rewrite_bare};
use crate::suggest::closest;
use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

pub(crate) fn expand(page: &Page) -> syn::Result<TokenStream> {
    let ident = &page.ident;
    let enum_ident = format_ident!("{}Event", ident);
    let state = page
        .args
        .state
        .as_ref()
        .map_or_else(|| quote!(()), ToTokens::to_token_stream);
    let path = page.args.path.value();
    let base = if path == "/" { "" } else { path.as_str() };

    let user_impl = rewrite_event_calls(page, &enum_ident);
    let event_enum = event_enum(page, &enum_ident);

    let event_handlers = page
        .events
        .iter()
        .map(|e| event_handler(page, e, &enum_ident, &state));
    let get_handler = get_handler(page, &state);
    let stream_handler = page
        .stream
        .as_ref()
        .map(|st| stream_handler(page, st, &enum_ident, &state));
    let post_root = if page.stream.is_some() {
        quote!(.post(Self::__dstar_stream))
    } else {
        quote!(.post(::dstar::page::no_stream::<Self>))
    };

    let event_routes = page.events.iter().map(|e| {
        let route = format!("{base}/_event/{}", e.name);
        let fn_ident = format_ident!("__dstar_event_{}", e.handler.ident);
        let method = format_ident!("{}", e.method.to_ascii_lowercase());
        quote!(.route(#route, ::dstar::__private::axum::routing::#method(Self::#fn_ident)))
    });
    let unknown_route = format!("{base}/_event/{{*__dstar_unknown}}");
    let stream_info = page
        .stream
        .is_some()
        .then(|| quote!(::dstar::page::RouteInfo { method: "POST", path: #path }));
    let route_infos =
        std::iter::once(quote!(::dstar::page::RouteInfo { method: "GET", path: #path }))
            .chain(stream_info)
            .chain(page.events.iter().map(|e| {
                let route = format!("{base}/_event/{}", e.name);
                let method = e.method;
                quote!(::dstar::page::RouteInfo { method: #method, path: #route })
            }))
            .collect::<Vec<_>>();
    let name = ident.to_string();
    let reg_ident = format_ident!("__DSTAR_PAGE_{}", name.to_uppercase());

    Ok(quote! {
        #user_impl

        #event_enum

        #[doc(hidden)]
        impl #ident {
            #get_handler
            #stream_handler
            #(#event_handlers)*
        }

        impl ::dstar::page::Page for #ident {
            type State = #state;
            type Event = #enum_ident;
            const NAME: &'static str = #name;
            const PATH: &'static str = #path;
            fn routes() -> ::dstar::__private::axum::Router<#state> {
                ::dstar::__private::axum::Router::new()
                    .route(#path, ::dstar::__private::axum::routing::get(Self::__dstar_get) #post_root)
                    #(#event_routes)*
                    .route(#unknown_route, ::dstar::__private::axum::routing::any(::dstar::page::unknown_event::<Self>))
            }
        }

        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        static #reg_ident: ::dstar::page::PageRegistration = ::dstar::page::PageRegistration::new(
            #name,
            &[#(#route_infos),*],
            ::dstar::page::build_page::<#ident>,
        );

        impl ::dstar::page::Registered for #ident {
            fn registration() -> &'static ::dstar::page::PageRegistration {
                &#reg_ident
            }
        }

        ::dstar::__private::inventory::submit! {
            ::dstar::page::PageRegistration::new(
                #name,
                &[#(#route_infos),*],
                ::dstar::page::build_page::<#ident>,
            )
        }
    })
}

/// The user's impl block with every `event("…")` checked and replaced.
fn rewrite_event_calls(page: &Page, enum_ident: &syn::Ident) -> TokenStream {
    let names: Vec<&str> = page.events.iter().map(|e| e.name.as_str()).collect();
    let mut replace = |call: Call| -> TokenStream {
        let span = call.span;
        if !call.rest.is_empty() {
            return quote_spanned!(span=> ::dstar::__private::core::compile_error!(
                "page events take no arguments: `event(\"name\")`; chain `.with_search()` or `.options(…)` for more"
            ));
        }
        match page.events.iter().find(|e| e.name == call.name) {
            Some(e) => {
                let variant = syn::Ident::new(&e.variant.to_string(), span);
                quote_spanned!(span=> ::dstar::page::event_action(#enum_ident::#variant))
            }
            None => {
                let msg = unknown_event_message(&call.name, &page.ident.to_string(), &names);
                quote_spanned!(span=> ::dstar::__private::core::compile_error!(#msg))
            }
        }
    };
    let tokens = rewrite(page.item.to_token_stream(), "event", &mut replace);
    let has_stream = page.stream.is_some();
    let page_name = page.ident.to_string();
    let mut replace_connect = |call: BareCall| -> TokenStream {
        let span = call.span;
        if !call.args.is_empty() {
            return quote_spanned!(span=> ::dstar::__private::core::compile_error!(
                "`connect()` takes no arguments: it opens this page's stream"
            ));
        }
        if !has_stream {
            let msg = format!(
                "page `{page_name}` has no stream for `connect()`: add `async fn subscribe(…)` and `async fn on_message(sse: &mut Sse, message: M)`"
            );
            return quote_spanned!(span=> ::dstar::__private::core::compile_error!(#msg));
        }
        quote_spanned!(span=> ::dstar::page::connect_action())
    };
    rewrite_bare(tokens, "connect", &mut replace_connect)
}

pub(crate) fn unknown_event_message(name: &str, owner: &str, names: &[&str]) -> String {
    unknown_message(name, "page", owner, names)
}

pub(crate) fn unknown_message(name: &str, kind: &str, owner: &str, names: &[&str]) -> String {
    let mut msg = format!("unknown event `{name}` on {kind} `{owner}`");
    match closest(name, names.iter().copied()) {
        Some(best) => msg.push_str(&format!("; did you mean `{best}`? ")),
        None => msg.push_str("; "),
    }
    if names.is_empty() {
        msg.push_str(&format!("this {kind} has no `#[event]` handlers"));
    } else {
        msg.push_str(&format!("events here: {}", names.join(", ")));
    }
    msg
}

fn event_enum(page: &Page, enum_ident: &syn::Ident) -> TokenStream {
    event_enum_for(
        &page.events,
        enum_ident,
        &page.ident.to_string(),
        &format!("{}/_event", page.args.path.value().trim_end_matches('/')),
        quote!(::dstar::page::event_action(self)),
    )
}

/// The event enum of a page or component; `action` is the body of its `action()` method.
pub(crate) fn event_enum_for(
    events: &[Event],
    enum_ident: &syn::Ident,
    owner: &str,
    route_base: &str,
    action: TokenStream,
) -> TokenStream {
    struct Shim<'a> {
        events: &'a [Event],
    }
    let page = Shim { events };
    let variants: Vec<_> = page.events.iter().map(|e| &e.variant).collect();
    let names: Vec<_> = page.events.iter().map(|e| &e.name).collect();
    let verbs: Vec<_> = page
        .events
        .iter()
        .map(|e| {
            let v = format_ident!("{}", capitalize(e.method));
            quote!(::dstar::actions::Verb::#v)
        })
        .collect();
    let docs: Vec<_> = page
        .events
        .iter()
        .map(|e| {
            format!(
                "`{} {}/{}`",
                e.method,
                route_base.trim_end_matches('/'),
                e.name
            )
        })
        .collect();
    let page_name = owner.to_owned();
    let doc = format!("The events of [`{page_name}`], generated by dstar.");
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum #enum_ident {
            #(#[doc = #docs] #variants,)*
        }

        impl #enum_ident {
            /// The browser-side action for this event.
            pub fn action(self) -> ::dstar::actions::Action {
                #action
            }
        }

        impl ::dstar::page::PageEvent for #enum_ident {
            const ALL: &'static [Self] = &[#(Self::#variants),*];
            fn name(self) -> &'static str {
                match self { #(Self::#variants => #names,)* }
            }
            fn verb(self) -> ::dstar::actions::Verb {
                match self { #(Self::#variants => #verbs,)* }
            }
        }

        impl ::dstar::__private::core::fmt::Display for #enum_ident {
            fn fmt(&self, f: &mut ::dstar::__private::core::fmt::Formatter<'_>) -> ::dstar::__private::core::fmt::Result {
                f.write_str(<Self as ::dstar::page::PageEvent>::name(*self))
            }
        }

        impl ::dstar::__private::core::str::FromStr for #enum_ident {
            type Err = ::dstar::page::UnknownEvent;
            fn from_str(s: &str) -> ::dstar::__private::core::result::Result<Self, Self::Err> {
                match s {
                    #(#names => ::dstar::__private::core::result::Result::Ok(Self::#variants),)*
                    _ => ::dstar::__private::core::result::Result::Err(::dstar::page::UnknownEvent::new(#page_name, s)),
                }
            }
        }
    }
}

pub(crate) fn capitalize(method: &str) -> String {
    let lower = method.to_ascii_lowercase();
    let mut c = lower.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Extracts every argument of `handler` from `__parts`/`__body`, in order, into `__a{i}`, and
/// returns the expressions to call it with. The extraction is spanned at each argument's type, so
/// an argument that is not an extractor is reported right there.
pub(crate) fn extract_args(
    handler: &Handler,
    state: &TokenStream,
) -> (TokenStream, Vec<TokenStream>) {
    extract_args_or(handler, state, |r| quote!(return #r))
}

/// [`extract_args`], with what a failed extraction does with its rejection `r`.
fn extract_args_or(
    handler: &Handler,
    state: &TokenStream,
    fail: impl Fn(TokenStream) -> TokenStream,
) -> (TokenStream, Vec<TokenStream>) {
    let fail = fail(quote!(r));
    let last_extract = handler
        .args
        .iter()
        .rposition(|a| matches!(a, Arg::Extract(_)));
    let mut body = TokenStream::new();
    let mut call = Vec::new();
    for (i, arg) in handler.args.iter().enumerate() {
        match arg {
            Arg::Sse => call.push(quote!(&mut __sse)),
            Arg::Url(_, name) => {
                let var = format_ident!("__url_{}", name);
                call.push(quote!(#var));
            }
            Arg::Extract(ty) => {
                let var = format_ident!("__a{}", i);
                let span = ty.span();
                let extract = if Some(i) == last_extract {
                    quote_spanned! {span=>
                        let __req = ::dstar::__private::axum::extract::Request::from_parts(__parts, __body);
                        let #var = match <#ty as ::dstar::page::BodyArg<#state, _>>::extract(__req, &__state).await {
                            ::dstar::__private::core::result::Result::Ok(v) => v,
                            ::dstar::__private::core::result::Result::Err(r) => #fail,
                        };
                    }
                } else {
                    quote_spanned! {span=>
                        let #var = match <#ty as ::dstar::page::PartsArg<#state>>::extract(&mut __parts, &__state).await {
                            ::dstar::__private::core::result::Result::Ok(v) => v,
                            ::dstar::__private::core::result::Result::Err(r) => #fail,
                        };
                    }
                };
                body.extend(extract);
                call.push(quote!(#var));
            }
        }
    }
    if last_extract.is_none() {
        body.extend(quote!(let _ = (&mut __parts, __body);));
    }
    (body, call)
}

/// Runs the impl's `authorize(&head, access)` and answers with its refusal; pages and components
/// share it.
pub(crate) fn authorize_check(is_async: bool, access: TokenStream) -> TokenStream {
    let await_ = is_async.then(|| quote!(.await));
    quote! {
        let __head = ::dstar::page::RequestHead::from_parts(&__parts);
        if let ::dstar::__private::core::result::Result::Err(r) = ::dstar::page::AuthorizeOutcome::into_result(
            Self::authorize(&__head, #access) #await_
        ) {
            return r;
        }
    }
}

fn handler_signature(fn_ident: &syn::Ident, state: &TokenStream) -> TokenStream {
    quote! {
        async fn #fn_ident(
            ::dstar::__private::axum::extract::State(__state): ::dstar::__private::axum::extract::State<#state>,
            __req: ::dstar::__private::axum::extract::Request,
        ) -> ::dstar::__private::axum::response::Response
    }
}

fn event_handler(
    page: &Page,
    event: &Event,
    enum_ident: &syn::Ident,
    state: &TokenStream,
) -> TokenStream {
    let fn_ident = format_ident!("__dstar_event_{}", event.handler.ident);
    let signature = handler_signature(&fn_ident, state);
    let (extract, call_args) = extract_args(&event.handler, state);
    let user_fn = &event.handler.ident;
    let await_ = event.handler.is_async.then(|| quote!(.await));
    let variant = &event.variant;
    let authorize = page.authorize_async.map(|is_async| {
        authorize_check(
            is_async,
            quote!(::dstar::page::Access::Event(#enum_ident::#variant)),
        )
    });
    let page_name = page.ident.to_string();
    let event_name = &event.name;
    quote! {
        #[allow(unused_mut, unused_variables, clippy::let_unit_value)]
        #signature {
            let (mut __parts, __body) = __req.into_parts();
            #authorize
            #extract
            let mut __sse = ::dstar::Sse::new();
            let __outcome = Self::#user_fn(#(#call_args),*) #await_;
            ::dstar::page::finish_event(__sse, #page_name, #event_name, __outcome)
        }
    }
}

/// `__dstar_view` runs `mount` (with its extractors) and `render`: the page body, or the
/// response `mount` answered with. `GET` wraps it in the layout; a reconnecting stream sends it as
/// its catch-up.
fn get_handler(page: &Page, state: &TokenStream) -> TokenStream {
    let (extract, page_expr) = match &page.mount {
        Some((handler, direct)) => {
            let (extract, call_args) = extract_args_or(
                handler,
                state,
                |r| quote!(return ::dstar::__private::core::result::Result::Err(#r)),
            );
            let await_ = handler.is_async.then(|| quote!(.await));
            let call = quote!(Self::mount(#(#call_args),*) #await_);
            let expr = if *direct {
                call
            } else {
                quote! {
                    match ::dstar::page::MountOutcome::<Self>::into_page(#call) {
                        ::dstar::__private::core::result::Result::Ok(p) => p,
                        ::dstar::__private::core::result::Result::Err(r) => {
                            return ::dstar::__private::core::result::Result::Err(r)
                        }
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
    let layout = page.args.layout.as_ref().map_or_else(
        || quote!(::dstar::page::default_layout),
        ToTokens::to_token_stream,
    );
    let title = page
        .args
        .title
        .as_ref()
        .map_or_else(|| page.ident.to_string(), syn::LitStr::value);
    let signature = handler_signature(&format_ident!("__dstar_get"), state);
    quote! {
        #[allow(unused_mut, unused_variables)]
        async fn __dstar_view(
            __state: #state,
            __req: ::dstar::__private::axum::extract::Request,
        ) -> ::dstar::__private::core::result::Result<::dstar::__private::maud::Markup, ::dstar::__private::axum::response::Response> {
            let (mut __parts, __body) = __req.into_parts();
            #extract
            let __page: Self = #page_expr;
            ::dstar::__private::core::result::Result::Ok(Self::render(&__page))
        }

        #signature {
            let __csrf = ::dstar::csrf::token_for(__req.extensions());
            match Self::__dstar_view(__state, __req).await {
                ::dstar::__private::core::result::Result::Ok(__markup) => {
                    ::dstar::page::render_document(#layout, #title, __markup, __csrf)
                }
                ::dstar::__private::core::result::Result::Err(r) => r,
            }
        }
    }
}

fn stream_handler(
    page: &Page,
    stream: &Stream,
    enum_ident: &syn::Ident,
    state: &TokenStream,
) -> TokenStream {
    let _ = enum_ident;
    let signature = handler_signature(&format_ident!("__dstar_stream"), state);
    let page_name = page.ident.to_string();
    let idle = page.args.idle_check_ms.unwrap_or(30_000);
    let authorize = page
        .authorize_async
        .map(|is_async| authorize_check(is_async, quote!(::dstar::page::Access::Stream)));
    // The claim ends another stream of the same tab, so it is made only once the request has
    // passed `authorize` and every extractor: a refused request never kills a live stream.
    let read_tab = quote! {
        let (__tab, __req) = match ::dstar::stream::read_tab_id(__req).await {
            ::dstar::__private::core::result::Result::Ok(v) => v,
            ::dstar::__private::core::result::Result::Err(r) => return r,
        };
    };
    let key = if stream.stream_key {
        quote!(::dstar::__private::core::option::Option::Some(
            ::dstar::__private::std::string::ToString::to_string(&Self::stream_key(
                &::dstar::page::RequestHead::from_parts(&__parts)
            ),)
        ))
    } else {
        quote!(::dstar::__private::core::option::Option::None)
    };
    let scope = quote! {
        let __scope = ::dstar::stream::dedup_scope(#page_name, #key, &__parts.extensions);
    };
    let claim = quote! {
        let __number = ::dstar::page::next_stream_number();
        let __claim = match ::dstar::stream::claim_page_stream(__scope, __tab, __previous, __number) {
            ::dstar::__private::core::result::Result::Ok(claim) => claim,
            ::dstar::__private::core::result::Result::Err(r) => return r,
        };
    };
    let guard = if stream.on_disconnect {
        quote!(::dstar::stream::EndGuard::new(
            |reason| Self::on_disconnect(reason)
        ))
    } else {
        quote!(::dstar::stream::EndGuard::none())
    };
    // The page's own GET request, kept to render it again: for a reconnect's catch-up, and for
    // every change of a live page. Not cloned for a plain stream's first connect.
    let live = matches!(stream.kind, StreamKind::Live { .. });
    let (template, view_request) = if live {
        (
            quote!(let __template = ::dstar::page::ViewTemplate::new(&__parts);),
            quote!(__reconnect.catches_up().then(|| __template.request())),
        )
    } else {
        (
            quote!(let __template = __reconnect.catches_up().then(|| ::dstar::page::ViewTemplate::new(&__parts));),
            quote!(__template.map(|t| t.request())),
        )
    };
    // where the messages come from, and what each becomes
    let (extract, subscribe, on_message) = match &stream.kind {
        StreamKind::Messages {
            subscribe,
            on_message_async,
            sse_first,
        } => {
            let (extract, call_args) = extract_args(subscribe, state);
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
                quote! {
                    move |__message| async move {
                        let mut __sse = ::dstar::Sse::new();
                        let __outcome = #call #await_message;
                        ::dstar::stream::MessageOutcome::report(__outcome, #page_name, &mut __sse);
                        __sse
                    }
                },
            )
        }
        StreamKind::Live {
            topics,
            frame_ms,
            pubsub_hook,
        } => (
            quote!(let _ = (&mut __parts, __body);),
            {
                let pubsub = if *pubsub_hook {
                    quote!(Self::pubsub(&__state))
                } else {
                    quote!(::dstar::__private::axum::extract::FromRef::from_ref(
                        &__state
                    ))
                };
                quote! {{
                    let __pubsub: ::dstar::stream::PubSub = #pubsub;
                    __pubsub.changes(&[#(#topics),*], ::dstar::__private::core::time::Duration::from_millis(#frame_ms))
                }}
            },
            quote! {{
                let __state = ::dstar::__private::core::clone::Clone::clone(&__state);
                let __template = ::dstar::__private::core::clone::Clone::clone(&__template);
                move |()| {
                    let __state = ::dstar::__private::core::clone::Clone::clone(&__state);
                    let __get = __template.request();
                    async move { ::dstar::page::live_update(Self::__dstar_view(__state, __get).await) }
                }
            }},
        ),
    };
    quote! {
        #[allow(unused_mut, unused_variables)]
        #signature {
            #read_tab
            let (mut __parts, __body) = __req.into_parts();
            #authorize
            // a reconnect first gets a fresh render, made by the page's own mount
            let __reconnect = ::dstar::stream::Reconnect::from_headers(&__parts.headers);
            let __previous = ::dstar::stream::previous_stream(&__parts.headers);
            #template
            #scope
            #extract
            #claim
            let __source = #subscribe;
            // rendered after subscribing: a message published in between shows in the render or
            // arrives after it (or both), never neither
            let __view = match #view_request {
                ::dstar::__private::core::option::Option::Some(__get) => ::dstar::__private::core::option::Option::Some(
                    Self::__dstar_view(::dstar::__private::core::clone::Clone::clone(&__state), __get).await,
                ),
                ::dstar::__private::core::option::Option::None => ::dstar::__private::core::option::Option::None,
            };
            let __stream = ::dstar::stream::PageStream {
                source: __source,
                idle_check: ::dstar::__private::core::time::Duration::from_millis(#idle),
                claim: __claim,
                guard: #guard,
                first: ::dstar::page::stream_start(__reconnect, __number, __view),
            };
            let __response = ::dstar::stream::run(__stream, #on_message);
            ::dstar::__private::axum::response::IntoResponse::into_response(__response)
        }
    }
}
