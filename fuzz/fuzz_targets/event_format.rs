//! The event formatter, re-parsed by the SSE parser: arbitrary content never forges a field or a
//! second event, and the content comes back as the client would join it.
#![no_main]

use dstar::PreEscaped;
use dstar::elements::{Mode, PatchElements};
use dstar::signals::PatchSignals;
use dstar::sse::format_event;
use libfuzzer_sys::fuzz_target;

fn client_view(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

fuzz_target!(|data: &str| {
    let mut parts = data.splitn(3, '\u{1}');
    let html = parts.next().unwrap_or("");
    let selector = parts.next().unwrap_or("#x");
    let id = parts.next().unwrap_or("");
    let bytes = format_event(
        &PatchElements::new(PreEscaped(html))
            .selector(selector.to_owned())
            .mode(Mode::Inner)
            .id(id.to_owned()),
    )
    .unwrap();
    let events = dstar::test::parse_events(&bytes);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event, "datastar-patch-elements");
    assert_eq!(events[0].value("elements"), Some(client_view(html)));
    assert_eq!(events[0].lines("selector").len(), 1);
    assert_eq!(events[0].lines("mode"), ["inner"]);
    let raw = format!("{{{data}");
    let bytes = format_event(&PatchSignals::raw(&raw)).unwrap();
    let events = dstar::test::parse_events(&bytes);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].value("signals"), Some(client_view(&raw)));
    // a RawValue keeps its own line breaks; they must not end the data line
    if let Ok(value) = serde_json::value::RawValue::from_string(data.to_owned()) {
        #[derive(serde::Serialize)]
        struct Wrapper<'a> {
            v: &'a serde_json::value::RawValue,
        }
        let bytes = format_event(&PatchSignals::new(Wrapper { v: &value })).unwrap();
        let events = dstar::test::parse_events(&bytes);
        assert_eq!(events.len(), 1);
        let joined: serde_json::Value =
            serde_json::from_str(&events[0].value("signals").unwrap()).unwrap();
        let expected: serde_json::Value = serde_json::from_str(data).unwrap();
        assert_eq!(joined["v"], expected);
    }
});
