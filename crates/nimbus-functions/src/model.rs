//! The function model shared by the control plane (registry, versions, aliases) and the data
//! plane (scheduler, environments): what an environment needs to know about the code it runs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The version name of the unpublished, editable function.
pub const LATEST: &str = "$LATEST";

/// One function version's configuration, as stored. `$LATEST` is a version too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionConfig {
    pub function_name: String,
    /// `arn:aws:lambda:{region}:{account}:function:{name}` (unqualified).
    pub function_arn: String,
    /// `$LATEST` or a published version number.
    pub version: String,
    /// `python3.12`, `nodejs20.x`, `provided.al2023`, ...
    pub runtime: String,
    /// `file.function` for the managed runtimes; free-form for `provided.*`.
    pub handler: String,
    /// MiB, 128..=10240.
    pub memory_size: u32,
    /// Seconds, 1..=900.
    pub timeout: u32,
    /// MiB of `/tmp`, 512..=10240.
    pub ephemeral_storage: u32,
    pub environment: BTreeMap<String, String>,
    /// Hex SHA-256 of the deployment package; the key of its blob and of its extracted copy.
    pub code_sha256_hex: String,
    pub code_size: u64,
    /// Changes whenever code or configuration changes; environments of an older revision are
    /// drained.
    pub revision_id: String,
    pub description: String,
    pub role: String,
    pub architectures: Vec<String>,
    /// ISO-8601 with milliseconds and offset, as Lambda reports `LastModified`.
    pub last_modified: String,
    /// Log group, `/aws/lambda/{name}`.
    pub log_group: String,
    /// Layers, in the order they are extracted into `/opt` (later ones overwrite earlier).
    #[serde(default)]
    pub layers: Vec<LayerRef>,
}

/// One layer version a function uses. The function keeps it even if the layer version is
/// deleted later, as on Lambda.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRef {
    /// `arn:aws:lambda:{region}:{account}:layer:{name}:{version}`.
    pub arn: String,
    /// Size of the layer's zip.
    pub code_size: u64,
    /// Hex SHA-256 of the zip: the key of its blob.
    pub sha256_hex: String,
    /// Total size of its files, counted against the function's 250 MB.
    #[serde(default)]
    pub unzipped_size: u64,
}

/// What a name and qualifier resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedFunction {
    pub config: FunctionConfig,
    /// The ARN the caller invoked, qualified when it was (`...:function:f:alias`).
    pub invoked_arn: String,
    /// The function's reserved concurrency, if set (shared by all its versions).
    pub reserved_concurrency: Option<u32>,
    /// `LoggingConfig`: the log format (`Text`, `JSON`) and the application log level, which
    /// the runtime reads from `AWS_LAMBDA_LOG_FORMAT` and `AWS_LAMBDA_LOG_LEVEL`.
    pub log_format: Option<String>,
    pub log_level: Option<String>,
}

/// How an invocation is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationType {
    RequestResponse,
    Event,
    DryRun,
}

/// One invocation request.
#[derive(Debug, Clone)]
pub struct InvokeInput {
    pub function_name: String,
    pub qualifier: Option<String>,
    pub invocation_type: InvocationType,
    /// `LogType: Tail`: return the last 4 KB of the log.
    pub log_tail: bool,
    pub payload: bytes::Bytes,
    /// Base64 JSON client context (`X-Amz-Client-Context`); the runtime receives it decoded.
    pub client_context: Option<String>,
    /// The id of the API request that asked for the invocation: as on Lambda, the invocation
    /// (its context, its log lines, every retry of an Event) carries the same id that the
    /// caller got in `x-amzn-RequestId`. `None`: a new one.
    pub request_id: Option<String>,
}

/// The result of an invocation, as the Invoke API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvokeOutput {
    /// 200 (RequestResponse), 202 (Event), 204 (DryRun).
    pub status_code: u16,
    /// `Unhandled` when the function failed (`X-Amz-Function-Error`).
    pub function_error: Option<String>,
    /// Base64 of the last 4 KB of the log, when asked (`X-Amz-Log-Result`).
    pub log_result: Option<String>,
    pub executed_version: String,
    pub payload: bytes::Bytes,
}
