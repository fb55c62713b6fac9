//! Functions: the Lambda model of Nimbus.
//!
//! Owns the function registry (configurations, code, versions, aliases, concurrency settings;
//! [`registry`], [`control`]), the scheduler that keeps warm execution environments per function
//! revision ([`scheduler`]), the environments themselves and the Lambda Runtime API each one
//! talks to ([`environment`], [`runtime_api`]), the runtimes ([`runtimes`]: the Python and
//! Node.js bootstrap shims Nimbus ships, and `provided.*`), layers ([`layers`]: versioned zips
//! that environments see at `/opt`), function logs ([`logs`]) and invocations ([`invoke`]:
//! synchronous, and asynchronous through a durable queue).
//!
//! Environments are created in exactly one place, [`environment::Environment::start`], through
//! `nimbus-sandbox`. Knows nothing of HTTP (the Lambda REST API lives in `nimbus-aws`) nor of
//! table internals: functions reach tables through Nimbus' own AWS endpoint, like any client.

pub mod api;
pub mod code;
pub mod control;
pub mod environment;
pub mod error;
pub mod event_invoke;
pub mod invoke;
pub mod layers;
pub mod logs;
pub mod model;
pub mod registry;
pub mod runtime_api;
pub mod runtimes;
pub mod scheduler;
pub mod urls;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nimbus_metering::UsageSink;
use nimbus_store::Store;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use error::{FunctionsError, Result};
pub use model::{FunctionConfig, InvocationType, InvokeInput, InvokeOutput, ResolvedFunction};

/// Configuration of the function service.
#[derive(Clone)]
pub struct FunctionsConfig {
    /// Where extracted packages, runtime shims, installed SDKs and logs live.
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
    /// `PATH` used to find interpreters, and given to functions.
    pub search_path: String,
    /// Delay before the first retry of a failed asynchronous invocation; the second waits
    /// twice as long (Lambda: one and two minutes).
    pub async_retry_delay: Duration,
    /// Log streams not written to for this long are deleted.
    pub log_retention: Duration,
    /// Where the runtime shims and the installed AWS SDKs live (default `<data-dir>/runtimes`).
    pub runtimes_dir: PathBuf,
    /// Install a runtime's AWS SDK on first use of that runtime.
    pub auto_install_sdks: bool,
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

/// How long the credentials an environment gets are valid ([`CredentialIssuer`]).
pub const ENVIRONMENT_CREDENTIALS_TTL: Duration = Duration::from_secs(12 * 3600);

/// The age past which an environment takes no more invocations: well before its credentials
/// expire (Lambda recycles its environments after some hours too).
pub const MAX_ENVIRONMENT_AGE: Duration = Duration::from_secs(11 * 3600);

/// Temporary credentials for one environment: access key id, secret, session token.
#[derive(Clone)]
pub struct SessionCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
}

impl std::fmt::Debug for SessionCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Issues the credentials an environment's process signs its AWS calls with, as Lambda hands
/// each environment a session of the function's execution role (`AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) rather than a long-term key. The AWS endpoint
/// implements it; without one (or when it issues none, as without authentication) environments
/// get the node's key pair.
pub trait CredentialIssuer: Send + Sync {
    /// Credentials acting as `role_arn`, session `session_name`, valid for `ttl`.
    fn issue(
        &self,
        role_arn: &str,
        session_name: &str,
        ttl: Duration,
    ) -> Option<SessionCredentials>;
}

/// The function service. Share it by `Arc`; call [`Functions::start`] once inside the async
/// runtime and [`Functions::shutdown`] before exit.
pub struct Functions {
    store: Arc<dyn Store>,
    config: FunctionsConfig,
    registry: registry::Registry,
    usage: Arc<dyn UsageSink>,
    scheduler: scheduler::Scheduler,
    logs: logs::LogStore,
    runtime_dirs: runtimes::RuntimeDirs,
    code: code::CodeCache,
    tasks: TaskTracker,
    stop: CancellationToken,
    queue_wakeup: Notify,
    sdk_install: Mutex<()>,
    use_cgroups: bool,
    /// The host function URLs are served under ([`Functions::set_url_host`]).
    url_host: std::sync::OnceLock<String>,
    /// What issues environments' credentials ([`Functions::set_credential_issuer`]).
    credentials: std::sync::OnceLock<Arc<dyn CredentialIssuer>>,
}

