//! Run JavaScript in the browser: [`ExecuteScript`], [`Redirect`] and [`ConsoleLog`].
//!
//! Datastar v1 has no script event: a script is a `<script>` appended to `<body>` by a
//! patch-elements event. Anything interpolated into generated JS goes through [`js_literal`], which
//! cannot close the `<script>` element or the JS string.

use crate::error::Error;
use crate::sse::{DatastarEvent, EventMeta, EventType, EventWriter};
use bytes::BytesMut;
use serde::Serialize;
use std::borrow::Cow;
use std::fmt::Write as _;

/// Encodes a value as a JavaScript literal that is safe inside a `<script>` element and inside an
/// HTML attribute: JSON, with `<`, `>`, `&`, `'`, U+2028 and U+2029 written as `\u003c`-style escapes.
///
/// Use it for any `Serialize` value (objects, arrays, numbers, signal values, console values) and
/// wherever the literal should also be JSON; a string comes out double-quoted, quoted by
/// serde_json. For a plain string inside a single-quoted JS expression, such as an action's URL,
/// use [`js_single_quoted`](crate::actions::js_single_quoted), the one hand-written string quoter.
/// Both escape the same markup characters, listed once in `is_markup_sensitive`.
///
/// ```
/// let js = dstar::scripts::js_literal(&"</script><b>\"hi\"\u{2028}");
/// assert_eq!(js, r#""\u003c/script\u003e\u003cb\u003e\"hi\"\u2028""#);
/// assert_eq!(dstar::scripts::js_literal(&serde_json::json!({"n": 1})), r#"{"n":1}"#);
/// ```
pub fn js_literal(value: &(impl Serialize + ?Sized)) -> String {
    let json = serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned());
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        // outside its strings JSON has none of these characters, so this only touches strings
        if is_markup_sensitive(c) {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// The characters escaped in every JS literal dstar generates, whatever its quotes: `<` and `>`
/// (so `</script` and `<!--` cannot appear), `&` (a character reference in an attribute), `'`
/// (a quote of the attribute or of the surrounding JS), and U+2028 and U+2029 (line breaks to
/// older JS engines).
pub(crate) fn is_markup_sensitive(c: char) -> bool {
    matches!(c, '<' | '>' | '&' | '\'' | '\u{2028}' | '\u{2029}')
}

/// An `executeScript`: a patch-elements event appending `<script>` to `<body>`.
///
/// `auto_remove` (on by default) adds `data-effect="el.remove()"`, so the tag removes itself after
/// running. `</script` and `<!--` inside the script are escaped so the code cannot end the element.
///
/// ```
/// use dstar::scripts::ExecuteScript;
/// let e = ExecuteScript::new("console.log('hi')").attribute("type", "module")?;
/// let text = String::from_utf8(dstar::sse::format_event(&e)?.to_vec()).unwrap();
/// assert_eq!(text, "event: datastar-patch-elements\ndata: mode append\ndata: selector body\n\
///     data: elements <script data-effect=\"el.remove()\" type=\"module\">console.log('hi')</script>\n\n");
/// # Ok::<(), dstar::Error>(())
/// ```
#[must_use]
#[derive(Debug, Clone)]
pub struct ExecuteScript<'a> {
    script: Cow<'a, str>,
    auto_remove: bool,
    attributes: Vec<(String, String)>,
    meta: EventMeta,
}

impl<'a> ExecuteScript<'a> {
    /// Runs `script` in the browser.
    ///
    /// ```
    /// let e = dstar::scripts::ExecuteScript::new("alert('Hello!')");
    /// assert!(dstar::sse::format_event(&e).is_ok());
    /// ```
    pub fn new(script: impl Into<Cow<'a, str>>) -> Self {
        ExecuteScript {
            script: script.into(),
            auto_remove: true,
            attributes: Vec::new(),
            meta: EventMeta::default(),
        }
    }

    /// Remove the `<script>` tag after it runs (default `true`).
    ///
    /// ```
    /// let e = dstar::scripts::ExecuteScript::new("1").auto_remove(false);
    /// assert!(!dstar::sse::format_event(&e).unwrap().windows(9).any(|w| w == b"el.remove"));
    /// ```
    pub fn auto_remove(mut self, yes: bool) -> Self {
        self.auto_remove = yes;
        self
    }

