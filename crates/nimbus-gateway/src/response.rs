//! Turning what a function returned into the HTTP response, by the rules of the integration's
//! payload format.
//!
//! - 2.0: a JSON object with `statusCode` is a structured response (`headers`, `cookies` as
//!   `set-cookie` headers, `body`, `isBase64Encoded`); any other valid JSON is the body of a 200
//!   `application/json` response, as API Gateway infers it (a string without its quotes).
//! - 1.0 (HTTP APIs): `statusCode` is required; `headers` and `multiValueHeaders` are merged.
//! - REST APIs: as 1.0, but `statusCode` defaults to 200, no other members are allowed, and
//!   `body` must be a string.
//!
//! Anything else is a malformed response: the gateway answers 502.

use base64::Engine as _;
use serde_json::Value;

/// The response to send, in plain types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    /// Names as the function wrote them; repeated names kept.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Why a function's response cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed Lambda proxy response: {0}")]
pub struct Malformed(pub String);

fn header_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn status_of(v: &Value) -> Result<u16, Malformed> {
    let code = match v {
        // A number with a zero fraction (`201.0`, as JavaScript or a float in Python may
        // write it) is that status.
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    // A 1xx status is not a final answer (HTTP would switch or wait on the connection).
    code.filter(|c| (200..=599).contains(c))
        .map(|c| c as u16)
        .ok_or_else(|| Malformed(format!("invalid statusCode {v}")))
}

fn body_of(obj: &serde_json::Map<String, Value>, decode: bool) -> Result<Vec<u8>, Malformed> {
    let base64 = match obj.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s == "true" || s == "false" => s == "true",
        Some(other) => return Err(Malformed(format!("invalid isBase64Encoded {other}"))),
    };
    let text = match obj.get("body") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::String(s)) => s.clone(),
        // API Gateway sends a non-string body as its JSON text.
        Some(other) => other.to_string(),
    };
    if base64 && decode {
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| Malformed(format!("body is not valid base64: {e}")))
    } else {
        Ok(text.into_bytes())
    }
}

fn headers_of(obj: &serde_json::Map<String, Value>) -> Result<Vec<(String, String)>, Malformed> {
    let mut headers = Vec::new();
    match obj.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (k, v) in map {
                let v = header_value(v)
                    .ok_or_else(|| Malformed(format!("header {k} is not a string")))?;
                headers.push((k.clone(), v));
            }
        }
        Some(_) => return Err(Malformed("headers is not an object".into())),
    }
    Ok(headers)
}

/// Payload format 2.0.
pub fn v2(payload: &[u8]) -> Result<HttpResponse, Malformed> {
    let value: Value =
        serde_json::from_slice(payload).map_err(|e| Malformed(format!("not JSON: {e}")))?;
    // A JSON string is sent as its text, without the quotes (the example in API Gateway's
    // documentation: "Hello from Lambda!" becomes the body Hello from Lambda!).
    let inferred = || HttpResponse {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: match &value {
            Value::String(text) => text.clone().into_bytes(),
            _ => payload.to_vec(),
        },
    };
    let Value::Object(obj) = &value else {
        return Ok(inferred());
    };
    let Some(status) = obj.get("statusCode") else {
        return Ok(inferred());
    };
    let status = status_of(status)?;
    let mut headers = headers_of(obj)?;
    match obj.get("cookies") {
        None | Some(Value::Null) => {}
        Some(Value::Array(cookies)) => {
            for c in cookies {
                let c =
                    header_value(c).ok_or_else(|| Malformed("cookie is not a string".into()))?;
                headers.push(("set-cookie".into(), c));
            }
        }
        Some(_) => return Err(Malformed("cookies is not an array".into())),
    }
    Ok(HttpResponse {
        status,
        headers,
        body: body_of(obj, true)?,
    })
}

/// Payload format 1.0 of HTTP APIs.
pub fn v1(payload: &[u8]) -> Result<HttpResponse, Malformed> {
    one_zero(payload, |_| true, false)
}

/// REST APIs' proxy responses: as 1.0, with REST APIs' own rules. `statusCode` may be left
/// out (200), a member other than `statusCode`, `headers`, `multiValueHeaders`, `body` and
/// `isBase64Encoded` makes the response malformed, and so does a `body` that is not a string.
/// A base64 body is decoded only when `binary` says so for the response's content type
/// (REST APIs decode for their binary media types and pass the base64 text through otherwise).
pub fn v1_binary(
    payload: &[u8],
    binary: impl FnOnce(Option<&str>) -> bool,
) -> Result<HttpResponse, Malformed> {
    one_zero(payload, binary, true)
}

/// The members a REST API's proxy response may have.
const REST_MEMBERS: [&str; 5] = [
    "statusCode",
    "headers",
    "multiValueHeaders",
    "body",
    "isBase64Encoded",
];

