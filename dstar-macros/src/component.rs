//! `#[dstar::component]` (optionally `state = T`) on an impl block: render functions plus
//! `#[event]` handlers, served by the app's one dispatch route.

use crate::ctxt::Ctxt;
use crate::page::expand::{
    authorize_check, capitalize, event_enum_for, extract_args, unknown_message,
};
use crate::page::model::{
    Arg, Event, check_duplicates, parse_event_as, self_ident, strip_helper_attrs,
};
use crate::rewrite::{Call, rewrite};
use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::{Ident, ImplItem, ItemImpl, Token, Type};

struct Args {
    state: Option<Type>,
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut args = Args { state: None };
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            if key == "state" {
                args.state = Some(input.parse()?);
            } else {
                return Err(syn::Error::new(
                    key.span(),
                    "unknown component option; the option is `state = T`",
                ));
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(args)
    }
}

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let item_impl = match syn::parse2::<ItemImpl>(item.clone()) {
        Ok(item) => item,
        Err(_) => {
            let span = item.clone().into_iter().next().map(|t| t.span());
            let err = syn::Error::new(
                span.unwrap_or_else(proc_macro2::Span::call_site),
                "#[dstar::component] goes on an impl block: `#[dstar::component] impl DetailDrawer { … }`",
            );
            let mut out = err.to_compile_error();
            out.extend(item);
            return out;
        }
    };
    let cleaned = strip_helper_attrs(item_impl.clone());
    match generate(args, item_impl) {
        Ok(tokens) => tokens,
        Err(err) => {
            let mut out = err.to_compile_error();
            out.extend(cleaned.to_token_stream());
            out
        }
    }
}

