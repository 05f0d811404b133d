//! The todo example as TodoMVC, driven without a browser by `dstar::test::TestPage`: every
//! interaction of the TodoMVC specification, through the page's own `data-on:*` handlers, with
//! the real server answering.

#[allow(dead_code, unreachable_pub)]
#[path = "../../examples/todo.rs"]
mod todo;

use dstar::test::TestPage;
use todo::Store;

async fn open(path: &str) -> TestPage {
    TestPage::open(todo::app(Store::default()).build(), path).await
}

fn titles(page: &TestPage) -> Vec<String> {
    page.texts(".todo-list li label")
}

#[tokio::test]
async fn enter_adds_a_trimmed_todo_and_ignores_an_empty_one() {
    let mut page = open("/todos").await;
    assert_eq!(page.text(".todo-count"), "3 items left");
    page.fill("input.new-todo", "  Buy milk  ").await;
    page.press("input.new-todo", "Enter").await;
    assert_eq!(
        titles(&page),
        ["Write the README", "Ship dstar", "Celebrate", "Buy milk"]
    );
    assert_eq!(page.signals()["newTodo"], "", "the field is emptied");
    assert_eq!(page.text(".todo-count"), "4 items left");
    // another key does nothing; Enter on blanks adds nothing
    page.fill("input.new-todo", "   ").await;
    page.press("input.new-todo", "a").await;
    page.press("input.new-todo", "Enter").await;
    assert_eq!(page.count(".todo-list li"), 4);
}

#[tokio::test]
async fn toggle_marks_one_done_and_the_count_follows() {
    let mut page = open("/todos").await;
    page.click("#todo-2 input.toggle").await;
    assert!(page.exists("#todo-2.completed"));
    assert_eq!(
        page.attr("#todo-2 input.toggle", "checked").as_deref(),
        Some("")
    );
    assert_eq!(page.text(".todo-count"), "2 items left");
    page.click("#todo-1 input.toggle").await;
    assert_eq!(page.text(".todo-count"), "1 item left", "singular for one");
    page.click("#todo-2 input.toggle").await;
    assert!(!page.exists("#todo-2.completed"));
    assert_eq!(page.text(".todo-count"), "2 items left");
}

#[tokio::test]
async fn toggle_all_completes_everything_then_nothing() {
    let mut page = open("/todos").await;
    page.click("input.toggle-all").await;
    assert_eq!(page.count(".todo-list li.completed"), 3);
    assert_eq!(page.text(".todo-count"), "0 items left");
    assert!(page.attr("input.toggle-all", "checked").is_some());
    page.click("input.toggle-all").await;
    assert_eq!(page.count(".todo-list li.completed"), 0);
    assert!(page.attr("input.toggle-all", "checked").is_none());
}

#[tokio::test]
async fn double_click_edits_enter_saves_escape_cancels_empty_deletes() {
    let mut page = open("/todos").await;
    page.dblclick("#todo-2 label").await;
    assert!(page.exists("#todo-2.editing input.edit"));
    assert_eq!(page.signals()["editTitle"], "Ship dstar");
    page.fill("#todo-2 input.edit", "  Ship dstar 1.0 ").await;
    page.press("#todo-2 input.edit", "Enter").await;
    assert!(!page.exists("li.editing"));
    assert_eq!(page.text("#todo-2 label"), "Ship dstar 1.0");

    page.dblclick("#todo-1 label").await;
    page.fill("#todo-1 input.edit", "Never mind").await;
    page.press("#todo-1 input.edit", "Escape").await;
    assert!(!page.exists("li.editing"));
    assert_eq!(page.text("#todo-1 label"), "Write the README");
    // leaving the field saves, as Enter does
    page.dblclick("#todo-1 label").await;
    page.fill("#todo-1 input.edit", "Write the docs").await;
    page.blur("#todo-1 input.edit").await;
    assert_eq!(page.text("#todo-1 label"), "Write the docs");

    page.dblclick("#todo-3 label").await;
    page.fill("#todo-3 input.edit", "   ").await;
    page.press("#todo-3 input.edit", "Enter").await;
    assert!(!page.exists("#todo-3"), "an empty title deletes the todo");
}

#[tokio::test]
async fn destroy_is_a_delete_event() {
    let mut page = open("/todos").await;
    page.click("#todo-3 button.destroy").await;
    assert!(!page.exists("#todo-3"));
    assert_eq!(page.text(".todo-count"), "2 items left");
}

#[tokio::test]
async fn filters_show_active_and_completed_and_survive_events() {
    let store = Store::default();
    let app = || todo::app(store.clone()).build();
    let mut page = TestPage::open(app(), "/todos").await;
    page.click("#todo-1 input.toggle").await;

    let mut active = TestPage::open(app(), "/todos?filter=active").await;
    assert_eq!(active.text(".filters a.selected"), "Active");
    assert_eq!(titles(&active), ["Ship dstar", "Celebrate"]);
    // an event re-renders with the page's filter (a signal)
    active.click("#todo-2 input.toggle").await;
    assert_eq!(titles(&active), ["Celebrate"]);

    let completed = TestPage::open(app(), "/todos?filter=completed").await;
    assert_eq!(completed.text(".filters a.selected"), "Completed");
    assert_eq!(titles(&completed), ["Write the README", "Ship dstar"]);
}

#[tokio::test]
async fn clear_completed_removes_the_done_ones_and_hides_itself() {
    let mut page = open("/todos").await;
    assert!(!page.exists("button.clear-completed"), "nothing to clear");
    page.click("#todo-1 input.toggle").await;
    page.click("button.clear-completed").await;
    assert_eq!(titles(&page), ["Ship dstar", "Celebrate"]);
    assert!(!page.exists("button.clear-completed"));
    // with no todos, the main section and the footer go
    page.click("input.toggle-all").await;
    page.click("button.clear-completed").await;
    assert!(!page.exists("section.main"));
    assert!(!page.exists("footer.footer"));
}

#[tokio::test]
async fn the_state_is_kept_on_the_server_and_survives_a_reload() {
    let mut page = open("/todos").await;
    page.fill("input.new-todo", "Persist me").await;
    page.press("input.new-todo", "Enter").await;
    page.click("#todo-1 input.toggle").await;
    page.reload().await;
    assert_eq!(page.count(".todo-list li"), 4);
    assert!(page.exists("#todo-1.completed"));
    assert_eq!(page.text("#todo-4 label"), "Persist me");
}

#[tokio::test]
async fn the_shared_drawer_component_works_through_the_page_with_csrf_on() {
    let app = todo::app(Store::default())
        .csrf(dstar::csrf::Csrf::new([7u8; 32]))
        .build();
    let mut page = TestPage::open(app, "/todos").await;
    assert!(page.signals()["csrf"].is_string(), "the token is a signal");
    page.fill("#detail-drawer input", "Renamed from the drawer")
        .await;
    assert_eq!(page.text("#todo-1-title"), "Renamed from the drawer");
    assert_eq!(page.signals()["saved"], true);
    page.click("#todo-2 button.destroy").await;
    assert!(!page.exists("#todo-2"));
}
