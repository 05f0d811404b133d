//! The functional core's events through the public API: signals, elements, scripts, actions.

use dstar::Sse;
use dstar::elements::{Mode, Namespace, PatchElements};
use dstar::scripts::{ExecuteScript, Redirect};
use dstar::signals::{PatchSignals, RemoveSignals};
use dstar::sse::{EventOptions as _, format_event};
use dstar::test::parse_events;
use maud::html;
use serde_json::json;
use std::time::Duration;

fn text(e: &impl dstar::sse::DatastarEvent) -> String {
    String::from_utf8(format_event(e).expect("valid event").to_vec()).unwrap()
}

#[test]
fn patch_signals_takes_serialize_values_and_raw_json_with_options() {
    #[derive(serde::Serialize)]
    struct S {
        count: i64,
    }
    assert_eq!(
        text(&PatchSignals::new(S { count: 1 })),
        "event: datastar-patch-signals\ndata: signals {\"count\":1}\n\n"
    );
    assert_eq!(
        text(
            &PatchSignals::raw("{\"a\":1}")
                .only_if_missing(true)
                .id("ev")
                .retry(Duration::from_millis(2500))
        ),
        "event: datastar-patch-signals\nid: ev\nretry: 2500\ndata: onlyIfMissing true\ndata: signals {\"a\":1}\n\n"
    );
    // the default retry is never written
    assert!(!text(&PatchSignals::new(json!({})).retry(Duration::from_secs(1))).contains("retry"));
    // a merge patch must be an object
    assert_eq!(
        format_event(&PatchSignals::new(5)).unwrap_err(),
        dstar::Error::SignalsNotObject
    );
    assert!(format_event(&PatchSignals::raw("[1]")).is_err());
}

#[test]
fn remove_signals_validates_paths() {
    for (path, reason) in [
        ("", "it is empty"),
        (".a", "it starts with a dot"),
        ("a.", "it ends with a dot"),
        ("a..b", "it contains an empty segment (`..`)"),
    ] {
        let err = format_event(&RemoveSignals::new(path)).unwrap_err();
        assert_eq!(
            err,
            dstar::Error::InvalidSignalPath {
                path: path.into(),
                reason
            }
        );
    }
    // one bad path among good ones writes nothing at all
    let mut sse = Sse::new();
    assert!(sse.remove_signals(["a.b", "c..d"]).is_err());
    assert!(sse.is_empty());
}

#[test]
fn remove_signals_deep_merges_shared_prefixes_and_ancestors_win() {
    let mut sse = Sse::new();
    sse.remove_signals(["user.name", "user.email", "user.profile.avatar"])
        .unwrap()
        .remove_signals(vec![
            "user.profile".to_string(),
            "user.profile.theme".to_string(),
        ])
        .unwrap()
        .remove_signals("session")
        .unwrap();
    let events = parse_events(sse.as_bytes());
    let patches: Vec<serde_json::Value> = events
        .iter()
        .map(|e| serde_json::from_str(&e.value("signals").unwrap()).unwrap())
        .collect();
    assert_eq!(
        patches,
        [
            json!({"user": {"name": null, "email": null, "profile": {"avatar": null}}}),
            json!({"user": {"profile": null}}),
            json!({"session": null}),
        ]
    );
}

