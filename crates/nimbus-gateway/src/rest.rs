//! REST APIs (API Gateway v1): the resources, methods, integrations, deployments and stages
//! of the `apigateway` management API (`apigateway/2015-07-09`), in its wire shapes (camelCase
//! members, timestamps as epoch seconds), and their management operations.
//!
//! One API is one record under `gateway/restapi/{id}`, written as HTTP APIs are: read, change,
//! store, recompile. A deployment snapshots the API's resources; a stage serves the snapshot
//! of its deployment, so changes reach callers only through `CreateDeployment`. The compiled
//! form ([`crate::runtime::ApiRuntime::compile_rest`]) puts each resource's methods in the
//! same route table as HTTP APIs' routes (`GET /items/{id}`, `ANY /{proxy+}`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Gateway;
use crate::error::{GatewayError, Result};
use crate::invoke::FunctionRef;
use crate::model::Tags;

const REST_PREFIX: &str = "gateway/restapi/";

/// The methods a REST API resource may define.
pub const REST_METHODS: &[&str] = &[
    "ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS",
];

/// The integration timeout limit of REST APIs (29 s), also the default.
pub const MAX_TIMEOUT_MS: i64 = 29_000;

fn key(id: &str) -> Vec<u8> {
    format!("{REST_PREFIX}{id}").into_bytes()
}

fn bad(msg: impl Into<String>) -> GatewayError {
    GatewayError::BadRequest(msg.into())
}

fn not_found(message: impl Into<String>) -> GatewayError {
    GatewayError::NotFound {
        message: message.into(),
        resource_type: "RestApi",
    }
}

fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn new_id(len: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| CHARS[rand::random_range(0..CHARS.len())] as char)
        .collect()
}

/// How an API is reached.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointConfiguration {
    #[serde(default)]
    pub types: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address_type: Option<String>,
}

/// A REST API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestApi {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Epoch seconds.
    pub created_date: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub binary_media_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_compression_size: Option<i64>,
    pub api_key_source: String,
    pub endpoint_configuration: EndpointConfiguration,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(default)]
    pub tags: Tags,
    pub disable_execute_api_endpoint: bool,
    pub root_resource_id: String,
}

/// A method's integration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestIntegration {
    /// `AWS_PROXY` and `MOCK` are served; `AWS`, `HTTP`, `HTTP_PROXY` are stored and answer
    /// 500 when called.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    pub connection_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_parameters: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_templates: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passthrough_behavior: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_handling: Option<String>,
    pub timeout_in_millis: i64,
    pub cache_namespace: String,
    #[serde(default)]
    pub cache_key_parameters: Vec<String>,
    /// Status code → IntegrationResponse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_responses: Option<BTreeMap<String, Value>>,
}

/// A method of a resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestMethod {
    pub http_method: String,
    pub authorization_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_id: Option<String>,
    pub api_key_required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_validator_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_parameters: Option<BTreeMap<String, bool>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_models: Option<BTreeMap<String, String>>,
    /// Status code → MethodResponse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method_responses: Option<BTreeMap<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method_integration: Option<RestIntegration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_scopes: Option<Vec<String>>,
}

/// A resource: one path of the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestResource {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_part: Option<String>,
    pub path: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resource_methods: BTreeMap<String, RestMethod>,
}

/// A deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestDeployment {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub created_date: i64,
}

/// A stage: a name that serves one deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestStage {
    pub deployment_id: String,
    pub stage_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub cache_cluster_enabled: bool,
    pub cache_cluster_status: String,
    #[serde(default)]
    pub method_settings: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, String>,
    pub tracing_enabled: bool,
    #[serde(default)]
    pub tags: Tags,
    pub created_date: i64,
    pub last_updated_date: i64,
}

/// One REST API with everything under it: the unit that is stored and compiled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestApiDoc {
    pub api: RestApi,
    #[serde(default)]
    pub resources: BTreeMap<String, RestResource>,
    /// Deployment id → the deployment and the resources it froze.
    #[serde(default)]
    pub deployments: BTreeMap<String, (RestDeployment, BTreeMap<String, RestResource>)>,
    #[serde(default)]
    pub stages: BTreeMap<String, RestStage>,
}

// ---- inputs -------------------------------------------------------------------------------

/// CreateRestApi.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRestApiInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub version: Option<String>,
    pub binary_media_types: Option<Vec<String>>,
    pub minimum_compression_size: Option<i64>,
    pub api_key_source: Option<String>,
    pub endpoint_configuration: Option<EndpointConfiguration>,
    pub policy: Option<String>,
    pub tags: Option<Tags>,
    pub disable_execute_api_endpoint: Option<bool>,
}

/// One operation of an Update* request (JSON Patch as API Gateway uses it).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PatchOperation {
    pub op: Option<String>,
    pub path: Option<String>,
    pub value: Option<String>,
    pub from: Option<String>,
}

/// Update* requests.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatchInput {
    #[serde(default)]
    pub patch_operations: Vec<PatchOperation>,
}

/// CreateResource.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateResourceInput {
    pub path_part: Option<String>,
}

/// PutMethod.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutMethodInput {
    pub authorization_type: Option<String>,
    pub authorizer_id: Option<String>,
    pub api_key_required: Option<bool>,
    pub operation_name: Option<String>,
    pub request_parameters: Option<BTreeMap<String, bool>>,
    pub request_models: Option<BTreeMap<String, String>>,
    pub request_validator_id: Option<String>,
    pub authorization_scopes: Option<Vec<String>>,
}

