use maud::{DOCTYPE, Markup, html};

/// What a layout gets besides the page body.
///
/// ```
/// let ctx = dstar::page::PageContext {
///     title: "Home", client_src: "/datastar.js", client_integrity: None, csrf: None, dispatch_base: "/ds",
///     rendered: std::time::UNIX_EPOCH, flash: None, nonce: None,
/// };
/// let html = dstar::page::default_layout(&ctx, maud::html! {}).into_string();
/// assert!(html.contains("<title>Home</title>"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct PageContext<'a> {
    /// The page title.
    pub title: &'a str,
    /// The Datastar client script URL (see [`client_src`](super::client_src)).
    pub client_src: &'a str,
    /// Its Subresource Integrity hash (see [`client_integrity`](super::client_integrity)).
    pub client_integrity: Option<&'a str>,
    /// A masked CSRF token when the [`Csrf`](crate::csrf::Csrf) layer runs, for
    /// `data-signals:csrf` on `<body>` (see [`csrf_signal`]).
    pub csrf: Option<&'a str>,
    /// Where the browser sends component events (see [`DispatchBase`](crate::event::DispatchBase)),
    /// for `<body data-ds-base>`.
    pub dispatch_base: &'a str,
    /// When the page's render began (before `mount` read any state), for
    /// `<body data-ds-rendered>`: the page's stream sends it back, and renders the page again if
    /// a message on its topics came after it.
    pub rendered: std::time::SystemTime,
    /// The signed flash message this page shows, if any (see [`crate::flash`]), for
    /// `<body data-ds-flash>`: the page's stream sends it back, so live re-renders show it too.
    pub flash: Option<&'a str>,
    /// The nonce of the page's scripts under a strict Content Security Policy
    /// ([`SecurityHeaders::strict_csp`](crate::headers::SecurityHeaders::strict_csp)):
    /// [`client_script`](PageContext::client_script) puts it on every script it writes.
    pub nonce: Option<&'a str>,
}

impl PageContext<'_> {
    /// The document's `<body>` around `content`, with what dstar needs on it: the `tabId` signal
    /// (per-tab stream deduplication, see [`tab_id_signal`]), the `csrf` signal when the
    /// [`Csrf`](crate::csrf::Csrf) layer runs (without it every event is refused), and
    /// `data-ds-base` (where component events go), and `data-ds-rendered` (the render time, so
    /// the page's stream knows whether the page went stale while it loaded). Custom layouts use
    /// it; a layout that writes its own `<body>` must copy these attributes from
    /// [`default_layout`].
    ///
    /// ```
    /// let ctx = dstar::page::PageContext {
    ///     title: "t", client_src: "/ds.js", client_integrity: None, csrf: Some("tok"), dispatch_base: "/ds",
    ///     rendered: std::time::UNIX_EPOCH, flash: None, nonce: None,
    /// };
    /// let body = ctx.body(maud::html! { p { "hi" } }).into_string();
    /// assert!(body.starts_with("<body data-signals:tab-id="));
    /// assert!(body.contains(r#"data-signals:csrf="&quot;tok&quot;""#));
    /// assert!(body.ends_with(r#"data-ds-base="/ds" data-ds-rendered="0"><p>hi</p></body>"#));
    /// ```
    pub fn body(&self, content: Markup) -> Markup {
        html! {
            body data-signals:tab-id=(tab_id_signal())
                data-signals:csrf=[self.csrf.map(csrf_signal)]
                data-ds-base=(self.dispatch_base)
                data-ds-rendered=(render_millis(self.rendered))
                data-ds-flash=[self.flash] {
                (content)
            }
        }
    }

    /// The `<script type="module">` tag that loads the Datastar client, with its integrity hash
    /// when there is one, then `<meta name="dstar-csrf">` with the CSRF token when there is one,
    /// and dstar's inline [`glue_script`](super::glue_script) (the token as a header, refusals
    /// shown in the page, streams closed on `pagehide`). Custom layouts put it in `<head>`.
    ///
    /// ```
    /// let ctx = dstar::page::PageContext {
    ///     title: "t", client_src: "https://cdn.example/ds.js", client_integrity: Some("sha384-abc"), csrf: Some("t0k"), dispatch_base: "/ds",
    ///     rendered: std::time::UNIX_EPOCH, flash: None, nonce: None,
    /// };
    /// let html = ctx.client_script().into_string();
    /// assert!(html.starts_with(
    ///     r#"<script type="module" src="https://cdn.example/ds.js" integrity="sha384-abc" crossorigin="anonymous"></script><meta name="dstar-csrf" content="t0k"><script>"#
    /// ));
    /// ```
    pub fn client_script(&self) -> Markup {
        html! {
            script type="module" src=(self.client_src)
                integrity=[self.client_integrity]
                crossorigin=[self.client_integrity.map(|_| "anonymous")]
                nonce=[self.nonce] {}
            @if let Some(token) = self.csrf {
                meta name="dstar-csrf" content=(token);
            }
            (super::glue::glue_script_with_nonce(self.nonce))
        }
    }
}

