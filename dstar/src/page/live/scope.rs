//! What a live page's render depends on, read from `mount`'s extractor types.
//!
//! The macro cannot know what a type reads, but the compiler does: for each extractor type `T`,
//! the generated code calls `(&&Probe::<T>::new()).render_scope()`. Method lookup tries
//! [`KnownScope`] first (implemented for axum's `State`, `Path`, `Query`, … only) and falls back
//! to [`ViewerScope`] for every other type. So an extractor of the user's own, or one from another
//! crate, is per viewer: the safe side.

use axum::extract::{MatchedPath, OriginalUri, Path, Query, RawQuery, State};
use std::marker::PhantomData;

/// What a live page's render depends on, and so who shares it.
///
/// `#[dstar::page]` reads it from `mount`'s extractors: the widest of them decides.
///
/// ```
/// use dstar::page::RenderScope;
/// let uri: axum::http::Uri = "/boards/7?tab=top".parse().unwrap();
/// assert_eq!(RenderScope::Shared.key(&uri).as_deref(), Some(""));
/// assert_eq!(RenderScope::Uri.key(&uri).as_deref(), Some("/boards/7?tab=top"));
/// assert_eq!(RenderScope::Viewer.key(&uri), None);
/// assert_eq!(RenderScope::Shared.and(RenderScope::Uri), RenderScope::Uri);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RenderScope {
    /// `mount` reads only `State` (or there is no `mount`): one render for every viewer.
    Shared,
    /// `mount` reads the URI (`Path`, `Query`, `RawQuery`, `OriginalUri`, `Uri`,
    /// `MatchedPath`) and `State`: one render per path and query.
    Uri,
    /// `mount` reads something else (cookies, headers, the session, `CurrentUser`, an extractor
    /// of your own): one render per viewer, with the viewer's own request.
    Viewer,
}

impl RenderScope {
    /// The wider of the two.
    #[must_use]
    pub const fn and(self, other: RenderScope) -> RenderScope {
        if (self as u8) < (other as u8) {
            other
        } else {
            self
        }
    }

    /// The key viewers of `uri` share a render under; `None` when each renders its own.
    pub fn key(self, uri: &axum::http::Uri) -> Option<String> {
        match self {
            RenderScope::Shared => Some(String::new()),
            RenderScope::Uri => Some(
                uri.path_and_query()
                    .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned()),
            ),
            RenderScope::Viewer => None,
        }
    }

    /// [`key`](RenderScope::key) for a request: per URI, the URI as the client sent it (the
    /// router's `OriginalUri`, so a page nested under `/{tenant}` keys each tenant apart) and
    /// the host it was sent to.
    pub fn key_of(self, parts: &axum::http::request::Parts) -> Option<String> {
        if self != RenderScope::Uri {
            return self.key(&parts.uri);
        }
        let uri = parts
            .extensions
            .get::<OriginalUri>()
            .map_or(&parts.uri, |original| &original.0);
        let host = parts
            .headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| uri.authority().map(|a| a.as_str()))
            .unwrap_or("");
        self.key(uri).map(|path| format!("{host}\u{1f}{path}"))
    }
}

/// A type to ask the scope of (see the module doc).
pub struct Probe<T: ?Sized>(PhantomData<fn() -> PhantomData<T>>);

impl<T: ?Sized> Default for Probe<T> {
    fn default() -> Self {
        Probe::new()
    }
}

impl<T: ?Sized> Probe<T> {
    /// The probe of `T`.
    pub const fn new() -> Self {
        Probe(PhantomData)
    }
}

/// The scope of every extractor not known to [`KnownScope`]: per viewer.
pub trait ViewerScope {
    /// [`RenderScope::Viewer`].
    fn render_scope(self) -> RenderScope
    where
        Self: Sized,
    {
        RenderScope::Viewer
    }
}

impl<T: ?Sized> ViewerScope for &Probe<T> {}

/// The scope of the extractors whose reads dstar knows.
pub trait KnownScope {
    /// What a render that reads this extractor depends on.
    fn render_scope(self) -> RenderScope;
}

impl<T> KnownScope for &&Probe<State<T>> {
    fn render_scope(self) -> RenderScope {
        RenderScope::Shared
    }
}

macro_rules! uri_scoped {
    ($($ty:ty $(, $param:ident)?;)*) => {$(
        impl$(<$param>)? KnownScope for &&Probe<$ty> {
            fn render_scope(self) -> RenderScope {
                RenderScope::Uri
            }
        }
    )*};
}

uri_scoped! {
    Path<T>, T;
    Query<T>, T;
    RawQuery;
    OriginalUri;
    MatchedPath;
    axum::http::Uri;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(unused_imports)]
    use super::{KnownScope as _, ViewerScope as _};

    // the two references are the point: method lookup tries `&&Probe<T>` (known types) first
    #[allow(clippy::needless_borrow)]
    #[test]
    fn the_compiler_picks_the_scope_by_type() {
        assert_eq!(
            (&&Probe::<State<u8>>::new()).render_scope(),
            RenderScope::Shared
        );
        assert_eq!(
            (&&Probe::<Path<(String, u32)>>::new()).render_scope(),
            RenderScope::Uri
        );
        assert_eq!(
            (&&Probe::<Query<Vec<u8>>>::new()).render_scope(),
            RenderScope::Uri
        );
        assert_eq!(
            (&&Probe::<axum::http::HeaderMap>::new()).render_scope(),
            RenderScope::Viewer
        );
        assert_eq!(
            (&&Probe::<Option<State<u8>>>::new()).render_scope(),
            RenderScope::Viewer
        );
        assert_eq!(
            (&&Probe::<crate::session::Session>::new()).render_scope(),
            RenderScope::Viewer
        );
    }
}