/// PutIntegration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutIntegrationInput {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub http_method: Option<String>,
    pub uri: Option<String>,
    pub connection_type: Option<String>,
    pub credentials: Option<String>,
    pub request_parameters: Option<BTreeMap<String, String>>,
    pub request_templates: Option<BTreeMap<String, String>>,
    pub passthrough_behavior: Option<String>,
    pub content_handling: Option<String>,
    pub timeout_in_millis: Option<i64>,
    pub cache_namespace: Option<String>,
    pub cache_key_parameters: Option<Vec<String>>,
}

/// CreateDeployment.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDeploymentInput {
    pub stage_name: Option<String>,
    pub stage_description: Option<String>,
    pub description: Option<String>,
    pub variables: Option<BTreeMap<String, String>>,
}

/// CreateStage.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateStageInput {
    pub stage_name: Option<String>,
    pub deployment_id: Option<String>,
    pub description: Option<String>,
    pub variables: Option<BTreeMap<String, String>>,
    pub tracing_enabled: Option<bool>,
    pub tags: Option<Tags>,
}

// ---- pure helpers -------------------------------------------------------------------------

/// Checks a `pathPart` as CreateResource does: letters, digits and `._-:` (and `-` / `~`),
/// or one `{name}` / `{name+}` path parameter.
/// A method's `authorizationType`. REST API authorizers are not supported, so no authorizer
/// id is valid: a method that needs one is refused, as API Gateway refuses it without a valid
/// authorizer, rather than left open.
fn check_authorization_type(kind: &str) -> Result<()> {
    if !["NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS"].contains(&kind) {
        return Err(bad(format!("Invalid authorization type specified: {kind}")));
    }
    if ["CUSTOM", "COGNITO_USER_POOLS"].contains(&kind) {
        return Err(bad(
            "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.",
        ));
    }
    Ok(())
}

pub fn check_path_part(part: &str) -> Result<()> {
    let invalid = || {
        bad(format!(
            "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace. Invalid path part: {part}"
        ))
    };
    if part.is_empty() {
        return Err(invalid());
    }
    let name = match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
        Some(inner) => inner.strip_suffix('+').unwrap_or(inner),
        None => part,
    };
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-:~".contains(c))
    {
        return Err(invalid());
    }
    Ok(())
}

/// JSON Pointer escapes as the patch paths use them: `~1` is `/`, `~0` is `~`.
fn unescape(s: &str) -> String {
    s.replace("~1", "/").replace("~0", "~")
}

/// Whether a media type matches one of `binary` (`*/*`, `image/*`, `image/png`; parameters
/// ignored, case-insensitive).
pub fn is_binary(content_type: Option<&str>, binary: &[String]) -> bool {
    let Some(ct) = content_type else {
        return false;
    };
    // An Accept header may list several types; any of them may match.
    ct.split(',').any(|one| {
        let mime = one
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let (kind, sub) = mime.split_once('/').unwrap_or((&mime, ""));
        binary.iter().any(|b| {
            let b = b.to_ascii_lowercase();
            let (bk, bs) = b.split_once('/').unwrap_or((&b, ""));
            (bk == "*" || bk == kind) && (bs == "*" || bs == sub) && !mime.is_empty()
        })
    })
}

/// The path of a child of `parent_path`.
fn child_path(parent_path: &str, part: &str) -> String {
    if parent_path == "/" {
        format!("/{part}")
    } else {
        format!("{parent_path}/{part}")
    }
}

impl RestApiDoc {
    fn resource_mut(&mut self, id: &str) -> Result<&mut RestResource> {
        self.resources
            .get_mut(id)
            .ok_or_else(|| not_found("Invalid Resource identifier specified"))
    }

    fn method_mut(&mut self, resource: &str, method: &str) -> Result<&mut RestMethod> {
        self.resource_mut(resource)?
            .resource_methods
            .get_mut(method)
            .ok_or_else(|| not_found("Invalid Method identifier specified"))
    }
}

// ---- operations ---------------------------------------------------------------------------

impl Gateway {
    pub(crate) fn load_all_rest(&self) -> Result<Vec<RestApiDoc>> {
        let mut docs = Vec::new();
        let mut bad_records = 0;
        self.store.scan(
            &nimbus_store::KeyRange::prefix(REST_PREFIX.as_bytes()),
            nimbus_store::Direction::Forward,
            &mut |_, v| {
                match serde_json::from_slice::<RestApiDoc>(v) {
                    Ok(doc) => docs.push(doc),
                    Err(_) => bad_records += 1,
                }
                std::ops::ControlFlow::Continue(())
            },
        )?;
        if bad_records > 0 {
            tracing::error!(bad_records, "unreadable REST API records skipped");
        }
        Ok(docs)
    }

    fn load_rest(&self, id: &str) -> Result<RestApiDoc> {
        let bytes = self.store.get(&key(id))?.ok_or_else(|| {
            not_found(format!(
                "Invalid API identifier specified {}:{id}",
                self.config.account_id
            ))
        })?;
        serde_json::from_slice(&bytes)
            .map_err(|e| GatewayError::Internal(format!("REST API record {id}: {e}")))
    }

    fn save_rest(&self, doc: &RestApiDoc) -> Result<()> {
        let bytes = serde_json::to_vec(doc)
            .map_err(|e| GatewayError::Internal(format!("encode REST API record: {e}")))?;
        let mut batch = nimbus_store::WriteBatch::new();
        batch.put(key(&doc.api.id), bytes);
        self.store.commit(batch)?;
        self.install_rest(doc);
        self.refresh_root();
        Ok(())
    }

