//! Compile-error snapshots: every mistake a dstar user can make in a macro, one file each; and the
//! `pass` cases, which must compile.
//!
//! The `pass` cases run on any toolchain. rustc's wording drifts between versions, so the
//! `compile_fail` snapshots are checked only on the toolchain they were written with
//! (`SNAPSHOT_RUSTC`). On another toolchain they are skipped (a `dstar-test-skipped:` line, see
//! `dstar_tests::skipped`), except on CI (`CI` set, and not `false` or `0`), where a differing
//! toolchain fails the test: the snapshots must be checked there, or regenerated.
//! Regenerate with `TRYBUILD=overwrite cargo test -p dstar-ui-tests`.

const SNAPSHOT_RUSTC: &str = "rustc 1.95.";

/// The `rustc --version` line of the compiler trybuild builds with.
fn rustc_version() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    match std::process::Command::new(&rustc).arg("--version").output() {
        Ok(out) => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        Err(e) => format!("`{rustc} --version` failed: {e}"),
    }
}

fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Records a skip as `dstar_tests::skipped` does (this crate does not depend on dstar-tests): a
/// line on stderr, and appended to `$DSTAR_SKIP_LOG` when set, which `.ci/run` reads.
fn skipped(test: &str, reason: &str) {
    use std::io::Write;
    let line = format!("dstar-test-skipped: ui::{test}: {reason}\n");
    eprint!("{line}");
    if let Some(path) = std::env::var_os("DSTAR_SKIP_LOG") {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(line.as_bytes()))
            .expect("the skip is recorded in $DSTAR_SKIP_LOG");
    }
}

#[test]
fn ui() {
    let rustc = rustc_version();
    let snapshot_toolchain = rustc.starts_with(SNAPSHOT_RUSTC);
    {
        let t = trybuild::TestCases::new();
        t.pass("tests/ui/*/pass/*.rs");
        if snapshot_toolchain {
            t.compile_fail("tests/ui/*/fail/*.rs");
        }
        // the cases build and run here, when `t` is dropped
    }
    if !snapshot_toolchain {
        let why = format!(
            "compile_fail snapshots were made with {SNAPSHOT_RUSTC}x; this toolchain is {rustc}"
        );
        assert!(
            !on_ci(),
            "{why}: on CI they must be checked (regenerate them with TRYBUILD=overwrite for a new toolchain)"
        );
        skipped("ui", &why);
    }
}
