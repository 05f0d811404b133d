//! Component shapes that compile: render functions with any arguments, events with typed URL
//! arguments, extractors and state, checked verb helpers.
use dstar::axum::extract::State;
use dstar::prelude::*;

#[derive(Clone)]
pub struct Db;

pub struct Card;

#[dstar::component(state = Db)]
impl Card {
    pub fn card(id: u32, slug: &str) -> Markup {
        html! {
            button data-on:click=(event("open", id, slug.to_owned())) {}
            button data-on:click=(event("close")) {}
        }
    }

    #[event]
    async fn open(sse: &mut Sse, #[arg] id: u32, #[arg] slug: String, State(_db): State<Db>, Signals(s): Signals) {
        sse.patch_signals(json!({ "id": id, "slug": slug, "n": s.len() }));
    }

    #[event(method = "delete")]
    fn close(sse: &mut Sse) -> Result<(), String> {
        sse.remove_elements("#card");
        Ok(())
    }
}

fn main() {
    let _ = CardEvent::Close.action();
    let _ = dstar::delete!(Card, "close");
    let _ = dstar::App::empty().component::<Card>().state(Db).build();
}