    fn modify_rest<T>(&self, id: &str, f: impl FnOnce(&mut RestApiDoc) -> Result<T>) -> Result<T> {
        let _guard = self
            .writes
            .lock()
            .map_err(|_| GatewayError::Internal("write lock poisoned".into()))?;
        let mut doc = self.load_rest(id)?;
        let out = f(&mut doc)?;
        self.save_rest(&doc)?;
        Ok(out)
    }

    /// `http://{id}.execute-api.localhost:{port}`: where a REST API's stages are served.
    pub fn rest_endpoint(&self, id: &str) -> String {
        format!("http://{id}.execute-api.localhost:{}", self.config.port)
    }

    // ---- APIs -----------------------------------------------------------------------------

    pub fn create_rest_api(&self, input: CreateRestApiInput) -> Result<RestApi> {
        let name = input
            .name
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| bad("Invalid REST API name specified"))?;
        let api_key_source = input.api_key_source.unwrap_or_else(|| "HEADER".into());
        if !["HEADER", "AUTHORIZER"].contains(&api_key_source.as_str()) {
            return Err(bad(format!("Invalid apiKeySource {api_key_source}")));
        }
        let mut endpoint = input.endpoint_configuration.unwrap_or_default();
        if endpoint.types.is_empty() {
            endpoint.types = vec!["EDGE".into()];
        }
        for t in &endpoint.types {
            if !["EDGE", "REGIONAL", "PRIVATE"].contains(&t.as_str()) {
                return Err(bad(format!("Invalid endpoint type {t}")));
            }
        }
        let root_id = new_id(10);
        let api = RestApi {
            id: new_id(10),
            name,
            description: input.description,
            created_date: now_secs(),
            version: input.version,
            binary_media_types: input.binary_media_types.unwrap_or_default(),
            minimum_compression_size: input.minimum_compression_size,
            api_key_source,
            endpoint_configuration: endpoint,
            policy: input.policy,
            tags: input.tags.unwrap_or_default(),
            disable_execute_api_endpoint: input.disable_execute_api_endpoint.unwrap_or(false),
            root_resource_id: root_id.clone(),
        };
        let root = RestResource {
            id: root_id.clone(),
            parent_id: None,
            path_part: None,
            path: "/".into(),
            resource_methods: BTreeMap::new(),
        };
        let doc = RestApiDoc {
            api,
            resources: [(root_id, root)].into(),
            deployments: BTreeMap::new(),
            stages: BTreeMap::new(),
        };
        let _guard = self
            .writes
            .lock()
            .map_err(|_| GatewayError::Internal("write lock poisoned".into()))?;
        self.save_rest(&doc)?;
        tracing::info!(api = %doc.api.id, name = %doc.api.name, "REST API created");
        Ok(doc.api)
    }

    pub fn get_rest_api(&self, id: &str) -> Result<RestApi> {
        Ok(self.load_rest(id)?.api)
    }

    pub fn get_rest_apis(&self) -> Result<Vec<RestApi>> {
        let mut apis: Vec<RestApi> = self.load_all_rest()?.into_iter().map(|d| d.api).collect();
        apis.sort_by(|a, b| (a.created_date, &a.id).cmp(&(b.created_date, &b.id)));
        Ok(apis)
    }

    /// UpdateRestApi: `replace` of `/name`, `/description`, `/version`, `/apiKeySource`,
    /// `/minimumCompressionSize`, `/disableExecuteApiEndpoint`, `/policy`,
    /// `/endpointConfiguration/types/{type}`; `add` and `remove` of `/binaryMediaTypes/{type}`.
    pub fn update_rest_api(&self, id: &str, input: PatchInput) -> Result<RestApi> {
        self.modify_rest(id, |doc| {
            let api = &mut doc.api;
            for p in input.patch_operations {
                let op = p.op.as_deref().unwrap_or("");
                let path = p.path.as_deref().unwrap_or("");
                let value = p.value.clone();
                match (op, path) {
                    ("replace", "/name") => {
                        api.name = value
                            .filter(|v| !v.trim().is_empty())
                            .ok_or_else(|| bad("Invalid REST API name specified"))?;
                    }
                    ("replace", "/description") => api.description = value,
                    ("replace", "/version") => api.version = value,
                    ("replace", "/policy") => api.policy = value,
                    ("replace", "/apiKeySource") => {
                        api.api_key_source =
                            value.ok_or_else(|| bad("apiKeySource needs a value"))?
                    }
                    ("replace", "/minimumCompressionSize") => {
                        api.minimum_compression_size =
                            match value.as_deref() {
                                None | Some("") => None,
                                Some(v) => Some(v.parse().map_err(|_| {
                                    bad(format!("Invalid minimumCompressionSize {v}"))
                                })?),
                            }
                    }
                    ("replace", "/disableExecuteApiEndpoint") => {
                        api.disable_execute_api_endpoint = value.as_deref() == Some("true")
                    }
                    ("replace", p) if p.starts_with("/endpointConfiguration/types/") => {
                        let old = &p["/endpointConfiguration/types/".len()..];
                        let new = value.unwrap_or_default();
                        if !["EDGE", "REGIONAL", "PRIVATE"].contains(&new.as_str()) {
                            return Err(bad(format!("Invalid endpoint type {new}")));
                        }
                        let types = &mut api.endpoint_configuration.types;
                        match types.iter_mut().find(|t| *t == old) {
                            Some(t) => *t = new,
                            None => {
                                return Err(bad(format!(
                                    "Invalid patch path '{p}': the API's endpoint type is not {old}"
                                )));
                            }
                        }
                    }
                    ("add", p) if p.starts_with("/binaryMediaTypes/") => {
                        let t = unescape(&p["/binaryMediaTypes/".len()..]);
                        if !api.binary_media_types.contains(&t) {
                            api.binary_media_types.push(t);
                        }
                    }
                    ("remove", p) if p.starts_with("/binaryMediaTypes/") => {
                        let t = unescape(&p["/binaryMediaTypes/".len()..]);
                        api.binary_media_types.retain(|b| *b != t);
                    }
                    ("replace", p) if p.starts_with("/binaryMediaTypes/") => {
                        let t = unescape(&p["/binaryMediaTypes/".len()..]);
                        api.binary_media_types.retain(|b| *b != t);
                        if let Some(v) = value {
                            api.binary_media_types.push(v);
                        }
                    }
                    _ => {
                        return Err(bad(format!(
                            "Invalid patch path '{path}' specified for op '{op}'"
                        )));
                    }
                }
            }
            Ok(doc.api.clone())
        })
    }

    pub fn delete_rest_api(&self, id: &str) -> Result<()> {
        let _guard = self
            .writes
            .lock()
            .map_err(|_| GatewayError::Internal("write lock poisoned".into()))?;
        self.load_rest(id)?;
        let mut batch = nimbus_store::WriteBatch::new();
        batch.delete(key(id));
        self.store.commit(batch)?;
        self.uninstall(id);
        self.refresh_root();
        tracing::info!(api = %id, "REST API deleted");
        Ok(())
    }

    // ---- resources ------------------------------------------------------------------------

    /// GetResources; with `embed` (`embed=methods`) each resource carries its methods,
    /// without it `resourceMethods` lists the methods by name only.
    pub fn get_resources(&self, id: &str, embed: bool) -> Result<Vec<Value>> {
        let doc = self.load_rest(id)?;
        let mut list: Vec<&RestResource> = doc.resources.values().collect();
        list.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(list
            .into_iter()
            .map(|r| present_resource(r, embed))
            .collect())
    }

    pub fn get_resource(&self, id: &str, resource: &str, embed: bool) -> Result<Value> {
        let doc = self.load_rest(id)?;
        doc.resources
            .get(resource)
            .map(|r| present_resource(r, embed))
            .ok_or_else(|| not_found("Invalid Resource identifier specified"))
    }

    pub fn create_resource(
        &self,
        id: &str,
        parent: &str,
        input: CreateResourceInput,
    ) -> Result<Value> {
        self.modify_rest(id, |doc| {
            let part = input
                .path_part
                .ok_or_else(|| bad("pathPart is required"))?;
            check_path_part(&part)?;
            let parent_path = doc
                .resources
                .get(parent)
                .map(|p| p.path.clone())
                .ok_or_else(|| not_found("Invalid Resource identifier specified"))?;
            // Literal siblings of a variable, greedy or not, are allowed (`/health` beside
            // `/{proxy+}`): the most specific resource serves a request. Only one variable
            // path part per parent.
            if parent_path.contains('+') {
                return Err(bad(
                    "Cannot create a child of a resource with a greedy path variable",
                ));
            }
            let is_var = part.starts_with('{');
            for sibling in doc
                .resources
                .values()
                .filter(|r| r.parent_id.as_deref() == Some(parent))
            {
                let other = sibling.path_part.as_deref().unwrap_or("");
                if other == part {
                    return Err(GatewayError::Conflict(format!(
                        "Another resource with the same parent already has this name: {part}"
                    )));
                }
                if is_var && other.starts_with('{') {
                    return Err(bad(format!(
                        "A sibling ({other}) of this resource already has a variable path part -- only one is allowed"
                    )));
                }
            }
            let resource = RestResource {
                id: new_id(6),
                parent_id: Some(parent.to_owned()),
                path_part: Some(part.clone()),
                path: child_path(&parent_path, &part),
                resource_methods: BTreeMap::new(),
            };
            doc.resources.insert(resource.id.clone(), resource.clone());
            Ok(present_resource(&resource, false))
        })
    }

    /// DeleteResource: the resource and everything under it.
    pub fn delete_resource(&self, id: &str, resource: &str) -> Result<()> {
        self.modify_rest(id, |doc| {
            if !doc.resources.contains_key(resource) {
                return Err(not_found("Invalid Resource identifier specified"));
            }
            if doc.api.root_resource_id == resource {
                return Err(bad("Cannot delete the root resource of an API"));
            }
            let mut gone = vec![resource.to_owned()];
            let mut i = 0;
            while i < gone.len() {
                let parent = gone[i].clone();
                gone.extend(
                    doc.resources
                        .values()
                        .filter(|r| r.parent_id.as_deref() == Some(&parent))
                        .map(|r| r.id.clone()),
                );
                i += 1;
            }
            for g in gone {
                doc.resources.remove(&g);
            }
            Ok(())
        })
    }

    // ---- methods and integrations ---------------------------------------------------------

    pub fn put_method(
        &self,
        id: &str,
        resource: &str,
        method: &str,
        input: PutMethodInput,
    ) -> Result<RestMethod> {
        self.modify_rest(id, |doc| {
            if !REST_METHODS.contains(&method) {
                return Err(bad(format!("Invalid HttpMethod specified: {method}")));
            }
            let authorization_type = input
                .authorization_type
                .ok_or_else(|| bad("authorizationType is required"))?;
            check_authorization_type(&authorization_type)?;
            let r = doc.resource_mut(resource)?;
            if r.resource_methods.contains_key(method) {
                return Err(GatewayError::Conflict(
                    "Method already exists for this resource".into(),
                ));
            }
            let m = RestMethod {
                http_method: method.to_owned(),
                authorization_type,
                authorizer_id: input.authorizer_id,
                api_key_required: input.api_key_required.unwrap_or(false),
                request_validator_id: input.request_validator_id,
                operation_name: input.operation_name,
                request_parameters: input.request_parameters,
                request_models: input.request_models,
                method_responses: None,
                method_integration: None,
                authorization_scopes: input.authorization_scopes,
            };
            r.resource_methods.insert(method.to_owned(), m.clone());
            Ok(m)
        })
    }

    /// UpdateMethod: `replace` of `/authorizationType`, `/authorizerId`, `/apiKeyRequired`,
    /// `/operationName`, `/requestValidatorId`; `add`/`remove` of `/authorizationScopes`.
    pub fn update_method(
        &self,
        id: &str,
        resource: &str,
        method: &str,
        input: PatchInput,
    ) -> Result<RestMethod> {
        self.modify_rest(id, |doc| {
            let m = doc.method_mut(resource, method)?;
            for p in input.patch_operations {
                let op = p.op.as_deref().unwrap_or("");
                let path = p.path.as_deref().unwrap_or("");
                let value = p.value.clone();
                match (op, path) {
                    ("replace", "/authorizationType") => {
                        let kind = value.unwrap_or_else(|| "NONE".to_owned());
                        check_authorization_type(&kind)?;
                        m.authorization_type = kind;
                    }
                    ("replace", "/authorizerId") => m.authorizer_id = value,
                    ("replace", "/apiKeyRequired") => {
                        m.api_key_required = value.as_deref() == Some("true")
                    }
                    ("replace", "/operationName") => m.operation_name = value,
                    ("replace", "/requestValidatorId") => m.request_validator_id = value,
                    ("add", "/authorizationScopes") => {
                        let scopes = m.authorization_scopes.get_or_insert_with(Vec::new);
                        scopes.extend(value);
                    }
                    ("remove", "/authorizationScopes") => {
                        if let Some(scopes) = m.authorization_scopes.as_mut() {
                            scopes.retain(|s| Some(s) != value.as_ref());
                        }
                    }
                    _ => {
                        return Err(bad(format!(
                            "Invalid patch path '{path}' specified for op '{op}'"
                        )));
                    }
                }
            }
            Ok(m.clone())
        })
    }

    pub fn get_method(&self, id: &str, resource: &str, method: &str) -> Result<RestMethod> {
        let mut doc = self.load_rest(id)?;
        doc.method_mut(resource, method).cloned()
    }

    pub fn delete_method(&self, id: &str, resource: &str, method: &str) -> Result<()> {
        self.modify_rest(id, |doc| {
            doc.resource_mut(resource)?
                .resource_methods
                .remove(method)
                .map(|_| ())
                .ok_or_else(|| not_found("Invalid Method identifier specified"))
        })
    }

    pub fn put_integration(
        &self,
        id: &str,
        resource: &str,
        method: &str,
        input: PutIntegrationInput,
    ) -> Result<RestIntegration> {
        self.modify_rest(id, |doc| {
            let kind = input.kind.ok_or_else(|| bad("type is required"))?;
            if !["AWS_PROXY", "AWS", "HTTP", "HTTP_PROXY", "MOCK"].contains(&kind.as_str()) {
                return Err(bad(format!("Invalid integration type specified: {kind}")));
            }
            if kind != "MOCK" {
                let uri = input
                    .uri
                    .as_deref()
                    .ok_or_else(|| bad("Enumeration value for Integration URI must be non-empty"))?;
                if input.http_method.is_none() {
                    return Err(bad("Enumeration value for HttpMethod must be non-empty"));
                }
                if kind == "AWS_PROXY"
                    && !uri.contains("${stageVariables.")
                    && FunctionRef::parse(uri).is_none()
                {
                    return Err(bad(format!(
                        "Invalid ARN specified in the request: {uri}; expected arn:aws:apigateway:{{region}}:lambda:path/2015-03-31/functions/{{function ARN}}/invocations"
                    )));
                }
            }
            let timeout = input.timeout_in_millis.unwrap_or(MAX_TIMEOUT_MS);
            if !(50..=MAX_TIMEOUT_MS).contains(&timeout) {
                return Err(bad(format!(
                    "Timeout should be between 50 ms and {MAX_TIMEOUT_MS} ms"
                )));
            }
            let m = doc.method_mut(resource, method)?;
            let integration = RestIntegration {
                kind,
                http_method: input.http_method,
                uri: input.uri,
                connection_type: input.connection_type.unwrap_or_else(|| "INTERNET".into()),
                credentials: input.credentials,
                request_parameters: input.request_parameters,
                request_templates: input.request_templates,
                passthrough_behavior: Some(
                    input
                        .passthrough_behavior
                        .unwrap_or_else(|| "WHEN_NO_MATCH".into()),
                ),
                content_handling: input.content_handling,
                timeout_in_millis: timeout,
                cache_namespace: input.cache_namespace.unwrap_or_else(|| resource.to_owned()),
                cache_key_parameters: input.cache_key_parameters.unwrap_or_default(),
                integration_responses: None,
            };
            m.method_integration = Some(integration.clone());
            Ok(integration)
        })
    }

    pub fn get_rest_integration(
        &self,
        id: &str,
        resource: &str,
        method: &str,
    ) -> Result<RestIntegration> {
        let mut doc = self.load_rest(id)?;
        doc.method_mut(resource, method)?
            .method_integration
            .clone()
            .ok_or_else(|| not_found("No integration defined for method"))
    }

    pub fn delete_rest_integration(&self, id: &str, resource: &str, method: &str) -> Result<()> {
        self.modify_rest(id, |doc| {
            doc.method_mut(resource, method)?
                .method_integration
                .take()
                .map(|_| ())
                .ok_or_else(|| not_found("No integration defined for method"))
        })
    }

    /// PutMethodResponse: stored with the method; proxy integrations do not use it.
    pub fn put_method_response(
        &self,
        id: &str,
        resource: &str,
        method: &str,
        status: &str,
        mut body: Value,
    ) -> Result<Value> {
        check_status(status)?;
        self.modify_rest(id, |doc| {
            let m = doc.method_mut(resource, method)?;
            if let Some(obj) = body.as_object_mut() {
                obj.insert("statusCode".into(), status.into());
            } else {
                body = serde_json::json!({ "statusCode": status });
            }
            m.method_responses
                .get_or_insert_with(BTreeMap::new)
                .insert(status.to_owned(), body.clone());
            Ok(body)
        })
    }

    /// PutIntegrationResponse: stored with the integration; `MOCK` integrations answer with
    /// it, proxy integrations do not use it.
    pub fn put_integration_response(
        &self,
        id: &str,
        resource: &str,
        method: &str,
        status: &str,
        mut body: Value,
    ) -> Result<Value> {
        check_status(status)?;
        self.modify_rest(id, |doc| {
            let integration = doc
                .method_mut(resource, method)?
                .method_integration
                .as_mut()
                .ok_or_else(|| not_found("No integration defined for method"))?;
            if let Some(obj) = body.as_object_mut() {
                obj.insert("statusCode".into(), status.into());
            } else {
                body = serde_json::json!({ "statusCode": status });
            }
            integration
                .integration_responses
                .get_or_insert_with(BTreeMap::new)
                .insert(status.to_owned(), body.clone());
            Ok(body)
        })
    }

    // ---- deployments and stages -----------------------------------------------------------

    /// CreateDeployment: snapshots the resources; with `stageName` it creates that stage or
    /// points it at the new deployment.
    pub fn create_rest_deployment(
        &self,
        id: &str,
        input: CreateDeploymentInput,
    ) -> Result<RestDeployment> {
        self.modify_rest(id, |doc| {
            if !doc
                .resources
                .values()
                .any(|r| !r.resource_methods.is_empty())
            {
                return Err(bad("The REST API doesn't contain any methods"));
            }
            if doc
                .resources
                .values()
                .flat_map(|r| r.resource_methods.values())
                .any(|m| m.method_integration.is_none())
            {
                return Err(bad("No integration defined for method"));
            }
            if let Some(stage) = &input.stage_name {
                check_stage_name(stage)?;
            }
            let now = now_secs();
            let deployment = RestDeployment {
                id: new_id(6),
                description: input.description,
                created_date: now,
            };
            doc.deployments.insert(
                deployment.id.clone(),
                (deployment.clone(), doc.resources.clone()),
            );
            if let Some(stage) = input.stage_name {
                match doc.stages.get_mut(&stage) {
                    Some(s) => {
                        s.deployment_id = deployment.id.clone();
                        if let Some(v) = input.variables {
                            s.variables = v;
                        }
                        s.last_updated_date = now;
                    }
                    None => {
                        doc.stages.insert(
                            stage.clone(),
                            RestStage {
                                deployment_id: deployment.id.clone(),
                                stage_name: stage,
                                description: input.stage_description,
                                cache_cluster_enabled: false,
                                cache_cluster_status: "NOT_AVAILABLE".into(),
                                method_settings: BTreeMap::new(),
                                variables: input.variables.unwrap_or_default(),
                                tracing_enabled: false,
                                tags: Tags::new(),
                                created_date: now,
                                last_updated_date: now,
                            },
                        );
                    }
                }
            }
            Ok(deployment)
        })
    }

    pub fn get_rest_deployments(&self, id: &str) -> Result<Vec<RestDeployment>> {
        let mut list: Vec<RestDeployment> = self
            .load_rest(id)?
            .deployments
            .into_values()
            .map(|(d, _)| d)
            .collect();
        list.sort_by(|a, b| (a.created_date, &a.id).cmp(&(b.created_date, &b.id)));
        Ok(list)
    }

    pub fn get_rest_deployment(&self, id: &str, deployment: &str) -> Result<RestDeployment> {
        self.load_rest(id)?
            .deployments
            .remove(deployment)
            .map(|(d, _)| d)
            .ok_or_else(|| not_found("Invalid Deployment identifier specified"))
    }

    pub fn delete_rest_deployment(&self, id: &str, deployment: &str) -> Result<()> {
        self.modify_rest(id, |doc| {
            if !doc.deployments.contains_key(deployment) {
                return Err(not_found("Invalid Deployment identifier specified"));
            }
            if doc.stages.values().any(|s| s.deployment_id == deployment) {
                return Err(bad(
                    "Active stages pointing to this deployment must be moved or deleted",
                ));
            }
            doc.deployments.remove(deployment);
            Ok(())
        })
    }

    pub fn create_rest_stage(&self, id: &str, input: CreateStageInput) -> Result<RestStage> {
        self.modify_rest(id, |doc| {
            let name = input
                .stage_name
                .ok_or_else(|| bad("stageName is required"))?;
            check_stage_name(&name)?;
            let deployment_id = input
                .deployment_id
                .ok_or_else(|| bad("deploymentId is required"))?;
            if !doc.deployments.contains_key(&deployment_id) {
                return Err(bad(format!(
                    "Invalid deployment identifier specified: {deployment_id}"
                )));
            }
            if doc.stages.contains_key(&name) {
                return Err(GatewayError::Conflict("Stage already exists".into()));
            }
            let now = now_secs();
            let stage = RestStage {
                deployment_id,
                stage_name: name.clone(),
                description: input.description,
                cache_cluster_enabled: false,
                cache_cluster_status: "NOT_AVAILABLE".into(),
                method_settings: BTreeMap::new(),
                variables: input.variables.unwrap_or_default(),
                tracing_enabled: input.tracing_enabled.unwrap_or(false),
                tags: input.tags.unwrap_or_default(),
                created_date: now,
                last_updated_date: now,
            };
            doc.stages.insert(name, stage.clone());
            Ok(stage)
        })
    }

    pub fn get_rest_stages(&self, id: &str, deployment: Option<&str>) -> Result<Vec<RestStage>> {
        Ok(self
            .load_rest(id)?
            .stages
            .into_values()
            .filter(|s| deployment.is_none_or(|d| s.deployment_id == d))
            .collect())
    }

    pub fn get_rest_stage(&self, id: &str, name: &str) -> Result<RestStage> {
        self.load_rest(id)?
            .stages
            .remove(name)
            .ok_or_else(|| not_found("Invalid Stage identifier specified"))
    }

    /// UpdateStage: `replace /deploymentId`, `/description`, `/tracingEnabled`;
    /// `replace` / `remove` of `/variables/{name}`; other paths (method settings, caching,
    /// logging) are accepted and stored under `methodSettings` only when they name one.
    pub fn update_rest_stage(&self, id: &str, name: &str, input: PatchInput) -> Result<RestStage> {
        self.modify_rest(id, |doc| {
            let deployments: Vec<String> = doc.deployments.keys().cloned().collect();
            let s = doc
                .stages
                .get_mut(name)
                .ok_or_else(|| not_found("Invalid Stage identifier specified"))?;
            for p in input.patch_operations {
                let op = p.op.as_deref().unwrap_or("");
                let path = p.path.as_deref().unwrap_or("");
                match (op, path) {
                    ("replace", "/deploymentId") => {
                        let d = p.value.unwrap_or_default();
                        if !deployments.contains(&d) {
                            return Err(bad(format!(
                                "Invalid deployment identifier specified: {d}"
                            )));
                        }
                        s.deployment_id = d;
                    }
                    ("replace", "/description") => s.description = p.value,
                    ("replace", "/tracingEnabled") => {
                        s.tracing_enabled = p.value.as_deref() == Some("true")
                    }
                    ("replace" | "add", v) if v.starts_with("/variables/") => {
                        let k = unescape(&v["/variables/".len()..]);
                        s.variables.insert(k, p.value.unwrap_or_default());
                    }
                    ("remove", v) if v.starts_with("/variables/") => {
                        let k = unescape(&v["/variables/".len()..]);
                        s.variables.remove(&k);
                    }
                    ("replace", v) if method_setting(v, p.value.as_deref()).is_some() => {
                        // Method settings (`/{resource}/{method}/{setting}`): recorded.
                        if let Some((key, field, value)) = method_setting(v, p.value.as_deref()) {
                            let entry = s
                                .method_settings
                                .entry(key)
                                .or_insert_with(|| Value::Object(Default::default()));
                            if let Some(obj) = entry.as_object_mut() {
                                obj.insert(field.to_owned(), value);
                            }
                        }
                    }
                    ("replace", "/cacheClusterEnabled" | "/cacheClusterSize") => {}
                    _ => {
                        return Err(bad(format!(
                            "Invalid patch path '{path}' specified for op '{op}'"
                        )));
                    }
                }
            }
            s.last_updated_date = now_secs();
            Ok(s.clone())
        })
    }

    pub fn delete_rest_stage(&self, id: &str, name: &str) -> Result<()> {
        self.modify_rest(id, |doc| {
            doc.stages
                .remove(name)
                .map(|_| ())
                .ok_or_else(|| not_found("Invalid Stage identifier specified"))
        })
    }

    // ---- tags -----------------------------------------------------------------------------

    /// The API (and stage) an `arn:aws:apigateway:{region}::/restapis/{id}[/stages/{s}]`
    /// names, or `None` when the ARN is not a REST API's.
    pub fn rest_tag_target(arn: &str) -> Option<(String, Option<String>)> {
        let path = arn.split_once("::").map(|(_, p)| p)?;
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match parts.as_slice() {
            ["restapis", id] => Some(((*id).to_owned(), None)),
            ["restapis", id, "stages", s] => Some(((*id).to_owned(), Some((*s).to_owned()))),
            _ => None,
        }
    }

    pub fn get_rest_tags(&self, api: &str, stage: Option<&str>) -> Result<Tags> {
        let doc = self.load_rest(api)?;
        match stage {
            None => Ok(doc.api.tags),
            Some(s) => doc
                .stages
                .get(s)
                .map(|s| s.tags.clone())
                .ok_or_else(|| not_found("Invalid Stage identifier specified")),
        }
    }

    pub fn tag_rest(&self, api: &str, stage: Option<&str>, tags: Tags) -> Result<()> {
        self.modify_rest(api, |doc| {
            let target = match stage {
                None => &mut doc.api.tags,
                Some(s) => {
                    &mut doc
                        .stages
                        .get_mut(s)
                        .ok_or_else(|| not_found("Invalid Stage identifier specified"))?
                        .tags
                }
            };
            target.extend(tags);
            Ok(())
        })
    }

    pub fn untag_rest(&self, api: &str, stage: Option<&str>, keys: &[String]) -> Result<()> {
        self.modify_rest(api, |doc| {
            let target = match stage {
                None => &mut doc.api.tags,
                Some(s) => {
                    &mut doc
                        .stages
                        .get_mut(s)
                        .ok_or_else(|| not_found("Invalid Stage identifier specified"))?
                        .tags
                }
            };
            for k in keys {
                target.remove(k);
            }
            Ok(())
        })
    }
}

