//! Forms that validate as the user types and on submit, with the
//! [`validator`](https://docs.rs/validator) crate.
//!
//! The flow:
//! 1. a struct derives `serde::Deserialize` and [`Validate`] (`#[validate(email)]`,
//!    `#[validate(length(min = 8, message = "…"))]`, …);
//! 2. the page renders each input with [`Field`], which binds it to the signal of its name and
//!    shows its message from the client-only signal `_errors` (`$_errors.email`; Datastar never
//!    sends a `_` signal back). The `<form>` declares that signal with [`errors_signal`];
//! 3. as the user types, a debounced `check` event reads the form with the [`Form<T>`] extractor
//!    and answers with `sse.patch_errors(&form.errors().clone().typing())`
//!    ([`Sse::patch_errors`](crate::Sse::patch_errors)): [`typing`](FieldErrors::typing) hides
//!    the errors of the fields still empty, so the password does not complain while the user
//!    types their email;
//! 4. on submit, the same extractor; `sse.patch_errors(&errors)` with every error, or with none
//!    (which clears every message) once the form is valid. Server-side checks ("that email is
//!    taken") [`add`](FieldErrors::add) their own message.
//!
//! The derive generates `::validator::…` paths: add `validator = { version = "0.20", features =
//! ["derive"] }` to your `Cargo.toml`, or use dstar's copy with
//! `#[validate(crate = "dstar::form::validator")]` on the struct, as below.
//!
//! ```standalone_crate
//! use dstar::form::{Field, Form, Validate, errors_signal};
//! use dstar::prelude::*;
//!
//! #[derive(Default, serde::Deserialize, Validate)]
//! #[serde(default)] // a field the browser has not sent yet is empty, not a 400
//! #[validate(crate = "dstar::form::validator")]
//! struct SignUp {
//!     #[validate(email)]
//!     email: String,
//!     #[validate(length(min = 8))]
//!     password: String,
//! }
//!
//! #[derive(Default)]
//! struct SignUpPage;
//!
//! #[dstar::page("/signup")]
//! impl SignUpPage {
//!     fn render(&self) -> Markup {
//!         html! {
//!             form data-signals:_errors=(errors_signal(["email", "password"]))
//!                 data-on:submit__prevent=(event("submit")) {
//!                 (Field::new("email").kind("email").label("Email")
//!                     .autocomplete("email").on_input(event("check")))
//!                 (Field::new("password").kind("password").label("Password")
//!                     .autocomplete("new-password").on_input(event("check")))
//!                 button { "Sign up" }
//!             }
//!             p #welcome {}
//!         }
//!     }
//!
//!     /// As the user types: the errors of the fields they have filled in.
//!     #[event]
//!     async fn check(sse: &mut Sse, form: Form<SignUp>) {
//!         sse.patch_errors(&form.errors().clone().typing());
//!     }
//!
//!     /// On submit: every error, or none and a welcome.
//!     #[event]
//!     async fn submit(sse: &mut Sse, form: Form<SignUp>) {
//!         let (signup, mut errors) = form.into_parts();
//!         if errors.is_empty() && signup.email == "taken@example.com" {
//!             errors.add("email", "That email is taken");
//!         }
//!         sse.patch_errors(&errors);
//!         if errors.is_empty() {
//!             sse.patch_elements(html! { p #welcome { "Welcome, " (signup.email) } });
//!         }
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use dstar::test::{TestClient, patched_signals};
//! let client = TestClient::new(dstar::App::empty().page::<SignUpPage>().build());
//! let page = client.get("/signup").await.text();
//! assert!(page.contains(r#"data-on:input__debounce.300ms="@post("#));
//!
//! // typing the email: its error, and none yet for the empty password
//! let typing = client
//!     .post("/signup/_event/check", json!({ "email": "ada@", "password": "" }))
//!     .await;
//! assert_eq!(
//!     patched_signals(&typing.events()),
//!     json!({ "_errors": { "email": "Enter a valid email address", "password": "" } })
//! );
//!
//! // submitting: every error
//! let submit = client
//!     .post("/signup/_event/submit", json!({ "email": "ada@", "password": "" }))
//!     .await;
//! assert_eq!(
//!     patched_signals(&submit.events())["_errors"]["password"],
//!     "Use at least 8 characters"
//! );
//!
//! // a valid form clears every message
//! let valid = client
//!     .post("/signup/_event/submit", json!({ "email": "ada@example.com", "password": "correct horse" }))
//!     .await;
//! assert_eq!(
//!     patched_signals(&valid.events()),
//!     json!({ "_errors": { "email": "", "password": "" } })
//! );
//! # });
//! ```
//!
//! Files: the [`Form`] extractor in `extract.rs`, and how it knows a struct's fields in
//! `serde_fields.rs`; [`FieldErrors`] in `errors.rs`; the message of one validation error in
//! `messages.rs`; the `_errors` signal in `signal.rs`; the [`Field`] input in `field.rs`.

mod errors;
mod extract;
mod field;
mod messages;
mod serde_fields;
mod signal;

pub use errors::FieldErrors;
pub use extract::Form;
pub use field::{DEFAULT_DEBOUNCE, Field, InvalidFieldName};
pub use messages::message_for;
pub use signal::{ERRORS_SIGNAL, errors_signal};

/// The `validator` crate, for `#[validate(crate = "dstar::form::validator")]` and its types
/// ([`ValidationErrors`](validator::ValidationErrors), custom validators'
/// [`ValidationError`](validator::ValidationError)).
///
/// ```
/// let error = dstar::form::validator::ValidationError::new("taken");
/// assert_eq!(error.code, "taken");
/// ```
pub use validator;

/// The `Validate` trait and its derive, re-exported from [`validator`]. The derive's code names
/// `::validator`: depend on `validator` yourself, or add
/// `#[validate(crate = "dstar::form::validator")]` to the struct.
///
/// ```
/// use dstar::form::Validate;
///
/// #[derive(Validate)]
/// #[validate(crate = "dstar::form::validator")]
/// struct Note {
///     #[validate(length(min = 1))]
///     body: String,
/// }
/// assert!(Note { body: String::new() }.validate().is_err());
/// ```
pub use validator::Validate;

impl crate::sse::Sse {
    /// Shows a form's errors: one signals patch, `{"_errors": {"email": "…", "password": ""}}`,
    /// with every field of the form (`""` clears a valid field's message). Send
    /// `form.errors().clone().typing()` as the user types, the full errors on submit.
    ///
    /// ```
    /// let mut errors = dstar::form::FieldErrors::new();
    /// errors.track("password", None).add("email", "Enter a valid email address");
    /// let mut sse = dstar::Sse::new();
    /// sse.patch_errors(&errors);
    /// assert_eq!(
    ///     sse.as_bytes(),
    ///     b"event: datastar-patch-signals\ndata: signals {\"_errors\":{\"email\":\"Enter a valid email address\",\"password\":\"\"}}\n\n"
    /// );
    /// ```
    pub fn patch_errors(&mut self, errors: &FieldErrors) -> &mut Self {
        self.patch_signals(errors.signals())
    }
}
