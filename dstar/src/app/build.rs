//! The router an [`App`] builds: its pages, components and plain routes under dstar's own layers
//! (compression, flash, CSRF tokens, the header checks, security headers, the panic catcher), and
//! the checks that refuse a bad configuration at start-up.

use super::App;
use crate::csrf::CrossOrigin;
use crate::event::DispatchBase;
use crate::flash::{FlashKey, FlashLayer};
use axum::Router;

impl App {
    /// Builds the router. Fails, saying why, when a declared state is missing, a prefix or
    /// dispatch base is not a clean path, a trusted origin is malformed, or the stats token is
    /// shorter than 16 bytes.
    ///
    /// ```
    /// let router = dstar::App::new().try_build().expect("all states provided");
    /// ```
    pub fn try_build(self) -> Result<Router, String> {
        let mut router = crate::page::client_script_route();
        if let Some(token) = &self.stats_token {
            router = router.merge(crate::stream::stats_route(token)?);
        }
        // where component events go, prefix included: handed to every route, no per-request layer
        check_base_path("prefix", &self.prefix, true)?;
        check_base_path("dispatch_base", &self.dispatch_base, false)?;
        let base = DispatchBase::new(format!("{}{}", self.prefix, self.dispatch_base));
        for page in &self.pages {
            router = router.merge(page.build(&self.states, &base)?);
        }
        router = router.merge(crate::component::routes(
            &self.dispatch_base,
            &base,
            &self.states,
            &self.components,
        )?);
        for plain in self.plain {
            router = router.merge(plain.router);
        }
        if let Some(sessions) = &self.sessions {
            router = sessions.wrap(router);
        }
        let key = self
            .key
            .clone()
            .or_else(|| self.csrf.as_ref().map(|csrf| csrf.key().clone()));
        // dstar's own layers, composed into one, so a request pays for one boxed route, not one
        // per layer; inside out: compression, flash, tokens, the cheap header checks, the
        // security headers, and the panic catcher around it all
        let cross_origin = if self.cross_origin {
            let check = self
                .trusted
                .iter()
                .fold(CrossOrigin::new(), |check, origin| {
                    check.trust_origin(origin.clone())
                });
            Some(check.layer()?)
        } else {
            None
        };
        let layers = tower::ServiceBuilder::new()
            .layer(crate::headers::catch_panic())
            .layer(self.security_headers.layer())
            .option_layer(self.host_check)
            .option_layer(cross_origin)
            .option_layer(self.csrf.map(|csrf| csrf.layer()))
            .layer(FlashLayer::new(FlashKey::new(key)))
            .option_layer(self.compression.is_on().then(|| self.compression.layer()));
        router = router.layer(layers);
        // outside dstar's layers and inside the user's: refused requests get a span too. Only
        // when they are logged: the layer costs about as much as the page layer itself.
        if self.request_spans && request_spans_logged() {
            router = router.layer(tower_http::trace::TraceLayer::new_for_http());
        }
        for layer in self.layers {
            router = layer(router);
        }
        Ok(router)
    }

    /// Builds the router.
    ///
    /// # Panics
    ///
    /// At start-up, when a page declared with `state = T` was given no `T` (see
    /// [`try_build`](App::try_build)).
    ///
    /// ```
    /// let router: axum::Router = dstar::App::new().build();
    /// ```
    pub fn build(self) -> Router {
        match self.try_build() {
            Ok(router) => router,
            Err(e) => panic!("dstar: {e}"),
        }
    }
}

/// Whether tower-http's request spans and responses are logged (`RUST_LOG=tower_http=debug`):
/// the `TraceLayer` is added only then, as it costs about as much as the page layer itself.
pub(crate) fn request_spans_logged() -> bool {
    tracing::enabled!(target: "tower_http::trace::on_response", tracing::Level::DEBUG)
}

/// A prefix or dispatch base must be a clean absolute path: it becomes part of every component
/// action's URL, where `//host`, `..`, a query or a route pattern would send events elsewhere.
fn check_base_path(what: &str, path: &str, may_be_empty: bool) -> Result<(), String> {
    if path.is_empty() && may_be_empty {
        return Ok(());
    }
    let clean = path.len() > 1
        && path.starts_with('/')
        && !path.contains("//")
        && !path.ends_with('/')
        && !path
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || "\\?#{}'\"<>".contains(c))
        && !path.split('/').any(|s| s == "." || s == "..");
    if clean {
        Ok(())
    } else {
        Err(format!(
            "`App::{what}` is {path:?}: use a clean absolute path such as \"/admin\" (not the root, no `//`, `..`, `?`, `#`, braces or quotes)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::check_base_path;

    #[test]
    fn bases_that_would_send_events_elsewhere_are_refused() {
        for bad in [
            "/",
            "//evil.example",
            "/a/../b",
            "/a?x",
            "/{x}",
            "/a'b",
            "/a b",
        ] {
            assert!(
                check_base_path("dispatch_base", bad, false).is_err(),
                "{bad}"
            );
        }
        assert!(check_base_path("dispatch_base", "", false).is_err());
        assert!(check_base_path("prefix", "", true).is_ok());
        assert!(check_base_path("dispatch_base", "/ds", false).is_ok());
        assert!(check_base_path("prefix", "/admin/v2", true).is_ok());
    }
}
