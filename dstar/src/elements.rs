//! Patch and remove DOM elements (`datastar-patch-elements`).

use crate::error::Error;
use crate::sse::{DatastarEvent, EventMeta, EventType, EventWriter};
use bytes::BytesMut;
use std::borrow::Cow;

/// HTML that can be patched: maud's `Markup` (what `html!` returns, with every splice escaped), a
/// string literal, or text you vouch for wrapped in [`PreEscaped`](maud::PreEscaped).
///
/// A `String` is not HTML by itself: `format!("<p>{name}</p>")` with a user's name in it is an
/// injection waiting to happen, so it does not compile. Build markup with `html!`, or say
/// `PreEscaped(text)` where the text really is trusted HTML.
///
/// ```
/// use dstar::elements::Html;
/// use dstar::PreEscaped;
/// assert_eq!("<p></p>".as_html(), "<p></p>");
/// assert_eq!(maud::html! { p { "<hi>" } }.as_html(), "<p>&lt;hi&gt;</p>");
/// let trusted = String::from("<p>from the CMS</p>");
/// assert_eq!(PreEscaped(&trusted).as_html(), "<p>from the CMS</p>");
/// ```
///
/// ```compile_fail
/// # use dstar::elements::Html;
/// let name = String::from("<script>");
/// format!("<p>{name}</p>").as_html(); // a String is not HTML: use html! or PreEscaped
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not HTML dstar can patch",
    note = "build markup with `html! {{ … }}` (it escapes what you splice in), or wrap HTML you trust in `PreEscaped(…)`"
)]
pub trait Html {
    /// The HTML text.
    fn as_html(&self) -> &str;
}

/// A literal in your code is yours: no user input can be in it.
impl Html for &'static str {
    fn as_html(&self) -> &str {
        self
    }
}
impl<T: AsRef<str>> Html for maud::PreEscaped<T> {
    fn as_html(&self) -> &str {
        self.0.as_ref()
    }
}
impl<H: Html + ?Sized> Html for &H {
    fn as_html(&self) -> &str {
        (**self).as_html()
    }
}

/// How patched elements are applied. The default is [`Mode::Outer`].
///
/// ```
/// use dstar::elements::{Mode, PatchElements};
/// let e = PatchElements::new("<li>x</li>").selector("#list").mode(Mode::Prepend);
/// assert!(dstar::sse::format_event(&e).is_ok());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Morph the element in place (the default; targets by id without a selector).
    #[default]
    Outer,
    /// Morph the element's children.
    Inner,
    /// Replace the element without morphing (targets by id without a selector).
    Replace,
    /// Insert at the start of the target's children.
    Prepend,
    /// Insert at the end of the target's children.
    Append,
    /// Insert before the target.
    Before,
    /// Insert after the target.
    After,
    /// Remove the target.
    Remove,
}

impl Mode {
    /// The wire name.
    ///
    /// ```
    /// assert_eq!(dstar::elements::Mode::Append.as_str(), "append");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Mode::Outer => "outer",
            Mode::Inner => "inner",
            Mode::Replace => "replace",
            Mode::Prepend => "prepend",
            Mode::Append => "append",
            Mode::Before => "before",
            Mode::After => "after",
            Mode::Remove => "remove",
        }
    }

    /// Parses a wire name.
    ///
    /// ```
    /// use dstar::elements::Mode;
    /// assert_eq!(Mode::parse("inner"), Some(Mode::Inner));
    /// assert_eq!(Mode::parse("sideways"), None);
    /// ```
    pub fn parse(name: &str) -> Option<Mode> {
        Some(match name {
            "outer" => Mode::Outer,
            "inner" => Mode::Inner,
            "replace" => Mode::Replace,
            "prepend" => Mode::Prepend,
            "append" => Mode::Append,
            "before" => Mode::Before,
            "after" => Mode::After,
            "remove" => Mode::Remove,
            _ => return None,
        })
    }

    /// Whether the 1.0.x client needs a selector for this mode (all but `outer` and `replace`).
    ///
    /// ```
    /// assert!(dstar::elements::Mode::Append.needs_selector());
    /// assert!(!dstar::elements::Mode::Outer.needs_selector());
    /// ```
    pub const fn needs_selector(self) -> bool {
        !matches!(self, Mode::Outer | Mode::Replace)
    }
}

