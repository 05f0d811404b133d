//! The notes app's layout: the default document with a small stylesheet, and the top bar.

use crate::db::User;
use dstar::csrf::CsrfToken;
use dstar::page::PageContext;
use dstar::prelude::*;

/// Every page of the app: dstar's document (client, tab id, CSRF token, flash hand-over) and
/// the stylesheet.
pub(crate) fn layout(ctx: &PageContext<'_>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (ctx.title) " · Notes" }
                style { (PreEscaped(STYLE)) }
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

const STYLE: &str = r#"
:root { --ink: #1d2330; --muted: #667085; --line: #e4e7ec; --brand: #4f46e5; --bad: #c2410c;
        --ok: #15803d; --bg: #f7f8fa; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); line-height: 1.5; }
main { max-width: 44rem; margin: 2rem auto; padding: 0 1rem; }
main.card { max-width: 26rem; background: #fff; border: 1px solid var(--line); border-radius: 12px;
            padding: 2rem; box-shadow: 0 1px 2px rgb(16 24 40 / 6%); }
h1 { font-size: 1.5rem; margin: 0 0 1rem; } h2 { font-size: 1rem; color: var(--muted); margin: 1.5rem 0 .5rem; }
a { color: var(--brand); }
.top { display: flex; align-items: center; justify-content: space-between; padding: .75rem 1.5rem;
       background: #fff; border-bottom: 1px solid var(--line); }
.top nav { display: flex; gap: 1rem; align-items: center; }
.top nav a { text-decoration: none; color: var(--muted); } .top nav a[aria-current] { color: var(--ink); font-weight: 600; }
.brand { font-weight: 700; text-decoration: none; color: var(--ink); }
.me { color: var(--muted); font-size: .9rem; } .top form { margin: 0; }
.field { display: grid; gap: .25rem; margin-bottom: 1rem; }
label { font-weight: 600; font-size: .9rem; }
input, textarea { font: inherit; padding: .55rem .7rem; border: 1px solid var(--line); border-radius: 8px; width: 100%; background: #fff; }
textarea { min-height: 5rem; resize: vertical; }
input:focus, textarea:focus { outline: 2px solid var(--brand); outline-offset: 1px; }
[aria-invalid="true"] { border-color: var(--bad); }
.field-error { color: var(--bad); font-size: .85rem; margin: 0; min-height: 1.2em; }
button { font: inherit; font-weight: 600; padding: .55rem 1rem; border-radius: 8px; border: 0;
         background: var(--brand); color: #fff; cursor: pointer; }
button.secondary { background: transparent; color: var(--ink); border: 1px solid var(--line); }
.flash { padding: .75rem 1rem; border-radius: 8px; margin-bottom: 1rem; background: #eef2ff; }
.flash-success { background: #ecfdf3; color: var(--ok); } .flash-error { background: #fef3f2; color: var(--bad); }
.columns { display: grid; grid-template-columns: 1fr 12rem; gap: 2rem; }
#notes { list-style: none; padding: 0; margin: 0; display: grid; gap: .75rem; }
.note { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: .75rem 1rem; }
.note p { margin: .25rem 0 0; white-space: pre-wrap; } .note .author { font-weight: 600; font-size: .9rem; }
.note time { color: var(--muted); font-size: .8rem; margin-left: .5rem; }
#online ul { list-style: none; padding: 0; margin: 0; } #online li::before { content: "● "; color: var(--ok); }
img.avatar { width: 8rem; height: 8rem; object-fit: cover; border-radius: 50%; border: 1px solid var(--line); }
#ds-refusal { position: fixed; bottom: 1rem; left: 50%; transform: translateX(-50%); background: var(--ink);
              color: #fff; padding: .6rem 1rem; border-radius: 8px; }
#ds-refusal:empty { display: none; }
"#;