fn generate(args: TokenStream, item: ItemImpl) -> syn::Result<TokenStream> {
    let args: Args = syn::parse2(args)?;
    let mut cx = Ctxt::default();
    if item.trait_.is_some() || !item.generics.params.is_empty() {
        cx.error(
            &item.self_ty,
            "#[dstar::component] goes on a plain inherent impl: `impl DetailDrawer`",
        );
    }
    let Some(ident) = self_ident(&item) else {
        cx.error(
            &item.self_ty,
            "#[dstar::component] needs a named type: `impl DetailDrawer`",
        );
        cx.check()?;
        unreachable!("an error was recorded");
    };
    let mut events: Vec<Event> = Vec::new();
    let mut authorize_async = None;
    for it in &item.items {
        let ImplItem::Fn(f) = it else { continue };
        if let Some(attr) = f.attrs.iter().find(|a| a.path().is_ident("event")) {
            if let Some(e) = parse_event_as(&mut cx, f, attr, "component event") {
                events.push(e);
            }
        } else if f.sig.ident == "authorize" {
            let receiver = matches!(f.sig.inputs.first(), Some(syn::FnArg::Receiver(_)));
            if receiver || f.sig.inputs.len() != 2 {
                cx.error(
                    &f.sig,
                    "`authorize` is `fn authorize(head: &RequestHead, access: Access<…Event>) -> Result<(), impl IntoResponse>` (or `-> bool`): it runs before every event of this component",
                );
            }
            authorize_async = Some(f.sig.asyncness.is_some());
        }
    }
    check_duplicates(&mut cx, &events, &ident, "component");
    cx.check()?;

    let state = args
        .state
        .as_ref()
        .map_or_else(|| quote!(()), ToTokens::to_token_stream);
    let enum_ident = format_ident!("{}Event", ident);
    let name = ident.to_string();
    let path = quote!(
        ::dstar::__private::core::concat!(::dstar::__private::core::module_path!(), "::", #name)
    );

    // event("name", args…) inside the impl: checked here, typed by rustc
    let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
    let mut replace = |call: Call| -> TokenStream {
        let span = call.span;
        match events.iter().find(|e| e.name == call.name) {
            Some(e) => {
                let action_fn = format_ident!("__dstar_action_{}", e.handler.ident, span = span);
                let rest = call.rest.clone();
                let args = strip_leading_comma(rest);
                quote_spanned!(span=> Self::#action_fn(#args))
            }
            None => {
                let msg = unknown_message(&call.name, "component", &name, &names);
                quote_spanned!(span=> ::dstar::__private::core::compile_error!(#msg))
            }
        }
    };
    let user_impl = rewrite(
        strip_helper_attrs(item.clone()).to_token_stream(),
        "event",
        &mut replace,
    );

    let event_enum = event_enum_for(
        &events,
        &enum_ident,
        &name,
        "/ds/…",
        quote!(::dstar::component::component_action_encoded(
            <Self as ::dstar::page::PageEvent>::verb(self),
            <#ident as ::dstar::component::Component>::encoded_module(),
            <Self as ::dstar::page::PageEvent>::name(self),
            &[],
        )),
    );

    let mut helpers = TokenStream::new();
    let mut arms = TokenStream::new();
    let mut infos = Vec::new();
    for e in &events {
        let user_fn = &e.handler.ident;
        let wire = &e.name;
        let method = e.method;
        let verb = format_ident!("{}", capitalize(method));
        let url_args: Vec<(&Type, &Ident)> = e
            .handler
            .args
            .iter()
            .filter_map(|a| match a {
                Arg::Url(ty, name) => Some((&**ty, name)),
                _ => None,
            })
            .collect();
        let params = url_args.iter().map(|(ty, n)| quote!(#n: #ty));
        let refs = url_args
            .iter()
            .map(|(_, n)| quote!(&#n as &dyn ::dstar::__private::core::fmt::Display));
        let arg_names: Vec<String> = url_args.iter().map(|(_, n)| n.to_string()).collect();
        let action_fn = format_ident!("__dstar_action_{}", user_fn);
        let call_fn = format_ident!("__dstar_call_{}", user_fn);
        let parse_args = url_args.iter().enumerate().map(|(i, (ty, n))| {
            let var = format_ident!("__url_{}", n);
            let label = n.to_string();
            quote! {
                let #var: #ty = match ::dstar::component::parse_arg::<#ty>(&__call, #i, #label) {
                    ::dstar::__private::core::result::Result::Ok(v) => v,
                    ::dstar::__private::core::result::Result::Err(r) => return r,
                };
            }
        });
        let (extract, call_args) = extract_args(&e.handler, &state);
        let await_ = e.handler.is_async.then(|| quote!(.await));
        let variant = &e.variant;
        let authorize = authorize_async.map(|is_async| {
            authorize_check(
                is_async,
                quote!(::dstar::page::Access::Event(#enum_ident::#variant)),
            )
        });
        helpers.extend(quote! {
            #[doc(hidden)]
            #[allow(clippy::needless_pass_by_value)]
            pub fn #action_fn(#(#params),*) -> ::dstar::actions::Action {
                ::dstar::component::component_action_encoded(
                    ::dstar::actions::Verb::#verb,
                    <Self as ::dstar::component::Component>::encoded_module(),
                    #wire,
                    &[#(#refs),*],
                )
            }

            #[allow(unused_mut, unused_variables, clippy::let_unit_value)]
            async fn #call_fn(__call: ::dstar::component::ComponentCall) -> ::dstar::__private::axum::response::Response {
                let __state: #state = match ::dstar::page::state_for::<#state>(&__call.states, #name) {
                    ::dstar::__private::core::result::Result::Ok(s) => s,
                    ::dstar::__private::core::result::Result::Err(e) => return ::dstar::page::missing_state(e),
                };
                let mut __call = __call;
                let __req = ::dstar::__private::core::mem::take(&mut __call.request);
                let (mut __parts, __body) = __req.into_parts();
                #authorize
                #(#parse_args)*
                #extract
                let mut __sse = ::dstar::Sse::new();
                let __outcome = Self::#user_fn(#(#call_args),*) #await_;
                ::dstar::page::finish_event(__sse, #name, #wire, __outcome)
            }
        });
        arms.extend(quote!(#wire => Self::#call_fn(__call).await,));
        infos.push(quote!(::dstar::component::ComponentEventInfo { name: #wire, method: #method, args: &[#(#arg_names),*] }));
    }

    Ok(quote! {
        #user_impl

        #event_enum

        impl ::dstar::component::Component for #ident {
            type State = #state;
            type Event = #enum_ident;
            const PATH: &'static str = #path;
            const EVENTS: &'static [&'static str] = &[#(#names),*];
            fn encoded_module() -> &'static str {
                static ENCODED: ::dstar::__private::std::sync::OnceLock<::dstar::__private::std::string::String> =
                    ::dstar::__private::std::sync::OnceLock::new();
                ENCODED.get_or_init(|| ::dstar::actions::encode_module(<Self as ::dstar::component::Component>::PATH))
            }
        }

        #[doc(hidden)]
        impl #ident {
            #helpers

            fn __dstar_dispatch(__call: ::dstar::component::ComponentCall) -> ::dstar::component::DispatchFuture {
                ::dstar::__private::std::boxed::Box::pin(async move {
                    match __call.event.as_str() {
                        #arms
                        _ => ::dstar::page::unknown_component_event(#name),
                    }
                })
            }
        }

        impl ::dstar::component::RegisteredComponent for #ident {
            fn registration() -> &'static ::dstar::component::ComponentRegistration {
                static REGISTRATION: ::dstar::component::ComponentRegistration =
                    ::dstar::component::ComponentRegistration::new(#path, &[#(#infos),*], #ident::__dstar_dispatch);
                &REGISTRATION
            }
        }

        ::dstar::__private::inventory::submit! {
            ::dstar::component::ComponentRegistration::new(#path, &[#(#infos),*], #ident::__dstar_dispatch)
        }
    })
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
