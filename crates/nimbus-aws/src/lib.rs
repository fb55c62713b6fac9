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
mod compress;
pub mod dynamodb;
pub mod error;
mod gateway_signatures;
pub mod lambda;
pub mod logs;
pub mod route;
pub mod sigv4;
pub mod sts;
pub mod usage;

pub use gateway_signatures::GatewaySignatures;

use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderValue, StatusCode};
use http_body_util::BodyExt;
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
    verifier: Option<Arc<Verifier>>,
    services: Services,
}

impl AwsState {
    pub fn new(config: AwsConfig, services: Services) -> Self {
        let verifier =
            (!config.no_auth).then(|| Arc::new(Verifier::new(config.keys, config.region)));
        AwsState { verifier, services }
    }

    /// The endpoint's signature verifier (`None` without authentication), with the temporary
    /// credentials it issued: the gateway checks `AWS_IAM` requests with the same one.
    pub fn verifier(&self) -> Option<Arc<Verifier>> {
        self.verifier.clone()
    }
}

/// The request id of the current request, as sent in `x-amzn-RequestId`.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The router of the AWS endpoint.
pub fn router(state: Arc<AwsState>) -> Router {
    Router::new()
        // POST / named as such: a method router's fallback would add an `Allow` header.
        .route("/", get(root_health).post(handle).fallback(handle))
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

/// DynamoDB's health check: `GET /` answers `healthy: <host>` in plain text.
async fn root_health(headers: http::HeaderMap) -> impl IntoResponse {
    let host = headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    (
        [(http::header::CONTENT_TYPE, "text/plain")],
        format!("healthy: {host}"),
    )
}

/// The response headers a browser page may read, for CORS.
const EXPOSED_HEADERS: &str = "x-amzn-RequestId,x-amzn-ErrorType,x-amz-crc32,Date";

/// How long a browser may cache a CORS preflight answer, in seconds.
const PREFLIGHT_MAX_AGE: &str = "86400";

/// A request id in the form the service uses: DynamoDB's are 52 characters of base32hex
/// (`0-9A-V`, 32 random bytes), every other service's are UUIDs (Lambda's invocation ids, which
/// the function sees, among them).
fn new_request_id(headers: &http::HeaderMap) -> String {
    let dynamodb = headers
        .get("x-amz-target")
        .is_some_and(|t| t.as_bytes().starts_with(b"DynamoDB"));
    if dynamodb {
        let mut bytes = [0u8; 32];
        bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        data_encoding::BASE32HEX_NOPAD.encode(&bytes)
    } else {
        uuid::Uuid::new_v4().to_string()
    }
}

/// Gives every request an id, a span carrying it, and the `x-amzn-RequestId` header; names the
/// server in `Server` as AWS does; compresses large DynamoDB answers for clients that accept it
/// ([`compress`]); and lets browser pages call the endpoint, as DynamoDB does:
/// a request with an `Origin` is answered with `Access-Control-Allow-Origin: *`, and a CORS
/// preflight (`OPTIONS` with an `Origin`) is answered here, allowing the method and headers it
/// asks for. Signatures still guard every call that does something.
pub async fn request_id(request: Request, next: Next) -> Response {
    respond(request, |request| next.run(request)).await
}

/// Whether [`call_direct`] answers `request` as the [`router`] would: a DynamoDB call, which is
/// always `POST /` with its operation in `X-Amz-Target`.
pub fn is_direct<B>(request: &http::Request<B>) -> bool {
    request.method() == http::Method::POST
        && request.uri().path() == "/"
        && request
            .headers()
            .get("x-amz-target")
            .and_then(|target| target.to_str().ok())
            .and_then(route::json_target)
            .is_some_and(|(service, _)| service == Service::DynamoDb)
}

/// Answers a request for which [`is_direct`] holds, as the [`router`] would, without its
/// routing and layers: the lanes of the endpoint call it for every DynamoDB call.
pub async fn call_direct(state: Arc<AwsState>, request: Request) -> Response {
    respond(request, |request| handle(State(state), request)).await
}

/// What [`request_id`] does around `inner`, which answers the request.
async fn respond<F, Fut>(mut request: Request, inner: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let id = new_request_id(request.headers());
    let span = tracing::info_span!("request", request_id = %id);
    request.extensions_mut().insert(RequestId(id.clone()));
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let uri = request.uri().clone();
    let cross_origin = request.headers().contains_key(http::header::ORIGIN);
    let compression = compress::preferred(
        request
            .headers()
            .get_all(http::header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok()),
    );
    let preflight = (cross_origin && method == http::Method::OPTIONS).then(|| {
        let asked = |name| request.headers().get(name).cloned();
        (
            asked(http::header::ACCESS_CONTROL_REQUEST_METHOD),
            asked(http::header::ACCESS_CONTROL_REQUEST_HEADERS),
        )
    });
    async move {
        let mut response = match preflight {
            Some((methods, headers)) => {
                let mut response = StatusCode::OK.into_response();
                let h = response.headers_mut();
                h.insert(
                    http::header::ACCESS_CONTROL_MAX_AGE,
                    HeaderValue::from_static(PREFLIGHT_MAX_AGE),
                );
                if let Some(methods) = methods {
                    h.insert(http::header::ACCESS_CONTROL_ALLOW_METHODS, methods);
                }
                if let Some(headers) = headers {
                    h.insert(http::header::ACCESS_CONTROL_ALLOW_HEADERS, headers);
                }
                response
            }
            None => inner(request).await,
        };
        tracing::debug!(
            %method,
            path = uri.path(),
            status = response.status().as_u16(),
            micros = started.elapsed().as_micros() as u64,
            "handled"
        );
        if let Some(coding) = compression
            && response.headers().contains_key(compress::CRC_HEADER)
        {
            response = compress::response(response, coding).await;
        }
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&id) {
            headers.insert("x-amzn-RequestId", value);
        }
        headers.insert(http::header::SERVER, HeaderValue::from_static("Server"));
        if cross_origin {
            headers.insert(
                http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
            headers.insert(
                http::header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSED_HEADERS),
            );
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
    let recognised = Target::of(&parts).and_then(|target| {
        let signature = match &state.verifier {
            Some(_) => Some(
                sigv4::parse(&parts.headers, parts.uri.query())
                    .map_err(|e| AwsError::from_auth(target.service.protocol(), &e))?,
            ),
            None => None,
        };
        Ok((target, signature))
    });
    let (target, signature) = match recognised {
        Ok(recognised) => recognised,
        Err(refusal) => {
            // Refused from its headers: the body the client may be sending is read and thrown
            // away first, so that it gets the refusal rather than a broken pipe.
            discard_unread(&parts, body).await;
            return Err(refusal);
        }
    };
    let protocol = target.service.protocol();
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
    let body = decode_body(&parts, body, target.service)?;
    let caller = signature.as_ref().map(|i| i.access_key_id.as_str());
    dispatch(state, &target, &parts, body, caller).await
}

/// Undoes the request's `Content-Encoding` (gzip, deflate, identity; several in the order they
/// were applied), after the signature was checked over the bytes as sent. The decoded body has
/// the service's size limit too. DynamoDB answers an unknown encoding, or a body that does not
/// decode, with a 500 InternalServerError, so Nimbus does as well; nothing reaches the service.
fn decode_body(
    parts: &http::request::Parts,
    body: bytes::Bytes,
    service: Service,
) -> Result<bytes::Bytes, AwsError> {
    use std::io::Read;

    let protocol = service.protocol();
    let mut body = body;
    let encodings: Vec<String> = parts
        .headers
        .get_all(http::header::CONTENT_ENCODING)
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("?").split(','))
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty() && e != "identity")
        .collect();
    let limit = service.body_limit();
    for encoding in encodings.iter().rev() {
        let undecodable = || {
            AwsError::common(
                protocol,
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                format!("The request body could not be decoded as Content-Encoding {encoding}"),
            )
        };
        let coding = compress::Coding::of_content(encoding).ok_or_else(undecodable)?;
        let mut decoded = Vec::new();
        coding
            .decoder(&body)
            .take(limit as u64 + 1)
            .read_to_end(&mut decoded)
            .map_err(|_| undecodable())?;
        if decoded.is_empty() {
            return Err(undecodable());
        }
        if decoded.len() > limit {
            return Err(AwsError::too_large(
                protocol,
                service.too_large_code(),
                limit,
            ));
        }
        body = decoded.into();
    }
    Ok(body)
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
    let mut body = body;
    if declared.is_some_and(|n| n > limit as u64) {
        discard_unread(parts, body).await;
        return Err(too_large());
    }
    // Chunks are kept as they come (one, for nearly every request: no copy) and joined at the
    // end; past the limit the rest is drained before the refusal.
    let mut chunks: Vec<bytes::Bytes> = Vec::new();
    let mut size = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            AwsError::serialization(service.protocol(), format!("cannot read body: {e}"))
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        size += data.len();
        if size > limit {
            drain(body).await;
            return Err(too_large());
        }
        chunks.push(data);
    }
    Ok(match chunks.len() {
        0 => bytes::Bytes::new(),
        1 => chunks.pop().unwrap_or_default(),
        _ => chunks.concat().into(),
    })
}

