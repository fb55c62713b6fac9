//! The gateway: HTTP APIs (API Gateway v2), REST APIs (API Gateway v1) and the public HTTP
//! port where browsers and HTTP clients call them.
//!
//! Owns APIs, routes, integrations, stages, deployments and authorizers ([`model`]), kept in
//! the store under `gateway/` as one record per API ([`manage`]); REST APIs with their
//! resources, methods, deployments and stages ([`rest`], one record per API under
//! `gateway/restapi/`), compiled into the same route table; the route table ([`routes`]),
//! the proxy events ([`event`]) and response mapping ([`response`]), CORS ([`cors`]),
//! authorizers ([`auth`]), throttling ([`throttle`]), access logs, and the data-plane router
//! ([`server`]). It calls functions through the [`invoke::Invoker`] extension point and knows
//! nothing of runtimes; the management API's HTTP layer lives in `nimbus-aws`.
//!
//! Invariant: every management write stores the API's record first, then recompiles that API's
//! [`runtime::ApiRuntime`]; the data plane reads only compiled runtimes, never the store.
//!
//! Addressing: an API is reachable at `http://{apiId}.execute-api.localhost:{port}/` (a REST
//! API only under `/{stage}/`); the API
//! tagged `nimbus:root` (the most recently created, if several) also answers at the root of
//! the port. Without one, `/` answers a short welcome and every other path API Gateway's
//! `404 {"message":"Not Found"}`.

pub mod auth;
pub mod cors;
pub mod error;
pub mod event;
pub mod function_url;
pub mod invoke;
pub mod manage;
pub mod model;
pub mod response;
pub mod rest;
pub mod routes;
pub mod runtime;
pub mod server;
pub mod throttle;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use nimbus_functions::logs::{LogEvent, LogStore};
use nimbus_store::Store;

pub use error::{GatewayError, Result};
pub use invoke::{FunctionsInvoker, Invoker};
pub use server::router;

/// The tag that maps an API to the root of the gateway port.
pub const ROOT_TAG: &str = "nimbus:root";

/// Largest request body the gateway accepts (API Gateway's 10 MB payload limit).
pub const MAX_BODY: usize = 10 * 1024 * 1024;

/// Configuration of the gateway service.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub region: String,
    pub account_id: String,
    /// The port of the gateway listener, used in `ApiEndpoint`.
    pub port: u16,
    /// Where access logs are written (`<data-dir>/gateway/logs`).
    pub logs_dir: PathBuf,
}

/// The gateway service. Share it by `Arc`.
pub struct Gateway {
    store: Arc<dyn Store>,
    config: GatewayConfig,
    invoker: Arc<dyn Invoker>,
    /// Serialises management writes (read-modify-write of one API record).
    writes: Mutex<()>,
    apis: RwLock<HashMap<String, Arc<runtime::ApiRuntime>>>,
    root: RwLock<Option<Arc<runtime::ApiRuntime>>>,
    jwt: auth::JwtVerifier,
    /// Verifies `AWS_IAM` routes' signatures; until set, such routes answer 500.
    signatures: OnceLock<Arc<dyn auth::SignatureCheck>>,
    logs: LogStore,
}

impl Gateway {
    /// Opens the service and compiles every stored API. Blocks on I/O.
    pub fn new(
        store: Arc<dyn Store>,
        config: GatewayConfig,
        invoker: Arc<dyn Invoker>,
    ) -> Result<Gateway> {
        let logs = LogStore::open(config.logs_dir.clone())
            .map_err(|e| GatewayError::Internal(format!("open access logs: {e}")))?;
        let gateway = Gateway {
            store,
            config,
            invoker,
            writes: Mutex::new(()),
            apis: RwLock::new(HashMap::new()),
            root: RwLock::new(None),
            jwt: auth::JwtVerifier::new(),
            signatures: OnceLock::new(),
            logs,
        };
        for doc in gateway.load_all()? {
            gateway.install(&doc);
        }
        for doc in gateway.load_all_rest()? {
            gateway.install_rest(&doc);
        }
        gateway.refresh_root();
        Ok(gateway)
    }

    /// Sets what verifies the signatures of requests to `AWS_IAM` routes and methods (the AWS
    /// endpoint's keys). Only the first call counts.
    pub fn set_signature_check(&self, check: Arc<dyn auth::SignatureCheck>) {
        let _ = self.signatures.set(check);
    }

    pub fn config(&self) -> &GatewayConfig {
        &self.config
    }

    /// The access-log events of an API since `since_ms` (epoch ms), oldest first. Blocks on I/O.
    pub fn access_log_events(
        &self,
        api_id: &str,
        since_ms: u64,
        limit: usize,
    ) -> Result<Vec<LogEvent>> {
        let query = nimbus_functions::logs::LogQuery {
            start_ms: since_ms,
            limit,
            ..Default::default()
        };
        self.logs
            .events(api_id, &query)
            .map_err(|e| GatewayError::Internal(format!("read access logs: {e}")))
    }

    /// Waits until every access-log line written so far is in its file.
    pub fn flush_logs(&self) {
        self.logs.flush();
    }

    fn runtime(&self, api_id: &str) -> Option<Arc<runtime::ApiRuntime>> {
        self.apis.read().ok()?.get(api_id).cloned()
    }

    fn root_runtime(&self) -> Option<Arc<runtime::ApiRuntime>> {
        self.root.read().ok()?.clone()
    }

    /// Ids and names of the APIs, for the welcome page, with a REST API's stages (served only
    /// under `/{stage}/`).
    fn api_summaries(&self) -> Vec<(String, String, Option<Vec<String>>)> {
        let Ok(apis) = self.apis.read() else {
            return Vec::new();
        };
        let mut list: Vec<(String, String, Option<Vec<String>>)> = apis
            .values()
            .map(|a| {
                let stages = a.rest.as_ref().map(|_| {
                    let mut names: Vec<String> = a.stages.keys().cloned().collect();
                    names.sort();
                    names
                });
                (a.api_id.clone(), a.name.clone(), stages)
            })
            .collect();
        list.sort();
        list
    }

    fn install(&self, doc: &model::ApiDoc) {
        let compiled = Arc::new(runtime::ApiRuntime::compile(doc, &self.logs));
        if let Ok(mut apis) = self.apis.write() {
            apis.insert(doc.api.api_id.clone(), compiled);
        }
    }

    fn install_rest(&self, doc: &rest::RestApiDoc) {
        let compiled = Arc::new(runtime::ApiRuntime::compile_rest(doc, &self.logs));
        if let Ok(mut apis) = self.apis.write() {
            apis.insert(doc.api.id.clone(), compiled);
        }
    }

    fn uninstall(&self, api_id: &str) {
        if let Ok(mut apis) = self.apis.write() {
            apis.remove(api_id);
        }
    }

    fn refresh_root(&self) {
        let root = self.apis.read().ok().and_then(|apis| {
            apis.values()
                .filter(|a| a.root)
                .max_by(|a, b| {
                    (a.created_date.as_str(), a.api_id.as_str())
                        .cmp(&(b.created_date.as_str(), b.api_id.as_str()))
                })
                .cloned()
        });
        if let Ok(mut r) = self.root.write() {
            *r = root;
        }
    }
}
