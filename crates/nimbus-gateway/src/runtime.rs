//! APIs compiled for serving: per stage, the route table of what that stage runs (the live
//! configuration for `AutoDeploy` stages, else the stage's deployment), with integrations,
//! authorizers, throttling buckets and the access-log stream resolved.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use nimbus_functions::logs::{LogStore, LogStream};

use crate::event::AuthorizerContext;
use crate::model::{ApiDoc, Authorizer, Cors, Integration, RouteSettings, Snapshot};
use crate::rest::{MAX_TIMEOUT_MS, RestApiDoc, RestIntegration};
use crate::routes::RouteTable;
use crate::throttle::Bucket;

/// An authorizer with its result cache.
pub struct AuthorizerRuntime {
    pub authorizer: Authorizer,
    /// Identity values → (expiry, verdict) for Lambda authorizers with a TTL.
    pub cache: Mutex<HashMap<String, (Instant, AuthorizerContext)>>,
}

/// One route of one stage.
pub struct RouteRuntime {
    pub route_id: String,
    pub integration: Option<Integration>,
    pub authorizer: Option<Arc<AuthorizerRuntime>>,
    /// `JWT`, `CUSTOM`, `NONE`, `AWS_IAM`.
    pub authorization_type: String,
    pub scopes: Vec<String>,
    pub bucket: Option<Bucket>,
    /// A REST API `MOCK` integration's answer.
    pub mock: Option<MockResponse>,
}

/// What a `MOCK` integration answers: the integration response its request template selects
/// (`{"statusCode": N}`, default 200), with its `application/json` template as the body
/// (templates are sent as written, not evaluated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What only REST APIs have.
#[derive(Debug, Clone, Default)]
pub struct RestRuntime {
    pub binary_media_types: Vec<String>,
}

/// One stage, ready to serve.
pub struct StageRuntime {
    pub name: String,
    pub variables: BTreeMap<String, String>,
    pub table: RouteTable<RouteRuntime>,
    pub cors: Option<Cors>,
    pub bucket: Option<Bucket>,
    pub access_log: LogStream,
    /// The deployment a REST API's stage serves (`requestContext.deploymentId`).
    pub deployment_id: Option<String>,
}

/// One API, ready to serve.
pub struct ApiRuntime {
    pub api_id: String,
    pub name: String,
    pub created_date: String,
    /// Tagged `nimbus:root`.
    pub root: bool,
    pub disable_execute_api_endpoint: bool,
    pub stages: HashMap<String, Arc<StageRuntime>>,
    /// Set for REST APIs, which are served only under `/{stage}/` and select routes as REST
    /// APIs do.
    pub rest: Option<RestRuntime>,
}

fn bucket(settings: &RouteSettings) -> Option<Bucket> {
    Bucket::new(
        settings.throttling_rate_limit,
        settings.throttling_burst_limit,
    )
}

impl ApiRuntime {
    pub fn compile(doc: &ApiDoc, logs: &LogStore) -> ApiRuntime {
        let mut stages = HashMap::new();
        for stage in doc.stages.values() {
            let snapshot: Option<Snapshot> = if stage.auto_deploy {
                Some(doc.live())
            } else {
                stage
                    .deployment_id
                    .as_ref()
                    .and_then(|id| doc.deployments.get(id))
                    .map(|(_, s)| s.clone())
            };
            let snapshot = snapshot.unwrap_or_default();
            let authorizers: HashMap<String, Arc<AuthorizerRuntime>> = snapshot
                .authorizers
                .iter()
                .map(|(id, a)| {
                    (
                        id.clone(),
                        Arc::new(AuthorizerRuntime {
                            authorizer: a.clone(),
                            cache: Mutex::new(HashMap::new()),
                        }),
                    )
                })
                .collect();
            let mut table = RouteTable::new();
            for route in snapshot.routes.values() {
                let integration = route
                    .target
                    .as_deref()
                    .and_then(|t| t.strip_prefix("integrations/"))
                    .and_then(|id| snapshot.integrations.get(id))
                    .cloned();
                let settings = stage.route_settings.get(&route.route_key).map(|s| {
                    // Route settings override the stage's defaults field by field.
                    let d = &stage.default_route_settings;
                    RouteSettings {
                        throttling_burst_limit: s
                            .throttling_burst_limit
                            .or(d.throttling_burst_limit),
                        throttling_rate_limit: s.throttling_rate_limit.or(d.throttling_rate_limit),
                        ..s.clone()
                    }
                });
                let runtime = RouteRuntime {
                    route_id: route.route_id.clone(),
                    integration,
                    authorizer: route
                        .authorizer_id
                        .as_ref()
                        .and_then(|id| authorizers.get(id))
                        .cloned(),
                    authorization_type: route.authorization_type.clone(),
                    scopes: route.authorization_scopes.clone().unwrap_or_default(),
                    bucket: settings.as_ref().and_then(bucket),
                    mock: None,
                };
                if let Err(e) = table.insert(&route.route_key, runtime) {
                    tracing::warn!(api = %doc.api.api_id, "route skipped: {e}");
                }
            }
            stages.insert(
                stage.stage_name.clone(),
                Arc::new(StageRuntime {
                    name: stage.stage_name.clone(),
                    variables: stage.stage_variables.clone(),
                    table,
                    cors: snapshot.cors.clone(),
                    bucket: bucket(&stage.default_route_settings),
                    access_log: logs.stream(&doc.api.api_id, &stage.stage_name, "access"),
                    deployment_id: None,
                }),
            );
        }
        ApiRuntime {
            api_id: doc.api.api_id.clone(),
            name: doc.api.name.clone(),
            created_date: doc.api.created_date.clone(),
            root: doc
                .api
                .tags
                .get(crate::ROOT_TAG)
                .is_some_and(|v| !v.eq_ignore_ascii_case("false")),
            disable_execute_api_endpoint: doc.api.disable_execute_api_endpoint,
            stages,
            rest: None,
        }
    }

