//! Lambda over REST JSON: method and path (`/2015-03-31/functions/...`) to a typed
//! [`LambdaRequest`] in one place ([`LambdaRequest::parse`]), control operations executed by the
//! function service on a blocking thread, invocations handed to its async `invoke`, and the one
//! mapping from [`FunctionsError`] to Lambda's error responses ([`to_aws`]).
//!
//! Layers (`/2018-10-31/layers...`) are control operations like the others.
//!
//! Also serves the unsigned package downloads behind GetFunction's and GetLayerVersion's
//! `Code.Location` / `Content.Location` ([`download_code`]), which the function service
//! authorizes with a token of its own.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use nimbus_functions::api::{self, ControlOp, Page};
use nimbus_functions::{Functions, FunctionsError, InvocationType, InvokeInput};

use crate::AwsState;
use crate::error::{AwsError, Protocol};

const P: Protocol = Protocol::RestJson;

/// A Lambda request, parsed.
#[derive(Debug)]
pub enum LambdaRequest {
    Control(Box<ControlOp>),
    Invoke(InvokeInput),
    /// The deprecated `InvokeAsync` (answers `{"Status": 202}`).
    InvokeAsync(InvokeInput),
}

/// Decodes one percent-encoded path segment.
fn decode_segment(segment: &str) -> Result<String, FunctionsError> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            let byte = hex
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    FunctionsError::InvalidRequestContent(format!(
                        "malformed path segment {segment}"
                    ))
                })?;
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| {
        FunctionsError::InvalidRequestContent(format!("malformed path segment {segment}"))
    })
}

fn body<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, FunctionsError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        FunctionsError::InvalidRequestContent(format!(
            "Could not parse request body into json: {e}"
        ))
    })
}

/// The query parameters of a request (repeated keys keep every value).
struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    fn of(query: Option<&str>) -> Self {
        QueryParams(
            form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }
    fn get(&self, key: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }
    fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }
    fn page(&self) -> Result<Page, FunctionsError> {
        let max_items = match self.get("MaxItems") {
            Some(v) => Some(v.parse::<i64>().map_err(|_| {
                FunctionsError::InvalidParameterValue(format!("Invalid MaxItems: {v}"))
            })?),
            None => None,
        };
        Ok(Page {
            marker: self.get("Marker"),
            max_items,
        })
    }
}