fn one_zero(
    payload: &[u8],
    binary: impl FnOnce(Option<&str>) -> bool,
    rest: bool,
) -> Result<HttpResponse, Malformed> {
    let value: Value =
        serde_json::from_slice(payload).map_err(|e| Malformed(format!("not JSON: {e}")))?;
    let Value::Object(obj) = &value else {
        return Err(Malformed("the response is not a JSON object".into()));
    };
    if rest {
        if let Some(other) = obj.keys().find(|k| !REST_MEMBERS.contains(&k.as_str())) {
            return Err(Malformed(format!("unexpected member {other}")));
        }
        if obj
            .get("body")
            .is_some_and(|b| !b.is_string() && !b.is_null())
        {
            return Err(Malformed("body is not a string".into()));
        }
    }
    let status = match obj.get("statusCode") {
        Some(code) => status_of(code)?,
        None if rest => 200,
        None => return Err(Malformed("statusCode is missing".into())),
    };
    let mut headers = headers_of(obj)?;
    match obj.get("multiValueHeaders") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (k, v) in map {
                let Value::Array(values) = v else {
                    return Err(Malformed(format!("multiValueHeaders.{k} is not an array")));
                };
                // multiValueHeaders win over headers of the same name.
                headers.retain(|(name, _)| !name.eq_ignore_ascii_case(k));
                for v in values {
                    let v = header_value(v)
                        .ok_or_else(|| Malformed(format!("header {k} is not a string")))?;
                    headers.push((k.clone(), v));
                }
            }
        }
        Some(_) => return Err(Malformed("multiValueHeaders is not an object".into())),
    }
    let content_type = headers
        .iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.as_str());
    let decode = binary(content_type);
    Ok(HttpResponse {
        status,
        body: body_of(obj, decode)?,
        headers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_infers_a_response_from_plain_values() {
        for (payload, body) in [
            (&br#"{"message":"hi"}"#[..], &br#"{"message":"hi"}"#[..]),
            (b"\"hello\"", b"hello"),
            (b"42", b"42"),
            (b"[1,2]", b"[1,2]"),
            (b"true", b"true"),
        ] {
            let r = v2(payload).expect("inferred");
            assert_eq!(r.status, 200);
            assert_eq!(
                r.headers,
                vec![("content-type".to_owned(), "application/json".to_owned())]
            );
            assert_eq!(r.body, body);
        }
        assert!(v2(b"not json").is_err());
    }

    #[test]
    fn a_status_must_be_a_final_one() {
        for code in ["99", "100", "101", "199", "600"] {
            let payload = format!(r#"{{"statusCode":{code},"body":"x"}}"#);
            assert!(v2(payload.as_bytes()).is_err(), "{code}");
        }
        for code in ["200", "204", "599"] {
            let payload = format!(r#"{{"statusCode":{code},"body":"x"}}"#);
            assert!(v2(payload.as_bytes()).is_ok(), "{code}");
        }
    }

    #[test]
    fn rest_proxy_responses_follow_rest_rules() {
        let rest = |p: &[u8]| v1_binary(p, |_| false);
        let empty = rest(b"{}").expect("no statusCode is 200");
        assert_eq!((empty.status, empty.body.as_slice()), (200, &b""[..]));
        let headers_only = rest(br#"{"headers":{"a":"b"}}"#).expect("headers only");
        assert_eq!(headers_only.headers, vec![("a".to_owned(), "b".to_owned())]);
        assert!(rest(br#"{"statusCode":200,"wrongValue":"x"}"#).is_err());
        assert!(rest(br#"{"statusCode":200,"body":{"a":1}}"#).is_err());
        // HTTP APIs' 1.0 keeps requiring statusCode and takes a body of any JSON.
        assert!(v1(b"{}").is_err());
        assert!(v1(br#"{"statusCode":200,"body":{"a":1}}"#).is_ok());
    }

    #[test]
    fn v2_structured_response_with_cookies_and_base64() {
        let r = v2(
            br#"{"statusCode":201,"headers":{"x-a":"1","content-type":"text/plain"},
            "cookies":["a=1","b=2; Path=/"],"body":"aGk=","isBase64Encoded":true}"#,
        )
        .expect("valid");
        assert_eq!(r.status, 201);
        assert_eq!(r.body, b"hi");
        assert!(r.headers.contains(&("set-cookie".into(), "a=1".into())));
        assert!(
            r.headers
                .contains(&("set-cookie".into(), "b=2; Path=/".into()))
        );
        assert!(r.headers.contains(&("x-a".into(), "1".into())));
        let r = v2(br#"{"statusCode":204}"#).expect("valid");
        assert_eq!((r.status, r.body.len()), (204, 0));
        assert!(v2(br#"{"statusCode":"abc"}"#).is_err());
        assert_eq!(v2(br#"{"statusCode":201.0}"#).expect("whole").status, 201);
        assert!(v2(br#"{"statusCode":201.5}"#).is_err());
        assert!(v2(br#"{"statusCode":200,"headers":[1]}"#).is_err());
    }

    #[test]
    fn v1_requires_a_status_and_merges_multi_value_headers() {
        let r = v1(br#"{"statusCode":200,"headers":{"x-a":"1","x-b":"single"},
            "multiValueHeaders":{"x-b":["1","2"]},"body":"ok"}"#)
        .expect("valid");
        assert_eq!(r.body, b"ok");
        assert_eq!(
            r.headers,
            vec![
                ("x-a".to_owned(), "1".to_owned()),
                ("x-b".to_owned(), "1".to_owned()),
                ("x-b".to_owned(), "2".to_owned())
            ]
        );
        assert!(v1(br#"{"body":"no status"}"#).is_err());
        assert!(v1(b"\"plain\"").is_err());
        assert!(v1(br#"{"statusCode":200,"body":"!!","isBase64Encoded":true}"#).is_err());
    }

    #[test]
    fn rest_responses_decode_base64_only_for_binary_types() {
        let payload = br#"{"statusCode":200,"headers":{"content-type":"image/png"},
            "body":"aGk=","isBase64Encoded":true}"#;
        let r = v1_binary(payload, |ct| ct == Some("image/png")).expect("valid");
        assert_eq!(r.body, b"hi");
        let r = v1_binary(payload, |_| false).expect("valid");
        assert_eq!(r.body, b"aGk=");
    }
}
