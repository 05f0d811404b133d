//! What an [`App`] serves, for the start-up listing: every route, and the notes a person
//! deploying should read.

use super::App;
use crate::event::RouteInfo;

impl App {
    /// Lines for the start-up listing: what a person deploying should know.
    pub(crate) fn startup_notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(csrf) = &self.csrf {
            notes.push(format!("CSRF tokens on; key {}", csrf.key().source()));
        }
        if !self.cross_origin {
            notes.push("cross-origin protection OFF".to_owned());
        }
        if let Some(sessions) = &self.sessions {
            notes.push(format!("sessions on; sign-in at {}", sessions.sign_in()));
        }
        if self.plain.iter().any(|p| !p.listed) {
            notes.push("and the routes of a merged axum::Router (not listed)".to_owned());
        }
        notes
    }

    /// Every route, `(method, path)`, for start-up listings.
    ///
    /// ```
    /// for route in dstar::App::new().routes() {
    ///     println!("{:<6} {}", route.method, route.path);
    /// }
    /// ```
    pub fn routes(&self) -> Vec<RouteInfo> {
        let mut routes: Vec<RouteInfo> = self
            .pages
            .iter()
            .flat_map(|p| p.routes.iter().copied())
            .collect();
        for component in &self.components {
            routes.extend_from_slice(component.routes(&self.dispatch_base));
        }
        for plain in &self.plain {
            routes.extend_from_slice(&plain.listing);
        }
        if self.stats_token.is_some() {
            routes.push(RouteInfo {
                method: "GET",
                path: crate::stream::STATS_PATH,
            });
        }
        if std::env::var_os("DSTAR_CLIENT_FILE").is_some() {
            routes.push(RouteInfo {
                method: "GET",
                path: crate::page::CLIENT_PATH,
            });
        }
        routes
    }
}
