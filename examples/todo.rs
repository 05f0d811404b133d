//! TodoMVC, server-side: the list at `/todos` follows the TodoMVC app specification's markup and
//! behaviour (add with Enter, toggle, toggle all, edit on double-click, delete, filters, clear
//! completed, "N items left"), with every change made on the server and re-rendered. A detail
//! page, `/todos/{id}`, and the list both embed the same `DetailDrawer` component, so editing a
//! title in the drawer patches it on whichever page is open. Every event is protected by a CSRF
//! token, which the default layout hands to Datastar as a signal.
//! Run `cargo run --example todo`, then open http://127.0.0.1:3000/todos.

use dstar::axum::extract::{Path, Query, State};
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
    /// Whether it is done.
    pub completed: bool,
}

/// The app's data, shared by the pages and the components: kept on the server, so it survives a
/// reload.
#[derive(Clone)]
pub struct Store(Arc<Mutex<Todos>>);

/// What the store holds.
#[derive(Default)]
pub struct Todos {
    items: Vec<Todo>,
    next_id: u64,
    /// The todo being edited, if any: a save after a cancel (the edit field's `blur` when it is
    /// removed) does nothing.
    editing: Option<u64>,
}

impl Default for Store {
    fn default() -> Self {
        let store = Store(Arc::new(Mutex::new(Todos {
            next_id: 1,
            ..Todos::default()
        })));
        for title in ["Write the README", "Ship dstar", "Celebrate"] {
            store.add(title);
        }
        store
    }
}

impl Store {
    fn lock(&self) -> std::sync::MutexGuard<'_, Todos> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every todo.
    pub fn all(&self) -> Vec<Todo> {
        self.lock().items.clone()
    }

    /// One todo.
    pub fn get(&self, id: u64) -> Option<Todo> {
        self.lock().items.iter().find(|t| t.id == id).cloned()
    }

    /// Adds a todo, unless its title is empty once trimmed.
    pub fn add(&self, title: &str) -> Option<Todo> {
        let title = title.trim();
        if title.is_empty() {
            return None;
        }
        let mut todos = self.lock();
        let todo = Todo {
            id: todos.next_id,
            title: title.to_owned(),
            completed: false,
        };
        todos.next_id += 1;
        todos.items.push(todo.clone());
        Some(todo)
    }

    fn remove(&self, id: u64) -> Option<Todo> {
        let mut todos = self.lock();
        let at = todos.items.iter().position(|t| t.id == id)?;
        Some(todos.items.remove(at))
    }

    fn rename(&self, id: u64, title: &str) -> Option<Todo> {
        let mut todos = self.lock();
        let item = todos.items.iter_mut().find(|t| t.id == id)?;
        title.clone_into(&mut item.title);
        Some(item.clone())
    }

    fn toggle(&self, id: u64) {
        if let Some(item) = self.lock().items.iter_mut().find(|t| t.id == id) {
            item.completed = !item.completed;
        }
    }

    /// Marks every todo done, or every todo active when all are done already.
    fn toggle_all(&self) {
        let mut todos = self.lock();
        let done = !todos.items.iter().all(|t| t.completed);
        for item in &mut todos.items {
            item.completed = done;
        }
    }

    fn clear_completed(&self) {
        self.lock().items.retain(|t| !t.completed);
    }

    fn start_editing(&self, id: u64) {
        self.lock().editing = Some(id);
    }

    /// Ends editing `id`: true when it was being edited.
    fn stop_editing(&self, id: u64) -> bool {
        let mut todos = self.lock();
        let was = todos.editing == Some(id);
        if was {
            todos.editing = None;
        }
        was
    }

    fn editing(&self) -> Option<u64> {
        self.lock().editing
    }
}

/// Which todos the list shows: `/todos`, `/todos?filter=active`, `/todos?filter=completed`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Filter {
    /// Every todo.
    #[default]
    All,
    /// The ones not done.
    Active,
    /// The done ones.
    Completed,
}

impl Filter {
    fn shows(self, todo: &Todo) -> bool {
        match self {
            Filter::All => true,
            Filter::Active => !todo.completed,
            Filter::Completed => todo.completed,
        }
    }
}

/// The list page's query.
#[derive(serde::Deserialize)]
struct FilterQuery {
    #[serde(default)]
    filter: Filter,
}

/// The signals every list event carries.
#[derive(Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ListSignals {
    /// The new-todo field.
    new_todo: String,
    /// The filter the page shows.
    filter: Filter,
    /// The edit field of the todo being edited.
    edit_title: String,
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

/// One todo of the list: its row, and the events of the row (the id travels in the URL).
pub struct TodoItem;

