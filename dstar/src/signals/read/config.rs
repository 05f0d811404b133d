//! [`SignalsConfig`]: how large a signals payload may be.

/// The default largest signals payload: 1 MiB.
///
/// ```
/// assert_eq!(dstar::signals::DEFAULT_SIGNALS_LIMIT, 1024 * 1024);
/// ```
pub const DEFAULT_SIGNALS_LIMIT: usize = 1 << 20;

/// Settings for reading signals. Add it as a request extension to change the limit.
///
/// ```
/// use dstar::signals::SignalsConfig;
/// let app: axum::Router = axum::Router::new()
///     .layer(axum::Extension(SignalsConfig::default().limit(64 * 1024)));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SignalsConfig {
    limit: usize,
}

impl Default for SignalsConfig {
    fn default() -> Self {
        SignalsConfig {
            limit: DEFAULT_SIGNALS_LIMIT,
        }
    }
}

impl SignalsConfig {
    /// The largest accepted payload in bytes; bigger ones get a 413.
    ///
    /// ```
    /// assert_eq!(dstar::signals::SignalsConfig::default().limit(10).max_bytes(), 10);
    /// ```
    pub fn limit(mut self, bytes: usize) -> Self {
        self.limit = bytes;
        self
    }

    /// The configured limit.
    ///
    /// ```
    /// assert_eq!(dstar::signals::SignalsConfig::default().max_bytes(), 1 << 20);
    /// ```
    pub fn max_bytes(&self) -> usize {
        self.limit
    }

    /// The limit a request's extensions set ([`DEFAULT_SIGNALS_LIMIT`] without this config).
    pub(crate) fn limit_of(extensions: &axum::http::Extensions) -> usize {
        extensions
            .get::<SignalsConfig>()
            .map_or(DEFAULT_SIGNALS_LIMIT, SignalsConfig::max_bytes)
    }
}
