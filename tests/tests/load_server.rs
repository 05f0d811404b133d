//! The load benchmark compares like with like: the `load-server` endpoints send the same events
//! for `{"count":41}`, and the ceiling the same response head as dstar.

#[allow(dead_code, unreachable_pub)]
#[path = "../../examples/load-server.rs"]
mod load_server;

use axum::body::Body;
use axum::http::Request;
use dstar::test::parse_events;

#[tokio::test]
async fn every_endpoint_sends_the_same_events() {
    let mut bodies = Vec::new();
    let mut heads = Vec::new();
    for path in [
        "/dstar/increment",
        "/sdk/increment",
        "/ceiling/increment",
        "/page/_event/increment",
        "/app/page/_event/increment",
        "/read/increment",
    ] {
        let req = Request::post(path)
            .header("content-type", "application/json")
            .header("datastar-request", "true")
            .body(Body::from(r#"{"count":41}"#))
            .unwrap();
        let (res, body) = dstar_tests::send(load_server::app(), req).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["content-type"], "text/event-stream", "{path}");
        bodies.push(parse_events(&body));
        let head: Vec<(String, String)> = ["content-type", "cache-control", "connection"]
            .iter()
            .map(|name| {
                let value = res.headers().get(*name).map(|v| v.to_str().unwrap());
                ((*name).to_owned(), value.unwrap_or("").to_owned())
            })
            .collect();
        heads.push(head);
    }
    assert_eq!(bodies[0].len(), 2);
    assert_eq!(bodies[0][0].lines("signals"), [r#"{"count":42}"#]);
    assert_eq!(
        bodies[0][1].lines("elements"),
        [r#"<span id="history">Last: +1 → 42</span>"#]
    );
    assert_eq!(bodies[0], bodies[1], "dstar vs datastar SDK");
    assert_eq!(bodies[0], bodies[2], "dstar vs precomputed");
    assert_eq!(bodies[0], bodies[3], "dstar vs the page event");
    assert_eq!(bodies[0], bodies[4], "dstar vs the page in App");
    assert_eq!(bodies[0], bodies[5], "dstar vs precomputed after reading");
    assert_eq!(
        heads[0], heads[2],
        "the ceiling sends dstar's response head"
    );
    assert_eq!(heads[0], heads[5], "so does the ceiling that reads");
    assert_eq!(
        heads[0], heads[3],
        "the page event sends the core's response head"
    );
}