#[dstar::component(state = Store)]
impl TodoItem {
    /// The row: `li.completed` when done, `li.editing` with the edit field while being edited.
    pub fn view(item: &Todo, editing: bool) -> Markup {
        html! {
            li #(format!("todo-{}", item.id)) .completed[item.completed] .editing[editing] {
                div .view {
                    input .toggle type="checkbox" checked[item.completed]
                        data-on:click=(event("toggle", item.id));
                    label data-on:dblclick=(event("edit", item.id)) { (title(item)) }
                    a .details href=(format!("/todos/{}", item.id)) { "details" }
                    button .destroy aria-label="Delete" data-on:click=(event("destroy", item.id)) {}
                }
                @if editing {
                    input .edit value=(item.title)
                        data-signals:edit-title=(dstar::scripts::js_literal(&item.title))
                        data-bind:edit-title
                        data-init="el.focus()"
                        data-on:keydown=(format!(
                            "evt.key === 'Enter' && {}; evt.key === 'Escape' && {}",
                            event("save", item.id),
                            event("cancel", item.id),
                        ))
                        data-on:blur=(event("save", item.id));
                }
            }
        }
    }

    /// Done or not done.
    #[event]
    async fn toggle(
        sse: &mut Sse,
        #[arg] id: u64,
        State(store): State<Store>,
        Signals(s): Signals<ListSignals>,
    ) {
        store.toggle(id);
        sse.patch_elements(TodoList::app(&store, s.filter));
    }

    /// `DELETE`: Datastar sends a DELETE's signals (and with them the CSRF token) in the
    /// `datastar` query parameter.
    #[event(method = "delete")]
    async fn destroy(
        sse: &mut Sse,
        #[arg] id: u64,
        State(store): State<Store>,
        Signals(s): Signals<ListSignals>,
    ) {
        store.remove(id);
        sse.patch_elements(TodoList::app(&store, s.filter));
    }

    /// Double-click: the row becomes its edit field.
    #[event]
    async fn edit(
        sse: &mut Sse,
        #[arg] id: u64,
        State(store): State<Store>,
        Signals(s): Signals<ListSignals>,
    ) {
        store.start_editing(id);
        sse.patch_elements(TodoList::app(&store, s.filter));
    }

    /// Enter (or leaving the field): the trimmed title is saved; an empty one deletes the todo.
    #[event]
    async fn save(
        sse: &mut Sse,
        #[arg] id: u64,
        State(store): State<Store>,
        Signals(s): Signals<ListSignals>,
    ) {
        if store.stop_editing(id) {
            let title = s.edit_title.trim();
            if title.is_empty() {
                store.remove(id);
            } else {
                store.rename(id, title);
            }
        }
        sse.patch_elements(TodoList::app(&store, s.filter));
    }

    /// Escape: the edit is dropped.
    #[event]
    async fn cancel(
        sse: &mut Sse,
        #[arg] id: u64,
        State(store): State<Store>,
        Signals(s): Signals<ListSignals>,
    ) {
        store.stop_editing(id);
        sse.patch_elements(TodoList::app(&store, s.filter));
    }
}

/// `/todos`: TodoMVC, and the drawer for the first todo.
pub struct TodoList {
    store: Store,
    filter: Filter,
}

#[dstar::page("/todos", state = Store, title = "Todos", layout = dstar_examples::layout)]
impl TodoList {
    async fn mount(State(store): State<Store>, Query(q): Query<FilterQuery>) -> Self {
        TodoList {
            store,
            filter: q.filter,
        }
    }

    fn render(&self) -> Markup {
        html! {
            // the signals live outside `#todoapp`, so re-rendering it keeps what is typed
            div data-signals:new-todo="''"
                data-signals:filter=(dstar::scripts::js_literal(&self.filter)) {
                (Self::app(&self.store, self.filter))
            }
            @if let Some(first) = self.store.all().first() {
                (DetailDrawer::drawer(first))
            }
            footer .info { p { "Double-click to edit a todo" } }
        }
    }

    /// `section.todoapp`, as the TodoMVC specification lays it out; every event re-renders it.
    pub fn app(store: &Store, filter: Filter) -> Markup {
        let items = store.all();
        let editing = store.editing();
        let left = items.iter().filter(|t| !t.completed).count();
        let completed = items.len() - left;
        html! {
            section #todoapp .todoapp {
                header .header {
                    h1 { "todos" }
                    input .new-todo placeholder="What needs to be done?" autofocus
                        data-bind:new-todo
                        data-on:keydown=(format!("evt.key === 'Enter' && {}", event("add")));
                }
                @if !items.is_empty() {
                    section .main {
                        input #toggle-all .toggle-all type="checkbox" checked[left == 0]
                            data-on:click=(event("toggle_all"));
                        label for="toggle-all" { "Mark all as complete" }
                        ul .todo-list {
                            @for item in items.iter().filter(|t| filter.shows(t)) {
                                (TodoItem::view(item, editing == Some(item.id)))
                            }
                        }
                    }
                    footer .footer {
                        span .todo-count {
                            strong { (left) }
                            @if left == 1 { " item left" } @else { " items left" }
                        }
                        ul .filters {
                            li { a .selected[filter == Filter::All] href="/todos" { "All" } }
                            li { a .selected[filter == Filter::Active] href="/todos?filter=active" { "Active" } }
                            li { a .selected[filter == Filter::Completed] href="/todos?filter=completed" { "Completed" } }
                        }
                        @if completed > 0 {
                            button .clear-completed data-on:click=(event("clear_completed")) { "Clear completed" }
                        }
                    }
                }
            }
        }
    }

    /// Enter in the new-todo field: a trimmed, non-empty title is added, and the field emptied.
    #[event]
    async fn add(sse: &mut Sse, State(store): State<Store>, Signals(s): Signals<ListSignals>) {
        store.add(&s.new_todo);
        sse.patch_signals(json!({ "newTodo": "" }))
            .patch_elements(Self::app(&store, s.filter));
    }

    /// Every todo done, or every todo active again.
    #[event]
    async fn toggle_all(
        sse: &mut Sse,
        State(store): State<Store>,
        Signals(s): Signals<ListSignals>,
    ) {
        store.toggle_all();
        sse.patch_elements(Self::app(&store, s.filter));
    }

    /// Removes the done todos.
    #[event]
    async fn clear_completed(
        sse: &mut Sse,
        State(store): State<Store>,
        Signals(s): Signals<ListSignals>,
    ) {
        store.clear_completed();
        sse.patch_elements(Self::app(&store, s.filter));
    }
}

/// `/todos/{id}`: one todo, with the same drawer.
pub struct TodoDetail {
    item: Todo,
}

#[dstar::page("/todos/{id}", state = Store, title = "Todo", layout = dstar_examples::layout)]
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
