//! Authorizers: JWT (issuer, audience, keys from the issuer's JWKS), Lambda `REQUEST`
//! authorizers (simple responses or IAM policies), and `AWS_IAM` routes and methods, whose
//! requests must carry a valid SigV4 signature for `execute-api` ([`SignatureCheck`]).
//!
//! JWKS are found as OpenID providers publish them: `{issuer}/.well-known/openid-configuration`
//! names `jwks_uri` (falling back to `{issuer}/.well-known/jwks.json`). An issuer `file:///path`
//! reads a JWKS file instead, for machines without an identity provider; a remote issuer's
//! `jwks_uri` is fetched over HTTP(S) only, never read from this machine's files. Key sets are
//! cached for five minutes and refetched (at most every ten seconds) when a token names an
//! unknown key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::event::AuthorizerContext;

const JWKS_TTL: Duration = Duration::from_secs(300);
const JWKS_RETRY: Duration = Duration::from_secs(10);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a request is refused by an authorizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// 401 `{"message":"Unauthorized"}`; `www-authenticate` to send, if any.
    Unauthorized(Option<String>),
    /// 403 `{"message":"Forbidden"}`.
    Forbidden(Option<String>),
    /// 500: the authorizer itself failed.
    Failed(String),
    /// 403 with `x-amzn-ErrorType`: an `AWS_IAM` request without a valid signature.
    Signature {
        error_type: &'static str,
        message: String,
    },
}

/// Who signed a request to an `AWS_IAM` route or method, as events show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamCaller {
    pub access_key: String,
    pub account_id: String,
    /// The principal id (`userId` of the 2.0 event, `caller` and `user` of 1.0 events).
    pub user_id: String,
    pub user_arn: String,
}

/// Whether a request carries a SigV4 signature at all: an `Authorization` header, or a
/// presigned URL's `X-Amz-Signature`. `target` is its path and query as received.
pub fn is_signed(headers: &http::HeaderMap, target: &str) -> bool {
    headers.contains_key(http::header::AUTHORIZATION)
        || target
            .split_once('?')
            .is_some_and(|(_, query)| query.contains("X-Amz-Signature="))
}

/// Verifies the SigV4 signature of a request to an `AWS_IAM` route or method (service
/// `execute-api`) or function URL (service `lambda`). The AWS endpoint implements it with the
/// keys it accepts; the gateway only asks.
pub trait SignatureCheck: Send + Sync {
    /// `target` is the request's path and query as received (still percent-encoded).
    fn check(
        &self,
        service: &str,
        method: &str,
        target: &str,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<IamCaller, Denied>;
}

struct CachedSet {
    keys: Arc<JwkSet>,
    fetched: Instant,
}

/// Verifies JWTs; caches key sets per issuer.
pub struct JwtVerifier {
    client: hyper_util::client::legacy::Client<
        hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
        Empty<Bytes>,
    >,
    cache: Mutex<HashMap<String, CachedSet>>,
}

impl Default for JwtVerifier {
    fn default() -> Self {
        Self::new()
    }
}

/// A claim as HTTP APIs pass it to functions: a string.
fn claim_text(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(s.clone()),
        Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|i| match i {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            Value::String(format!("[{}]", parts.join(" ")))
        }
        other => Value::String(other.to_string()),
    }
}