#[test]
fn patch_elements_accepts_literals_markup_and_trusted_strings() {
    let from_str = text(&PatchElements::new("<p id=\"a\">x</p>"));
    // a String must say it is trusted HTML (a bare String does not compile: see the Html docs)
    let from_string = text(&PatchElements::new(maud::PreEscaped(String::from(
        "<p id=\"a\">x</p>",
    ))));
    let from_markup = text(&PatchElements::new(html! { p #a { "x" } }));
    let from_pre = text(&PatchElements::new(maud::PreEscaped("<p id=\"a\">x</p>")));
    assert_eq!(from_str, from_string);
    assert_eq!(from_str, from_markup);
    assert_eq!(from_str, from_pre);
}

#[test]
fn every_mode_and_namespace_is_written_and_selectors_are_enforced() {
    let modes = [
        Mode::Outer,
        Mode::Inner,
        Mode::Replace,
        Mode::Prepend,
        Mode::Append,
        Mode::Before,
        Mode::After,
        Mode::Remove,
    ];
    for mode in modes {
        let event =
            parse_events(text(&PatchElements::new("<p></p>").selector("#t").mode(mode)).as_bytes())
                .remove(0);
        let expected: Vec<&str> = if mode == Mode::Outer {
            vec![]
        } else {
            vec![mode.as_str()]
        };
        assert_eq!(event.lines("mode"), expected);
        let without_selector = format_event(&PatchElements::new("<p id=\"t\"></p>").mode(mode));
        if mode.needs_selector() {
            assert_eq!(
                without_selector.unwrap_err(),
                dstar::Error::MissingSelector {
                    mode: mode.as_str()
                }
            );
        } else {
            assert!(without_selector.is_ok());
        }
    }
    for (ns, line) in [
        (Namespace::Svg, Some("svg")),
        (Namespace::MathMl, Some("mathml")),
        (Namespace::Html, None),
    ] {
        let event = parse_events(
            text(&PatchElements::new("<g></g>").selector("#c").namespace(ns)).as_bytes(),
        )
        .remove(0);
        assert_eq!(
            event.lines("namespace"),
            line.into_iter().collect::<Vec<_>>()
        );
    }
    let all = text(
        &PatchElements::new("<div>\n<span>x</span>\r\n</div>")
            .selector("#main")
            .mode(Mode::Inner)
            .use_view_transition(true)
            .view_transition_selector("#main")
            .id("e1")
            .retry(Duration::from_secs(2)),
    );
    assert_eq!(
        all,
        "event: datastar-patch-elements\nid: e1\nretry: 2000\ndata: selector #main\ndata: mode inner\n\
         data: useViewTransition true\ndata: viewTransitionSelector #main\n\
         data: elements <div>\ndata: elements <span>x</span>\ndata: elements </div>\n\n"
    );
}

#[test]
fn remove_elements_sends_a_selector_and_mode_remove() {
    let mut sse = Sse::new();
    sse.remove_elements("#flash-message");
    assert_eq!(
        sse.as_bytes(),
        b"event: datastar-patch-elements\ndata: selector #flash-message\ndata: mode remove\n\n"
    );
}

#[test]
fn execute_script_attributes_and_auto_remove() {
    assert_eq!(
        text(
            &ExecuteScript::new("go()")
                .auto_remove(false)
                .attribute("type", "module")
                .unwrap()
        ),
        "event: datastar-patch-elements\ndata: mode append\ndata: selector body\n\
         data: elements <script type=\"module\">go()</script>\n\n"
    );
    let escaped = text(
        &ExecuteScript::new("1")
            .attribute("nonce", "a\"b<c>&")
            .unwrap(),
    );
    assert!(
        escaped.contains("nonce=\"a&quot;b&lt;c&gt;&amp;\""),
        "{escaped}"
    );
    for bad in ["", "on load", "a\"b", "x>y", "é"] {
        assert!(
            ExecuteScript::new("1").attribute(bad, "v").is_err(),
            "{bad:?}"
        );
    }
    let body = text(&ExecuteScript::new("s = '</SCRIPT >'; t = '<!--'"));
    assert!(body.contains(r"s = '<\/SCRIPT >'; t = '<\!--'"), "{body}");
}

#[test]
fn redirect_allows_only_same_origin_targets_by_default() {
    for ok in ["/login", "/a?b=c#d", "?page=2", "#top", "  /padded  "] {
        assert!(Redirect::to(ok).validate().is_ok(), "{ok:?} should pass");
    }
    for bad in [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " java\tscript:alert(1)",
        "\u{200B}javascript:alert(1)",
        "jav\u{0}ascript:alert(1)",
        "data:text/html,<script>",
        "vbscript:msgbox",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "\u{00AD}//evil.example",
        "https://evil.example/",
        "https://user@app.example/",
        "https://app.example@evil.example/",
        "relative/path",
        "",
    ] {
        assert!(
            Redirect::to(bad).validate().is_err(),
            "{bad:?} should be refused"
        );
    }
    assert!(
        Redirect::to("https://app.example/x")
            .origin("https://app.example")
            .validate()
            .is_ok()
    );
    assert!(
        Redirect::to("https://app.example.evil/x")
            .origin("https://app.example")
            .validate()
            .is_err()
    );
    assert!(
        Redirect::to("https://docs.example/")
            .allow_external()
            .validate()
            .is_ok()
    );
    assert!(
        Redirect::to("javascript:x")
            .allow_external()
            .validate()
            .is_err()
    );
    assert!(
        Redirect::to("https://u:p@docs.example/")
            .allow_external()
            .validate()
            .is_err()
    );
    // refused before anything is sent
    let mut sse = Sse::new();
    assert!(sse.redirect("//evil").is_err());
    assert!(sse.is_empty());
}

#[test]
fn console_log_levels() {
    use dstar::scripts::LogLevel::*;
    for (level, name) in [
        (Log, "log"),
        (Warn, "warn"),
        (Error, "error"),
        (Info, "info"),
        (Debug, "debug"),
    ] {
        let mut sse = Sse::new();
        sse.console(level, "m");
        let html = parse_events(sse.as_bytes())[0].value("elements").unwrap();
        assert_eq!(
            html,
            format!("<script data-effect=\"el.remove()\">console.{name}(\"m\")</script>")
        );
    }
}

#[test]
fn actions_build_expressions_for_paths_and_modules() {
    use dstar::actions::*;
    assert_eq!(
        post("/counter/increment").to_string(),
        "@post('/counter/increment')"
    );
    assert_eq!(get("/q").to_string(), "@get('/q')");
    assert_eq!(put("/q").to_string(), "@put('/q')");
    assert_eq!(patch("/q").to_string(), "@patch('/q')");
    assert_eq!(delete("/q").to_string(), "@delete('/q')");
    assert_eq!(
        post("/ticker")
            .options("{retryMaxCount: Infinity}")
            .to_string(),
        "@post('/ticker', {retryMaxCount: Infinity})"
    );
    assert_eq!(
        Action::for_module(Verb::Post, "my_app_web::CounterHandler", "increment")
            .unwrap()
            .to_string(),
        "@post('/ds/my_app_web-CounterHandler/increment')"
    );
    assert_eq!(
        Action::for_module(Verb::Post, "app::Drawer", "change_title:12")
            .unwrap()
            .prefix("/admin")
            .to_string(),
        "@post('/admin/ds/app-Drawer/change_title%3A12')"
    );
    assert!(Action::for_module(Verb::Post, "app::Drawer", "..").is_err());
    // a quote in a URL cannot end the JS string, and maud escapes the attribute
    let markup = html! { button data-on:click=(post("/it's\"<")) {} };
    assert_eq!(
        markup.into_string(),
        r#"<button data-on:click="@post('/it\x27s\x22\x3c')"></button>"#
    );
}

mod module_names {
    use dstar::actions::{decode_module, encode_module};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn encoding_round_trips_and_is_url_safe(
            segs in prop::collection::vec("[a-zA-Z_àéüß][a-zA-Z0-9_àéüß]{0,8}", 1..5)
        ) {
            prop_assume!(segs.iter().all(|s| s != "_"));
            let path = segs.join("::");
            let encoded = encode_module(&path);
            prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-%".contains(&b)));
            prop_assert_eq!(decode_module(&encoded), Some(path));
        }

        #[test]
        fn decoding_never_panics_and_is_canonical(s in any::<String>()) {
            if let Some(path) = decode_module(&s) {
                prop_assert_eq!(encode_module(&path), s);
            }
        }
    }
}