/// A render time as the page carries it: milliseconds since the Unix epoch.
pub(crate) fn render_millis(at: std::time::SystemTime) -> u64 {
    at.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The `data-signals:csrf` value for a token: a JS string literal, so every Datastar request
/// carries the token as the `csrf` signal.
///
/// ```
/// assert_eq!(dstar::page::csrf_signal("ab12"), r#""ab12""#);
/// ```
pub fn csrf_signal(token: &str) -> String {
    crate::scripts::js_literal(token)
}

/// A root layout: wraps a page body into a whole document. Replace the default with
/// `#[dstar::page("/path", layout = my_layout)]`. It must load the client
/// ([`PageContext::client_script`]) and write `<body>` with [`PageContext::body`] (or copy its
/// attributes): without them events and streams do not work.
///
/// ```
/// use dstar::prelude::*;
/// fn my_layout(ctx: &dstar::page::PageContext, body: Markup) -> Markup {
///     html! {
///         (DOCTYPE)
///         html { head { title { (ctx.title) } (ctx.client_script()) }
///                (ctx.body(html! { main.app { (body) } })) }
///     }
/// }
/// let _: dstar::page::Layout = my_layout;
/// ```
pub type Layout = fn(&PageContext<'_>, Markup) -> Markup;

/// The default layout: a UTF-8 HTML5 document with the title, the Datastar client script, a
/// `tabId` signal on `<body>` (see [`tab_id_signal`]) and `data-ds-base`, the component dispatch
/// base the browser resolves component events against.
///
/// ```
/// let page = dstar::page::default_layout(
///     &dstar::page::PageContext {
///         title: "Counter", client_src: "/datastar.js", client_integrity: None, csrf: None, dispatch_base: "/ds",
///         rendered: std::time::UNIX_EPOCH, flash: None, nonce: None,
///     },
///     maud::html! { p { "hi" } },
/// ).into_string();
/// assert!(page.starts_with("<!DOCTYPE html>"));
/// assert!(page.contains("<title>Counter</title>"));
/// assert!(page.contains(r#"<script type="module" src="/datastar.js"></script>"#));
/// ```
pub fn default_layout(ctx: &PageContext<'_>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (ctx.title) }
                (ctx.client_script())
            }
            (ctx.body(body))
        }
    }
}

/// The expression for a per-tab id, for `data-signals:tab-id` on `<body>`. It reaches the server
/// as the `tabId` signal (no `_` prefix, so Datastar sends it), and keys per-tab stream
/// deduplication.
///
/// The id is unique per live tab and stable across a reload of that tab: it is taken *out* of
/// `sessionStorage` on load and written back on `pagehide`. "Duplicate tab" and `window.open` copy
/// `sessionStorage`, so a copy made while the tab is open finds nothing and draws its own id
/// (a page restored from the back/forward cache takes its id out again). Where
/// `crypto.randomUUID` is missing (plain HTTP on a LAN address is not a secure context),
/// `crypto.getRandomValues` draws it.
///
/// ```
/// let js = dstar::page::tab_id_signal();
/// assert!(js.contains("sessionStorage.removeItem"));
/// assert!(js.contains("pagehide"));
/// ```
pub fn tab_id_signal() -> &'static str {
    "(() => { const k = '_ds_tab'; let id = sessionStorage.getItem(k); sessionStorage.removeItem(k); \
     if (!id) { id = crypto.randomUUID ? crypto.randomUUID() : Array.from(crypto.getRandomValues(new Uint8Array(16)), b => b.toString(16).padStart(2, '0')).join(''); } \
     addEventListener('pagehide', () => sessionStorage.setItem(k, id)); \
     addEventListener('pageshow', e => { if (e.persisted) sessionStorage.removeItem(k); }); \
     return id; })()"
}
