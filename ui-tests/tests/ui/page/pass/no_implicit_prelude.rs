//! Generated code names everything through `::dstar::__private` and absolute paths, so it compiles
//! without the prelude.
#![no_implicit_prelude]

extern crate dstar;

use dstar::prelude::*;

struct Counter {
    count: i64,
}

#[dstar::page("/counter")]
impl Counter {
    async fn mount() -> Self {
        Counter { count: 0 }
    }

    fn render(&self) -> Markup {
        html! { div data-signals:count=(self.count) { button data-on:click=(event("increment")) {} } }
    }

    #[event]
    async fn increment(sse: &mut Sse, Signals(s): Signals) {
        // (serde_json's `json!` needs the prelude, so this test avoids it)
        sse.console_log(s.len());
    }
}

fn main() {}
