// `authorize` takes `Access`, `&RequestHead` and extractors that read no body: a plain struct is
// reported at its type.
use dstar::prelude::*;

struct Role(String);

#[derive(Default)]
struct Admin;

#[dstar::page("/admin")]
impl Admin {
    fn render(&self) -> Markup {
        html! { button data-on:click=(event("wipe")) { "Wipe" } }
    }

    async fn authorize(access: Access<AdminEvent>, role: Role) -> bool {
        let _ = access;
        role.0 == "admin"
    }

    #[event]
    async fn wipe() {}
}

fn main() {}
