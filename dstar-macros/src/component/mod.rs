//! `#[dstar::component]` (optionally `state = T`) on an impl block: render functions plus
//! `#[event]` handlers, each routed under the app's dispatch base, on top of the shared
//! [`event`](crate::event) core.

use crate::ctxt::Ctxt;
use crate::event::expand::{
    authorize_fn, enum_ident, event_enum, event_handler, event_route_suffix, handler_ident,
    rewrite_event_calls, state_type,
};
use crate::event::model::ImplBlock;
use crate::event::{Owner, Rules};
use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

/// `#[dstar::component]`'s part of the event core's phases.
pub(crate) struct ComponentRules;

impl Rules for ComponentRules {
    const OWNER: Owner = Owner::Component;

    /// No rules beyond the shared ones (its options are checked by the attribute parser).
    fn check(_cx: &Ctxt, _block: &ImplBlock) {}

    fn expand(block: &ImplBlock) -> TokenStream {
        expand(block)
    }

    fn fallback(block: &ImplBlock) -> TokenStream {
        fallback(block)
    }
}

/// Everything a component expands to; the block has passed its checks.
fn expand(block: &ImplBlock) -> TokenStream {
    let ident = block
        .ident
        .as_ref()
        .expect("checked: the component has a name");
    let state = state_type(block);
    let declarations = declarations(block);
    let component_impl = component_impl(block, &state, true);
    let authorize = authorize_fn(block);
    let handlers = block.events.iter().map(|e| event_handler(block, e, &state));
    let infos = block.events.iter().map(|e| {
        let wire = e.name.value();
        let method = e.method.as_str();
        let args = e.handler.url_args().map(|(_, _, n)| n.to_string());
        quote!(::dstar::component::ComponentEventInfo { name: #wire, method: #method, args: &[#(#args),*] })
    });
    quote! {
        #declarations
        #component_impl

        #[doc(hidden)]
        impl #ident {
            #authorize
            #(#handlers)*
        }

        impl ::dstar::component::RegisteredComponent for #ident {
            fn registration() -> &'static ::dstar::component::ComponentRegistration {
                static REGISTRATION: ::dstar::component::ComponentRegistration =
                    ::dstar::component::ComponentRegistration::new(
                        <#ident as ::dstar::component::Component>::PATH,
                        &[#(#infos),*],
                        ::dstar::__private::build_component::<#ident>,
                    );
                &REGISTRATION
            }
        }

        ::dstar::__private::inventory::submit! {
            ::dstar::__private::ComponentEntry::new(<#ident as ::dstar::component::RegisteredComponent>::registration)
        }
    }
}

/// What a component with errors still gives (see `event::fallback`).
fn fallback(block: &ImplBlock) -> TokenStream {
    let ident = block.ident.as_ref().expect("the fallback has a name");
    let declarations = declarations(block);
    let component_impl = component_impl(block, &state_type(block), false);
    quote! {
        #declarations
        #component_impl

        impl ::dstar::component::RegisteredComponent for #ident {
            fn registration() -> &'static ::dstar::component::ComponentRegistration {
                static REGISTRATION: ::dstar::component::ComponentRegistration =
                    ::dstar::component::ComponentRegistration::new(
                        <#ident as ::dstar::component::Component>::PATH,
                        &[],
                        ::dstar::__private::build_component::<#ident>,
                    );
                &REGISTRATION
            }
        }
    }
}