impl Functions {
    /// Sets what issues environments' credentials. Only the first call counts.
    pub fn set_credential_issuer(&self, issuer: Arc<dyn CredentialIssuer>) {
        let _ = self.credentials.set(issuer);
    }

    /// Opens the service: the registry, the log store and the runtime shims. Blocks on I/O.
    pub fn new(
        store: Arc<dyn Store>,
        config: FunctionsConfig,
        usage: Arc<dyn UsageSink>,
    ) -> Result<Functions> {
        let registry = registry::Registry::new(Arc::clone(&store), &config)?;
        let io = |what: &str, e: std::io::Error| FunctionsError::Service(format!("{what}: {e}"));
        let logs =
            logs::LogStore::open(config.data_dir.join("logs")).map_err(|e| io("open logs", e))?;
        let runtime_dirs =
            runtimes::RuntimeDirs::new(config.runtimes_dir.clone(), config.search_path.clone());
        runtime_dirs
            .write_shims()
            .map_err(|e| io("write runtime shims", e))?;
        let use_cgroups = match nimbus_sandbox::probe::cgroups() {
            nimbus_sandbox::probe::Cgroups::None => {
                tracing::warn!("no cgroups: function memory limits are not enforced");
                false
            }
            _ => true,
        };
        Ok(Functions {
            scheduler: scheduler::Scheduler::new(config.max_environments, config.idle_timeout),
            code: code::CodeCache::new(config.data_dir.join("code")),
            store,
            registry,
            usage,
            logs,
            runtime_dirs,
            tasks: TaskTracker::new(),
            stop: CancellationToken::new(),
            queue_wakeup: Notify::new(),
            sdk_install: Mutex::new(()),
            use_cgroups,
            url_host: std::sync::OnceLock::new(),
            credentials: std::sync::OnceLock::new(),
            config,
        })
    }

    /// Starts the background work: the asynchronous-invocation worker, the reaper of idle
    /// environments and the expiry of old log streams.
    pub fn start(self: &Arc<Self>) {
        self.tasks.spawn(Arc::clone(self).run_queue());
        // Resolve every runtime's interpreter now, so that no cold start pays for asking them.
        let dirs = self.runtime_dirs.clone();
        self.tasks.spawn(async move {
            let _ = tokio::task::spawn_blocking(move || dirs.resolve_all()).await;
        });
        let this = Arc::clone(self);
        self.tasks.spawn(async move {
            let period = (this.config.idle_timeout / 4)
                .clamp(Duration::from_secs(1), Duration::from_secs(60));
            let mut ticks = 0u64;
            loop {
                tokio::select! {
                    () = this.stop.cancelled() => return,
                    () = tokio::time::sleep(period) => {}
                }
                let reaped = this.scheduler.reap();
                if reaped > 0 {
                    tracing::debug!(reaped, "idle environments stopped");
                }
                ticks += 1;
                if ticks % 60 == 1 {
                    let logs = this.logs.clone();
                    let retention = this.config.log_retention;
                    let _ = tokio::task::spawn_blocking(move || logs.expire(retention)).await;
                }
            }
        });
    }

    /// Stops every environment and background task.
    pub async fn shutdown(&self) {
        self.stop.cancel();
        self.scheduler.drain_all();
        self.tasks.close();
        if tokio::time::timeout(Duration::from_secs(10), self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("function tasks still running at shutdown");
        }
        self.logs.flush();
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

    /// The function logs (one log group per function).
    pub fn logs(&self) -> &logs::LogStore {
        &self.logs
    }

    /// Called after a function's code, configuration or reserved concurrency changed, or the
    /// function (or one of its versions) was deleted: stops its idle environments, so the next
    /// invocation starts on the current revision.
    pub fn on_function_changed(&self, function: &str) {
        self.scheduler.drain_function(function);
    }

    /// (busy, live) environments.
    pub fn environment_counts(&self) -> (u32, u32) {
        self.scheduler.counts()
    }
}
