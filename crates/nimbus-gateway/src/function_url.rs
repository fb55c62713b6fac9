//! Function URLs on the gateway port: a request to `{urlId}.lambda-url.{anything}` invokes the
//! function (or alias) whose URL that is, with the HTTP API 2.0 event, as Lambda's
//! `https://{urlId}.lambda-url.{region}.on.aws/` does. The configuration comes from the function
//! service through [`crate::Invoker::function_url`].
//!
//! As on Lambda: `AuthType: AWS_IAM` needs a SigV4 signature for the service `lambda` (unsigned,
//! 403 `{"Message":"Forbidden"}`); `Cors` answers preflights and replaces the function's CORS
//! headers; the answer is mapped as an HTTP API 2.0 integration's; a function error is 502, a
//! throttled function 429, a request body over 6 MB 413. Responses carry `x-amzn-RequestId`.

use std::collections::BTreeMap;

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use nimbus_functions::urls::{Cors as UrlCors, UrlTarget};
use serde_json::json;

use crate::Gateway;
use crate::auth::Denied;
use crate::event::{self, AuthorizerContext, Context};
use crate::invoke::{FunctionRef, InvokeFailure};
use crate::model::Cors;
use crate::server::{add_headers, event_request, header_str, http_response};

/// Lambda's synchronous payload limit, which is a function URL's request limit.
const MAX_REQUEST: usize = 6 * 1024 * 1024;

/// The URL id of a function URL host (`{urlId}.lambda-url.…`), if `domain` is one.
pub fn url_id(domain: &str) -> Option<&str> {
    let (id, rest) = domain.split_once('.')?;
    let rest = rest.to_ascii_lowercase();
    (rest.starts_with("lambda-url.") && !id.is_empty()).then_some(id)
}

/// `{"Message": text}`, as Lambda spells its function URL errors.
fn lambda_message(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(http::header::CONTENT_TYPE, "application/json")],
        json!({ "Message": text }).to_string(),
    )
        .into_response()
}

fn cors_of(c: &UrlCors) -> Cors {
    Cors {
        allow_credentials: c.allow_credentials,
        allow_headers: c.allow_headers.clone(),
        allow_methods: c.allow_methods.clone(),
        allow_origins: c.allow_origins.clone(),
        expose_headers: c.expose_headers.clone(),
        max_age: c.max_age,
    }
}

/// Serves one request to the function URL `url_id`.
pub async fn serve(
    gateway: &Gateway,
    url_id: &str,
    request: axum::extract::Request,
    id: &str,
    peer: String,
    domain: String,
) -> Response {
    // On the calling task, as the function service reads a function to invoke: two point
    // reads of the store, answered from memory, cost less than a hand-off to the blocking pool.
    let Some(target) = gateway.invoker.function_url(url_id) else {
        return lambda_message(StatusCode::NOT_FOUND, "Not Found");
    };
    let mut response = answer(gateway, url_id, &target, request, id, peer, domain).await;
    if let Ok(v) = HeaderValue::from_str(id) {
        response.headers_mut().insert("x-amzn-requestid", v);
    }
    response
}

async fn answer(
    gateway: &Gateway,
    url_id: &str,
    target: &UrlTarget,
    request: axum::extract::Request,
    id: &str,
    peer: String,
    domain: String,
) -> Response {
    let (parts, body) = request.into_parts();
    let origin = header_str(&parts, "origin").map(str::to_owned);
    let cors = target.cors.as_ref().map(cors_of);
    if let Some(cors) = &cors
        && crate::cors::is_preflight(
            parts.method.as_str(),
            origin.as_deref(),
            header_str(&parts, "access-control-request-method"),
        )
    {
        let mut response = StatusCode::OK.into_response();
        add_headers(
            &mut response,
            crate::cors::preflight(cors, origin.as_deref().unwrap_or_default()),
        );
        return response;
    }
    let body: Bytes = match axum::body::to_bytes(body, MAX_REQUEST).await {
        Ok(b) => b,
        Err(_) => {
            return lambda_message(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
            );
        }
    };
    let req = event_request(&parts, body, (id, ""), peer, domain, gateway.config.port);
    let authorizer = if target.auth_type == "AWS_IAM" {
        let target_text = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let signed = crate::auth::is_signed(&parts.headers, target_text);
        let Some(check) = gateway.signatures.get().filter(|_| signed) else {
            return lambda_message(StatusCode::FORBIDDEN, "Forbidden");
        };
        match check.check(
            "lambda",
            &req.method,
            target_text,
            &parts.headers,
            &req.body,
        ) {
            Ok(caller) => Some(AuthorizerContext::Iam(caller)),
            Err(Denied::Signature { message, .. }) => {
                return lambda_message(StatusCode::FORBIDDEN, &message);
            }
            Err(_) => return lambda_message(StatusCode::FORBIDDEN, "Forbidden"),
        }
    } else {
        None
    };
    let account = match &authorizer {
        Some(AuthorizerContext::Iam(caller)) => caller.account_id.clone(),
        _ => "anonymous".to_owned(),
    };
    let no_variables = BTreeMap::new();
    let ctx = Context {
        api_id: url_id,
        account_id: &account,
        stage: "$default",
        deployment_id: None,
        route_key: "$default",
        route_id: "",
        resource_path: None,
        path: &req.raw_path,
        path_params: &[],
        stage_variables: &no_variables,
        authorizer: authorizer.as_ref(),
        binary_media_types: None,
    };
    let payload = Bytes::from(event::v2(&req, &ctx).to_string());
    let function = FunctionRef {
        name: target.function.clone(),
        qualifier: target.qualifier.clone(),
    };
    let mut response = match gateway.invoker.invoke(function, payload).await {
        Ok(invoked) if invoked.function_error => {
            lambda_message(StatusCode::BAD_GATEWAY, "Internal Server Error")
        }
        Ok(invoked) => match crate::response::v2(&invoked.payload) {
            Ok(r) => http_response(r),
            Err(e) => {
                tracing::info!(url = %url_id, "{e}");
                lambda_message(StatusCode::BAD_GATEWAY, "Internal Server Error")
            }
        },
        Err(InvokeFailure::Throttled(_)) => {
            lambda_message(StatusCode::TOO_MANY_REQUESTS, "Rate Exceeded.")
        }
        Err(e) => {
            tracing::warn!(url = %url_id, "function URL invocation failed: {e}");
            lambda_message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
    };
    // With CORS configured, Lambda sends its own CORS headers instead of the function's.
    if let Some(cors) = &cors {
        crate::cors::replace_headers(&mut response, cors, origin.as_deref());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_url_hosts_name_their_url_id() {
        assert_eq!(url_id("abc123.lambda-url.localhost"), Some("abc123"));
        assert_eq!(url_id("abc123.LAMBDA-URL.us-east-1.on.aws"), Some("abc123"));
        assert_eq!(url_id("abc123.execute-api.localhost"), None);
        assert_eq!(url_id("localhost"), None);
        assert_eq!(url_id(".lambda-url.localhost"), None);
    }
}
