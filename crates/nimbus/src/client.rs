//! The CLI's client of a running server: AWS API calls signed with SigV4 by the server's own
//! key pair (read from the data directory), over plain HTTP to `--listen`.

use std::time::SystemTime;

use anyhow::{Context, bail};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use nimbus_aws::sigv4::KeyPair;
use serde_json::Value;

use crate::config::Config;
use crate::credentials;

/// A signed client of one server.
pub struct Client {
    endpoint: String,
    region: String,
    key: KeyPair,
    http: HttpClient<HttpConnector, Full<Bytes>>,
}

/// A response of a REST call.
pub struct RestResponse {
    pub status: http::StatusCode,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Client {
    /// A client of the server that `config` names.
    pub fn new(config: &Config) -> anyhow::Result<Client> {
        // The server writes the key pair on its first start; creating one here would only make
        // a key pair that no server accepts.
        let file = credentials::path(&config.data_dir);
        if !file.exists() {
            bail!(
                "no credentials in {}: is `nimbus serve` running with this data directory? \
                 Start it, or pass its --data-dir",
                config.data_dir.display()
            );
        }
        let key = credentials::load_or_create(&config.data_dir)?;
        Ok(Client {
            endpoint: format!("http://{}", config.listen),
            region: config.region.clone(),
            key,
            http: HttpClient::builder(TokioExecutor::new()).build_http(),
        })
    }

    /// Calls a JSON-protocol operation (`X-Amz-Target`), returning the response body.
    pub async fn json(
        &self,
        service: &str,
        target: &str,
        version: &str,
        body: &Value,
    ) -> anyhow::Result<Value> {
        let content_type = format!("application/x-amz-json-{version}");
        let response = self
            .send(
                service,
                "POST",
                "/",
                &[("content-type", &content_type), ("x-amz-target", target)],
                serde_json::to_vec(body)?,
            )
            .await?;
        let value: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        if !response.status.is_success() {
            bail!("{}", describe_error(&response, &value));
        }
        Ok(value)
    }

    /// Calls a REST operation, returning the raw response (errors are the caller's).
    pub async fn rest(
        &self,
        service: &str,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> anyhow::Result<RestResponse> {
        self.send(service, method, path_and_query, headers, body)
            .await
    }

    async fn send(
        &self,
        service: &str,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> anyhow::Result<RestResponse> {
        let uri = format!("{}{}", self.endpoint, path_and_query);
        let mut request = http::Request::builder().method(method).uri(&uri);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let mut request = request.body(body).context("build the request")?;
        let host = uri
            .parse::<http::Uri>()
            .ok()
            .and_then(|u| u.authority().map(|a| a.to_string()))
            .unwrap_or_default();
        request
            .headers_mut()
            .insert(http::header::HOST, host.parse().context("host header")?);
        let identity: Identity = Credentials::new(
            &self.key.access_key_id,
            &self.key.secret_access_key,
            None,
            None,
            "nimbus-cli",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(service)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .context("signing parameters")?;
        let signable = SignableRequest::new(
            request.method().as_str(),
            request.uri().to_string(),
            request
                .headers()
                .iter()
                .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v))),
            SignableBody::Bytes(request.body()),
        )
        .context("sign the request")?;
        let (instructions, _) = sign(signable, &params.into())
            .context("sign the request")?
            .into_parts();
        instructions.apply_to_request_http1x(&mut request);
        let (parts, body) = request.into_parts();
        let request = http::Request::from_parts(parts, Full::new(Bytes::from(body)));
        let response = self.http.request(request).await.with_context(|| {
            format!(
                "cannot reach Nimbus at {} (is `nimbus serve` running? use --listen)",
                self.endpoint
            )
        })?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .context("read the response")?
            .to_bytes();
        Ok(RestResponse {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }
}

/// `Code: message` from an AWS error response of either protocol.
pub fn describe_error(response: &RestResponse, body: &Value) -> String {
    let code = body["__type"]
        .as_str()
        .map(|t| t.rsplit('#').next().unwrap_or(t).to_owned())
        .or_else(|| {
            response
                .headers
                .get("x-amzn-errortype")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| response.status.to_string());
    let message = body["message"]
        .as_str()
        .or(body["Message"].as_str())
        .unwrap_or("");
    format!("{code}: {message}")
}
