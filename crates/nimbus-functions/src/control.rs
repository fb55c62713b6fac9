//! The Lambda control plane: creating, configuring, publishing, aliasing, tagging and deleting
//! functions, with Lambda's validation rules and messages. Each operation is a blocking method
//! of [`Functions`] (storage calls block); [`Functions::execute`] runs a parsed [`ControlOp`].
//!
//! Concurrency accounting follows AWS' documented defaults rather than the local environment
//! limit: the account may run [`ACCOUNT_CONCURRENCY`] executions and at least
//! [`MIN_UNRESERVED_CONCURRENCY`] of them must stay unreserved. Reserved concurrency is a
//! per-function ceiling; the data plane's `max_environments` is the machine's own ceiling on
//! top of it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use crate::Functions;
use crate::api::{self, ControlOp, FunctionConfiguration, Page};
use crate::code;
use crate::error::{FunctionsError, Result};
use crate::model::{FunctionConfig, LATEST};
use crate::registry::{
    AliasRecord, ExtraSettings, FunctionMeta, FunctionRef, Policy, VersionRecord, Writes, is_name,
    is_version_number,
};

/// The runtimes Nimbus runs.
pub const RUNTIMES: &[&str] = &[
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "python3.14",
    "nodejs18.x",
    "nodejs20.x",
    "nodejs22.x",
    "nodejs24.x",
    "provided.al2",
    "provided.al2023",
];

/// Runtimes Lambda no longer accepts for new or updated functions.
const DEPRECATED_RUNTIMES: &[&str] = &[
    "nodejs",
    "nodejs4.3",
    "nodejs4.3-edge",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "nodejs16.x",
    "python2.7",
    "python3.6",
    "python3.7",
    "python3.8",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "go1.x",
    "ruby2.5",
    "ruby2.7",
    "java8",
    "provided",
];

/// Environment variables Lambda sets itself and refuses in a configuration.
const RESERVED_VARIABLES: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// Concurrent executions of the account (AWS' default quota).
pub const ACCOUNT_CONCURRENCY: u32 = 1000;
/// Executions that reservations must leave to unreserved functions.
pub const MIN_UNRESERVED_CONCURRENCY: u32 = 100;
/// Storage for all deployment packages of the account (75 GB).
const TOTAL_CODE_SIZE_LIMIT: u64 = 80_530_636_800;
/// Largest zip uploaded directly.
const CODE_SIZE_ZIPPED: u64 = 52_428_800;
/// Total size of environment variables (their JSON form).
const MAX_ENVIRONMENT_BYTES: usize = 4096;
/// How long a `Code.Location` URL stays valid.
const CODE_URL_LIFETIME: Duration = Duration::from_secs(600);
const DEFAULT_PAGE: usize = 50;

pub(crate) fn validation(
    value: impl std::fmt::Display,
    field: &str,
    constraint: &str,
) -> FunctionsError {
    FunctionsError::Validation(format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"
    ))
}

pub(crate) fn missing(field: &str) -> FunctionsError {
    FunctionsError::Validation(format!(
        "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
    ))
}

fn in_range(value: i64, field: &str, min: i64, max: i64) -> Result<u32> {
    if value < min {
        return Err(validation(
            value,
            field,
            &format!("Member must have value greater than or equal to {min}"),
        ));
    }
    if value > max {
        return Err(validation(
            value,
            field,
            &format!("Member must have value less than or equal to {max}"),
        ));
    }
    Ok(value as u32)
}

pub(crate) fn max_length(value: &str, field: &str, max: usize) -> Result<()> {
    if value.chars().count() > max {
        return Err(validation(
            value,
            field,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

fn revision_mismatch(api: &str) -> FunctionsError {
    FunctionsError::PreconditionFailed(format!(
        "The Revision Id provided does not match the latest Revision Id. Call the {api} API to retrieve the latest Revision Id"
    ))
}

pub(crate) fn check_revision(given: Option<&str>, current: &str, api: &str) -> Result<()> {
    match given {
        Some(given) if given != current => Err(revision_mismatch(api)),
        _ => Ok(()),
    }
}

pub(crate) fn new_revision() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `LastModified` as Lambda writes it: `2024-05-01T12:00:00.123+0000`.
pub(crate) fn now_timestamp() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+0000"
    );
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

fn check_runtime(runtime: &str) -> Result<()> {
    if RUNTIMES.contains(&runtime) {
        return Ok(());
    }
    if DEPRECATED_RUNTIMES.contains(&runtime) {
        return Err(FunctionsError::InvalidParameterValue(format!(
            "The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions."
        )));
    }
    Err(FunctionsError::InvalidParameterValue(format!(
        "Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [{}] or be a valid ARN",
        RUNTIMES.join(", ")
    )))
}

fn check_role(role: &str) -> Result<()> {
    let pattern = r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+";
    let ok = role.strip_prefix("arn:").and_then(|rest| {
        let (partition, rest) = rest.split_once(":iam::")?;
        let (account, path) = rest.split_once(":role")?;
        let path = path.strip_prefix('/').unwrap_or(path);
        let valid = (partition.is_empty() || partition.starts_with("aws"))
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && !path.is_empty()
            && path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@-_/".contains(&b));
        valid.then_some(())
    });
    match ok {
        Some(()) => Ok(()),
        None => Err(validation(
            role,
            "role",
            &format!("Member must satisfy regular expression pattern: {pattern}"),
        )),
    }
}

fn check_environment(variables: &BTreeMap<String, String>) -> Result<()> {
    let reserved: Vec<&str> = variables
        .keys()
        .map(String::as_str)
        .filter(|k| RESERVED_VARIABLES.contains(k))
        .collect();
    if !reserved.is_empty() {
        return Err(FunctionsError::InvalidParameterValue(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: {}",
            reserved.join(", ")
        )));
    }
    for key in variables.keys() {
        let mut bytes = key.bytes();
        let valid = key.len() >= 2
            && bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
            && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid {
            // The variables are sensitive: Lambda leaves the value out of this message.
            return Err(FunctionsError::Validation(
                "1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]".into(),
            ));
        }
    }
    let measured = serde_json::to_string(variables).unwrap_or_default();
    if measured.len() > MAX_ENVIRONMENT_BYTES {
        return Err(FunctionsError::InvalidParameterValue(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {measured}"
        )));
    }
    Ok(())
}

fn one_of(value: &str, field: &str, allowed: &[&str]) -> Result<()> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(validation(
            value,
            field,
            &format!(
                "Member must satisfy enum value set: [{}]",
                allowed.join(", ")
            ),
        ))
    }
}

fn check_architectures(architectures: &[String]) -> Result<Vec<String>> {
    if architectures.len() != 1 {
        return Err(validation(
            format!("{architectures:?}"),
            "architectures",
            "Member must have length less than or equal to 1",
        ));
    }
    one_of(&architectures[0], "architectures", &["x86_64", "arm64"])?;
    Ok(architectures.to_vec())
}

/// The zip of a `ZipFile` member.
pub(crate) fn decode_zip(zip_file: Option<&str>, other_source: bool) -> Result<Vec<u8>> {
    let Some(zip_file) = zip_file else {
        return Err(FunctionsError::InvalidParameterValue(if other_source {
            "Nimbus takes deployment packages as ZipFile only (S3 and image sources are not supported)".into()
        } else {
            "Please provide a source for function code.".into()
        }));
    };
    let zip = base64::engine::general_purpose::STANDARD
        .decode(zip_file.trim())
        .map_err(|_| {
            FunctionsError::InvalidRequestContent(
                "Could not parse request body into json: ZipFile is not valid base64".into(),
            )
        })?;
    if zip.len() as u64 > CODE_SIZE_ZIPPED {
        return Err(FunctionsError::RequestTooLarge(format!(
            "Request must be smaller than {CODE_SIZE_ZIPPED} bytes for the CreateFunction operation"
        )));
    }
    code::validate_zip(&zip)?;
    Ok(zip)
}