fn layer_filter(q: &QueryParams) -> api::LayerFilter {
    api::LayerFilter {
        runtime: q.get("CompatibleRuntime"),
        architecture: q.get("CompatibleArchitecture"),
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn invoke_input(
    function_name: String,
    qualifier: Option<String>,
    headers: &HeaderMap,
    payload: Bytes,
) -> Result<InvokeInput, FunctionsError> {
    let invocation_type = match header(headers, "x-amz-invocation-type").as_deref() {
        None | Some("RequestResponse") => InvocationType::RequestResponse,
        Some("Event") => InvocationType::Event,
        Some("DryRun") => InvocationType::DryRun,
        Some(other) => {
            return Err(FunctionsError::Validation(format!(
                "1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
            )));
        }
    };
    let log_tail = match header(headers, "x-amz-log-type").as_deref() {
        None | Some("None") => false,
        Some("Tail") => true,
        Some(other) => {
            return Err(FunctionsError::Validation(format!(
                "1 validation error detected: Value '{other}' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [None, Tail]"
            )));
        }
    };
    nimbus_functions::invoke::check_payload_size(invocation_type, payload.len())?;
    Ok(InvokeInput {
        function_name,
        qualifier,
        invocation_type,
        log_tail,
        payload,
        client_context: header(headers, "x-amz-client-context"),
        request_id: None,
    })
}

impl LambdaRequest {
    /// Parses a Lambda REST request from its method, path, query, headers and body.
    pub fn parse(
        method: &Method,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        payload: Bytes,
    ) -> Result<LambdaRequest, AwsError> {
        match Self::parse_known(method, path, query, headers, payload) {
            Ok(Some(request)) => Ok(request),
            Ok(None) => Err(AwsError::unknown_operation(P, &format!("{method} {path}"))),
            Err(e) => Err(to_aws(e)),
        }
    }

    /// `None` when no Lambda operation has this method and path.
    fn parse_known(
        method: &Method,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        payload: Bytes,
    ) -> Result<Option<LambdaRequest>, FunctionsError> {
        let segments = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(decode_segment)
            .collect::<Result<Vec<_>, _>>()?;
        let q = QueryParams::of(query);
        let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
        let Some((version, rest)) = segs.split_first() else {
            return Ok(None);
        };
        let f = |name: &str| name.to_owned();
        let op = match (method.as_str(), *version, rest) {
            ("POST", "2014-11-13", ["functions", name, "invoke-async"]) => {
                let mut event = HeaderMap::new();
                event.insert("x-amz-invocation-type", HeaderValue::from_static("Event"));
                let input = invoke_input(f(name), None, &event, payload)?;
                return Ok(Some(LambdaRequest::InvokeAsync(input)));
            }
            ("POST", _, ["functions", name, "invocations"]) => {
                let input = invoke_input(f(name), q.get("Qualifier"), headers, payload)?;
                return Ok(Some(LambdaRequest::Invoke(input)));
            }
            ("POST", _, ["functions"]) => ControlOp::CreateFunction(body(&payload)?),
            ("GET", _, ["functions"]) => ControlOp::ListFunctions {
                all_versions: match q.get("FunctionVersion").as_deref() {
                    None => false,
                    Some("ALL") => true,
                    Some(other) => {
                        return Err(FunctionsError::Validation(format!(
                            "1 validation error detected: Value '{other}' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]"
                        )));
                    }
                },
                page: q.page()?,
            },
            ("GET", _, ["functions", name]) => ControlOp::GetFunction {
                function_name: f(name),
                qualifier: q.get("Qualifier"),
            },
            ("DELETE", _, ["functions", name]) => ControlOp::DeleteFunction {
                function_name: f(name),
                qualifier: q.get("Qualifier"),
            },
            ("GET", _, ["functions", name, "configuration"]) => {
                ControlOp::GetFunctionConfiguration {
                    function_name: f(name),
                    qualifier: q.get("Qualifier"),
                }
            }
            ("PUT", _, ["functions", name, "configuration"]) => {
                ControlOp::UpdateFunctionConfiguration {
                    function_name: f(name),
                    request: body(&payload)?,
                }
            }
            ("PUT", _, ["functions", name, "code"]) => ControlOp::UpdateFunctionCode {
                function_name: f(name),
                request: body(&payload)?,
            },
            ("POST", _, ["functions", name, "versions"]) => ControlOp::PublishVersion {
                function_name: f(name),
                request: body(&payload)?,
            },
            ("GET", _, ["functions", name, "versions"]) => ControlOp::ListVersionsByFunction {
                function_name: f(name),
                page: q.page()?,
            },
            ("POST", "2021-10-31", ["functions", name, "url"]) => {
                ControlOp::CreateFunctionUrlConfig {
                    function_name: f(name),
                    qualifier: q.get("Qualifier"),
                    request: body(&payload)?,
                }
            }
            ("GET", "2021-10-31", ["functions", name, "url"]) => ControlOp::GetFunctionUrlConfig {
                function_name: f(name),
                qualifier: q.get("Qualifier"),
            },
            ("PUT", "2021-10-31", ["functions", name, "url"]) => {
                ControlOp::UpdateFunctionUrlConfig {
                    function_name: f(name),
                    qualifier: q.get("Qualifier"),
                    request: body(&payload)?,
                }
            }
            ("DELETE", "2021-10-31", ["functions", name, "url"]) => {
                ControlOp::DeleteFunctionUrlConfig {
                    function_name: f(name),
                    qualifier: q.get("Qualifier"),
                }
            }
            ("GET", "2021-10-31", ["functions", name, "urls"]) => {
                ControlOp::ListFunctionUrlConfigs {
                    function_name: f(name),
                    page: q.page()?,
                }
            }
            ("PUT" | "POST", "2019-09-25", ["functions", name, "event-invoke-config"]) => {
                ControlOp::PutFunctionEventInvokeConfig {
                    function_name: f(name),
                    qualifier: q.get("Qualifier"),
                    request: body(&payload)?,
                    replace: method == Method::PUT,
                }
            }
            ("GET", "2019-09-25", ["functions", name, "event-invoke-config"]) => {
                ControlOp::GetFunctionEventInvokeConfig {
                    function_name: f(name),
                    qualifier: q.get("Qualifier"),
                }
            }
            ("DELETE", "2019-09-25", ["functions", name, "event-invoke-config"]) => {
                ControlOp::DeleteFunctionEventInvokeConfig {
                    function_name: f(name),
                    qualifier: q.get("Qualifier"),
                }
            }
            ("GET", "2019-09-25", ["functions", name, "event-invoke-config", "list"]) => {
                ControlOp::ListFunctionEventInvokeConfigs {
                    function_name: f(name),
                    page: q.page()?,
                }
            }
            ("POST", _, ["functions", name, "aliases"]) => ControlOp::CreateAlias {
                function_name: f(name),
                request: body(&payload)?,
            },
            ("GET", _, ["functions", name, "aliases"]) => ControlOp::ListAliases {
                function_name: f(name),
                function_version: q.get("FunctionVersion"),
                page: q.page()?,
            },
            ("GET", _, ["functions", name, "aliases", alias]) => ControlOp::GetAlias {
                function_name: f(name),
                name: f(alias),
            },
            ("PUT", _, ["functions", name, "aliases", alias]) => ControlOp::UpdateAlias {
                function_name: f(name),
                name: f(alias),
                request: body(&payload)?,
            },
            ("DELETE", _, ["functions", name, "aliases", alias]) => ControlOp::DeleteAlias {
                function_name: f(name),
                name: f(alias),
            },
            ("PUT", _, ["functions", name, "concurrency"]) => ControlOp::PutFunctionConcurrency {
                function_name: f(name),
                request: body(&payload)?,
            },
            ("GET", _, ["functions", name, "concurrency"]) => ControlOp::GetFunctionConcurrency {
                function_name: f(name),
            },
            ("DELETE", _, ["functions", name, "concurrency"]) => {
                ControlOp::DeleteFunctionConcurrency {
                    function_name: f(name),
                }
            }
            ("POST", _, ["functions", name, "policy"]) => ControlOp::AddPermission {
                function_name: f(name),
                qualifier: q.get("Qualifier"),
                request: body(&payload)?,
            },
            ("GET", _, ["functions", name, "policy"]) => ControlOp::GetPolicy {
                function_name: f(name),
                qualifier: q.get("Qualifier"),
            },
            ("DELETE", _, ["functions", name, "policy", sid]) => ControlOp::RemovePermission {
                function_name: f(name),
                statement_id: f(sid),
                qualifier: q.get("Qualifier"),
                revision_id: q.get("RevisionId"),
            },
            ("GET", _, ["account-settings"]) => ControlOp::GetAccountSettings,
            ("POST", _, ["tags", resource]) => ControlOp::TagResource {
                resource: f(resource),
                request: body::<api::TagResourceRequest>(&payload)?,
            },
            ("DELETE", _, ["tags", resource]) => ControlOp::UntagResource {
                resource: f(resource),
                tag_keys: q.all("tagKeys"),
            },
            ("GET", _, ["tags", resource]) => ControlOp::ListTags {
                resource: f(resource),
            },
            ("GET", _, ["layers"]) if q.get("find").as_deref() == Some("LayerVersion") => {
                ControlOp::GetLayerVersionByArn {
                    arn: q.get("Arn").unwrap_or_default(),
                }
            }
            ("GET", _, ["layers"]) => ControlOp::ListLayers {
                filter: layer_filter(&q),
                page: q.page()?,
            },
            ("POST", _, ["layers", name, "versions"]) => ControlOp::PublishLayerVersion {
                layer_name: f(name),
                request: body(&payload)?,
            },
            ("GET", _, ["layers", name, "versions"]) => ControlOp::ListLayerVersions {
                layer_name: f(name),
                filter: layer_filter(&q),
                page: q.page()?,
            },
            ("GET", _, ["layers", name, "versions", version]) => ControlOp::GetLayerVersion {
                layer_name: f(name),
                version: f(version),
            },
            ("DELETE", _, ["layers", name, "versions", version]) => ControlOp::DeleteLayerVersion {
                layer_name: f(name),
                version: f(version),
            },
            ("POST", _, ["layers", name, "versions", version, "policy"]) => {
                ControlOp::AddLayerVersionPermission {
                    layer_name: f(name),
                    version: f(version),
                    revision_id: q.get("RevisionId"),
                    request: body(&payload)?,
                }
            }
            ("GET", _, ["layers", name, "versions", version, "policy"]) => {
                ControlOp::GetLayerVersionPolicy {
                    layer_name: f(name),
                    version: f(version),
                }
            }
            ("DELETE", _, ["layers", name, "versions", version, "policy", sid]) => {
                ControlOp::RemoveLayerVersionPermission {
                    layer_name: f(name),
                    version: f(version),
                    statement_id: f(sid),
                    revision_id: q.get("RevisionId"),
                }
            }
            _ => return Ok(None),
        };
        Ok(Some(LambdaRequest::Control(Box::new(op))))
    }
}

/// Runs one Lambda request.
pub async fn handle(
    functions: &Arc<Functions>,
    parts: &http::request::Parts,
    payload: Bytes,
) -> Result<Response, AwsError> {
    let request = LambdaRequest::parse(
        &parts.method,
        parts.uri.path(),
        parts.uri.query(),
        &parts.headers,
        payload,
    )?;
    // The invocation carries the id the caller gets in `x-amzn-RequestId`.
    let request_id = parts
        .extensions
        .get::<crate::RequestId>()
        .map(|id| id.0.clone());
    match request {
        LambdaRequest::Control(op) => control(functions, *op).await,
        LambdaRequest::Invoke(mut input) => {
            input.request_id = request_id;
            let synchronous = input.invocation_type == InvocationType::RequestResponse;
            let output = functions.invoke(input).await.map_err(to_aws)?;
            let mut response = (
                StatusCode::from_u16(output.status_code).unwrap_or(StatusCode::OK),
                [(http::header::CONTENT_TYPE, "application/json")],
                output.payload,
            )
                .into_response();
            let headers = response.headers_mut();
            let mut set = |name: &'static str, value: Option<&str>| {
                if let Some(v) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
                    headers.insert(name, v);
                }
            };
            set("x-amz-function-error", output.function_error.as_deref());
            set("x-amz-log-result", output.log_result.as_deref());
            // Lambda names the version that ran only when one ran (not for Event or DryRun).
            set(
                "x-amz-executed-version",
                synchronous.then_some(output.executed_version.as_str()),
            );
            Ok(response)
        }
        LambdaRequest::InvokeAsync(mut input) => {
            input.request_id = request_id;
            functions.invoke(input).await.map_err(to_aws)?;
            Ok(json(StatusCode::ACCEPTED, br#"{"Status":202}"#.to_vec()))
        }
    }
}

fn json(status: StatusCode, body: Vec<u8>) -> Response {
    (
        status,
        [(http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

async fn control(functions: &Arc<Functions>, op: ControlOp) -> Result<Response, AwsError> {
    let name = op.name();
    let status = StatusCode::from_u16(op.success_status()).unwrap_or(StatusCode::OK);
    let functions = Arc::clone(functions);
    let result = tokio::task::spawn_blocking(move || functions.execute(op))
        .await
        .map_err(|e| {
            tracing::error!("Lambda {name} panicked: {e}");
            AwsError::internal(P)
        })?;
    match result.map_err(to_aws)? {
        Some(value) => Ok(json(status, value.to_string().into_bytes())),
        None => Ok(status.into_response()),
    }
}

/// `GET /_nimbus/code/{sha}?expires=..&token=..`: a deployment package, for the holder of a
/// `Code.Location` URL. No SigV4: the token is the authorization.
pub async fn download_code(
    State(state): State<Arc<AwsState>>,
    Path(sha): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let denied = || {
        (
            StatusCode::FORBIDDEN,
            [(http::header::CONTENT_TYPE, "text/plain")],
            "Access denied: the code location is invalid or has expired\n",
        )
            .into_response()
    };
    let valid_sha = sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit());
    let (Some(expires), Some(token)) = (params.get("expires"), params.get("token")) else {
        return denied();
    };
    if !valid_sha {
        return denied();
    }
    let functions = Arc::clone(&state.services.functions);
    let (expires, token) = (expires.clone(), token.clone());
    let result =
        tokio::task::spawn_blocking(move || functions.download_code(&sha, &expires, &token)).await;
    match result {
        Ok(Ok(Some(zip))) => (
            StatusCode::OK,
            [(http::header::CONTENT_TYPE, "application/zip")],
            zip,
        )
            .into_response(),
        Ok(Ok(None)) => denied(),
        Ok(Err(e)) => to_aws(e).into_response(),
        Err(e) => {
            tracing::error!("package download panicked: {e}");
            AwsError::internal(P).into_response()
        }
    }
}

/// The one mapping from function service errors to Lambda error responses (the table in
/// `nimbus_functions::error`).
pub fn to_aws(err: FunctionsError) -> AwsError {
    let e = |status: StatusCode, code: &'static str, message: String| {
        let err = AwsError::common(P, status, code, message);
        // Lambda's model spells the member `Message` for these two, `message` for the others.
        match code {
            "ResourceNotFoundException" | "ServiceException" => err.with_message_key("Message"),
            _ => err,
        }
    };
    match err {
        FunctionsError::ResourceNotFound(m) => {
            e(StatusCode::NOT_FOUND, "ResourceNotFoundException", m)
        }
        FunctionsError::ResourceConflict(m) => {
            e(StatusCode::CONFLICT, "ResourceConflictException", m)
        }
        FunctionsError::InvalidParameterValue(m) => {
            e(StatusCode::BAD_REQUEST, "InvalidParameterValueException", m)
        }
        FunctionsError::Validation(m) => e(StatusCode::BAD_REQUEST, "ValidationException", m),
        FunctionsError::InvalidRequestContent(m) => {
            e(StatusCode::BAD_REQUEST, "InvalidRequestContentException", m)
        }
        FunctionsError::RequestTooLarge(m) => {
            e(StatusCode::PAYLOAD_TOO_LARGE, "RequestTooLargeException", m)
        }
        FunctionsError::TooManyRequests { message, reason } => {
            let mut err = e(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequestsException",
                message,
            );
            let mut extra = serde_json::Map::new();
            extra.insert("Reason".into(), reason.into());
            err.extra = Some(extra);
            // Lambda's throttling answer says when to come back (the SDKs read it into
            // `retryAfterSeconds`): a slot frees as soon as an invocation ends.
            err.retry_after = Some(1);
            err
        }
        FunctionsError::PreconditionFailed(m) => e(
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailedException",
            m,
        ),
        FunctionsError::Service(m) => {
            tracing::error!("function service failed: {m}");
            e(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ServiceException",
                "Internal error in the function service".into(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nimbus_functions::api::MAX_SYNC_PAYLOAD;

    fn parse(method: &str, uri: &str, body: &str) -> Result<LambdaRequest, AwsError> {
        let uri: http::Uri = uri.parse().expect("uri");
        LambdaRequest::parse(
            &method.parse().expect("method"),
            uri.path(),
            uri.query(),
            &HeaderMap::new(),
            Bytes::from(body.to_owned()),
        )
    }

    fn control_op(method: &str, uri: &str) -> ControlOp {
        match parse(method, uri, "") {
            Ok(LambdaRequest::Control(op)) => *op,
            other => panic!("{method} {uri} is not a control operation: {other:?}"),
        }
    }

    #[test]
    fn routes_parse_to_operations() {
        assert_eq!(
            control_op(
                "GET",
                "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/configuration?Qualifier=%24LATEST",
            ),
            ControlOp::GetFunctionConfiguration {
                function_name: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
                qualifier: Some("$LATEST".into()),
            }
        );
        let op = control_op(
            "DELETE",
            "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af?tagKeys=a&tagKeys=b",
        );
        assert!(
            matches!(op, ControlOp::UntagResource { ref tag_keys, .. } if tag_keys == &["a", "b"])
        );
        assert_eq!(
            control_op("GET", "/2015-03-31/functions/?MaxItems=2&Marker=m"),
            ControlOp::ListFunctions {
                all_versions: false,
                page: Page {
                    marker: Some("m".into()),
                    max_items: Some(2)
                }
            }
        );
        assert!(matches!(
            parse("POST", "/2015-03-31/functions/f/invocations", "{}"),
            Ok(LambdaRequest::Invoke(_))
        ));
        assert!(matches!(
            parse("POST", "/2014-11-13/functions/f/invoke-async/", "{}"),
            Ok(LambdaRequest::InvokeAsync(InvokeInput {
                invocation_type: InvocationType::Event,
                ..
            }))
        ));
        assert_eq!(
            control_op(
                "GET",
                "/2018-10-31/layers?find=LayerVersion&Arn=arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Alayer%3Adeps%3A2",
            ),
            ControlOp::GetLayerVersionByArn {
                arn: "arn:aws:lambda:us-east-1:000000000000:layer:deps:2".into()
            }
        );
        assert_eq!(
            control_op(
                "DELETE",
                "/2018-10-31/layers/deps/versions/2/policy/s1?RevisionId=r"
            ),
            ControlOp::RemoveLayerVersionPermission {
                layer_name: "deps".into(),
                version: "2".into(),
                statement_id: "s1".into(),
                revision_id: Some("r".into()),
            }
        );
        assert!(matches!(
            control_op("GET", "/2018-10-31/layers?CompatibleRuntime=python3.12"),
            ControlOp::ListLayers { filter, .. } if filter.runtime.as_deref() == Some("python3.12")
        ));
        let err = parse("PATCH", "/2015-03-31/functions/f", "").expect_err("unknown");
        assert_eq!(err.code, "UnknownOperationException");
        let err = parse("POST", "/2015-03-31/functions", "{not json").expect_err("bad json");
        assert_eq!(err.code, "InvalidRequestContentException");
    }

    #[test]
    fn oversized_payloads_are_refused_before_invoking() {
        let big = "x".repeat(MAX_SYNC_PAYLOAD + 1);
        let aws = parse("POST", "/2015-03-31/functions/f/invocations", &big).expect_err("big");
        assert_eq!(
            (aws.status, aws.code),
            (StatusCode::PAYLOAD_TOO_LARGE, "RequestTooLargeException")
        );
    }

    #[test]
    fn throttles_carry_their_reason() {
        let aws = to_aws(FunctionsError::TooManyRequests {
            message: "Rate Exceeded.".into(),
            reason: "ReservedFunctionConcurrentInvocationLimitExceeded",
        });
        assert_eq!(aws.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            aws.body()["Reason"],
            "ReservedFunctionConcurrentInvocationLimitExceeded"
        );
        assert_eq!(aws.body()["Type"], "User");
    }
}