    /// Compiles a REST API: each stage's route table holds the methods of its deployment's
    /// resources, one route per method (`GET /items/{id}`), the resource id as route id.
    pub fn compile_rest(doc: &RestApiDoc, logs: &LogStore) -> ApiRuntime {
        let mut stages = HashMap::new();
        for stage in doc.stages.values() {
            let empty = BTreeMap::new();
            let resources = doc
                .deployments
                .get(&stage.deployment_id)
                .map_or(&empty, |(_, r)| r);
            let mut table = RouteTable::new();
            for resource in resources.values() {
                for method in resource.resource_methods.values() {
                    let runtime = RouteRuntime {
                        route_id: resource.id.clone(),
                        integration: method.method_integration.as_ref().map(|i| Integration {
                            integration_id: resource.id.clone(),
                            integration_type: i.kind.clone(),
                            integration_uri: i.uri.clone(),
                            integration_method: i.http_method.clone(),
                            payload_format_version: "1.0".into(),
                            timeout_in_millis: i.timeout_in_millis.clamp(50, MAX_TIMEOUT_MS) as u64,
                            connection_type: i.connection_type.clone(),
                            description: None,
                            credentials_arn: i.credentials.clone(),
                            request_parameters: None,
                            api_gateway_managed: false,
                        }),
                        // `AWS_IAM` is enforced; `CUSTOM` and `COGNITO_USER_POOLS` cannot be
                        // set, since REST API authorizers are not supported.
                        authorizer: None,
                        authorization_type: method.authorization_type.clone(),
                        scopes: Vec::new(),
                        bucket: None,
                        mock: method
                            .method_integration
                            .as_ref()
                            .filter(|i| i.kind == "MOCK")
                            .map(mock_response),
                    };
                    let key = format!("{} {}", method.http_method, resource.path);
                    if let Err(e) = table.insert(&key, runtime) {
                        tracing::warn!(api = %doc.api.id, "method skipped: {e}");
                    }
                }
            }
            stages.insert(
                stage.stage_name.clone(),
                Arc::new(StageRuntime {
                    name: stage.stage_name.clone(),
                    variables: stage.variables.clone(),
                    table,
                    cors: None,
                    bucket: None,
                    access_log: logs.stream(&doc.api.id, &stage.stage_name, "access"),
                    deployment_id: Some(stage.deployment_id.clone()),
                }),
            );
        }
        ApiRuntime {
            api_id: doc.api.id.clone(),
            name: doc.api.name.clone(),
            created_date: time::OffsetDateTime::from_unix_timestamp(doc.api.created_date)
                .ok()
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_default(),
            root: doc
                .api
                .tags
                .get(crate::ROOT_TAG)
                .is_some_and(|v| !v.eq_ignore_ascii_case("false")),
            disable_execute_api_endpoint: doc.api.disable_execute_api_endpoint,
            stages,
            rest: Some(RestRuntime {
                binary_media_types: doc.api.binary_media_types.clone(),
            }),
        }
    }
}

fn mock_response(i: &RestIntegration) -> MockResponse {
    let status = i
        .request_templates
        .as_ref()
        .and_then(|t| t.get("application/json"))
        .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
        .and_then(|v| v.get("statusCode").and_then(serde_json::Value::as_u64))
        .unwrap_or(200);
    let response = i
        .integration_responses
        .as_ref()
        .and_then(|r| r.get(&status.to_string()));
    let Some(response) = response else {
        return MockResponse {
            status: 500,
            headers: vec![("content-type".into(), "application/json".into())],
            body: br#"{"message": "Internal server error"}"#.to_vec(),
        };
    };
    let body = response
        .get("responseTemplates")
        .and_then(|t| t.get("application/json"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or("")
        .as_bytes()
        .to_vec();
    // `method.response.header.X: 'value'` mappings with static values.
    let headers = response
        .get("responseParameters")
        .and_then(serde_json::Value::as_object)
        .map(|params| {
            params
                .iter()
                .filter_map(|(k, v)| {
                    let name = k.strip_prefix("method.response.header.")?;
                    let value = v.as_str()?.strip_prefix('\'')?.strip_suffix('\'')?;
                    Some((name.to_owned(), value.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default();
    MockResponse {
        status: u16::try_from(status).unwrap_or(200),
        headers,
        body,
    }
}
