//! Forms that validate (`dstar::form`): errors as the user types and on submit, server-side
//! errors, refused bodies, the `Field` markup, and Datastar modifiers written unquoted in `html!`.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use dstar::form::{Field, FieldErrors, Form, errors_signal};
use dstar::prelude::*;
use dstar::signals::SignalsConfig;
use dstar::test::{TestClient, TestPage, patched_signals};
use validator::Validate;

/// `serde(default)`: a field whose signal the browser has not created yet validates as empty.
#[derive(Debug, Default, serde::Deserialize, Validate)]
#[serde(default)]
struct SignUp {
    #[validate(email)]
    email: String,
    #[validate(length(min = 8))]
    password: String,
}

#[derive(Default)]
struct SignUpPage;

#[dstar::page("/signup")]
impl SignUpPage {
    fn render(&self) -> Markup {
        html! {
            form #signup data-signals:_errors=(errors_signal(["email", "password"]))
                data-on:submit__prevent=(event("submit")) {
                (Field::new("email").kind("email").label("Email").autocomplete("email")
                    .on_input(event("check")))
                (Field::new("password").kind("password").label("Password")
                    .autocomplete("new-password").on_input(event("check")))
                button #send data-on:click__prevent=(event("submit")) { "Sign up" }
            }
            p #welcome {}
        }
    }

    #[event]
    async fn check(sse: &mut Sse, form: Form<SignUp>) {
        sse.patch_errors(&form.errors().clone().typing());
    }

