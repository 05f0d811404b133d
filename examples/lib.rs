//! Shared start-up code for the dstar examples: the `DSTAR_ADDR` address and the route listing.

use axum::Router;

/// Serves `app` on `DSTAR_ADDR` (or `default_addr`), printing the address and every route first.
/// Stops cleanly on Ctrl-C.
pub async fn serve(app: Router, default_addr: &str, routes: &[(&str, &str)]) {
    let addr = std::env::var("DSTAR_ADDR").unwrap_or_else(|_| default_addr.to_owned());
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("error: cannot listen on {addr}: {e} (set DSTAR_ADDR to another address)");
            std::process::exit(1);
        }
    };
    println!("dstar listening on http://{addr}");
    for (method, path) in routes {
        println!("  {method:<6} {path}");
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        eprintln!("error: server failed: {e}");
        std::process::exit(1);
    }
}

/// The Datastar client script the examples load: `DSTAR_CLIENT_SRC`, else the Datastar v1.0.0 CDN bundle.
pub fn client_src() -> String {
    std::env::var("DSTAR_CLIENT_SRC").unwrap_or_else(|_| {
        "https://cdn.jsdelivr.net/gh/starfederation/datastar@v1.0.0/bundles/datastar.js".into()
    })
}

/// Serves every registered page, listing the routes of `app` first.
pub async fn serve_app(app: dstar::App, default_addr: &str) {
    let routes: Vec<(&str, &str)> = app.routes().iter().map(|r| (r.method, r.path)).collect();
    serve(app.build(), default_addr, &routes).await;
}