/// Throws away the unread body of a request refused before it was read ([`drain`]), unless
/// the client waits for `100 Continue`: then it has not sent the body and will not, and
/// reading it would ask for it.
async fn discard_unread(parts: &http::request::Parts, body: Body) {
    let waits = parts
        .headers
        .get(http::header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if !waits {
        drain(body).await;
    }
}

/// The most of a refused body that is read and thrown away so that the client, which may
/// still be sending it, reads the refusal instead of a reset connection (an SDK that gets a
/// write error retries, and Node.js' can crash on it). Past this the connection is closed.
const DRAIN_LIMIT: usize = 64 << 20;

/// Reads and discards what is left of `body`, up to [`DRAIN_LIMIT`]. (The refusal cannot go
/// out first: the HTTP/1 connection stops reading a request whose answer is complete.)
async fn drain(mut body: Body) {
    let mut seen = 0usize;
    while seen <= DRAIN_LIMIT {
        match body.frame().await {
            Some(Ok(frame)) => seen += frame.data_ref().map_or(0, |d| d.len()),
            _ => return,
        }
    }
}

/// `caller` is the access key the request was signed with (checked), for STS.
async fn dispatch(
    state: &AwsState,
    target: &Target,
    parts: &http::request::Parts,
    body: bytes::Bytes,
    caller: Option<&str>,
) -> Result<Response, AwsError> {
    match target.service {
        Service::DynamoDb => {
            dynamodb::handle(&state.services.tables, &target.operation, &body).await
        }
        Service::ApiGateway => apigateway::handle(&state.services.gateway, parts, body).await,
        Service::Lambda => lambda::handle(&state.services.functions, parts, body).await,
        Service::Logs => logs::handle(&state.services.functions, &target.operation, &body).await,
        Service::Nimbus => usage::handle(&state.services.usage, parts),
        Service::Sts => sts::handle(
            &sts::Caller {
                account: state.services.functions.registry().account_id(),
                access_key: caller,
                verifier: state.verifier.as_deref(),
            },
            parts,
            &body,
        ),
        Service::DynamoDbStreams => {
            dynamodb::handle_streams(&state.services.tables, &target.operation, &body).await
        }
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
            .insert(compress::CRC_HEADER, HeaderValue::from(crc));
    }
    response
}
