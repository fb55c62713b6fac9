//! The Lambda control API as data: the typed operations ([`ControlOp`]) that the REST layer in
//! `nimbus-aws` parses requests into, and the wire shapes of their requests and responses, with
//! the field names of Lambda's service model (`2015-03-31`). No HTTP here: the REST layer maps
//! paths, query strings and status codes; [`ControlOp::success_status`] is the model's
//! `responseCode`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Largest synchronous invocation payload (request and response), in bytes.
pub const MAX_SYNC_PAYLOAD: usize = 6 * 1024 * 1024;
/// Largest asynchronous (`Event`) invocation payload, in bytes (1 MB since Lambda raised it
/// from 256 KB; the Invoke documentation of the service model says so).
pub const MAX_ASYNC_PAYLOAD: usize = 1024 * 1024;

/// One control-plane operation, parsed from its REST request.
#[derive(Debug, Clone, PartialEq)]
pub enum ControlOp {
    CreateFunction(CreateFunctionRequest),
    GetFunction {
        function_name: String,
        qualifier: Option<String>,
    },
    GetFunctionConfiguration {
        function_name: String,
        qualifier: Option<String>,
    },
    ListFunctions {
        /// `FunctionVersion=ALL`: every version, not only `$LATEST`.
        all_versions: bool,
        page: Page,
    },
    UpdateFunctionCode {
        function_name: String,
        request: UpdateFunctionCodeRequest,
    },
    UpdateFunctionConfiguration {
        function_name: String,
        request: UpdateFunctionConfigurationRequest,
    },
    DeleteFunction {
        function_name: String,
        qualifier: Option<String>,
    },
    PublishVersion {
        function_name: String,
        request: PublishVersionRequest,
    },
    ListVersionsByFunction {
        function_name: String,
        page: Page,
    },
    CreateAlias {
        function_name: String,
        request: CreateAliasRequest,
    },
    GetAlias {
        function_name: String,
        name: String,
    },
    UpdateAlias {
        function_name: String,
        name: String,
        request: UpdateAliasRequest,
    },
    ListAliases {
        function_name: String,
        function_version: Option<String>,
        page: Page,
    },
    DeleteAlias {
        function_name: String,
        name: String,
    },
    PutFunctionConcurrency {
        function_name: String,
        request: PutFunctionConcurrencyRequest,
    },
    GetFunctionConcurrency {
        function_name: String,
    },
    DeleteFunctionConcurrency {
        function_name: String,
    },
    GetAccountSettings,
    AddPermission {
        function_name: String,
        qualifier: Option<String>,
        request: AddPermissionRequest,
    },
    RemovePermission {
        function_name: String,
        statement_id: String,
        qualifier: Option<String>,
        revision_id: Option<String>,
    },
    GetPolicy {
        function_name: String,
        qualifier: Option<String>,
    },
    CreateFunctionUrlConfig {
        function_name: String,
        qualifier: Option<String>,
        request: crate::urls::UrlConfigRequest,
    },
    GetFunctionUrlConfig {
        function_name: String,
        qualifier: Option<String>,
    },
    UpdateFunctionUrlConfig {
        function_name: String,
        qualifier: Option<String>,
        request: crate::urls::UrlConfigRequest,
    },
    DeleteFunctionUrlConfig {
        function_name: String,
        qualifier: Option<String>,
    },
    ListFunctionUrlConfigs {
        function_name: String,
        page: Page,
    },
    /// Put (`replace`) and UpdateFunctionEventInvokeConfig.
    PutFunctionEventInvokeConfig {
        function_name: String,
        qualifier: Option<String>,
        request: crate::event_invoke::EventInvokeRequest,
        replace: bool,
    },
    GetFunctionEventInvokeConfig {
        function_name: String,
        qualifier: Option<String>,
    },
    DeleteFunctionEventInvokeConfig {
        function_name: String,
        qualifier: Option<String>,
    },
    ListFunctionEventInvokeConfigs {
        function_name: String,
        page: Page,
    },
    TagResource {
        resource: String,
        request: TagResourceRequest,
    },
    UntagResource {
        resource: String,
        tag_keys: Vec<String>,
    },
    ListTags {
        resource: String,
    },
    PublishLayerVersion {
        layer_name: String,
        request: PublishLayerVersionRequest,
    },
    GetLayerVersion {
        layer_name: String,
        version: String,
    },
    GetLayerVersionByArn {
        arn: String,
    },
    ListLayers {
        filter: LayerFilter,
        page: Page,
    },
    ListLayerVersions {
        layer_name: String,
        filter: LayerFilter,
        page: Page,
    },
    DeleteLayerVersion {
        layer_name: String,
        version: String,
    },
    AddLayerVersionPermission {
        layer_name: String,
        version: String,
        revision_id: Option<String>,
        request: AddLayerVersionPermissionRequest,
    },
    GetLayerVersionPolicy {
        layer_name: String,
        version: String,
    },
    RemoveLayerVersionPermission {
        layer_name: String,
        version: String,
        statement_id: String,
        revision_id: Option<String>,
    },
}

