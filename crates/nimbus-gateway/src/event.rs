//! The proxy events a function receives: one builder for payload format 2.0 and one for 1.0,
//! from one description of the request ([`Request`]) and of what routing decided
//! ([`Context`]). REST APIs (v1) use the 1.0 builder with [`V1Style::Rest`]: the event has
//! no `version`, `path` is the path within the stage (`requestContext.path` keeps the stage
//! prefix), `identity` carries `apiKey` and `apiKeyId`, header names are in canonical case
//! (`Content-Type`), and a body is base64 exactly when its content type is one of the API's
//! binary media types.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::auth::IamCaller;

/// An incoming request, as the gateway saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path as sent (not decoded), including any stage prefix.
    pub raw_path: String,
    /// The query string as sent, without `?`.
    pub raw_query: String,
    /// Header names lowercased, in arrival order, repeated names kept.
    pub headers: Vec<(String, String)>,
    pub body: bytes::Bytes,
    pub source_ip: String,
    /// `HTTP/1.1`.
    pub protocol: String,
    pub request_id: String,
    /// REST APIs' `extendedRequestId` (the `x-amz-apigw-id`); empty for HTTP APIs, whose
    /// `extendedRequestId` is the request id.
    pub extended_request_id: String,
    /// Epoch milliseconds of arrival.
    pub time_epoch_ms: i64,
    /// The host the request addressed, without port.
    pub domain_name: String,
}

/// The authorizer's verdict, as it appears in events.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthorizerContext {
    Jwt {
        claims: Map<String, Value>,
        scopes: Option<Vec<String>>,
    },
    Lambda {
        context: Map<String, Value>,
        principal_id: Option<String>,
    },
    /// An `AWS_IAM` route's signer: `authorizer.iam` in 2.0 events, the `identity` fields in
    /// 1.0 events.
    Iam(IamCaller),
}

/// What routing decided.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub api_id: &'a str,
    pub account_id: &'a str,
    pub stage: &'a str,
    /// A REST API stage's deployment (`None` for HTTP APIs, whose events have none).
    pub deployment_id: Option<&'a str>,
    /// `GET /items/{id}` or `$default`.
    pub route_key: &'a str,
    pub route_id: &'a str,
    /// `/items/{id}`, or `None` for `$default`.
    pub resource_path: Option<&'a str>,
    /// The request path without the stage prefix.
    pub path: &'a str,
    pub path_params: &'a [(String, String)],
    pub stage_variables: &'a BTreeMap<String, String>,
    pub authorizer: Option<&'a AuthorizerContext>,
    /// A REST API's binary media types (`None` for HTTP APIs, whose bodies are text when
    /// their content type is textual).
    pub binary_media_types: Option<&'a [String]>,
}

/// Which 1.0 event: HTTP APIs' or REST APIs'.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum V1Style {
    Http,
    Rest,
}

