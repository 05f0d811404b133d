//! [`FieldErrors`]: one message per field, and the `_errors` signals patch that shows them.

use super::messages::message_for;
use super::signal::ERRORS_SIGNAL;
use serde_json::{Map, Value};
use std::fmt;
use validator::{ValidationErrors, ValidationErrorsKind};

/// A form's errors: field → message, one message per field (the first), in the order of the
/// form's fields.
///
/// It also knows every field of the form, with or without an error, and whether each was
/// submitted empty: [`signals`](FieldErrors::signals) clears the message of every valid field, and
/// [`typing`](FieldErrors::typing) hides the errors of the fields the user has not filled in yet.
/// [`Form`](super::Form) builds it; [`From<ValidationErrors>`](#impl-From%3CValidationErrors%3E-for-FieldErrors)
/// and [`track`](FieldErrors::track) build one by hand.
///
/// ```
/// use dstar::form::FieldErrors;
/// use serde_json::json;
///
/// let mut errors = FieldErrors::new();
/// errors.track("email", Some(&json!("ada@example.com"))).track("password", Some(&json!("")));
/// errors.add("email", "That email is taken");
/// assert_eq!(errors.get("email"), Some("That email is taken"));
/// assert_eq!(
///     errors.signals(),
///     json!({ "_errors": { "email": "That email is taken", "password": "" } })
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors {
    fields: Vec<FieldState>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct FieldState {
    name: String,
    message: Option<String>,
    /// Submitted empty (or not at all): [`FieldErrors::typing`] drops its error.
    empty: bool,
}

impl FieldErrors {
    /// No fields, no errors.
    ///
    /// ```
    /// assert!(dstar::form::FieldErrors::new().is_empty());
    /// ```
    pub fn new() -> Self {
        FieldErrors::default()
    }

    /// Makes `field` known with the value it was submitted with (`None`: not submitted), so
    /// [`signals`](FieldErrors::signals) clears its message and [`typing`](FieldErrors::typing)
    /// knows whether the user has filled it in. Empty means missing, `null`, `""`, `false`, `[]`
    /// or `{}`. [`Form`](super::Form) tracks every field of the form for you.
    ///
    /// ```
    /// let mut errors = dstar::form::FieldErrors::new();
    /// errors.track("email", None);
    /// assert_eq!(errors.fields().collect::<Vec<_>>(), ["email"]);
    /// assert!(errors.is_empty());
    /// ```
    pub fn track(&mut self, field: impl Into<String>, submitted: Option<&Value>) -> &mut Self {
        let empty = submitted.is_none_or(is_empty);
        let field = field.into();
        match self.state_mut(&field) {
            Some(state) => state.empty = empty,
            None => self.fields.push(FieldState {
                name: field,
                message: None,
                empty,
            }),
        }
        self
    }

    /// Adds an error found on the server ("that email is taken"). A field keeps its first
    /// message: one that already has an error is left as it is.
    ///
    /// ```
    /// let mut errors = dstar::form::FieldErrors::new();
    /// errors.add("email", "That email is taken").add("email", "ignored");
    /// assert_eq!(errors.get("email"), Some("That email is taken"));
    /// ```
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) -> &mut Self {
        let field = field.into();
        match self.state_mut(&field) {
            Some(state) => {
                if state.message.is_none() {
                    state.message = Some(message.into());
                }
            }
            None => self.fields.push(FieldState {
                name: field,
                message: Some(message.into()),
                empty: false,
            }),
        }
        self
    }

    /// The message for `field`, if it has an error.
    ///
    /// ```
    /// let mut errors = dstar::form::FieldErrors::new();
    /// errors.add("email", "Enter a valid email address");
    /// assert_eq!(errors.get("email"), Some("Enter a valid email address"));
    /// assert_eq!(errors.get("password"), None);
    /// ```
    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|s| s.name == field)
            .and_then(|s| s.message.as_deref())
    }

    /// Removes a field's error (it stays known, so its message is cleared in the page): for a
    /// rule that does not apply here, such as a password's length on a sign-in form.
    ///
    /// ```
    /// let mut errors = dstar::form::FieldErrors::new();
    /// errors.add("password", "Use at least 8 characters").clear("password");
    /// assert!(errors.is_empty());
    /// assert_eq!(errors.signals(), serde_json::json!({ "_errors": { "password": "" } }));
    /// ```
    pub fn clear(&mut self, field: &str) -> &mut Self {
        if let Some(state) = self.state_mut(field) {
            state.message = None;
        }
        self
    }

    /// True when no field has an error.
    ///
    /// ```
    /// let mut errors = dstar::form::FieldErrors::new();
    /// assert!(errors.is_empty());
    /// errors.add("email", "x");
    /// assert!(!errors.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.fields.iter().all(|s| s.message.is_none())
    }

    /// How many fields have an error.
    ///
    /// ```
    /// let mut errors = dstar::form::FieldErrors::new();
    /// errors.add("a", "x").add("b", "y").add("a", "z");
    /// assert_eq!(errors.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.fields.iter().filter(|s| s.message.is_some()).count()
    }

    /// The errors, `(field, message)`, in the order of the form's fields.
    ///
    /// ```
    /// let mut errors = dstar::form::FieldErrors::new();
    /// errors.add("email", "bad").add("password", "short");
    /// assert_eq!(errors.iter().collect::<Vec<_>>(), [("email", "bad"), ("password", "short")]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields
            .iter()
            .filter_map(|s| Some((s.name.as_str(), s.message.as_deref()?)))
    }

    /// Every known field, with or without an error.
    ///
    /// ```
    /// let mut errors = dstar::form::FieldErrors::new();
    /// errors.track("email", None).add("password", "short");
    /// assert_eq!(errors.fields().collect::<Vec<_>>(), ["email", "password"]);
    /// ```
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|s| s.name.as_str())
    }

    /// The errors to show while the user types: those of the fields submitted empty are
    /// dropped, so a field the user has not reached yet shows nothing while they fill in another.
    /// The fields stay known, so their messages are still cleared. Submit with the full errors.
    ///
    /// ```
    /// use serde_json::json;
    /// let mut errors = dstar::form::FieldErrors::new();
    /// errors.track("email", Some(&json!("ada@"))).track("password", Some(&json!("")));
    /// errors.add("email", "Enter a valid email address").add("password", "Use at least 8 characters");
    /// let typing = errors.typing();
    /// assert_eq!(typing.get("email"), Some("Enter a valid email address"));
    /// assert_eq!(typing.get("password"), None);
    /// assert_eq!(typing.signals()["_errors"]["password"], "");
    /// ```
    pub fn typing(mut self) -> Self {
        for state in &mut self.fields {
            if state.empty {
                state.message = None;
            }
        }
        self
    }

    /// The signals patch that shows these errors: `{"_errors": {field: message}}` with every
    /// known field, `""` for a valid one. Send it with
    /// [`Sse::patch_errors`](crate::Sse::patch_errors).
    ///
    /// ```
    /// use serde_json::json;
    /// let mut errors = dstar::form::FieldErrors::new();
    /// errors.track("password", None).add("email", "bad");
    /// assert_eq!(errors.signals(), json!({ "_errors": { "password": "", "email": "bad" } }));
    /// ```
    pub fn signals(&self) -> Value {
        let messages: Map<String, Value> = self
            .fields
            .iter()
            .map(|s| {
                let message = s.message.clone().unwrap_or_default();
                (s.name.clone(), Value::String(message))
            })
            .collect();
        let mut patch = Map::with_capacity(1);
        patch.insert(ERRORS_SIGNAL.to_owned(), Value::Object(messages));
        Value::Object(patch)
    }

    /// The errors of a validation, fields known from the form's type (`fields`, when serde
    /// names them) or else from the submitted signals.
    pub(crate) fn of_form(
        fields: Option<&[&str]>,
        signals: &Map<String, Value>,
        validation: Option<&ValidationErrors>,
    ) -> Self {
        let mut errors = FieldErrors::new();
        match fields {
            Some(fields) => {
                for field in fields {
                    errors.track(*field, signals.get(*field));
                }
            }
            None => {
                for (field, value) in signals {
                    errors.track(field.as_str(), Some(value));
                }
            }
        }
        if let Some(validation) = validation {
            errors.add_validation(validation);
        }
        errors
    }

    /// Adds the first message of each field of a validation: the known fields first, in order,
    /// then the others by name.
    fn add_validation(&mut self, validation: &ValidationErrors) {
        let mut failed: Vec<(&str, &ValidationErrorsKind)> = validation
            .errors()
            .iter()
            .map(|(field, kind)| (field.as_ref(), kind))
            .collect();
        failed.sort_by_key(|(field, _)| {
            let position = self.fields.iter().position(|s| s.name == *field);
            (position.unwrap_or(usize::MAX), *field)
        });
        for (field, kind) in failed {
            if let Some(message) = first_message(kind) {
                self.add(field, message);
            }
        }
    }

    fn state_mut(&mut self, field: &str) -> Option<&mut FieldState> {
        self.fields.iter_mut().find(|s| s.name == field)
    }
}

