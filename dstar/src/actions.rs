//! Datastar action expressions (`@post('/url', {…})`) for templates.
//!
//! Use them as attribute values: `button data-on:click=(dstar::actions::post("/counter/increment"))`.
//! Handler modules (components) get stable, readable URL names from [`encode_module`].

use crate::error::Error;
use crate::scripts::is_markup_sensitive;
use std::fmt::{self, Write as _};

/// An HTTP verb of a Datastar action.
///
/// ```
/// use dstar::actions::{post, Verb};
/// assert_eq!(post("/x").verb(Verb::Put).to_string(), "@put('/x')");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// `@get`
    Get,
    /// `@post`
    Post,
    /// `@put`
    Put,
    /// `@patch`
    Patch,
    /// `@delete`
    Delete,
}

impl Verb {
    /// The action name without `@`.
    ///
    /// ```
    /// assert_eq!(dstar::actions::Verb::Delete.as_str(), "delete");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Post => "post",
            Verb::Put => "put",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
        }
    }
}

/// The browser-side expression for the current path with leading slashes collapsed and trailing
/// slashes trimmed.
const PAGE_PATH_JS: &str = r"location.pathname.replace(/^\/+/, '/').replace(/\/+$/, '')";

/// The default base path component events are routed under.
///
/// ```
/// assert_eq!(dstar::actions::DEFAULT_DISPATCH_BASE, "/ds");
/// ```
pub const DEFAULT_DISPATCH_BASE: &str = "/ds";

/// A Datastar action expression. Render it with `Display` or directly in a maud template.
///
/// ```
/// use dstar::actions::{post, Action, Verb};
/// assert_eq!(post("/ticker").options("{retryMaxCount: Infinity}").to_string(),
///            "@post('/ticker', {retryMaxCount: Infinity})");
/// let markup = maud::html! { button data-on:click=(post("/counter/increment")) { "+1" } };
/// assert_eq!(markup.into_string(),
///            r#"<button data-on:click="@post('/counter/increment')">+1</button>"#);
/// ```
#[must_use]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    verb: Verb,
    /// A JS expression that evaluates to the URL.
    url_js: String,
    options: Option<String>,
}

impl Action {
    /// An action to a fixed URL.
    ///
    /// ```
    /// let a = dstar::actions::Action::new(dstar::actions::Verb::Put, "/items/1");
    /// assert_eq!(a.to_string(), "@put('/items/1')");
    /// ```
    pub fn new(verb: Verb, url: &str) -> Self {
        Action {
            verb,
            url_js: js_single_quoted(url),
            options: None,
        }
    }

    /// An action whose URL is a JavaScript expression evaluated in the browser, e.g.
    /// `location.pathname + '/_event/x'`. The expression is inserted as it is: never build it from
    /// user input.
    ///
    /// ```
    /// let a = dstar::actions::Action::from_js(dstar::actions::Verb::Post, "location.pathname");
    /// assert_eq!(a.to_string(), "@post(location.pathname)");
    /// ```
    pub fn from_js(verb: Verb, url_expression: impl Into<String>) -> Self {
        Action {
            verb,
            url_js: url_expression.into(),
            options: None,
        }
    }

    /// An action to a handler module's event, `{prefix}/ds/{module}/{event}`. `module` is a Rust
    /// type path such as `my_app::widgets::Drawer`. It uses the default base `/ds`, not
    /// [`App::dispatch_base`](crate::App::dispatch_base); component actions rendered by dstar
    /// (`event(…)`, `post!`) follow the app's base.
    ///
    /// ```
    /// use dstar::actions::{Action, Verb};
    /// let a = Action::for_module(Verb::Post, "my_app::counter::CounterHandler", "increment")?;
    /// assert_eq!(a.to_string(), "@post('/ds/my_app-counter-CounterHandler/increment')");
    /// let a = Action::for_module(Verb::Delete, "app::Todo", "remove")?.prefix("/admin");
    /// assert_eq!(a.to_string(), "@delete('/admin/ds/app-Todo/remove')");
    /// # Ok::<(), dstar::Error>(())
    /// ```
    pub fn for_module(verb: Verb, module: &str, event: &str) -> Result<Self, Error> {
        let url = format!(
            "{DEFAULT_DISPATCH_BASE}/{}/{}",
            encode_module(module),
            encode_segment(event)?
        );
        Ok(Action::new(verb, &url))
    }

    /// The action for a page event: the current path (leading slashes collapsed, trailing ones
    /// trimmed) plus `/_event/{name}`, resolved in the browser. The name is percent-encoded.
    /// `#[dstar::page]` checks names at compile time; this is the unchecked building block.
    ///
    /// ```
    /// use dstar::actions::{Action, Verb};
    /// assert_eq!(
    ///     Action::page_event(Verb::Post, "toggle:1").to_string(),
    ///     "@post(location.pathname.replace(/^\\/+/, '/').replace(/\\/+$/, '') + '/_event/toggle%3A1')"
    /// );
    /// ```
    pub fn page_event(verb: Verb, name: &str) -> Self {
        let segment = encode_segment(name).unwrap_or_else(|_| "_invalid".to_owned());
        Action::from_js(
            verb,
            format!(
                "{PAGE_PATH_JS} + {}",
                js_single_quoted(&format!("/_event/{segment}"))
            ),
        )
    }