    #[event]
    async fn submit(sse: &mut Sse, form: Form<SignUp>) {
        let (signup, mut errors) = form.into_parts();
        if errors.is_empty() && signup.email == "taken@example.com" {
            errors.add("email", "That email is taken");
        }
        sse.patch_errors(&errors);
        if errors.is_empty() {
            sse.patch_elements(html! { p #welcome { "Welcome, " (signup.email) } });
        }
    }
}

fn app() -> axum::Router {
    dstar::App::empty().page::<SignUpPage>().build()
}

async fn errors_after(event: &str, signals: serde_json::Value) -> serde_json::Value {
    let client = TestClient::new(app());
    let response = client
        .post(&format!("/signup/_event/{event}"), signals)
        .await;
    response.assert_status(200);
    patched_signals(&response.events())
}

#[tokio::test]
async fn typing_shows_the_errors_of_the_fields_filled_in_only() {
    let signals = errors_after(
        "check",
        json!({ "email": "ada@", "password": "", "csrf": "ignored" }),
    )
    .await;
    // the short password is still empty: no error yet, but its message is cleared
    assert_eq!(
        signals,
        json!({ "_errors": { "email": "Enter a valid email address", "password": "" } })
    );
    // once typed into, a short password complains too
    let signals = errors_after("check", json!({ "email": "ada@", "password": "abc" })).await;
    assert_eq!(
        signals,
        json!({ "_errors": {
            "email": "Enter a valid email address",
            "password": "Use at least 8 characters",
        } })
    );
}

#[tokio::test]
async fn submit_shows_every_error() {
    let signals = errors_after("submit", json!({ "email": "", "password": "" })).await;
    assert_eq!(
        signals,
        json!({ "_errors": {
            "email": "Enter a valid email address",
            "password": "Use at least 8 characters",
        } })
    );
    // fields not sent at all (`serde(default)`) are empty, so they get their errors too
    let missing = errors_after("submit", json!({ "csrf": "x" })).await;
    assert_eq!(missing, signals);
}

#[tokio::test]
async fn a_valid_form_clears_every_message() {
    let client = TestClient::new(app());
    let response = client
        .post(
            "/signup/_event/submit",
            json!({ "email": "ada@example.com", "password": "correct horse" }),
        )
        .await;
    let events = response.events();
    assert_eq!(
        patched_signals(&events),
        json!({ "_errors": { "email": "", "password": "" } })
    );
    dstar::test::assert_patched_element(&events, "#welcome").contains("Welcome, ada@example.com");
}

#[tokio::test]
async fn server_side_errors_are_added() {
    let signals = errors_after(
        "submit",
        json!({ "email": "taken@example.com", "password": "correct horse" }),
    )
    .await;
    assert_eq!(
        signals,
        json!({ "_errors": { "email": "That email is taken", "password": "" } })
    );
    // by hand: the first message wins, and `typing` keeps errors of filled-in fields
    let mut errors = FieldErrors::new();
    errors
        .track("email", Some(&json!("taken@example.com")))
        .add("email", "That email is taken")
        .add("email", "ignored");
    assert_eq!(
        errors.clone().typing().get("email"),
        Some("That email is taken")
    );
}

#[tokio::test]
async fn bodies_that_are_not_json_or_too_large_are_refused_not_500() {
    let post = |body: Vec<u8>| {
        Request::post("/signup/_event/check")
            .header("content-type", "application/json")
            .header("datastar-request", "true")
            .body(Body::from(body))
            .unwrap()
    };
    let client = TestClient::new(app());
    let response = client.send(post(b"{not json".to_vec())).await;
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{}",
        response.text()
    );
    let response = client
        .send(post(br#"{"email": 5, "password": ""}"#.to_vec()))
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        response.text(),
        "invalid signals: signals.email: invalid type: integer `5`, expected a string"
    );
    let response = client.send(post(vec![b' '; (1 << 20) + 1])).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    // a configured limit, the same as for `Signals`
    let small = TestClient::new(app().layer(axum::Extension(SignalsConfig::default().limit(16))));
    let response = small
        .send(post(
            br#"{"email": "ada@example.com", "password": "x"}"#.to_vec(),
        ))
        .await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[test]
fn datastar_modifiers_render_unquoted() {
    let action = "@post('/check')";
    let unquoted = html! {
        input data-on:input__debounce.300ms=(action)
            data-on:keydown__window__throttle.1s.leading="x"
            data-on:click__prevent="y"
            data-bind:email
            data-attr:aria-invalid="$_errors.email ? 'true' : false"
            data-signals:_errors="{}";
    };
    assert_eq!(
        unquoted.into_string(),
        "<input data-on:input__debounce.300ms=\"@post('/check')\" \
         data-on:keydown__window__throttle.1s.leading=\"x\" data-on:click__prevent=\"y\" \
         data-bind:email data-attr:aria-invalid=\"$_errors.email ? 'true' : false\" \
         data-signals:_errors=\"{}\">"
    );
    // the quoted form still works, and gives the same attribute
    let quoted = html! { input "data-on:input__debounce.300ms"=(action); };
    assert_eq!(
        quoted.into_string(),
        "<input data-on:input__debounce.300ms=\"@post('/check')\">"
    );
    // a `.class` after other attributes is still a class
    let classes = html! { input data-bind:email .big; };
    assert_eq!(
        classes.into_string(),
        "<input class=\"big\" data-bind:email>"
    );
}

#[tokio::test]
async fn the_page_renders_fields_with_their_messages_described() {
    let page = TestPage::open(app(), "/signup").await;
    for name in ["email", "password"] {
        let input = format!("input#{name}");
        let described_by = page.attr(&input, "aria-describedby").unwrap();
        assert_eq!(described_by, format!("{name}-error"));
        // the element it names shows the field's message
        assert_eq!(
            page.attr(&format!("#{described_by}"), "data-text").unwrap(),
            format!("$_errors.{name}")
        );
        assert_eq!(
            page.attr(&input, "data-attr:aria-invalid").unwrap(),
            format!("$_errors.{name} ? 'true' : false")
        );
        assert!(
            page.attr(&input, "data-on:input__debounce.300ms")
                .unwrap()
                .ends_with("/_event/check')")
        );
        assert_eq!(
            page.attr(&format!("label[for={name}]"), "for").as_deref(),
            Some(name)
        );
    }
    assert_eq!(
        page.attr("form", "data-signals:_errors").unwrap(),
        r#"{"email":"","password":""}"#
    );
}

#[test]
fn field_markup_is_exact_and_names_are_checked() {
    let note = Field::new("body")
        .kind("textarea")
        .label("Note")
        .value("a < b");
    assert_eq!(
        html! { (note) }.into_string(),
        "<div class=\"field\"><label for=\"body\">Note</label><textarea id=\"body\" name=\"body\" \
         data-bind:body data-attr:aria-invalid=\"$_errors.body ? 'true' : false\" \
         aria-describedby=\"body-error\">a &lt; b</textarea><p id=\"body-error\" \
         class=\"field-error\" data-text=\"$_errors.body\"></p></div>"
    );
    for bad in ["", "e-mail", "_errors", "1st", "a b", "x\"y"] {
        assert!(Field::try_new(bad).is_err(), "{bad:?}");
    }
    // HTML lowercases attribute names: a name with capitals binds by value
    let html = html! { (Field::new("firstName")) }.into_string();
    assert!(html.contains(" data-bind=\"firstName\" "), "{html}");
}

#[tokio::test]
async fn a_page_driven_like_a_browser_shows_errors_as_the_user_types() {
    let mut page = TestPage::open(app(), "/signup").await;
    page.fill("#email", "ada@").await;
    assert_eq!(
        page.signals()["_errors"],
        json!({ "email": "Enter a valid email address", "password": "" })
    );
    page.fill("#email", "ada@example.com").await;
    page.click("#send").await;
    assert_eq!(
        page.signals()["_errors"],
        json!({ "email": "", "password": "Use at least 8 characters" })
    );
    page.fill("#password", "correct horse").await;
    page.click("#send").await;
    assert_eq!(
        page.signals()["_errors"],
        json!({ "email": "", "password": "" })
    );
    assert_eq!(page.text("#welcome"), "Welcome, ada@example.com");
}