impl ControlOp {
    /// The operation's name in the service model.
    pub fn name(&self) -> &'static str {
        match self {
            ControlOp::CreateFunction(_) => "CreateFunction",
            ControlOp::GetFunction { .. } => "GetFunction",
            ControlOp::GetFunctionConfiguration { .. } => "GetFunctionConfiguration",
            ControlOp::ListFunctions { .. } => "ListFunctions",
            ControlOp::UpdateFunctionCode { .. } => "UpdateFunctionCode",
            ControlOp::UpdateFunctionConfiguration { .. } => "UpdateFunctionConfiguration",
            ControlOp::DeleteFunction { .. } => "DeleteFunction",
            ControlOp::PublishVersion { .. } => "PublishVersion",
            ControlOp::ListVersionsByFunction { .. } => "ListVersionsByFunction",
            ControlOp::CreateAlias { .. } => "CreateAlias",
            ControlOp::GetAlias { .. } => "GetAlias",
            ControlOp::UpdateAlias { .. } => "UpdateAlias",
            ControlOp::ListAliases { .. } => "ListAliases",
            ControlOp::DeleteAlias { .. } => "DeleteAlias",
            ControlOp::PutFunctionConcurrency { .. } => "PutFunctionConcurrency",
            ControlOp::GetFunctionConcurrency { .. } => "GetFunctionConcurrency",
            ControlOp::DeleteFunctionConcurrency { .. } => "DeleteFunctionConcurrency",
            ControlOp::GetAccountSettings => "GetAccountSettings",
            ControlOp::AddPermission { .. } => "AddPermission",
            ControlOp::RemovePermission { .. } => "RemovePermission",
            ControlOp::GetPolicy { .. } => "GetPolicy",
            ControlOp::CreateFunctionUrlConfig { .. } => "CreateFunctionUrlConfig",
            ControlOp::GetFunctionUrlConfig { .. } => "GetFunctionUrlConfig",
            ControlOp::UpdateFunctionUrlConfig { .. } => "UpdateFunctionUrlConfig",
            ControlOp::DeleteFunctionUrlConfig { .. } => "DeleteFunctionUrlConfig",
            ControlOp::ListFunctionUrlConfigs { .. } => "ListFunctionUrlConfigs",
            ControlOp::PutFunctionEventInvokeConfig { replace: true, .. } => {
                "PutFunctionEventInvokeConfig"
            }
            ControlOp::PutFunctionEventInvokeConfig { .. } => "UpdateFunctionEventInvokeConfig",
            ControlOp::GetFunctionEventInvokeConfig { .. } => "GetFunctionEventInvokeConfig",
            ControlOp::DeleteFunctionEventInvokeConfig { .. } => "DeleteFunctionEventInvokeConfig",
            ControlOp::ListFunctionEventInvokeConfigs { .. } => "ListFunctionEventInvokeConfigs",
            ControlOp::TagResource { .. } => "TagResource",
            ControlOp::UntagResource { .. } => "UntagResource",
            ControlOp::ListTags { .. } => "ListTags",
            ControlOp::PublishLayerVersion { .. } => "PublishLayerVersion",
            ControlOp::GetLayerVersion { .. } => "GetLayerVersion",
            ControlOp::GetLayerVersionByArn { .. } => "GetLayerVersionByArn",
            ControlOp::ListLayers { .. } => "ListLayers",
            ControlOp::ListLayerVersions { .. } => "ListLayerVersions",
            ControlOp::DeleteLayerVersion { .. } => "DeleteLayerVersion",
            ControlOp::AddLayerVersionPermission { .. } => "AddLayerVersionPermission",
            ControlOp::GetLayerVersionPolicy { .. } => "GetLayerVersionPolicy",
            ControlOp::RemoveLayerVersionPermission { .. } => "RemoveLayerVersionPermission",
        }
    }

    /// The status of a successful response (the model's `responseCode`; Lambda answers its
    /// deletions with 204 although the model of `DeleteFunction` says 200).
    pub fn success_status(&self) -> u16 {
        match self {
            ControlOp::CreateFunction(_)
            | ControlOp::PublishVersion { .. }
            | ControlOp::CreateAlias { .. }
            | ControlOp::AddPermission { .. }
            | ControlOp::PublishLayerVersion { .. }
            | ControlOp::AddLayerVersionPermission { .. }
            | ControlOp::CreateFunctionUrlConfig { .. } => 201,
            ControlOp::DeleteFunction { .. }
            | ControlOp::DeleteFunctionUrlConfig { .. }
            | ControlOp::DeleteFunctionEventInvokeConfig { .. }
            | ControlOp::DeleteLayerVersion { .. }
            | ControlOp::RemoveLayerVersionPermission { .. }
            | ControlOp::DeleteAlias { .. }
            | ControlOp::DeleteFunctionConcurrency { .. }
            | ControlOp::RemovePermission { .. }
            | ControlOp::TagResource { .. }
            | ControlOp::UntagResource { .. } => 204,
            _ => 200,
        }
    }
}