/// The `Component` impl; its `routes` serve nothing in the fallback.
fn component_impl(block: &ImplBlock, state: &TokenStream, with_routes: bool) -> TokenStream {
    let ident = block.ident.as_ref().expect("the component has a name");
    let enum_ident = enum_ident(block);
    let name = ident.to_string();
    let names = block.distinct_events().into_iter().map(|e| e.name.value());
    let names_without_args = block
        .distinct_events()
        .into_iter()
        .filter(|e| e.handler.url_args().next().is_none())
        .map(|e| e.name.value());
    let routes = if with_routes {
        block
            .events
            .iter()
            .map(|e| {
                let suffix = event_route_suffix(e);
                let fn_ident = handler_ident(e);
                let method = e.method.routing_fn();
                // `#[event(limit = "…")]`: a body over it is refused before it is read
                let limit = e.limit.as_ref().map(|(_, bytes)| {
                    let bytes = proc_macro2::Literal::u64_unsuffixed(*bytes);
                    quote!(.layer(::dstar::upload::BodyLimit::event(#bytes)))
                });
                quote! {
                    .route(
                        &::dstar::__private::event_route(__prefix, #suffix),
                        ::dstar::__private::axum::routing::#method(::dstar::__private::with_base(Self::#fn_ident, __base)) #limit,
                    )
                }
            })
            .collect()
    } else {
        TokenStream::new()
    };
    quote! {
        impl ::dstar::component::Component for #ident {
            type State = #state;
            type Event = #enum_ident;
            const PATH: &'static str =
                ::dstar::__private::core::concat!(::dstar::__private::core::module_path!(), "::", #name);
            const EVENTS: &'static [&'static str] = &[#(#names),*];
            const EVENTS_WITHOUT_ARGS: &'static [&'static str] = &[#(#names_without_args),*];
            fn encoded_module() -> &'static str {
                static ENCODED: ::dstar::__private::std::sync::OnceLock<::dstar::__private::std::string::String> =
                    ::dstar::__private::std::sync::OnceLock::new();
                ENCODED.get_or_init(|| ::dstar::actions::encode_module(<Self as ::dstar::component::Component>::PATH))
            }
            fn routes(__prefix: &str, __base: &::dstar::event::DispatchBase) -> ::dstar::__private::axum::Router<#state> {
                ::dstar::__private::axum::Router::new() #routes
            }
        }
    }
}

/// The user's impl block with `event("name", args…)` resolved to the action helpers, the
/// helpers, and the event enum.
fn declarations(block: &ImplBlock) -> TokenStream {
    let ident = block.ident.as_ref().expect("the component has a name");
    let event_enum = event_enum(
        block,
        quote!(::dstar::__private::component_action_encoded(
            <Self as ::dstar::event::Event>::verb(self),
            <#ident as ::dstar::component::Component>::encoded_module(),
            <Self as ::dstar::event::Event>::name(self),
            &[],
        )),
        "{dispatch base}/{module}",
    );
    let user_impl = rewrite_event_calls(block, block.item.to_token_stream(), &mut |e, call| {
        let span = call.span;
        let action_fn = format_ident!("__dstar_action_{}", e.handler.ident, span = span);
        let args = strip_leading_comma(call.rest);
        quote_spanned!(span=> Self::#action_fn(#args))
    });
    let helpers = block.distinct_events().into_iter().map(|e| {
        let action_fn = format_ident!("__dstar_action_{}", e.handler.ident);
        let verb = e.method.verb();
        let wire = e.name.value();
        let url_args: Vec<(&syn::Type, &syn::Ident)> =
            e.handler.url_args().map(|(_, ty, n)| (ty, n)).collect();
        let params = url_args.iter().map(|(ty, n)| quote!(#n: #ty));
        let refs = url_args.iter().map(|(ty, n)| {
            let span = ty.span();
            quote_spanned!(span=> ::dstar::__private::url_arg::<#ty>(&#n))
        });
        quote! {
            #[doc(hidden)]
            #[allow(clippy::needless_pass_by_value)]
            pub fn #action_fn(#(#params),*) -> ::dstar::actions::Action {
                ::dstar::__private::component_action_encoded(
                    ::dstar::actions::Verb::#verb,
                    <Self as ::dstar::component::Component>::encoded_module(),
                    #wire,
                    &[#(#refs),*],
                )
            }
        }
    });
    quote! {
        #user_impl
        #event_enum

        #[doc(hidden)]
        impl #ident {
            #(#helpers)*
        }
    }
}

fn strip_leading_comma(tokens: TokenStream) -> TokenStream {
    let mut iter = tokens.into_iter().peekable();
    if let Some(proc_macro2::TokenTree::Punct(p)) = iter.peek() {
        if p.as_char() == ',' {
            iter.next();
        }
    }
    iter.collect()
}
