//! Signatures of requests to the gateway's `AWS_IAM` routes and methods (service name
//! `execute-api` in the credential scope, as API Gateway requires) and function URLs (`lambda`):
//! the gateway asks ([`SignatureCheck`]), the keys of this endpoint answer. Refusals carry the
//! error types and messages API Gateway sends for them (403 in every case).

use std::sync::Arc;
use std::time::SystemTime;

use nimbus_gateway::auth::{Denied, IamCaller, SignatureCheck};

use crate::error::{AwsError, Protocol};
use crate::sigv4::{self, AuthError, Verifier};

/// Checks `execute-api` and `lambda` signatures with the endpoint's verifier: its keys and the
/// temporary credentials it issued (STS sessions, function environments' sessions).
pub struct GatewaySignatures {
    /// `None` when the endpoint runs without authentication: every signed request passes.
    verifier: Option<Arc<Verifier>>,
    account_id: String,
}

impl GatewaySignatures {
    pub fn new(verifier: Option<Arc<Verifier>>, account_id: impl Into<String>) -> Self {
        GatewaySignatures {
            verifier,
            account_id: account_id.into(),
        }
    }
}

fn refused(err: &AuthError) -> Denied {
    let err = AwsError::from_auth(Protocol::RestJson, err);
    Denied::Signature {
        error_type: err.code,
        message: err.message,
    }
}

impl SignatureCheck for GatewaySignatures {
    fn check(
        &self,
        service: &str,
        method: &str,
        target: &str,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<IamCaller, Denied> {
        let query = target.split_once('?').map(|(_, q)| q);
        let parsed = sigv4::parse(headers, query);
        let access_key = match (&self.verifier, parsed) {
            (Some(verifier), parsed) => {
                let info = parsed.map_err(|e| refused(&e))?;
                verifier
                    .verify(
                        &info,
                        service,
                        method,
                        target,
                        headers,
                        body,
                        SystemTime::now(),
                    )
                    .map_err(|e| refused(&e))?
                    .access_key_id
            }
            (None, parsed) => parsed.map(|i| i.access_key_id).unwrap_or_default(),
        };
        // The endpoint's keys belong to the account's root, as GetCallerIdentity says; a
        // session names the role it assumed.
        let role = self
            .verifier
            .as_ref()
            .and_then(|v| v.assumed_role(&access_key));
        let (user_id, user_arn) = match role {
            Some(r) => (r.assumed_role_id, r.arn),
            None => (
                self.account_id.clone(),
                format!("arn:aws:iam::{}:root", self.account_id),
            ),
        };
        Ok(IamCaller {
            access_key,
            user_id,
            user_arn,
            account_id: self.account_id.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigv4::KeyPair;
    use aws_credential_types::Credentials;
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4;

    const REGION: &str = "us-east-1";
    const SERVICE: &str = "execute-api";

    fn key() -> KeyPair {
        KeyPair {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "secret".into(),
        }
    }

    /// A request to `target` signed for `service` with `secret`.
    fn signed(service: &str, secret: &str, target: &str, body: &[u8]) -> http::HeaderMap {
        let identity = Credentials::new("AKIDEXAMPLE", secret, None, None, "test").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(REGION)
            .name(service)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .expect("params")
            .into();
        let url = format!("http://abc.execute-api.localhost:9000{target}");
        let request = SignableRequest::new(
            "POST",
            &url,
            [("host", "abc.execute-api.localhost:9000")].into_iter(),
            SignableBody::Bytes(body),
        )
        .expect("signable");
        let (instructions, _) = sign(request, &params).expect("sign").into_parts();
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::HOST,
            http::HeaderValue::from_static("abc.execute-api.localhost:9000"),
        );
        for (name, value) in instructions.headers() {
            headers.insert(
                http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                http::HeaderValue::from_str(value).expect("value"),
            );
        }
        headers
    }

    #[test]
    fn a_request_signed_for_execute_api_names_its_signer() {
        let check = GatewaySignatures::new(
            Some(Arc::new(Verifier::new([key()], REGION))),
            "123456789012",
        );
        let headers = signed(SERVICE, "secret", "/items/42?a=b", b"{}");
        let caller = check
            .check(SERVICE, "POST", "/items/42?a=b", &headers, b"{}")
            .expect("valid signature");
        assert_eq!(caller.access_key, "AKIDEXAMPLE");
        assert_eq!(caller.user_arn, "arn:aws:iam::123456789012:root");
    }

    #[test]
    fn wrong_secret_other_service_or_changed_body_are_refused() {
        let check = GatewaySignatures::new(
            Some(Arc::new(Verifier::new([key()], REGION))),
            "123456789012",
        );
        let wrong = signed(SERVICE, "other", "/items/42", b"{}");
        assert!(matches!(
            check.check(SERVICE, "POST", "/items/42", &wrong, b"{}"),
            Err(Denied::Signature {
                error_type: "InvalidSignatureException",
                ..
            })
        ));
        let lambda = signed("lambda", "secret", "/items/42", b"{}");
        assert!(matches!(
            check.check(SERVICE, "POST", "/items/42", &lambda, b"{}"),
            Err(Denied::Signature {
                error_type: "InvalidSignatureException",
                ..
            })
        ));
        let good = signed(SERVICE, "secret", "/items/42", b"{}");
        assert!(
            check
                .check(SERVICE, "POST", "/items/42", &good, b"{\"x\":1}")
                .is_err()
        );
        assert!(
            check
                .check(SERVICE, "POST", "/items/43", &good, b"{}")
                .is_err()
        );
    }
}
