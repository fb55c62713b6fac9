//! The management operations of HTTP APIs, as API Gateway v2 defines them: APIs (with quick
//! create), routes, integrations, stages, deployments, authorizers, CORS and tags. Each write
//! reads the API's record, changes it, stores it, then recompiles the API. Methods block on
//! storage: async callers run them on a blocking thread.

use std::collections::BTreeMap;

use rand::Rng;

use crate::error::{GatewayError, Result};
use crate::invoke::FunctionRef;
use crate::model::*;
use crate::routes::RouteKey;
use crate::{Gateway, ROOT_TAG};

const API_PREFIX: &str = "gateway/api/";

fn key(api_id: &str) -> Vec<u8> {
    format!("{API_PREFIX}{api_id}").into_bytes()
}

fn new_id(len: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

fn now() -> String {
    let t = time::OffsetDateTime::now_utc();
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

fn bad(msg: impl Into<String>) -> GatewayError {
    GatewayError::BadRequest(msg.into())
}

fn check_payload_format(v: &str) -> Result<()> {
    if v == "1.0" || v == "2.0" {
        Ok(())
    } else {
        Err(bad(format!(
            "Invalid PayloadFormatVersion {v}: supported values are 1.0 and 2.0"
        )))
    }
}

fn check_timeout(t: i64) -> Result<u64> {
    if (50..=30000).contains(&t) {
        Ok(t as u64)
    } else {
        Err(bad(
            "TimeoutInMillis must be between 50 and 30000 for HTTP APIs",
        ))
    }
}

fn check_cors(c: &Cors) -> Result<()> {
    if let Some(age) = c.max_age
        && !(-1..=86400).contains(&age)
    {
        return Err(bad("MaxAge must be between -1 and 86400"));
    }
    if c.allow_credentials == Some(true)
        && c.allow_origins
            .as_deref()
            .is_some_and(|o| o.iter().any(|o| o == "*"))
    {
        return Err(bad(
            "allow-credentials is not supported with allow-origins set to '*'",
        ));
    }
    Ok(())
}

fn validate_target(doc: &ApiDoc, target: &Option<String>) -> Result<()> {
    if let Some(t) = target {
        let id = t
            .strip_prefix("integrations/")
            .ok_or_else(|| bad(format!("Invalid target {t}: expected integrations/{{id}}")))?;
        if !doc.integrations.contains_key(id) {
            return Err(bad(format!(
                "Invalid integration id specified in target {t}"
            )));
        }
    }
    Ok(())
}

fn validate_authorization(doc: &ApiDoc, route: &Route) -> Result<()> {
    match route.authorization_type.as_str() {
        "NONE" | "AWS_IAM" => Ok(()),
        kind @ ("JWT" | "CUSTOM") => {
            let id = route.authorizer_id.as_deref().ok_or_else(|| {
                bad(format!(
                    "AuthorizerId is required for authorization type {kind}"
                ))
            })?;
            let a = doc
                .authorizers
                .get(id)
                .ok_or_else(|| bad(format!("Invalid authorizer id specified {id}")))?;
            let expected = if kind == "JWT" { "JWT" } else { "REQUEST" };
            if a.authorizer_type != expected {
                return Err(bad(format!(
                    "Authorization type {kind} needs an authorizer of type {expected}"
                )));
            }
            Ok(())
        }
        other => Err(bad(format!("Invalid authorization type {other}"))),
    }
}

impl Gateway {
    fn endpoint(&self, api_id: &str) -> String {
        format!("http://{api_id}.execute-api.localhost:{}", self.config.port)
    }

    fn present(&self, mut api: Api) -> Api {
        api.api_endpoint = self.endpoint(&api.api_id);
        api
    }

    pub(crate) fn load_all(&self) -> Result<Vec<ApiDoc>> {
        let mut docs = Vec::new();
        let mut bad_records = 0;
        self.store.scan(
            &nimbus_store::KeyRange::prefix(API_PREFIX.as_bytes()),
            nimbus_store::Direction::Forward,
            &mut |_, v| {
                match serde_json::from_slice::<ApiDoc>(v) {
                    Ok(doc) => docs.push(doc),
                    Err(_) => bad_records += 1,
                }
                std::ops::ControlFlow::Continue(())
            },
        )?;
        if bad_records > 0 {
            tracing::error!(bad_records, "unreadable API records skipped");
        }
        Ok(docs)
    }

    fn load(&self, api_id: &str) -> Result<ApiDoc> {
        let bytes = self
            .store
            .get(&key(api_id))?
            .ok_or_else(|| GatewayError::not_found("API", api_id))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| GatewayError::Internal(format!("API record {api_id}: {e}")))
    }

    fn save(&self, doc: &ApiDoc) -> Result<()> {
        let bytes = serde_json::to_vec(doc)
            .map_err(|e| GatewayError::Internal(format!("encode API record: {e}")))?;
        let mut batch = nimbus_store::WriteBatch::new();
        batch.put(key(&doc.api.api_id), bytes);
        self.store.commit(batch)?;
        self.install(doc);
        self.refresh_root();
        Ok(())
    }

    /// Loads, changes and stores one API record under the write lock.
    fn modify<T>(&self, api_id: &str, f: impl FnOnce(&mut ApiDoc) -> Result<T>) -> Result<T> {
        let _guard = self
            .writes
            .lock()
            .map_err(|_| GatewayError::Internal("write lock poisoned".into()))?;
        let mut doc = self.load(api_id)?;
        let out = f(&mut doc)?;
        self.save(&doc)?;
        Ok(out)
    }

    // ---- APIs -----------------------------------------------------------------------------

    pub fn create_api(&self, input: ApiInput) -> Result<Api> {
        let name = input
            .name
            .clone()
            .filter(|n| !n.is_empty() && n.len() <= 128)
            .ok_or_else(|| bad("Name is required (1 to 128 characters)"))?;
        match input.protocol_type.as_deref() {
            Some("HTTP") => {}
            Some("WEBSOCKET") => return Err(bad("WEBSOCKET APIs are not supported")),
            Some(other) => return Err(bad(format!("Invalid ProtocolType {other}"))),
            None => return Err(bad("ProtocolType is required")),
        }
        if let Some(c) = &input.cors_configuration {
            check_cors(c)?;
        }
        if input.route_key.is_some() && input.target.is_none() {
            return Err(bad(
                "RouteKey can only be specified with Target (quick create)",
            ));
        }
        let created = now();
        let api = Api {
            api_id: new_id(10),
            name,
            protocol_type: "HTTP".into(),
            api_endpoint: String::new(),
            api_key_selection_expression: input
                .api_key_selection_expression
                .unwrap_or_else(|| "$request.header.x-api-key".into()),
            route_selection_expression: input
                .route_selection_expression
                .unwrap_or_else(|| "$request.method $request.path".into()),
            cors_configuration: input.cors_configuration,
            created_date: created.clone(),
            description: input.description,
            disable_execute_api_endpoint: input.disable_execute_api_endpoint.unwrap_or(false),
            disable_schema_validation: input.disable_schema_validation.unwrap_or(false),
            ip_address_type: input.ip_address_type.unwrap_or_else(|| "ipv4".into()),
            tags: input.tags.unwrap_or_default(),
            version: input.version,
        };
        let mut doc = ApiDoc {
            api,
            routes: BTreeMap::new(),
            integrations: BTreeMap::new(),
            stages: BTreeMap::new(),
            deployments: BTreeMap::new(),
            authorizers: BTreeMap::new(),
        };
        if let Some(target) = input.target {
            // Quick create: an AWS_PROXY integration, a route, and the auto-deployed
            // `$default` stage.
            if FunctionRef::parse(&target).is_none() {
                return Err(bad(format!(
                    "Invalid Target {target}: expected a Lambda function ARN"
                )));
            }
            let route_key = input.route_key.unwrap_or_else(|| "$default".into());
            RouteKey::parse(&route_key)?;
            let integration_id = new_id(7);
            doc.integrations.insert(
                integration_id.clone(),
                Integration {
                    integration_id: integration_id.clone(),
                    integration_type: "AWS_PROXY".into(),
                    integration_uri: Some(target),
                    integration_method: Some("POST".into()),
                    payload_format_version: "2.0".into(),
                    timeout_in_millis: 30000,
                    connection_type: "INTERNET".into(),
                    description: None,
                    credentials_arn: input.credentials_arn,
                    request_parameters: None,
                    api_gateway_managed: true,
                },
            );
            let route_id = new_id(7);
            doc.routes.insert(
                route_id.clone(),
                Route {
                    route_id,
                    route_key,
                    target: Some(format!("integrations/{integration_id}")),
                    api_key_required: false,
                    authorization_type: "NONE".into(),
                    authorizer_id: None,
                    authorization_scopes: None,
                    operation_name: None,
                    api_gateway_managed: true,
                },
            );
            doc.stages.insert(
                "$default".into(),
                Stage {
                    stage_name: "$default".into(),
                    auto_deploy: true,
                    deployment_id: None,
                    stage_variables: BTreeMap::new(),
                    default_route_settings: RouteSettings::default(),
                    route_settings: BTreeMap::new(),
                    access_log_settings: None,
                    created_date: created.clone(),
                    last_updated_date: created,
                    description: None,
                    last_deployment_status_message: None,
                    tags: BTreeMap::new(),
                    api_gateway_managed: true,
                },
            );
        }
        let _guard = self
            .writes
            .lock()
            .map_err(|_| GatewayError::Internal("write lock poisoned".into()))?;
        self.save(&doc)?;
        tracing::info!(api = %doc.api.api_id, name = %doc.api.name, "API created");
        Ok(self.present(doc.api))
    }

    pub fn get_api(&self, api_id: &str) -> Result<Api> {
        Ok(self.present(self.load(api_id)?.api))
    }

    pub fn get_apis(&self) -> Result<Vec<Api>> {
        Ok(self
            .load_all()?
            .into_iter()
            .map(|d| self.present(d.api))
            .collect())
    }

    pub fn update_api(&self, api_id: &str, input: ApiInput) -> Result<Api> {
        let api = self.modify(api_id, |doc| {
            let api = &mut doc.api;
            if let Some(name) = input.name {
                if name.is_empty() || name.len() > 128 {
                    return Err(bad("Name must be 1 to 128 characters"));
                }
                api.name = name;
            }
            if let Some(c) = input.cors_configuration {
                check_cors(&c)?;
                api.cors_configuration = Some(c);
            }
            if let Some(d) = input.description {
                api.description = Some(d);
            }
            if let Some(v) = input.version {
                api.version = Some(v);
            }
            if let Some(v) = input.disable_execute_api_endpoint {
                api.disable_execute_api_endpoint = v;
            }
            if let Some(v) = input.disable_schema_validation {
                api.disable_schema_validation = v;
            }
            if let Some(v) = input.route_selection_expression {
                api.route_selection_expression = v;
            }
            if let Some(v) = input.api_key_selection_expression {
                api.api_key_selection_expression = v;
            }
            if let Some(v) = input.ip_address_type {
                api.ip_address_type = v;
            }
            Ok(doc.api.clone())
        })?;
        Ok(self.present(api))
    }

    pub fn delete_api(&self, api_id: &str) -> Result<()> {
        let _guard = self
            .writes
            .lock()
            .map_err(|_| GatewayError::Internal("write lock poisoned".into()))?;
        self.load(api_id)?;
        let mut batch = nimbus_store::WriteBatch::new();
        batch.delete(key(api_id));
        self.store.commit(batch)?;
        self.uninstall(api_id);
        self.refresh_root();
        tracing::info!(api = %api_id, "API deleted");
        Ok(())
    }

    pub fn delete_cors_configuration(&self, api_id: &str) -> Result<()> {
        self.modify(api_id, |doc| {
            doc.api.cors_configuration = None;
            Ok(())
        })
    }

    // ---- routes ---------------------------------------------------------------------------

    pub fn create_route(&self, api_id: &str, input: RouteInput) -> Result<Route> {
        self.modify(api_id, |doc| {
            let route_key = input.route_key.ok_or_else(|| bad("RouteKey is required"))?;
            RouteKey::parse(&route_key)?;
            if doc.routes.values().any(|r| r.route_key == route_key) {
                return Err(GatewayError::Conflict(format!(
                    "Route with key {route_key} already exists for this API"
                )));
            }
            validate_target(doc, &input.target)?;
            let route = Route {
                route_id: new_id(7),
                route_key,
                target: input.target,
                api_key_required: input.api_key_required.unwrap_or(false),
                authorization_type: input.authorization_type.unwrap_or_else(|| "NONE".into()),
                authorizer_id: input.authorizer_id,
                authorization_scopes: input.authorization_scopes,
                operation_name: input.operation_name,
                api_gateway_managed: false,
            };
            validate_authorization(doc, &route)?;
            doc.routes.insert(route.route_id.clone(), route.clone());
            Ok(route)
        })
    }

    pub fn get_route(&self, api_id: &str, route_id: &str) -> Result<Route> {
        self.load(api_id)?
            .routes
            .remove(route_id)
            .ok_or_else(|| GatewayError::not_found("Route", route_id))
    }

    pub fn get_routes(&self, api_id: &str) -> Result<Vec<Route>> {
        Ok(self.load(api_id)?.routes.into_values().collect())
    }

    pub fn update_route(&self, api_id: &str, route_id: &str, input: RouteInput) -> Result<Route> {
        self.modify(api_id, |doc| {
            let mut route = doc
                .routes
                .get(route_id)
                .cloned()
                .ok_or_else(|| GatewayError::not_found("Route", route_id))?;
            if let Some(k) = input.route_key {
                RouteKey::parse(&k)?;
                if doc
                    .routes
                    .values()
                    .any(|r| r.route_key == k && r.route_id != route_id)
                {
                    return Err(GatewayError::Conflict(format!(
                        "Route with key {k} already exists for this API"
                    )));
                }
                route.route_key = k;
            }
            if input.target.is_some() {
                validate_target(doc, &input.target)?;
                route.target = input.target.filter(|t| !t.is_empty());
            }
            if let Some(v) = input.api_key_required {
                route.api_key_required = v;
            }
            if let Some(v) = input.authorization_type {
                route.authorization_type = v;
                if route.authorization_type == "NONE" {
                    route.authorizer_id = None;
                }
            }
            if let Some(v) = input.authorizer_id {
                route.authorizer_id = Some(v);
            }
            if let Some(v) = input.authorization_scopes {
                route.authorization_scopes = Some(v);
            }
            if let Some(v) = input.operation_name {
                route.operation_name = Some(v);
            }
            validate_authorization(doc, &route)?;
            doc.routes.insert(route_id.to_owned(), route.clone());
            Ok(route)
        })
    }

    pub fn delete_route(&self, api_id: &str, route_id: &str) -> Result<()> {
        self.modify(api_id, |doc| {
            doc.routes
                .remove(route_id)
                .map(|_| ())
                .ok_or_else(|| GatewayError::not_found("Route", route_id))
        })
    }

    // ---- integrations ---------------------------------------------------------------------

    pub fn create_integration(&self, api_id: &str, input: IntegrationInput) -> Result<Integration> {
        self.modify(api_id, |doc| {
            let kind = input
                .integration_type
                .ok_or_else(|| bad("IntegrationType is required"))?;
            if !["AWS_PROXY", "HTTP_PROXY", "AWS", "HTTP", "MOCK"].contains(&kind.as_str()) {
                return Err(bad(format!("Invalid IntegrationType {kind}")));
            }
            let payload_format_version = match (&kind[..], input.payload_format_version) {
                (_, Some(v)) => {
                    check_payload_format(&v)?;
                    v
                }
                ("AWS_PROXY", None) => {
                    return Err(bad(
                        "PayloadFormatVersion is required for AWS_PROXY integrations (1.0 or 2.0)",
                    ));
                }
                (_, None) => "1.0".into(),
            };
            if kind == "AWS_PROXY" {
                let uri = input
                    .integration_uri
                    .as_deref()
                    .ok_or_else(|| bad("IntegrationUri is required for AWS_PROXY integrations"))?;
                if !uri.contains("${stageVariables.") && FunctionRef::parse(uri).is_none() {
                    return Err(bad(format!(
                        "Invalid IntegrationUri {uri}: expected a Lambda function ARN"
                    )));
                }
            }
            let integration = Integration {
                integration_id: new_id(7),
                integration_type: kind,
                integration_uri: input.integration_uri,
                integration_method: input.integration_method.or(Some("POST".into())),
                payload_format_version,
                timeout_in_millis: input
                    .timeout_in_millis
                    .map(check_timeout)
                    .transpose()?
                    .unwrap_or(30000),
                connection_type: input.connection_type.unwrap_or_else(|| "INTERNET".into()),
                description: input.description,
                credentials_arn: input.credentials_arn,
                request_parameters: input.request_parameters,
                api_gateway_managed: false,
            };
            doc.integrations
                .insert(integration.integration_id.clone(), integration.clone());
            Ok(integration)
        })
    }

    pub fn get_integration(&self, api_id: &str, id: &str) -> Result<Integration> {
        self.load(api_id)?
            .integrations
            .remove(id)
            .ok_or_else(|| GatewayError::not_found("Integration", id))
    }

    pub fn get_integrations(&self, api_id: &str) -> Result<Vec<Integration>> {
        Ok(self.load(api_id)?.integrations.into_values().collect())
    }

    pub fn update_integration(
        &self,
        api_id: &str,
        id: &str,
        input: IntegrationInput,
    ) -> Result<Integration> {
        self.modify(api_id, |doc| {
            let i = doc
                .integrations
                .get_mut(id)
                .ok_or_else(|| GatewayError::not_found("Integration", id))?;
            if let Some(v) = input.integration_type {
                i.integration_type = v;
            }
            if let Some(v) = input.integration_uri {
                i.integration_uri = Some(v);
            }
            if let Some(v) = input.integration_method {
                i.integration_method = Some(v);
            }
            if let Some(v) = input.payload_format_version {
                check_payload_format(&v)?;
                i.payload_format_version = v;
            }
            if let Some(v) = input.timeout_in_millis {
                i.timeout_in_millis = check_timeout(v)?;
            }
            if let Some(v) = input.connection_type {
                i.connection_type = v;
            }
            if let Some(v) = input.description {
                i.description = Some(v);
            }
            if let Some(v) = input.credentials_arn {
                i.credentials_arn = Some(v);
            }
            if let Some(v) = input.request_parameters {
                i.request_parameters = Some(v);
            }
            Ok(i.clone())
        })
    }

    pub fn delete_integration(&self, api_id: &str, id: &str) -> Result<()> {
        self.modify(api_id, |doc| {
            let target = format!("integrations/{id}");
            if doc
                .routes
                .values()
                .any(|r| r.target.as_deref() == Some(&target))
            {
                return Err(GatewayError::Conflict(format!(
                    "Integration {id} is the target of a route; remove the route first"
                )));
            }
            doc.integrations
                .remove(id)
                .map(|_| ())
                .ok_or_else(|| GatewayError::not_found("Integration", id))
        })
    }

    // ---- stages ---------------------------------------------------------------------------

    pub fn create_stage(&self, api_id: &str, input: StageInput) -> Result<Stage> {
        self.modify(api_id, |doc| {
            let name = input
                .stage_name
                .ok_or_else(|| bad("StageName is required"))?;
            if name != "$default"
                && (name.is_empty()
                    || name.len() > 128
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            {
                return Err(bad(format!(
                    "Invalid stage name {name}: use letters, digits, '-' and '_'"
                )));
            }
            if doc.stages.contains_key(&name) {
                return Err(GatewayError::Conflict(format!(
                    "Stage {name} already exists"
                )));
            }
            if let Some(d) = &input.deployment_id
                && !doc.deployments.contains_key(d)
            {
                return Err(bad(format!("Invalid deployment id specified {d}")));
            }
            let created = now();
            let stage = Stage {
                stage_name: name.clone(),
                auto_deploy: input.auto_deploy.unwrap_or(false),
                deployment_id: input.deployment_id,
                stage_variables: input.stage_variables.unwrap_or_default(),
                default_route_settings: input.default_route_settings.unwrap_or_default(),
                route_settings: input.route_settings.unwrap_or_default(),
                access_log_settings: input.access_log_settings,
                created_date: created.clone(),
                last_updated_date: created,
                description: input.description,
                last_deployment_status_message: None,
                tags: input.tags.unwrap_or_default(),
                api_gateway_managed: false,
            };
            doc.stages.insert(name, stage.clone());
            Ok(stage)
        })
    }

    pub fn get_stage(&self, api_id: &str, name: &str) -> Result<Stage> {
        self.load(api_id)?
            .stages
            .remove(name)
            .ok_or_else(|| GatewayError::not_found("Stage", name))
    }

    pub fn get_stages(&self, api_id: &str) -> Result<Vec<Stage>> {
        Ok(self.load(api_id)?.stages.into_values().collect())
    }

    pub fn update_stage(&self, api_id: &str, name: &str, input: StageInput) -> Result<Stage> {
        self.modify(api_id, |doc| {
            if let Some(d) = &input.deployment_id
                && !doc.deployments.contains_key(d)
            {
                return Err(bad(format!("Invalid deployment id specified {d}")));
            }
            let s = doc
                .stages
                .get_mut(name)
                .ok_or_else(|| GatewayError::not_found("Stage", name))?;
            if let Some(v) = input.auto_deploy {
                s.auto_deploy = v;
            }
            if let Some(v) = input.deployment_id {
                s.deployment_id = Some(v);
            }
            if let Some(v) = input.stage_variables {
                s.stage_variables = v;
            }
            if let Some(v) = input.default_route_settings {
                s.default_route_settings = v;
            }
            if let Some(v) = input.route_settings {
                s.route_settings = v;
            }
            if let Some(v) = input.access_log_settings {
                s.access_log_settings = Some(v);
            }
            if let Some(v) = input.description {
                s.description = Some(v);
            }
            s.last_updated_date = now();
            Ok(s.clone())
        })
    }

    pub fn delete_stage(&self, api_id: &str, name: &str) -> Result<()> {
        self.modify(api_id, |doc| {
            doc.stages
                .remove(name)
                .map(|_| ())
                .ok_or_else(|| GatewayError::not_found("Stage", name))
        })
    }

    pub fn delete_route_settings(&self, api_id: &str, stage: &str, route_key: &str) -> Result<()> {
        self.modify(api_id, |doc| {
            let s = doc
                .stages
                .get_mut(stage)
                .ok_or_else(|| GatewayError::not_found("Stage", stage))?;
            s.route_settings
                .remove(route_key)
                .map(|_| ())
                .ok_or_else(|| GatewayError::not_found("RouteSettings", route_key))
        })
    }

    // ---- deployments ----------------------------------------------------------------------

    pub fn create_deployment(&self, api_id: &str, input: DeploymentInput) -> Result<Deployment> {
        self.modify(api_id, |doc| {
            if let Some(stage) = &input.stage_name {
                let s = doc
                    .stages
                    .get(stage)
                    .ok_or_else(|| bad(format!("Invalid stage identifier specified {stage}")))?;
                if s.auto_deploy {
                    return Err(bad(format!(
                        "Stage {stage} has AutoDeploy enabled; it cannot be deployed manually"
                    )));
                }
            }
            let deployment = Deployment {
                deployment_id: new_id(6),
                deployment_status: "DEPLOYED".into(),
                created_date: now(),
                auto_deployed: false,
                description: input.description,
            };
            let id = deployment.deployment_id.clone();
            doc.deployments
                .insert(id.clone(), (deployment.clone(), doc.live()));
            if let Some(stage) = &input.stage_name
                && let Some(s) = doc.stages.get_mut(stage)
            {
                s.deployment_id = Some(id);
                s.last_updated_date = now();
            }
            Ok(deployment)
        })
    }

    pub fn get_deployment(&self, api_id: &str, id: &str) -> Result<Deployment> {
        self.load(api_id)?
            .deployments
            .remove(id)
            .map(|(d, _)| d)
            .ok_or_else(|| GatewayError::not_found("Deployment", id))
    }

    pub fn get_deployments(&self, api_id: &str) -> Result<Vec<Deployment>> {
        Ok(self
            .load(api_id)?
            .deployments
            .into_values()
            .map(|(d, _)| d)
            .collect())
    }

    pub fn delete_deployment(&self, api_id: &str, id: &str) -> Result<()> {
        self.modify(api_id, |doc| {
            if doc
                .stages
                .values()
                .any(|s| s.deployment_id.as_deref() == Some(id))
            {
                return Err(bad(format!(
                    "Deployment {id} is active on a stage and cannot be deleted"
                )));
            }
            doc.deployments
                .remove(id)
                .map(|_| ())
                .ok_or_else(|| GatewayError::not_found("Deployment", id))
        })
    }

    // ---- authorizers ----------------------------------------------------------------------

    pub fn create_authorizer(&self, api_id: &str, input: AuthorizerInput) -> Result<Authorizer> {
        self.modify(api_id, |doc| {
            let kind = input
                .authorizer_type
                .ok_or_else(|| bad("AuthorizerType is required"))?;
            let name = input.name.ok_or_else(|| bad("Name is required"))?;
            let identity_source = input.identity_source.unwrap_or_default();
            match kind.as_str() {
                "JWT" => {
                    let jwt = input.jwt_configuration.as_ref().ok_or_else(|| {
                        bad("JwtConfiguration is required for JWT authorizers")
                    })?;
                    if jwt.issuer.as_deref().is_none_or(str::is_empty) {
                        return Err(bad("JwtConfiguration.Issuer is required"));
                    }
                    if identity_source.len() != 1 {
                        return Err(bad("A JWT authorizer takes exactly one identity source"));
                    }
                }
                "REQUEST" => {
                    let uri = input
                        .authorizer_uri
                        .as_deref()
                        .ok_or_else(|| bad("AuthorizerUri is required for REQUEST authorizers"))?;
                    if FunctionRef::parse(uri).is_none() {
                        return Err(bad(format!("Invalid AuthorizerUri {uri}")));
                    }
                    let version = input
                        .authorizer_payload_format_version
                        .as_deref()
                        .ok_or_else(|| {
                            bad("AuthorizerPayloadFormatVersion is required for REQUEST authorizers")
                        })?;
                    check_payload_format(version)?;
                    if input.enable_simple_responses == Some(true) && version != "2.0" {
                        return Err(bad(
                            "EnableSimpleResponses is only supported with payload format 2.0",
                        ));
                    }
                }
                other => return Err(bad(format!("Invalid AuthorizerType {other}"))),
            }
            let ttl = input
                .authorizer_result_ttl_in_seconds
                .map(|t| {
                    if (0..=3600).contains(&t) {
                        Ok(t as u64)
                    } else {
                        Err(bad("AuthorizerResultTtlInSeconds must be between 0 and 3600"))
                    }
                })
                .transpose()?;
            let authorizer = Authorizer {
                authorizer_id: new_id(6),
                authorizer_type: kind.clone(),
                name,
                identity_source,
                jwt_configuration: input.jwt_configuration,
                authorizer_uri: input.authorizer_uri,
                authorizer_payload_format_version: input.authorizer_payload_format_version,
                enable_simple_responses: if kind == "REQUEST" {
                    Some(input.enable_simple_responses.unwrap_or(false))
                } else {
                    None
                },
                authorizer_result_ttl_in_seconds: if kind == "REQUEST" {
                    Some(ttl.unwrap_or(0))
                } else {
                    ttl
                },
                authorizer_credentials_arn: input.authorizer_credentials_arn,
                identity_validation_expression: input.identity_validation_expression,
            };
            doc.authorizers
                .insert(authorizer.authorizer_id.clone(), authorizer.clone());
            Ok(authorizer)
        })
    }

    pub fn get_authorizer(&self, api_id: &str, id: &str) -> Result<Authorizer> {
        self.load(api_id)?
            .authorizers
            .remove(id)
            .ok_or_else(|| GatewayError::not_found("Authorizer", id))
    }

    pub fn get_authorizers(&self, api_id: &str) -> Result<Vec<Authorizer>> {
        Ok(self.load(api_id)?.authorizers.into_values().collect())
    }

    pub fn update_authorizer(
        &self,
        api_id: &str,
        id: &str,
        input: AuthorizerInput,
    ) -> Result<Authorizer> {
        self.modify(api_id, |doc| {
            let a = doc
                .authorizers
                .get_mut(id)
                .ok_or_else(|| GatewayError::not_found("Authorizer", id))?;
            if let Some(v) = input.name {
                a.name = v;
            }
            if let Some(v) = input.identity_source {
                a.identity_source = v;
            }
            if let Some(v) = input.jwt_configuration {
                a.jwt_configuration = Some(v);
            }
            if let Some(v) = input.authorizer_uri {
                a.authorizer_uri = Some(v);
            }
            if let Some(v) = input.authorizer_payload_format_version {
                check_payload_format(&v)?;
                a.authorizer_payload_format_version = Some(v);
            }
            if let Some(v) = input.enable_simple_responses {
                a.enable_simple_responses = Some(v);
            }
            if let Some(v) = input.authorizer_result_ttl_in_seconds {
                a.authorizer_result_ttl_in_seconds = Some(v.clamp(0, 3600) as u64);
            }
            if let Some(v) = input.identity_validation_expression {
                a.identity_validation_expression = Some(v);
            }
            Ok(a.clone())
        })
    }

    pub fn delete_authorizer(&self, api_id: &str, id: &str) -> Result<()> {
        self.modify(api_id, |doc| {
            if doc
                .routes
                .values()
                .any(|r| r.authorizer_id.as_deref() == Some(id))
            {
                return Err(GatewayError::Conflict(format!(
                    "Authorizer {id} is used by a route; detach it first"
                )));
            }
            doc.authorizers
                .remove(id)
                .map(|_| ())
                .ok_or_else(|| GatewayError::not_found("Authorizer", id))
        })
    }

    // ---- tags -----------------------------------------------------------------------------

    /// The API (and stage, if any) an `arn:aws:apigateway:{region}::/apis/{id}[/stages/{s}]`
    /// names.
    fn tagged(arn: &str) -> Result<(String, Option<String>)> {
        let path = arn
            .split_once("::")
            .map(|(_, p)| p)
            .ok_or_else(|| bad(format!("Invalid resource ARN {arn}")))?;
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match parts.as_slice() {
            ["apis", id] => Ok(((*id).to_owned(), None)),
            ["apis", id, "stages", s] => Ok(((*id).to_owned(), Some((*s).to_owned()))),
            _ => Err(GatewayError::NotFound {
                message: format!("Invalid resource ARN {arn}"),
                resource_type: "Resource",
            }),
        }
    }

    pub fn get_tags(&self, arn: &str) -> Result<BTreeMap<String, String>> {
        let (api_id, stage) = Self::tagged(arn)?;
        let doc = self.load(&api_id)?;
        match stage {
            None => Ok(doc.api.tags),
            Some(s) => doc
                .stages
                .get(&s)
                .map(|s| s.tags.clone())
                .ok_or_else(|| GatewayError::not_found("Stage", &s)),
        }
    }

    pub fn tag_resource(&self, arn: &str, tags: BTreeMap<String, String>) -> Result<()> {
        let (api_id, stage) = Self::tagged(arn)?;
        self.modify(&api_id, |doc| {
            let target = match &stage {
                None => &mut doc.api.tags,
                Some(s) => {
                    &mut doc
                        .stages
                        .get_mut(s)
                        .ok_or_else(|| GatewayError::not_found("Stage", s))?
                        .tags
                }
            };
            target.extend(tags);
            Ok(())
        })?;
        if stage.is_none() {
            tracing::debug!(api = %api_id, root = ROOT_TAG, "tags changed");
        }
        Ok(())
    }

    pub fn untag_resource(&self, arn: &str, keys: &[String]) -> Result<()> {
        let (api_id, stage) = Self::tagged(arn)?;
        self.modify(&api_id, |doc| {
            let target = match &stage {
                None => &mut doc.api.tags,
                Some(s) => {
                    &mut doc
                        .stages
                        .get_mut(s)
                        .ok_or_else(|| GatewayError::not_found("Stage", s))?
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
