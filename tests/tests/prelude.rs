//! `use dstar::prelude::*;` beside `use axum::routing::*;`: the prelude brings Datastar actions
//! as a module, so `get` and `post` are axum's routing functions and the router serves.

use axum::routing::*;
use dstar::prelude::*;
use dstar::test::TestClient;

#[tokio::test]
async fn the_prelude_and_axum_routing_glob_imports_route_together() {
    let app: axum::Router = axum::Router::new()
        .route(
            "/",
            get(|| async {
                html! { button data-on:click=(actions::post("/go")) { "Go" } }
            }),
        )
        .route("/go", post(|| async { Sse::new() }));
    let client = TestClient::new(app);
    let page = client.get("/").await;
    page.assert_status(200);
    assert!(page.text().contains("@post('/go')"), "{}", page.text());
    client
        .post("/go", serde_json::json!({}))
        .await
        .assert_status(200);
}
