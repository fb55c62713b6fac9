//! The gateway: the public HTTP port where browsers and HTTP clients call APIs.
//!
//! Will own APIs, routes, stages, the API Gateway v1 and v2 event payloads and response
//! mapping, CORS and authorizers; it invokes functions through the functions service and knows
//! nothing of runtimes. Until an API is deployed, the root of the port answers with a short
//! welcome that says how to deploy one, and every other path answers API Gateway's
//! `404 {"message":"Not Found"}`.

use axum::Router;
use axum::response::{IntoResponse, Response};
use http::StatusCode;

/// The router of the gateway port.
pub fn router() -> Router {
    Router::new()
        .route("/", axum::routing::get(welcome))
        .fallback(not_found)
}

async fn welcome() -> Response {
    let body = serde_json::json!({
        "service": "nimbus gateway",
        "apis": [],
        "message": "No API is mapped to this port yet: deploy one with `nimbus deploy`.",
    });
    json(StatusCode::OK, body)
}

async fn not_found() -> Response {
    json(
        StatusCode::NOT_FOUND,
        serde_json::json!({"message": "Not Found"}),
    )
}

fn json(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn get(path: &str) -> (StatusCode, serde_json::Value) {
        let response = router()
            .oneshot(
                http::Request::get(path)
                    .body(axum::body::Body::empty())
                    .expect("request"),
            )
            .await
            .expect("infallible");
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, serde_json::from_slice(&bytes).expect("json"))
    }

    #[tokio::test]
    async fn unknown_paths_answer_like_api_gateway() {
        let (status, body) = get("/items/42").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body, serde_json::json!({"message": "Not Found"}));
        let (status, body) = get("/").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["apis"], serde_json::json!([]));
    }
}
