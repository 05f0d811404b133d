#[dstar::page("/counter")]
struct Counter {
    count: i64,
}

fn main() {}
