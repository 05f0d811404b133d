//! The load benchmark compares like with like: the three `load-server` endpoints send the same
//! events for `{"count":41}`.

#[allow(dead_code, unreachable_pub)]
#[path = "../../examples/load-server.rs"]
mod load_server;

use axum::body::Body;
use axum::http::Request;
use dstar::test::parse_events;

#[tokio::test]
async fn all_three_endpoints_send_the_same_events() {
    let mut bodies = Vec::new();
    for path in ["/dstar/increment", "/sdk/increment", "/ceiling/increment"] {
        let req = Request::post(path)
            .header("content-type", "application/json")
            .header("datastar-request", "true")
            .body(Body::from(r#"{"count":41}"#))
            .unwrap();
        let (res, body) = dstar_tests::send(load_server::app(), req).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["content-type"], "text/event-stream", "{path}");
        bodies.push(parse_events(&body));
    }
    assert_eq!(bodies[0].len(), 2);
    assert_eq!(bodies[0][0].lines("signals"), [r#"{"count":42}"#]);
    assert_eq!(
        bodies[0][1].lines("elements"),
        [r#"<span id="history">Last: +1 → 42</span>"#]
    );
    assert_eq!(bodies[0], bodies[1], "dstar vs datastar SDK");
    assert_eq!(bodies[0], bodies[2], "dstar vs precomputed");
}
