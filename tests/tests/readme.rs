//! The README's Quick Start is `examples/counter.rs`, verbatim (the README is doc-tested too).

#[test]
fn quick_start_is_the_counter_example_verbatim() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let counter = std::fs::read_to_string(root.join("examples/counter.rs")).unwrap();
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
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    assert!(readme.contains("cargo run --example counter"));
    assert!(readme.contains("cargo test --workspace"));
}
