//! A small todo app: a list page and a detail page, both embedding the same `DetailDrawer`
//! component. Editing a title in the drawer patches the item on whichever page is open. Every
//! event is protected by a CSRF token, which the default layout hands to Datastar as a signal.
//! Run `cargo run --example todo`, then open http://127.0.0.1:3000/todos.

use dstar::axum::extract::{Path, State};
use dstar::axum::http::StatusCode;
use dstar::prelude::*;
use std::sync::{Arc, Mutex};

/// One todo.
#[derive(Clone, Debug)]
pub struct Todo {
    /// Its id, used in URLs.
    pub id: u64,
    /// Its title.
    pub title: String,
}

/// The app's data, shared by the pages and the component.
#[derive(Clone)]
pub struct Store(Arc<Mutex<Vec<Todo>>>);

impl Default for Store {
    fn default() -> Self {
        let items = ["Write the README", "Ship dstar", "Celebrate"]
            .iter()
            .zip(1..)
            .map(|(title, id)| Todo {
                id,
                title: (*title).to_owned(),
            })
            .collect();
        Store(Arc::new(Mutex::new(items)))
    }
}

impl Store {
    /// Every todo.
    pub fn all(&self) -> Vec<Todo> {
        self.0.lock().unwrap().clone()
    }

    /// One todo.
    pub fn get(&self, id: u64) -> Option<Todo> {
        self.all().into_iter().find(|t| t.id == id)
    }

    fn remove(&self, id: u64) -> Option<Todo> {
        let mut items = self.0.lock().unwrap();
        let at = items.iter().position(|t| t.id == id)?;
        Some(items.remove(at))
    }

    fn rename(&self, id: u64, title: &str) -> Option<Todo> {
        let mut items = self.0.lock().unwrap();
        let item = items.iter_mut().find(|t| t.id == id)?;
        title.clone_into(&mut item.title);
        Some(item.clone())
    }
}

/// The title of a todo, with an id both pages share: patches find it wherever it is shown.
fn title(item: &Todo) -> Markup {
    html! { span id=(format!("todo-{}-title", item.id)) { (item.title) } }
}

#[derive(serde::Deserialize)]
struct TitleSignals {
    title: String,
}

/// The shared drawer: its markup and its event handler live together.
pub struct DetailDrawer;

#[dstar::component(state = Store)]
impl DetailDrawer {
    /// Renders the drawer for `item`; pages embed it with `(DetailDrawer::drawer(&item))`.
    pub fn drawer(item: &Todo) -> Markup {
        html! {
            aside #detail-drawer data-signals:title=(dstar::scripts::js_literal(&item.title)) {
                label { "Title " input data-bind:title data-on:change=(event("change_title", item.id)); }
                button.destroy data-on:click=(event("delete", item.id)) { "Delete" }
                small data-show="$saved" { " saved" }
            }
        }
    }

    /// `POST /ds/{module}/change_title/{id}`: the id travels in the URL, checked and typed.
    #[event]
    async fn change_title(
        sse: &mut Sse,
        #[arg] id: u64,
        State(store): State<Store>,
        Signals(signals): Signals<TitleSignals>,
    ) -> Result<(), String> {
        let new_title = signals.title.trim();
        if new_title.is_empty() {
            return Err("a title cannot be empty".into());
        }
        let item = store.rename(id, new_title).ok_or(format!("no todo {id}"))?;
        sse.patch_elements(title(&item))
            .patch_signals(json!({ "saved": true }));
        Ok(())
    }

    /// `DELETE /ds/{module}/delete/{id}`: Datastar sends a DELETE's signals (and with them the
    /// CSRF token) in the `datastar` query parameter.
    #[event(method = "delete")]
    async fn delete(
        sse: &mut Sse,
        #[arg] id: u64,
        State(store): State<Store>,
    ) -> Result<(), String> {
        store.remove(id).ok_or(format!("no todo {id}"))?;
        sse.remove_elements(format!("#todo-{id}"));
        Ok(())
    }
}

/// `/todos`: every todo, and the drawer for the first one.
pub struct TodoList {
    items: Vec<Todo>,
}

#[dstar::page("/todos", state = Store, title = "Todos")]
impl TodoList {
    async fn mount(State(store): State<Store>) -> Self {
        TodoList { items: store.all() }
    }

    fn render(&self) -> Markup {
        html! {
            h1 { "Todos" }
            ul {
                @for item in &self.items {
                    li #(format!("todo-{}", item.id)) { a href=(format!("/todos/{}", item.id)) { (title(item)) } }
                }
            }
            @if let Some(first) = self.items.first() {
                (DetailDrawer::drawer(first))
            }
        }
    }
}

/// `/todos/{id}`: one todo, with the same drawer.
pub struct TodoDetail {
    item: Todo,
}

#[dstar::page("/todos/{id}", state = Store, title = "Todo")]
impl TodoDetail {
    async fn mount(
        State(store): State<Store>,
        Path(id): Path<u64>,
    ) -> Result<Self, (StatusCode, &'static str)> {
        match store.get(id) {
            Some(item) => Ok(TodoDetail { item }),
            None => Err((StatusCode::NOT_FOUND, "no such todo")),
        }
    }

    fn render(&self) -> Markup {
        html! {
            p { a href="/todos" { "← all todos" } }
            h1 { (title(&self.item)) }
            (DetailDrawer::drawer(&self.item))
        }
    }
}

/// The example's pages and component, without CSRF tokens (for tests of the logic).
pub fn app(store: Store) -> dstar::App {
    dstar::App::new().state(store)
}

/// The example as it runs: CSRF tokens on every event, keyed by `DSTAR_SECRET` or by a key file
/// generated once (`.dstar/secret`), so open pages keep working across a restart.
pub fn secured(store: Store) -> dstar::App {
    app(store).csrf(dstar::csrf::Csrf::from_env())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    dstar::serve(secured(Store::default())).await
}
