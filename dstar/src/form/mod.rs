//! Forms that validate (in progress).
