//! Execution environments: one runtime process with its own Runtime API endpoint, cgroup,
//! `/tmp`, log stream and Lambda environment variables, running one invocation at a time; a
//! function's layers appear at `/opt` for its process only (a private mount namespace, set up
//! only when the function has layers).
//!
//! [`Environment::start`] is the one place where Nimbus creates an environment; the process
//! itself is started by `nimbus-sandbox`. Phases follow Lambda: init (until the runtime first
//! asks for an invocation, bounded by [`INIT_TIMEOUT`]), invoke (bounded by the function's
//! timeout: on expiry the environment is killed and never reused), shutdown.

use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use nimbus_sandbox::mounts::{BindMount, Mounts};
use nimbus_sandbox::process::{Cgroup, Limits, SpawnSpec};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::{oneshot, watch};
use tokio_util::task::TaskTracker;

use crate::logs::{LogStream, now_ms};
use crate::model::FunctionConfig;
use crate::runtime_api::{InitState, Invocation, Outcome, RuntimeApi};
use crate::runtimes::Launch;

/// Most output kept for `LogType: Tail`, which returns the last 4 KB.
const CAPTURE_LIMIT: usize = 64 * 1024;

/// Lambda's limit on the init phase.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything needed to start an environment.
#[derive(Debug, Clone)]
pub struct EnvironmentSpec {
    pub id: String,
    pub config: FunctionConfig,
    pub task_root: PathBuf,
    /// Private scratch space, the environment's `/tmp`.
    pub tmp_dir: PathBuf,
    pub launch: Launch,
    /// The function's layers, extracted in order into one directory, which the process sees
    /// at `/opt` (read-only, in its own mount namespace). `None`: no layers, no namespace.
    pub layers_dir: Option<PathBuf>,
    /// A Node.js function's layer packages and where ES modules find them
    /// ([`crate::runtimes::node_layer_modules`]), bind-mounted in the same namespace.
    pub node_layer_modules: Option<(PathBuf, PathBuf)>,
    /// Variables Nimbus sets for every function (region, endpoint, credentials, `PATH`).
    pub base_env: Vec<(String, String)>,
    /// `LoggingConfig`'s format and application log level, when set.
    pub log_format: Option<String>,
    pub log_level: Option<String>,
    pub use_cgroups: bool,
}

/// Lambda's `INIT_START` line: the runtime version (`python:3.12.v1`, `nodejs:20.v1`,
/// `provided:al2023.v1`; Nimbus runs the host's interpreter, so the version number is always 1)
/// and a runtime version ARN derived from it.
fn init_start_line(config: &FunctionConfig) -> String {
    let runtime = &config.runtime;
    let (family, version) = if let Some(v) = runtime.strip_prefix("python") {
        ("python", v.to_owned())
    } else if let Some(v) = runtime.strip_prefix("nodejs") {
        ("nodejs", v.trim_end_matches(".x").to_owned())
    } else if let Some(v) = runtime.strip_prefix("provided.") {
        ("provided", v.to_owned())
    } else {
        (runtime.as_str(), String::new())
    };
    let name = format!("{family}:{version}.v1");
    let region = config.function_arn.split(':').nth(3).unwrap_or_default();
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(name.as_bytes()));
    format!(
        "INIT_START Runtime Version: {name}\tRuntime Version ARN: arn:aws:lambda:{region}::runtime:{digest}"
    )
}

/// Why an environment did not become ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitFailure {
    /// The runtime reported `/init/error` with this body.
    Reported(Bytes),
    /// The process ended during init.
    Exited(String),
    /// Init took longer than [`INIT_TIMEOUT`].
    TimedOut,
    /// The process could not be started.
    Spawn(String),
}

/// An environment that did not start: why, after how long, and what it wrote meanwhile.
#[derive(Debug, Clone)]
pub struct StartFailure {
    pub failure: InitFailure,
    pub took: Duration,
    /// The runtime's output during init.
    pub output: String,
    /// The log stream the environment wrote to, if it got that far.
    pub log: Option<LogStream>,
}

/// How one invocation in an environment ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvokeResult {
    Completed(Outcome),
    TimedOut,
}

