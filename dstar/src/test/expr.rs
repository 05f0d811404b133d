//! The Datastar expressions a [`TestPage`](super::TestPage) can run without a JavaScript engine:
//! the actions dstar writes (`event("…")`, component events, `@post('/url')`), guarded by key
//! checks, and signal assignments. Anything else is refused with the expression quoted, so a test
//! never silently skips a handler.

use serde_json::Value;

/// One statement of a handler.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Statement {
    /// `@verb(url, options?)`.
    Action { verb: String, url: Vec<Term> },
    /// `$name = value`.
    Assign { signal: String, value: Term },
}

/// A handler: statements, each run only when its guards hold.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Guarded {
    pub(crate) guards: Vec<Guard>,
    pub(crate) statement: Statement,
}

/// A condition before `&&`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Guard {
    /// `evt.key === 'Enter'` (or `!==`).
    Key { key: String, equal: bool },
    /// `$name` (or `!$name`): the signal is truthy.
    Signal { signal: String, truthy: bool },
}

/// A value: in a URL, the terms are joined; in an assignment there is one.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Term {
    /// A literal (string, number, boolean, null, JSON).
    Literal(Value),
    /// `$name`.
    Signal(String),
    /// `!$name`.
    Not(String),
    /// `evt.target.value`.
    TargetValue,
    /// `location.pathname…`: the page's path, normalized as dstar's page actions do.
    Pathname,
    /// `location.search`.
    Search,
    /// The component dispatch base, read from `<body data-ds-base>`.
    DispatchBase,
}

/// Parses a `data-on:*` expression; `Err` quotes what is not supported.
pub(crate) fn parse_handler(expression: &str) -> Result<Vec<Guarded>, String> {
    let mut out = Vec::new();
    for statement in split_top(expression, ";") {
        let statement = statement.trim();
        if statement.is_empty() {
            continue;
        }
        let parts = split_top(statement, "&&");
        let (last, guards) = parts.split_last().expect("split gives one part at least");
        let guards = guards
            .iter()
            .map(|g| parse_guard(g.trim()))
            .collect::<Result<_, _>>()?;
        out.push(Guarded {
            guards,
            statement: parse_statement(last.trim())?,
        });
    }
    Ok(out)
}

fn parse_guard(text: &str) -> Result<Guard, String> {
    for (op, equal) in [("===", true), ("!==", false), ("==", true), ("!=", false)] {
        if let Some((left, right)) = text.split_once(op) {
            if left.trim() == "evt.key" {
                let Value::String(key) = parse_literal(right.trim())? else {
                    return Err(format!("unsupported key check `{text}`"));
                };
                return Ok(Guard::Key { key, equal });
            }
        }
    }
    if let Some(name) = text.strip_prefix("!$").filter(|n| is_signal_name(n)) {
        return Ok(Guard::Signal {
            signal: name.to_owned(),
            truthy: false,
        });
    }
    if let Some(name) = text.strip_prefix('$').filter(|n| is_signal_name(n)) {
        return Ok(Guard::Signal {
            signal: name.to_owned(),
            truthy: true,
        });
    }
    Err(format!("unsupported condition `{text}`"))
}

fn parse_statement(text: &str) -> Result<Statement, String> {
    if let Some(rest) = text.strip_prefix('@') {
        let open = rest
            .find('(')
            .ok_or_else(|| format!("unsupported action `{text}`"))?;
        let verb = rest[..open].to_ascii_uppercase();
        if !matches!(verb.as_str(), "GET" | "POST" | "PUT" | "PATCH" | "DELETE") {
            return Err(format!("unsupported action `{text}`"));
        }
        let inner = rest[open + 1..]
            .strip_suffix(')')
            .ok_or_else(|| format!("unsupported action `{text}`"))?;
        let args = split_top(inner, ",");
        let url = split_top(args[0].trim(), "+")
            .into_iter()
            .map(|t| parse_term(t.trim()))
            .collect::<Result<_, _>>()?;
        return Ok(Statement::Action { verb, url });
    }
    if let Some(rest) = text.strip_prefix('$') {
        if let Some((name, value)) = rest.split_once('=') {
            let name = name.trim();
            if is_signal_name(name) && !value.starts_with('=') {
                return Ok(Statement::Assign {
                    signal: name.to_owned(),
                    value: parse_term(value.trim())?,
                });
            }
        }
    }
    Err(format!("unsupported statement `{text}`"))
}

