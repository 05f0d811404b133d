//! The README is the front door: its Quick Start is `examples/counter.rs`, verbatim (the README is
//! doc-tested too), it names the two commands, it stays short, and every section past the Quick
//! Start links to its reference page, which exists (the pages are rustdoc, under
//! `dstar/src/docs/`, each included by `dstar/src/lib.rs`).

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).unwrap()
}

/// The README's `## ` sections: (heading, body up to the next `## `), code blocks included.
fn sections(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        }
        if !fenced && let Some(heading) = line.strip_prefix("## ") {
            out.push((heading.to_owned(), String::new()));
            continue;
        }
        if let Some((_, body)) = out.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

/// Lines outside fenced code blocks.
fn prose(text: &str) -> Vec<&str> {
    let mut fenced = false;
    text.lines()
        .filter(|line| {
            if line.starts_with("```") {
                fenced = !fenced;
                return false;
            }
            !fenced
        })
        .collect()
}

/// Every `[text](target)` link target in the prose of a Markdown text.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in prose(text) {
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(after[..end].to_owned());
            rest = &after[end..];
        }
    }
    out
}

/// The anchors a forge gives a Markdown file's headings (lowercase; spaces become `-`; other
/// punctuation but `-` and `_` is dropped).
fn anchors(text: &str) -> Vec<String> {
    prose(text)
        .into_iter()
        .filter(|line| line.starts_with('#'))
        .map(|line| {
            line.trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter_map(|c| match c {
                    ' ' => Some('-'),
                    c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                    _ => None,
                })
                .collect()
        })
        .collect()
}

#[test]
fn quick_start_is_the_counter_example_verbatim() {
    let readme = readme();
    let counter = std::fs::read_to_string(root().join("examples/counter.rs")).unwrap();
    // the one difference the README states: the example names the examples' shared layout
    let styled = r#"#[dstar::page("/counter", layout = dstar_examples::layout)]"#;
    assert!(
        counter.contains(styled),
        "the counter example names the shared layout"
    );
    let counter = counter.replace(styled, r#"#[dstar::page("/counter")]"#);
    let start = readme
        .find("## Quick Start")
        .expect("a Quick Start section");
    let block = &readme[start..];
    let code_start = block
        .find("```rust,no_run,standalone_crate\n")
        .expect("a rust block")
        + "```rust,no_run,standalone_crate\n".len();
    let code_end = code_start + block[code_start..].find("```").unwrap();
    assert_eq!(
        &block[code_start..code_end],
        counter,
        "README Quick Start differs from examples/counter.rs"
    );
}

#[test]
fn readme_names_the_two_commands() {
    let readme = readme();
    assert!(readme.contains("cargo run --example counter"));
    assert!(readme.contains("cargo test --workspace"));
    // as commands to paste: each starts a line of a shell block
    let (_, install) = sections(&readme)
        .into_iter()
        .find(|(heading, _)| heading == "Installation")
        .expect("an Installation section");
    let shell = install
        .split("```sh\n")
        .nth(1)
        .and_then(|block| block.split("```").next())
        .expect("a shell block in Installation");
    for command in ["cargo run --example counter", "cargo test --workspace"] {
        assert!(
            shell.lines().any(|line| line.starts_with(command)),
            "Installation's shell block runs `{command}`"
        );
    }
}

#[test]
fn readme_stays_a_front_door() {
    let readme = readme();
    let lines = readme.lines().count();
    assert!(
        lines <= 450,
        "README.md has {lines} lines; move detail into dstar/src/docs/"
    );
    let headings: Vec<String> = sections(&readme).into_iter().map(|(h, _)| h).collect();
    for heading in [
        "Why dstar",
        "Installation",
        "Quick Start",
        "Testing and benchmarks",
    ] {
        assert!(
            headings.iter().any(|h| h == heading),
            "README has no `## {heading}`"
        );
    }
}

#[test]
fn every_section_ends_with_its_reference() {
    // the front door itself, and the license, have no reference page
    let no_reference = ["Why dstar", "Installation", "License"];
    for (heading, body) in sections(&readme()) {
        if no_reference.contains(&heading.as_str()) {
            continue;
        }
        let last = body
            .split("\n\n")
            .map(str::trim)
            .filter(|paragraph| !paragraph.is_empty())
            .last()
            .unwrap_or("");
        assert!(
            last.contains("](dstar/src/docs/") || last.contains("](bench/README.md)"),
            "README section `{heading}` does not end with a link to its reference page: {last:?}"
        );
    }
}

#[test]
fn live_pages_section_says_what_renders_once() {
    let sections = sections(&readme());
    let (_, live) = sections
        .iter()
        .find(|(heading, _)| heading == "Live pages")
        .expect("a Live pages section");
    let flat = live.split_whitespace().collect::<Vec<_>>().join(" ");
    for sentence in [
        "A live page renders once per change for everyone who sees the same thing: a `mount` that reads only `State` is shared by every viewer, one that reads the URI (`Path`, `Query`) is shared per URI, and one that reads anything else (cookies, the session, `CurrentUser`) renders per viewer unless the page names a `render_key`.",
        "The shared render is formatted once into bytes every stream sends as they are, each viewer's `authorize` runs before a frame is handed over, and a slow viewer skips straight to the latest frame.",
    ] {
        assert!(
            flat.contains(sentence),
            "the Live pages section lost: {sentence}"
        );
    }
}

#[test]
fn readme_and_bench_links_resolve() {
    let root = root();
    for file in ["README.md", "bench/README.md"] {
        let path = root.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let dir = path.parent().unwrap();
        for link in links(&text) {
            if link.starts_with("https://") || link.starts_with("http://") {
                continue;
            }
            let (target, anchor) = match link.split_once('#') {
                Some((target, anchor)) => (target, Some(anchor)),
                None => (link.as_str(), None),
            };
            let resolved = if target.is_empty() {
                path.clone()
            } else {
                dir.join(target)
            };
            assert!(
                resolved.exists(),
                "{file} links to {link}, which does not exist"
            );
            if let Some(anchor) = anchor {
                let linked = std::fs::read_to_string(&resolved).unwrap();
                assert!(
                    anchors(&linked).iter().any(|a| a == anchor),
                    "{file} links to {link}: no such heading"
                );
            }
        }
    }
}

#[test]
fn every_docs_page_is_in_rustdoc() {
    let root = root();
    let lib = std::fs::read_to_string(root.join("dstar/src/lib.rs")).unwrap();
    for entry in std::fs::read_dir(root.join("dstar/src/docs")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".md") {
            assert!(
                lib.contains(&format!("include_str!(\"docs/{name}\")")),
                "dstar/src/docs/{name} is not included in dstar/src/lib.rs"
            );
        }
    }
}
