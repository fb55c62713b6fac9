//! The data plane: the axum router of the gateway port. One request: find the API (by host
//! `{apiId}.execute-api.*`, or the root-mapped API) → the stage (a path prefix, or `$default`)
//! → answer a CORS preflight → throttle → select the route → authorize → build the event →
//! invoke the function within the integration's timeout → map its response → add CORS headers
//! → write the access-log line.
//!
//! Failures answer as API Gateway does, with `{"message": ...}` bodies:
//!
//! | failure | status | message |
//! | --- | --- | --- |
//! | no API, stage or route | 404 | `Not Found` |
//! | body over 10 MB | 413 | `Request Entity Too Large` |
//! | missing or invalid token | 401 | `Unauthorized` |
//! | authorizer denied, scope missing | 403 | `Forbidden` |
//! | `AWS_IAM` route: unsigned / bad signature | 403 | `Forbidden` / the signature's error |
//! | stage or route throttling | 429 | `Too Many Requests` |
//! | function error, unknown function, failed authorizer | 500 | `Internal Server Error` |
//! | malformed function response | 502 | `Internal Server Error` |
//! | function throttled (concurrency) | 503 | `Service Unavailable` |
//! | integration timeout | 504 | `Endpoint request timed out` |
//!
//! REST APIs differ where API Gateway's REST APIs do: the first path segment must name a
//! stage; the route is the most specific resource, then its method or `ANY`
//! ([`crate::routes::RouteTable::select_resource`]); no stage, resource or method is 403
//! `Missing Authentication Token` (`x-amzn-ErrorType: MissingAuthenticationTokenException`),
//! and so is an unsigned request to an `AWS_IAM` method;
//! a function error or a malformed answer is 502 `Internal server error`, another
//! integration failure (a throttled function too) 500 `Internal server error`; the event is the REST proxy event; a
//! base64 answer is decoded only when the request's `Accept` or the answer's `Content-Type`
//! is one of the API's binary media types; responses carry `x-amzn-RequestId` and
//! `x-amz-apigw-id`. `MOCK` integrations answer from their integration response.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};
use serde_json::{Value, json};

use crate::Gateway;
use crate::auth::Denied;
use crate::event::{self, AuthorizerContext, Context, V1Style};
use crate::invoke::{FunctionRef, InvokeFailure};
use crate::response::{self, HttpResponse};
use crate::routes::{Matched, percent_decode};
use crate::runtime::{ApiRuntime, RouteRuntime, StageRuntime};

/// The router of the gateway port. Serve it with connect info (`SocketAddr`) so events carry
/// the client's address.
pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new().fallback(handle).with_state(gateway)
}

pub(crate) fn message(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(http::header::CONTENT_TYPE, "application/json")],
        json!({ "message": text }).to_string(),
    )
        .into_response()
}

fn not_found() -> Response {
    message(StatusCode::NOT_FOUND, "Not Found")
}

/// REST APIs' answer for a path or method that no resource defines.
fn missing_token() -> Response {
    let mut r = message(StatusCode::FORBIDDEN, "Missing Authentication Token");
    r.headers_mut().insert(
        "x-amzn-errortype",
        HeaderValue::from_static("MissingAuthenticationTokenException"),
    );
    r
}

/// The "internal error" answers, spelled as each kind of API spells them.
fn internal(status: StatusCode, rest: bool) -> Response {
    message(
        status,
        if rest {
            "Internal server error"
        } else {
            "Internal Server Error"
        },
    )
}

