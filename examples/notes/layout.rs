//! The notes app's layout: the default document with the examples' stylesheet, and the top bar.

use crate::db::User;
use dstar::csrf::CsrfToken;
use dstar::page::PageContext;
use dstar::prelude::*;

/// Every page of the app: dstar's document (client, tab id, CSRF token, flash hand-over) and
/// the examples' stylesheet (`examples/assets/dstar-examples.css`, its "notes" section).
pub(crate) fn layout(ctx: &PageContext<'_>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                link rel="icon" href="data:,"; // no favicon request, no 404 in the console
                title { (ctx.title) " · Notes" }
                (dstar_examples::stylesheet(ctx))
                (ctx.client_script())
            }
            (ctx.body(body))
        }
    }
}

/// The top bar of a signed-in page, with a "Sign out" button: a plain form posted to the
/// `/signout` route, carrying the CSRF token.
pub(crate) fn top_bar(user: &User, csrf: &CsrfToken, here: &str) -> Markup {
    html! {
        header.top {
            a.brand href="/notes" { "Notes" }
            nav {
                a href="/notes" aria-current=[(here == "notes").then_some("page")] { "All notes" }
                a href="/profile" aria-current=[(here == "profile").then_some("page")] { "Profile" }
                span.me { (user.email) }
                form method="post" action="/signout" {
                    (csrf.field())
                    button.secondary type="submit" { "Sign out" }
                }
            }
        }
    }
}
