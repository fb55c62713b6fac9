//! Invocations: synchronous (`RequestResponse`) in a warm or new environment, asynchronous
//! (`Event`) through a durable queue in the store with Lambda's retries (two unless the function's
//! event invoke settings say otherwise, see [`crate::event_invoke`]), and `DryRun`.
//!
//! Every synchronous run writes Lambda's `START`, `END` and `REPORT` lines to the
//! environment's log stream and records its usage (billed duration at 1 ms granularity,
//! configured memory, max memory used) with the metering sink.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use nimbus_metering::UsageRecord;
use nimbus_store::{Direction, KeyRange, WriteBatch};
use serde::{Deserialize, Serialize};

use crate::Functions;
use crate::api::{MAX_ASYNC_PAYLOAD, MAX_SYNC_PAYLOAD};
use crate::code;
use crate::environment::OOM_KILLED;
use crate::environment::{Environment, EnvironmentSpec, InitFailure, InvokeResult, StartFailure};
use crate::error::{FunctionsError, Result};
use crate::model::{InvocationType, InvokeInput, InvokeOutput, ResolvedFunction};
use crate::runtime_api::{MAX_RESPONSE, Outcome};
use crate::runtimes;
use crate::scheduler::Slot;

/// How much of the log `LogType: Tail` returns.
const TAIL_BYTES: usize = 4096;

const QUEUE_PREFIX: &str = "functions/async/";

/// An asynchronous invocation waiting in the store.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct QueuedInvocation {
    function: String,
    qualifier: Option<String>,
    payload_base64: String,
    attempt: u32,
    request_id: String,
    /// When the invocation was first queued (epoch ms), for `MaximumEventAgeInSeconds`.
    #[serde(default)]
    enqueued_ms: Option<u64>,
}

/// Lambda's words for a runtime that exited during an invocation or its init: one that exited
/// cleanly gave no reason.
fn exit_message(request_id: &str, reason: &str) -> String {
    if reason == "exit status 0" {
        format!("RequestId: {request_id} Error: Runtime exited without providing a reason")
    } else {
        format!("RequestId: {request_id} Error: Runtime exited with error: {reason}")
    }
}