/// Whether a body of this content type reaches the function as text (otherwise base64).
pub fn is_text(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else {
        return true;
    };
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime.starts_with("text/")
        || mime.ends_with("/json")
        || mime.ends_with("+json")
        || mime.ends_with("/xml")
        || mime.ends_with("+xml")
        || mime == "application/javascript"
        || mime == "application/ecmascript"
        || mime == "application/graphql"
        || mime == "application/yaml"
        || mime == "application/x-yaml"
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `12/Mar/2020:19:03:58 +0000`.
    pub fn time_text(&self) -> String {
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(self.time_epoch_ms) * 1_000_000,
        )
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        format!(
            "{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000",
            t.day(),
            MONTHS[usize::from(u8::from(t.month())) - 1],
            t.year(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }

    /// The body as the event carries it: text, or base64 for binary media.
    fn body_field(&self, binary_media_types: Option<&[String]>) -> (Option<String>, bool) {
        if self.body.is_empty() {
            return (None, false);
        }
        if let Some(types) = binary_media_types {
            return if crate::rest::is_binary(self.header("content-type"), types) {
                (
                    Some(base64::engine::general_purpose::STANDARD.encode(&self.body)),
                    true,
                )
            } else {
                (
                    Some(String::from_utf8_lossy(&self.body).into_owned()),
                    false,
                )
            };
        }
        if is_text(self.header("content-type"))
            && let Ok(text) = std::str::from_utf8(&self.body)
        {
            return (Some(text.to_owned()), false);
        }
        (
            Some(base64::engine::general_purpose::STANDARD.encode(&self.body)),
            true,
        )
    }

    /// Query parameters, decoded, in order.
    fn query_pairs(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.raw_query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    fn user_agent(&self) -> String {
        self.header("user-agent").unwrap_or("").to_owned()
    }

    fn domain_prefix(&self) -> String {
        self.domain_name
            .split('.')
            .next()
            .unwrap_or(&self.domain_name)
            .to_owned()
    }
}

fn string_map(pairs: &[(String, String)]) -> Option<Value> {
    if pairs.is_empty() {
        return None;
    }
    let map: Map<String, Value> = pairs
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    Some(Value::Object(map))
}

fn stage_vars(vars: &BTreeMap<String, String>) -> Option<Value> {
    if vars.is_empty() {
        return None;
    }
    Some(Value::Object(
        vars.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    ))
}

/// Groups repeated keys, keeping first-appearance order.
fn grouped(pairs: &[(String, String)]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for (k, v) in pairs {
        match out.iter_mut().find(|(name, _)| name == k) {
            Some((_, values)) => values.push(v.clone()),
            None => out.push((k.clone(), vec![v.clone()])),
        }
    }
    out
}

/// Payload format 2.0.
pub fn v2(req: &Request, ctx: &Context<'_>) -> Value {
    let mut event = Map::new();
    event.insert("version".into(), "2.0".into());
    event.insert("routeKey".into(), ctx.route_key.into());
    event.insert("rawPath".into(), req.raw_path.clone().into());
    event.insert("rawQueryString".into(), req.raw_query.clone().into());
    let mut cookies = Vec::new();
    let mut headers: Vec<(String, String)> = Vec::new();
    for (name, value) in grouped(&req.headers) {
        if name == "cookie" {
            for v in value {
                cookies.extend(
                    v.split(';')
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(|c| Value::String(c.to_owned())),
                );
            }
        } else {
            headers.push((name, value.join(",")));
        }
    }
    if !cookies.is_empty() {
        event.insert("cookies".into(), Value::Array(cookies));
    }
    event.insert(
        "headers".into(),
        string_map(&headers).unwrap_or_else(|| json!({})),
    );
    let query: Vec<(String, String)> = grouped(&req.query_pairs())
        .into_iter()
        .map(|(k, v)| (k, v.join(",")))
        .collect();
    if let Some(q) = string_map(&query) {
        event.insert("queryStringParameters".into(), q);
    }
    let mut rc = Map::new();
    rc.insert("accountId".into(), ctx.account_id.into());
    rc.insert("apiId".into(), ctx.api_id.into());
    match ctx.authorizer {
        Some(AuthorizerContext::Jwt { claims, scopes }) => {
            rc.insert(
                "authorizer".into(),
                json!({"jwt": {"claims": claims, "scopes": scopes}}),
            );
        }
        Some(AuthorizerContext::Lambda { context, .. }) => {
            rc.insert("authorizer".into(), json!({"lambda": context}));
        }
        Some(AuthorizerContext::Iam(caller)) => {
            rc.insert(
                "authorizer".into(),
                json!({"iam": {
                    "accessKey": caller.access_key,
                    "accountId": caller.account_id,
                    "callerId": caller.user_id,
                    "cognitoIdentity": null,
                    "principalOrgId": null,
                    "userArn": caller.user_arn,
                    "userId": caller.user_id,
                }}),
            );
        }
        None => {}
    }
    rc.insert("domainName".into(), req.domain_name.clone().into());
    rc.insert("domainPrefix".into(), req.domain_prefix().into());
    rc.insert(
        "http".into(),
        json!({
            "method": req.method,
            "path": req.raw_path,
            "protocol": req.protocol,
            "sourceIp": req.source_ip,
            "userAgent": req.user_agent(),
        }),
    );
    rc.insert("requestId".into(), req.request_id.clone().into());
    rc.insert("routeKey".into(), ctx.route_key.into());
    rc.insert("stage".into(), ctx.stage.into());
    rc.insert("time".into(), req.time_text().into());
    rc.insert("timeEpoch".into(), req.time_epoch_ms.into());
    event.insert("requestContext".into(), Value::Object(rc));
    let (body, base64) = req.body_field(None);
    if let Some(body) = body {
        event.insert("body".into(), body.into());
    }
    if let Some(p) = string_map(ctx.path_params) {
        event.insert("pathParameters".into(), p);
    }
    event.insert("isBase64Encoded".into(), base64.into());
    if let Some(vars) = stage_vars(ctx.stage_variables) {
        event.insert("stageVariables".into(), vars);
    }
    Value::Object(event)
}

/// `content-type` → `Content-Type`.
///
/// REST APIs hand functions header names as the client sent them; the HTTP server here only
/// keeps them lower-cased, so REST events carry the canonical case most clients send (which
/// is what handlers written for REST APIs look up, `event["headers"]["Content-Type"]`).
fn title_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Payload format 1.0 (HTTP APIs) or the REST API proxy event.
pub fn v1(req: &Request, ctx: &Context<'_>, style: V1Style) -> Value {
    let mut headers = grouped(&req.headers);
    if style == V1Style::Rest {
        for (name, _) in &mut headers {
            *name = title_case(name);
        }
    }
    let single_headers: Map<String, Value> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                Value::String(v.last().cloned().unwrap_or_default()),
            )
        })
        .collect();
    let multi_headers: Map<String, Value> =
        headers.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let query = grouped(&req.query_pairs());
    let (single_query, multi_query) = if query.is_empty() {
        (Value::Null, Value::Null)
    } else {
        // HTTP APIs' documented 1.0 example keeps the first value of a repeated parameter;
        // REST APIs keep the last.
        let pick = |v: &Vec<String>| match style {
            V1Style::Http => v.first().cloned().unwrap_or_default(),
            V1Style::Rest => v.last().cloned().unwrap_or_default(),
        };
        (
            Value::Object(
                query
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(pick(v))))
                    .collect(),
            ),
            Value::Object(query.iter().map(|(k, v)| (k.clone(), json!(v))).collect()),
        )
    };
    let resource = ctx.resource_path.unwrap_or(ctx.path).to_owned();
    let (path_for_event, context_path) = match style {
        V1Style::Http => (req.raw_path.clone(), req.raw_path.clone()),
        V1Style::Rest => (ctx.path.to_owned(), req.raw_path.clone()),
    };
    let mut rc = Map::new();
    rc.insert("accountId".into(), ctx.account_id.into());
    rc.insert("apiId".into(), ctx.api_id.into());
    match ctx.authorizer {
        Some(AuthorizerContext::Jwt { claims, scopes }) => {
            rc.insert(
                "authorizer".into(),
                json!({"claims": claims, "scopes": scopes}),
            );
        }
        Some(AuthorizerContext::Lambda {
            context,
            principal_id,
        }) => {
            let mut a = context.clone();
            if let Some(p) = principal_id {
                a.insert("principalId".into(), p.clone().into());
            }
            a.insert("integrationLatency".into(), 0.into());
            rc.insert("authorizer".into(), Value::Object(a));
        }
        Some(AuthorizerContext::Iam(_)) | None => {}
    }
    let iam = match ctx.authorizer {
        Some(AuthorizerContext::Iam(caller)) => Some(caller),
        _ => None,
    };
    rc.insert("domainName".into(), req.domain_name.clone().into());
    rc.insert("domainPrefix".into(), req.domain_prefix().into());
    let extended = if req.extended_request_id.is_empty() {
        &req.request_id
    } else {
        &req.extended_request_id
    };
    rc.insert("extendedRequestId".into(), extended.clone().into());
    rc.insert("httpMethod".into(), req.method.clone().into());
    rc.insert(
        "identity".into(),
        json!({
            "accessKey": iam.map(|c| &c.access_key),
            "accountId": iam.map(|c| &c.account_id),
            "caller": iam.map(|c| &c.user_id),
            "cognitoAuthenticationProvider": null,
            "cognitoAuthenticationType": null,
            "cognitoIdentityId": null,
            "cognitoIdentityPoolId": null,
            "principalOrgId": null,
            "sourceIp": req.source_ip,
            "user": iam.map(|c| &c.user_id),
            "userAgent": req.user_agent(),
            "userArn": iam.map(|c| &c.user_arn),
        }),
    );
    if style == V1Style::Rest {
        if let Some(Value::Object(identity)) = rc.get_mut("identity") {
            identity.insert("apiKey".into(), Value::Null);
            identity.insert("apiKeyId".into(), Value::Null);
        }
        if let Some(id) = ctx.deployment_id {
            rc.insert("deploymentId".into(), id.into());
        }
    }
    rc.insert("path".into(), context_path.into());
    rc.insert("protocol".into(), req.protocol.clone().into());
    rc.insert("requestId".into(), req.request_id.clone().into());
    rc.insert("requestTime".into(), req.time_text().into());
    rc.insert("requestTimeEpoch".into(), req.time_epoch_ms.into());
    rc.insert("resourceId".into(), ctx.route_id.into());
    rc.insert("resourcePath".into(), resource.clone().into());
    rc.insert("stage".into(), ctx.stage.into());
    let (body, base64) = req.body_field(ctx.binary_media_types);
    let mut event = Map::new();
    if style == V1Style::Http {
        event.insert("version".into(), "1.0".into());
    }
    event.insert("resource".into(), resource.into());
    event.insert("path".into(), path_for_event.into());
    event.insert("httpMethod".into(), req.method.clone().into());
    event.insert("headers".into(), Value::Object(single_headers));
    event.insert("multiValueHeaders".into(), Value::Object(multi_headers));
    event.insert("queryStringParameters".into(), single_query);
    event.insert("multiValueQueryStringParameters".into(), multi_query);
    event.insert("requestContext".into(), Value::Object(rc));
    event.insert(
        "pathParameters".into(),
        string_map(ctx.path_params).unwrap_or(Value::Null),
    );
    event.insert(
        "stageVariables".into(),
        stage_vars(ctx.stage_variables).unwrap_or(Value::Null),
    );
    event.insert(
        "body".into(),
        body.map(Value::String).unwrap_or(Value::Null),
    );
    event.insert("isBase64Encoded".into(), base64.into());
    Value::Object(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Request {
        Request {
            method: "POST".into(),
            raw_path: "/my/path".into(),
            raw_query: "parameter1=value1&parameter1=value2&parameter2=value".into(),
            headers: vec![
                ("header1".into(), "value1".into()),
                ("header2".into(), "value1".into()),
                ("header2".into(), "value2".into()),
                ("cookie".into(), "cookie1; cookie2".into()),
                ("user-agent".into(), "agent".into()),
            ],
            body: bytes::Bytes::from_static(b"Hello from Lambda"),
            source_ip: "192.0.2.1".into(),
            protocol: "HTTP/1.1".into(),
            request_id: "id".into(),
            extended_request_id: String::new(),
            time_epoch_ms: 1_583_348_638_390,
            domain_name: "id.execute-api.us-east-1.amazonaws.com".into(),
        }
    }

    fn vars() -> BTreeMap<String, String> {
        [
            ("stageVariable1".to_owned(), "value1".to_owned()),
            ("stageVariable2".to_owned(), "value2".to_owned()),
        ]
        .into()
    }

    /// The 2.0 example of "Working with AWS Lambda proxy integrations for HTTP APIs", less
    /// `authentication` (mutual TLS), field by field.
    #[test]
    fn v2_matches_the_documented_example() {
        let req = request();
        let params = vec![("parameter1".to_owned(), "value1".to_owned())];
        let vars = vars();
        let claims: Map<String, Value> = [("claim1".to_owned(), json!("value1"))]
            .into_iter()
            .collect();
        let auth = AuthorizerContext::Jwt {
            claims,
            scopes: Some(vec!["scope1".into(), "scope2".into()]),
        };
        let ctx = Context {
            api_id: "api-id",
            account_id: "123456789012",
            stage: "$default",
            deployment_id: None,
            route_key: "$default",
            route_id: "r1",
            resource_path: None,
            path: "/my/path",
            path_params: &params,
            stage_variables: &vars,
            authorizer: Some(&auth),
            binary_media_types: None,
        };
        let mut event = v2(&req, &ctx);
        // user-agent is a header like any other in the example's headers.
        event["headers"]
            .as_object_mut()
            .expect("headers")
            .remove("user-agent");
        let expected = json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": "/my/path",
            "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=value",
            "cookies": ["cookie1", "cookie2"],
            "headers": {"header1": "value1", "header2": "value1,value2"},
            "queryStringParameters": {"parameter1": "value1,value2", "parameter2": "value"},
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "api-id",
                "authorizer": {"jwt": {"claims": {"claim1": "value1"}, "scopes": ["scope1", "scope2"]}},
                "domainName": "id.execute-api.us-east-1.amazonaws.com",
                "domainPrefix": "id",
                "http": {
                    "method": "POST",
                    "path": "/my/path",
                    "protocol": "HTTP/1.1",
                    "sourceIp": "192.0.2.1",
                    "userAgent": "agent"
                },
                "requestId": "id",
                "routeKey": "$default",
                "stage": "$default",
                "time": "04/Mar/2020:19:03:58 +0000",
                "timeEpoch": 1_583_348_638_390_i64
            },
            "body": "Hello from Lambda",
            "pathParameters": {"parameter1": "value1"},
            "isBase64Encoded": false,
            "stageVariables": {"stageVariable1": "value1", "stageVariable2": "value2"}
        });
        assert_eq!(event, expected);
    }

    /// The 1.0 example of the same page, field by field.
    #[test]
    fn v1_matches_the_documented_example() {
        let mut req = request();
        req.method = "GET".into();
        req.headers = vec![
            ("header1".into(), "value1".into()),
            ("header2".into(), "value1".into()),
            ("header2".into(), "value2".into()),
            ("user-agent".into(), "user-agent".into()),
        ];
        req.body = bytes::Bytes::from_static(b"Hello from Lambda!");
        req.request_id = "id=".into();
        req.time_epoch_ms = 1_583_349_317_135;
        req.domain_name = "id.execute-api.us-east-1.amazonaws.com".into();
        let none = BTreeMap::new();
        let ctx = Context {
            api_id: "id",
            account_id: "123456789012",
            stage: "$default",
            deployment_id: None,
            route_key: "GET /my/path",
            route_id: "GET /my/path",
            resource_path: Some("/my/path"),
            path: "/my/path",
            path_params: &[],
            stage_variables: &none,
            authorizer: None,
            binary_media_types: None,
        };
        let event = v1(&req, &ctx, V1Style::Http);
        assert_eq!(event["version"], "1.0");
        assert_eq!(event["resource"], "/my/path");
        assert_eq!(event["path"], "/my/path");
        assert_eq!(event["httpMethod"], "GET");
        assert_eq!(event["headers"]["header1"], "value1");
        assert_eq!(event["headers"]["header2"], "value2");
        assert_eq!(
            event["multiValueHeaders"]["header2"],
            json!(["value1", "value2"])
        );
        assert_eq!(
            event["queryStringParameters"],
            json!({"parameter1": "value1", "parameter2": "value"})
        );
        assert_eq!(
            event["multiValueQueryStringParameters"],
            json!({"parameter1": ["value1", "value2"], "parameter2": ["value"]})
        );
        let rc = &event["requestContext"];
        assert_eq!(rc["accountId"], "123456789012");
        assert_eq!(rc["apiId"], "id");
        assert_eq!(rc["domainName"], "id.execute-api.us-east-1.amazonaws.com");
        assert_eq!(rc["domainPrefix"], "id");
        assert_eq!(rc["extendedRequestId"], "id=");
        assert_eq!(rc["httpMethod"], "GET");
        assert_eq!(rc["identity"]["sourceIp"], "192.0.2.1");
        assert_eq!(rc["identity"]["userAgent"], "user-agent");
        assert_eq!(rc["identity"]["accessKey"], Value::Null);
        assert_eq!(rc["path"], "/my/path");
        assert_eq!(rc["protocol"], "HTTP/1.1");
        assert_eq!(rc["requestId"], "id=");
        assert_eq!(rc["requestTime"], "04/Mar/2020:19:15:17 +0000");
        assert_eq!(rc["requestTimeEpoch"], 1_583_349_317_135_i64);
        assert_eq!(rc["resourcePath"], "/my/path");
        assert_eq!(rc["stage"], "$default");
        assert_eq!(event["pathParameters"], Value::Null);
        assert_eq!(event["stageVariables"], Value::Null);
        assert_eq!(event["body"], "Hello from Lambda!");
        assert_eq!(event["isBase64Encoded"], false);
    }

    #[test]
    fn binary_bodies_are_base64_and_empty_fields_are_absent() {
        let mut req = request();
        req.headers = vec![("content-type".into(), "image/png".into())];
        req.body = bytes::Bytes::from_static(&[0x89, b'P', b'N', b'G']);
        req.raw_query = String::new();
        let none = BTreeMap::new();
        let ctx = Context {
            api_id: "a",
            account_id: "1",
            stage: "$default",
            deployment_id: None,
            route_key: "$default",
            route_id: "r",
            resource_path: None,
            path: "/my/path",
            path_params: &[],
            stage_variables: &none,
            authorizer: None,
            binary_media_types: None,
        };
        let event = v2(&req, &ctx);
        assert_eq!(event["isBase64Encoded"], true);
        assert_eq!(event["body"], "iVBORw==");
        let obj = event.as_object().expect("object");
        for absent in [
            "cookies",
            "queryStringParameters",
            "pathParameters",
            "stageVariables",
        ] {
            assert!(!obj.contains_key(absent), "{absent}");
        }
        assert_eq!(event["rawQueryString"], "");
        assert!(
            !event["requestContext"]
                .as_object()
                .expect("rc")
                .contains_key("authorizer")
        );
        assert!(is_text(Some("application/json; charset=utf-8")));
        assert!(is_text(Some("application/vnd.api+json")));
        assert!(!is_text(Some("application/octet-stream")));
        assert!(!is_text(Some("application/x-www-form-urlencoded")));
    }

    /// The REST API proxy event ("Input format of a Lambda function for proxy integration"):
    /// the stage stays in `requestContext.path` only, repeated query parameters keep their last
    /// value in `queryStringParameters`, and bodies are base64 by the binary media types.
    #[test]
    fn rest_event_shape() {
        let mut req = request();
        req.raw_path = "/Prod/items/42".into();
        req.headers = vec![
            ("content-type".into(), "image/png".into()),
            ("user-agent".into(), "agent".into()),
        ];
        req.request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef".into();
        req.extended_request_id = "AbCdEfGhIjK=".into();
        let vars: BTreeMap<String, String> = [("env".to_owned(), "prod".to_owned())].into();
        let params = vec![("id".to_owned(), "42".to_owned())];
        let binary = vec!["image/png".to_owned()];
        let ctx = Context {
            api_id: "abc123",
            account_id: "123456789012",
            stage: "Prod",
            deployment_id: Some("wpk6zi"),
            route_key: "POST /items/{id}",
            route_id: "res123",
            resource_path: Some("/items/{id}"),
            path: "/items/42",
            path_params: &params,
            stage_variables: &vars,
            authorizer: None,
            binary_media_types: Some(&binary),
        };
        let event = v1(&req, &ctx, V1Style::Rest);
        let obj = event.as_object().expect("object");
        assert!(!obj.contains_key("version"));
        assert_eq!(event["resource"], "/items/{id}");
        assert_eq!(event["path"], "/items/42");
        assert_eq!(event["httpMethod"], "POST");
        assert_eq!(event["queryStringParameters"]["parameter1"], "value2");
        assert_eq!(
            event["multiValueQueryStringParameters"]["parameter1"],
            json!(["value1", "value2"])
        );
        assert_eq!(event["pathParameters"], json!({"id": "42"}));
        assert_eq!(event["stageVariables"], json!({"env": "prod"}));
        assert_eq!(event["isBase64Encoded"], true);
        assert_eq!(event["body"], "SGVsbG8gZnJvbSBMYW1iZGE=");
        let rc = &event["requestContext"];
        assert_eq!(rc["path"], "/Prod/items/42");
        assert_eq!(rc["resourceId"], "res123");
        assert_eq!(rc["resourcePath"], "/items/{id}");
        assert_eq!(rc["stage"], "Prod");
        assert_eq!(rc["deploymentId"], "wpk6zi");
        assert_eq!(rc["requestId"], "c6af9ac6-7b61-11e6-9a41-93e8deadbeef");
        assert_eq!(rc["extendedRequestId"], "AbCdEfGhIjK=");
        assert_eq!(rc["identity"]["apiKey"], Value::Null);
        assert_eq!(rc["identity"]["userAgent"], "agent");
        assert_eq!(event["headers"]["Content-Type"], "image/png");
        assert_eq!(event["multiValueHeaders"]["User-Agent"], json!(["agent"]));
        assert_eq!(title_case("x-amz-cf-id"), "X-Amz-Cf-Id");
        // Not a binary media type: text, even for a type HTTP APIs would encode.
        req.headers = vec![("content-type".into(), "application/octet-stream".into())];
        let event = v1(&req, &ctx, V1Style::Rest);
        assert_eq!(event["isBase64Encoded"], false);
        assert_eq!(event["body"], "Hello from Lambda");
    }
}