/// The namespace new elements are created in. The default is [`Namespace::Html`].
///
/// ```
/// use dstar::elements::{Namespace, PatchElements};
/// let e = PatchElements::new("<rect/>").selector("#svg").namespace(Namespace::Svg);
/// assert!(dstar::sse::format_event(&e).is_ok());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Namespace {
    /// HTML (the default).
    #[default]
    Html,
    /// SVG.
    Svg,
    /// MathML.
    MathMl,
}

impl Namespace {
    /// The wire name.
    ///
    /// ```
    /// assert_eq!(dstar::elements::Namespace::MathMl.as_str(), "mathml");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Namespace::Html => "html",
            Namespace::Svg => "svg",
            Namespace::MathMl => "mathml",
        }
    }
}

/// A `datastar-patch-elements` event.
///
/// Without a selector the client morphs by the top-level elements' ids. Modes other than `outer`
/// and `replace` need a selector; writing one without is [`Error::MissingSelector`].
///
/// ```
/// use dstar::elements::{Mode, Namespace, PatchElements};
/// let event = PatchElements::new("<circle r=\"4\"/>")
///     .selector("#chart")
///     .mode(Mode::Inner)
///     .namespace(Namespace::Svg)
///     .use_view_transition(true);
/// let text = String::from_utf8(dstar::sse::format_event(&event).unwrap().to_vec()).unwrap();
/// assert_eq!(text, "event: datastar-patch-elements\ndata: selector #chart\ndata: mode inner\n\
///     data: useViewTransition true\ndata: namespace svg\ndata: elements <circle r=\"4\"/>\n\n");
/// ```
#[must_use]
#[derive(Debug, Clone)]
pub struct PatchElements<H> {
    html: Option<H>,
    selector: Option<Cow<'static, str>>,
    mode: Mode,
    namespace: Namespace,
    use_view_transition: bool,
    view_transition_selector: Option<Cow<'static, str>>,
    meta: EventMeta,
}

impl<H: Html> PatchElements<H> {
    /// Patches `html`: maud `Markup`, a string literal, or `PreEscaped(trusted)`. A `String` is
    /// not HTML (it could carry user text unescaped): build it with `html!`.
    ///
    /// ```
    /// let e = dstar::elements::PatchElements::new(maud::html! { span #count { "42" } });
    /// assert!(dstar::sse::format_event(&e).unwrap().ends_with(b"data: elements <span id=\"count\">42</span>\n\n"));
    /// ```
    pub fn new(html: H) -> Self {
        PatchElements {
            html: Some(html),
            selector: None,
            mode: Mode::Outer,
            namespace: Namespace::Html,
            use_view_transition: false,
            view_transition_selector: None,
            meta: EventMeta::default(),
        }
    }
}

impl PatchElements<&'static str> {
    /// Removes the elements matching `selector` (mode `remove`, no HTML).
    ///
    /// ```
    /// let e = dstar::elements::PatchElements::remove("#flash");
    /// assert_eq!(&dstar::sse::format_event(&e).unwrap()[..],
    ///     b"event: datastar-patch-elements\ndata: selector #flash\ndata: mode remove\n\n");
    /// ```
    pub fn remove(selector: impl Into<Cow<'static, str>>) -> Self {
        PatchElements {
            html: None,
            selector: Some(selector.into()),
            mode: Mode::Remove,
            namespace: Namespace::Html,
            use_view_transition: false,
            view_transition_selector: None,
            meta: EventMeta::default(),
        }
    }
}

impl<H> PatchElements<H> {
    /// The CSS selector of the target.
    ///
    /// ```
    /// let e = dstar::elements::PatchElements::new("<li>x</li>").selector("ul#items");
    /// assert!(dstar::sse::format_event(&e).unwrap().windows(25).any(|w| w == b"data: selector ul#items\nd"));
    /// ```
    pub fn selector(mut self, selector: impl Into<Cow<'static, str>>) -> Self {
        self.selector = Some(selector.into());
        self
    }

