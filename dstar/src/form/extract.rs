//! [`Form<T>`]: signals read like [`Signals<T>`](crate::Signals), then validated.

use super::errors::FieldErrors;
use super::serde_fields::struct_fields;
use crate::signals::{SignalsRejection, read_signals};
use axum::extract::{FromRequest, Request};
use futures_util::FutureExt as _;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::future::Future;
use std::ops::Deref;
use validator::Validate;

/// The axum extractor for a form: the signals deserialized into `T`, validated, with their
/// [`FieldErrors`].
///
/// The signals are read exactly as [`Signals<T>`](crate::Signals) reads them (the same limit
/// and the same rejections: `400` for bad JSON or a wrong type, `413` past the limit, never a
/// 500). A form that does not validate is not a rejection: the handler gets it and decides,
/// usually by sending its [`errors`](Form::errors) with
/// [`Sse::patch_errors`](crate::Sse::patch_errors). Declare the fields as `String` (what an
/// `<input>` bound with `data-bind` holds): a number field that gets text is a `400`. Add
/// `#[serde(default)]` to the struct (and derive `Default`) so a field whose signal does not
/// exist yet validates as empty instead of being a `400`.
///
/// The errors know every field of `T` (serde's field names, renames included; with
/// `#[serde(flatten)]` every submitted signal instead), so a valid field's message is cleared.
///
/// ```
/// use dstar::form::{Form, Validate};
///
/// #[derive(serde::Deserialize, Validate)]
/// #[validate(crate = "dstar::form::validator")]
/// struct SignUp {
///     #[validate(email)]
///     email: String,
/// }
///
/// async fn submit(form: Form<SignUp>) -> dstar::Sse {
///     let mut sse = dstar::Sse::new();
///     sse.patch_errors(form.errors());
///     if let Ok(signup) = form.valid() {
///         sse.console_log(format!("welcome {}", signup.email));
///     }
///     sse
/// }
/// let app: axum::Router = axum::Router::new().route("/signup", axum::routing::post(submit));
/// ```
#[derive(Debug, Clone)]
pub struct Form<T> {
    value: T,
    errors: FieldErrors,
    signals: Map<String, Value>,
}

impl<T: DeserializeOwned + Validate> Form<T> {
    /// A form from signals already read: deserialized into `T` (a wrong type is
    /// [`SignalsRejection::Malformed`], naming the field), then validated.
    ///
    /// ```
    /// use dstar::form::{Form, Validate};
    /// use serde_json::json;
    ///
    /// #[derive(Debug, serde::Deserialize, Validate)]
    /// #[validate(crate = "dstar::form::validator")]
    /// struct Note {
    ///     #[validate(length(min = 1, max = 140))]
    ///     body: String,
    /// }
    /// let Some(signals) = json!({ "body": "" }).as_object().cloned() else { unreachable!() };
    /// let form = Form::<Note>::from_signals(signals)?;
    /// assert_eq!(form.errors().get("body"), Some("Use at least 1 characters"));
    ///
    /// let Some(wrong) = json!({ "body": 5 }).as_object().cloned() else { unreachable!() };
    /// let rejection = Form::<Note>::from_signals(wrong).unwrap_err();
    /// assert_eq!(rejection.status(), 400);
    /// # Ok::<(), dstar::signals::SignalsRejection>(())
    /// ```
    pub fn from_signals(signals: Map<String, Value>) -> Result<Self, SignalsRejection> {
        let object = Value::Object(signals);
        let value: T = serde_path_to_error::deserialize(&object).map_err(|e| {
            let path = e.path().to_string();
            let at = if path == "." || path.is_empty() {
                "signals".to_owned()
            } else {
                format!("signals.{path}")
            };
            SignalsRejection::Malformed(format!("{at}: {}", e.into_inner()))
        })?;
        let Value::Object(signals) = object else {
            unreachable!("built as an object above")
        };
        let validation = value.validate().err();
        let errors = FieldErrors::of_form(struct_fields::<T>(), &signals, validation.as_ref());
        Ok(Form {
            value,
            errors,
            signals,
        })
    }
}

impl<T> Form<T> {
    /// The form's errors (none when it is valid), knowing every field of the form.
    ///
    /// ```
    /// # use dstar::form::{Form, Validate};
    /// # #[derive(serde::Deserialize, Validate)]
    /// # #[validate(crate = "dstar::form::validator")]
    /// # struct SignUp { #[validate(email)] email: String }
    /// # let Some(signals) = serde_json::json!({ "email": "ada" }).as_object().cloned() else { unreachable!() };
    /// let form = Form::<SignUp>::from_signals(signals)?;
    /// assert_eq!(form.errors().get("email"), Some("Enter a valid email address"));
    /// # Ok::<(), dstar::signals::SignalsRejection>(())
    /// ```
    pub fn errors(&self) -> &FieldErrors {
        &self.errors
    }

    /// The errors, to [`add`](FieldErrors::add) the ones only the server can find ("that email
    /// is taken").
    ///
    /// ```
    /// # use dstar::form::{Form, Validate};
    /// # #[derive(serde::Deserialize, Validate)]
    /// # #[validate(crate = "dstar::form::validator")]
    /// # struct SignUp { #[validate(email)] email: String }
    /// # let Some(signals) = serde_json::json!({ "email": "ada@example.com" }).as_object().cloned() else { unreachable!() };
    /// let mut form = Form::<SignUp>::from_signals(signals)?;
    /// assert!(form.is_valid());
    /// form.errors_mut().add("email", "That email is taken");
    /// assert!(!form.is_valid());
    /// # Ok::<(), dstar::signals::SignalsRejection>(())
    /// ```
    pub fn errors_mut(&mut self) -> &mut FieldErrors {
        &mut self.errors
    }