    /// Adds an attribute to the `<script>` tag. Names must match `[A-Za-z0-9_:.-]+`; values are
    /// HTML-escaped.
    ///
    /// ```
    /// let e = dstar::scripts::ExecuteScript::new("1");
    /// assert!(e.clone().attribute("type", "module").is_ok());
    /// assert!(e.attribute("onload=\"x\"", "").is_err());
    /// ```
    pub fn attribute(mut self, name: &str, value: &str) -> Result<Self, Error> {
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'.' | b'-'));
        if !valid {
            return Err(Error::InvalidAttributeName(name.to_owned()));
        }
        self.attributes.push((name.to_owned(), value.to_owned()));
        Ok(self)
    }
}

/// An attribute value, escaped as maud escapes its own (`&`, `<`, `>`, `"`).
fn escape_attr(value: &str, out: &mut String) {
    let _ = maud::Escaper::new(out).write_str(value);
}

/// Escapes `</script` (any case) as `<\/script` and `<!--` as `<\!--`: neither can then end or
/// re-enter the script element, and both mean the same inside JS strings and regexes.
fn escape_script_body(script: &str, out: &mut String) {
    let bytes = script.as_bytes();
    let mut last = 0;
    for i in memchr::memchr_iter(b'<', bytes) {
        let rest = &bytes[i + 1..];
        let closes = rest.len() >= 7 && rest[..7].eq_ignore_ascii_case(b"/script");
        let comment = rest.starts_with(b"!--");
        if closes || comment {
            out.push_str(&script[last..=i]);
            out.push('\\');
            last = i + 1;
        }
    }
    out.push_str(&script[last..]);
}

impl DatastarEvent for ExecuteScript<'_> {
    fn write_to(&self, out: &mut BytesMut) -> Result<(), Error> {
        let mut tag = String::with_capacity(self.script.len() + 64);
        tag.push_str("<script");
        if self.auto_remove {
            tag.push_str(" data-effect=\"el.remove()\"");
        }
        for (name, value) in &self.attributes {
            let _ = write!(tag, " {name}=\"");
            escape_attr(value, &mut tag);
            tag.push('"');
        }
        tag.push('>');
        escape_script_body(&self.script, &mut tag);
        tag.push_str("</script>");
        let mut w = EventWriter::begin(out, EventType::PatchElements, &self.meta, tag.len());
        w.single("mode", "append");
        w.single("selector", "body");
        w.multi("elements", &tag);
        w.finish();
        Ok(())
    }
}

/// A browser console level for [`ConsoleLog`].
///
/// ```
/// let mut sse = dstar::Sse::new();
/// sse.console(dstar::scripts::LogLevel::Error, "boom");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogLevel {
    /// `console.log` (the default)
    #[default]
    Log,
    /// `console.info`
    Info,
    /// `console.warn`
    Warn,
    /// `console.error`
    Error,
    /// `console.debug`
    Debug,
}

impl LogLevel {
    /// The console method name.
    ///
    /// ```
    /// assert_eq!(dstar::scripts::LogLevel::Warn.as_str(), "warn");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            LogLevel::Log => "log",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
            LogLevel::Debug => "debug",
        }
    }
}

/// Logs a value to the browser's DevTools console. Strings are logged as strings; any other
/// `Serialize` value as the JS value of its JSON.
///
/// ```
/// use dstar::scripts::{ConsoleLog, LogLevel};
/// let e = ConsoleLog::new(LogLevel::Warn, "it's </script>");
/// let text = String::from_utf8(dstar::sse::format_event(&e).unwrap().to_vec()).unwrap();
/// assert!(text.contains(r#">console.warn("it\u0027s \u003c/script\u003e")</script>"#));
/// ```
#[derive(Debug, Clone)]
pub struct ConsoleLog<T> {
    level: LogLevel,
    value: T,
}

impl<T: Serialize> ConsoleLog<T> {
    /// Logs `value` at `level`.
    ///
    /// ```
    /// let e = dstar::scripts::ConsoleLog::new(dstar::scripts::LogLevel::Info, serde_json::json!({"a": 1}));
    /// assert!(dstar::sse::format_event(&e).unwrap().windows(20).any(|w| w == b"console.info({\"a\":1}"));
    /// ```
    pub fn new(level: LogLevel, value: T) -> Self {
        ConsoleLog { level, value }
    }
}