/// A method-settings patch path (`/*/*/throttling/rateLimit`, `/~1items/GET/logging/loglevel`)
/// as the `methodSettings` key (`*/*`, `/items/GET`), the `MethodSetting` member and its value.
fn method_setting(path: &str, value: Option<&str>) -> Option<(String, &'static str, Value)> {
    let mut parts = path.strip_prefix('/')?.splitn(3, '/');
    let (resource, method, setting) = (parts.next()?, parts.next()?, parts.next()?);
    let value = value.unwrap_or_default();
    let boolean = || Value::Bool(value.eq_ignore_ascii_case("true"));
    let (field, value) = match setting {
        "metrics/enabled" => ("metricsEnabled", boolean()),
        "logging/loglevel" => ("loggingLevel", Value::String(value.to_owned())),
        "logging/dataTrace" => ("dataTraceEnabled", boolean()),
        "throttling/burstLimit" => ("throttlingBurstLimit", value.parse::<i64>().ok()?.into()),
        "throttling/rateLimit" => ("throttlingRateLimit", value.parse::<f64>().ok()?.into()),
        "caching/enabled" => ("cachingEnabled", boolean()),
        "caching/ttlInSeconds" => ("cacheTtlInSeconds", value.parse::<i64>().ok()?.into()),
        "caching/dataEncrypted" => ("cacheDataEncrypted", boolean()),
        "caching/requireAuthorizationForCacheControl" => {
            ("requireAuthorizationForCacheControl", boolean())
        }
        "caching/unauthorizedCacheControlHeaderStrategy" => (
            "unauthorizedCacheControlHeaderStrategy",
            Value::String(value.to_owned()),
        ),
        _ => return None,
    };
    Some((format!("{}/{method}", unescape(resource)), field, value))
}

