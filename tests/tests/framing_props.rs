//! Property tests: no content can forge an SSE field or event, and no interpolated text can break
//! out of a generated script. Every formatted event is re-parsed by the SSE spec's line rules.

use dstar::elements::{Mode, PatchElements};
use dstar::scripts::{ConsoleLog, ExecuteScript, LogLevel, Redirect};
use dstar::signals::PatchSignals;
use dstar::sse::{EventOptions as _, format_event};
use dstar::test::parse_events;
use proptest::prelude::*;

/// Strings rich in the characters that matter: line ends, colons, quotes, tags, separators.
fn nasty() -> impl Strategy<Value = String> {
    let atoms = prop_oneof![
        Just("\r".to_owned()),
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        Just("\n\n".to_owned()),
        Just("data: x".to_owned()),
        Just("event: forged".to_owned()),
        Just("id: 1".to_owned()),
        Just(":".to_owned()),
        Just("</script>".to_owned()),
        Just("</SCRIPT >".to_owned()),
        Just("<!--".to_owned()),
        Just("\"".to_owned()),
        Just("'".to_owned()),
        Just("\\".to_owned()),
        Just("\u{2028}".to_owned()),
        Just("\u{2029}".to_owned()),
        Just("\0".to_owned()),
        any::<String>(),
    ];
    prop::collection::vec(atoms, 0..12).prop_map(|v| v.concat())
}

