use dstar::prelude::*;

struct Counter;

#[dstar::page("/counter")]
impl Counter {
    fn mount() -> Self {
        Counter
    }

    #[event]
    async fn increment(sse: &mut Sse) {
        sse.console_log("+1");
    }
}

fn main() {}
