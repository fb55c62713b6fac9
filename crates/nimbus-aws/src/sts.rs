//! AWS STS on the endpoint: GetCallerIdentity, so that `aws sts get-caller-identity` and the
//! scripts and tools that ask who they are (most often for the account id) work against Nimbus;
//! AssumeRole and GetSessionToken, which issue temporary credentials (an `ASIA…` access key, a
//! secret and a session token) that every service of the endpoint then accepts until they
//! expire. The query protocol: the parameters form-encoded in the body (or the query string of
//! a GET), `Action` naming the operation; the answer is XML.
//!
//! The caller is the node's root, or the role a session assumed. Nimbus does not enforce IAM
//! yet: any role ARN of the account can be assumed, and a session may do what the root may.

use std::time::{Duration, SystemTime};

use axum::response::{IntoResponse, Response};
use http::StatusCode;

use crate::error::{AwsError, Protocol, xml_escape};
use crate::sigv4::{AssumedRole, Issued, Verifier};

/// The STS API version the answers are in.
const VERSION: &str = "2011-06-15";

/// Who is asking, and what issues credentials.
pub struct Caller<'a> {
    pub account: &'a str,
    /// The access key the request was signed with.
    pub access_key: Option<&'a str>,
    /// `None` when the endpoint runs without authentication: credentials are still issued,
    /// and any will do.
    pub verifier: Option<&'a Verifier>,
}

fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::common(
        Protocol::Query,
        StatusCode::BAD_REQUEST,
        "ValidationError",
        message,
    )
}

