//! Signals: read them from a request, patch them, remove them.
//!
//! - [`Signals`] is the axum extractor (typed or untyped);
//! - [`PatchSignals`] is the patch-signals event (any `Serialize` value, or raw JSON);
//! - [`RemoveSignals`] turns dot paths into one RFC 7386 merge patch with `null` leaves.

mod patch;
pub(crate) mod read;
mod remove;

pub use patch::{PatchSignals, RawJson};
pub use read::{
    DEFAULT_SIGNALS_LIMIT, Signals, SignalsConfig, SignalsRejection, parse_signals, read_signals,
    signals_from_query,
};
pub use remove::{RemoveSignals, SignalPaths, remove_patch};

use crate::error::Error;

impl crate::sse::Sse {
    /// Patches signals with any `Serialize` value that is a JSON object (a merge patch).
    ///
    /// A value that fails to serialize, or is not an object, is a bug in the caller: it is logged
    /// and, in debug builds, shown in the browser console; use [`send`](crate::Sse::send) with
    /// [`PatchSignals`] to handle it yourself.
    ///
    /// ```
    /// let mut sse = dstar::Sse::new();
    /// sse.patch_signals(serde_json::json!({ "count": 42 }));
    /// assert_eq!(&sse.as_bytes()[..], b"event: datastar-patch-signals\ndata: signals {\"count\":42}\n\n");
    /// ```
    pub fn patch_signals(&mut self, signals: impl serde::Serialize) -> &mut Self {
        self.send_or_report(PatchSignals::new(signals))
    }

    /// Removes signals by dot path: one path or many, merged into one patch. Fails on an empty
    /// path or a leading, trailing or doubled dot, writing nothing.
    ///
    /// ```
    /// let mut sse = dstar::Sse::new();
    /// sse.remove_signals(["user", "session"])?;
    /// assert!(sse.as_bytes().ends_with(b"data: signals {\"session\":null,\"user\":null}\n\n"));
    /// # Ok::<(), dstar::Error>(())
    /// ```
    pub fn remove_signals(&mut self, paths: impl SignalPaths) -> Result<&mut Self, Error> {
        self.send(RemoveSignals::new(paths))
    }
}
