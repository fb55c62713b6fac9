//! AWS error responses: the one place where a failure becomes an HTTP status, a wire body and
//! a log level, in the shape of the protocol the client speaks.
//!
//! - JSON 1.0 (DynamoDB): `{"__type": "<namespace>#<Code>", "message": "..."}`, status 400 for
//!   client errors, 500 for server errors.
//! - REST JSON (Lambda, API Gateway): header `x-amzn-ErrorType: <Code>` and a JSON body
//!   `{"message": "..."}` (Lambda adds `"Type": "User"` or `"Service"`).
//! - Query (STS): an XML `<ErrorResponse><Error><Type/><Code/><Message/></Error></ErrorResponse>`.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};

use crate::sigv4::AuthError;

/// The wire protocol of a service, which decides the shape of its errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `application/x-amz-json-1.0` with `X-Amz-Target` (DynamoDB, DynamoDB Streams).
    Json10,
    /// `application/x-amz-json-1.1` with `X-Amz-Target` (CloudWatch Logs); errors as JSON 1.0.
    Json11,
    /// REST JSON with method + path dispatch (Lambda, API Gateway).
    RestJson,
    /// The query protocol: form-encoded parameters naming the `Action`, XML answers (STS).
    Query,
}

impl Protocol {
    /// The `Content-Type` of the protocol's responses.
    pub fn content_type(self) -> &'static str {
        match self {
            Protocol::Json10 => "application/x-amz-json-1.0",
            Protocol::Json11 => "application/x-amz-json-1.1",
            Protocol::RestJson => "application/json",
            Protocol::Query => "text/xml",
        }
    }
}

/// Namespace of the errors common to every AWS JSON service.
const CORAL: &str = "com.amazon.coral.service";
/// Namespace of DynamoDB's own errors.
pub const DYNAMODB: &str = "com.amazonaws.dynamodb.v20120810";
/// Namespace of validation errors.
pub const VALIDATE: &str = "com.amazon.coral.validate";

/// An error ready to be sent to an AWS client.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsError {
    pub status: StatusCode,
    /// The error type a client branches on, e.g. `ValidationException`.
    pub code: &'static str,
    /// Namespace used in JSON 1.0 `__type`.
    pub namespace: &'static str,
    pub message: String,
    /// The member that carries `message` in the body: `message` for most errors, `Message`
    /// where the service's model spells it so on the wire (Lambda's ResourceNotFoundException
    /// and ServiceException, DynamoDB's condition failure that returns the item).
    pub message_key: &'static str,
    /// `Retry-After`, in seconds: when a throttled client may try again.
    pub retry_after: Option<u32>,
    /// Extra members of the JSON body (e.g. `Item` of a failed DynamoDB condition).
    pub extra: Option<serde_json::Map<String, serde_json::Value>>,
    pub protocol: Protocol,
}

impl AwsError {
    pub fn new(
        protocol: Protocol,
        status: StatusCode,
        namespace: &'static str,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        AwsError {
            status,
            code,
            namespace,
            message: message.into(),
            message_key: "message",
            retry_after: None,
            extra: None,
            protocol,
        }
    }

    /// This error with its message under `key` (see [`AwsError::message_key`]).
    pub fn with_message_key(mut self, key: &'static str) -> Self {
        self.message_key = key;
        self
    }

    /// An error common to every AWS service (`com.amazon.coral.service`).
    pub fn common(
        protocol: Protocol,
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self::new(protocol, status, CORAL, code, message)
    }

    pub fn unknown_operation(protocol: Protocol, what: &str) -> Self {
        let status = match protocol {
            Protocol::Json10 | Protocol::Json11 | Protocol::Query => StatusCode::BAD_REQUEST,
            Protocol::RestJson => StatusCode::NOT_FOUND,
        };
        Self::common(
            protocol,
            status,
            "UnknownOperationException",
            format!("Unknown operation: {what}"),
        )
    }

    /// A body that cannot be read as the operation's input. The JSON protocols spell its
    /// message `Message`, as DynamoDB does.
    pub fn serialization(protocol: Protocol, message: impl Into<String>) -> Self {
        let e = Self::common(
            protocol,
            StatusCode::BAD_REQUEST,
            "SerializationException",
            message,
        );
        match protocol {
            Protocol::Json10 | Protocol::Json11 => e.with_message_key("Message"),
            Protocol::RestJson | Protocol::Query => e,
        }
    }

    pub fn too_large(protocol: Protocol, code: &'static str, limit: usize) -> Self {
        Self::common(
            protocol,
            StatusCode::PAYLOAD_TOO_LARGE,
            code,
            format!("Request must be smaller than {limit} bytes for this operation"),
        )
    }

    pub fn internal(protocol: Protocol) -> Self {
        Self::common(
            protocol,
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "Internal server error",
        )
    }

    /// The AWS error for a refused signature.
    pub fn from_auth(protocol: Protocol, err: &AuthError) -> Self {
        // DynamoDB answers authentication failures with 400, the REST services with 403.
        let status = match protocol {
            Protocol::Json10 | Protocol::Json11 => StatusCode::BAD_REQUEST,
            Protocol::RestJson | Protocol::Query => StatusCode::FORBIDDEN,
        };
        let (code, message) = match err {
            AuthError::Missing => (
                "MissingAuthenticationTokenException",
                "Request is missing Authentication Token".to_owned(),
            ),
            AuthError::Incomplete(m) => ("IncompleteSignatureException", m.clone()),
            AuthError::UnknownKey => (
                "UnrecognizedClientException",
                "The security token included in the request is invalid.".to_owned(),
            ),
            AuthError::Mismatch => (
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided. \
                 Check your AWS Secret Access Key and signing method. Consult the service \
                 documentation for details."
                    .to_owned(),
            ),
            AuthError::Invalid(m) => ("InvalidSignatureException", m.clone()),
            AuthError::Expired => (
                "ExpiredTokenException",
                "The security token included in the request is expired".to_owned(),
            ),
        };
        // The query protocol's services name the same failures their own way.
        let code = match (protocol, code) {
            (Protocol::Query, "MissingAuthenticationTokenException") => {
                "MissingAuthenticationToken"
            }
            (Protocol::Query, "IncompleteSignatureException") => "IncompleteSignature",
            (Protocol::Query, "UnrecognizedClientException") => "InvalidClientTokenId",
            (Protocol::Query, "InvalidSignatureException") => "SignatureDoesNotMatch",
            (Protocol::Query, "ExpiredTokenException") => "ExpiredToken",
            (_, code) => code,
        };
        Self::common(protocol, status, code, message)
    }

    /// The XML body of a query-protocol error.
    pub fn xml_body(&self) -> String {
        let kind = if self.status.is_server_error() {
            "Receiver"
        } else {
            "Sender"
        };
        format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error></ErrorResponse>",
            self.code,
            xml_escape(&self.message)
        )
    }

    /// The JSON body as the protocol sends it.
    pub fn body(&self) -> serde_json::Value {
        let mut body = serde_json::Map::new();
        match self.protocol {
            Protocol::Json10 | Protocol::Json11 => {
                let error_type = if self.namespace.is_empty() {
                    self.code.to_owned()
                } else {
                    format!("{}#{}", self.namespace, self.code)
                };
                body.insert("__type".into(), error_type.into());
                // An error without a message (a body that is not JSON at all) has only its type.
                if !self.message.is_empty() {
                    body.insert(self.message_key.into(), self.message.clone().into());
                }
            }
            Protocol::RestJson | Protocol::Query => {
                let kind = if self.status.is_server_error() {
                    "Service"
                } else {
                    "User"
                };
                body.insert("Type".into(), kind.into());
                body.insert(self.message_key.into(), self.message.clone().into());
            }
        }
        if let Some(extra) = &self.extra {
            body.extend(extra.clone());
        }
        serde_json::Value::Object(body)
    }
}