    /// The action for the page's own path (a page stream): leading slashes collapsed, trailing
    /// ones trimmed, resolved in the browser.
    ///
    /// ```
    /// use dstar::actions::{Action, Verb};
    /// assert_eq!(
    ///     Action::current_path(Verb::Post).to_string(),
    ///     "@post(location.pathname.replace(/^\\/+/, '/').replace(/\\/+$/, ''))"
    /// );
    /// ```
    pub fn current_path(verb: Verb) -> Self {
        Action::from_js(verb, PAGE_PATH_JS)
    }

    /// Appends the page's query string (`location.search`) to the URL.
    ///
    /// ```
    /// let a = dstar::actions::post("/search").with_search();
    /// assert_eq!(a.to_string(), "@post('/search' + location.search)");
    /// ```
    pub fn with_search(mut self) -> Self {
        self.url_js.push_str(" + location.search");
        self
    }

    /// Changes the HTTP verb.
    ///
    /// ```
    /// use dstar::actions::{post, Verb};
    /// assert_eq!(post("/x").verb(Verb::Get).to_string(), "@get('/x')");
    /// ```
    pub fn verb(mut self, verb: Verb) -> Self {
        self.verb = verb;
        self
    }

    /// Puts a URL prefix (an app mounted under a path) before a fixed URL.
    ///
    /// ```
    /// assert_eq!(dstar::actions::get("/search").prefix("/app/").to_string(), "@get('/app/search')");
    /// ```
    pub fn prefix(mut self, prefix: &str) -> Self {
        let prefix = prefix.trim_end_matches('/');
        if prefix.is_empty() {
            return self;
        }
        let p = js_single_quoted(prefix);
        if let (Some(p), Some(u)) = (p.strip_suffix('\''), self.url_js.strip_prefix('\'')) {
            self.url_js = format!("{p}{u}");
        } else {
            self.url_js = format!("{p} + {}", self.url_js);
        }
        self
    }

    /// Adds a Datastar options object, a JS object literal such as
    /// `{retryMaxCount: Infinity}` or `{contentType: 'form'}`.
    ///
    /// ```
    /// let a = dstar::actions::post("/f").options("{contentType: 'form'}");
    /// assert_eq!(a.to_string(), "@post('/f', {contentType: 'form'})");
    /// ```
    pub fn options(mut self, options: impl Into<String>) -> Self {
        self.options = Some(options.into());
        self
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}({}", self.verb.as_str(), self.url_js)?;
        if let Some(options) = &self.options {
            write!(f, ", {options}")?;
        }
        f.write_char(')')
    }
}

impl maud::Render for Action {
    fn render_to(&self, buffer: &mut String) {
        let mut escaper = maud::Escaper::new(buffer);
        let _ = write!(escaper, "{self}");
    }
}

/// `@get('url')`.
///
/// ```
/// assert_eq!(dstar::actions::get("/a").to_string(), "@get('/a')");
/// ```
pub fn get(url: &str) -> Action {
    Action::new(Verb::Get, url)
}
/// `@post('url')`.
///
/// ```
/// assert_eq!(dstar::actions::post("/a").to_string(), "@post('/a')");
/// ```
pub fn post(url: &str) -> Action {
    Action::new(Verb::Post, url)
}
/// `@put('url')`.
///
/// ```
/// assert_eq!(dstar::actions::put("/a").to_string(), "@put('/a')");
/// ```
pub fn put(url: &str) -> Action {
    Action::new(Verb::Put, url)
}
/// `@patch('url')`.
///
/// ```
/// assert_eq!(dstar::actions::patch("/a").to_string(), "@patch('/a')");
/// ```
pub fn patch(url: &str) -> Action {
    Action::new(Verb::Patch, url)
}
/// `@delete('url')`.
///
/// ```
/// assert_eq!(dstar::actions::delete("/a").to_string(), "@delete('/a')");
/// ```
pub fn delete(url: &str) -> Action {
    Action::new(Verb::Delete, url)
}