fn missing(name: &str) -> AwsError {
    invalid(format!(
        "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
        lower_first(name)
    ))
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// `DurationSeconds` within `min..=max`, `default` when absent.
fn duration(
    params: &[(String, String)],
    min: u64,
    max: u64,
    default: u64,
) -> Result<Duration, AwsError> {
    let Some(text) = param(params, "DurationSeconds") else {
        return Ok(Duration::from_secs(default));
    };
    let n: u64 = text
        .parse()
        .map_err(|_| invalid(format!("Invalid value for DurationSeconds: {text}")))?;
    if n < min {
        return Err(invalid(format!(
            "1 validation error detected: Value '{n}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to {min}"
        )));
    }
    if n > max {
        return Err(invalid(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }
    Ok(Duration::from_secs(n))
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub fn handle(
    caller: &Caller<'_>,
    parts: &http::request::Parts,
    body: &[u8],
) -> Result<Response, AwsError> {
    let query = parts.uri.query().unwrap_or_default().as_bytes();
    let params: Vec<(String, String)> = form_urlencoded::parse(query)
        .chain(form_urlencoded::parse(body))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    match param(&params, "Action") {
        Some("GetCallerIdentity") => Ok(caller_identity(caller)),
        Some("AssumeRole") => assume_role(caller, &params),
        Some("GetSessionToken") => {
            let ttl = duration(&params, 900, 129_600, 43_200)?;
            let issued = issue(caller, ttl, None);
            Ok(answer(
                "GetSessionToken",
                &format!("<Credentials>{}</Credentials>", credentials_xml(&issued)),
            ))
        }
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

fn issue(caller: &Caller<'_>, ttl: Duration, role: Option<AssumedRole>) -> Issued {
    match caller.verifier {
        Some(v) => v.issue(ttl, role),
        // Without authentication nothing is checked: the credentials only have to look right.
        None => Issued::generate(ttl),
    }
}

fn iso(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.format(&format).unwrap_or_default()
}

fn credentials_xml(c: &Issued) -> String {
    format!(
        "<AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey>\
         <SessionToken>{}</SessionToken><Expiration>{}</Expiration>",
        c.access_key_id,
        xml_escape(&c.secret_access_key),
        xml_escape(&c.session_token),
        iso(c.expiration)
    )
}

/// A role's id as IAM shows it (`AROA` and 17 characters), stable for the role's ARN.
fn role_id(role_arn: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(role_arn.as_bytes());
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let tail: String = digest
        .iter()
        .take(17)
        .map(|b| alphabet[usize::from(*b) % alphabet.len()] as char)
        .collect();
    format!("AROA{tail}")
}

/// The session `session` of role `role_arn` (`arn:aws:iam::{account}:role/{path/}{name}`), or
/// `None` when that is not a role ARN.
fn assumed_role(account: &str, role_arn: &str, session: &str) -> Option<AssumedRole> {
    let role_name = role_arn
        .strip_prefix("arn:aws:iam::")
        .and_then(|rest| rest.split_once(":role/"))
        .map(|(_, path)| path.rsplit('/').next().unwrap_or(path))
        .filter(|name| !name.is_empty())?;
    Some(AssumedRole {
        arn: format!("arn:aws:sts::{account}:assumed-role/{role_name}/{session}"),
        assumed_role_id: format!("{}:{session}", role_id(role_arn)),
    })
}

/// The credentials of function environments: a session of the function's execution role (its
/// name the function's, as Lambda names it), issued by the endpoint's verifier, so functions
/// never hold the node's long-term key. None without authentication.
pub struct FunctionSessions(pub std::sync::Weak<crate::AwsState>);

impl nimbus_functions::CredentialIssuer for FunctionSessions {
    fn issue(
        &self,
        role_arn: &str,
        session_name: &str,
        ttl: Duration,
    ) -> Option<nimbus_functions::SessionCredentials> {
        let state = self.0.upgrade()?;
        let verifier = state.verifier.as_ref()?;
        let account = state.services.functions.registry().account_id();
        // A session name is at most 64 characters; function names can be longer.
        let session: String = session_name.chars().take(64).collect();
        let issued = verifier.issue(ttl, assumed_role(account, role_arn, &session));
        Some(nimbus_functions::SessionCredentials {
            access_key_id: issued.access_key_id,
            secret_access_key: issued.secret_access_key,
            session_token: issued.session_token,
        })
    }
}

fn assume_role(caller: &Caller<'_>, params: &[(String, String)]) -> Result<Response, AwsError> {
    let role_arn = param(params, "RoleArn").ok_or_else(|| missing("RoleArn"))?;
    let session = param(params, "RoleSessionName").ok_or_else(|| missing("RoleSessionName"))?;
    let session_ok = (2..=64).contains(&session.len())
        && session
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !session_ok {
        return Err(invalid(format!(
            "1 validation error detected: Value '{session}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
        )));
    }
    if role_arn.len() < 20 || role_arn.len() > 2048 {
        return Err(invalid(format!(
            "1 validation error detected: Value '{role_arn}' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20"
        )));
    }
    let role = assumed_role(caller.account, role_arn, session)
        .ok_or_else(|| invalid(format!("{role_arn} is invalid")))?;
    let ttl = duration(params, 900, 43_200, 3_600)?;
    let issued = issue(caller, ttl, Some(role.clone()));
    Ok(answer(
        "AssumeRole",
        &format!(
            "<AssumedRoleUser><Arn>{}</Arn><AssumedRoleId>{}</AssumedRoleId></AssumedRoleUser>\
             <Credentials>{}</Credentials>",
            xml_escape(&role.arn),
            xml_escape(&role.assumed_role_id),
            credentials_xml(&issued)
        ),
    ))
}

/// `<{action}Response><{action}Result>{result}</…><ResponseMetadata>…`.
fn answer(action: &str, result: &str) -> Response {
    let request_id = uuid::Uuid::new_v4();
    let body = format!(
        "<{action}Response xmlns=\"https://sts.amazonaws.com/doc/{VERSION}/\">\
         <{action}Result>{result}</{action}Result>\
         <ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>\
         </{action}Response>"
    );
    (
        StatusCode::OK,
        [(http::header::CONTENT_TYPE, Protocol::Query.content_type())],
        body,
    )
        .into_response()
}

fn caller_identity(caller: &Caller<'_>) -> Response {
    let account = xml_escape(caller.account);
    let role = caller
        .verifier
        .zip(caller.access_key)
        .and_then(|(v, key)| v.assumed_role(key));
    let (arn, user_id) = match role {
        Some(r) => (xml_escape(&r.arn), xml_escape(&r.assumed_role_id)),
        None => (format!("arn:aws:iam::{account}:root"), account.clone()),
    };
    answer(
        "GetCallerIdentity",
        &format!("<Arn>{arn}</Arn><UserId>{user_id}</UserId><Account>{account}</Account>"),
    )
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

    fn root() -> Caller<'static> {
        Caller {
            account: "000000000000",
            access_key: None,
            verifier: None,
        }
    }

    #[test]
    fn get_caller_identity_names_the_account_root() {
        let r = handle(
            &root(),
            &post(),
            b"Action=GetCallerIdentity&Version=2011-06-15",
        )
        .expect("answered");
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[http::header::CONTENT_TYPE], "text/xml");
    }

    #[test]
    fn unknown_actions_and_bad_parameters_are_refused() {
        let e =
            handle(&root(), &post(), b"Action=DecodeAuthorizationMessage").expect_err("refused");
        assert_eq!(
            (e.code, e.status),
            ("InvalidAction", StatusCode::BAD_REQUEST)
        );
        let e = handle(&root(), &post(), b"Version=2011-06-15").expect_err("refused");
        assert_eq!(e.code, "MissingAction");
        let e =
            handle(&root(), &post(), b"Action=AssumeRole&RoleSessionName=s").expect_err("refused");
        assert_eq!(e.code, "ValidationError");
        let bad_name =
            b"Action=AssumeRole&RoleArn=arn:aws:iam::000000000000:role/r&RoleSessionName=a%20b";
        assert_eq!(
            handle(&root(), &post(), bad_name)
                .expect_err("refused")
                .code,
            "ValidationError"
        );
        let short = b"Action=GetSessionToken&DurationSeconds=60";
        assert_eq!(
            handle(&root(), &post(), short).expect_err("refused").code,
            "ValidationError"
        );
    }

    #[test]
    fn assumed_roles_are_the_sessions_callers() {
        let verifier = Verifier::new([], "us-east-1");
        let role = AssumedRole {
            arn: "arn:aws:sts::000000000000:assumed-role/r/s".into(),
            assumed_role_id: format!("{}:s", role_id("arn:aws:iam::000000000000:role/r")),
        };
        let issued = verifier.issue(Duration::from_secs(900), Some(role.clone()));
        assert!(issued.access_key_id.starts_with("ASIA") && issued.access_key_id.len() == 20);
        assert_eq!(verifier.assumed_role(&issued.access_key_id), Some(role));
        assert_eq!(verifier.assumed_role("AKIDEXAMPLE"), None);
    }
}
