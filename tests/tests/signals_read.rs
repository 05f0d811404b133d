//! Reading signals through the `Signals` extractor: every method, every bad input.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::routing::any;
use dstar::Signals;
use dstar::signals::SignalsConfig;
use dstar_tests::send;
use serde::Deserialize;

#[derive(Deserialize)]
struct Counter {
    count: i64,
}

fn app() -> Router {
    Router::new()
        .route(
            "/typed",
            any(|Signals(c): Signals<Counter>| async move { c.count.to_string() }),
        )
        .route(
            "/untyped",
            any(|Signals(m): Signals| async move { serde_json::to_string(&m).unwrap() }),
        )
}

fn query(json: &str) -> String {
    let mut out = String::new();
    for b in json.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn call(method: &str, uri: &str, body: impl Into<Body>) -> (StatusCode, String) {
    let req = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(uri)
        .header("content-type", "application/json")
        .body(body.into())
        .unwrap();
    let (res, body) = send(app(), req).await;
    (res.status(), String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn get_and_delete_read_the_datastar_query_parameter() {
    for method in ["GET", "DELETE"] {
        let uri = format!("/typed?x=1&datastar={}", query(r#"{"count":41}"#));
        assert_eq!(
            call(method, &uri, "").await,
            (StatusCode::OK, "41".into()),
            "{method}"
        );
    }
    // `+` is a space in query strings
    let (status, body) = call("GET", "/untyped?datastar=%7B%22a%22:+1%7D", "").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, r#"{"a":1}"#));
}

#[tokio::test]
async fn body_methods_read_json_including_query() {
    for method in ["POST", "PUT", "PATCH", "QUERY"] {
        assert_eq!(
            call(method, "/typed", r#"{"count":7}"#).await,
            (StatusCode::OK, "7".into()),
            "{method}"
        );
    }
}

#[tokio::test]
async fn missing_signals_mean_an_empty_object() {
    assert_eq!(
        call("GET", "/untyped", "").await,
        (StatusCode::OK, "{}".into())
    );
    assert_eq!(
        call("POST", "/untyped", "").await,
        (StatusCode::OK, "{}".into())
    );
    assert_eq!(
        call("POST", "/untyped", " \n").await,
        (StatusCode::OK, "{}".into())
    );
}

#[tokio::test]
async fn wrong_types_name_the_field_path() {
    let (status, body) = call("POST", "/typed", r#"{"count":"x"}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        r#"invalid signals: signals.count: invalid type: string "x", expected i64"#
    );

    let (status, body) = call("POST", "/typed", r#"{}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, "invalid signals: signals: missing field `count`");
}

#[tokio::test]
async fn malformed_input_is_a_400_with_a_message() {
    let cases = [
        ("POST", "/untyped", "{not json"),
        ("POST", "/untyped", "[1,2]"),
        ("POST", "/untyped", "{} trailing"),
        ("GET", "/untyped?datastar=", ""),
        ("GET", "/untyped?datastar=%7B", ""),
        ("GET", "/untyped?datastar=%zz", ""),
    ];
    for (method, uri, body) in cases {
        let (status, text) = call(method, uri, body).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{method} {uri} {body}: {text}"
        );
        assert!(text.starts_with("invalid signals: "), "{text}");
    }
}

#[tokio::test]
async fn invalid_utf8_is_a_400() {
    let (status, text) = call(
        "POST",
        "/untyped",
        vec![b'{', b'"', 0xff, b'"', b':', b'1', b'}'],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    let (status, text) = call("GET", "/untyped?datastar=%7B%22%FF%22:1%7D", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
}

#[tokio::test]
async fn deeply_nested_json_is_a_400_not_a_stack_overflow() {
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
    let (status, text) = call("POST", "/untyped", deep).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.contains("recursion limit"), "{text}");
}

#[tokio::test]
async fn bodies_over_the_limit_are_a_413() {
    let big = format!("{{\"a\":\"{}\"}}", "x".repeat((1 << 20) + 1));
    let (status, text) = call("POST", "/untyped", big.clone()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        text,
        "signals payload too large: the limit is 1048576 bytes"
    );

    // a streamed body with no content-length is cut off at the limit too
    let chunks = futures_chunks(big.into_bytes());
    let req = Request::post("/untyped")
        .body(Body::from_stream(chunks))
        .unwrap();
    let (res, _) = send(app(), req).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_before_the_body_is_read() {
    // a body the server reads off the socket: hyper reports its Content-Length as its size
    let big = format!("{{\"a\":\"{}\"}}", "x".repeat(64));
    let app = app().layer(axum::Extension(SignalsConfig::default().limit(16)));
    let req = Request::post("/untyped").body(Body::from(big)).unwrap();
    assert_eq!(
        send(app.clone(), req).await.0.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // a stream with no size of its own that declares too much: refused from the header alone,
    // while its sender still holds it open (reading it would wait for ever)
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let req = Request::post("/untyped")
        .header("content-length", "4096")
        .body(Body::from_stream(stream))
        .unwrap();
    let answer = tokio::time::timeout(std::time::Duration::from_secs(5), send(app, req)).await;
    assert_eq!(
        answer.expect("refused without reading").0.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    drop(tx);
}

fn futures_chunks(
    bytes: Vec<u8>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    let chunks: Vec<_> = bytes.chunks(4096).map(|c| Ok(c.to_vec())).collect();
    futures_util::stream::iter(chunks)
}

#[tokio::test]
async fn the_limit_is_configurable() {
    let app = app().layer(axum::Extension(SignalsConfig::default().limit(16)));
    let req = Request::post("/untyped")
        .body(Body::from(r#"{"a":"0123456789abcdef"}"#))
        .unwrap();
    let (res, _) = send(app.clone(), req).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let req = Request::post("/untyped")
        .body(Body::from(r#"{"a":1}"#))
        .unwrap();
    let (res, _) = send(app, req).await;
    assert_eq!(res.status(), StatusCode::OK);
}