impl<T: Serialize> DatastarEvent for ConsoleLog<T> {
    fn write_to(&self, out: &mut BytesMut) -> Result<(), Error> {
        let script = format!(
            "console.{}({})",
            self.level.as_str(),
            js_literal(&self.value)
        );
        ExecuteScript::new(script).write_to(out)
    }
}

/// Sends the browser to another URL (`window.location.href = …` from a script).
///
/// By default only same-origin targets pass: a path (`/x`), a query (`?x`), a fragment (`#x`), or
/// an absolute URL on the [`origin`](Redirect::origin) you name. `javascript:`, `data:` and
/// `vbscript:` URLs, protocol-relative URLs (`//evil`, `/\evil`) and userinfo (`user@host`) are
/// refused, also after control and invisible characters are stripped the way browsers strip them.
/// [`allow_external`](Redirect::allow_external) lets other `http(s)` hosts through.
///
/// ```
/// use dstar::scripts::Redirect;
/// assert!(dstar::sse::format_event(&Redirect::to("/login")).is_ok());
/// assert!(dstar::sse::format_event(&Redirect::to("//evil.example")).is_err());
/// assert!(dstar::sse::format_event(&Redirect::to("java\tscript:alert(1)")).is_err());
/// assert!(dstar::sse::format_event(&Redirect::to("https://app.example/x").origin("https://app.example")).is_ok());
/// assert!(dstar::sse::format_event(&Redirect::to("https://other.example/").allow_external()).is_ok());
/// ```
#[derive(Debug, Clone)]
pub struct Redirect<'a> {
    url: &'a str,
    origin: Option<&'a str>,
    allow_external: bool,
}

impl<'a> Redirect<'a> {
    /// Redirects to `url`.
    ///
    /// ```
    /// let e = dstar::scripts::Redirect::to("/workspaces");
    /// let text = String::from_utf8(dstar::sse::format_event(&e).unwrap().to_vec()).unwrap();
    /// assert!(text.contains(r#"setTimeout(function(){window.location.href="/workspaces"},0)"#));
    /// ```
    pub fn to(url: &'a str) -> Self {
        Redirect {
            url,
            origin: None,
            allow_external: false,
        }
    }

    /// The app's own origin (`https://app.example`): absolute URLs on it are same-origin.
    ///
    /// ```
    /// let e = dstar::scripts::Redirect::to("https://app.example/a").origin("https://app.example");
    /// assert!(dstar::sse::format_event(&e).is_ok());
    /// ```
    pub fn origin(mut self, origin: &'a str) -> Self {
        self.origin = Some(origin);
        self
    }

    /// Allows `http`/`https` URLs on other hosts. Dangerous schemes and userinfo stay refused.
    ///
    /// ```
    /// let e = dstar::scripts::Redirect::to("https://docs.example/").allow_external();
    /// assert!(dstar::sse::format_event(&e).is_ok());
    /// ```
    pub fn allow_external(mut self) -> Self {
        self.allow_external = true;
        self
    }

    /// Checks the target without writing anything.
    ///
    /// ```
    /// assert!(dstar::scripts::Redirect::to("data:text/html,x").validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), Error> {
        let refuse = |reason| {
            Err(Error::UnsafeRedirect {
                url: self.url.to_owned(),
                reason,
            })
        };
        // Browsers drop ASCII tab/newline anywhere and C0 controls/space at the ends; we also drop
        // the invisible characters people use to hide a scheme.
        let cleaned: String = self
            .url
            .chars()
            .filter(|c| !is_control_or_invisible(*c))
            .collect();
        let cleaned = cleaned.trim_matches(|c: char| c == ' ');
        if cleaned.is_empty() {
            return refuse("it is empty");
        }
        let lower = cleaned.to_ascii_lowercase();
        for scheme in ["javascript:", "data:", "vbscript:"] {
            if lower.starts_with(scheme) {
                return refuse("script and data URLs are never allowed");
            }
        }
        let normalized = lower.replace('\\', "/");
        if normalized.starts_with("//") {
            return refuse("protocol-relative URLs can leave the site");
        }
        if normalized.starts_with('/') || normalized.starts_with('?') || normalized.starts_with('#')
        {
            return Ok(());
        }
        let Some(rest) = normalized
            .strip_prefix("https://")
            .or_else(|| normalized.strip_prefix("http://"))
        else {
            return refuse("use a path starting with `/`, `?` or `#`, or an http(s) URL");
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if authority.contains('@') {
            return refuse("URLs with userinfo (`user@host`) are refused");
        }
        if authority.is_empty() {
            return refuse("the URL has no host");
        }
        if self.allow_external {
            return Ok(());
        }
        let same = self.origin.is_some_and(|origin| {
            let origin = origin.trim_end_matches('/').to_ascii_lowercase();
            let scheme_len = normalized.len() - rest.len();
            normalized[..scheme_len + authority.len()] == origin
        });
        if same {
            Ok(())
        } else {
            refuse("it is not same-origin; call `.allow_external()` to allow other hosts")
        }
    }
}