/// Each field's first message, the `message = "…"` of its `#[validate(…)]` attribute or a
/// readable default for its code ([`message_for`]). A nested struct's or list's errors show as
/// one message on the outer field: the first of them.
///
/// ```
/// use validator::Validate;
///
/// #[derive(Validate)]
/// #[validate(crate = "dstar::form::validator")]
/// struct SignUp {
///     #[validate(email)]
///     email: String,
///     #[validate(length(min = 8, message = "Too short"))]
///     password: String,
/// }
/// let invalid = SignUp { email: "ada".into(), password: "x".into() }.validate().unwrap_err();
/// let errors = dstar::form::FieldErrors::from(invalid);
/// assert_eq!(errors.get("email"), Some("Enter a valid email address"));
/// assert_eq!(errors.get("password"), Some("Too short"));
/// ```
impl From<&ValidationErrors> for FieldErrors {
    fn from(validation: &ValidationErrors) -> Self {
        let mut errors = FieldErrors::new();
        errors.add_validation(validation);
        errors
    }
}

/// See [`From<&ValidationErrors>`](#impl-From%3C%26ValidationErrors%3E-for-FieldErrors).
impl From<ValidationErrors> for FieldErrors {
    fn from(validation: ValidationErrors) -> Self {
        FieldErrors::from(&validation)
    }
}

