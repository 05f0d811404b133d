//! How cross-origin protection answers a refusal: a `403` with a one-line reason.

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use tower_http::csrf::{ProtectionError, ProtectionErrorKind};

/// How refusals are answered: a `403` with a one-line reason.
pub(super) type Refuse = fn(ProtectionError) -> Response<Body>;

pub(super) fn refuse(error: ProtectionError) -> Response<Body> {
    let reason = match error.kind() {
        ProtectionErrorKind::CrossOriginRequest => {
            "cross-site request refused: the browser marked it as coming from another site (Sec-Fetch-Site)"
        }
        _ => "cross-site request refused: its Origin does not match the Host it was sent to",
    };
    crate::error::refusal(StatusCode::FORBIDDEN, "cross-site request", reason)
}

#[cfg(test)]
mod tests {
    use super::super::CrossOrigin;
    use crate::error::{assert_quiet, quietly};
    use axum::body::Body;
    use axum::http::Request;
    use axum::response::Response;
    use tower::{Layer, ServiceExt};

    #[test]
    fn release_bodies_say_cross_site_and_nothing_more() {
        let route = tower::service_fn(|_req: Request<Body>| async {
            Ok::<_, std::convert::Infallible>(Response::new(Body::from("ran")))
        });
        let service = CrossOrigin::new().layer().unwrap().layer(route);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for (name, value) in [
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://<script>.example"),
        ] {
            let req = Request::post("/save")
                .header(name, value)
                .body(Body::empty())
                .unwrap();
            let refused = quietly(|| runtime.block_on(service.clone().oneshot(req)).unwrap());
            assert_quiet(refused, 403, "cross-site request");
        }
    }
}
