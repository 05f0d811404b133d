//! A page with a mistake still defines its event enum and `Page` impl, so the code that uses them
//! adds no errors of its own.
use dstar::prelude::*;

#[derive(Default)]
struct Counter;

#[dstar::page("/counter")]
impl Counter {
    fn render(self) -> Markup {
        html! { button data-on:click=(event("increment")) { "+1" } }
    }

    #[event]
    async fn increment(sse: &mut Sse) {
        sse.console_log("+1");
    }
}

fn main() {
    let _ = CounterEvent::Increment.action();
    let _ = dstar::App::empty().page::<Counter>();
}