/// The request id of an invocation: the caller's, or a new one.
fn invocation_id(input: &InvokeInput) -> String {
    input
        .request_id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

fn queue_key(not_before_ms: u64, request_id: &str, attempt: u32) -> Vec<u8> {
    format!("{QUEUE_PREFIX}{not_before_ms:016x}/{request_id}/{attempt}").into_bytes()
}

fn parse_not_before(key: &[u8]) -> Option<u64> {
    let rest = key.strip_prefix(QUEUE_PREFIX.as_bytes())?;
    let hex = std::str::from_utf8(rest.get(..16)?).ok()?;
    u64::from_str_radix(hex, 16).ok()
}

fn error_payload(error_type: &str, message: &str) -> Bytes {
    Bytes::from(serde_json::json!({"errorType": error_type, "errorMessage": message}).to_string())
}

impl Functions {
    /// Invokes a function: resolves name and qualifier, checks the payload, then runs it
    /// (`RequestResponse`), queues it durably (`Event`), or only checks it (`DryRun`).
    pub async fn invoke(self: &Arc<Self>, input: InvokeInput) -> Result<InvokeOutput> {
        check_payload_size(input.invocation_type, input.payload.len())?;
        let payload = if input.payload.iter().all(u8::is_ascii_whitespace) {
            Bytes::from_static(b"{}")
        } else {
            if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&input.payload) {
                return Err(FunctionsError::InvalidRequestContent(format!(
                    "Could not parse request body into json: Could not parse payload into json: {e}"
                )));
            }
            input.payload.clone()
        };
        // The Invoke API carries the client context as base64 JSON; runtimes receive the JSON.
        let client_context = match &input.client_context {
            None => None,
            Some(encoded) => Some(decode_client_context(encoded)?),
        };
        // On the calling task: two point reads of the store, answered from memory (memtables
        // and block cache) in microseconds, less than the two thread wake-ups of a hand-off to
        // the blocking pool, which were a measurable share of a warm invocation.
        let resolved = self
            .registry
            .resolve(&input.function_name, input.qualifier.as_deref())?;
        match input.invocation_type {
            InvocationType::DryRun => Ok(InvokeOutput {
                status_code: 204,
                function_error: None,
                log_result: None,
                executed_version: resolved.config.version.clone(),
                payload: Bytes::new(),
            }),
            InvocationType::Event => {
                self.enqueue(&input, &payload).await?;
                Ok(InvokeOutput {
                    status_code: 202,
                    function_error: None,
                    log_result: None,
                    executed_version: resolved.config.version.clone(),
                    payload: Bytes::new(),
                })
            }
            InvocationType::RequestResponse => {
                // The invocation runs in its own task: a caller that goes away (a client that
                // disconnects) must not cancel it half-way, which would kill the environment
                // and leak its concurrency slot. As on Lambda, the invocation completes.
                let this = Arc::clone(self);
                let log_tail = input.log_tail;
                let request_id = invocation_id(&input);
                self.tasks
                    .spawn(async move {
                        this.run(&resolved, &request_id, payload, client_context, log_tail)
                            .await
                    })
                    .await
                    .map_err(|e| FunctionsError::Service(format!("invocation task failed: {e}")))?
            }
        }
    }

    /// Runs one invocation of an already resolved function synchronously.
    pub async fn run(
        self: &Arc<Self>,
        resolved: &ResolvedFunction,
        request_id: &str,
        payload: Bytes,
        client_context: Option<String>,
        log_tail: bool,
    ) -> Result<InvokeOutput> {
        let config = &resolved.config;
        let (env, cold_init) = match self.scheduler.acquire(resolved)? {
            Slot::Warm(env) => (env, None),
            Slot::Cold => match self.start_environment(resolved).await {
                Ok(env) => {
                    let init = env.init_duration;
                    (Arc::new(env), Some(init))
                }
                Err(failure) => {
                    self.scheduler.abandon(resolved);
                    return Ok(self.init_failed(resolved, request_id, failure, log_tail));
                }
            },
        };
        if log_tail {
            env.begin_capture();
        } else {
            env.take_capture();
        }
        env.log_line(&format!(
            "START RequestId: {request_id} Version: {}",
            config.version
        ));
        let started = Instant::now();
        // At shutdown the servers have already answered every caller, so an invocation still
        // running has nobody waiting for it (or is an Event, which stays queued and runs again
        // after the restart): its environment is killed rather than waited for.
        let result = tokio::select! {
            result = env.invoke(request_id, payload, &resolved.invoked_arn, client_context) => result,
            () = self.stop.cancelled() => {
                env.kill();
                InvokeResult::Completed(Outcome::Exited("the server is shutting down".to_owned()))
            }
        };
        let duration = started.elapsed();
        let (healthy, function_error, body, status) = match result {
            InvokeResult::Completed(Outcome::Response(body)) => (true, None, body, None),
            InvokeResult::Completed(Outcome::Error {
                payload,
                error_type,
            }) => {
                let kind = error_type.unwrap_or_else(|| "Unhandled".to_owned());
                (
                    true,
                    Some("Unhandled"),
                    payload,
                    Some(format!("Status: error\tError Type: {kind}")),
                )
            }
            InvokeResult::Completed(Outcome::ResponseTooLarge(_)) => (
                true,
                Some("Unhandled"),
                error_payload(
                    "Function.ResponseSizeTooLarge",
                    &format!(
                        "Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE} bytes)."
                    ),
                ),
                Some("Status: error\tError Type: Function.ResponseSizeTooLarge".to_owned()),
            ),
            // Lambda names a runtime killed at its memory limit for what it is.
            InvokeResult::Completed(Outcome::Exited(reason)) if reason == OOM_KILLED => (
                false,
                Some("Unhandled"),
                error_payload(
                    "Runtime.OutOfMemory",
                    &exit_message(request_id, "signal: killed"),
                ),
                Some("Status: error\tError Type: Runtime.OutOfMemory".to_owned()),
            ),
            InvokeResult::Completed(Outcome::Exited(reason)) => (
                false,
                Some("Unhandled"),
                error_payload("Runtime.ExitError", &exit_message(request_id, &reason)),
                Some("Status: error\tError Type: Runtime.ExitError".to_owned()),
            ),
            InvokeResult::TimedOut => {
                let timed_out = format!("Task timed out after {}.00 seconds", config.timeout);
                env.log_line(&format!("{} {request_id} {timed_out}", iso_now()));
                let message = format!("RequestId: {request_id} Error: {timed_out}");
                (
                    false,
                    Some("Unhandled"),
                    Bytes::from(
                        serde_json::json!({"errorType": "Sandbox.Timedout", "errorMessage": message})
                            .to_string(),
                    ),
                    Some("Status: timeout".to_owned()),
                )
            }
        };
        if log_tail {
            env.settle_output().await;
        }
        self.finish(
            resolved,
            &env,
            request_id,
            duration,
            cold_init,
            status.as_deref(),
        );
        let log_result = log_tail.then(|| tail(&env.take_capture()));
        self.scheduler.release(resolved, env, healthy);
        Ok(InvokeOutput {
            status_code: 200,
            function_error: function_error.map(str::to_owned),
            log_result,
            executed_version: config.version.clone(),
            payload: body,
        })
    }

    /// Writes END and REPORT and records usage.
    fn finish(
        &self,
        resolved: &ResolvedFunction,
        env: &Environment,
        request_id: &str,
        duration: Duration,
        cold_init: Option<Duration>,
        status: Option<&str>,
    ) {
        let config = &resolved.config;
        let ms = duration.as_secs_f64() * 1000.0;
        let init_ms = cold_init.map(|d| d.as_secs_f64() * 1000.0);
        // Since August 2025 Lambda bills the init phase of on-demand environments too.
        let billed = (ms + init_ms.unwrap_or(0.0)).ceil().max(1.0) as u64;
        let max_memory = env.max_memory_used_mb();
        env.log_line(&format!("END RequestId: {request_id}"));
        let mut report = format!(
            "REPORT RequestId: {request_id}\tDuration: {ms:.2} ms\tBilled Duration: {billed} ms\tMemory Size: {} MB\tMax Memory Used: {max_memory} MB",
            config.memory_size
        );
        if let Some(init) = init_ms {
            report.push_str(&format!("\tInit Duration: {init:.2} ms"));
        }
        if let Some(status) = status {
            report.push('\t');
            report.push_str(status);
        }
        env.log_line(&report);
        self.usage.record(UsageRecord::Invocation {
            function: config.function_name.clone(),
            billed_duration_ms: billed,
            memory_mb: config.memory_size,
            max_memory_used_mb: max_memory,
        });
    }

    /// The answer to an invocation whose environment failed to start.
    fn init_failed(
        &self,
        resolved: &ResolvedFunction,
        request_id: &str,
        start: StartFailure,
        log_tail: bool,
    ) -> InvokeOutput {
        let StartFailure {
            failure,
            took,
            output,
            log,
        } = start;
        let config = &resolved.config;
        let (error_type, body) = match failure {
            InitFailure::Reported(body) => {
                let kind = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["errorType"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| "Runtime.Unknown".to_owned());
                (kind, body)
            }
            InitFailure::Exited(reason) => (
                "Runtime.ExitError".to_owned(),
                error_payload("Runtime.ExitError", &exit_message(request_id, &reason)),
            ),
            InitFailure::TimedOut => (
                "Sandbox.Timedout".to_owned(),
                error_payload(
                    "Sandbox.Timedout",
                    &format!(
                        "RequestId: {request_id} Error: INIT phase timed out after {} seconds",
                        crate::environment::INIT_TIMEOUT.as_secs()
                    ),
                ),
            ),
            InitFailure::Spawn(message) => (
                "Runtime.InvalidEntrypoint".to_owned(),
                error_payload("Runtime.InvalidEntrypoint", &message),
            ),
        };
        let stream = log.unwrap_or_else(|| {
            self.logs
                .stream(&config.function_name, &config.version, &new_env_id())
        });
        let lines = [
            format!(
                "INIT_REPORT Init Duration: {:.2} ms\tPhase: init\tStatus: error\tError Type: {error_type}",
                took.as_secs_f64() * 1000.0
            ),
            format!("START RequestId: {request_id} Version: {}", config.version),
            format!("END RequestId: {request_id}"),
            format!(
                "REPORT RequestId: {request_id}\tDuration: {:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: 0 MB\tStatus: error\tError Type: {error_type}",
                took.as_secs_f64() * 1000.0,
                took.as_millis().max(1),
                config.memory_size
            ),
        ];
        let mut log_text = output;
        for line in &lines {
            stream.write(line);
            log_text.push_str(line);
            log_text.push('\n');
        }
        InvokeOutput {
            status_code: 200,
            function_error: Some("Unhandled".to_owned()),
            log_result: log_tail.then(|| tail(&log_text)),
            executed_version: config.version.clone(),
            payload: body,
        }
    }

    /// Starts a new environment for `resolved`: extracts its code, picks the runtime, and
    /// starts the process.
    async fn start_environment(
        self: &Arc<Self>,
        resolved: &ResolvedFunction,
    ) -> std::result::Result<Environment, StartFailure> {
        let started = Instant::now();
        let fail_with = |failure: InitFailure| StartFailure {
            failure,
            took: started.elapsed(),
            output: String::new(),
            log: None,
        };
        let fail = |m: String| fail_with(InitFailure::Spawn(m));
        let config = resolved.config.clone();
        let this = Arc::clone(self);
        let sha = config.code_sha256_hex.clone();
        let runtime = config.runtime.clone();
        let family = runtimes::Family::of(&runtime);
        let layer_shas: Vec<String> = config.layers.iter().map(|l| l.sha256_hex.clone()).collect();
        let runtime_name = runtime.clone();
        let prepared = tokio::task::spawn_blocking(move || {
            if let (Some(family), true) = (family, this.config.auto_install_sdks) {
                this.ensure_sdk(family);
            }
            let task_root = this.code.dir(this.store.as_ref(), &sha)?;
            if family == Some(runtimes::Family::Node)
                && let Err(e) = runtimes::link_node_sdk(&this.runtime_dirs, this.code.root())
            {
                tracing::warn!("cannot make the Node.js SDK importable: {e}");
            }
            let layers_dir = if layer_shas.is_empty() {
                None
            } else {
                let shas: Vec<&str> = layer_shas.iter().map(String::as_str).collect();
                let root = this.config.data_dir.join("layers");
                Some(code::layers_dir(&root, this.store.as_ref(), &shas)?)
            };
            let node_modules = layers_dir
                .as_deref()
                .and_then(|dir| runtimes::node_layer_modules(&runtime_name, dir, this.code.root()));
            if let Some((_, mount_point)) = &node_modules {
                std::fs::create_dir_all(mount_point).map_err(|e| {
                    FunctionsError::Service(format!("create {}: {e}", mount_point.display()))
                })?;
            }
            Ok::<_, FunctionsError>((task_root, layers_dir, node_modules))
        })
        .await
        .map_err(|e| fail(format!("prepare task failed: {e}")))?;
        let (task_root, layers_dir, node_layer_modules) =
            prepared.map_err(|e| fail(e.to_string()))?;
        let dirs = self.runtime_dirs.clone();
        let (root, has_layers) = (task_root.clone(), layers_dir.is_some());
        let launched = tokio::task::spawn_blocking(move || {
            runtimes::launch(&dirs, &runtime, &root, has_layers)
        })
        .await
        .map_err(|e| fail(format!("prepare runtime failed: {e}")))?;
        let launch = match launched {
            Ok(launch) => launch,
            Err(e) => {
                return Err(fail_with(InitFailure::Reported(error_payload(
                    e.error_type,
                    &e.message,
                ))));
            }
        };
        let id = new_env_id();
        let log = self
            .logs
            .stream(&config.function_name, &config.version, &id);
        let base_env = self.base_env(&config);
        let spec = EnvironmentSpec {
            tmp_dir: self.config.data_dir.join("environments").join(&id),
            id,
            config,
            task_root,
            launch,
            layers_dir,
            node_layer_modules,
            base_env,
            log_format: resolved.log_format.clone(),
            log_level: resolved.log_level.clone(),
            use_cgroups: self.use_cgroups,
        };
        Environment::start(spec, log, &self.tasks).await
    }

    /// Installs the runtime's SDK on first use; a failure is logged and the function runs
    /// without it (its imports of the SDK then fail visibly).
    fn ensure_sdk(&self, family: runtimes::Family) {
        let _guard = self.sdk_install.lock().unwrap_or_else(|p| p.into_inner());
        if runtimes::sdk_installed(&self.runtime_dirs, family) {
            return;
        }
        tracing::info!("installing the {family:?} AWS SDK for functions (first use)");
        match runtimes::install_sdk(&self.runtime_dirs, family) {
            Ok(_) => tracing::info!("{family:?} AWS SDK installed"),
            Err(e) => tracing::warn!("{e}; functions run without the AWS SDK"),
        }
    }

    /// The variables Nimbus sets for every environment of `function`: region, endpoint,
    /// `PATH`, and credentials: a session of the function's role when an issuer is set
    /// ([`crate::CredentialIssuer`]), else the node's key pair.
    fn base_env(&self, function: &crate::model::FunctionConfig) -> Vec<(String, String)> {
        let c = &self.config;
        let session = self.credentials.get().and_then(|issuer| {
            issuer.issue(
                &function.role,
                &function.function_name,
                crate::ENVIRONMENT_CREDENTIALS_TTL,
            )
        });
        let mut env = vec![
            ("PATH".into(), c.search_path.clone()),
            ("AWS_REGION".into(), c.region.clone()),
            ("AWS_DEFAULT_REGION".into(), c.region.clone()),
        ];
        match session {
            Some(s) => env.extend([
                ("AWS_ACCESS_KEY_ID".into(), s.access_key_id),
                ("AWS_SECRET_ACCESS_KEY".into(), s.secret_access_key),
                ("AWS_SESSION_TOKEN".into(), s.session_token),
            ]),
            None => env.extend([
                ("AWS_ACCESS_KEY_ID".into(), c.access_key_id.clone()),
                ("AWS_SECRET_ACCESS_KEY".into(), c.secret_access_key.clone()),
            ]),
        }
        env.extend([
            ("AWS_ENDPOINT_URL".into(), c.aws_endpoint.clone()),
            ("AWS_ENDPOINT_URL_DYNAMODB".into(), c.aws_endpoint.clone()),
            ("AWS_ENDPOINT_URL_LAMBDA".into(), c.aws_endpoint.clone()),
        ]);
        env
    }

    /// Puts an asynchronous invocation in the durable queue.
    async fn enqueue(self: &Arc<Self>, input: &InvokeInput, payload: &Bytes) -> Result<()> {
        let queued = QueuedInvocation {
            function: input.function_name.clone(),
            qualifier: input.qualifier.clone(),
            payload_base64: base64::engine::general_purpose::STANDARD.encode(payload),
            attempt: 0,
            request_id: invocation_id(input),
            enqueued_ms: Some(crate::logs::now_ms()),
        };
        let value = serde_json::to_vec(&queued)
            .map_err(|e| FunctionsError::Service(format!("encode queued invocation: {e}")))?;
        let key = queue_key(crate::logs::now_ms(), &queued.request_id, 0);
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || {
            let mut batch = WriteBatch::new();
            batch.put(key, value);
            store.commit(batch)
        })
        .await
        .map_err(|e| FunctionsError::Service(format!("enqueue task failed: {e}")))??;
        self.queue_wakeup.notify_one();
        Ok(())
    }

    /// The asynchronous-invocation worker: runs due invocations, retries failures twice with
    /// back-off, and keeps throttled ones queued. Runs until `stop` is cancelled.
    pub(crate) async fn run_queue(self: Arc<Self>) {
        let mut in_progress = std::collections::HashSet::<Vec<u8>>::new();
        let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
        loop {
            while let Ok(key) = done_rx.try_recv() {
                in_progress.remove(&key);
            }
            let now = crate::logs::now_ms();
            let due = self.due_invocations(now, &in_progress).await;
            let mut next_wake = Duration::from_secs(1);
            for (key, queued) in due {
                match queued {
                    Ok(q) => {
                        in_progress.insert(key.clone());
                        let this = Arc::clone(&self);
                        let done = done_tx.clone();
                        self.tasks.spawn(async move {
                            this.run_queued(&key, q).await;
                            let _ = done.send(key);
                            this.queue_wakeup.notify_one();
                        });
                    }
                    Err(at) => {
                        next_wake = next_wake.min(Duration::from_millis(at.saturating_sub(now)))
                    }
                }
            }
            tokio::select! {
                () = self.stop.cancelled() => return,
                () = self.queue_wakeup.notified() => {}
                () = tokio::time::sleep(next_wake) => {}
            }
        }
    }

    /// Queue entries due now (`Ok`) and the time of the next one not yet due (`Err`).
    async fn due_invocations(
        self: &Arc<Self>,
        now: u64,
        in_progress: &std::collections::HashSet<Vec<u8>>,
    ) -> Vec<(Vec<u8>, std::result::Result<QueuedInvocation, u64>)> {
        let store = Arc::clone(&self.store);
        let skip = in_progress.clone();
        let scanned = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            let result = store.scan(
                &KeyRange::prefix(QUEUE_PREFIX.as_bytes()),
                Direction::Forward,
                &mut |k, v| {
                    if skip.contains(k) {
                        return ControlFlow::Continue(());
                    }
                    let not_before = parse_not_before(k).unwrap_or(0);
                    if not_before > now {
                        out.push((k.to_vec(), Err(not_before)));
                        return ControlFlow::Break(());
                    }
                    match serde_json::from_slice::<QueuedInvocation>(v) {
                        Ok(q) => out.push((k.to_vec(), Ok(q))),
                        Err(e) => tracing::error!("unreadable queued invocation dropped: {e}"),
                    }
                    if out.len() >= 64 {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                },
            );
            if let Err(e) = result {
                tracing::error!("cannot read the invocation queue: {e}");
            }
            out
        })
        .await;
        scanned.unwrap_or_default()
    }

    async fn run_queued(self: &Arc<Self>, key: &[u8], queued: QueuedInvocation) {
        let payload = match base64::engine::general_purpose::STANDARD.decode(&queued.payload_base64)
        {
            Ok(p) => Bytes::from(p),
            Err(e) => {
                tracing::error!("queued invocation with a corrupt payload dropped: {e}");
                self.requeue(key, None).await;
                return;
            }
        };
        let settings = self.event_invoke_settings(&queued.function, queued.qualifier.as_deref());
        let age_ms = queued
            .enqueued_ms
            .map(|t| crate::logs::now_ms().saturating_sub(t));
        if age_ms.is_some_and(|age| age > settings.max_age_seconds() * 1000) {
            tracing::warn!(
                function = %queued.function,
                request_id = %queued.request_id,
                "asynchronous invocation older than its maximum event age; discarded"
            );
            self.deliver(&settings, &queued, &payload, None, "EventAgeExceeded")
                .await;
            self.requeue(key, None).await;
            return;
        }
        let outcome = match self
            .registry
            .resolve(&queued.function, queued.qualifier.as_deref())
        {
            Ok(resolved) => {
                self.run(&resolved, &queued.request_id, payload.clone(), None, false)
                    .await
            }
            Err(e) => Err(e),
        };
        let next = match outcome {
            Ok(out) if out.function_error.is_none() => {
                self.deliver(&settings, &queued, &payload, Some(&out), "Success")
                    .await;
                None
            }
            Ok(_) if queued.attempt < settings.retries() => {
                let delay = self.config.async_retry_delay * (queued.attempt + 1);
                let mut again = queued.clone();
                again.attempt += 1;
                Some((crate::logs::now_ms() + delay.as_millis() as u64, again))
            }
            Ok(out) => {
                tracing::warn!(
                    function = %queued.function,
                    request_id = %queued.request_id,
                    "asynchronous invocation failed after {} retries; discarded",
                    queued.attempt
                );
                self.deliver(&settings, &queued, &payload, Some(&out), "RetriesExhausted")
                    .await;
                None
            }
            Err(FunctionsError::TooManyRequests { .. }) => {
                Some((crate::logs::now_ms() + 1000, queued.clone()))
            }
            Err(FunctionsError::ResourceNotFound(m)) => {
                tracing::warn!("asynchronous invocation of a missing function discarded: {m}");
                None
            }
            Err(e) => {
                tracing::error!("asynchronous invocation failed: {e}");
                Some((crate::logs::now_ms() + 1000, queued.clone()))
            }
        };
        self.requeue(key, next).await;
    }

    /// Sends the invocation record of an asynchronous invocation's outcome to the destination
    /// its settings name for it: a function gets it as an asynchronous invocation; other
    /// services are not run by Nimbus, so their records are logged and dropped.
    async fn deliver(
        self: &Arc<Self>,
        settings: &crate::event_invoke::EventInvokeConfig,
        queued: &QueuedInvocation,
        payload: &Bytes,
        out: Option<&InvokeOutput>,
        condition: &str,
    ) {
        let Some(destination) = settings.destination(condition == "Success") else {
            return;
        };
        let as_json = |b: &[u8]| {
            serde_json::from_slice::<serde_json::Value>(b)
                .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(b).into()))
        };
        let qualifier = queued.qualifier.as_deref().unwrap_or(crate::model::LATEST);
        let mut record = serde_json::json!({
            "version": "1.0",
            "timestamp": crate::logs::iso_now(),
            "requestContext": {
                "requestId": queued.request_id,
                "functionArn": self.registry.arn(&queued.function, Some(qualifier)),
                "condition": condition,
                "approximateInvokeCount": queued.attempt + 1,
            },
            "requestPayload": as_json(payload),
        });
        if let Some(out) = out {
            let mut context = serde_json::json!({
                "statusCode": 200,
                "executedVersion": out.executed_version,
            });
            if let Some(e) = &out.function_error {
                context["functionError"] = serde_json::json!(e);
            }
            record["responseContext"] = context;
            record["responsePayload"] = as_json(&out.payload);
        }
        if destination.split(':').nth(2) != Some("lambda") {
            tracing::warn!(
                request_id = %queued.request_id,
                "destination {destination} is a service Nimbus does not run; invocation record dropped"
            );
            return;
        }
        let input = InvokeInput {
            function_name: destination.to_owned(),
            qualifier: None,
            invocation_type: InvocationType::Event,
            log_tail: false,
            payload: Bytes::from(record.to_string()),
            client_context: None,
            request_id: None,
        };
        if let Err(e) = Box::pin(self.invoke(input)).await {
            tracing::warn!(
                request_id = %queued.request_id,
                "invocation record not delivered to {destination}: {e}"
            );
        }
    }

    /// Removes `key` from the queue and, atomically, queues `next` if given.
    async fn requeue(self: &Arc<Self>, key: &[u8], next: Option<(u64, QueuedInvocation)>) {
        let store = Arc::clone(&self.store);
        let key = key.to_vec();
        let result = tokio::task::spawn_blocking(move || {
            let mut batch = WriteBatch::new();
            batch.delete(key);
            if let Some((at, q)) = next {
                let value = serde_json::to_vec(&q)
                    .map_err(|e| nimbus_store::Error::Backend(e.to_string()))?;
                batch.put(queue_key(at, &q.request_id, q.attempt), value);
            }
            store.commit(batch)
        })
        .await;
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!("cannot update the invocation queue: {e}"),
            Err(e) => tracing::error!("queue update task failed: {e}"),
        }
    }
}

