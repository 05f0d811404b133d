//! Reading signals from a request: the [`Signals`] extractor and the functions behind it.
//!
//! Files: the extractor and where a request's signals are in `extract.rs`; the settings in
//! `config.rs`; reading a body under its limit in `body.rs`, and the errors the server's body
//! deadline and budget end one with in `body_error.rs`; the `datastar` query parameter in
//! `query.rs`; JSON parsing in `parse.rs`; [`SignalsRejection`] in `rejection.rs`.

mod body;
mod body_error;
mod config;
mod extract;
mod parse;
mod query;
mod rejection;

pub(crate) use body::{declared_length, read_body};
pub(crate) use body_error::{BodyOverBudget, BodyTimedOut};
pub use config::{DEFAULT_SIGNALS_LIMIT, SignalsConfig};
pub use extract::{Signals, read_signals};
pub use parse::parse_signals;
pub use query::signals_from_query;
pub(crate) use query::{query_param, reads_query};
pub use rejection::SignalsRejection;