impl api::FunctionSettings {
    /// Validates every present member and applies it to `record`; absent members leave the
    /// current value.
    fn apply(self, record: &mut VersionRecord) -> Result<()> {
        let c = &mut record.config;
        let x = &mut record.extra;
        if let Some(role) = self.role {
            check_role(&role)?;
            c.role = role;
        }
        if let Some(runtime) = self.runtime {
            check_runtime(&runtime)?;
            c.runtime = runtime;
        }
        if let Some(handler) = self.handler {
            max_length(&handler, "handler", 128)?;
            if handler.is_empty() || handler.chars().any(char::is_whitespace) {
                return Err(validation(
                    &handler,
                    "handler",
                    r"Member must satisfy regular expression pattern: [^\s]+",
                ));
            }
            c.handler = handler;
        }
        if let Some(description) = self.description {
            max_length(&description, "description", 256)?;
            c.description = description;
        }
        if let Some(timeout) = self.timeout {
            c.timeout = in_range(timeout, "timeout", 1, 900)?;
        }
        if let Some(memory) = self.memory_size {
            c.memory_size = in_range(memory, "memorySize", 128, 10240)?;
        }
        if let Some(storage) = self.ephemeral_storage {
            let size = storage
                .size
                .ok_or_else(|| missing("ephemeralStorage.size"))?;
            c.ephemeral_storage = in_range(size, "ephemeralStorage.size", 512, 10240)?;
        }
        if let Some(environment) = self.environment {
            let variables = environment.variables.unwrap_or_default();
            check_environment(&variables)?;
            c.environment = variables;
        }
        if let Some(tracing) = self.tracing_config {
            let mode = tracing.mode.unwrap_or_else(|| "PassThrough".into());
            one_of(&mode, "tracingConfig.mode", &["Active", "PassThrough"])?;
            x.tracing_mode = Some(mode);
        }
        if let Some(logging) = self.logging_config {
            if let Some(format) = logging.log_format {
                one_of(&format, "loggingConfig.logFormat", &["JSON", "Text"])?;
                x.log_format = Some(format);
            }
            if let Some(level) = logging.application_log_level {
                one_of(
                    &level,
                    "loggingConfig.applicationLogLevel",
                    &["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"],
                )?;
                x.application_log_level = Some(level);
            }
            if let Some(level) = logging.system_log_level {
                one_of(
                    &level,
                    "loggingConfig.systemLogLevel",
                    &["DEBUG", "INFO", "WARN"],
                )?;
                x.system_log_level = Some(level);
            }
            if let Some(group) = logging.log_group {
                max_length(&group, "loggingConfig.logGroup", 512)?;
                c.log_group = group;
            }
        }
        if let Some(snap_start) = self.snap_start {
            let apply_on = snap_start.apply_on.unwrap_or_else(|| "None".into());
            one_of(
                &apply_on,
                "snapStart.applyOn",
                &["PublishedVersions", "None"],
            )?;
            x.snap_start_apply_on = Some(apply_on);
        }
        if let Some(dead_letter) = self.dead_letter_config {
            x.dead_letter_target = dead_letter.target_arn.filter(|t| !t.is_empty());
        }
        if let Some(key) = self.kms_key_arn {
            x.kms_key_arn = Some(key).filter(|k| !k.is_empty());
        }
        let provided = c.runtime.starts_with("provided");
        if c.runtime.is_empty() || (c.handler.is_empty() && !provided) {
            return Err(FunctionsError::InvalidParameterValue(
                "Runtime and Handler are mandatory parameters for functions created with deployment packages.".into(),
            ));
        }
        Ok(())
    }
}

/// Whether the published version `last` was made from `$LATEST` as it is now: the same code
/// and configuration, description included (what decides if PublishVersion makes a new
/// version). The description compared is the one `$LATEST` had when `last` was published.
fn same_content(last: &VersionRecord, latest: &VersionRecord) -> bool {
    let normalize = |r: &VersionRecord, description: &str| {
        let mut r = r.clone();
        r.config.version = String::new();
        r.config.revision_id = String::new();
        r.config.last_modified = String::new();
        r.config.description = description.to_owned();
        r.latest_description = None;
        r
    };
    let published_from = last
        .latest_description
        .as_deref()
        .unwrap_or(&last.config.description);
    normalize(last, published_from) == normalize(latest, &latest.config.description)
}

/// Takes the page `page` of `items`, sorted by their key; the marker is the key of the last
/// item returned.
pub(crate) fn paginate<T>(
    items: Vec<(String, T)>,
    page: &Page,
) -> Result<(Vec<T>, Option<String>)> {
    let max = match page.max_items {
        Some(n) => in_range(n, "maxItems", 1, 10_000)? as usize,
        None => DEFAULT_PAGE,
    };
    let mut rest: Vec<(String, T)> = match &page.marker {
        Some(marker) => items.into_iter().filter(|(k, _)| k > marker).collect(),
        None => items,
    };
    let more = rest.len() > max;
    rest.truncate(max);
    let next = if more {
        rest.last().map(|(k, _)| k.clone())
    } else {
        None
    };
    Ok((rest.into_iter().map(|(_, v)| v).collect(), next))
}

fn version_sort_key(version: &str) -> String {
    match version.parse::<u32>() {
        Ok(n) => format!("{n:010}"),
        Err(_) => version.to_owned(),
    }
}

fn to_value<T: Serialize>(value: T) -> Result<Option<serde_json::Value>> {
    serde_json::to_value(value)
        .map(Some)
        .map_err(|e| FunctionsError::Service(format!("encode response: {e}")))
}

impl Functions {
    /// Runs one control-plane operation; the result is the response body (`None`: no body).
    /// Blocks on storage.
    pub fn execute(&self, op: ControlOp) -> Result<Option<serde_json::Value>> {
        match op {
            ControlOp::CreateFunction(request) => to_value(self.create_function(request)?),
            ControlOp::GetFunction {
                function_name,
                qualifier,
            } => to_value(self.get_function(&function_name, qualifier.as_deref())?),
            ControlOp::GetFunctionConfiguration {
                function_name,
                qualifier,
            } => to_value(self.get_function_configuration(&function_name, qualifier.as_deref())?),
            ControlOp::ListFunctions { all_versions, page } => {
                to_value(self.list_functions(all_versions, &page)?)
            }
            ControlOp::UpdateFunctionCode {
                function_name,
                request,
            } => to_value(self.update_function_code(&function_name, request)?),
            ControlOp::UpdateFunctionConfiguration {
                function_name,
                request,
            } => to_value(self.update_function_configuration(&function_name, request)?),
            ControlOp::DeleteFunction {
                function_name,
                qualifier,
            } => {
                self.delete_function(&function_name, qualifier.as_deref())?;
                Ok(None)
            }
            ControlOp::PublishVersion {
                function_name,
                request,
            } => to_value(self.publish_version(&function_name, request)?),
            ControlOp::ListVersionsByFunction {
                function_name,
                page,
            } => to_value(self.list_versions_by_function(&function_name, &page)?),
            ControlOp::CreateAlias {
                function_name,
                request,
            } => to_value(self.create_alias(&function_name, request)?),
            ControlOp::GetAlias {
                function_name,
                name,
            } => to_value(self.get_alias(&function_name, &name)?),
            ControlOp::UpdateAlias {
                function_name,
                name,
                request,
            } => to_value(self.update_alias(&function_name, &name, request)?),
            ControlOp::ListAliases {
                function_name,
                function_version,
                page,
            } => to_value(self.list_aliases(&function_name, function_version.as_deref(), &page)?),
            ControlOp::DeleteAlias {
                function_name,
                name,
            } => {
                self.delete_alias(&function_name, &name)?;
                Ok(None)
            }
            ControlOp::PutFunctionConcurrency {
                function_name,
                request,
            } => to_value(self.put_function_concurrency(
                &function_name,
                request.reserved_concurrent_executions,
            )?),
            ControlOp::GetFunctionConcurrency { function_name } => {
                to_value(self.get_function_concurrency(&function_name)?)
            }
            ControlOp::DeleteFunctionConcurrency { function_name } => {
                self.delete_function_concurrency(&function_name)?;
                Ok(None)
            }
            ControlOp::GetAccountSettings => to_value(self.get_account_settings()?),
            ControlOp::AddPermission {
                function_name,
                qualifier,
                request,
            } => to_value(self.add_permission(&function_name, qualifier.as_deref(), request)?),
            ControlOp::RemovePermission {
                function_name,
                statement_id,
                qualifier,
                revision_id,
            } => {
                self.remove_permission(
                    &function_name,
                    &statement_id,
                    qualifier.as_deref(),
                    revision_id.as_deref(),
                )?;
                Ok(None)
            }
            ControlOp::GetPolicy {
                function_name,
                qualifier,
            } => to_value(self.get_policy(&function_name, qualifier.as_deref())?),
            ControlOp::CreateFunctionUrlConfig {
                function_name,
                qualifier,
                request,
            } => to_value(self.create_function_url_config(
                &function_name,
                qualifier.as_deref(),
                request,
            )?),
            ControlOp::GetFunctionUrlConfig {
                function_name,
                qualifier,
            } => to_value(self.get_function_url_config(&function_name, qualifier.as_deref())?),
            ControlOp::UpdateFunctionUrlConfig {
                function_name,
                qualifier,
                request,
            } => to_value(self.update_function_url_config(
                &function_name,
                qualifier.as_deref(),
                request,
            )?),
            ControlOp::DeleteFunctionUrlConfig {
                function_name,
                qualifier,
            } => {
                self.delete_function_url_config(&function_name, qualifier.as_deref())?;
                Ok(None)
            }
            ControlOp::ListFunctionUrlConfigs {
                function_name,
                page,
            } => to_value(self.list_function_url_configs(&function_name, &page)?),
            ControlOp::PutFunctionEventInvokeConfig {
                function_name,
                qualifier,
                request,
                replace,
            } => to_value(self.put_function_event_invoke_config(
                &function_name,
                qualifier.as_deref(),
                request,
                replace,
            )?),
            ControlOp::GetFunctionEventInvokeConfig {
                function_name,
                qualifier,
            } => to_value(
                self.get_function_event_invoke_config(&function_name, qualifier.as_deref())?,
            ),
            ControlOp::DeleteFunctionEventInvokeConfig {
                function_name,
                qualifier,
            } => {
                self.delete_function_event_invoke_config(&function_name, qualifier.as_deref())?;
                Ok(None)
            }
            ControlOp::ListFunctionEventInvokeConfigs {
                function_name,
                page,
            } => to_value(self.list_function_event_invoke_configs(&function_name, &page)?),
            ControlOp::TagResource { resource, request } => {
                self.tag_resource(&resource, request.tags)?;
                Ok(None)
            }
            ControlOp::UntagResource { resource, tag_keys } => {
                self.untag_resource(&resource, &tag_keys)?;
                Ok(None)
            }
            ControlOp::ListTags { resource } => to_value(self.list_tags(&resource)?),
            ControlOp::PublishLayerVersion {
                layer_name,
                request,
            } => to_value(self.publish_layer_version(&layer_name, request)?),
            ControlOp::GetLayerVersion {
                layer_name,
                version,
            } => to_value(self.get_layer_version(&layer_name, &version)?),
            ControlOp::GetLayerVersionByArn { arn } => {
                to_value(self.get_layer_version_by_arn(&arn)?)
            }
            ControlOp::ListLayers { filter, page } => to_value(self.list_layers(&filter, &page)?),
            ControlOp::ListLayerVersions {
                layer_name,
                filter,
                page,
            } => to_value(self.list_layer_versions(&layer_name, &filter, &page)?),
            ControlOp::DeleteLayerVersion {
                layer_name,
                version,
            } => {
                self.delete_layer_version(&layer_name, &version)?;
                Ok(None)
            }
            ControlOp::AddLayerVersionPermission {
                layer_name,
                version,
                revision_id,
                request,
            } => to_value(self.add_layer_version_permission(
                &layer_name,
                &version,
                revision_id.as_deref(),
                request,
            )?),
            ControlOp::GetLayerVersionPolicy {
                layer_name,
                version,
            } => to_value(self.get_layer_version_policy(&layer_name, &version)?),
            ControlOp::RemoveLayerVersionPermission {
                layer_name,
                version,
                statement_id,
                revision_id,
            } => {
                self.remove_layer_version_permission(
                    &layer_name,
                    &version,
                    &statement_id,
                    revision_id.as_deref(),
                )?;
                Ok(None)
            }
        }
    }

