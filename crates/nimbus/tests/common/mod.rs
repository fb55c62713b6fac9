//! Shared helpers for integration tests that run the `nimbus` binary: start `nimbus serve` on
//! free ports, read its credentials, and build an AWS SDK DynamoDB client against it.

// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::Credentials;

/// A `nimbus` command with no `NIMBUS_*` settings inherited from the caller's environment.
pub fn nimbus() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nimbus"));
    for var in [
        "NIMBUS_CONFIG",
        "NIMBUS_DATA_DIR",
        "NIMBUS_LISTEN",
        "NIMBUS_GATEWAY",
        "NIMBUS_REGION",
        "NIMBUS_LOG",
        "NIMBUS_NO_AUTH",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// The key pair that `nimbus credentials --json` prints for `data_dir`.
pub fn credentials(data_dir: &Path) -> Credentials {
    let out = nimbus()
        .args(["credentials", "--json", "--data-dir"])
        .arg(data_dir)
        .output()
        .expect("run nimbus credentials");
    assert!(
        out.status.success(),
        "nimbus credentials: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("credentials json");
    let field = |name: &str| {
        json[name]
            .as_str()
            .unwrap_or_else(|| panic!("credentials json has no {name}: {json}"))
            .to_owned()
    };
    Credentials::new(
        field("access_key_id"),
        field("secret_access_key"),
        None,
        None,
        "nimbus-test",
    )
}

/// Where [`Server::start`] writes the log of a server on `data_dir`: beside the directory.
pub fn log_path(data_dir: &Path) -> std::path::PathBuf {
    let mut name = data_dir.as_os_str().to_owned();
    name.push(".serve.log");
    name.into()
}

/// Lines of the server log on `data_dir` that report an error or a panic.
pub fn error_lines(data_dir: &Path) -> Vec<String> {
    let log = std::fs::read_to_string(log_path(data_dir)).unwrap_or_default();
    log.lines()
        .filter(|l| l.contains("ERROR") || l.contains("panicked"))
        .map(str::to_owned)
        .collect()
}

/// A running `nimbus serve`. Dropping it kills the process if it is still running.
pub struct Server {
    pub child: Child,
    /// `host:port` of the AWS API endpoint.
    pub aws: String,
    stdout: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts `nimbus serve` on `data_dir` with free ports and waits for its banner. The
    /// server's log (stderr) is appended to [`log_path`]`(data_dir)`.
    pub fn start(data_dir: &Path) -> Server {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_path(data_dir))
            .expect("open server log");
        let mut child = nimbus()
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--gateway",
                "127.0.0.1:0",
                "--data-dir",
            ])
            .arg(data_dir)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("spawn nimbus serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut banner = String::new();
        let mut aws = None;
        for line in lines.by_ref() {
            let line = line.expect("banner line");
            banner.push_str(&line);
            banner.push('\n');
            if let Some(rest) = line.trim().strip_prefix("AWS API endpoint: http://") {
                aws = rest.split_whitespace().next().map(str::to_owned);
            }
            if line.contains("list-tables") {
                break;
            }
        }
        let Some(aws) = aws else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("banner names no AWS endpoint:\n{banner}");
        };
        // Keep draining stdout so that later output never blocks or breaks the server.
        let drain = std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
        Server {
            child,
            aws,
            stdout: Some(drain),
        }
    }

    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.aws)
    }

    /// SIGKILL: the process gets no chance to flush or clean up.
    pub fn kill9(mut self) {
        self.child.kill().expect("kill -9 nimbus");
        self.child.wait().expect("reap nimbus");
        if let Some(drain) = self.stdout.take() {
            let _ = drain.join();
        }
    }

    /// SIGTERM, then waits for the graceful exit and returns its status.
    pub fn terminate(mut self, within: Duration) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
        let deadline = Instant::now() + within;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(Instant::now() < deadline, "nimbus did not exit in time");
            // Synchronous helper called outside any async context.
            #[allow(clippy::disallowed_methods)]
            std::thread::sleep(Duration::from_millis(20));
        };
        if let Some(drain) = self.stdout.take() {
            let _ = drain.join();
        }
        status
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A DynamoDB client from the official AWS SDK, configured through `aws-config` with static
/// credentials and the server's endpoint. `retries` false turns the SDK's retries off, so that
/// each call is exactly one HTTP request.
pub async fn dynamodb_client(
    endpoint_url: &str,
    credentials: Credentials,
    retries: bool,
) -> aws_sdk_dynamodb::Client {
    let retry = if retries {
        RetryConfig::standard()
    } else {
        RetryConfig::disabled()
    };
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(credentials)
        .endpoint_url(endpoint_url)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(retry)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(10))
                .build(),
        )
        .load()
        .await;
    aws_sdk_dynamodb::Client::new(&config)
}