fn token_scopes(claims: &Map<String, Value>) -> Option<Vec<String>> {
    let from = |v: &Value| -> Vec<String> {
        match v {
            Value::String(s) => s.split_whitespace().map(str::to_owned).collect(),
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    let scopes: Vec<String> = claims
        .get("scope")
        .map(from)
        .or_else(|| claims.get("scp").map(from))?;
    (!scopes.is_empty()).then_some(scopes)
}

impl JwtVerifier {
    pub fn new() -> Self {
        // Key locations may be https: trust the system's roots (and `SSL_CERT_FILE`). ring is
        // the only rustls crypto provider built in, so rustls uses it by default.
        let connector = match hyper_rustls::HttpsConnectorBuilder::new().with_native_roots() {
            Ok(builder) => builder.https_or_http().enable_http1().build(),
            Err(e) => {
                tracing::warn!("no trusted root certificates ({e}): https key locations will fail");
                let config = rustls::ClientConfig::builder()
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth();
                hyper_rustls::HttpsConnectorBuilder::new()
                    .with_tls_config(config)
                    .https_or_http()
                    .enable_http1()
                    .build()
            }
        };
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(connector);
        JwtVerifier {
            client,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Verifies `token` (with or without `Bearer `) for `issuer` and `audience`, then the
    /// route's scopes.
    pub async fn verify(
        &self,
        token: &str,
        issuer: &str,
        audience: &[String],
        required_scopes: &[String],
    ) -> Result<AuthorizerContext, Denied> {
        let token = token.trim();
        let token = token
            .strip_prefix("Bearer ")
            .or_else(|| token.strip_prefix("bearer "))
            .unwrap_or(token)
            .trim();
        let invalid = |why: &str| {
            tracing::info!(%issuer, "JWT refused: {why}");
            Denied::Unauthorized(Some(format!(
                "Bearer scope=\"\" error=\"invalid_token\" error_description=\"{why}\""
            )))
        };
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| invalid("the token is not a JWT"))?;
        let keys = self
            .keys(issuer, header.kid.as_deref())
            .await
            .map_err(|e| {
                tracing::warn!(%issuer, "cannot load the issuer's keys: {e}");
                invalid("signing keys unavailable")
            })?;
        let jwk = match &header.kid {
            Some(kid) => keys.find(kid),
            None => keys.keys.first(),
        }
        .ok_or_else(|| invalid("no key matches the token"))?;
        let key = DecodingKey::from_jwk(jwk).map_err(|_| invalid("unusable key"))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["exp", "iss"]);
        validation.validate_nbf = true;
        validation.validate_aud = false;
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| invalid(&format!("{e}")))?;
        let claims = data.claims;
        // As API Gateway checks them: `iss` is the issuer, as a string; `nbf` and `iat`, when
        // present, are not in the future. (Checked here too, whatever the library makes of
        // claims of another type.)
        if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
            return Err(invalid("the issuer does not match"));
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        for claim in ["nbf", "iat"] {
            match claims.get(claim) {
                None => {}
                Some(Value::Number(n)) if n.as_f64().is_some_and(|t| t <= now) => {}
                Some(_) => return Err(invalid(&format!("the {claim} claim is not yet valid"))),
            }
        }
        // The audience is checked against `aud`, or `client_id` when `aud` is absent.
        let aud_ok = match claims.get("aud") {
            Some(Value::String(a)) => audience.contains(a),
            Some(Value::Array(list)) => list
                .iter()
                .any(|a| a.as_str().is_some_and(|a| audience.iter().any(|x| x == a))),
            _ => claims
                .get("client_id")
                .and_then(Value::as_str)
                .is_some_and(|c| audience.iter().any(|x| x == c)),
        };
        if !audience.is_empty() && !aud_ok {
            return Err(invalid("the audience does not match"));
        }
        let scopes = token_scopes(&claims);
        if !required_scopes.is_empty() {
            let have = scopes.clone().unwrap_or_default();
            if !required_scopes.iter().any(|s| have.contains(s)) {
                return Err(Denied::Forbidden(Some(
                    "Bearer scope=\"\" error=\"insufficient_scope\"".into(),
                )));
            }
        }
        Ok(AuthorizerContext::Jwt {
            claims: claims
                .iter()
                .map(|(k, v)| (k.clone(), claim_text(v)))
                .collect(),
            scopes,
        })
    }

    async fn keys(&self, issuer: &str, kid: Option<&str>) -> Result<Arc<JwkSet>, String> {
        let cached = self.cache.lock().ok().and_then(|c| {
            c.get(issuer)
                .map(|s| (Arc::clone(&s.keys), s.fetched.elapsed()))
        });
        if let Some((keys, age)) = &cached {
            let has_kid = kid.is_none_or(|k| keys.find(k).is_some());
            if age < &JWKS_TTL && (has_kid || age < &JWKS_RETRY) {
                return Ok(Arc::clone(keys));
            }
        }
        let keys = Arc::new(self.fetch(issuer).await?);
        if let Ok(mut c) = self.cache.lock() {
            c.insert(
                issuer.to_owned(),
                CachedSet {
                    keys: Arc::clone(&keys),
                    fetched: Instant::now(),
                },
            );
        }
        Ok(keys)
    }

    async fn fetch(&self, issuer: &str) -> Result<JwkSet, String> {
        if let Some(path) = issuer.strip_prefix("file://") {
            let text = tokio::fs::read(path)
                .await
                .map_err(|e| format!("read {path}: {e}"))?;
            return serde_json::from_slice(&text).map_err(|e| format!("{path} is not a JWKS: {e}"));
        }
        let base = issuer.trim_end_matches('/');
        let jwks_uri = match self
            .get_json(&format!("{base}/.well-known/openid-configuration"))
            .await
        {
            Ok(config) => config
                .get("jwks_uri")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{base}/.well-known/jwks.json")),
            Err(_) => format!("{base}/.well-known/jwks.json"),
        };
        let set = self.get_json(&jwks_uri).await?;
        serde_json::from_value(set).map_err(|e| format!("{jwks_uri} is not a JWKS: {e}"))
    }

    /// Fetches JSON over HTTP(S). Only the API's own issuer may be a `file://` path
    /// ([`Self::fetch`]): a location a remote issuer names (its `jwks_uri`) is never read from
    /// this machine's files.
    async fn get_json(&self, url: &str) -> Result<Value, String> {
        if !url.starts_with("http://") && !url.starts_with("https://") {
            return Err(format!(
                "{url}: an issuer's key locations are https:// or http:// URLs"
            ));
        }
        let uri: http::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
        let fut = async {
            let response = self
                .client
                .get(uri)
                .await
                .map_err(|e| format!("GET {url}: {e}"))?;
            if !response.status().is_success() {
                return Err(format!("GET {url}: status {}", response.status()));
            }
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("GET {url}: {e}"))?
                .to_bytes();
            serde_json::from_slice(&body).map_err(|e| format!("GET {url}: {e}"))
        };
        tokio::time::timeout(FETCH_TIMEOUT, fut)
            .await
            .map_err(|_| format!("GET {url}: timed out"))?
    }
}

