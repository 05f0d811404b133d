//! The errors the server's body deadline and body budget end a body with, and how a reader tells
//! them from other failures.

use std::fmt;

/// The error a body past its deadline ends with; the signals reader answers it with a
/// `408`. Defined here, next to its reader; the server's body deadline raises it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyTimedOut;

impl fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTimedOut {}

/// The error a body ends with when the bodies being read would hold more than the server's
/// budget; the signals reader answers it with a `503`. The server's body budget raises it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyOverBudget;

impl fmt::Display for BodyOverBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the server is reading too many request bodies at once (its body budget); try again",
        )
    }
}

impl std::error::Error for BodyOverBudget {}

/// Whether `error` (or what caused it) is an `E`.
pub(super) fn caused_by<E: std::error::Error + 'static>(
    error: &(dyn std::error::Error + 'static),
) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if e.is::<E>() {
            return true;
        }
        current = e.source();
    }
    false
}

/// Whether `error` (or what caused it) is a body deadline.
pub(crate) fn is_body_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    caused_by::<BodyTimedOut>(error)
}