fn request_id() -> String {
    let bytes: [u8; 11] = rand::random();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// What the access log records of one request.
struct Outcome {
    route_key: String,
    integration_ms: Option<u128>,
    error: Option<String>,
}

async fn handle(State(gateway): State<Arc<Gateway>>, request: axum::extract::Request) -> Response {
    let started = Instant::now();
    let id = request_id();
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "127.0.0.1".to_owned());
    let host = request
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().host())
        .unwrap_or("localhost")
        .to_owned();
    let domain = host
        .rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map(|(h, _)| h.to_owned())
        .unwrap_or(host);
    if let Some(url_id) = crate::function_url::url_id(&domain) {
        let url_id = url_id.to_owned();
        return crate::function_url::serve(&gateway, &url_id, request, &id, peer, domain).await;
    }
    let api = match api_for_host(&gateway, &domain) {
        Ok(Some(api)) => api,
        Ok(None) => {
            return if request.uri().path() == "/" {
                welcome(&gateway)
            } else {
                not_found()
            };
        }
        Err(response) => return response,
    };
    let path = request.uri().path().to_owned();
    let rest = api.rest.is_some();
    let (id, extended) = if rest {
        (uuid::Uuid::new_v4().to_string(), id)
    } else {
        (id, String::new())
    };
    let Some((stage, stage_path)) = stage_for_path(&api, &path) else {
        return if rest {
            with_rest_ids(missing_token(), &id, &extended)
        } else {
            with_request_id(not_found(), &id)
        };
    };
    let method = request.method().as_str().to_owned();
    let mut outcome = Outcome {
        route_key: "-".into(),
        integration_ms: None,
        error: None,
    };
    let response = serve(
        &gateway,
        &api,
        &stage,
        &stage_path,
        request,
        (&id, &extended),
        peer.clone(),
        domain,
        &mut outcome,
    )
    .await;
    let response = if rest {
        with_rest_ids(response, &id, &extended)
    } else {
        with_request_id(response, &id)
    };
    access_log(
        &stage, &id, &peer, &method, &path, &response, started, &outcome,
    );
    response
}

fn with_rest_ids(mut response: Response, id: &str, extended: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(id) {
        response.headers_mut().insert("x-amzn-requestid", v);
    }
    if let Ok(v) = HeaderValue::from_str(extended) {
        response.headers_mut().insert("x-amz-apigw-id", v);
    }
    response
}

fn with_request_id(mut response: Response, id: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(id) {
        response.headers_mut().insert("apigw-requestid", v);
    }
    response
}

#[allow(clippy::too_many_arguments)]
fn access_log(
    stage: &StageRuntime,
    id: &str,
    ip: &str,
    method: &str,
    path: &str,
    response: &Response,
    started: Instant,
    outcome: &Outcome,
) {
    let latency = started.elapsed().as_millis();
    let line = json!({
        "requestId": id,
        "ip": ip,
        "requestTime": time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        "httpMethod": method,
        "path": path,
        "routeKey": outcome.route_key,
        "status": response.status().as_u16(),
        "protocol": "HTTP/1.1",
        "responseLatency": latency,
        "integrationLatency": outcome.integration_ms,
        "errorMessage": outcome.error,
    });
    stage.access_log.write(&line.to_string());
    tracing::debug!(
        request_id = %id,
        route = %outcome.route_key,
        status = response.status().as_u16(),
        latency_ms = latency as u64,
        "gateway request"
    );
}

