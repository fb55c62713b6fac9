//! How the gateway calls functions: the [`Invoker`] extension point, with one implementation
//! on the function service ([`FunctionsInvoker`]); tests and benchmarks plug in their own.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use nimbus_functions::urls::UrlTarget;
use nimbus_functions::{Functions, FunctionsError, InvocationType, InvokeInput};

/// A function and the version or alias to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    pub name: String,
    pub qualifier: Option<String>,
}

impl FunctionRef {
    /// The function an integration URI names: a function name, a function ARN (optionally
    /// qualified), or the `arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations`
    /// form CloudFormation and SAM write.
    pub fn parse(uri: &str) -> Option<FunctionRef> {
        let uri = uri.trim();
        let arn = match uri.split_once(":lambda:path/") {
            Some((_, rest)) => {
                let rest = rest.strip_suffix("/invocations").unwrap_or(rest);
                rest.rsplit_once("/functions/").map(|(_, f)| f)?
            }
            None => uri,
        };
        if arn.is_empty() {
            return None;
        }
        match arn.split_once(":function:") {
            Some((_, rest)) => {
                let (name, qualifier) = match rest.split_once(':') {
                    Some((n, q)) => (n, Some(q.to_owned())),
                    None => (rest, None),
                };
                (!name.is_empty()).then(|| FunctionRef {
                    name: name.to_owned(),
                    qualifier,
                })
            }
            None if !arn.contains(':') && !arn.contains('/') => Some(FunctionRef {
                name: arn.to_owned(),
                qualifier: None,
            }),
            None => None,
        }
    }
}

/// What a synchronous invocation returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoked {
    pub payload: Bytes,
    /// The function failed (`X-Amz-Function-Error`).
    pub function_error: bool,
}

/// Why an invocation did not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeFailure {
    #[error("function not found: {0}")]
    NotFound(String),
    #[error("function throttled: {0}")]
    Throttled(String),
    #[error("invocation failed: {0}")]
    Failed(String),
}

pub type InvokeFuture = Pin<Box<dyn Future<Output = Result<Invoked, InvokeFailure>> + Send>>;

/// Runs functions for the gateway.
pub trait Invoker: Send + Sync + 'static {
    fn invoke(&self, function: FunctionRef, payload: Bytes) -> InvokeFuture;

    /// The function URL `url_id` names, if any (served on the gateway port): point reads of
    /// the store, done on the calling task.
    fn function_url(&self, url_id: &str) -> Option<UrlTarget> {
        let _ = url_id;
        None
    }
}

/// The function service as an [`Invoker`].
pub struct FunctionsInvoker(pub Arc<Functions>);

impl Invoker for FunctionsInvoker {
    fn invoke(&self, function: FunctionRef, payload: Bytes) -> InvokeFuture {
        let functions = Arc::clone(&self.0);
        Box::pin(async move {
            let input = InvokeInput {
                function_name: function.name,
                qualifier: function.qualifier,
                invocation_type: InvocationType::RequestResponse,
                log_tail: false,
                payload,
                client_context: None,
                request_id: None,
            };
            match functions.invoke(input).await {
                Ok(out) => Ok(Invoked {
                    payload: out.payload,
                    function_error: out.function_error.is_some(),
                }),
                Err(FunctionsError::ResourceNotFound(m)) => Err(InvokeFailure::NotFound(m)),
                Err(FunctionsError::TooManyRequests { message, .. }) => {
                    Err(InvokeFailure::Throttled(message))
                }
                Err(e) => Err(InvokeFailure::Failed(e.to_string())),
            }
        })
    }

    fn function_url(&self, url_id: &str) -> Option<UrlTarget> {
        match self.0.url_target(url_id) {
            Ok(target) => target,
            Err(e) => {
                tracing::warn!("function URL lookup failed: {e}");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integration_uris_name_functions() {
        let f = |name: &str, q: Option<&str>| {
            Some(FunctionRef {
                name: name.into(),
                qualifier: q.map(Into::into),
            })
        };
        assert_eq!(FunctionRef::parse("echo"), f("echo", None));
        assert_eq!(
            FunctionRef::parse("arn:aws:lambda:us-east-1:000000000000:function:echo"),
            f("echo", None)
        );
        assert_eq!(
            FunctionRef::parse("arn:aws:lambda:us-east-1:000000000000:function:echo:live"),
            f("echo", Some("live"))
        );
        assert_eq!(
            FunctionRef::parse(
                "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:echo/invocations"
            ),
            f("echo", None)
        );
        assert_eq!(FunctionRef::parse("https://example.com"), None);
        assert_eq!(FunctionRef::parse(""), None);
    }
}
