//! Functions: the Lambda model of Nimbus.
//!
//! Owns the function registry (configurations, code, versions, aliases, concurrency settings;
//! [`registry`], [`control`]), the scheduler that keeps warm execution environments per function
//! revision ([`scheduler`]), the environments themselves and the Lambda Runtime API each one
//! talks to ([`environment`], [`runtime_api`]), the runtimes ([`runtimes`]: the Python and
//! Node.js bootstrap shims Nimbus ships, and `provided.*`), function logs ([`logs`]) and
//! invocations ([`invoke`]: synchronous, and asynchronous through a durable queue).
//!
//! Environments are created in exactly one place, [`environment::Environment::start`], through
//! `nimbus-sandbox`. Knows nothing of HTTP (the Lambda REST API lives in `nimbus-aws`) nor of
//! table internals: functions reach tables through Nimbus' own AWS endpoint, like any client.

pub mod api;
pub mod code;
pub mod control;
pub mod error;
pub mod model;
pub mod registry;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use nimbus_metering::UsageSink;
use nimbus_store::Store;

pub use error::{FunctionsError, Result};
pub use model::{FunctionConfig, InvocationType, InvokeInput, InvokeOutput, ResolvedFunction};

/// Configuration of the function service.
#[derive(Clone)]
pub struct FunctionsConfig {
    /// Where extracted packages, runtime shims and installed SDKs live.
    pub data_dir: PathBuf,
    pub region: String,
    pub account_id: String,
    /// Nimbus' AWS endpoint as functions reach it (`AWS_ENDPOINT_URL`), e.g. `http://127.0.0.1:4566`.
    pub aws_endpoint: String,
    /// The key pair functions sign their AWS calls with.
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Idle environments are stopped after this long.
    pub idle_timeout: Duration,
    /// Environments across all functions (the account's concurrency limit).
    pub max_environments: u32,
}

impl std::fmt::Debug for FunctionsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionsConfig")
            .field("data_dir", &self.data_dir)
            .field("region", &self.region)
            .field("aws_endpoint", &self.aws_endpoint)
            .field("access_key_id", &self.access_key_id)
            .field("max_environments", &self.max_environments)
            .finish_non_exhaustive()
    }
}

/// The function service. Share it by `Arc`.
pub struct Functions {
    store: Arc<dyn Store>,
    config: FunctionsConfig,
    registry: registry::Registry,
    usage: Arc<dyn UsageSink>,
}

impl Functions {
    pub fn new(
        store: Arc<dyn Store>,
        config: FunctionsConfig,
        usage: Arc<dyn UsageSink>,
    ) -> Result<Functions> {
        let registry = registry::Registry::new(Arc::clone(&store), &config)?;
        Ok(Functions {
            store,
            config,
            registry,
            usage,
        })
    }

    pub fn config(&self) -> &FunctionsConfig {
        &self.config
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn registry(&self) -> &registry::Registry {
        &self.registry
    }

    pub fn usage(&self) -> &Arc<dyn UsageSink> {
        &self.usage
    }

    /// Invokes a function: resolves name and qualifier, checks the payload limits (6 MB
    /// synchronous, 256 KB asynchronous), then runs it in a warm or new environment
    /// (`RequestResponse`), queues it durably (`Event`), or only checks it (`DryRun`).
    pub async fn invoke(&self, input: InvokeInput) -> Result<InvokeOutput> {
        let resolved = self
            .registry
            .resolve(&input.function_name, input.qualifier.as_deref())?;
        Err(FunctionsError::Service(format!(
            "{} cannot run yet: execution environments are not available",
            resolved.config.function_name
        )))
    }
}
