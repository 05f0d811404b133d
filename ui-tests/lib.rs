//! Compile-error snapshots for dstar live in `tests/ui/`.