    /// The patch mode (default [`Mode::Outer`]).
    ///
    /// ```
    /// use dstar::elements::{Mode, PatchElements};
    /// let e = PatchElements::new("<li>x</li>").selector("#l").mode(Mode::Prepend);
    /// assert!(dstar::sse::format_event(&e).is_ok());
    /// ```
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// The namespace (default [`Namespace::Html`]).
    ///
    /// ```
    /// use dstar::elements::{Namespace, PatchElements};
    /// let e = PatchElements::new("<mi>x</mi>").selector("#f").namespace(Namespace::MathMl);
    /// assert!(dstar::sse::format_event(&e).unwrap().windows(16).any(|w| w == b"namespace mathml"));
    /// ```
    pub fn namespace(mut self, namespace: Namespace) -> Self {
        self.namespace = namespace;
        self
    }

    /// Wrap the patch in a View Transition (default `false`).
    ///
    /// ```
    /// let e = dstar::elements::PatchElements::new("<p id=a></p>").use_view_transition(true);
    /// assert!(dstar::sse::format_event(&e).unwrap().windows(22).any(|w| w == b"useViewTransition true"));
    /// ```
    pub fn use_view_transition(mut self, yes: bool) -> Self {
        self.use_view_transition = yes;
        self
    }

    /// The element whose scoped view transition is used (client 1.0.2+).
    ///
    /// ```
    /// let e = dstar::elements::PatchElements::new("<p id=a></p>").view_transition_selector("#main");
    /// assert!(dstar::sse::format_event(&e).unwrap().windows(28).any(|w| w == b"viewTransitionSelector #main"));
    /// ```
    pub fn view_transition_selector(mut self, selector: impl Into<Cow<'static, str>>) -> Self {
        self.view_transition_selector = Some(selector.into());
        self
    }
}

impl<H: Html> DatastarEvent for PatchElements<H> {
    fn write_to(&self, out: &mut BytesMut) -> Result<(), Error> {
        if self.mode.needs_selector() && self.selector.is_none() {
            return Err(Error::MissingSelector {
                mode: self.mode.as_str(),
            });
        }
        let html = self.html.as_ref().map(Html::as_html);
        let hint = html.map_or(0, |h| h.len() + h.len() / 16);
        let mut w = EventWriter::begin(out, EventType::PatchElements, &self.meta, hint);
        if let Some(selector) = &self.selector {
            w.single("selector", selector);
        }
        if self.mode != Mode::Outer {
            w.single("mode", self.mode.as_str());
        }
        if self.use_view_transition {
            w.single("useViewTransition", "true");
        }
        if let Some(selector) = &self.view_transition_selector {
            w.single("viewTransitionSelector", selector);
        }
        if self.namespace != Namespace::Html {
            w.single("namespace", self.namespace.as_str());
        }
        if let Some(html) = html {
            w.multi("elements", html);
        }
        w.finish();
        Ok(())
    }
}

impl crate::sse::Sse {
    /// Patches elements, morphing by the top-level elements' ids (mode `outer`, no selector).
    /// For a selector or another mode, [`send`](crate::Sse::send) a [`PatchElements`].
    ///
    /// ```
    /// let mut sse = dstar::Sse::new();
    /// sse.patch_elements(maud::html! { span #history { "Last: +1" } });
    /// assert!(sse.as_bytes().ends_with(b"data: elements <span id=\"history\">Last: +1</span>\n\n"));
    /// ```
    pub fn patch_elements(&mut self, html: impl Html) -> &mut Self {
        self.send_or_report(PatchElements::new(html))
    }

    /// Removes the elements matching `selector`.
    ///
    /// ```
    /// let mut sse = dstar::Sse::new();
    /// sse.remove_elements("#flash-message");
    /// assert!(sse.as_bytes().ends_with(b"data: selector #flash-message\ndata: mode remove\n\n"));
    /// ```
    pub fn remove_elements(&mut self, selector: impl Into<Cow<'static, str>>) -> &mut Self {
        self.send_or_report(PatchElements::remove(selector))
    }
}

impl<H> crate::sse::EventOptions for PatchElements<H> {
    fn meta_mut(&mut self) -> &mut crate::sse::EventMeta {
        &mut self.meta
    }
}
