//! The AWS API endpoint of Nimbus.
//!
//! Owns everything between an AWS client's HTTP request and a service call: request ids,
//! body limits, SigV4 verification ([`sigv4`]), recognising the service and operation
//! ([`route`]), and turning service errors into AWS error bodies ([`error`]). The services
//! themselves (`nimbus-tables`, later functions and gateway) know nothing of HTTP; this crate
//! knows nothing of storage.
//!
//! One request: [`request_id`] gives it an id and a tracing span → [`route::Target::of`] names the
//! service from `X-Amz-Target` or the path → the signature is parsed ([`sigv4::parse`]) → the
//! body is read up to the service's limit → the signature is verified → the service handler
//! runs the operation → the result or the error is written in the protocol's shape.

pub mod apigateway;
pub mod dynamodb;
pub mod error;
pub mod lambda;
pub mod logs;
pub mod route;
pub mod sigv4;
pub mod usage;

use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderValue, StatusCode};
use tracing::Instrument;

use crate::error::AwsError;
use crate::route::{Service, Target};
use crate::sigv4::{KeyPair, Verifier};

/// Configuration of the AWS endpoint.
#[derive(Debug, Clone)]
pub struct AwsConfig {
    pub region: String,
    /// Key pairs accepted by SigV4 verification.
    pub keys: Vec<KeyPair>,
    /// Skip SigV4 verification (development only; the binary warns about it).
    pub no_auth: bool,
}

/// The services behind the endpoint.
#[derive(Clone)]
pub struct Services {
    pub tables: Arc<nimbus_tables::Tables>,
    pub functions: Arc<nimbus_functions::Functions>,
    pub gateway: Arc<nimbus_gateway::Gateway>,
    /// Metering totals, served read-only at `GET /_nimbus/usage`.
    pub usage: Arc<nimbus_metering::Totals>,
}

/// Shared state of the AWS endpoint.
pub struct AwsState {
    verifier: Option<Verifier>,
    services: Services,
}

impl AwsState {
    pub fn new(config: AwsConfig, services: Services) -> Self {
        let verifier = (!config.no_auth).then(|| Verifier::new(config.keys, config.region));
        AwsState { verifier, services }
    }
}

/// The request id of the current request, as sent in `x-amzn-RequestId`.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The router of the AWS endpoint.
pub fn router(state: Arc<AwsState>) -> Router {
    Router::new()
        .route("/_nimbus/health", get(health))
        .route("/_nimbus/code/{sha}", get(lambda::download_code))
        .fallback(handle)
        .with_state(state)
        .layer(middleware::from_fn(request_id))
}

async fn health() -> impl IntoResponse {
    (
        [(http::header::CONTENT_TYPE, "application/json")],
        r#"{"status":"ok"}"#,
    )
}

/// Gives every request an id, a span carrying it, and the `x-amzn-RequestId` header.
pub async fn request_id(mut request: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    let span = tracing::info_span!("request", request_id = %id);
    request.extensions_mut().insert(RequestId(id.clone()));
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    async move {
        let mut response = next.run(request).await;
        tracing::debug!(
            %method,
            %path,
            status = response.status().as_u16(),
            micros = started.elapsed().as_micros() as u64,
            "handled"
        );
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert("x-amzn-RequestId", value);
        }
        response
    }
    .instrument(span)
    .await
}

async fn handle(State(state): State<Arc<AwsState>>, request: Request) -> Response {
    match handle_inner(&state, request).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

async fn handle_inner(state: &AwsState, request: Request) -> Result<Response, AwsError> {
    let (parts, body) = request.into_parts();
    let target = Target::of(&parts)?;
    let protocol = target.service.protocol();
    let signature = match &state.verifier {
        Some(_) => Some(
            sigv4::parse(&parts.headers, parts.uri.query())
                .map_err(|e| AwsError::from_auth(protocol, &e))?,
        ),
        None => None,
    };
    let body = read_body(&parts, body, target.service).await?;
    if let (Some(verifier), Some(info)) = (&state.verifier, &signature) {
        let path_and_query = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        verifier
            .verify(
                info,
                target.service.signing_name(),
                parts.method.as_str(),
                path_and_query,
                &parts.headers,
                &body,
                SystemTime::now(),
            )
            .map_err(|e| AwsError::from_auth(protocol, &e))?;
    }
    dispatch(state, &target, &parts, body).await
}

/// Reads the body, refusing it before it is buffered whole when it exceeds the service's limit.
async fn read_body(
    parts: &http::request::Parts,
    body: Body,
    service: Service,
) -> Result<bytes::Bytes, AwsError> {
    let limit = service.body_limit();
    let too_large = || AwsError::too_large(service.protocol(), service.too_large_code(), limit);
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        if std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
        {
            too_large()
        } else {
            AwsError::serialization(service.protocol(), format!("cannot read body: {e}"))
        }
    })
}

async fn dispatch(
    state: &AwsState,
    target: &Target,
    parts: &http::request::Parts,
    body: bytes::Bytes,
) -> Result<Response, AwsError> {
    let protocol = target.service.protocol();
    match target.service {
        Service::DynamoDb => {
            dynamodb::handle(&state.services.tables, &target.operation, &body).await
        }
        Service::ApiGateway => apigateway::handle(&state.services.gateway, parts, body).await,
        Service::Lambda => lambda::handle(&state.services.functions, parts, body).await,
        Service::Logs => logs::handle(&state.services.functions, &target.operation, &body).await,
        Service::Nimbus => usage::handle(&state.services.usage, parts),
        Service::DynamoDbStreams => Err(AwsError::unknown_operation(protocol, &target.operation)),
    }
}

/// A JSON response with status 200 in the protocol's content type. JSON 1.0 responses carry
/// `x-amz-crc32`, the CRC32 of the body that DynamoDB clients check.
pub fn json_response(protocol: error::Protocol, body: Vec<u8>) -> Response {
    let content_type = protocol.content_type();
    let crc = (protocol == error::Protocol::Json10).then(|| crc32fast::hash(&body));
    let mut response = (
        StatusCode::OK,
        [(http::header::CONTENT_TYPE, content_type)],
        body,
    )
        .into_response();
    if let Some(crc) = crc {
        response
            .headers_mut()
            .insert("x-amz-crc32", HeaderValue::from(crc));
    }
    response
}