fn welcome(gateway: &Gateway) -> Response {
    let port = gateway.config.port;
    let apis: Vec<Value> = gateway
        .api_summaries()
        .into_iter()
        .map(|(id, name, stages)| {
            let endpoint = format!("http://{id}.execute-api.localhost:{port}");
            match stages {
                None => json!({"apiId": id, "name": name, "endpoint": endpoint}),
                Some(stages) => json!({
                    "apiId": id,
                    "name": name,
                    "type": "REST",
                    "endpoints": stages
                        .iter()
                        .map(|s| format!("{endpoint}/{s}/"))
                        .collect::<Vec<_>>(),
                }),
            }
        })
        .collect();
    let body = json!({
        "service": "nimbus gateway",
        "apis": apis,
        "message": format!(
            "No API is mapped to this port yet: deploy one with `nimbus deploy`, or tag an API \
             with {}=true to serve it here.",
            crate::ROOT_TAG
        ),
    });
    (
        StatusCode::OK,
        [(http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// The API a host addresses: `{apiId}.execute-api.{anything}` names one; any other host gets
/// the root-mapped API, if there is one.
#[allow(clippy::result_large_err)]
fn api_for_host(gateway: &Gateway, host: &str) -> Result<Option<Arc<ApiRuntime>>, Response> {
    // Host names are case-insensitive; API ids are lower case.
    let host = host.to_ascii_lowercase();
    let mut labels = host.split('.');
    if let (Some(id), Some("execute-api")) = (labels.next(), labels.next()) {
        return match gateway.runtime(id) {
            Some(api) if !api.disable_execute_api_endpoint => Ok(Some(api)),
            _ => Err(not_found()),
        };
    }
    Ok(gateway.root_runtime())
}

/// The stage a path addresses and the path within it: a first segment naming a stage selects
/// it; anything else goes to `$default` (REST APIs have none).
fn stage_for_path(api: &ApiRuntime, path: &str) -> Option<(Arc<StageRuntime>, String)> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let (first, rest) = match trimmed.split_once('/') {
        Some((f, r)) => (f, format!("/{r}")),
        None => (trimmed, "/".to_owned()),
    };
    if !first.is_empty()
        && first != "$default"
        && let Some(stage) = api.stages.get(&percent_decode(first))
    {
        return Some((Arc::clone(stage), rest));
    }
    api.stages
        .get("$default")
        .map(|s| (Arc::clone(s), path.to_owned()))
}

pub(crate) fn header_str<'a>(parts: &'a http::request::Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

#[allow(clippy::too_many_arguments)]
async fn serve(
    gateway: &Gateway,
    api: &ApiRuntime,
    stage: &StageRuntime,
    stage_path: &str,
    request: axum::extract::Request,
    id: (&str, &str),
    peer: String,
    domain: String,
    outcome: &mut Outcome,
) -> Response {
    let (parts, body) = request.into_parts();
    let origin = header_str(&parts, "origin").map(str::to_owned);
    let method = parts.method.as_str().to_owned();
    if let Some(cors) = &stage.cors
        && crate::cors::is_preflight(
            &method,
            origin.as_deref(),
            header_str(&parts, "access-control-request-method"),
        )
    {
        outcome.route_key = "OPTIONS preflight".into();
        let mut response = StatusCode::NO_CONTENT.into_response();
        add_headers(
            &mut response,
            crate::cors::preflight(cors, origin.as_deref().unwrap_or_default()),
        );
        return response;
    }
    let mut response = route_and_invoke(
        gateway, api, stage, stage_path, parts, body, id, peer, domain, outcome,
    )
    .await;
    // With CORS configured, API Gateway ignores the CORS headers of the integration's answer
    // and sends its own, which a disallowed origin does not get at all.
    if let Some(cors) = &stage.cors {
        crate::cors::replace_headers(&mut response, cors, origin.as_deref());
    }
    response
}

/// A new X-Ray trace header value: `Root=1-` the epoch seconds in hex, `-` 96 random bits.
fn trace_id() -> String {
    let seconds = time::OffsetDateTime::now_utc().unix_timestamp();
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("Root=1-{seconds:08x}-{}", &random[..24])
}

pub(crate) fn add_headers(response: &mut Response, headers: Vec<(String, String)>) {
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            response.headers_mut().append(k, v);
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn route_and_invoke(
    gateway: &Gateway,
    api: &ApiRuntime,
    stage: &StageRuntime,
    stage_path: &str,
    parts: http::request::Parts,
    body: Body,
    (id, extended): (&str, &str),
    peer: String,
    domain: String,
    outcome: &mut Outcome,
) -> Response {
    let method = parts.method.as_str().to_owned();
    let rest = api.rest.is_some();
    let matched = if rest {
        stage.table.select_resource(&method, stage_path)
    } else {
        stage.table.select(&method, stage_path)
    };
    let Some(matched) = matched else {
        return if rest { missing_token() } else { not_found() };
    };
    outcome.route_key = matched.route_key.to_owned();
    let route = matched.value;
    let allowed = match &route.bucket {
        Some(b) => b.try_take(),
        None => stage.bucket.as_ref().is_none_or(|b| b.try_take()),
    };
    if !allowed {
        return message(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
    }
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > crate::MAX_BODY as u64) {
        return message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    }
    let body = match axum::body::to_bytes(body, crate::MAX_BODY).await {
        Ok(b) => b,
        Err(e) => {
            let over_limit = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            return if over_limit {
                message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large")
            } else {
                // A body that is not valid HTTP framing (a malformed chunk).
                message(StatusCode::BAD_REQUEST, "Bad Request")
            };
        }
    };
    let req = event_request(
        &parts,
        body,
        (id, extended),
        peer,
        domain,
        gateway.config.port,
    );
    let signed = Signed {
        target: parts.uri.path_and_query().map_or("/", |p| p.as_str()),
        headers: &parts.headers,
        rest,
    };
    let authorizer = match authorize(gateway, api, stage, stage_path, &matched, &req, signed).await
    {
        Ok(a) => a,
        Err(denied) => {
            outcome.error = Some(format!("{denied:?}"));
            return denied_response(denied);
        }
    };
    if let Some(mock) = &route.mock {
        return http_response(HttpResponse {
            status: mock.status,
            headers: mock.headers.clone(),
            body: mock.body.clone(),
        });
    }
    let Some(integration) = &route.integration else {
        if rest {
            outcome.error = Some("the method has no integration".into());
            return internal(StatusCode::INTERNAL_SERVER_ERROR, true);
        }
        return not_found();
    };
    if integration.integration_type != "AWS_PROXY" {
        outcome.error = Some(format!(
            "integration type {} is not supported",
            integration.integration_type
        ));
        return internal(StatusCode::INTERNAL_SERVER_ERROR, rest);
    }
    let uri = substitute(
        integration.integration_uri.as_deref().unwrap_or_default(),
        &stage.variables,
    );
    let Some(function) = FunctionRef::parse(&uri) else {
        outcome.error = Some(format!("invalid integration URI {uri}"));
        return internal(StatusCode::INTERNAL_SERVER_ERROR, rest);
    };
    let ctx = context(api, stage, stage_path, &matched, authorizer.as_ref());
    let v2 = integration.payload_format_version == "2.0";
    let event = if rest {
        event::v1(&req, &ctx, V1Style::Rest)
    } else if v2 {
        event::v2(&req, &ctx)
    } else {
        event::v1(&req, &ctx, V1Style::Http)
    };
    let payload = Bytes::from(event.to_string());
    let invoked_at = Instant::now();
    let result = tokio::time::timeout(
        Duration::from_millis(integration.timeout_in_millis),
        gateway.invoker.invoke(function, payload),
    )
    .await;
    outcome.integration_ms = Some(invoked_at.elapsed().as_millis());
    let invoked = match result {
        Err(_) => {
            outcome.error = Some("integration timed out".into());
            return message(StatusCode::GATEWAY_TIMEOUT, "Endpoint request timed out");
        }
        Ok(Err(InvokeFailure::Throttled(m))) => {
            outcome.error = Some(m);
            // REST APIs turn Lambda's 429 into an integration failure.
            if rest {
                return internal(StatusCode::INTERNAL_SERVER_ERROR, true);
            }
            return message(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable");
        }
        Ok(Err(e)) => {
            // One line whatever the error echoes of the request.
            let why = e.to_string();
            tracing::warn!(api = %api.api_id, route = %matched.route_key,
                "integration failed: {}", why.escape_debug());
            outcome.error = Some(why);
            return internal(StatusCode::INTERNAL_SERVER_ERROR, rest);
        }
        Ok(Ok(invoked)) => invoked,
    };
    if invoked.function_error {
        outcome.error = Some("function error".into());
        // REST APIs answer a failed Lambda proxy invocation with 502.
        let status = if rest {
            StatusCode::BAD_GATEWAY
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        return internal(status, rest);
    }
    let mapped = match &api.rest {
        Some(r) => {
            let accept = req.header("accept").map(str::to_owned);
            response::v1_binary(&invoked.payload, |content_type| {
                crate::rest::is_binary(accept.as_deref(), &r.binary_media_types)
                    || crate::rest::is_binary(content_type, &r.binary_media_types)
            })
        }
        None if v2 => response::v2(&invoked.payload),
        None => response::v1(&invoked.payload),
    };
    match mapped {
        Ok(mut r) => {
            // REST APIs answer `application/json` when the function names no content type.
            if rest
                && !r
                    .headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                r.headers
                    .push(("content-type".into(), "application/json".into()));
            }
            http_response(r)
        }
        Err(e) => {
            tracing::info!(api = %api.api_id, route = %matched.route_key, "{e}");
            outcome.error = Some(e.to_string());
            internal(StatusCode::BAD_GATEWAY, rest)
        }
    }
}

fn context<'a>(
    api: &'a ApiRuntime,
    stage: &'a StageRuntime,
    stage_path: &'a str,
    matched: &'a Matched<'a, RouteRuntime>,
    authorizer: Option<&'a AuthorizerContext>,
) -> Context<'a> {
    Context {
        api_id: &api.api_id,
        account_id: "000000000000",
        stage: &stage.name,
        deployment_id: stage.deployment_id.as_deref(),
        route_key: matched.route_key,
        route_id: &matched.value.route_id,
        resource_path: matched.resource_path,
        path: stage_path,
        path_params: &matched.params,
        stage_variables: &stage.variables,
        authorizer,
        binary_media_types: api.rest.as_ref().map(|r| r.binary_media_types.as_slice()),
    }
}

/// Replaces `${stageVariables.name}` in an integration or authorizer URI.
fn substitute(uri: &str, vars: &std::collections::BTreeMap<String, String>) -> String {
    let mut out = uri.to_owned();
    for (k, v) in vars {
        out = out.replace(&format!("${{stageVariables.{k}}}"), v);
    }
    out
}

pub(crate) fn http_response(r: HttpResponse) -> Response {
    let mut response = Response::new(Body::from(r.body));
    *response.status_mut() = StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK);
    for (k, v) in r.headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            if k == http::header::CONTENT_LENGTH || k == http::header::TRANSFER_ENCODING {
                continue;
            }
            response.headers_mut().append(k, v);
        }
    }
    response
}