/// What the client sees after joining data lines with `\n`: every line end becomes `\n`.
fn normalise_line_ends(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

fn strip_line_ends(s: &str) -> String {
    s.replace(['\r', '\n'], "")
}

/// JSON whitespace, line breaks included, between every token of a signals object.
fn spaced_json() -> impl Strategy<Value = (String, serde_json::Value)> {
    let ws = prop::collection::vec(
        prop_oneof![Just(" "), Just("\n"), Just("\r"), Just("\r\n"), Just("\t")],
        0..3,
    )
    .prop_map(|v| v.concat());
    (ws.clone(), nasty(), ws.clone(), any::<i64>(), ws).prop_map(|(a, key, b, n, c)| {
        let key_json = serde_json::to_string(&key).unwrap();
        let text = format!("{{{a}{key_json}{b}:{c}{n}{a}}}");
        (text, serde_json::json!({ key: n }))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// A `RawValue` keeps its own line breaks; they must not end the data line and forge a field.
    #[test]
    fn raw_values_with_line_breaks_cannot_forge_fields((text, value) in spaced_json(), forged in nasty()) {
        #[derive(serde::Serialize)]
        struct Wrapper<'a> {
            inner: &'a serde_json::value::RawValue,
            note: String,
        }
        let raw = serde_json::value::RawValue::from_string(text).unwrap();
        let event = PatchSignals::new(Wrapper { inner: &raw, note: forged.clone() });
        let bytes = format_event(&event).unwrap();
        let events = parse_events(&bytes);
        prop_assert_eq!(events.len(), 1);
        prop_assert_eq!(&events[0].event, "datastar-patch-signals");
        prop_assert_eq!(events[0].lines("event").len(), 0);
        let joined = events[0].value("signals").unwrap();
        let back: serde_json::Value = serde_json::from_str(&joined).unwrap();
        prop_assert_eq!(&back["inner"], &value);
        prop_assert_eq!(back["note"].as_str(), Some(forged.as_str()));
    }

    #[test]
    fn element_content_and_options_cannot_forge_fields(html in nasty(), selector in nasty(), id in nasty()) {
        let event = PatchElements::new(maud::PreEscaped(html.as_str()))
            .selector(selector.clone())
            .mode(Mode::Inner)
            .id(id.clone());
        let bytes = format_event(&event).unwrap();
        let events = parse_events(&bytes);
        prop_assert_eq!(events.len(), 1);
        let e = &events[0];
        prop_assert_eq!(&e.event, "datastar-patch-elements");
        // the SSE spec ignores an id holding NUL, so NUL is dropped with the line breaks
        let expected_id = Some(strip_line_ends(&id.replace('\0', "")));
        prop_assert_eq!(e.id.clone(), expected_id);
        prop_assert_eq!(e.retry, None);
        prop_assert_eq!(e.lines("selector"), vec![strip_line_ends(&selector)]);
        prop_assert_eq!(e.lines("mode"), vec!["inner"]);
        prop_assert_eq!(e.value("elements"), Some(normalise_line_ends(&html)));
        // every data line belongs to a known key
        for line in &e.data {
            let key = line.split(' ').next().unwrap();
            prop_assert!(["selector", "mode", "elements"].contains(&key), "unexpected line {:?}", line);
        }
    }

    #[test]
    fn raw_signals_cannot_forge_fields(tail in nasty()) {
        let raw = format!("{{{tail}");
        let bytes = format_event(&PatchSignals::raw(&raw)).unwrap();
        let events = parse_events(&bytes);
        prop_assert_eq!(events.len(), 1);
        prop_assert_eq!(&events[0].event, "datastar-patch-signals");
        prop_assert_eq!(events[0].value("signals"), Some(normalise_line_ends(&raw)));
    }

    #[test]
    fn serialized_signals_round_trip(key in nasty(), value in nasty()) {
        let signals = serde_json::json!({ key.clone(): value.clone() });
        let bytes = format_event(&PatchSignals::new(&signals)).unwrap();
        let events = parse_events(&bytes);
        prop_assert_eq!(events.len(), 1);
        let lines = events[0].lines("signals");
        prop_assert_eq!(lines.len(), 1);
        let back: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        prop_assert_eq!(back, signals);
    }

    #[test]
    fn scripts_cannot_be_broken_out_of(text in nasty(), attr in nasty()) {
        let events = [
            format_event(&ConsoleLog::new(LogLevel::Warn, text.as_str())).unwrap(),
            format_event(&ExecuteScript::new(text.as_str()).attribute("data-x", &attr).unwrap()).unwrap(),
        ];
        for bytes in events {
            let parsed = parse_events(&bytes);
            prop_assert_eq!(parsed.len(), 1);
            let html = parsed[0].value("elements").unwrap();
            assert_single_script(&html)?;
        }
    }

    #[test]
    fn redirects_are_either_refused_or_safe(url in nasty()) {
        if let Ok(bytes) = format_event(&Redirect::to(&url)) {
            let parsed = parse_events(&bytes);
            prop_assert_eq!(parsed.len(), 1);
            assert_single_script(&parsed[0].value("elements").unwrap())?;
        }
    }

    #[test]
    fn console_log_round_trips_the_message(text in nasty()) {
        let bytes = format_event(&ConsoleLog::new(LogLevel::Log, text.as_str())).unwrap();
        let html = parse_events(&bytes)[0].value("elements").unwrap();
        let literal = html
            .strip_prefix("<script data-effect=\"el.remove()\">console.log(")
            .and_then(|s| s.strip_suffix(")</script>"))
            .expect("shape");
        // The literal is JSON, so JSON parsing reads back exactly what JavaScript would.
        let back: String = serde_json::from_str(literal).unwrap();
        prop_assert_eq!(back, text);
    }
}

/// The HTML holds exactly one `<script …>` start tag whose element only ends at the final
/// `</script>`, and the opening tag's attributes are quoted and closed.
fn assert_single_script(html: &str) -> Result<(), TestCaseError> {
    let lower = html.to_ascii_lowercase();
    prop_assert!(lower.starts_with("<script"), "{html}");
    prop_assert!(lower.ends_with("</script>"), "{html}");
    let closes = lower.matches("</script").count();
    prop_assert_eq!(closes, 1, "script closed early: {}", html);
    prop_assert!(!lower.contains("<!--"), "comment opener in {}", html);
    // The tag's attribute values cannot contain a raw quote or `>`.
    let tag_end = html.find('>').unwrap();
    let tag = &html[..tag_end];
    prop_assert_eq!(
        tag.matches('"').count() % 2,
        0,
        "unbalanced quotes in {}",
        tag
    );
    Ok(())
}
