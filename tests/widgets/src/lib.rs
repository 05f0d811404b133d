//! A component defined outside the crate that serves it.

use dstar::prelude::*;

/// A like button with its handler.
pub struct LikeButton;

#[dstar::component]
impl LikeButton {
    /// The button for post `post`.
    pub fn button(post: u32) -> Markup {
        html! { button data-on:click=(event("like", post)) { "♥" } }
    }

    /// `POST /ds/dstar_test_widgets-LikeButton/like/{post}`
    #[event]
    async fn like(sse: &mut Sse, #[arg] post: u32) {
        sse.patch_signals(json!({ "liked": post }));
    }
}