fn parse_term(text: &str) -> Result<Term, String> {
    if text.starts_with("location.pathname") {
        return Ok(Term::Pathname);
    }
    if text == "location.search" {
        return Ok(Term::Search);
    }
    if text == "evt.target.value" || text == "el.value" {
        return Ok(Term::TargetValue);
    }
    if text.contains("dataset.dsBase") {
        return Ok(Term::DispatchBase);
    }
    if let Some(name) = text.strip_prefix("!$").filter(|n| is_signal_name(n)) {
        return Ok(Term::Not(name.to_owned()));
    }
    if let Some(name) = text.strip_prefix('$').filter(|n| is_signal_name(n)) {
        return Ok(Term::Signal(name.to_owned()));
    }
    parse_literal(text).map(Term::Literal)
}

/// `count`, `user.name`: a signal path, nothing else (so `$n > 0` is refused, not misread).
fn is_signal_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// A JavaScript literal: JSON, or a single-quoted string with `\xNN` and `\'` escapes.
pub(crate) fn parse_literal(text: &str) -> Result<Value, String> {
    if let Some(inner) = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        return unescape_single(inner).ok_or_else(|| format!("unsupported string `{text}`"));
    }
    serde_json::from_str(text).map_err(|_| format!("unsupported value `{text}`"))
}

fn unescape_single(inner: &str) -> Option<Value> {
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'x' => {
                let hex: String = chars.by_ref().take(2).collect();
                out.push(char::from(u8::from_str_radix(&hex, 16).ok()?));
            }
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            other => out.push(other),
        }
    }
    Some(Value::String(out))
}

/// Splits `text` at each `sep` outside quotes, parentheses, brackets, braces and regex literals.
fn split_top<'a>(text: &'a str, sep: &str) -> Vec<&'a str> {
    let bytes = text.as_bytes();
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(q) = quote {
            if b == b'\\' {
                i += 2;
                continue;
            }
            if b == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match b {
            b'\'' | b'"' | b'`' => quote = Some(b),
            // a regex literal: `/…/` after `(` or `,` (as in `.replace(/^\/+/, '/')`)
            b'/' if text[..i].trim_end().ends_with(['(', ',']) => quote = Some(b'/'),
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            _ if depth == 0 && bytes[i..].starts_with(sep.as_bytes()) => {
                parts.push(&text[start..i]);
                i += sep.len();
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_actions_dstar_writes() {
        let page =
            crate::actions::Action::page_event(crate::actions::Verb::Post, "add").to_string();
        let handler = parse_handler(&format!("evt.key === 'Enter' && {page}")).unwrap();
        assert_eq!(
            handler[0].guards,
            [Guard::Key {
                key: "Enter".into(),
                equal: true
            }]
        );
        assert_eq!(
            handler[0].statement,
            Statement::Action {
                verb: "POST".into(),
                url: vec![
                    Term::Pathname,
                    Term::Literal(Value::String("/_event/add".into()))
                ]
            }
        );
        let component = crate::component::component_action(
            crate::actions::Verb::Delete,
            "app::Drawer",
            "close",
            &[&7],
        )
        .to_string();
        let handler = parse_handler(&component).unwrap();
        let Statement::Action { verb, url } = &handler[0].statement else {
            panic!("{handler:?}")
        };
        assert_eq!(verb, "DELETE");
        assert_eq!(url[0], Term::DispatchBase);
    }

    #[test]
    fn reads_assignments_and_refuses_the_rest() {
        let handler = parse_handler("$editing = ''; $draft = evt.target.value").unwrap();
        assert_eq!(handler.len(), 2);
        assert!(
            parse_handler("alert('hi')")
                .unwrap_err()
                .contains("alert('hi')")
        );
        assert!(parse_handler("$count += 1").is_err());
        assert!(parse_handler("$n > 0 && @post('/x')").is_err());
        assert!(
            parse_handler("$café = 1; é && $x = 1").is_err(),
            "no panic on non-ASCII"
        );
    }
}
