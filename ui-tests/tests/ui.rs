//! Compile-error snapshots: every mistake a dstar user can make in a macro, one file each.
//!
//! rustc's wording drifts between versions, so the snapshots are checked only on the toolchain
//! they were written with (`SNAPSHOT_RUSTC`); other toolchains print one "skipped" line.
//! Regenerate with `TRYBUILD=overwrite cargo test -p dstar-ui-tests`.

const SNAPSHOT_RUSTC: &str = "rustc 1.95.";

fn rustc_matches() -> bool {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = std::process::Command::new(rustc).arg("--version").output();
    match out {
        Ok(out) => String::from_utf8_lossy(&out.stdout).starts_with(SNAPSHOT_RUSTC),
        Err(_) => false,
    }
}

#[test]
fn ui() {
    if !rustc_matches() {
        println!("skipped: ui snapshots were made with {SNAPSHOT_RUSTC}x; this toolchain differs");
        return;
    }
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/*/pass/*.rs");
    t.compile_fail("tests/ui/*/fail/*.rs");
}
