//! The command line. Every command that needs to find the server takes the same
//! [`ServerArgs`]; values come from flags, then `NIMBUS_*` environment variables, then the TOML
//! config file, then defaults (see [`crate::config`]).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "nimbus",
    version,
    about = "API Gateway + Lambda + DynamoDB in one binary, on your own machine.",
    long_about = "API Gateway + Lambda + DynamoDB in one binary, on your own machine.\n\n\
                  Start the server with `nimbus serve`, then point the aws CLI or any AWS SDK at \
                  the printed endpoint with the printed credentials."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start Nimbus: the AWS API endpoint and the gateway.
    #[command(
        after_help = "Examples:\n  nimbus serve\n  nimbus serve --data-dir /var/lib/nimbus --listen 0.0.0.0:4566\n  NIMBUS_REGION=eu-west-1 nimbus serve --config nimbus.toml"
    )]
    Serve(ServeArgs),
    /// Print the access key pair that AWS clients use with this server.
    #[command(
        after_help = "Examples:\n  nimbus credentials\n  eval \"$(nimbus credentials --env)\"\n  nimbus credentials --json"
    )]
    Credentials(CredentialsArgs),
    /// Check what this machine allows: namespaces, cgroups, seccomp, interpreters, ports, data dir.
    Doctor(DoctorArgs),
    /// List functions, or show one function's configuration.
    #[command(
        after_help = "Examples:\n  nimbus functions\n  nimbus functions get my-function\n  nimbus functions list --json"
    )]
    Functions(crate::functions::FunctionsArgs),
    /// List tables, describe one, scan its items, put an item, or load items from a JSON file.
    #[command(
        after_help = "Examples:\n  nimbus tables\n  nimbus tables describe items\n  nimbus tables scan items\n  nimbus tables put items --item '{\"id\": \"42\", \"name\": \"Towel\"}'\n  nimbus tables load items seed.json"
    )]
    Tables(crate::tables::TablesArgs),
    /// List HTTP APIs (API Gateway v2), or show one API with its routes.
    #[command(
        after_help = "Examples:\n  nimbus apis\n  nimbus apis get a1b2c3d4e5\n  nimbus apis list --json"
    )]
    Apis(crate::apis::ApisArgs),
    /// Print metered usage since the server started: request units per table, invocations,
    /// billed milliseconds and GB-seconds per function.
    #[command(after_help = "Examples:\n  nimbus usage\n  nimbus usage --json")]
    Usage(crate::usage::UsageArgs),
    /// List runtimes and their interpreters, or install the AWS SDKs functions import.
    #[command(
        after_help = "Examples:\n  nimbus runtimes\n  nimbus runtimes install\n  nimbus runtimes list --json"
    )]
    Runtimes(crate::runtimes::RuntimesArgs),
    /// Create a SAM project: an HTTP API, a function and a table, ready for `nimbus deploy`.
    #[command(
        after_help = "Examples:\n  nimbus init my-app\n  nimbus init my-app --runtime nodejs20.x\n  nimbus init . --name shop"
    )]
    Init(crate::init::InitArgs),
    /// Invoke a function and print what it returned.
    #[command(
        after_help = "Examples:\n  nimbus invoke my-function --payload '{\"id\": 42}'\n  nimbus invoke my-function --payload @event.json --log\n  nimbus invoke my-function --qualifier live --async"
    )]
    Invoke(InvokeArgs),
    /// Print a function's logs, optionally following new lines.
    #[command(
        after_help = "Examples:\n  nimbus logs my-function\n  nimbus logs my-function --since 1h --filter ERROR\n  nimbus logs my-function --follow"
    )]
    Logs(LogsArgs),
    /// Deploy a SAM template as a stack: create what is new, update what changed, delete what
    /// the template no longer has.
    #[command(
        after_help = "Examples:\n  nimbus deploy\n  nimbus deploy app/template.yaml --stack-name shop\n  nimbus deploy --parameter-overrides Stage=prod TableName=items\n  nimbus deploy --watch"
    )]
    Deploy(DeployArgs),
    /// Build a SAM template's functions (pip, npm, esbuild, make) into `.nimbus/build/` next to
    /// the template, without deploying.
    #[command(
        after_help = "Examples:\n  nimbus build\n  nimbus build app/template.yaml\n  nimbus build --json"
    )]
    Build(BuildArgs),
    /// List the deployed stacks and their resources.
    Stacks(StacksArgs),
    /// Delete a stack and every resource it created.
    #[command(after_help = "Examples:\n  nimbus delete-stack shop")]
    DeleteStack(DeleteStackArgs),
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// The SAM template (or its folder) [default: ./template.yaml]
    pub template: Option<PathBuf>,
    /// Stack name [default: the template's folder name]
    #[arg(long)]
    pub stack_name: Option<String>,
    /// Parameter values: KEY=VALUE ...
    #[arg(long, num_args = 1..)]
    pub parameter_overrides: Vec<String>,
    /// After deploying, watch the CodeUri folders and update a function's code when it changes.
    #[arg(long)]
    pub watch: bool,
    /// Refuse templates with resources Nimbus does not deploy (S3, SQS, ...) instead of
    /// listing them and deploying the rest.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The SAM template (or its folder) [default: ./template.yaml]
    pub template: Option<PathBuf>,
    /// Parameter values: KEY=VALUE ...
    #[arg(long, num_args = 1..)]
    pub parameter_overrides: Vec<String>,
    /// Print `{"build_dir": ..., "functions": [...]}`; progress goes to stderr.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StacksArgs {
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct DeleteStackArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// The stack to delete.
    pub stack_name: String,
}