/// Encodes a Rust type path as a URL segment: `::` becomes `-`, identifiers are kept as they are
/// (`r#` is dropped), and any non-ASCII byte is percent-encoded. `-` never occurs in an identifier,
/// so [`decode_module`] gives the exact path back.
///
/// ```
/// use dstar::actions::{decode_module, encode_module};
/// assert_eq!(encode_module("my_app::web::CounterHandler"), "my_app-web-CounterHandler");
/// assert_eq!(decode_module("my_app-web-CounterHandler").as_deref(), Some("my_app::web::CounterHandler"));
/// ```
pub fn encode_module(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for (i, seg) in path.split("::").map(str::trim).enumerate() {
        if i > 0 {
            out.push('-');
        }
        let seg = seg.strip_prefix("r#").unwrap_or(seg);
        out.extend(percent_encoding::utf8_percent_encode(seg, IDENTIFIER));
    }
    out
}

/// Decodes [`encode_module`]'s output back to a type path, or `None` when it is not a valid
/// encoding of identifiers. Dispatch never uses this to find code: the registry is the allowlist.
///
/// ```
/// assert_eq!(dstar::actions::decode_module("a-B").as_deref(), Some("a::B"));
/// assert_eq!(dstar::actions::decode_module("a--B"), None);
/// assert_eq!(dstar::actions::decode_module("a-1x"), None);
/// assert_eq!(dstar::actions::decode_module("caf%C3%A9-Menu").as_deref(), Some("café::Menu"));
/// ```
pub fn decode_module(encoded: &str) -> Option<String> {
    let mut out = String::with_capacity(encoded.len() + 8);
    for (i, seg) in encoded.split('-').enumerate() {
        let bytes = seg.as_bytes();
        let mut raw = Vec::with_capacity(bytes.len());
        let mut j = 0;
        while j < bytes.len() {
            match bytes[j] {
                b'%' => {
                    // Only non-ASCII bytes are ever escaped, and with upper-case hex: anything
                    // else is not the one encoding `encode_module` gives, so it is refused.
                    let digits = bytes.get(j + 1..j + 3)?;
                    if digits.iter().any(u8::is_ascii_lowercase) {
                        return None;
                    }
                    let mut byte = [0u8];
                    hex::decode_to_slice(digits, &mut byte).ok()?;
                    if byte[0] < 0x80 {
                        return None;
                    }
                    raw.push(byte[0]);
                    j += 3;
                }
                b if b.is_ascii_alphanumeric() || b == b'_' => {
                    raw.push(b);
                    j += 1;
                }
                _ => return None,
            }
        }
        let ident = String::from_utf8(raw).ok()?;
        if !is_identifier(&ident) {
            return None;
        }
        if i > 0 {
            out.push_str("::");
        }
        out.push_str(&ident);
    }
    Some(out)
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c == '_' || c.is_alphabetic() => {}
        _ => return false,
    }
    s != "_" && chars.all(|c| c == '_' || c.is_alphanumeric())
}

/// Percent-encodes a path segment (an event name): every byte except `A-Z a-z 0-9 - _ ~`.
/// `""`, `.` and `..` are refused, since they would change the path.
///
/// ```
/// assert_eq!(dstar::actions::encode_segment("toggle:123")?, "toggle%3A123");
/// assert!(dstar::actions::encode_segment("..").is_err());
/// # Ok::<(), dstar::Error>(())
/// ```
pub fn encode_segment(name: &str) -> Result<String, Error> {
    if name.is_empty() || name == "." || name == ".." {
        return Err(Error::InvalidEventName(name.to_owned()));
    }
    Ok(percent_encode(name))
}

/// Percent-encodes every byte but `A-Z a-z 0-9 - _ ~`. The dot is encoded too, so no value can
/// become a `.` or `..` path segment that a browser would resolve.
///
/// ```
/// assert_eq!(dstar::actions::percent_encode("a b/../é"), "a%20b%2F%2E%2E%2F%C3%A9");
/// ```
pub fn percent_encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, SEGMENT).to_string()
}

/// What [`percent_encode`] keeps: `A-Z a-z 0-9 - _ ~`.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'~');

/// What [`encode_module`] keeps of an identifier: `A-Z a-z 0-9 _`.
const IDENTIFIER: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'_');

/// A single-quoted JS string literal that is also safe inside an HTML attribute and a `<script>`.
///
/// Use it for a plain string inside JS written by hand with single quotes, as action expressions
/// are (`@post('/url')`). For any `Serialize` value (objects, numbers, signal values), or where the
/// literal should also be JSON (double-quoted), use [`js_literal`](crate::scripts::js_literal).
/// Both escape the same markup characters; this one also escapes `"` and control characters (as
/// `\xNN`) and the backslash.
///
/// ```
/// assert_eq!(dstar::actions::js_single_quoted("/it's"), r"'/it\x27s'");
/// ```
pub fn js_single_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\\' {
            out.push_str("\\\\");
        } else if is_markup_sensitive(c) || c == '"' || c.is_ascii_control() {
            // `\xNN` where a byte is enough, `\uNNNN` beyond (U+2028, U+2029)
            let code = c as u32;
            let _ = if code <= 0xff {
                write!(out, "\\x{code:02x}")
            } else {
                write!(out, "\\u{code:04x}")
            };
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}