/// `Marker` and `MaxItems` of a list operation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub marker: Option<String>,
    pub max_items: Option<i64>,
}

// ---- requests ----

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionCode {
    /// Base64 of the zip.
    pub zip_file: Option<String>,
    pub s3_bucket: Option<String>,
    pub s3_key: Option<String>,
    pub image_uri: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Environment {
    #[serde(default)]
    pub variables: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TracingConfig {
    pub mode: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EphemeralStorage {
    pub size: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_log_level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_log_level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnapStart {
    pub apply_on: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeadLetterConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_arn: Option<String>,
}

/// The configuration members that CreateFunction and UpdateFunctionConfiguration share.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionSettings {
    pub role: Option<String>,
    pub handler: Option<String>,
    pub description: Option<String>,
    pub timeout: Option<i64>,
    pub memory_size: Option<i64>,
    pub environment: Option<Environment>,
    pub runtime: Option<String>,
    pub tracing_config: Option<TracingConfig>,
    pub ephemeral_storage: Option<EphemeralStorage>,
    pub logging_config: Option<LoggingConfig>,
    pub snap_start: Option<SnapStart>,
    pub dead_letter_config: Option<DeadLetterConfig>,
    #[serde(rename = "KMSKeyArn")]
    pub kms_key_arn: Option<String>,
    /// Layer version ARNs, in the order they are extracted.
    pub layers: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateFunctionRequest {
    pub function_name: Option<String>,
    pub code: Option<FunctionCode>,
    pub publish: Option<bool>,
    pub package_type: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
    pub architectures: Option<Vec<String>>,
    #[serde(flatten)]
    pub settings: FunctionSettings,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateFunctionCodeRequest {
    pub zip_file: Option<String>,
    pub s3_bucket: Option<String>,
    pub s3_key: Option<String>,
    pub image_uri: Option<String>,
    pub architectures: Option<Vec<String>>,
    pub publish: Option<bool>,
    pub dry_run: Option<bool>,
    pub revision_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateFunctionConfigurationRequest {
    pub revision_id: Option<String>,
    #[serde(flatten)]
    pub settings: FunctionSettings,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublishVersionRequest {
    pub code_sha256: Option<String>,
    pub description: Option<String>,
    pub revision_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasRoutingConfiguration {
    #[serde(default)]
    pub additional_version_weights: Option<BTreeMap<String, f64>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateAliasRequest {
    pub name: Option<String>,
    pub function_version: Option<String>,
    pub description: Option<String>,
    pub routing_config: Option<AliasRoutingConfiguration>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateAliasRequest {
    pub function_version: Option<String>,
    pub description: Option<String>,
    pub routing_config: Option<AliasRoutingConfiguration>,
    pub revision_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutFunctionConcurrencyRequest {
    pub reserved_concurrent_executions: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddPermissionRequest {
    pub statement_id: Option<String>,
    pub action: Option<String>,
    pub principal: Option<String>,
    pub source_arn: Option<String>,
    pub source_account: Option<String>,
    pub event_source_token: Option<String>,
    #[serde(rename = "PrincipalOrgID")]
    pub principal_org_id: Option<String>,
    pub function_url_auth_type: Option<String>,
    pub revision_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceRequest {
    pub tags: Option<BTreeMap<String, String>>,
}

// ---- responses ----

/// The `FunctionConfiguration` shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionConfiguration {
    pub function_name: String,
    pub function_arn: String,
    pub runtime: String,
    pub role: String,
    pub handler: String,
    pub code_size: u64,
    pub description: String,
    pub timeout: u32,
    pub memory_size: u32,
    pub last_modified: String,
    pub code_sha256: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    pub tracing_config: TracingConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_letter_config: Option<DeadLetterConfig>,
    #[serde(rename = "KMSKeyArn", skip_serializing_if = "Option::is_none")]
    pub kms_key_arn: Option<String>,
    pub revision_id: String,
    /// Left out of ListFunctions and ListVersionsByFunction entries, as in Lambda (which
    /// answers them only to GetFunction and GetFunctionConfiguration).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_status: Option<&'static str>,
    pub package_type: &'static str,
    pub architectures: Vec<String>,
    pub ephemeral_storage: EphemeralStorageOut,
    pub snap_start: SnapStartResponse,
    pub logging_config: LoggingConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layers: Option<Vec<Layer>>,
    /// Nimbus says here when the runtime's exact interpreter is not installed and another one
    /// runs the function (Lambda uses the member for the reason of a function's state).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<String>,
}

/// A layer of a function, as `FunctionConfiguration.Layers` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Layer {
    pub arn: String,
    pub code_size: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EphemeralStorageOut {
    pub size: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnapStartResponse {
    pub apply_on: String,
    pub optimization_status: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionCodeLocation {
    pub repository_type: &'static str,
    pub location: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Concurrency {
    pub reserved_concurrent_executions: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetFunctionResponse {
    pub configuration: FunctionConfiguration,
    pub code: FunctionCodeLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<Concurrency>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListFunctionsResponse {
    pub functions: Vec<FunctionConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListVersionsByFunctionResponse {
    pub versions: Vec<FunctionConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

/// The `AliasConfiguration` shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasConfiguration {
    pub alias_arn: String,
    pub name: String,
    pub function_version: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing_config: Option<AliasRoutingConfiguration>,
    pub revision_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAliasesResponse {
    pub aliases: Vec<AliasConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetFunctionConcurrencyResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved_concurrent_executions: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountLimit {
    pub total_code_size: u64,
    pub code_size_unzipped: u64,
    pub code_size_zipped: u64,
    pub concurrent_executions: u32,
    pub unreserved_concurrent_executions: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountUsage {
    pub total_code_size: u64,
    pub function_count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetAccountSettingsResponse {
    pub account_limit: AccountLimit,
    pub account_usage: AccountUsage,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddPermissionResponse {
    /// The statement added, as a JSON string.
    pub statement: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetPolicyResponse {
    /// The resource-based policy, as a JSON string.
    pub policy: String,
    pub revision_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsResponse {
    pub tags: BTreeMap<String, String>,
}

// ---- layers ----

/// `CompatibleRuntime` and `CompatibleArchitecture` of ListLayers and ListLayerVersions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayerFilter {
    pub runtime: Option<String>,
    pub architecture: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LayerVersionContentInput {
    /// Base64 of the zip.
    pub zip_file: Option<String>,
    pub s3_bucket: Option<String>,
    pub s3_key: Option<String>,
    pub s3_object_version: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublishLayerVersionRequest {
    pub description: Option<String>,
    pub content: Option<LayerVersionContentInput>,
    pub compatible_runtimes: Option<Vec<String>>,
    pub compatible_architectures: Option<Vec<String>>,
    pub license_info: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddLayerVersionPermissionRequest {
    pub statement_id: Option<String>,
    pub action: Option<String>,
    pub principal: Option<String>,
    pub organization_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LayerVersionContentOutput {
    pub location: String,
    pub code_sha256: String,
    pub code_size: u64,
}

/// `GetLayerVersionResponse`, also the answer of PublishLayerVersion.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LayerVersionResponse {
    pub content: LayerVersionContentOutput,
    pub layer_arn: String,
    pub layer_version_arn: String,
    pub description: String,
    pub created_date: String,
    pub version: u64,
    pub compatible_runtimes: Vec<String>,
    pub compatible_architectures: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license_info: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LayerVersionsListItem {
    pub layer_version_arn: String,
    pub version: u64,
    pub description: String,
    pub created_date: String,
    pub compatible_runtimes: Vec<String>,
    pub compatible_architectures: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license_info: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LayersListItem {
    pub layer_name: String,
    pub layer_arn: String,
    pub latest_matching_version: LayerVersionsListItem,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListLayersResponse {
    pub layers: Vec<LayersListItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListLayerVersionsResponse {
    pub layer_versions: Vec<LayerVersionsListItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddLayerVersionPermissionResponse {
    pub statement: String,
    pub revision_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetLayerVersionPolicyResponse {
    pub policy: String,
    pub revision_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_with_model_names() {
        let r: CreateFunctionRequest = serde_json::from_str(
            r#"{"FunctionName":"f","Runtime":"python3.12","Role":"arn:aws:iam::000000000000:role/r",
                "Handler":"app.handler","Code":{"ZipFile":"UEs="},"MemorySize":256,
                "Environment":{"Variables":{"A":"1"}},"KMSKeyArn":"k","Unknown":1}"#,
        )
        .expect("parses");
        assert_eq!(r.settings.memory_size, Some(256));
        assert_eq!(r.settings.kms_key_arn.as_deref(), Some("k"));
        assert_eq!(
            r.code.and_then(|c| c.zip_file).as_deref(),
            Some("UEs="),
            "ZipFile is kept as base64"
        );
    }

    #[test]
    fn statuses_follow_the_model() {
        assert_eq!(
            ControlOp::CreateFunction(CreateFunctionRequest::default()).success_status(),
            201
        );
        assert_eq!(ControlOp::GetAccountSettings.success_status(), 200);
        let delete = ControlOp::DeleteAlias {
            function_name: "f".into(),
            name: "a".into(),
        };
        assert_eq!(
            (delete.name(), delete.success_status()),
            ("DeleteAlias", 204)
        );
    }
}
