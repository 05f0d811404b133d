//! The `_errors` signal: its name, and its initial value for a `<form>`.

/// The client-only signal the messages live in: `$_errors.email`. Datastar never sends a signal
/// whose name starts with `_` back to the server.
///
/// ```
/// assert_eq!(dstar::form::ERRORS_SIGNAL, "_errors");
/// ```
pub const ERRORS_SIGNAL: &str = "_errors";

/// The initial value of the `_errors` signal for the `<form>` element, every field's message
/// empty, so the signal exists before the first patch:
/// `form data-signals:_errors=(errors_signal(["email", "password"]))`. It is JSON text; the
/// template escapes it into the attribute like any other value.
///
/// ```
/// use dstar::form::errors_signal;
/// use dstar::prelude::*;
/// assert_eq!(errors_signal(["email", "password"]), r#"{"email":"","password":""}"#);
/// let form = html! { form data-signals:_errors=(errors_signal(["email"])) {} };
/// assert_eq!(
///     form.into_string(),
///     r#"<form data-signals:_errors="{&quot;email&quot;:&quot;&quot;}"></form>"#
/// );
/// ```
pub fn errors_signal<I>(fields: I) -> String
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    let mut json = String::from("{");
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        json.push_str(&serde_json::Value::from(field.as_ref()).to_string());
        json.push_str(":\"\"");
    }
    json.push('}');
    json
}
