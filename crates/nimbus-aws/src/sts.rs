//! AWS STS on the endpoint: GetCallerIdentity, so that `aws sts get-caller-identity` and the
//! scripts and tools that ask who they are (most often for the account id) work against Nimbus.
//! The query protocol: the parameters form-encoded in the body (or the query string of a GET),
//! `Action` naming the operation; the answer is XML.
//!
//! The caller is the node's root: Nimbus has one set of credentials per node, in its account.

use axum::response::{IntoResponse, Response};
use http::StatusCode;

use crate::error::{AwsError, Protocol, xml_escape};

/// The STS API version the answers are in.
const VERSION: &str = "2011-06-15";

pub fn handle(
    account: &str,
    parts: &http::request::Parts,
    body: &[u8],
) -> Result<Response, AwsError> {
    let query = parts.uri.query().unwrap_or_default().as_bytes();
    let params: Vec<(String, String)> = form_urlencoded::parse(query)
        .chain(form_urlencoded::parse(body))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let action = params
        .iter()
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.as_str());
    match action {
        Some("GetCallerIdentity") => Ok(caller_identity(account)),
        Some(other) => Err(AwsError::common(
            Protocol::Query,
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            format!("Could not find operation {other} for version {VERSION}"),
        )),
        None => Err(AwsError::common(
            Protocol::Query,
            StatusCode::BAD_REQUEST,
            "MissingAction",
            "Missing Action",
        )),
    }
}

fn caller_identity(account: &str) -> Response {
    let account = xml_escape(account);
    let request_id = uuid::Uuid::new_v4();
    let body = format!(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/{VERSION}/\">\
         <GetCallerIdentityResult><Arn>arn:aws:iam::{account}:root</Arn>\
         <UserId>{account}</UserId><Account>{account}</Account></GetCallerIdentityResult>\
         <ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>\
         </GetCallerIdentityResponse>"
    );
    (
        StatusCode::OK,
        [(http::header::CONTENT_TYPE, Protocol::Query.content_type())],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post() -> http::request::Parts {
        http::Request::post("/")
            .body(())
            .expect("request")
            .into_parts()
            .0
    }

    #[test]
    fn get_caller_identity_names_the_account_root() {
        let r = handle(
            "000000000000",
            &post(),
            b"Action=GetCallerIdentity&Version=2011-06-15",
        )
        .expect("answered");
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[http::header::CONTENT_TYPE], "text/xml");
    }

    #[test]
    fn other_actions_are_refused() {
        let e = handle("0", &post(), b"Action=AssumeRole").expect_err("refused");
        assert_eq!(
            (e.code, e.status),
            ("InvalidAction", StatusCode::BAD_REQUEST)
        );
        let e = handle("0", &post(), b"Version=2011-06-15").expect_err("refused");
        assert_eq!(e.code, "MissingAction");
    }
}