/// A running environment.
pub struct Environment {
    pub id: String,
    pub config: FunctionConfig,
    pub log: LogStream,
    /// How long init took.
    pub init_duration: Duration,
    /// When the process started: an environment is not reused past
    /// [`crate::MAX_ENVIRONMENT_AGE`], before its credentials expire.
    started: std::time::Instant,
    api: RuntimeApi,
    pid: u32,
    cgroup: Option<Arc<Cgroup>>,
    alive: Arc<AtomicBool>,
    exited: watch::Receiver<Option<String>>,
    /// Output captured for `LogType: Tail` while an invocation runs.
    capture: Arc<Mutex<Capture>>,
    /// The output pipes, watched so that [`Self::settle_output`] knows when all that was
    /// written has been read.
    outputs: Vec<Arc<OutputPipe>>,
}

/// The `LogType: Tail` capture.
#[derive(Debug)]
struct Capture {
    buf: Option<String>,
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Environment")
            .field("id", &self.id)
            .field("function", &self.config.function_name)
            .field("version", &self.config.version)
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

/// The exit reason of a runtime that the kernel killed at its memory limit.
pub(crate) const OOM_KILLED: &str = "signal: killed (memory limit exceeded)";

fn describe_exit(status: std::io::Result<ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(code), _) => format!("exit status {code}"),
            (None, Some(9)) => "signal: killed".to_owned(),
            (None, Some(sig)) => format!("signal: {sig}"),
            (None, None) => "unknown status".to_owned(),
        },
        Err(e) => format!("wait failed: {e}"),
    }
}

impl Environment {
    /// Starts the runtime and waits for the end of its init phase.
    pub async fn start(
        spec: EnvironmentSpec,
        log: LogStream,
        tasks: &TaskTracker,
    ) -> Result<Environment, StartFailure> {
        let started = Instant::now();
        let fail = |f: InitFailure| StartFailure {
            failure: f,
            took: started.elapsed(),
            output: String::new(),
            log: Some(log.clone()),
        };
        let api = RuntimeApi::start(tasks)
            .await
            .map_err(|e| fail(InitFailure::Spawn(format!("runtime API: {e}"))))?;
        if let Err(e) = std::fs::create_dir_all(&spec.tmp_dir) {
            return Err(fail(InitFailure::Spawn(format!("create /tmp: {e}"))));
        }
        let cgroup = if spec.use_cgroups {
            let memory = u64::from(spec.config.memory_size) << 20;
            let limits = Limits {
                memory_bytes: memory,
                cpu_weight_mb: spec.config.memory_size,
                pids: 1024,
            };
            match Cgroup::create(&format!("env-{}", spec.id), &limits) {
                Ok(group) => Some(Arc::new(group)),
                Err(e) => return Err(fail(InitFailure::Spawn(e.to_string()))),
            }
        } else {
            None
        };
        let env = lambda_env(&spec, &api.address(), &log.name);
        let mut mounts = Mounts::default();
        if let Some(layers) = &spec.layers_dir {
            mounts.binds.push(BindMount {
                source: layers.clone(),
                target: crate::runtimes::LAYERS_MOUNT.into(),
                read_only: true,
            });
        }
        if let Some((source, target)) = &spec.node_layer_modules {
            mounts.binds.push(BindMount {
                source: source.clone(),
                target: target.clone(),
                read_only: true,
            });
        }
        let (program, args) = crate::runtimes::command(
            &spec.launch,
            &spec.config.runtime,
            spec.config
                .environment
                .get(crate::runtimes::EXEC_WRAPPER)
                .map(String::as_str),
            &spec.task_root,
        );
        let process = SpawnSpec {
            program,
            args: args.into_iter().map(Into::into).collect(),
            env,
            cwd: spec.task_root.clone(),
            mounts,
        };
        let mut child = match nimbus_sandbox::process::spawn(&process, cgroup.as_deref()) {
            Ok(child) => child,
            Err(e) => {
                if let Some(group) = &cgroup {
                    group.remove();
                }
                return Err(fail(InitFailure::Spawn(e.to_string())));
            }
        };
        let pid = child.id().unwrap_or(0);
        // Init output is kept for the first invocation's `LogType: Tail` (or its init error).
        let capture = Arc::new(Mutex::new(Capture {
            buf: Some(String::new()),
        }));
        // As on Lambda, an environment's log starts with the runtime version it runs.
        log.write(&init_start_line(&spec.config));
        // A substitute interpreter is named in the init log (and the first `LogType: Tail`).
        if let Some(note) = &spec.launch.substitute {
            let line = format!("NIMBUS: {note}");
            log.write(&line);
            append_capture(&capture, &line);
        }
        let mut outputs = Vec::with_capacity(2);
        if let Some(out) = child.stdout.take() {
            outputs.extend(OutputPipe::follow(out, tasks, &log, &capture));
        }
        if let Some(err) = child.stderr.take() {
            outputs.extend(OutputPipe::follow(err, tasks, &log, &capture));
        }
        let (exit_tx, exited) = watch::channel(None);
        let alive = Arc::new(AtomicBool::new(true));
        {
            let alive = Arc::clone(&alive);
            let cgroup = cgroup.clone();
            let tmp = spec.tmp_dir.clone();
            tasks.spawn(async move {
                let status = describe_exit(child.wait().await);
                alive.store(false, Ordering::SeqCst);
                if let Some(group) = &cgroup {
                    let reason = if group.oom_killed() {
                        OOM_KILLED.to_owned()
                    } else {
                        status.clone()
                    };
                    group.kill_all();
                    group.remove();
                    let _ = exit_tx.send(Some(reason));
                } else {
                    let _ = exit_tx.send(Some(status));
                }
                let _ = tokio::fs::remove_dir_all(&tmp).await;
            });
        }
        let mut environment = Environment {
            id: spec.id,
            config: spec.config,
            log,
            init_duration: Duration::ZERO,
            started,
            api,
            pid,
            cgroup,
            alive,
            exited,
            capture,
            outputs,
        };
        match environment.wait_init().await {
            Ok(()) => {
                environment.init_duration = started.elapsed();
                Ok(environment)
            }
            Err(failure) => {
                environment.settle_output().await;
                environment.kill();
                Err(StartFailure {
                    failure,
                    took: started.elapsed(),
                    output: environment.take_capture(),
                    log: Some(environment.log.clone()),
                })
            }
        }
    }

