//! `/signup` and `/signin`: forms that validate as you type, argon2 passwords, a session that
//! gets a new id at sign-in, and a flash on the page the user lands on. `POST /signout` is a
//! plain route.

use crate::AppState;
use crate::db::{Error, User};
use crate::layout::layout;
use axum::extract::State;
use axum::response::Redirect;
use dstar::actions::Action;
use dstar::flash::Flash;
use dstar::form::{Field, Form, Validate, errors_signal};
use dstar::prelude::*;
use dstar::session::{Auth, CurrentUser};

/// What both forms send (no `Debug`: it holds a password).
#[derive(Default, serde::Deserialize, Validate)]
#[validate(crate = "dstar::form::validator")]
#[serde(default)]
pub(crate) struct Credentials {
    #[validate(email(message = "Enter a valid email address"))]
    email: String,
    #[validate(length(min = 8, message = "Use at least 8 characters"))]
    password: String,
}

/// Someone signed in already has nothing to do here.
fn signed_out(user: Option<CurrentUser<User>>) -> Result<(), Redirect> {
    match user {
        Some(_) => Err(Redirect::to("/notes")),
        None => Ok(()),
    }
}

fn card(title: &str, flash: &Flash, form: Markup, other: Markup) -> Markup {
    html! {
        main.card {
            (flash)
            h1 { (title) }
            (form)
            p { (other) }
        }
    }
}

fn form(title: &str, submit: Action, check: Action, password_autocomplete: &str) -> Markup {
    html! {
        form #account data-signals:_errors=(errors_signal(["email", "password"]))
            data-on:submit__prevent=(submit) {
            (Field::new("email").kind("email").label("Email").autocomplete("email").on_input(check.clone()))
            (Field::new("password").kind("password").label("Password").autocomplete(password_autocomplete).on_input(check))
            button type="submit" { (title) }
        }
    }
}

/// `/signup`.
pub(crate) struct SignUp {
    flash: Flash,
}

#[dstar::page("/signup", state = AppState, title = "Sign up", layout = layout)]
impl SignUp {
    async fn mount(user: Option<CurrentUser<User>>, flash: Flash) -> Result<Self, Redirect> {
        signed_out(user).map(|()| SignUp { flash })
    }

    fn render(&self) -> Markup {
        card(
            "Create your account",
            &self.flash,
            form("Sign up", event("submit"), event("check"), "new-password"),
            html! { "Have an account? " a href="/signin" { "Sign in" } },
        )
    }

    /// As the user types: the messages of the fields they filled.
    #[event]
    async fn check(sse: &mut Sse, form: Form<Credentials>) {
        sse.patch_errors(&form.errors().clone().typing());
    }

    #[event]
    async fn submit(
        sse: &mut Sse,
        State(app): State<AppState>,
        auth: Auth,
        flash: Flash,
        form: Form<Credentials>,
    ) -> Result<(), Error> {
        let (credentials, mut errors) = form.into_parts();
        if errors.is_empty() {
            match app
                .db
                .create_user(&credentials.email, &credentials.password)
                .await
            {
                Ok(Some(user)) => {
                    auth.sign_in(&user).await?;
                    flash.success(format!("Welcome, {}! Your account is ready.", user.email));
                    sse.redirect("/notes")?;
                    return Ok(());
                }
                Ok(None) => {
                    errors.add("email", "That email is already taken");
                }
                // too many passwords at once: the user's to know, in the form
                Err(Error::Busy) => {
                    errors.add("password", Error::Busy.to_string());
                }
                Err(e) => return Err(e),
            }
        }
        sse.patch_errors(&errors);
        Ok(())
    }
}

/// `/signin`.
pub(crate) struct SignIn {
    flash: Flash,
}

#[dstar::page("/signin", state = AppState, title = "Sign in", layout = layout)]
impl SignIn {
    async fn mount(user: Option<CurrentUser<User>>, flash: Flash) -> Result<Self, Redirect> {
        signed_out(user).map(|()| SignIn { flash })
    }

    fn render(&self) -> Markup {
        card(
            "Sign in",
            &self.flash,
            form(
                "Sign in",
                event("submit"),
                event("check"),
                "current-password",
            ),
            html! { "New here? " a href="/signup" { "Create an account" } },
        )
    }

    /// As the user types: only the email's format (a password is checked on submit).
    #[event]
    async fn check(sse: &mut Sse, form: Form<Credentials>) {
        let mut errors = form.errors().clone().typing();
        sse.patch_errors(errors.clear("password"));
    }

    #[event]
    async fn submit(
        sse: &mut Sse,
        State(app): State<AppState>,
        auth: Auth,
        flash: Flash,
        form: Form<Credentials>,
    ) -> Result<(), Error> {
        let (credentials, mut errors) = form.into_parts();
        errors.clear("password"); // its length is a sign-up rule
        if errors.is_empty() {
            match app
                .db
                .check_password(&credentials.email, &credentials.password)
                .await
            {
                Ok(Some(user)) => {
                    auth.sign_in(&user).await?;
                    flash.success(format!("Welcome back, {}!", user.email));
                    sse.redirect("/notes")?;
                    return Ok(());
                }
                Ok(None) => {
                    errors.add("password", "Wrong email or password");
                }
                Err(Error::Busy) => {
                    errors.add("password", Error::Busy.to_string());
                }
                Err(e) => return Err(e),
            }
        }
        sse.patch_errors(&errors);
        Ok(())
    }
}

/// `POST /signout`: a plain route, under the same protection as the pages.
pub(crate) async fn sign_out(auth: Auth, flash: Flash) -> Result<Redirect, dstar::Error> {
    auth.sign_out().await?;
    flash.info("You are signed out.");
    Ok(Redirect::to("/signin"))
}
