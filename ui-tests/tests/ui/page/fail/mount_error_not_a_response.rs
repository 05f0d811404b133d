use dstar::prelude::*;

struct Report;

#[dstar::page("/report")]
impl Report {
    async fn mount() -> Result<Self, std::io::Error> {
        Ok(Report)
    }

    fn render(&self) -> Markup {
        html! { p { "report" } }
    }
}

fn main() {}