    /// True when no field has an error.
    ///
    /// ```
    /// # use dstar::form::{Form, Validate};
    /// # #[derive(serde::Deserialize, Validate)]
    /// # #[validate(crate = "dstar::form::validator")]
    /// # struct SignUp { #[validate(email)] email: String }
    /// # let Some(signals) = serde_json::json!({ "email": "ada@example.com" }).as_object().cloned() else { unreachable!() };
    /// assert!(Form::<SignUp>::from_signals(signals)?.is_valid());
    /// # Ok::<(), dstar::signals::SignalsRejection>(())
    /// ```
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }

    /// The deserialized value, valid or not.
    ///
    /// ```
    /// # use dstar::form::{Form, Validate};
    /// # #[derive(serde::Deserialize, Validate)]
    /// # #[validate(crate = "dstar::form::validator")]
    /// # struct SignUp { #[validate(email)] email: String }
    /// # let Some(signals) = serde_json::json!({ "email": "ada" }).as_object().cloned() else { unreachable!() };
    /// assert_eq!(Form::<SignUp>::from_signals(signals)?.value().email, "ada");
    /// # Ok::<(), dstar::signals::SignalsRejection>(())
    /// ```
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The signals the form was read from, as they came (with the page's other signals, such
    /// as `csrf`).
    ///
    /// ```
    /// # use dstar::form::{Form, Validate};
    /// # #[derive(serde::Deserialize, Validate)]
    /// # #[validate(crate = "dstar::form::validator")]
    /// # struct SignUp { #[validate(email)] email: String }
    /// # let Some(signals) = serde_json::json!({ "email": "ada", "csrf": "t" }).as_object().cloned() else { unreachable!() };
    /// assert_eq!(Form::<SignUp>::from_signals(signals)?.signals()["csrf"], "t");
    /// # Ok::<(), dstar::signals::SignalsRejection>(())
    /// ```
    pub fn signals(&self) -> &Map<String, Value> {
        &self.signals
    }

    /// The deserialized value, valid or not.
    ///
    /// ```
    /// # use dstar::form::{Form, Validate};
    /// # #[derive(serde::Deserialize, Validate)]
    /// # #[validate(crate = "dstar::form::validator")]
    /// # struct SignUp { #[validate(email)] email: String }
    /// # let Some(signals) = serde_json::json!({ "email": "ada" }).as_object().cloned() else { unreachable!() };
    /// let signup = Form::<SignUp>::from_signals(signals)?.into_inner();
    /// assert_eq!(signup.email, "ada");
    /// # Ok::<(), dstar::signals::SignalsRejection>(())
    /// ```
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The value and its errors (empty when valid): for a submit that clears the messages of a
    /// valid form, or adds server-side errors before it answers.
    ///
    /// ```
    /// # use dstar::form::{Form, Validate};
    /// # #[derive(serde::Deserialize, Validate)]
    /// # #[validate(crate = "dstar::form::validator")]
    /// # struct SignUp { #[validate(email)] email: String }
    /// # let Some(signals) = serde_json::json!({ "email": "ada@example.com" }).as_object().cloned() else { unreachable!() };
    /// let (signup, errors) = Form::<SignUp>::from_signals(signals)?.into_parts();
    /// assert!(errors.is_empty());
    /// assert_eq!(errors.signals(), serde_json::json!({ "_errors": { "email": "" } }));
    /// # let _ = signup;
    /// # Ok::<(), dstar::signals::SignalsRejection>(())
    /// ```
    pub fn into_parts(self) -> (T, FieldErrors) {
        (self.value, self.errors)
    }

    /// The value when the form is valid, else its errors.
    ///
    /// ```
    /// # use dstar::form::{Form, Validate};
    /// # #[derive(Debug, serde::Deserialize, Validate)]
    /// # #[validate(crate = "dstar::form::validator")]
    /// # struct SignUp { #[validate(email)] email: String }
    /// # let Some(signals) = serde_json::json!({ "email": "ada" }).as_object().cloned() else { unreachable!() };
    /// let errors = Form::<SignUp>::from_signals(signals)?.valid().unwrap_err();
    /// assert_eq!(errors.len(), 1);
    /// # Ok::<(), dstar::signals::SignalsRejection>(())
    /// ```
    pub fn valid(self) -> Result<T, FieldErrors> {
        if self.errors.is_empty() {
            Ok(self.value)
        } else {
            Err(self.errors)
        }
    }
}

/// The deserialized value: `form.email`.
impl<T> Deref for Form<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T, S> FromRequest<S> for Form<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = SignalsRejection;

    fn from_request(
        req: Request,
        _state: &S,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        // the signals reader's own future, mapped (as `Signals<T>` does)
        read_signals::<Map<String, Value>>(req).map(|r| r.and_then(Form::from_signals))
    }
}

#[cfg(test)]
mod tests {
    #[derive(Debug, serde::Deserialize, validator::Validate)]
    #[allow(dead_code)]
    struct Prefs {
        mode: Mode,
    }

    #[derive(Debug, serde::Deserialize)]
    enum Mode {
        Light,
    }

    #[test]
    fn a_release_body_quotes_nothing_of_the_form() {
        use axum::response::IntoResponse;
        let signals = serde_json::json!({ "mode": "<script>alert(1)</script>" });
        let serde_json::Value::Object(signals) = signals else {
            unreachable!()
        };
        let rejection = super::Form::<Prefs>::from_signals(signals).unwrap_err();
        assert!(rejection.to_string().contains("<script>"), "{rejection}");
        let refused = crate::error::quietly(|| rejection.into_response());
        crate::error::assert_quiet(refused, 400, "invalid signals");
    }
}