    async fn wait_init(&self) -> Result<(), InitFailure> {
        let mut init = self.api.init_state();
        let mut exited = self.exited.clone();
        let wait = async {
            loop {
                let state = init.borrow_and_update().clone();
                match state {
                    InitState::Ready => return Ok(()),
                    InitState::Failed(body) => return Err(InitFailure::Reported(body)),
                    InitState::Starting => {}
                }
                let status = exited.borrow_and_update().clone();
                if let Some(status) = status {
                    // A runtime that reported its init error exits right after: prefer the report.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    let state = init.borrow().clone();
                    if let InitState::Failed(body) = state {
                        return Err(InitFailure::Reported(body));
                    }
                    return Err(InitFailure::Exited(status));
                }
                tokio::select! {
                    _ = init.changed() => {}
                    _ = exited.changed() => {}
                }
            }
        };
        tokio::time::timeout(INIT_TIMEOUT, wait)
            .await
            .unwrap_or(Err(InitFailure::TimedOut))
    }

    /// Whether the process is still running.
    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    /// Whether the environment may take another invocation: alive, and younger than
    /// [`crate::MAX_ENVIRONMENT_AGE`].
    pub fn is_reusable(&self) -> bool {
        self.is_alive() && self.started.elapsed() < crate::MAX_ENVIRONMENT_AGE
    }

    /// Runs one invocation; on timeout the environment is killed.
    pub async fn invoke(
        &self,
        request_id: &str,
        payload: Bytes,
        invoked_arn: &str,
        client_context: Option<String>,
    ) -> InvokeResult {
        let timeout = Duration::from_secs(u64::from(self.config.timeout));
        let (done, result) = oneshot::channel();
        let invocation = Invocation {
            request_id: request_id.to_owned(),
            payload,
            deadline_ms: now_ms() + timeout.as_millis() as u64,
            invoked_arn: invoked_arn.to_owned(),
            trace_id: format!(
                "Root=1-{:08x}-{};Sampled=0",
                now_ms() / 1000,
                &uuid::Uuid::new_v4().simple().to_string()[..24]
            ),
            client_context,
            done,
        };
        if let Err(invocation) = self.api.submit(invocation).await {
            let _ = invocation.done.send(Outcome::Exited(self.exit_reason()));
        }
        let mut exited = self.exited.clone();
        let outcome = tokio::select! {
            r = result => r.unwrap_or_else(|_| Outcome::Exited(self.exit_reason())),
            _ = exited.wait_for(Option::is_some) => {
                // The process is gone: give the API a moment to deliver a report sent just before.
                Outcome::Exited(self.exit_reason())
            }
            _ = tokio::time::sleep(timeout) => {
                self.kill();
                return InvokeResult::TimedOut;
            }
        };
        if matches!(outcome, Outcome::Exited(_)) {
            self.kill();
        }
        InvokeResult::Completed(outcome)
    }