/// The JSON 1.0 error body, for clients and tests that parse it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Json10ErrorBody {
    #[serde(rename = "__type")]
    pub error_type: String,
    pub message: String,
}

impl IntoResponse for AwsError {
    fn into_response(self) -> Response {
        // The message may echo the client's values: logged on one line, so that no request
        // can write lines of its own into the server's log.
        let message = OneLine(&self.message);
        if self.status.is_server_error() {
            tracing::error!(code = self.code, message = %message, "request failed");
        } else {
            tracing::info!(code = self.code, message = %message, "request refused");
        }
        let content_type = self.protocol.content_type();
        let body = match self.protocol {
            Protocol::Query => self.xml_body().into_bytes(),
            _ => self.body().to_string().into_bytes(),
        };
        let crc = (self.protocol == Protocol::Json10).then(|| crc32fast::hash(&body));
        let mut response = (
            self.status,
            [(http::header::CONTENT_TYPE, content_type)],
            body,
        )
            .into_response();
        if let Some(crc) = crc {
            response
                .headers_mut()
                .insert(crate::compress::CRC_HEADER, HeaderValue::from(crc));
        }
        if self.protocol == Protocol::RestJson {
            response
                .headers_mut()
                .insert("x-amzn-ErrorType", HeaderValue::from_static(self.code));
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// `text` with XML's five special characters escaped, for element content. By hand: five
/// replacements do not call for an XML library.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Text for a log line with its control characters (newlines among them) escaped.
pub struct OneLine<'a>(pub &'a str);

impl std::fmt::Display for OneLine<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write;
        for c in self.0.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                f.write_char(c)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_escapes_control_characters() {
        let text = OneLine("a'\n2026-11-27T00:00:00Z ERROR fake\r\t\u{1b}[31m");
        assert_eq!(
            text.to_string(),
            "a'\\n2026-11-27T00:00:00Z ERROR fake\\r\\t\\u{1b}[31m"
        );
    }

    #[test]
    fn json10_body_round_trips() {
        let e = AwsError::from_auth(Protocol::Json10, &AuthError::UnknownKey);
        let parsed: Json10ErrorBody = serde_json::from_value(e.body()).expect("shape");
        assert_eq!(
            parsed.error_type,
            "com.amazon.coral.service#UnrecognizedClientException"
        );
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let again = serde_json::to_value(&parsed).expect("serializes");
        assert_eq!(again, e.body());
    }

    #[test]
    fn query_errors_are_xml() {
        let e = AwsError::from_auth(Protocol::Query, &AuthError::Mismatch);
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        assert_eq!(e.code, "SignatureDoesNotMatch");
        let e = AwsError::common(
            Protocol::Query,
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            "a <b> & 'c'",
        );
        assert_eq!(
            e.xml_body(),
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>a &lt;b&gt; &amp; &apos;c&apos;</Message></Error></ErrorResponse>"
        );
    }

    #[test]
    fn rest_errors_carry_the_type_header() {
        let e = AwsError::from_auth(Protocol::RestJson, &AuthError::Mismatch);
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        let r = e.into_response();
        assert_eq!(r.headers()["x-amzn-ErrorType"], "InvalidSignatureException");
    }
}
