//! APIs compiled for serving: per stage, the route table of what that stage runs (the live
//! configuration for `AutoDeploy` stages, else the stage's deployment), with integrations,
//! authorizers, throttling buckets and the access-log stream resolved.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use nimbus_functions::logs::{LogStore, LogStream};

use crate::event::AuthorizerContext;
use crate::model::{ApiDoc, Authorizer, Cors, Integration, RouteSettings, Snapshot};
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
}

/// One stage, ready to serve.
pub struct StageRuntime {
    pub name: String,
    pub variables: BTreeMap<String, String>,
    pub table: RouteTable<RouteRuntime>,
    pub cors: Option<Cors>,
    pub bucket: Option<Bucket>,
    pub access_log: LogStream,
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
        }
    }
}