    /// The `FunctionConfiguration` of a version; `qualifier` is appended to its ARN.
    pub fn describe(
        &self,
        record: &VersionRecord,
        qualifier: Option<&str>,
    ) -> FunctionConfiguration {
        let c = &record.config;
        let x = &record.extra;
        let sha = hex::decode(&c.code_sha256_hex)
            .map(|bytes| base64::engine::general_purpose::STANDARD.encode(bytes))
            .unwrap_or_default();
        let log_format = x.log_format.clone().unwrap_or_else(|| "Text".into());
        let json_logs = log_format == "JSON";
        FunctionConfiguration {
            function_name: c.function_name.clone(),
            function_arn: self.registry().arn(&c.function_name, qualifier),
            runtime: c.runtime.clone(),
            role: c.role.clone(),
            handler: c.handler.clone(),
            code_size: c.code_size,
            description: c.description.clone(),
            timeout: c.timeout,
            memory_size: c.memory_size,
            last_modified: c.last_modified.clone(),
            code_sha256: sha,
            version: c.version.clone(),
            environment: (!c.environment.is_empty()).then(|| api::Environment {
                variables: Some(c.environment.clone()),
            }),
            tracing_config: api::TracingConfig {
                mode: Some(
                    x.tracing_mode
                        .clone()
                        .unwrap_or_else(|| "PassThrough".into()),
                ),
            },
            dead_letter_config: x.dead_letter_target.clone().map(|t| api::DeadLetterConfig {
                target_arn: Some(t),
            }),
            kms_key_arn: x.kms_key_arn.clone(),
            revision_id: c.revision_id.clone(),
            state: Some("Active"),
            last_update_status: Some("Successful"),
            package_type: "Zip",
            architectures: c.architectures.clone(),
            ephemeral_storage: api::EphemeralStorageOut {
                size: c.ephemeral_storage,
            },
            snap_start: api::SnapStartResponse {
                apply_on: x
                    .snap_start_apply_on
                    .clone()
                    .unwrap_or_else(|| "None".into()),
                optimization_status: "Off",
            },
            logging_config: api::LoggingConfig {
                log_format: Some(log_format),
                application_log_level: x
                    .application_log_level
                    .clone()
                    .or_else(|| json_logs.then(|| "INFO".into())),
                system_log_level: x
                    .system_log_level
                    .clone()
                    .or_else(|| json_logs.then(|| "INFO".into())),
                log_group: Some(c.log_group.clone()),
            },
            layers: (!c.layers.is_empty()).then(|| {
                c.layers
                    .iter()
                    .map(|l| api::Layer {
                        arn: l.arn.clone(),
                        code_size: l.code_size,
                    })
                    .collect()
            }),
            state_reason: self.runtime_note(&c.runtime),
        }
    }

    /// Why another interpreter than the runtime's own runs it, if it does (cached after the
    /// first look-up of each interpreter).
    pub fn runtime_note(&self, runtime: &str) -> Option<String> {
        self.runtime_dirs.resolve(runtime).and_then(|r| r.note)
    }

    /// The ARN qualifier a version is listed with: `$LATEST` too, as ListVersionsByFunction does.
    /// A version as ListFunctions and ListVersionsByFunction list it: its description
    /// without the state members, which Lambda answers only to GetFunction(Configuration).
    fn describe_listed(
        &self,
        record: &VersionRecord,
        qualifier: Option<&str>,
    ) -> FunctionConfiguration {
        FunctionConfiguration {
            state: None,
            last_update_status: None,
            state_reason: None,
            ..self.describe(record, qualifier)
        }
    }

    /// Parses a `FunctionName` (and `Qualifier`) and checks that the function exists.
    fn locate(
        &self,
        function_name: &str,
        qualifier: Option<&str>,
    ) -> Result<(FunctionRef, FunctionMeta)> {
        let r = self.registry().parse_name(function_name, qualifier)?;
        let meta = self
            .registry()
            .meta(&r.name)?
            .ok_or_else(|| self.registry().not_found(&r.name, r.qualifier.as_deref()))?;
        Ok((r, meta))
    }

    /// Like [`Self::locate`] for operations that address the whole function (no qualifier).
    fn locate_function(&self, function_name: &str) -> Result<String> {
        let r = self.registry().parse_name(function_name, None)?;
        if let Some(q) = &r.qualifier {
            return Err(FunctionsError::InvalidParameterValue(format!(
                "Qualifier {q} is not allowed for this operation; use the unqualified function name."
            )));
        }
        self.registry().existing(&r.name)?;
        Ok(r.name)
    }

    fn latest(&self, name: &str) -> Result<VersionRecord> {
        self.registry()
            .version(name, LATEST)?
            .ok_or_else(|| FunctionsError::Service(format!("function {name} has no $LATEST")))
    }

    /// Publishes `latest` as a new version inside a change, unless the last published version
    /// already has the same code and configuration, which is then returned.
    fn publish_in(
        &self,
        meta: &mut FunctionMeta,
        latest: &VersionRecord,
        description: Option<String>,
        writes: &mut Writes,
    ) -> Result<VersionRecord> {
        if meta.last_version > 0 {
            let last = self
                .registry()
                .version(&meta.name, &meta.last_version.to_string())?;
            if let Some(last) = last.filter(|last| same_content(last, latest)) {
                return Ok(last);
            }
        }
        meta.last_version += 1;
        let mut version = latest.clone();
        version.config.version = meta.last_version.to_string();
        version.config.revision_id = new_revision();
        version.config.last_modified = now_timestamp();
        if let Some(description) = description {
            max_length(&description, "description", 256)?;
            version.latest_description = Some(std::mem::replace(
                &mut version.config.description,
                description,
            ));
        }
        writes.put_version(&version)?;
        Ok(version)
    }

    /// Deletes the packages of `shas` that no version references any more. A failure is logged
    /// and left for the next change: the request that made the package garbage succeeded.
    pub(crate) fn collect_code(&self, shas: BTreeSet<String>) {
        if shas.is_empty() {
            return;
        }
        let registry = self.registry();
        let result = registry.exclusive(|| {
            // Layer zips share the blob store: a blob is used by a function's code, by a layer
            // version, or by a function version that keeps a deleted layer version.
            let mut used = BTreeSet::new();
            for v in registry.all_versions()? {
                used.extend(v.config.layers.into_iter().map(|l| l.sha256_hex));
                used.insert(v.config.code_sha256_hex);
            }
            used.extend(
                self.all_layer_versions()?
                    .into_iter()
                    .map(|l| l.code_sha256_hex),
            );
            for sha in shas.difference(&used) {
                code::delete(registry.store().as_ref(), sha)?;
            }
            Ok(())
        });
        if let Err(e) = result {
            tracing::warn!("cannot remove unused deployment packages: {e:#}");
        }
    }

