//! Every handler shape a page supports compiles.
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::IntoResponse;
use dstar::event::{Access, RequestHead};
use dstar::prelude::*;
use std::collections::HashMap;

#[derive(Clone)]
struct AppState;

#[derive(serde::Deserialize)]
struct Form {
    title: String,
}

struct Shapes;

#[dstar::page("/p/{id}", state = AppState, title = "Shapes", layout = my_layout)]
impl Shapes {
    async fn mount(
        State(_s): State<AppState>,
        Path(_id): Path<u32>,
        Query(_q): Query<HashMap<String, String>>,
    ) -> Result<Shapes, StatusCode> {
        Ok(Shapes)
    }

    fn render(&self) -> Markup {
        html! {
            button data-on:click=(event("plain")) {}
            button data-on:click=(event("typed").with_search()) {}
            button data-on:click=(event("untyped").options("{openWhenHidden: true}")) {}
            button data-on:click=(ShapesEvent::FallibleOne.action()) {}
        }
    }

    async fn authorize(_head: &RequestHead, _access: Access<ShapesEvent>) -> Result<(), StatusCode> {
        Ok(())
    }

    #[event]
    async fn plain() {}

    #[event]
    fn sync_only(sse: &mut Sse) {
        sse.console_log("sync");
    }

    #[event]
    async fn typed(sse: &mut Sse, Signals(form): Signals<Form>) {
        sse.patch_signals(json!({ "title": form.title }));
    }

    #[event]
    async fn untyped(Signals(map): Signals, sse: &mut Sse) {
        sse.patch_signals(json!({ "n": map.len() }));
    }

    #[event(method = "get")]
    async fn extractors(sse: &mut Sse, method: Method, headers: HeaderMap, Path(id): Path<u32>, State(_s): State<AppState>) {
        sse.patch_signals(json!({ "m": method.as_str(), "h": headers.len(), "id": id }));
    }

    #[event(name = "fallible-one")]
    async fn fallible(sse: &mut Sse) -> Result<(), dstar::Error> {
        sse.redirect("/")?;
        Ok(())
    }
}

fn my_layout(ctx: &dstar::page::PageContext, body: Markup) -> Markup {
    html! { (DOCTYPE) html { head { title { (ctx.title) } } body { (body) } } }
}

struct Defaulted;

impl Default for Defaulted {
    fn default() -> Self {
        Defaulted
    }
}

#[dstar::page("/defaulted")]
impl Defaulted {
    fn render(&self) -> Markup {
        html! {}
    }

    fn authorize(_head: &RequestHead, _access: Access<DefaultedEvent>) -> bool {
        true
    }
}

fn main() {
    let _ = dstar::App::empty().page::<Shapes>().page::<Defaulted>().state(AppState).build();
    let _ = StatusCode::OK.into_response();
}