fn check_status(status: &str) -> Result<()> {
    if status.len() == 3 && status.chars().all(|c| c.is_ascii_digit()) && status >= "100" {
        Ok(())
    } else {
        Err(bad(format!("Invalid status code specified: {status}")))
    }
}

/// Stage names: letters, digits, `-` and `_`, at most 128.
fn check_stage_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 128
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(bad(
            "Stage name only allows a-zA-Z0-9_- and must be at most 128 characters",
        ));
    }
    Ok(())
}

/// A resource as GetResource(s) answer: methods in full with `embed=methods`, else by name.
fn present_resource(r: &RestResource, embed: bool) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
    if !embed
        && let Some(obj) = v.as_object_mut()
        && let Some(Value::Object(methods)) = obj.get_mut("resourceMethods")
    {
        for m in methods.values_mut() {
            *m = Value::Object(Default::default());
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parts() {
        for ok in ["items", "{id}", "{proxy+}", "a.b-c_d", "v1:x"] {
            assert!(check_path_part(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a/b", "{}", "{+}", "a b", "{a}b", "x{a}"] {
            assert!(check_path_part(bad).is_err(), "{bad}");
        }
        assert_eq!(child_path("/", "items"), "/items");
        assert_eq!(child_path("/items", "{id}"), "/items/{id}");
    }

    #[test]
    fn binary_media_types_match_by_type_and_wildcards() {
        let types = vec![
            "image/png".to_owned(),
            "application/octet-stream".to_owned(),
        ];
        assert!(!is_binary(Some("image/png"), &[]));
        assert!(is_binary(Some("image/png; q=1"), &types));
        assert!(is_binary(Some("IMAGE/PNG"), &types));
        assert!(!is_binary(Some("image/jpeg"), &types));
        assert!(is_binary(Some("text/html, image/png"), &types));
        assert!(!is_binary(None, &types));
        assert!(is_binary(Some("image/gif"), &["*/*".to_owned()]));
        assert!(is_binary(Some("image/gif"), &["image/*".to_owned()]));
        assert_eq!(unescape("image~1png"), "image/png");
    }

    #[test]
    fn method_settings_paths() {
        assert_eq!(
            method_setting("/*/*/throttling/rateLimit", Some("100")),
            Some((
                "*/*".to_owned(),
                "throttlingRateLimit",
                serde_json::json!(100.0)
            ))
        );
        assert_eq!(
            method_setting("/~1items/GET/metrics/enabled", Some("true")),
            Some(("/items/GET".to_owned(), "metricsEnabled", Value::Bool(true)))
        );
        assert_eq!(method_setting("/variables/x", Some("1")), None);
        assert_eq!(
            method_setting("/*/*/throttling/rateLimit", Some("fast")),
            None
        );
    }
}