#[derive(Debug, Args)]
pub struct InvokeArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Function name or ARN.
    pub function: String,
    /// The event: JSON text, or @file to read it from a file [default: {}]
    #[arg(long)]
    pub payload: Option<String>,
    /// Version or alias to invoke.
    #[arg(long)]
    pub qualifier: Option<String>,
    /// Also print the invocation's log (the last 4 KB).
    #[arg(long)]
    pub log: bool,
    /// Queue the invocation (InvocationType Event) instead of waiting for its result.
    #[arg(long = "async")]
    pub asynchronous: bool,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Function name.
    pub function: String,
    /// Keep printing new lines as they arrive.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// How far back to start: e.g. 30s, 10m, 2h, 1d [default: 10m]
    #[arg(long, default_value = "10m")]
    pub since: String,
    /// Only lines matching this filter pattern (terms, "phrases", -excluded, ?either).
    #[arg(long)]
    pub filter: Option<String>,
    /// Print JSON lines instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Where the server keeps its data and listens.
#[derive(Debug, Clone, Default, Args)]
pub struct ServerArgs {
    /// TOML config file (keys: data_dir, listen, gateway, region, log_level, no_auth, [[credentials]]).
    #[arg(long, env = "NIMBUS_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Data directory [default: ./.nimbus]
    #[arg(long, env = "NIMBUS_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Address of the AWS API endpoint [default: 127.0.0.1:4566]
    #[arg(long, env = "NIMBUS_LISTEN", global = true)]
    pub listen: Option<SocketAddr>,
    /// Address of the gateway, the public HTTP port [default: 127.0.0.1:8080]
    #[arg(long, env = "NIMBUS_GATEWAY", global = true)]
    pub gateway: Option<SocketAddr>,
    /// AWS region this server answers for [default: us-east-1]
    #[arg(long, env = "NIMBUS_REGION", global = true)]
    pub region: Option<String>,
    /// Log level or filter, e.g. `info`, `debug`, `nimbus_aws=debug` [default: info]
    #[arg(long, env = "NIMBUS_LOG", global = true)]
    pub log_level: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Accept AWS requests without verifying their signatures. Development only.
    #[arg(long, env = "NIMBUS_NO_AUTH")]
    pub no_auth: bool,
    #[command(flatten)]
    pub functions: FunctionArgs,
}

/// Settings of function execution.
#[derive(Debug, Clone, Default, Args)]
pub struct FunctionArgs {
    /// Seconds an idle execution environment is kept warm [default: 300]
    #[arg(long, env = "NIMBUS_IDLE_TIMEOUT")]
    pub idle_timeout: Option<u64>,
    /// Execution environments across all functions (the account's concurrency) [default: 64]
    #[arg(long, env = "NIMBUS_MAX_ENVIRONMENTS")]
    pub max_environments: Option<u32>,
    /// Seconds before the first retry of a failed asynchronous invocation; the second waits
    /// twice as long [default: 60, as Lambda]
    #[arg(long, env = "NIMBUS_ASYNC_RETRY_DELAY")]
    pub async_retry_delay: Option<u64>,
    /// Days a function's log stream is kept after its last line [default: 30]
    #[arg(long, env = "NIMBUS_LOG_RETENTION_DAYS")]
    pub log_retention_days: Option<u64>,
}

#[derive(Debug, Args)]
pub struct CredentialsArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Print `{"access_key_id": ..., "secret_access_key": ...}`.
    #[arg(long, conflicts_with = "env")]
    pub json: bool,
    /// Print `export AWS_...=...` lines for a shell.
    #[arg(long)]
    pub env: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub server: ServerArgs,
}