fn is_control_or_invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFF8}'
        )
}

impl DatastarEvent for Redirect<'_> {
    fn write_to(&self, out: &mut BytesMut) -> Result<(), Error> {
        self.validate()?;
        let script = format!(
            "setTimeout(function(){{window.location.href={}}},0)",
            js_literal(self.url)
        );
        ExecuteScript::new(script).write_to(out)
    }
}

impl crate::sse::Sse {
    /// Runs `script` in the browser (auto-removed after it runs). For attributes or to keep the
    /// tag, [`send`](crate::Sse::send) an [`ExecuteScript`].
    ///
    /// ```
    /// let mut sse = dstar::Sse::new();
    /// sse.execute_script("alert('Hello!')");
    /// assert!(sse.as_bytes().ends_with(b"<script data-effect=\"el.remove()\">alert('Hello!')</script>\n\n"));
    /// ```
    pub fn execute_script(&mut self, script: &str) -> &mut Self {
        self.send_or_report(ExecuteScript::new(script))
    }

    /// Redirects the browser to a same-origin `url` (see [`Redirect`] for the rules and for
    /// external hosts). A refused URL is an error and nothing is sent.
    ///
    /// ```
    /// let mut sse = dstar::Sse::new();
    /// sse.redirect("/login")?;
    /// assert!(sse.redirect("javascript:alert(1)").is_err());
    /// # Ok::<(), dstar::Error>(())
    /// ```
    pub fn redirect(&mut self, url: &str) -> Result<&mut Self, Error> {
        self.send(Redirect::to(url))
    }

    /// Logs `message` to the browser console with `console.log`.
    ///
    /// ```
    /// let mut sse = dstar::Sse::new();
    /// sse.console_log("Counter reset");
    /// assert!(sse.as_bytes().windows(28).any(|w| w == b"console.log(\"Counter reset\")"));
    /// ```
    pub fn console_log(&mut self, message: impl Serialize) -> &mut Self {
        self.console(LogLevel::Log, message)
    }

    /// Logs `value` to the browser console at `level`.
    ///
    /// ```
    /// use dstar::scripts::LogLevel;
    /// let mut sse = dstar::Sse::new();
    /// sse.console(LogLevel::Warn, "Warning!");
    /// assert!(sse.as_bytes().windows(23).any(|w| w == b"console.warn(\"Warning!\""));
    /// ```
    pub fn console(&mut self, level: LogLevel, value: impl Serialize) -> &mut Self {
        self.send_or_report(ConsoleLog::new(level, value))
    }

    /// Logs `error` and, in debug builds only, sends it to the browser console as `console.error`.
    ///
    /// ```
    /// let mut sse = dstar::Sse::new();
    /// sse.report_error(&"database is down");
    /// // debug builds carry the message to DevTools; release builds send nothing
    /// assert_eq!(sse.is_empty(), !cfg!(debug_assertions));
    /// ```
    pub fn report_error(&mut self, error: &dyn std::fmt::Display) -> &mut Self {
        // the target it has always logged under, for `RUST_LOG` filters
        tracing::error!(
            target: "dstar::sse",
            error = %crate::error::Escaped(error),
            "dstar handler error"
        );
        if cfg!(debug_assertions) {
            let msg = format!("[dstar] {error}");
            // not `send_or_report`: a failure here would report itself again
            let _ = self.send(ConsoleLog::new(LogLevel::Error, &msg));
        }
        self
    }
}

impl crate::sse::EventOptions for ExecuteScript<'_> {
    fn meta_mut(&mut self) -> &mut crate::sse::EventMeta {
        &mut self.meta
    }
}
