//! The dstar examples: `cargo run --example <name>`. Each listens on `DSTAR_ADDR` (default
//! `127.0.0.1:3000`; the sdk-test-server `127.0.0.1:7331`) and prints its routes on start.

use dstar::page::PageContext;
use dstar::prelude::*;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The examples' one stylesheet (`examples/assets/dstar-examples.css`): system fonts, nothing
/// fetched from the network.
pub const STYLESHEET: &str = include_str!("assets/dstar-examples.css");

/// The examples' layout: dstar's default document (client script, CSRF token, `<body>`
/// attributes, through [`PageContext`]) with [`stylesheet`], and the page in a centred column
/// (`div.ex-page`). Use it with `#[dstar::page("/path", layout = dstar_examples::layout)]`.
pub fn layout(ctx: &PageContext<'_>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                link rel="icon" href="data:,"; // no favicon request, no 404 in the console
                title { (ctx.title) }
                (stylesheet(ctx))
                (ctx.client_script())
            }
            (ctx.body(html! { div.ex-page { (body) } }))
        }
    }
}

/// [`STYLESHEET`] as an inline `<style>`, for a layout's `<head>`. It carries the page's CSP
/// nonce when there is one: the strict policy (`DSTAR_CSP=strict`) sets no `style-src` today,
/// and the nonce keeps the sheet allowed under a policy that adds `style-src 'nonce-…'`. Inline,
/// it needs no route, no extra request and no cache busting when it changes.
pub fn stylesheet(ctx: &PageContext<'_>) -> Markup {
    html! { style nonce=[ctx.nonce] { (PreEscaped(STYLESHEET)) } }
}

/// Starts the example binary `name` built beside the running one (the benchmarks start their
/// servers this way) on `addr`, with `configure` adding its environment, and waits until it
/// accepts connections. Panics, having stopped the child, if it never does.
pub async fn start_sibling(name: &str, addr: &str, configure: impl FnOnce(&mut Command)) -> Child {
    let exe = std::env::current_exe()
        .expect("the running binary")
        .with_file_name(name);
    let mut command = Command::new(&exe);
    command.env("DSTAR_ADDR", addr).stdout(Stdio::null());
    configure(&mut command);
    let mut child = command.spawn().unwrap_or_else(|e| {
        panic!(
            "cannot start {}: {e} (build it: cargo build --release --examples)",
            exe.display()
        )
    });
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("{name} did not start on {addr}");
}

/// The resident memory of process `pid` in KB (0 when it cannot be read), for the benchmarks.
pub fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
