//! What a page's `on_message` may return.

use crate::sse::Sse;
use std::fmt;

/// The result of a page's `on_message`: `()` (handled), `bool` (`false`: not for this page,
/// logged at debug level), or `Result<(), E: Display>` (an error: logged, and shown in the browser
/// console in debug builds). The loop goes on in every case.
pub trait MessageOutcome {
    /// Reports the outcome into `sse`.
    fn report(self, page: &str, sse: &mut Sse);
}

impl MessageOutcome for () {
    fn report(self, _page: &str, _sse: &mut Sse) {}
}

impl MessageOutcome for bool {
    fn report(self, page: &str, _sse: &mut Sse) {
        if !self {
            tracing::debug!(page, "dstar stream: unhandled message");
        }
    }
}

impl<E: fmt::Display> MessageOutcome for Result<(), E> {
    fn report(self, page: &str, sse: &mut Sse) {
        if let Err(e) = self {
            sse.report_error(&format_args!("{page}/on_message: {e}"));
        }
    }
}
