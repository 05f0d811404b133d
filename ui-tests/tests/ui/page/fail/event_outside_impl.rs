use dstar::prelude::*;

/// A helper outside any page or component impl block.
fn save_button() -> Markup {
    html! { button data-on:click=(event("save")) { "Save" } }
}

fn main() {
    let _ = save_button();
}
