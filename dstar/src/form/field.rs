//! [`Field`]: a labelled input bound to its signal, with its error message under it.

use super::signal::ERRORS_SIGNAL;
use crate::actions::Action;
use maud::Render;
use std::fmt;
use std::time::Duration;

/// How long [`Field::on_input`] waits after the last keystroke: 300 ms.
///
/// ```
/// assert_eq!(dstar::form::DEFAULT_DEBOUNCE, std::time::Duration::from_millis(300));
/// ```
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(300);

/// A form field: a `<label>`, an `<input>` (or `<textarea>`) bound to the signal of the same
/// name, and the element that shows its message from `$_errors`. Render it in a template with
/// `(field)`.
///
/// ```html
/// <div class="field"><label for="email">Email</label>
///   <input id="email" name="email" type="email" data-bind:email
///     data-attr:aria-invalid="$_errors.email ? 'true' : false" aria-describedby="email-error" …>
///   <p id="email-error" class="field-error" data-text="$_errors.email"></p></div>
/// ```
///
/// `aria-invalid="true"` is set while the field has a message and removed when it has none, and
/// `aria-describedby` points screen readers at the message. The name is the signal's, the
/// input's `id` and `name`, and the key in [`FieldErrors`](super::FieldErrors): ASCII letters,
/// digits and `_`, starting with a letter (a signal starting with `_` is never sent to the
/// server). A name with capitals is bound with `data-bind="firstName"`, as HTML lowercases
/// attribute names.
///
/// ```
/// use dstar::form::Field;
/// use dstar::actions::post;
/// use dstar::prelude::*;
///
/// let email = Field::new("email")
///     .kind("email")
///     .label("Email")
///     .autocomplete("email")
///     .on_input(post("/signup/check"));
/// let html = html! { (email) }.into_string();
/// assert_eq!(
///     html,
///     "<div class=\"field\"><label for=\"email\">Email</label>\
///      <input id=\"email\" name=\"email\" type=\"email\" data-bind:email \
///      data-attr:aria-invalid=\"$_errors.email ? 'true' : false\" aria-describedby=\"email-error\" \
///      autocomplete=\"email\" data-on:input__debounce.300ms=\"@post('/signup/check')\">\
///      <p id=\"email-error\" class=\"field-error\" data-text=\"$_errors.email\"></p></div>"
/// );
/// ```
#[derive(Debug, Clone)]
pub struct Field {
    name: String,
    kind: String,
    label: Option<String>,
    autocomplete: Option<String>,
    placeholder: Option<String>,
    value: Option<String>,
    on_input: Option<Action>,
    debounce: Duration,
}

impl Field {
    /// A text field named `name`.
    ///
    /// # Panics
    ///
    /// When `name` is not a valid field name (see [`Field`]); [`Field::try_new`] returns the
    /// error instead.
    ///
    /// ```
    /// let field = dstar::form::Field::new("email");
    /// assert_eq!(field.name(), "email");
    /// ```
    ///
    /// ```should_panic
    /// dstar::form::Field::new("e-mail"); // `-` is not allowed
    /// ```
    #[track_caller]
    pub fn new(name: impl Into<String>) -> Self {
        match Field::try_new(name) {
            Ok(field) => field,
            Err(e) => panic!("{e}"),
        }
    }

    /// A text field named `name`, or why the name is not valid.
    ///
    /// ```
    /// use dstar::form::Field;
    /// assert!(Field::try_new("first_name").is_ok());
    /// let err = Field::try_new("_secret").unwrap_err();
    /// assert_eq!(err.name(), "_secret");
    /// ```
    pub fn try_new(name: impl Into<String>) -> Result<Self, InvalidFieldName> {
        let name = name.into();
        if !is_field_name(&name) {
            return Err(InvalidFieldName(name));
        }
        Ok(Field {
            name,
            kind: "text".to_owned(),
            label: None,
            autocomplete: None,
            placeholder: None,
            value: None,
            on_input: None,
            debounce: DEFAULT_DEBOUNCE,
        })
    }