    pub fn create_function(
        &self,
        request: api::CreateFunctionRequest,
    ) -> Result<FunctionConfiguration> {
        let function_name = request
            .function_name
            .ok_or_else(|| missing("functionName"))?;
        let r = self.registry().parse_name(&function_name, None)?;
        if r.qualifier.is_some() {
            return Err(FunctionsError::InvalidParameterValue(
                "Function name must not include a qualifier on creation.".into(),
            ));
        }
        let name = r.name;
        if request.settings.role.is_none() {
            return Err(missing("role"));
        }
        if let Some(package_type) = request.package_type.as_deref() {
            one_of(package_type, "packageType", &["Zip", "Image"])?;
            if package_type == "Image" {
                return Err(FunctionsError::InvalidParameterValue(
                    "Nimbus runs Zip packages only; PackageType Image is not supported.".into(),
                ));
            }
        }
        let architectures = match &request.architectures {
            Some(a) => check_architectures(a)?,
            None => vec!["x86_64".into()],
        };
        let code = request.code.ok_or_else(|| missing("code"))?;
        let other_source = code.s3_bucket.is_some() || code.image_uri.is_some();
        let mut record = VersionRecord {
            config: FunctionConfig {
                function_name: name.clone(),
                function_arn: self.registry().function_arn(&name),
                version: LATEST.into(),
                runtime: String::new(),
                handler: String::new(),
                memory_size: 128,
                timeout: 3,
                ephemeral_storage: 512,
                environment: BTreeMap::new(),
                code_sha256_hex: String::new(),
                code_size: 0,
                revision_id: new_revision(),
                description: String::new(),
                role: String::new(),
                architectures,
                last_modified: now_timestamp(),
                log_group: format!("/aws/lambda/{name}"),
                layers: Vec::new(),
            },
            extra: ExtraSettings::default(),
            latest_description: None,
        };
        let mut settings = request.settings;
        if let Some(arns) = settings.layers.take() {
            record.config.layers = self.resolve_layers(&arns)?;
        }
        settings.apply(&mut record)?;
        let zip = decode_zip(code.zip_file.as_deref(), other_source)?;
        if !record.config.layers.is_empty() {
            Self::check_unzipped_total(code::unzipped_size(&zip)?, &record.config.layers)?;
        }
        let tags = request.tags.unwrap_or_default();
        let publish = request.publish.unwrap_or(false);
        let created = self.registry().write(&name, |current, writes| {
            if current.is_some() {
                return Err(FunctionsError::ResourceConflict(format!(
                    "Function already exist: {name}"
                )));
            }
            let stored = code::put(self.registry().store().as_ref(), &zip)?;
            record.config.code_sha256_hex = stored.sha256_hex;
            record.config.code_size = stored.size;
            let mut meta = FunctionMeta {
                name: name.clone(),
                tags,
                ..FunctionMeta::default()
            };
            writes.put_version(&record)?;
            let shown = if publish {
                self.publish_in(&mut meta, &record, None, writes)?
            } else {
                record.clone()
            };
            writes.put_meta(meta);
            Ok(shown)
        })?;
        let qualifier =
            (created.config.version != LATEST).then_some(created.config.version.as_str());
        Ok(self.describe(&created, qualifier))
    }

    /// A URL on the AWS endpoint that downloads package `sha_hex` without a signature, valid
    /// for ten minutes (GetFunction's `Code.Location`).
    pub fn code_location(&self, sha_hex: &str) -> String {
        let expires = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs()
            + CODE_URL_LIFETIME.as_secs();
        let token = hex::encode(self.code_mac(sha_hex, expires).finalize().into_bytes());
        format!(
            "{}/_nimbus/code/{sha_hex}?expires={expires}&token={token}",
            self.config().aws_endpoint.trim_end_matches('/')
        )
    }

