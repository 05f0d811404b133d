//! [`message_for`]: the readable message of one validation error, its own or a default for its
//! code.

use serde_json::Value;
use validator::ValidationError;

/// The message of one validation error: its own (`#[validate(email(message = "…"))]`), else a
/// readable default for its code: `email`, `url`, `length`, `range`, `required`, `must_match`,
/// `contains`, `does_not_contain`, `regex`, `credit_card`, `ip`, `non_control_character`, and
/// "This value is not valid" for any other code.
///
/// ```
/// use validator::ValidationError;
/// use dstar::form::message_for;
///
/// let mut short = ValidationError::new("length");
/// short.add_param("min".into(), &8);
/// assert_eq!(message_for(&short), "Use at least 8 characters");
/// assert_eq!(message_for(&ValidationError::new("email")), "Enter a valid email address");
/// let own = ValidationError::new("taken").with_message("That email is taken".into());
/// assert_eq!(message_for(&own), "That email is taken");
/// ```
pub fn message_for(error: &ValidationError) -> String {
    if let Some(message) = &error.message {
        return message.to_string();
    }
    let param = |name: &str| error.params.get(name).map(display_param);
    match error.code.as_ref() {
        "email" => "Enter a valid email address".to_owned(),
        "url" => "Enter a valid URL".to_owned(),
        "required" => "This field is required".to_owned(),
        "must_match" => "This does not match".to_owned(),
        "regex" => "This is not in the expected format".to_owned(),
        "credit_card" => "Enter a valid card number".to_owned(),
        "ip" => "Enter a valid IP address".to_owned(),
        "non_control_character" => "Remove the control characters".to_owned(),
        "contains" => match param("needle") {
            Some(needle) => format!("Must contain “{needle}”"),
            None => "This value is not valid".to_owned(),
        },
        "does_not_contain" => match param("needle") {
            Some(needle) => format!("Must not contain “{needle}”"),
            None => "This value is not valid".to_owned(),
        },
        "length" => length_message(error, param("min"), param("max"), param("equal")),
        "range" => range_message(
            param("min")
                .map(|m| (m, true))
                .or_else(|| param("exclusive_min").map(|m| (m, false))),
            param("max")
                .map(|m| (m, true))
                .or_else(|| param("exclusive_max").map(|m| (m, false))),
        ),
        _ => "This value is not valid".to_owned(),
    }
}

fn length_message(
    error: &ValidationError,
    min: Option<String>,
    max: Option<String>,
    equal: Option<String>,
) -> String {
    let value = error.params.get("value");
    let unit = if matches!(value, Some(Value::Array(_) | Value::Object(_))) {
        "items"
    } else {
        "characters"
    };
    if let Some(equal) = equal {
        return format!("Use exactly {equal} {unit}");
    }
    let at_least = |min: &str| format!("Use at least {min} {unit}");
    let at_most = |max: &str| format!("Use at most {max} {unit}");
    match (min, max) {
        (Some(min), Some(max)) => {
            // which bound it broke, from the value the validator kept
            let len = match value {
                Some(Value::String(s)) => Some(s.chars().count()),
                Some(Value::Array(a)) => Some(a.len()),
                Some(Value::Object(o)) => Some(o.len()),
                _ => None,
            };
            match (len, min.parse::<usize>().ok(), max.parse::<usize>().ok()) {
                (Some(len), Some(lo), _) if len < lo => at_least(&min),
                (Some(len), _, Some(hi)) if len > hi => at_most(&max),
                _ => format!("Use between {min} and {max} {unit}"),
            }
        }
        (Some(min), None) => at_least(&min),
        (None, Some(max)) => at_most(&max),
        (None, None) => "This has the wrong length".to_owned(),
    }
}

/// The bounds as `(value, inclusive)`.
fn range_message(min: Option<(String, bool)>, max: Option<(String, bool)>) -> String {
    let lower = |(min, inclusive): (String, bool)| {
        if inclusive {
            format!("at least {min}")
        } else {
            format!("greater than {min}")
        }
    };
    let upper = |(max, inclusive): (String, bool)| {
        if inclusive {
            format!("at most {max}")
        } else {
            format!("less than {max}")
        }
    };
    match (min, max) {
        (Some((min, true)), Some((max, true))) => format!("Enter a number from {min} to {max}"),
        (Some(min), Some(max)) => format!("Enter a number {} and {}", lower(min), upper(max)),
        (Some(min), None) => format!("Enter a number {}", lower(min)),
        (None, Some(max)) => format!("Enter a number {}", upper(max)),
        (None, None) => "This number is out of range".to_owned(),
    }
}

/// A parameter as text: strings without their quotes.
fn display_param(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use serde_json::json;

    /// A validation error with `code` and `params`, as validator's derive makes them.
    pub(in crate::form) fn error(
        code: &'static str,
        params: &[(&'static str, Value)],
    ) -> ValidationError {
        let mut e = ValidationError::new(code);
        for (name, value) in params {
            e.add_param((*name).into(), value);
        }
        e
    }

    #[test]
    fn form_default_messages_by_code() {
        let cases = [
            (error("email", &[]), "Enter a valid email address"),
            (
                error("length", &[("min", json!(8))]),
                "Use at least 8 characters",
            ),
            (
                error("length", &[("max", json!(20))]),
                "Use at most 20 characters",
            ),
            (
                error(
                    "length",
                    &[("min", json!(2)), ("max", json!(4)), ("value", json!("a"))],
                ),
                "Use at least 2 characters",
            ),
            (
                error(
                    "length",
                    &[
                        ("min", json!(2)),
                        ("max", json!(4)),
                        ("value", json!("abcdef")),
                    ],
                ),
                "Use at most 4 characters",
            ),
            (
                error("length", &[("min", json!(1)), ("value", json!([]))]),
                "Use at least 1 items",
            ),
            (
                error("length", &[("equal", json!(6))]),
                "Use exactly 6 characters",
            ),
            (error("required", &[]), "This field is required"),
            (
                error("range", &[("min", json!(1)), ("max", json!(10))]),
                "Enter a number from 1 to 10",
            ),
            (
                error("range", &[("exclusive_min", json!(0))]),
                "Enter a number greater than 0",
            ),
            (
                error("range", &[("min", json!(1))]),
                "Enter a number at least 1",
            ),
            (
                error("range", &[("exclusive_min", json!(0)), ("max", json!(5))]),
                "Enter a number greater than 0 and at most 5",
            ),
            (error("url", &[]), "Enter a valid URL"),
            (error("must_match", &[]), "This does not match"),
            (
                error("contains", &[("needle", json!("@"))]),
                "Must contain “@”",
            ),
            (error("something_else", &[]), "This value is not valid"),
        ];
        for (e, expected) in cases {
            assert_eq!(message_for(&e), expected, "{e:?}");
        }
    }
}