/// `email: Enter a valid email address; password: Use at least 8 characters`.
///
/// ```
/// let mut errors = dstar::form::FieldErrors::new();
/// errors.add("email", "bad").add("password", "short");
/// assert_eq!(errors.to_string(), "email: bad; password: short");
/// ```
impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (field, message)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{field}: {message}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FieldErrors {}

impl<'a> IntoIterator for &'a FieldErrors {
    type Item = (&'a str, &'a str);
    type IntoIter = Box<dyn Iterator<Item = (&'a str, &'a str)> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// Empty as a submitted form value: missing, `null`, `""`, `false`, `[]` or `{}`.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Bool(true) | Value::Number(_) => false,
    }
}

fn first_message(kind: &ValidationErrorsKind) -> Option<String> {
    match kind {
        ValidationErrorsKind::Field(errors) => errors.first().map(message_for),
        ValidationErrorsKind::Struct(inner) => first_nested(inner),
        ValidationErrorsKind::List(items) => items.values().find_map(|inner| first_nested(inner)),
    }
}

fn first_nested(validation: &ValidationErrors) -> Option<String> {
    let mut fields: Vec<_> = validation.errors().iter().collect();
    fields.sort_by(|a, b| a.0.cmp(b.0));
    fields.into_iter().find_map(|(_, kind)| first_message(kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::messages::tests::error;
    use serde_json::json;

    #[test]
    fn form_errors_keep_the_first_message_and_the_field_order() {
        let mut validation = ValidationErrors::new();
        validation.add("password", error("length", &[("min", json!(8))]));
        validation.add("password", error("email", &[]));
        validation.add("email", error("email", &[]));
        validation.add("zzz", error("x", &[]));
        let signals = json!({ "password": "abc", "email": "", "csrf": "t" });
        let Value::Object(signals) = signals else {
            unreachable!()
        };
        let errors =
            FieldErrors::of_form(Some(&["password", "email"]), &signals, Some(&validation));
        assert_eq!(
            errors.iter().collect::<Vec<_>>(),
            [
                ("password", "Use at least 8 characters"),
                ("email", "Enter a valid email address"),
                ("zzz", "This value is not valid"),
            ]
        );
        // `csrf` is not a field of the form
        assert_eq!(
            errors.fields().collect::<Vec<_>>(),
            ["password", "email", "zzz"]
        );
        let typing = errors.typing();
        assert_eq!(typing.get("email"), None);
        assert_eq!(typing.get("zzz"), Some("This value is not valid"));
        assert_eq!(typing.len(), 2);
    }

    #[test]
    fn form_emptiness() {
        for empty in [json!(null), json!(""), json!(false), json!([]), json!({})] {
            assert!(is_empty(&empty), "{empty}");
        }
        for filled in [json!(" "), json!(0), json!(true), json!([1])] {
            assert!(!is_empty(&filled), "{filled}");
        }
    }
}