    /// Starts capturing output for `LogType: Tail`.
    /// Starts capturing output for `LogType: Tail`; a new environment's init output, captured
    /// from its start, is kept.
    pub fn begin_capture(&self) {
        if let Ok(mut c) = self.capture.lock() {
            c.buf.get_or_insert_with(String::new);
        }
    }

    /// Waits until everything the runtime wrote to its stdout and stderr so far has been read
    /// into the log and the capture (at most 100 ms), so that lines written just before the
    /// response reach the log before `END`: output travels through pipes read by other tasks,
    /// and the response can overtake it. The shims write unbuffered (Node.js writes to pipes
    /// synchronously, Python runs with `PYTHONUNBUFFERED`), so a line printed before the
    /// response is in its pipe by the time the response arrives.
    pub async fn settle_output(&self) {
        let started = Instant::now();
        for round in 0u32.. {
            if self.outputs.iter().all(|pipe| pipe.drained())
                || started.elapsed() >= Duration::from_millis(100)
            {
                return;
            }
            // Let the forwarding tasks run; then wait on the timer if they are still busy.
            if round < 8 {
                tokio::task::yield_now().await;
            } else {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    }

    /// The output captured since [`Self::begin_capture`], ending the capture.
    pub fn take_capture(&self) -> String {
        self.capture
            .lock()
            .ok()
            .and_then(|mut c| c.buf.take())
            .unwrap_or_default()
    }

    /// Writes a platform line (START, END, REPORT) to the log stream and the capture.
    pub fn log_line(&self, line: &str) {
        self.log.write(line);
        append_capture(&self.capture, line);
    }

    fn exit_reason(&self) -> String {
        self.exited
            .borrow()
            .clone()
            .unwrap_or_else(|| "the runtime stopped answering".to_owned())
    }

    /// The highest memory use of the environment so far, in MiB. One killed at its memory
    /// limit used all of it, whatever the cgroup's peak reads after the kill.
    pub fn max_memory_used_mb(&self) -> u32 {
        if self.exited.borrow().as_deref() == Some(OOM_KILLED) {
            return self.config.memory_size;
        }
        self.cgroup
            .as_ref()
            .and_then(|g| g.memory_peak_bytes())
            .or_else(|| vm_hwm_bytes(self.pid))
            .map(|b| b.div_ceil(1 << 20) as u32)
            .unwrap_or(0)
    }

    /// Stops the environment now.
    pub fn kill(&self) {
        self.alive.store(false, Ordering::SeqCst);
        if self.pid != 0 {
            nimbus_sandbox::process::kill_group(self.pid);
        }
        if let Some(group) = &self.cgroup {
            group.kill_all();
        }
        self.api.fail_all("the environment was stopped");
        self.api.stop();
    }
}

impl Drop for Environment {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Peak resident memory of one process, where there is no cgroup to ask.
fn vm_hwm_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The environment variables of the runtime process, as Lambda documents them; the
/// function's own variables come last and cannot override the reserved ones.
fn lambda_env(spec: &EnvironmentSpec, api: &str, stream: &str) -> Vec<(String, String)> {
    let c = &spec.config;
    let mut env: Vec<(String, String)> = spec.base_env.clone();
    let mut set = |k: &str, v: String| env.push((k.to_owned(), v));
    set("AWS_LAMBDA_RUNTIME_API", api.to_owned());
    set("_HANDLER", c.handler.clone());
    set("LAMBDA_TASK_ROOT", spec.task_root.display().to_string());
    set("LAMBDA_RUNTIME_DIR", spec.task_root.display().to_string());
    set("AWS_LAMBDA_FUNCTION_NAME", c.function_name.clone());
    set("AWS_LAMBDA_FUNCTION_VERSION", c.version.clone());
    set("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", c.memory_size.to_string());
    set("AWS_LAMBDA_LOG_GROUP_NAME", c.log_group.clone());
    set("AWS_LAMBDA_LOG_STREAM_NAME", stream.to_owned());
    set("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned());
    set("AWS_EXECUTION_ENV", format!("AWS_Lambda_{}", c.runtime));
    set("TMPDIR", spec.tmp_dir.display().to_string());
    set("HOME", spec.tmp_dir.display().to_string());
    set("TZ", ":UTC".to_owned());
    set("LANG", "en_US.UTF-8".to_owned());
    if let Some(format) = &spec.log_format {
        set("AWS_LAMBDA_LOG_FORMAT", format.clone());
    }
    if let Some(level) = &spec.log_level {
        set("AWS_LAMBDA_LOG_LEVEL", level.clone());
    }
    env.extend(spec.launch.env.iter().cloned());
    // What Nimbus sets cannot be overridden, except the library path, which Lambda leaves
    // to the function (it sets it, but does not reserve it).
    let reserved: Vec<String> = env
        .iter()
        .map(|(k, _)| k.clone())
        .filter(|k| k != "LD_LIBRARY_PATH")
        .collect();
    for (k, v) in &c.environment {
        if !reserved.contains(k) {
            env.push((k.clone(), v.clone()));
        }
    }
    env
}

/// Copies a pipe of the runtime into its log stream, line by line.
async fn forward_output(
    pipe: impl AsyncRead + Unpin,
    log: LogStream,
    capture: Arc<Mutex<Capture>>,
) {
    let mut lines = BufReader::new(pipe).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        log.write(&line);
        append_capture(&capture, &line);
    }
}

/// One output pipe of an environment, as seen by [`Environment::settle_output`]: whether the
/// forwarding task has read everything written to it so far.
///
/// Written by hand because it needs the reads of one particular task: a count of the reads
/// the task started, the count at which a read last found the pipe empty, and the number of
/// bytes waiting in the pipe (`FIONREAD`, on a duplicate of the read end so that the number
/// always names this pipe).
struct OutputPipe {
    fd: OwnedFd,
    reads: AtomicU64,
    idle_at: AtomicU64,
    closed: AtomicBool,
}

impl OutputPipe {
    /// Starts the task that forwards `pipe` to `log` and `capture`, and returns the pipe's
    /// watch; `None` if the descriptor cannot be duplicated (the output is then forwarded, and
    /// never waited for).
    fn follow<R: AsyncRead + AsFd + Unpin + Send + 'static>(
        pipe: R,
        tasks: &TaskTracker,
        log: &LogStream,
        capture: &Arc<Mutex<Capture>>,
    ) -> Option<Arc<OutputPipe>> {
        let watch = pipe.as_fd().try_clone_to_owned().ok().map(|fd| {
            Arc::new(OutputPipe {
                fd,
                reads: AtomicU64::new(0),
                idle_at: AtomicU64::new(0),
                closed: AtomicBool::new(false),
            })
        });
        let watched = Watched {
            inner: pipe,
            pipe: watch.clone(),
        };
        tasks.spawn(forward_output(watched, log.clone(), Arc::clone(capture)));
        watch
    }

    /// True when the pipe is closed, or empty while its task waits in a read (so every byte
    /// read before has been handled: the task reads again only once it has).
    fn drained(&self) -> bool {
        if self.closed.load(Ordering::SeqCst) {
            return true;
        }
        let reads = self.reads.load(Ordering::SeqCst);
        let idle_at = self.idle_at.load(Ordering::SeqCst);
        let waiting = rustix::io::ioctl_fionread(&self.fd).unwrap_or(0);
        idle_at == reads && waiting == 0 && self.reads.load(Ordering::SeqCst) == reads
    }
}

/// A pipe whose reads are counted for its [`OutputPipe`].
struct Watched<R> {
    inner: R,
    pipe: Option<Arc<OutputPipe>>,
}

impl<R: AsyncRead + Unpin> AsyncRead for Watched<R> {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        let this = self.get_mut();
        let Some(pipe) = &this.pipe else {
            return std::pin::Pin::new(&mut this.inner).poll_read(cx, buf);
        };
        let read = pipe.reads.fetch_add(1, Ordering::SeqCst) + 1;
        let before = buf.filled().len();
        let polled = std::pin::Pin::new(&mut this.inner).poll_read(cx, buf);
        match &polled {
            Poll::Pending => pipe.idle_at.store(read, Ordering::SeqCst),
            Poll::Ready(Ok(())) if buf.filled().len() > before => {}
            // End of file or an error: nothing more will come.
            Poll::Ready(_) => pipe.closed.store(true, Ordering::SeqCst),
        }
        polled
    }
}

/// Adds a line to the `LogType: Tail` capture, if one is running.
fn append_capture(capture: &Mutex<Capture>, line: &str) {
    if let Ok(mut c) = capture.lock()
        && let Some(buf) = c.buf.as_mut()
    {
        buf.push_str(line);
        buf.push('\n');
        // Only the tail is ever returned: keep the buffer bounded.
        if buf.len() > CAPTURE_LIMIT {
            let mut cut = buf.len() - CAPTURE_LIMIT / 2;
            while !buf.is_char_boundary(cut) {
                cut += 1;
            }
            buf.drain(..cut);
        }
    }
}