/// Refuses a request payload over Lambda's limit for its invocation type.
pub fn check_payload_size(kind: InvocationType, len: usize) -> Result<()> {
    let limit = match kind {
        InvocationType::Event => MAX_ASYNC_PAYLOAD,
        _ => MAX_SYNC_PAYLOAD,
    };
    if len > limit {
        return Err(FunctionsError::RequestTooLarge(format!(
            "Request must be smaller than {limit} bytes for the InvokeFunction operation"
        )));
    }
    Ok(())
}

/// The JSON of a base64 client context, refused unless it is a JSON object.
fn decode_client_context(encoded: &str) -> Result<String> {
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|s| serde_json::from_str::<serde_json::Value>(s).is_ok_and(|v| v.is_object()))
        .ok_or_else(|| {
            FunctionsError::InvalidRequestContent(
                "Client context must be a valid Base64-encoded JSON object.".into(),
            )
        })
}

/// A fresh environment id, also the tail of its log stream's name.
pub(crate) fn new_env_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn iso_now() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    )
}

/// The last 4 KB of `log`, base64, cut at a line start where possible.
fn tail(log: &str) -> String {
    let bytes = log.as_bytes();
    let start = bytes.len().saturating_sub(TAIL_BYTES);
    let mut slice = &bytes[start..];
    if start > 0
        && let Some(nl) = slice.iter().position(|b| *b == b'\n')
    {
        slice = &slice[nl + 1..];
    }
    base64::engine::general_purpose::STANDARD.encode(slice)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_keys_sort_by_due_time() {
        let a = queue_key(5, "x", 0);
        let b = queue_key(300, "a", 1);
        assert!(a < b);
        assert_eq!(parse_not_before(&b), Some(300));
        let long = "line\n".repeat(2000);
        let t = base64::engine::general_purpose::STANDARD
            .decode(tail(&long))
            .expect("base64");
        assert!(t.len() <= TAIL_BYTES);
        assert!(t.starts_with(b"line\n"));
    }
}