fn denied_response(denied: Denied) -> Response {
    match denied {
        Denied::Unauthorized(challenge) => {
            let mut r = message(StatusCode::UNAUTHORIZED, "Unauthorized");
            if let Some(c) = challenge.and_then(|c| HeaderValue::try_from(c).ok()) {
                r.headers_mut().insert(http::header::WWW_AUTHENTICATE, c);
            }
            r
        }
        Denied::Forbidden(challenge) => {
            let mut r = message(StatusCode::FORBIDDEN, "Forbidden");
            if let Some(c) = challenge.and_then(|c| HeaderValue::try_from(c).ok()) {
                r.headers_mut().insert(http::header::WWW_AUTHENTICATE, c);
            }
            r
        }
        Denied::Failed(why) => {
            tracing::warn!("authorizer failed: {why}");
            message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
        Denied::Signature {
            error_type,
            message: text,
        } => {
            let mut r = message(StatusCode::FORBIDDEN, &text);
            r.headers_mut()
                .insert("x-amzn-errortype", HeaderValue::from_static(error_type));
            r
        }
    }
}

/// The value of one identity source (`$request.header.X`, `$request.querystring.x`,
/// `$stageVariables.x`, `$context.x`).
fn identity_value(source: &str, req: &event::Request, stage: &StageRuntime) -> Option<String> {
    let source = source.trim();
    if let Some(h) = source.strip_prefix("$request.header.") {
        let name = h.to_ascii_lowercase();
        let values: Vec<&str> = req
            .headers
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .collect();
        return (!values.is_empty()).then(|| values.join(","));
    }
    if let Some(q) = source.strip_prefix("$request.querystring.") {
        let values: Vec<String> = form_urlencoded::parse(req.raw_query.as_bytes())
            .filter(|(k, _)| k == q)
            .map(|(_, v)| v.into_owned())
            .collect();
        return (!values.is_empty()).then(|| values.join(","));
    }
    if let Some(v) = source.strip_prefix("$stageVariables.") {
        return stage.variables.get(v).cloned();
    }
    if let Some(c) = source.strip_prefix("$context.") {
        return match c {
            "requestId" => Some(req.request_id.clone()),
            "httpMethod" => Some(req.method.clone()),
            "stage" => Some(stage.name.clone()),
            _ => None,
        };
    }
    None
}

/// The request as events show it: headers without hop-by-hop ones, plus the
/// `x-forwarded-*` and trace headers API Gateway adds.
pub(crate) fn event_request(
    parts: &http::request::Parts,
    body: Bytes,
    (id, extended): (&str, &str),
    peer: String,
    domain: String,
    port: u16,
) -> event::Request {
    // Hop-by-hop headers belong to the connection to the gateway, not to the request: API
    // Gateway does not pass them on.
    const HOP_BY_HOP: [&str; 5] = [
        "connection",
        "keep-alive",
        "transfer-encoding",
        "upgrade",
        "te",
    ];
    let mut headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter(|(k, _)| !HOP_BY_HOP.contains(&k.as_str()))
        .filter_map(|(k, v)| {
            v.to_str()
                .ok()
                .map(|v| (k.as_str().to_ascii_lowercase(), v.to_owned()))
        })
        .collect();
    for (name, value) in [
        ("x-forwarded-for", peer.clone()),
        ("x-forwarded-port", port.to_string()),
        ("x-forwarded-proto", "http".to_owned()),
        // As API Gateway, each request gets an X-Ray trace id (`Root=1-{time}-{96 bits}`),
        // which tracing and log-correlation libraries read from the event.
        ("x-amzn-trace-id", trace_id()),
    ] {
        if !headers.iter().any(|(n, _)| n == name) {
            headers.push((name.to_owned(), value));
        }
    }
    let now_ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    event::Request {
        method: parts.method.as_str().to_owned(),
        raw_path: parts.uri.path().to_owned(),
        raw_query: parts.uri.query().unwrap_or("").to_owned(),
        headers,
        body,
        source_ip: peer,
        protocol: format!("{:?}", parts.version),
        request_id: id.to_owned(),
        extended_request_id: extended.to_owned(),
        time_epoch_ms: now_ms as i64,
        domain_name: domain,
    }
}

/// What an `AWS_IAM` check needs of the request as received.
#[derive(Clone, Copy)]
struct Signed<'a> {
    /// Path and query, still percent-encoded.
    target: &'a str,
    headers: &'a http::HeaderMap,
    /// A REST API (whose unsigned requests are `Missing Authentication Token`).
    rest: bool,
}