/// The verdict of a Lambda authorizer's response.
pub fn lambda_verdict(payload: &[u8], simple: bool) -> Result<AuthorizerContext, Denied> {
    let value: Value = serde_json::from_slice(payload)
        .map_err(|e| Denied::Failed(format!("authorizer response is not JSON: {e}")))?;
    let obj = value
        .as_object()
        .ok_or_else(|| Denied::Failed("authorizer response is not an object".into()))?;
    let context = match obj.get("context") {
        Some(Value::Object(c)) => c.clone(),
        _ => Map::new(),
    };
    if simple {
        return match obj.get("isAuthorized") {
            Some(Value::Bool(true)) => Ok(AuthorizerContext::Lambda {
                context,
                principal_id: None,
            }),
            Some(Value::Bool(false)) => Err(Denied::Forbidden(None)),
            _ => Err(Denied::Failed(
                "authorizer response lacks isAuthorized".into(),
            )),
        };
    }
    let statements = obj
        .get("policyDocument")
        .and_then(|p| p.get("Statement"))
        .ok_or_else(|| Denied::Failed("authorizer response lacks policyDocument".into()))?;
    let statements: Vec<&Value> = match statements {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let effect = |want: &str| {
        statements.iter().any(|s| {
            s.get("Effect")
                .and_then(Value::as_str)
                .is_some_and(|e| e.eq_ignore_ascii_case(want))
        })
    };
    if effect("Deny") || !effect("Allow") {
        return Err(Denied::Forbidden(None));
    }
    Ok(AuthorizerContext::Lambda {
        context,
        principal_id: obj
            .get("principalId")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_and_policy_responses() {
        let ok = lambda_verdict(br#"{"isAuthorized":true,"context":{"user":"u1"}}"#, true)
            .expect("allowed");
        assert_eq!(
            ok,
            AuthorizerContext::Lambda {
                context: [("user".to_owned(), Value::from("u1"))]
                    .into_iter()
                    .collect(),
                principal_id: None
            }
        );
        assert_eq!(
            lambda_verdict(br#"{"isAuthorized":false}"#, true),
            Err(Denied::Forbidden(None))
        );
        assert!(matches!(
            lambda_verdict(b"{}", true),
            Err(Denied::Failed(_))
        ));
        let allow = br#"{"principalId":"p","policyDocument":{"Version":"2012-10-17",
            "Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]}}"#;
        assert!(lambda_verdict(allow, false).is_ok());
        let deny = br#"{"principalId":"p","policyDocument":{"Statement":[{"Effect":"Deny"}]}}"#;
        assert_eq!(lambda_verdict(deny, false), Err(Denied::Forbidden(None)));
    }

    #[test]
    fn claims_become_strings_and_scopes_split() {
        assert_eq!(claim_text(&Value::from(12)), Value::from("12"));
        assert_eq!(
            claim_text(&serde_json::json!(["a", "b"])),
            Value::from("[a b]")
        );
        let claims: Map<String, Value> = [("scope".to_owned(), Value::from("read write"))]
            .into_iter()
            .collect();
        assert_eq!(
            token_scopes(&claims),
            Some(vec!["read".to_owned(), "write".to_owned()])
        );
    }
}