    /// The input's `type` (`"email"`, `"password"`, `"number"`, …; `"text"` by default), or
    /// `"textarea"` for a `<textarea>`.
    ///
    /// ```
    /// use dstar::prelude::*;
    /// let note = dstar::form::Field::new("body").kind("textarea").label("Note");
    /// let html = html! { (note) }.into_string();
    /// assert!(html.contains("<textarea id=\"body\" name=\"body\" data-bind:body "), "{html}");
    /// assert!(html.contains("</textarea><p id=\"body-error\""), "{html}");
    /// ```
    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = kind.into();
        self
    }

    /// The label's text (the field's name without it).
    ///
    /// ```
    /// use dstar::prelude::*;
    /// let html = html! { (dstar::form::Field::new("email").label("Email")) }.into_string();
    /// assert!(html.contains("<label for=\"email\">Email</label>"));
    /// ```
    pub fn label(mut self, text: impl Into<String>) -> Self {
        self.label = Some(text.into());
        self
    }

    /// The `autocomplete` attribute (`"email"`, `"new-password"`, …).
    ///
    /// ```
    /// use dstar::prelude::*;
    /// let html = html! { (dstar::form::Field::new("email").autocomplete("email")) }.into_string();
    /// assert!(html.contains("autocomplete=\"email\""));
    /// ```
    pub fn autocomplete(mut self, value: impl Into<String>) -> Self {
        self.autocomplete = Some(value.into());
        self
    }

    /// The `placeholder` attribute.
    ///
    /// ```
    /// use dstar::prelude::*;
    /// let html = html! { (dstar::form::Field::new("q").placeholder("Search…")) }.into_string();
    /// assert!(html.contains("placeholder=\"Search…\""));
    /// ```
    pub fn placeholder(mut self, text: impl Into<String>) -> Self {
        self.placeholder = Some(text.into());
        self
    }

    /// The initial value (an input's `value`, a textarea's text), for a form that edits
    /// something. `data-bind` takes it as the signal's value when the signal does not exist yet.
    ///
    /// ```
    /// use dstar::prelude::*;
    /// let html = html! { (dstar::form::Field::new("title").value("a <b>")) }.into_string();
    /// assert!(html.contains("value=\"a &lt;b&gt;\""));
    /// ```
    pub fn value(mut self, value: impl Into<String>) -> Self {
        self.value = Some(value.into());
        self
    }

    /// The action to run as the user types, after a pause ([`DEFAULT_DEBOUNCE`], see
    /// [`debounce`](Field::debounce)): `data-on:input__debounce.300ms=(action)`. In a page or
    /// component, pass `event("check")`, whose handler answers with the errors
    /// ([`FieldErrors::typing`](super::FieldErrors::typing)).
    ///
    /// ```
    /// use dstar::prelude::*;
    /// let field = dstar::form::Field::new("email").on_input(dstar::actions::post("/check"));
    /// let html = html! { (field) }.into_string();
    /// assert!(html.contains("data-on:input__debounce.300ms=\"@post('/check')\""));
    /// ```
    pub fn on_input(mut self, action: Action) -> Self {
        self.on_input = Some(action);
        self
    }

    /// How long [`on_input`](Field::on_input) waits after the last keystroke, in whole
    /// milliseconds.
    ///
    /// ```
    /// use dstar::prelude::*;
    /// let field = dstar::form::Field::new("email")
    ///     .on_input(dstar::actions::post("/check"))
    ///     .debounce(std::time::Duration::from_millis(500));
    /// assert!(html! { (field) }.into_string().contains("data-on:input__debounce.500ms="));
    /// ```
    pub fn debounce(mut self, wait: Duration) -> Self {
        self.debounce = wait;
        self
    }

    /// The field's name.
    ///
    /// ```
    /// assert_eq!(dstar::form::Field::new("email").name(), "email");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `id` of the element that shows the field's message: `{name}-error`.
    ///
    /// ```
    /// assert_eq!(dstar::form::Field::new("email").error_id(), "email-error");
    /// ```
    pub fn error_id(&self) -> String {
        format!("{}-error", self.name)
    }
}

impl Render for Field {
    fn render_to(&self, out: &mut String) {
        // the name is letters, digits and `_` (checked in `try_new`): safe in attribute names
        // and in the `$_errors.name` expression as it is
        let name = &self.name;
        out.push_str("<div class=\"field\"><label for=\"");
        out.push_str(name);
        out.push_str("\">");
        self.label.as_deref().unwrap_or(name).render_to(out);
        out.push_str("</label>");
        let textarea = self.kind.eq_ignore_ascii_case("textarea");
        if textarea {
            out.push_str("<textarea id=\"");
        } else {
            out.push_str("<input id=\"");
        }
        out.push_str(name);
        out.push_str("\" name=\"");
        out.push_str(name);
        out.push('"');
        if !textarea {
            attr(out, "type", &self.kind);
        }
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            out.push_str(" data-bind=\"");
            out.push_str(name);
            out.push('"');
        } else {
            out.push_str(" data-bind:");
            out.push_str(name);
        }
        out.push_str(" data-attr:aria-invalid=\"$");
        out.push_str(ERRORS_SIGNAL);
        out.push('.');
        out.push_str(name);
        out.push_str(" ? 'true' : false\" aria-describedby=\"");
        out.push_str(name);
        out.push_str("-error\"");
        if let Some(autocomplete) = &self.autocomplete {
            attr(out, "autocomplete", autocomplete);
        }
        if let Some(placeholder) = &self.placeholder {
            attr(out, "placeholder", placeholder);
        }
        if let (Some(value), false) = (&self.value, textarea) {
            attr(out, "value", value);
        }
        if let Some(action) = &self.on_input {
            out.push_str(" data-on:input__debounce.");
            out.push_str(&self.debounce.as_millis().to_string());
            out.push_str("ms=\"");
            action.to_string().as_str().render_to(out);
            out.push('"');
        }
        out.push('>');
        if textarea {
            if let Some(value) = &self.value {
                value.as_str().render_to(out);
            }
            out.push_str("</textarea>");
        }
        out.push_str("<p id=\"");
        out.push_str(name);
        out.push_str("-error\" class=\"field-error\" data-text=\"$");
        out.push_str(ERRORS_SIGNAL);
        out.push('.');
        out.push_str(name);
        out.push_str("\"></p></div>");
    }
}

/// ` name="value"`, the value escaped.
fn attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    value.render_to(out);
    out.push('"');
}

/// ASCII letters, digits and `_`, starting with a letter.
fn is_field_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A field name that is not ASCII letters, digits and `_` starting with a letter.
///
/// ```
/// let err = dstar::form::Field::try_new("e-mail").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "invalid form field name `e-mail`: use ASCII letters, digits and `_`, starting with a letter"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidFieldName(String);

impl InvalidFieldName {
    /// The refused name.
    ///
    /// ```
    /// assert_eq!(dstar::form::Field::try_new("1st").unwrap_err().name(), "1st");
    /// ```
    pub fn name(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InvalidFieldName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid form field name `{}`: use ASCII letters, digits and `_`, starting with a letter",
            self.0
        )
    }
}

impl std::error::Error for InvalidFieldName {}
