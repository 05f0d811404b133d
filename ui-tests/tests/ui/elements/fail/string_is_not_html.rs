// A `String` built with `format!` is not HTML: with user input in it, it would be an injection.
use dstar::prelude::*;

fn greet(sse: &mut Sse, name: &str) {
    sse.patch_elements(format!("<p id=\"greeting\">Hello {name}</p>"));
}

fn main() {
    greet(&mut Sse::new(), "<script>");
}