/// An `AWS_IAM` route's check: the request must be signed for `execute-api` with a key the
/// AWS endpoint accepts. Unsigned, a REST API answers `Missing Authentication Token` and an
/// HTTP API `Forbidden`, as API Gateway does; a bad signature gets the signature's error.
fn check_signature(
    gateway: &Gateway,
    req: &event::Request,
    signed: Signed<'_>,
) -> Result<AuthorizerContext, Denied> {
    if !crate::auth::is_signed(signed.headers, signed.target) {
        return Err(if signed.rest {
            Denied::Signature {
                error_type: "MissingAuthenticationTokenException",
                message: "Missing Authentication Token".into(),
            }
        } else {
            Denied::Forbidden(None)
        });
    }
    let Some(check) = gateway.signatures.get() else {
        return Err(Denied::Failed(
            "no signature verifier: AWS_IAM routes cannot be served".into(),
        ));
    };
    check
        .check(
            "execute-api",
            &req.method,
            signed.target,
            signed.headers,
            &req.body,
        )
        .map(AuthorizerContext::Iam)
}

async fn authorize(
    gateway: &Gateway,
    api: &ApiRuntime,
    stage: &StageRuntime,
    stage_path: &str,
    matched: &Matched<'_, RouteRuntime>,
    req: &event::Request,
    signed: Signed<'_>,
) -> Result<Option<AuthorizerContext>, Denied> {
    let route = matched.value;
    let kind = route.authorization_type.as_str();
    if kind == "AWS_IAM" {
        return check_signature(gateway, req, signed).map(Some);
    }
    if kind != "JWT" && kind != "CUSTOM" {
        return Ok(None);
    }
    let Some(auth) = &route.authorizer else {
        return Err(Denied::Failed(
            "the route's authorizer does not exist".into(),
        ));
    };
    let a = &auth.authorizer;
    let identity: Vec<Option<String>> = a
        .identity_source
        .iter()
        .map(|s| identity_value(s, req, stage))
        .collect();
    if kind == "JWT" {
        let Some(Some(token)) = identity.first() else {
            return Err(Denied::Unauthorized(Some("Bearer".into())));
        };
        let jwt = a.jwt_configuration.clone().unwrap_or_default();
        let issuer = jwt.issuer.unwrap_or_default();
        let audience = jwt.audience.unwrap_or_default();
        return gateway
            .jwt
            .verify(token, &issuer, &audience, &route.scopes)
            .await
            .map(Some);
    }
    // A Lambda REQUEST authorizer.
    if identity.iter().any(Option::is_none) {
        return Err(Denied::Unauthorized(None));
    }
    let identity: Vec<String> = identity.into_iter().flatten().collect();
    let ttl = a.authorizer_result_ttl_in_seconds.unwrap_or(0);
    let cache_key = identity.join("\u{0}");
    if ttl > 0
        && !identity.is_empty()
        && let Ok(cache) = auth.cache.lock()
        && let Some((expiry, verdict)) = cache.get(&cache_key)
        && *expiry > Instant::now()
    {
        return Ok(Some(verdict.clone()));
    }
    let uri = substitute(
        a.authorizer_uri.as_deref().unwrap_or_default(),
        &stage.variables,
    );
    let function = FunctionRef::parse(&uri)
        .ok_or_else(|| Denied::Failed(format!("invalid authorizer URI {uri}")))?;
    let ctx = context(api, stage, stage_path, matched, None);
    let version = a
        .authorizer_payload_format_version
        .as_deref()
        .unwrap_or("2.0");
    let route_arn = format!(
        "arn:aws:execute-api:{}:{}:{}/{}/{}{}",
        gateway.config.region,
        gateway.config.account_id,
        api.api_id,
        stage.name,
        req.method,
        stage_path
    );
    let mut event = if version == "2.0" {
        event::v2(req, &ctx)
    } else {
        event::v1(req, &ctx, V1Style::Http)
    };
    if let Some(obj) = event.as_object_mut() {
        obj.remove("body");
        obj.remove("isBase64Encoded");
        obj.insert("type".into(), "REQUEST".into());
        if version == "2.0" {
            obj.insert("routeArn".into(), route_arn.into());
            obj.insert("identitySource".into(), json!(identity));
        } else {
            obj.insert("methodArn".into(), route_arn.into());
            obj.insert("identitySource".into(), identity.join(",").into());
        }
    }
    let invoked = tokio::time::timeout(
        Duration::from_secs(10),
        gateway
            .invoker
            .invoke(function, Bytes::from(event.to_string())),
    )
    .await
    .map_err(|_| Denied::Failed("authorizer timed out".into()))?
    .map_err(|e| Denied::Failed(e.to_string()))?;
    if invoked.function_error {
        return Err(Denied::Failed("authorizer function error".into()));
    }
    let simple = version == "2.0" && a.enable_simple_responses == Some(true);
    let verdict = crate::auth::lambda_verdict(&invoked.payload, simple)?;
    if ttl > 0
        && !identity.is_empty()
        && let Ok(mut cache) = auth.cache.lock()
    {
        cache.insert(
            cache_key,
            (Instant::now() + Duration::from_secs(ttl), verdict.clone()),
        );
    }
    Ok(Some(verdict))
}
