//! Recognising which service and operation a request is for: `X-Amz-Target` for the JSON
//! protocols, method and path prefix for the REST ones.

use crate::error::{AwsError, Protocol};

/// A service behind the AWS endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    DynamoDb,
    DynamoDbStreams,
    Lambda,
    ApiGateway,
    /// CloudWatch Logs, for function logs.
    Logs,
    /// Nimbus' own read-only operations under `/_nimbus/` (usage totals), signed with the
    /// service name `nimbus` in the credential scope.
    Nimbus,
    /// AWS STS, for GetCallerIdentity: the query protocol, `Action` in a form body.
    Sts,
}

impl Service {
    /// The service name of the SigV4 credential scope.
    pub fn signing_name(self) -> &'static str {
        match self {
            Service::DynamoDb | Service::DynamoDbStreams => "dynamodb",
            Service::Lambda => "lambda",
            Service::ApiGateway => "apigateway",
            Service::Logs => "logs",
            Service::Nimbus => "nimbus",
            Service::Sts => "sts",
        }
    }

    pub fn protocol(self) -> Protocol {
        match self {
            Service::DynamoDb | Service::DynamoDbStreams => Protocol::Json10,
            Service::Lambda | Service::ApiGateway | Service::Nimbus => Protocol::RestJson,
            Service::Logs => Protocol::Json11,
            Service::Sts => Protocol::Query,
        }
    }

    /// The largest request body the service accepts.
    pub fn body_limit(self) -> usize {
        match self {
            // DynamoDB's HTTP request limit.
            Service::DynamoDb | Service::DynamoDbStreams => 16 * 1024 * 1024,
            // CreateFunction carries a zip of up to 50 MB as base64 inside JSON.
            Service::Lambda => 70 * 1024 * 1024,
            Service::ApiGateway => 10 * 1024 * 1024,
            Service::Logs => 2 * 1024 * 1024,
            Service::Nimbus | Service::Sts => 64 * 1024,
        }
    }

    /// The error type of a body over the limit.
    pub fn too_large_code(self) -> &'static str {
        match self {
            Service::Lambda => "RequestTooLargeException",
            _ => "RequestEntityTooLarge",
        }
    }
}

/// Lambda's REST API versions, the first path segment of its operations.
const LAMBDA_PREFIXES: &[&str] = &[
    "2014-11-13",
    "2015-03-31",
    "2016-08-19",
    "2017-03-31",
    "2017-10-31",
    "2018-10-31",
    "2019-09-25",
    "2019-09-30",
    "2020-04-22",
    "2020-06-30",
    "2021-10-31",
    "2024-08-31",
];

/// API Gateway management paths (v1 and v2).
const APIGATEWAY_PREFIXES: &[&str] = &[
    "v2",
    "restapis",
    "apikeys",
    "usageplans",
    "domainnames",
    "account",
    "tags",
];

/// The service and operation a request addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub service: Service,
    /// The JSON operation name, or `METHOD /path` for REST services.
    pub operation: String,
}

/// The JSON-protocol service and operation that an `X-Amz-Target` header names
/// (`DynamoDB_20120810.GetItem`); `None` for a prefix no service here answers to.
pub fn json_target(target: &str) -> Option<(Service, &str)> {
    let (prefix, operation) = target.split_once('.').unwrap_or((target, ""));
    let service = match prefix {
        "DynamoDB_20120810" => Service::DynamoDb,
        "DynamoDBStreams_20120810" => Service::DynamoDbStreams,
        "Logs_20140328" => Service::Logs,
        _ => return None,
    };
    Some((service, operation))
}

/// Whether a request to `/` speaks the query protocol: a form body (`POST`), or the
/// parameters in the query string (`GET /?Action=...`).
fn is_query_protocol(parts: &http::request::Parts) -> bool {
    match parts.method {
        http::Method::POST => parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded")),
        http::Method::GET => parts
            .uri
            .query()
            .is_some_and(|q| q.split('&').any(|p| p.starts_with("Action="))),
        _ => false,
    }
}

impl Target {
    pub fn of(parts: &http::request::Parts) -> Result<Target, AwsError> {
        if let Some(target) = parts.headers.get("x-amz-target") {
            let target = target.to_str().unwrap_or_default();
            let Some((service, operation)) = json_target(target) else {
                return Err(AwsError::unknown_operation(Protocol::Json10, target));
            };
            return Ok(Target {
                service,
                operation: operation.to_owned(),
            });
        }
        let path = parts.uri.path();
        let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
        let service = if LAMBDA_PREFIXES.contains(&first) {
            Service::Lambda
        } else if APIGATEWAY_PREFIXES.contains(&first) {
            Service::ApiGateway
        } else if first == "_nimbus" {
            Service::Nimbus
        } else if path == "/" && is_query_protocol(parts) {
            Service::Sts
        } else if parts.method == http::Method::POST && path == "/" {
            // A JSON-protocol request without its X-Amz-Target header.
            return Err(AwsError::unknown_operation(
                Protocol::Json10,
                "missing X-Amz-Target header",
            ));
        } else {
            return Err(AwsError::unknown_operation(
                Protocol::RestJson,
                &format!("{} {path}", parts.method),
            ));
        };
        Ok(Target {
            service,
            operation: format!("{} {path}", parts.method),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, uri: &str, target: Option<&str>) -> http::request::Parts {
        let mut b = http::Request::builder().method(method).uri(uri);
        if let Some(t) = target {
            b = b.header("x-amz-target", t);
        }
        b.body(()).expect("request").into_parts().0
    }

    #[test]
    fn targets_and_paths_name_the_service() {
        let t = Target::of(&parts("POST", "/", Some("DynamoDB_20120810.GetItem"))).expect("ok");
        assert_eq!(
            (t.service, t.operation.as_str()),
            (Service::DynamoDb, "GetItem")
        );
        let t = Target::of(&parts("GET", "/2015-03-31/functions/", None)).expect("ok");
        assert_eq!(t.service, Service::Lambda);
        let t = Target::of(&parts("GET", "/v2/apis", None)).expect("ok");
        assert_eq!(t.service, Service::ApiGateway);
        let t = Target::of(&parts("GET", "/_nimbus/usage", None)).expect("ok");
        assert_eq!(
            (t.service, t.service.signing_name()),
            (Service::Nimbus, "nimbus")
        );
        let e = Target::of(&parts("POST", "/", Some("Foo_1.Bar"))).expect_err("unknown");
        assert_eq!(e.code, "UnknownOperationException");
        let e = Target::of(&parts("GET", "/nothing", None)).expect_err("unknown");
        assert_eq!(e.status, http::StatusCode::NOT_FOUND);
        let t = Target::of(&parts("GET", "/?Action=GetCallerIdentity", None)).expect("ok");
        assert_eq!((t.service, t.service.signing_name()), (Service::Sts, "sts"));
        let mut form = parts("POST", "/", None);
        form.headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
        );
        assert_eq!(Target::of(&form).expect("ok").service, Service::Sts);
    }
}
