//! A component's generated code names everything through `::dstar::__private` and absolute paths,
//! so it compiles without the prelude, `#[arg]`s, `authorize` and a DELETE event included.
#![no_implicit_prelude]

extern crate dstar;

use dstar::prelude::*;

pub struct Badge;

#[dstar::component]
impl Badge {
    pub fn view(id: u64) -> Markup {
        html! { button data-on:click=(event("like", id)) {} button data-on:click=(event("clear")) {} }
    }

    fn authorize(_head: &RequestHead, _access: Access<BadgeEvent>) -> bool {
        true
    }

    #[event]
    async fn like(sse: &mut Sse, #[arg] id: u64) {
        sse.console_log(id);
    }

    #[event(method = "delete")]
    fn clear(sse: &mut Sse) {
        sse.console_log("cleared");
    }
}

fn main() {
    let _ = dstar::post!(Badge, "clear");
}