    fn code_mac(&self, sha_hex: &str, expires: u64) -> Hmac<Sha256> {
        // HMAC accepts keys of any length.
        let mut mac = Hmac::<Sha256>::new_from_slice(self.config().secret_access_key.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(format!("nimbus-code-location\n{sha_hex}\n{expires}").as_bytes());
        mac
    }

    /// The package behind a [`Self::code_location`] URL, if its token is genuine and unexpired
    /// (`Ok(None)` otherwise).
    pub fn download_code(
        &self,
        sha_hex: &str,
        expires: &str,
        token: &str,
    ) -> Result<Option<Vec<u8>>> {
        let Ok(expires) = expires.parse::<u64>() else {
            return Ok(None);
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let Ok(token) = hex::decode(token) else {
            return Ok(None);
        };
        if now > expires
            || self
                .code_mac(sha_hex, expires)
                .verify_slice(&token)
                .is_err()
        {
            return Ok(None);
        }
        code::get(self.registry().store().as_ref(), sha_hex).map(Some)
    }

    pub fn get_function(
        &self,
        function_name: &str,
        qualifier: Option<&str>,
    ) -> Result<api::GetFunctionResponse> {
        let (r, meta) = self.locate(function_name, qualifier)?;
        let q = r.qualifier.as_deref();
        let record = self.registry().version_for(&r.name, q, false)?;
        Ok(api::GetFunctionResponse {
            code: api::FunctionCodeLocation {
                repository_type: "S3",
                location: self.code_location(&record.config.code_sha256_hex),
            },
            configuration: self.describe(&record, q),
            tags: (!meta.tags.is_empty()).then_some(meta.tags),
            concurrency: meta.reserved_concurrency.map(|n| api::Concurrency {
                reserved_concurrent_executions: n,
            }),
        })
    }

    pub fn get_function_configuration(
        &self,
        function_name: &str,
        qualifier: Option<&str>,
    ) -> Result<FunctionConfiguration> {
        let (r, _) = self.locate(function_name, qualifier)?;
        let q = r.qualifier.as_deref();
        let record = self.registry().version_for(&r.name, q, false)?;
        Ok(self.describe(&record, q))
    }

    pub fn list_functions(
        &self,
        all_versions: bool,
        page: &Page,
    ) -> Result<api::ListFunctionsResponse> {
        let mut items = Vec::new();
        for meta in self.registry().all()? {
            if all_versions {
                for v in self.registry().versions(&meta.name)? {
                    // `,` sorts below every character of a name, so keys sort like (name, version).
                    let key = format!("{},{}", meta.name, version_sort_key(&v.config.version));
                    items.push((key, self.describe_listed(&v, Some(&v.config.version))));
                }
            } else if let Some(latest) = self.registry().version(&meta.name, LATEST)? {
                items.push((meta.name.clone(), self.describe_listed(&latest, None)));
            }
        }
        let (functions, next_marker) = paginate(items, page)?;
        Ok(api::ListFunctionsResponse {
            functions,
            next_marker,
        })
    }

    pub fn update_function_code(
        &self,
        function_name: &str,
        request: api::UpdateFunctionCodeRequest,
    ) -> Result<FunctionConfiguration> {
        let name = self.locate_function(function_name)?;
        let other_source = request.s3_bucket.is_some() || request.image_uri.is_some();
        let zip = decode_zip(request.zip_file.as_deref(), other_source)?;
        let architectures = request
            .architectures
            .as_deref()
            .map(check_architectures)
            .transpose()?;
        if request.dry_run.unwrap_or(false) {
            let mut latest = self.latest(&name)?;
            check_revision(
                request.revision_id.as_deref(),
                &latest.config.revision_id,
                "GetFunction",
            )?;
            let reference = code::reference(&zip);
            latest.config.code_sha256_hex = reference.sha256_hex;
            latest.config.code_size = reference.size;
            return Ok(self.describe(&latest, None));
        }
        let mut replaced = BTreeSet::new();
        let shown = self.registry().update(&name, |meta, writes| {
            let mut latest = self.latest(&name)?;
            check_revision(
                request.revision_id.as_deref(),
                &latest.config.revision_id,
                "GetFunction",
            )?;
            if !latest.config.layers.is_empty() {
                Self::check_unzipped_total(code::unzipped_size(&zip)?, &latest.config.layers)?;
            }
            let stored = code::put(self.registry().store().as_ref(), &zip)?;
            replaced.insert(latest.config.code_sha256_hex.clone());
            latest.config.code_sha256_hex = stored.sha256_hex;
            latest.config.code_size = stored.size;
            if let Some(architectures) = architectures {
                latest.config.architectures = architectures;
            }
            latest.config.revision_id = new_revision();
            latest.config.last_modified = now_timestamp();
            writes.put_version(&latest)?;
            let shown = if request.publish.unwrap_or(false) {
                self.publish_in(meta, &latest, None, writes)?
            } else {
                latest
            };
            Ok(shown)
        })?;
        self.collect_code(replaced);
        self.on_function_changed(&name);
        let qualifier = (shown.config.version != LATEST).then_some(shown.config.version.as_str());
        Ok(self.describe(&shown, qualifier))
    }

    pub fn update_function_configuration(
        &self,
        function_name: &str,
        request: api::UpdateFunctionConfigurationRequest,
    ) -> Result<FunctionConfiguration> {
        let name = self.locate_function(function_name)?;
        let api::UpdateFunctionConfigurationRequest {
            revision_id,
            mut settings,
        } = request;
        let layers = settings
            .layers
            .take()
            .map(|arns| self.resolve_layers(&arns))
            .transpose()?;
        let mut replaced = BTreeSet::new();
        let latest = self.registry().update(&name, |_, writes| {
            let mut latest = self.latest(&name)?;
            check_revision(
                revision_id.as_deref(),
                &latest.config.revision_id,
                "GetFunction",
            )?;
            settings.apply(&mut latest)?;
            if let Some(layers) = layers {
                if !layers.is_empty() {
                    let code_size = self.stored_unzipped_size(&latest.config.code_sha256_hex)?;
                    Self::check_unzipped_total(code_size, &layers)?;
                }
                replaced.extend(latest.config.layers.iter().map(|l| l.sha256_hex.clone()));
                latest.config.layers = layers;
            }
            latest.config.revision_id = new_revision();
            latest.config.last_modified = now_timestamp();
            writes.put_version(&latest)?;
            Ok(latest)
        })?;
        self.collect_code(replaced);
        self.on_function_changed(&name);
        Ok(self.describe(&latest, None))
    }

    pub fn delete_function(&self, function_name: &str, qualifier: Option<&str>) -> Result<()> {
        let r = self.registry().parse_name(function_name, qualifier)?;
        if r.qualifier.as_deref() == Some(LATEST) {
            return Err(FunctionsError::InvalidParameterValue(
                "$LATEST version cannot be deleted without deleting the function.".into(),
            ));
        }
        // A missing function is named without the qualifier, as Lambda does.
        self.registry()
            .meta(&r.name)?
            .ok_or_else(|| self.registry().not_found(&r.name, None))?;
        let name = r.name;
        let mut unused = BTreeSet::new();
        self.registry().update(&name, |meta, writes| {
            match r.qualifier.as_deref() {
                None => {
                    for v in self.registry().versions(&name)? {
                        unused.extend(v.config.layers.into_iter().map(|l| l.sha256_hex));
                        unused.insert(v.config.code_sha256_hex);
                    }
                    for url in meta.urls.values() {
                        writes.delete_url_index(&url.url_id);
                    }
                    writes.delete_function(&name);
                }
                Some(LATEST) => {
                    return Err(FunctionsError::InvalidParameterValue(
                        "$LATEST version cannot be deleted without deleting the function.".into(),
                    ));
                }
                Some(q) if !is_version_number(q) => {
                    return Err(FunctionsError::InvalidParameterValue(format!(
                        "Deletion of aliases is not supported by DeleteFunction; use DeleteAlias to delete alias {q}."
                    )));
                }
                Some(q) => {
                    // Deleting a version that is not there (any more) is done, as on Lambda.
                    let Some(version) = self.registry().version(&name, q)? else {
                        return Ok(());
                    };
                    let users: Vec<String> = self
                        .registry()
                        .aliases(&name)?
                        .into_iter()
                        .filter(|a| {
                            a.function_version == q || a.additional_version_weights.contains_key(q)
                        })
                        .map(|a| a.name)
                        .collect();
                    if !users.is_empty() {
                        return Err(FunctionsError::ResourceConflict(format!(
                            "Unable to delete version because the following aliases reference it: [{}]",
                            users.join(", ")
                        )));
                    }
                    unused.extend(version.config.layers.into_iter().map(|l| l.sha256_hex));
                    unused.insert(version.config.code_sha256_hex);
                    writes.delete_version(&name, q);
                    meta.policies.remove(q);
                    meta.event_invoke.remove(q);
                }
            }
            Ok(())
        })?;
        self.collect_code(unused);
        self.on_function_changed(&name);
        Ok(())
    }

    pub fn publish_version(
        &self,
        function_name: &str,
        request: api::PublishVersionRequest,
    ) -> Result<FunctionConfiguration> {
        let name = self.locate_function(function_name)?;
        let version = self.registry().update(&name, |meta, writes| {
            let latest = self.latest(&name)?;
            check_revision(request.revision_id.as_deref(), &latest.config.revision_id, "GetFunction")?;
            if let Some(expected) = request.code_sha256.as_deref() {
                let current = self.describe(&latest, None).code_sha256;
                if expected != current {
                    return Err(FunctionsError::InvalidParameterValue(format!(
                        "CodeSHA256 ({expected}) is different from current CodeSHA256 in $LATEST ({current}). Please try again from a newer version."
                    )));
                }
            }
            let version = self.publish_in(meta, &latest, request.description, writes)?;
            Ok(version)
        })?;
        Ok(self.describe(&version, Some(&version.config.version)))
    }

    pub fn list_versions_by_function(
        &self,
        function_name: &str,
        page: &Page,
    ) -> Result<api::ListVersionsByFunctionResponse> {
        let name = self.locate_function(function_name)?;
        let items = self
            .registry()
            .versions(&name)?
            .into_iter()
            .map(|v| {
                (
                    version_sort_key(&v.config.version),
                    self.describe_listed(&v, Some(&v.config.version)),
                )
            })
            .collect();
        let (versions, next_marker) = paginate(items, page)?;
        Ok(api::ListVersionsByFunctionResponse {
            versions,
            next_marker,
        })
    }

    fn describe_alias(&self, function: &str, alias: &AliasRecord) -> api::AliasConfiguration {
        api::AliasConfiguration {
            alias_arn: self.registry().arn(function, Some(&alias.name)),
            name: alias.name.clone(),
            function_version: alias.function_version.clone(),
            description: alias.description.clone(),
            routing_config: (!alias.additional_version_weights.is_empty()).then(|| {
                api::AliasRoutingConfiguration {
                    additional_version_weights: Some(alias.additional_version_weights.clone()),
                }
            }),
            revision_id: alias.revision_id.clone(),
        }
    }

    /// Checks that `version` exists as a target of an alias.
    fn check_alias_target(&self, function: &str, version: &str) -> Result<()> {
        if version != LATEST && !is_version_number(version) {
            return Err(validation(
                version,
                "functionVersion",
                r"Member must satisfy regular expression pattern: (\$LATEST|[0-9]+)",
            ));
        }
        self.registry()
            .version(function, version)?
            .ok_or_else(|| self.registry().not_found(function, Some(version)))?;
        Ok(())
    }

    /// Validates an alias' weighted routing against its primary version.
    fn check_routing(
        &self,
        function: &str,
        primary: &str,
        weights: &BTreeMap<String, f64>,
    ) -> Result<()> {
        if weights.len() > 1 {
            return Err(validation(
                format!("{weights:?}"),
                "routingConfig.additionalVersionWeights",
                "Member must have length less than or equal to 1",
            ));
        }
        for (version, weight) in weights {
            if !(0.0..=1.0).contains(weight) {
                return Err(validation(
                    weight,
                    "routingConfig.additionalVersionWeights",
                    "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]",
                ));
            }
            if primary == LATEST {
                return Err(FunctionsError::InvalidParameterValue(
                    "$LATEST is not supported for an alias pointing to more than 1 version".into(),
                ));
            }
            if !is_version_number(version) {
                return Err(FunctionsError::InvalidParameterValue(format!(
                    "Invalid function version {version}. Function version {version} is not a published version."
                )));
            }
            if version == primary {
                return Err(FunctionsError::InvalidParameterValue(format!(
                    "Invalid function version {version}. Function version {version} is already included in routing configuration."
                )));
            }
            self.check_alias_target(function, version)?;
        }
        Ok(())
    }

    fn check_alias_name(name: &str) -> Result<()> {
        max_length(name, "name", 128)?;
        if !is_name(name) || is_version_number(name) {
            return Err(validation(
                name,
                "name",
                "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
            ));
        }
        Ok(())
    }

    fn alias_not_found(&self, function: &str, alias: &str) -> FunctionsError {
        FunctionsError::ResourceNotFound(format!(
            "Alias not found: {}",
            self.registry().arn(function, Some(alias))
        ))
    }

    pub fn create_alias(
        &self,
        function_name: &str,
        request: api::CreateAliasRequest,
    ) -> Result<api::AliasConfiguration> {
        let function = self.locate_function(function_name)?;
        let alias_name = request.name.ok_or_else(|| missing("name"))?;
        Self::check_alias_name(&alias_name)?;
        let version = request
            .function_version
            .ok_or_else(|| missing("functionVersion"))?;
        let description = request.description.unwrap_or_default();
        max_length(&description, "description", 256)?;
        let weights = request
            .routing_config
            .and_then(|r| r.additional_version_weights)
            .unwrap_or_default();
        let alias = self.registry().update(&function, |_, writes| {
            if self.registry().alias(&function, &alias_name)?.is_some() {
                return Err(FunctionsError::ResourceConflict(format!(
                    "Alias already exists: {}",
                    self.registry().arn(&function, Some(&alias_name))
                )));
            }
            self.check_alias_target(&function, &version)?;
            self.check_routing(&function, &version, &weights)?;
            let alias = AliasRecord {
                name: alias_name.clone(),
                function_version: version.clone(),
                description: description.clone(),
                additional_version_weights: weights.clone(),
                revision_id: new_revision(),
            };
            writes.put_alias(&function, &alias)?;
            Ok(alias)
        })?;
        Ok(self.describe_alias(&function, &alias))
    }

    pub fn get_alias(&self, function_name: &str, name: &str) -> Result<api::AliasConfiguration> {
        let function = self.locate_function(function_name)?;
        let alias = self
            .registry()
            .alias(&function, name)?
            .ok_or_else(|| self.alias_not_found(&function, name))?;
        Ok(self.describe_alias(&function, &alias))
    }

    pub fn update_alias(
        &self,
        function_name: &str,
        name: &str,
        request: api::UpdateAliasRequest,
    ) -> Result<api::AliasConfiguration> {
        let function = self.locate_function(function_name)?;
        if let Some(description) = &request.description {
            max_length(description, "description", 256)?;
        }
        let alias = self.registry().update(&function, |_, writes| {
            let mut alias = self
                .registry()
                .alias(&function, name)?
                .ok_or_else(|| self.alias_not_found(&function, name))?;
            check_revision(
                request.revision_id.as_deref(),
                &alias.revision_id,
                "GetAlias",
            )?;
            if let Some(version) = request.function_version {
                self.check_alias_target(&function, &version)?;
                alias.function_version = version;
            }
            if let Some(description) = request.description {
                alias.description = description;
            }
            if let Some(routing) = request.routing_config {
                alias.additional_version_weights =
                    routing.additional_version_weights.unwrap_or_default();
            }
            self.check_routing(
                &function,
                &alias.function_version,
                &alias.additional_version_weights,
            )?;
            alias.revision_id = new_revision();
            writes.put_alias(&function, &alias)?;
            Ok(alias)
        })?;
        Ok(self.describe_alias(&function, &alias))
    }

    pub fn list_aliases(
        &self,
        function_name: &str,
        function_version: Option<&str>,
        page: &Page,
    ) -> Result<api::ListAliasesResponse> {
        let function = self.locate_function(function_name)?;
        let items = self
            .registry()
            .aliases(&function)?
            .into_iter()
            .filter(|a| {
                function_version.is_none_or(|v| {
                    a.function_version == v || a.additional_version_weights.contains_key(v)
                })
            })
            .map(|a| (a.name.clone(), self.describe_alias(&function, &a)))
            .collect();
        let (aliases, next_marker) = paginate(items, page)?;
        Ok(api::ListAliasesResponse {
            aliases,
            next_marker,
        })
    }

    pub fn delete_alias(&self, function_name: &str, name: &str) -> Result<()> {
        let function = self.locate_function(function_name)?;
        self.registry().update(&function, |meta, writes| {
            if self.registry().alias(&function, name)?.is_none() {
                return Err(self.alias_not_found(&function, name));
            }
            writes.delete_alias(&function, name);
            meta.policies.remove(name);
            if let Some(url) = meta.urls.remove(name) {
                writes.delete_url_index(&url.url_id);
            }
            meta.event_invoke.remove(name);
            Ok(())
        })?;
        self.on_function_changed(&function);
        Ok(())
    }

    pub fn put_function_concurrency(
        &self,
        function_name: &str,
        reserved: Option<i64>,
    ) -> Result<api::Concurrency> {
        let function = self.locate_function(function_name)?;
        let reserved = reserved.ok_or_else(|| missing("reservedConcurrentExecutions"))?;
        let reserved = in_range(
            reserved,
            "reservedConcurrentExecutions",
            0,
            i64::from(u32::MAX),
        )?;
        self.registry().update(&function, |meta, _| {
            let others: u32 = self
                .registry()
                .all()?
                .iter()
                .filter(|m| m.name != function)
                .filter_map(|m| m.reserved_concurrency)
                .sum();
            if u64::from(others) + u64::from(reserved)
                > u64::from(ACCOUNT_CONCURRENCY - MIN_UNRESERVED_CONCURRENCY)
            {
                return Err(FunctionsError::InvalidParameterValue(format!(
                    "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [{MIN_UNRESERVED_CONCURRENCY}]."
                )));
            }
            meta.reserved_concurrency = Some(reserved);
            Ok(())
        })?;
        self.on_function_changed(&function);
        Ok(api::Concurrency {
            reserved_concurrent_executions: reserved,
        })
    }

    pub fn get_function_concurrency(
        &self,
        function_name: &str,
    ) -> Result<api::GetFunctionConcurrencyResponse> {
        let function = self.locate_function(function_name)?;
        let meta = self.registry().existing(&function)?;
        Ok(api::GetFunctionConcurrencyResponse {
            reserved_concurrent_executions: meta.reserved_concurrency,
        })
    }

    pub fn delete_function_concurrency(&self, function_name: &str) -> Result<()> {
        let function = self.locate_function(function_name)?;
        self.registry().update(&function, |meta, _| {
            meta.reserved_concurrency = None;
            Ok(())
        })?;
        self.on_function_changed(&function);
        Ok(())
    }

    pub fn get_account_settings(&self) -> Result<api::GetAccountSettingsResponse> {
        let functions = self.registry().all()?;
        let reserved: u32 = functions
            .iter()
            .filter_map(|m| m.reserved_concurrency)
            .sum();
        let total_code_size = self
            .registry()
            .all_versions()?
            .iter()
            .map(|v| v.config.code_size)
            .sum();
        Ok(api::GetAccountSettingsResponse {
            account_limit: api::AccountLimit {
                total_code_size: TOTAL_CODE_SIZE_LIMIT,
                code_size_unzipped: code::MAX_UNZIPPED,
                code_size_zipped: CODE_SIZE_ZIPPED,
                concurrent_executions: ACCOUNT_CONCURRENCY,
                unreserved_concurrent_executions: ACCOUNT_CONCURRENCY.saturating_sub(reserved),
            },
            account_usage: api::AccountUsage {
                total_code_size,
                function_count: functions.len() as u64,
            },
        })
    }

    /// The statements of the resource policy of `name` (unqualified: `qualifier` `None`), for
    /// callers that check who may invoke a function.
    pub fn policy_statements(
        &self,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<Vec<serde_json::Value>> {
        let meta = self.registry().existing(name)?;
        Ok(meta
            .policies
            .get(qualifier.unwrap_or(""))
            .map(|p| p.statements.clone())
            .unwrap_or_default())
    }

    /// Checks that `qualifier` names an existing version or alias of `function`.
    fn check_qualifier(&self, function: &str, qualifier: Option<&str>) -> Result<()> {
        match qualifier {
            None | Some(LATEST) => Ok(()),
            Some(q) if is_version_number(q) => self.check_alias_target(function, q),
            Some(q) => self
                .registry()
                .alias(function, q)?
                .map(|_| ())
                .ok_or_else(|| self.registry().not_found(function, Some(q))),
        }
    }

    pub fn add_permission(
        &self,
        function_name: &str,
        qualifier: Option<&str>,
        request: api::AddPermissionRequest,
    ) -> Result<api::AddPermissionResponse> {
        let (r, _) = self.locate(function_name, qualifier)?;
        let function = r.name;
        let q = r.qualifier;
        let sid = request.statement_id.ok_or_else(|| missing("statementId"))?;
        if sid.len() > 100 || !is_name(&sid) {
            return Err(validation(
                &sid,
                "statementId",
                "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)",
            ));
        }
        let action = request.action.ok_or_else(|| missing("action"))?;
        let principal = request.principal.ok_or_else(|| missing("principal"))?;
        let principal_json = if principal == "*" {
            serde_json::json!("*")
        } else if principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit()) {
            serde_json::json!({ "AWS": format!("arn:aws:iam::{principal}:root") })
        } else if principal.starts_with("arn:") {
            serde_json::json!({ "AWS": principal })
        } else {
            serde_json::json!({ "Service": principal })
        };
        let mut string_equals = serde_json::Map::new();
        let mut condition = serde_json::Map::new();
        if let Some(account) = request.source_account {
            string_equals.insert("AWS:SourceAccount".into(), account.into());
        }
        if let Some(org) = request.principal_org_id {
            string_equals.insert("aws:PrincipalOrgID".into(), org.into());
        }
        if let Some(token) = request.event_source_token {
            string_equals.insert("lambda:EventSourceToken".into(), token.into());
        }
        if let Some(auth) = request.function_url_auth_type {
            string_equals.insert("lambda:FunctionUrlAuthType".into(), auth.into());
        }
        if !string_equals.is_empty() {
            condition.insert("StringEquals".into(), string_equals.into());
        }
        if let Some(source) = request.source_arn {
            condition.insert(
                "ArnLike".into(),
                serde_json::json!({ "AWS:SourceArn": source }),
            );
        }
        let mut statement = serde_json::json!({
            "Sid": sid,
            "Effect": "Allow",
            "Principal": principal_json,
            "Action": action,
            "Resource": self.registry().arn(&function, q.as_deref()),
        });
        if !condition.is_empty() {
            statement["Condition"] = condition.into();
        }
        self.registry().update(&function, |meta, _| {
            self.check_qualifier(&function, q.as_deref())?;
            let policy = meta
                .policies
                .entry(q.clone().unwrap_or_default())
                .or_insert_with(Policy::default);
            check_revision(request.revision_id.as_deref(), &policy.revision_id, "GetPolicy")?;
            if policy.statements.iter().any(|s| s["Sid"] == sid.as_str()) {
                return Err(FunctionsError::ResourceConflict(format!(
                    "The statement id ({sid}) provided already exists. Please choose a new statement id, or remove the existing statement."
                )));
            }
            policy.statements.push(statement.clone());
            policy.revision_id = new_revision();
            Ok(())
        })?;
        Ok(api::AddPermissionResponse {
            statement: statement.to_string(),
        })
    }

    pub fn remove_permission(
        &self,
        function_name: &str,
        statement_id: &str,
        qualifier: Option<&str>,
        revision_id: Option<&str>,
    ) -> Result<()> {
        let (r, _) = self.locate(function_name, qualifier)?;
        let function = r.name;
        let key = r.qualifier.unwrap_or_default();
        self.registry().update(&function, |meta, _| {
            let absent = || {
                FunctionsError::ResourceNotFound(format!(
                    "Statement {statement_id} is not found in resource policy."
                ))
            };
            let policy = meta.policies.get_mut(&key).ok_or_else(absent)?;
            check_revision(revision_id, &policy.revision_id, "GetPolicy")?;
            let before = policy.statements.len();
            policy.statements.retain(|s| s["Sid"] != statement_id);
            if policy.statements.len() == before {
                return Err(absent());
            }
            policy.revision_id = new_revision();
            if policy.statements.is_empty() {
                meta.policies.remove(&key);
            }
            Ok(())
        })
    }

    pub fn get_policy(
        &self,
        function_name: &str,
        qualifier: Option<&str>,
    ) -> Result<api::GetPolicyResponse> {
        let (r, meta) = self.locate(function_name, qualifier)?;
        self.check_qualifier(&r.name, r.qualifier.as_deref())?;
        let policy = meta
            .policies
            .get(r.qualifier.as_deref().unwrap_or(""))
            .filter(|p| !p.statements.is_empty())
            .ok_or_else(|| {
                FunctionsError::ResourceNotFound(
                    "The resource you requested does not exist.".into(),
                )
            })?;
        let document = serde_json::json!({
            "Version": "2012-10-17",
            "Id": "default",
            "Statement": policy.statements,
        });
        Ok(api::GetPolicyResponse {
            policy: document.to_string(),
            revision_id: policy.revision_id.clone(),
        })
    }

    /// The function a taggable resource ARN names (tags belong to unqualified functions).
    fn tagged_function(&self, resource: &str) -> Result<String> {
        let r = self.registry().parse_name(resource, None)?;
        if r.qualifier.is_some() {
            return Err(FunctionsError::InvalidParameterValue(
                "Tags on function aliases and versions are not supported. Please specify a function ARN.".into(),
            ));
        }
        self.registry().existing(&r.name)?;
        Ok(r.name)
    }

    pub fn tag_resource(
        &self,
        resource: &str,
        tags: Option<BTreeMap<String, String>>,
    ) -> Result<()> {
        let tags = tags.ok_or_else(|| missing("tags"))?;
        if tags.is_empty() {
            // Lambda's own words for an empty tag map.
            return Err(FunctionsError::InvalidParameterValue(
                "An error occurred and the request cannot be processed.".into(),
            ));
        }
        let function = self.tagged_function(resource)?;
        self.registry().update(&function, |meta, _| {
            meta.tags.extend(tags);
            if meta.tags.len() > 50 {
                return Err(FunctionsError::InvalidParameterValue(
                    "Number of tags exceeds resource tag limit.".into(),
                ));
            }
            Ok(())
        })
    }

    pub fn untag_resource(&self, resource: &str, keys: &[String]) -> Result<()> {
        if keys.is_empty() {
            return Err(FunctionsError::Validation(
                "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null".into(),
            ));
        }
        let function = self.tagged_function(resource)?;
        self.registry().update(&function, |meta, _| {
            for key in keys {
                meta.tags.remove(key);
            }
            Ok(())
        })
    }

    pub fn list_tags(&self, resource: &str) -> Result<api::ListTagsResponse> {
        let function = self.tagged_function(resource)?;
        let meta = self.registry().existing(&function)?;
        Ok(api::ListTagsResponse { tags: meta.tags })
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::Arc;

    use nimbus_store::Store;
    use nimbus_store::mem::MemStore;

    use super::*;

    const ROLE: &str = "arn:aws:iam::000000000000:role/lambda-role";

    fn service(store: Arc<dyn Store>) -> Functions {
        let usage = Arc::new(nimbus_metering::Totals::new());
        Functions::new(store, crate::registry::tests::config(), usage).expect("service")
    }

    fn zip_b64(source: &str) -> String {
        let mut buf = std::io::Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut buf);
        w.start_file("app.py", zip::write::SimpleFileOptions::default())
            .expect("start");
        w.write_all(source.as_bytes()).expect("write");
        w.finish().expect("finish");
        base64::engine::general_purpose::STANDARD.encode(buf.into_inner())
    }

    fn request(name: &str) -> api::CreateFunctionRequest {
        api::CreateFunctionRequest {
            function_name: Some(name.into()),
            code: Some(api::FunctionCode {
                zip_file: Some(zip_b64("def handler(e, c):\n    return e\n")),
                ..Default::default()
            }),
            settings: api::FunctionSettings {
                runtime: Some("python3.12".into()),
                role: Some(ROLE.into()),
                handler: Some("app.handler".into()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    /// The request of [`request`] with its settings changed by `change`.
    fn with(
        name: &str,
        change: impl FnOnce(&mut api::FunctionSettings),
    ) -> api::CreateFunctionRequest {
        let mut r = request(name);
        change(&mut r.settings);
        r
    }

    fn configure(
        change: impl FnOnce(&mut api::FunctionSettings),
    ) -> api::UpdateFunctionConfigurationRequest {
        let mut r = api::UpdateFunctionConfigurationRequest::default();
        change(&mut r.settings);
        r
    }

    fn create(f: &Functions, name: &str) -> FunctionConfiguration {
        f.create_function(request(name)).expect("create")
    }

    fn error_text(e: FunctionsError) -> String {
        format!("{e:?}")
    }

    #[test]
    fn functions_keep_their_layers_and_layer_blobs_live_while_used() {
        let store: Arc<dyn Store> = Arc::new(MemStore::new());
        let f = service(Arc::clone(&store));
        let publish = |source: &str| {
            f.publish_layer_version(
                "deps",
                api::PublishLayerVersionRequest {
                    content: Some(api::LayerVersionContentInput {
                        zip_file: Some(zip_b64(source)),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            )
            .expect("publish")
        };
        let one = publish("x = 1\n");
        let two = publish("x = 2\n");
        assert_eq!((one.version, two.version), (1, 2));
        assert_eq!(one.layer_version_arn, format!("{}:1", f.layer_arn("deps")));

        let c = f
            .create_function(with("uses", |s| {
                s.layers = Some(vec![one.layer_version_arn.clone()])
            }))
            .expect("create");
        let layers = c.layers.expect("layers");
        assert_eq!(layers[0].arn, one.layer_version_arn);
        assert_eq!(layers[0].code_size, one.content.code_size);

        // Deleting the layer version leaves the function its copy.
        f.delete_layer_version("deps", "1").expect("delete");
        let sha = hex::encode(
            base64::engine::general_purpose::STANDARD
                .decode(&one.content.code_sha256)
                .expect("b64"),
        );
        assert!(code::get(store.as_ref(), &sha).is_ok(), "still used");
        assert!(matches!(
            f.get_layer_version("deps", "1"),
            Err(FunctionsError::ResourceNotFound(_))
        ));
        // Unknown versions, duplicates, malformed ARNs and more than five are refused.
        let missing = format!("{}:9", f.layer_arn("deps"));
        let e = f
            .update_function_configuration(
                "uses",
                configure(|s| s.layers = Some(vec![missing.clone()])),
            )
            .expect_err("unknown");
        assert!(
            matches!(&e, FunctionsError::InvalidParameterValue(m) if m.contains(&missing)),
            "{e:?}"
        );
        let e = f
            .update_function_configuration(
                "uses",
                configure(|s| s.layers = Some(vec![two.layer_version_arn.clone(); 6])),
            )
            .expect_err("six");
        assert!(matches!(e, FunctionsError::InvalidParameterValue(_)));
        let e = f
            .update_function_configuration(
                "uses",
                configure(|s| s.layers = Some(vec!["not-an-arn".into()])),
            )
            .expect_err("malformed");
        assert!(matches!(e, FunctionsError::Validation(_)));
        // Code plus layers may unzip to 250 MB.
        let big = crate::model::LayerRef {
            arn: two.layer_version_arn.clone(),
            code_size: 1,
            sha256_hex: String::new(),
            unzipped_size: code::MAX_UNZIPPED,
        };
        assert!(Functions::check_unzipped_total(0, std::slice::from_ref(&big)).is_ok());
        assert!(matches!(
            Functions::check_unzipped_total(1, &[big]),
            Err(FunctionsError::InvalidParameterValue(m)) if m.contains("combined with layers")
        ));
        // Moving to version 2 releases version 1's blob.
        f.update_function_configuration(
            "uses",
            configure(|s| s.layers = Some(vec![two.layer_version_arn.clone()])),
        )
        .expect("update");
        assert!(code::get(store.as_ref(), &sha).is_err(), "collected");
        f.delete_function("uses", None).expect("delete");
        assert!(
            f.get_layer_version("deps", "2").is_ok(),
            "the layer keeps its own"
        );
    }

    #[test]
    fn creation_applies_defaults_and_refuses_duplicates() {
        let f = service(Arc::new(MemStore::new()));
        let c = create(&f, "hello");
        assert_eq!(
            (
                c.memory_size,
                c.timeout,
                c.ephemeral_storage.size,
                c.version.as_str()
            ),
            (128, 3, 512, "$LATEST")
        );
        assert_eq!(
            c.function_arn,
            "arn:aws:lambda:us-east-1:000000000000:function:hello"
        );
        assert_eq!(
            c.logging_config.log_group.as_deref(),
            Some("/aws/lambda/hello")
        );
        assert_eq!(c.code_sha256.len(), 44, "base64 of 32 bytes");
        let dup = f.create_function(request("hello")).expect_err("duplicate");
        assert!(
            matches!(&dup, FunctionsError::ResourceConflict(m) if m == "Function already exist: hello")
        );
    }

    #[test]
    fn ranges_runtimes_and_environment_are_validated() {
        let f = service(Arc::new(MemStore::new()));
        let cases: Vec<(api::CreateFunctionRequest, &str)> = vec![
            (
                with("m", |s| s.memory_size = Some(127)),
                "greater than or equal to 128",
            ),
            (
                with("m", |s| s.memory_size = Some(10241)),
                "less than or equal to 10240",
            ),
            (
                with("m", |s| s.timeout = Some(901)),
                "less than or equal to 900",
            ),
            (
                with("m", |s| {
                    s.ephemeral_storage = Some(api::EphemeralStorage { size: Some(511) })
                }),
                "ephemeralStorage.size",
            ),
            (
                with("m", |s| s.runtime = Some("cobol85".into())),
                "Value cobol85 at 'runtime' failed to satisfy constraint",
            ),
            (
                with("m", |s| s.runtime = Some("python2.7".into())),
                "no longer supported",
            ),
            (
                with("m", |s| s.handler = None),
                "Runtime and Handler are mandatory",
            ),
            (
                with("m", |s| {
                    s.environment = Some(api::Environment {
                        variables: Some([("AWS_REGION".to_owned(), "x".to_owned())].into()),
                    })
                }),
                "Reserved keys used in this request: AWS_REGION",
            ),
            (
                with("m", |s| {
                    s.environment = Some(api::Environment {
                        variables: Some([("BIG".to_owned(), "x".repeat(4096))].into()),
                    })
                }),
                "exceeded the 4KB limit",
            ),
            (
                with("m", |s| s.role = Some("not-a-role".into())),
                "at 'role'",
            ),
        ];
        for (req, expected) in cases {
            let err = error_text(f.create_function(req).expect_err(expected));
            assert!(err.contains(expected), "{err} lacks {expected}");
        }
        let provided = with("custom", |s| {
            s.runtime = Some("provided.al2023".into());
            s.handler = None;
        });
        f.create_function(provided)
            .expect("provided runtimes need no handler");
        assert_eq!(
            f.get_account_settings()
                .expect("settings")
                .account_usage
                .function_count,
            1
        );
    }

    #[test]
    fn versions_publish_once_per_change_and_keep_their_snapshot() {
        let f = service(Arc::new(MemStore::new()));
        create(&f, "v");
        let publish = |f: &Functions| {
            f.publish_version("v", api::PublishVersionRequest::default())
                .expect("publish")
        };
        let v1 = publish(&f);
        assert_eq!(v1.version, "1");
        assert_eq!(v1.function_arn, f.registry().arn("v", Some("1")));
        assert_eq!(publish(&f).version, "1", "unchanged code and configuration");
        let update = configure(|s| s.memory_size = Some(256));
        let latest = f
            .update_function_configuration("v", update)
            .expect("update");
        let stale = api::PublishVersionRequest {
            revision_id: Some("stale".into()),
            ..Default::default()
        };
        assert!(matches!(
            f.publish_version("v", stale),
            Err(FunctionsError::PreconditionFailed(_))
        ));
        let v2 = f
            .publish_version(
                "v",
                api::PublishVersionRequest {
                    revision_id: Some(latest.revision_id),
                    ..Default::default()
                },
            )
            .expect("publish 2");
        assert_eq!((v2.version.as_str(), v2.memory_size), ("2", 256));
        let one = f.get_function_configuration("v", Some("1")).expect("v1");
        assert_eq!(one.memory_size, 128);
        let listed = f
            .list_versions_by_function("v", &Page::default())
            .expect("list");
        let names: Vec<&str> = listed.versions.iter().map(|v| v.version.as_str()).collect();
        assert_eq!(names, ["$LATEST", "1", "2"]);
        f.delete_function("v", Some("1")).expect("delete v1");
        assert!(matches!(
            f.get_function_configuration("v", Some("1")),
            Err(FunctionsError::ResourceNotFound(m)) if m.ends_with("function:v:1")
        ));
        assert!(matches!(
            f.delete_function("v", Some("$LATEST")),
            Err(FunctionsError::InvalidParameterValue(_))
        ));
        let v3 = f
            .update_function_code(
                "v",
                api::UpdateFunctionCodeRequest {
                    zip_file: Some(zip_b64("# new code\n")),
                    publish: Some(true),
                    ..Default::default()
                },
            )
            .expect("update code");
        assert_eq!(v3.version, "3", "numbers are never reused");
    }

    #[test]
    fn aliases_route_by_weight_and_protect_their_versions() {
        let f = service(Arc::new(MemStore::new()));
        create(&f, "a");
        f.publish_version("a", api::PublishVersionRequest::default())
            .expect("v1");
        f.update_function_configuration("a", configure(|s| s.timeout = Some(10)))
            .expect("update");
        f.publish_version("a", api::PublishVersionRequest::default())
            .expect("v2");
        let alias = |weight: f64| api::CreateAliasRequest {
            name: Some("live".into()),
            function_version: Some("1".into()),
            routing_config: Some(api::AliasRoutingConfiguration {
                additional_version_weights: Some([("2".to_owned(), weight)].into()),
            }),
            ..Default::default()
        };
        assert!(matches!(
            f.create_alias("a", alias(1.5)),
            Err(FunctionsError::Validation(_))
        ));
        let created = f.create_alias("a", alias(0.3)).expect("alias");
        assert_eq!(created.alias_arn, f.registry().arn("a", Some("live")));
        assert!(matches!(
            f.create_alias("a", alias(0.3)),
            Err(FunctionsError::ResourceConflict(_))
        ));
        let picks: Vec<String> = (0..400)
            .map(|_| {
                f.registry()
                    .resolve("a", Some("live"))
                    .expect("resolve")
                    .config
                    .version
            })
            .collect();
        let twos = picks.iter().filter(|v| *v == "2").count();
        assert!(
            (60..=180).contains(&twos),
            "{twos} of 400 went to version 2"
        );
        let resolved = f.registry().resolve("a:live", None).expect("resolve");
        assert_eq!(resolved.invoked_arn, f.registry().arn("a", Some("live")));
        assert!(matches!(
            f.delete_function("a", Some("2")),
            Err(FunctionsError::ResourceConflict(_))
        ));
        let moved = f
            .update_alias(
                "a",
                "live",
                api::UpdateAliasRequest {
                    function_version: Some("2".into()),
                    routing_config: Some(api::AliasRoutingConfiguration::default()),
                    revision_id: Some(created.revision_id.clone()),
                    ..Default::default()
                },
            )
            .expect("update alias");
        assert_eq!(moved.function_version, "2");
        assert!(matches!(
            f.update_alias(
                "a",
                "live",
                api::UpdateAliasRequest {
                    revision_id: Some(created.revision_id),
                    ..Default::default()
                }
            ),
            Err(FunctionsError::PreconditionFailed(_))
        ));
        assert_eq!(
            f.registry()
                .resolve("a", Some("live"))
                .expect("resolve")
                .config
                .version,
            "2"
        );
        f.delete_alias("a", "live").expect("delete alias");
        assert!(matches!(
            f.registry().resolve("a", Some("live")),
            Err(FunctionsError::ResourceNotFound(m))
                if m == "Function not found: arn:aws:lambda:us-east-1:000000000000:function:a:live"
        ));
    }

    #[test]
    fn reserved_concurrency_leaves_the_unreserved_minimum() {
        let f = service(Arc::new(MemStore::new()));
        create(&f, "c1");
        create(&f, "c2");
        f.put_function_concurrency("c1", Some(800)).expect("800");
        let err = f
            .put_function_concurrency("c2", Some(101))
            .expect_err("over");
        assert!(error_text(err).contains("below its minimum value of [100]"));
        f.put_function_concurrency("c2", Some(100)).expect("100");
        let settings = f.get_account_settings().expect("settings");
        assert_eq!(settings.account_limit.unreserved_concurrent_executions, 100);
        assert_eq!(
            f.registry()
                .resolve("c1", None)
                .expect("resolve")
                .reserved_concurrency,
            Some(800)
        );
        f.delete_function_concurrency("c1").expect("delete");
        assert_eq!(
            f.get_function_concurrency("c1")
                .expect("get")
                .reserved_concurrent_executions,
            None
        );
    }

    #[test]
    fn everything_survives_a_restart_and_deletion_removes_unused_code() {
        let store: Arc<dyn Store> = Arc::new(MemStore::new());
        let sha;
        {
            let f = service(Arc::clone(&store));
            let c = create(&f, "p");
            f.publish_version("p", api::PublishVersionRequest::default())
                .expect("v1");
            f.tag_resource(
                &c.function_arn,
                Some([("team".to_owned(), "x".to_owned())].into()),
            )
            .expect("tag");
            f.add_permission(
                "p",
                None,
                api::AddPermissionRequest {
                    statement_id: Some("gw".into()),
                    action: Some("lambda:InvokeFunction".into()),
                    principal: Some("apigateway.amazonaws.com".into()),
                    ..Default::default()
                },
            )
            .expect("permission");
            sha = f.latest("p").expect("latest").config.code_sha256_hex;
        }
        let f = service(Arc::clone(&store));
        let got = f.get_function("p", None).expect("get");
        assert_eq!(got.tags.expect("tags")["team"], "x");
        assert!(got.code.location.contains(&sha));
        assert_eq!(f.policy_statements("p", None).expect("policy").len(), 1);
        let listed = f.list_functions(true, &Page::default()).expect("list");
        assert_eq!(listed.functions.len(), 2);
        f.delete_function("p", None).expect("delete");
        assert!(code::get(store.as_ref(), &sha).is_err(), "package removed");
        assert!(f.registry().all().expect("all").is_empty());
    }

    #[test]
    fn code_locations_are_signed_and_expire() {
        let f = service(Arc::new(MemStore::new()));
        create(&f, "d");
        let sha = f.latest("d").expect("latest").config.code_sha256_hex;
        let url = f.code_location(&sha);
        let query = url.split_once('?').expect("query").1;
        let params: BTreeMap<&str, &str> = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .collect();
        let zip = f
            .download_code(&sha, params["expires"], params["token"])
            .expect("download")
            .expect("authorized");
        assert!(zip.starts_with(b"PK"));
        assert!(
            f.download_code(&sha, "1", params["token"])
                .expect("checked")
                .is_none()
        );
        let forged = "0".repeat(64);
        assert!(
            f.download_code(&sha, params["expires"], &forged)
                .expect("checked")
                .is_none()
        );
    }

    #[test]
    fn pages_follow_markers() {
        let f = service(Arc::new(MemStore::new()));
        for name in ["f-a", "f", "f1", "g"] {
            create(&f, name);
        }
        let mut seen = Vec::new();
        let mut page = Page {
            marker: None,
            max_items: Some(1),
        };
        loop {
            let out = f.list_functions(true, &page).expect("page");
            seen.extend(out.functions.into_iter().map(|c| c.function_name));
            match out.next_marker {
                Some(m) => page.marker = Some(m),
                None => break,
            }
        }
        assert_eq!(seen, ["f", "f-a", "f1", "g"]);
    }
}
