//! The AWS calls of a deploy: the stack's resources as they run (found by their tags), and
//! creating, converging and deleting functions, tables and HTTP APIs (REST APIs: `rest.rs`),
//! publishing layers, signed like any client.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use base64::Engine as _;
use nimbus_deploy::model::*;
use serde_json::{Value, json};

use crate::client::{Client, RestResponse, describe_error};
use crate::commands::encode;

/// A stack resource found on the server.
#[derive(Debug, Clone)]
pub(super) struct Found {
    pub(super) stack: String,
    pub(super) actual: Actual,
    /// The ARN tags are attached to.
    pub(super) arn: String,
    pub(super) tags: BTreeMap<String, String>,
}

/// The AWS APIs of one server.
pub(super) struct Cloud {
    pub(super) client: Client,
    pub(super) region: String,
}

impl Cloud {
    /// A REST JSON call; non-2xx answers are errors.
    pub(super) async fn rest(
        &self,
        service: &str,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let (response, value) = self.send(service, method, path, body).await?;
        if !response.status.is_success() {
            bail!("{}", describe_error(&response, &value));
        }
        Ok(value)
    }

    /// A Lambda REST call whose 404 answer is `None` (the resource is not there); other
    /// non-2xx answers are errors.
    async fn lambda_if_found(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Option<Value>> {
        let (response, value) = self.send("lambda", method, path, body).await?;
        if response.status == http::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status.is_success() {
            bail!("{}", describe_error(&response, &value));
        }
        Ok(Some(value))
    }

    /// Sends a REST JSON call: the answer and its body as JSON (`null` when it is not).
    async fn send(
        &self,
        service: &str,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<(RestResponse, Value)> {
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let headers: &[(&str, &str)] = if body.is_some() {
            &[("content-type", "application/json")]
        } else {
            &[]
        };
        let response = self
            .client
            .rest(service, method, path, headers, bytes)
            .await?;
        let value: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        Ok((response, value))
    }

    pub(super) async fn lambda(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        self.rest("lambda", method, path, body).await
    }

    pub(super) async fn apigw(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        self.rest("apigateway", method, path, body).await
    }

    pub(super) async fn ddb(&self, op: &str, body: &Value) -> anyhow::Result<Value> {
        self.client
            .json("dynamodb", &format!("DynamoDB_20120810.{op}"), "1.0", body)
            .await
    }

    pub(super) fn api_arn(&self, id: &str) -> String {
        format!("arn:aws:apigateway:{}::/apis/{id}", self.region)
    }

    /// Every resource that carries a stack tag.
    pub(super) async fn inventory(&self) -> anyhow::Result<Vec<Found>> {
        let mut found = Vec::new();
        let mut push = |kind: Kind,
                        physical: String,
                        arn: String,
                        tags: BTreeMap<String, String>,
                        code: Option<String>| {
            if let (Some(stack), Some(logical_id)) = (tags.get(TAG_STACK), tags.get(TAG_LOGICAL_ID))
            {
                found.push(Found {
                    stack: stack.clone(),
                    actual: Actual {
                        logical_id: logical_id.clone(),
                        kind,
                        physical,
                        hash: tags.get(TAG_HASH).cloned(),
                        replace_hash: tags.get(TAG_REPLACE_HASH).cloned(),
                        code_sha256: code,
                    },
                    arn,
                    tags: tags.clone(),
                });
            }
        };
        // Functions.
        let mut marker: Option<String> = None;
        loop {
            let mut path = "/2015-03-31/functions/?MaxItems=50".to_owned();
            if let Some(m) = &marker {
                path.push_str(&format!("&Marker={}", encode(m)));
            }
            let page = self
                .lambda("GET", &path, None)
                .await
                .context("list functions")?;
            for f in page["Functions"].as_array().into_iter().flatten() {
                let (Some(name), Some(arn)) =
                    (f["FunctionName"].as_str(), f["FunctionArn"].as_str())
                else {
                    continue;
                };
                let tags = self
                    .lambda("GET", &format!("/2017-03-31/tags/{}", encode(arn)), None)
                    .await
                    .with_context(|| format!("list the tags of function {name}"))?;
                push(
                    Kind::Function,
                    name.to_owned(),
                    arn.to_owned(),
                    string_map(&tags["Tags"]),
                    f["CodeSha256"].as_str().map(str::to_owned),
                );
            }
            marker = page["NextMarker"].as_str().map(str::to_owned);
            if marker.is_none() {
                break;
            }
        }
        // Tables.
        let mut start: Option<String> = None;
        loop {
            let mut request = json!({});
            if let Some(s) = &start {
                request["ExclusiveStartTableName"] = json!(s);
            }
            let page = self
                .ddb("ListTables", &request)
                .await
                .context("list tables")?;
            for name in page["TableNames"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                let Ok(described) = self.ddb("DescribeTable", &json!({"TableName": name})).await
                else {
                    continue; // deleted meanwhile
                };
                let arn = described["Table"]["TableArn"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let tags = self
                    .ddb("ListTagsOfResource", &json!({"ResourceArn": arn}))
                    .await
                    .with_context(|| format!("list the tags of table {name}"))?;
                let tags = tags["Tags"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| {
                        Some((
                            t["Key"].as_str()?.to_owned(),
                            t["Value"].as_str()?.to_owned(),
                        ))
                    })
                    .collect();
                push(Kind::Table, name.to_owned(), arn, tags, None);
            }
            start = page["LastEvaluatedTableName"].as_str().map(str::to_owned);
            if start.is_none() {
                break;
            }
        }
        // HTTP APIs (their tags come with them).
        let apis = self
            .apigw("GET", "/v2/apis", None)
            .await
            .context("list HTTP APIs")?;
        for api in apis["items"].as_array().into_iter().flatten() {
            let Some(id) = api["apiId"].as_str() else {
                continue;
            };
            push(
                Kind::HttpApi,
                id.to_owned(),
                self.api_arn(id),
                string_map(&api["tags"]),
                None,
            );
        }
        // REST APIs.
        for (id, tags) in self.rest_apis().await.context("list REST APIs")? {
            let arn = self.rest_api_arn(&id);
            push(Kind::RestApi, id, arn, tags, None);
        }
        Ok(found)
    }

    pub(super) async fn delete(&self, kind: Kind, physical: &str) -> anyhow::Result<()> {
        match kind {
            Kind::Function => {
                self.lambda(
                    "DELETE",
                    &format!("/2015-03-31/functions/{}", encode(physical)),
                    None,
                )
                .await?;
            }
            Kind::Table => {
                self.ddb("DeleteTable", &json!({"TableName": physical}))
                    .await?;
            }
            Kind::HttpApi => {
                self.apigw("DELETE", &format!("/v2/apis/{}", encode(physical)), None)
                    .await?;
            }
            Kind::RestApi => self.delete_rest_api(physical).await?,
        }
        Ok(())
    }
}

pub(super) fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// An AWS_PROXY integration with a function.
fn integration(uri: &str, version: &str, timeout_ms: u64) -> Value {
    json!({
        "integrationType": "AWS_PROXY",
        "integrationUri": uri,
        "payloadFormatVersion": version,
        "timeoutInMillis": timeout_ms,
    })
}

pub(super) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The state of an HTTP API that deploy manages: what [`Cloud::sync_api`] converges to.
#[derive(Debug, Clone)]
pub(super) struct ApiState {
    pub(super) name: String,
    pub(super) description: Option<String>,
    pub(super) cors: Option<Value>,
    pub(super) routes: BTreeMap<String, RouteState>,
    /// Authorizer name → CreateAuthorizer's body without the name.
    pub(super) authorizers: BTreeMap<String, Value>,
    pub(super) stages: BTreeSet<String>,
    pub(super) tags: BTreeMap<String, String>,
}

/// A route: its integration and its authorization.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct RouteState {
    pub(super) uri: String,
    pub(super) version: String,
    pub(super) timeout_ms: u64,
    /// `NONE`, `AWS_IAM`, `JWT` or `CUSTOM`.
    pub(super) authorization_type: String,
    /// The authorizer's name.
    pub(super) authorizer: Option<String>,
    pub(super) scopes: Vec<String>,
}

/// The fields of an authorizer that its CreateAuthorizer body sets (the rest is the server's).
const AUTHORIZER_FIELDS: [&str; 7] = [
    "authorizerType",
    "identitySource",
    "jwtConfiguration",
    "authorizerUri",
    "authorizerPayloadFormatVersion",
    "enableSimpleResponses",
    "authorizerResultTtlInSeconds",
];

impl ApiState {
    pub(super) fn desired(spec: &ApiSpec, tags: BTreeMap<String, String>) -> ApiState {
        ApiState {
            name: spec.name.clone(),
            description: spec.description.clone(),
            cors: spec.cors.clone(),
            routes: spec
                .routes
                .iter()
                .map(|r| {
                    let route = RouteState {
                        uri: r.function_arn.clone(),
                        version: r.payload_format_version.clone(),
                        timeout_ms: r.timeout_ms,
                        authorization_type: r.authorization_type.clone(),
                        authorizer: r.authorizer.clone(),
                        scopes: r.scopes.clone(),
                    };
                    (r.route_key.clone(), route)
                })
                .collect(),
            authorizers: spec
                .authorizers
                .iter()
                .map(|a| (a.name.clone(), a.body.clone()))
                .collect(),
            stages: [spec.stage.clone()].into(),
            tags,
        }
    }
}

/// The route's authorization as UpdateRoute and CreateRoute take it; `ids` maps authorizer
/// names to ids.
fn route_authorization(route: &RouteState, ids: &BTreeMap<String, String>) -> Value {
    let mut body = json!({
        "authorizationType": route.authorization_type,
        "authorizationScopes": route.scopes,
    });
    if let Some(id) = route.authorizer.as_ref().and_then(|n| ids.get(n)) {
        body["authorizerId"] = json!(id);
    }
    body
}

/// Whether route `r` as the server lists it has `route`'s authorization.
fn same_authorization(r: &Value, route: &RouteState, ids: &BTreeMap<String, String>) -> bool {
    let kind = r["authorizationType"].as_str().unwrap_or("NONE");
    let scopes: Vec<&str> = r["authorizationScopes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let authorizer = route.authorizer.as_ref().and_then(|n| ids.get(n));
    kind == route.authorization_type
        && scopes == route.scopes.iter().map(String::as_str).collect::<Vec<_>>()
        && (authorizer.is_none() || r["authorizerId"].as_str() == authorizer.map(String::as_str))
}

impl Cloud {
    pub(super) async fn create_api(&self, state: &ApiState) -> anyhow::Result<String> {
        let mut body = json!({"name": state.name, "protocolType": "HTTP", "tags": state.tags});
        if let Some(d) = &state.description {
            body["description"] = json!(d);
        }
        if let Some(c) = &state.cors {
            body["corsConfiguration"] = c.clone();
        }
        let api = self.apigw("POST", "/v2/apis", Some(&body)).await?;
        let id = api["apiId"]
            .as_str()
            .ok_or_else(|| anyhow!("CreateApi returned no apiId"))?
            .to_owned();
        if let Err(e) = self.sync_api(&id, state).await {
            let _ = self.delete(Kind::HttpApi, &id).await;
            return Err(e);
        }
        Ok(id)
    }

    /// The API's authorizers: name → (id, body as CreateAuthorizer takes it).
    async fn read_authorizers(
        &self,
        id: &str,
    ) -> anyhow::Result<BTreeMap<String, (String, Value)>> {
        let listed = self
            .apigw("GET", &format!("/v2/apis/{id}/authorizers"), None)
            .await?;
        Ok(listed["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| {
                let body: serde_json::Map<String, Value> = AUTHORIZER_FIELDS
                    .iter()
                    .filter_map(|f| Some(((*f).to_owned(), a.get(*f)?.clone())))
                    .collect();
                Some((
                    a["name"].as_str()?.to_owned(),
                    (a["authorizerId"].as_str()?.to_owned(), Value::Object(body)),
                ))
            })
            .collect())
    }

    pub(super) async fn read_api(&self, id: &str) -> anyhow::Result<ApiState> {
        let api = self.apigw("GET", &format!("/v2/apis/{id}"), None).await?;
        let integrations = self
            .apigw("GET", &format!("/v2/apis/{id}/integrations"), None)
            .await?;
        let integrations: BTreeMap<String, &Value> = integrations["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| Some((i["integrationId"].as_str()?.to_owned(), i)))
            .collect();
        let authorizers = self.read_authorizers(id).await?;
        let names: BTreeMap<&str, &str> = authorizers
            .iter()
            .map(|(name, (aid, _))| (aid.as_str(), name.as_str()))
            .collect();
        let routes = self
            .apigw("GET", &format!("/v2/apis/{id}/routes"), None)
            .await?;
        let mut route_map = BTreeMap::new();
        for r in routes["items"].as_array().into_iter().flatten() {
            let key = r["routeKey"].as_str().unwrap_or_default().to_owned();
            let target = r["target"].as_str().unwrap_or_default();
            if let Some(i) = target
                .strip_prefix("integrations/")
                .and_then(|t| integrations.get(t))
            {
                let route = RouteState {
                    uri: i["integrationUri"].as_str().unwrap_or_default().to_owned(),
                    version: i["payloadFormatVersion"]
                        .as_str()
                        .unwrap_or("2.0")
                        .to_owned(),
                    timeout_ms: i["timeoutInMillis"].as_u64().unwrap_or(30_000),
                    authorization_type: r["authorizationType"]
                        .as_str()
                        .unwrap_or("NONE")
                        .to_owned(),
                    authorizer: r["authorizerId"]
                        .as_str()
                        .and_then(|a| names.get(a))
                        .map(|n| (*n).to_owned()),
                    scopes: r["authorizationScopes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect(),
                };
                route_map.insert(key, route);
            }
        }
        let stages = self
            .apigw("GET", &format!("/v2/apis/{id}/stages"), None)
            .await?;
        Ok(ApiState {
            name: api["name"].as_str().unwrap_or_default().to_owned(),
            description: api["description"].as_str().map(str::to_owned),
            cors: api.get("corsConfiguration").cloned(),
            routes: route_map,
            authorizers: authorizers
                .into_iter()
                .map(|(name, (_, body))| (name, body))
                .collect(),
            stages: stages["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["stageName"].as_str().map(str::to_owned))
                .collect(),
            tags: string_map(&api["tags"]),
        })
    }

    /// Makes the API's authorizers those of `state` (by name: updated in place, so that their
    /// ids stay), except that removed ones are left for [`Cloud::sync_api`] to delete once no
    /// route names them. Returns name → id of every authorizer, and the ids to delete.
    async fn sync_authorizers(
        &self,
        id: &str,
        state: &ApiState,
    ) -> anyhow::Result<(BTreeMap<String, String>, Vec<String>)> {
        let existing = self.read_authorizers(id).await?;
        let mut ids = BTreeMap::new();
        for (name, body) in &state.authorizers {
            let mut full = body.clone();
            full["name"] = json!(name);
            let authorizer_id = match existing.get(name) {
                Some((aid, current)) if current == body => aid.clone(),
                Some((aid, _)) => {
                    let path = format!("/v2/apis/{id}/authorizers/{aid}");
                    self.apigw("PATCH", &path, Some(&full)).await?;
                    aid.clone()
                }
                None => {
                    let path = format!("/v2/apis/{id}/authorizers");
                    let created = self.apigw("POST", &path, Some(&full)).await?;
                    created["authorizerId"]
                        .as_str()
                        .ok_or_else(|| anyhow!("CreateAuthorizer returned no authorizerId"))?
                        .to_owned()
                }
            };
            ids.insert(name.clone(), authorizer_id);
        }
        let removed = existing
            .into_iter()
            .filter(|(name, _)| !state.authorizers.contains_key(name))
            .map(|(_, (aid, _))| aid)
            .collect();
        Ok((ids, removed))
    }

    /// Makes API `id` match `state`: settings, authorizers, routes with their integrations and
    /// authorization, stages, tags.
    pub(super) async fn sync_api(&self, id: &str, state: &ApiState) -> anyhow::Result<()> {
        let mut patch = json!({"name": state.name});
        if let Some(d) = &state.description {
            patch["description"] = json!(d);
        }
        if let Some(c) = &state.cors {
            patch["corsConfiguration"] = c.clone();
        }
        self.apigw("PATCH", &format!("/v2/apis/{id}"), Some(&patch))
            .await?;
        let current = self.apigw("GET", &format!("/v2/apis/{id}"), None).await?;
        if state.cors.is_none() && current.get("corsConfiguration").is_some() {
            self.apigw("DELETE", &format!("/v2/apis/{id}/cors"), None)
                .await?;
        }
        let (authorizer_ids, removed_authorizers) = self.sync_authorizers(id, state).await?;
        // Routes: keep the ones that match, fix the others, add and remove.
        let integrations = self
            .apigw("GET", &format!("/v2/apis/{id}/integrations"), None)
            .await?;
        let integrations: BTreeMap<String, Value> = integrations["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| Some((i["integrationId"].as_str()?.to_owned(), i.clone())))
            .collect();
        let routes = self
            .apigw("GET", &format!("/v2/apis/{id}/routes"), None)
            .await?;
        let mut seen = BTreeSet::new();
        let mut used_integrations = BTreeSet::new();
        for r in routes["items"].as_array().into_iter().flatten() {
            let key = r["routeKey"].as_str().unwrap_or_default();
            let route_id = r["routeId"].as_str().unwrap_or_default();
            let integration_id = r["target"]
                .as_str()
                .and_then(|t| t.strip_prefix("integrations/"))
                .unwrap_or_default()
                .to_owned();
            let Some(route) = state.routes.get(key) else {
                self.apigw("DELETE", &format!("/v2/apis/{id}/routes/{route_id}"), None)
                    .await?;
                continue;
            };
            seen.insert(key.to_owned());
            let route_path = format!("/v2/apis/{id}/routes/{route_id}");
            if !same_authorization(r, route, &authorizer_ids) {
                let body = route_authorization(route, &authorizer_ids);
                self.apigw("PATCH", &route_path, Some(&body)).await?;
            }
            let body = integration(&route.uri, &route.version, route.timeout_ms);
            match integrations.get(&integration_id) {
                Some(i)
                    if i["integrationUri"].as_str() == Some(route.uri.as_str())
                        && i["payloadFormatVersion"].as_str() == Some(route.version.as_str())
                        && i["timeoutInMillis"].as_u64() == Some(route.timeout_ms) => {}
                Some(_) => {
                    self.apigw(
                        "PATCH",
                        &format!("/v2/apis/{id}/integrations/{integration_id}"),
                        Some(&body),
                    )
                    .await?;
                }
                None => {
                    let i = self
                        .apigw("POST", &format!("/v2/apis/{id}/integrations"), Some(&body))
                        .await?;
                    let new_id = i["integrationId"].as_str().unwrap_or_default().to_owned();
                    self.apigw(
                        "PATCH",
                        &route_path,
                        Some(&json!({"target": format!("integrations/{new_id}")})),
                    )
                    .await?;
                    used_integrations.insert(new_id);
                    continue;
                }
            }
            used_integrations.insert(integration_id);
        }
        for (key, route) in &state.routes {
            if seen.contains(key) {
                continue;
            }
            let body = integration(&route.uri, &route.version, route.timeout_ms);
            let i = self
                .apigw("POST", &format!("/v2/apis/{id}/integrations"), Some(&body))
                .await?;
            let integration_id = i["integrationId"].as_str().unwrap_or_default().to_owned();
            let mut body = route_authorization(route, &authorizer_ids);
            body["routeKey"] = json!(key);
            body["target"] = json!(format!("integrations/{integration_id}"));
            self.apigw("POST", &format!("/v2/apis/{id}/routes"), Some(&body))
                .await?;
            used_integrations.insert(integration_id);
        }
        for integration_id in integrations.keys() {
            if !used_integrations.contains(integration_id) {
                self.apigw(
                    "DELETE",
                    &format!("/v2/apis/{id}/integrations/{integration_id}"),
                    None,
                )
                .await?;
            }
        }
        for authorizer_id in removed_authorizers {
            self.apigw(
                "DELETE",
                &format!("/v2/apis/{id}/authorizers/{authorizer_id}"),
                None,
            )
            .await?;
        }
        // Stages: auto-deployed, so that route changes are served at once.
        let stages = self
            .apigw("GET", &format!("/v2/apis/{id}/stages"), None)
            .await?;
        let existing: BTreeSet<String> = stages["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["stageName"].as_str().map(str::to_owned))
            .collect();
        for stage in &state.stages {
            if existing.contains(stage) {
                self.apigw(
                    "PATCH",
                    &format!("/v2/apis/{id}/stages/{}", encode(stage)),
                    Some(&json!({"autoDeploy": true})),
                )
                .await?;
            } else {
                self.apigw(
                    "POST",
                    &format!("/v2/apis/{id}/stages"),
                    Some(&json!({"stageName": stage, "autoDeploy": true})),
                )
                .await?;
            }
        }
        for stage in existing.difference(&state.stages) {
            self.apigw(
                "DELETE",
                &format!("/v2/apis/{id}/stages/{}", encode(stage)),
                None,
            )
            .await?;
        }
        // Tags.
        let arn = encode(&self.api_arn(id));
        let current = string_map(&current["tags"]);
        let removed: Vec<String> = current
            .keys()
            .filter(|k| !state.tags.contains_key(*k))
            .map(|k| format!("tagKeys={}", encode(k)))
            .collect();
        if !removed.is_empty() {
            self.apigw(
                "DELETE",
                &format!("/v2/tags/{arn}?{}", removed.join("&")),
                None,
            )
            .await?;
        }
        if current != state.tags {
            self.apigw(
                "POST",
                &format!("/v2/tags/{arn}"),
                Some(&json!({"tags": state.tags})),
            )
            .await?;
        }
        Ok(())
    }

    pub(super) async fn set_function_tags(
        &self,
        arn: &str,
        old: &BTreeMap<String, String>,
        new: &BTreeMap<String, String>,
    ) -> anyhow::Result<()> {
        let path = format!("/2017-03-31/tags/{}", encode(arn));
        let removed: Vec<String> = old
            .keys()
            .filter(|k| !new.contains_key(*k))
            .map(|k| format!("tagKeys={}", encode(k)))
            .collect();
        if !removed.is_empty() {
            self.lambda("DELETE", &format!("{path}?{}", removed.join("&")), None)
                .await?;
        }
        self.lambda("POST", &path, Some(&json!({"Tags": new})))
            .await?;
        Ok(())
    }

    pub(super) async fn set_table_tags(
        &self,
        arn: &str,
        old: &BTreeMap<String, String>,
        new: &BTreeMap<String, String>,
    ) -> anyhow::Result<()> {
        let removed: Vec<&String> = old.keys().filter(|k| !new.contains_key(*k)).collect();
        if !removed.is_empty() {
            self.ddb(
                "UntagResource",
                &json!({"ResourceArn": arn, "TagKeys": removed}),
            )
            .await?;
        }
        let tags: Vec<Value> = new
            .iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect();
        self.ddb("TagResource", &json!({"ResourceArn": arn, "Tags": tags}))
            .await?;
        Ok(())
    }

    pub(super) async fn wait_table_active(&self, name: &str) -> anyhow::Result<()> {
        for _ in 0..300 {
            let t = self
                .ddb("DescribeTable", &json!({"TableName": name}))
                .await?;
            if t["Table"]["TableStatus"].as_str() == Some("ACTIVE") {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("table {name} did not become ACTIVE within 30 s")
    }

    /// Sends the UpdateTable `call`. A call that enables a stream on a table whose stream is
    /// enabled (another view type) first disables it: DynamoDB refuses a second stream, so a
    /// stream's view type changes by a new stream.
    async fn send_table_update(&self, call: &Value) -> anyhow::Result<()> {
        if call["StreamSpecification"]["StreamEnabled"] == json!(true) {
            let t = self
                .ddb("DescribeTable", &json!({"TableName": call["TableName"]}))
                .await?;
            if t["Table"]["StreamSpecification"]["StreamEnabled"] == json!(true) {
                let off = json!({
                    "TableName": call["TableName"],
                    "StreamSpecification": {"StreamEnabled": false},
                });
                self.ddb("UpdateTable", &off).await?;
            }
        }
        self.ddb("UpdateTable", call).await?;
        Ok(())
    }

    /// UpdateTable with what differs between `want` (CreateTable members) and the table.
    pub(super) async fn update_table(
        &self,
        name: &str,
        want: &serde_json::Map<String, Value>,
    ) -> anyhow::Result<Option<Value>> {
        let t = self
            .ddb("DescribeTable", &json!({"TableName": name}))
            .await?["Table"]
            .clone();
        let mode_now = t["BillingModeSummary"]["BillingMode"]
            .as_str()
            .unwrap_or("PROVISIONED");
        let mode_want = want
            .get("BillingMode")
            .and_then(Value::as_str)
            .unwrap_or("PROVISIONED");
        let mut update = json!({"TableName": name});
        let mut undo = json!({"TableName": name});
        if mode_now != mode_want {
            update["BillingMode"] = json!(mode_want);
            undo["BillingMode"] = json!(mode_now);
        }
        let throughput_now = json!({
            "ReadCapacityUnits": t["ProvisionedThroughput"]["ReadCapacityUnits"],
            "WriteCapacityUnits": t["ProvisionedThroughput"]["WriteCapacityUnits"],
        });
        if mode_want == "PROVISIONED"
            && let Some(pt) = want.get("ProvisionedThroughput")
            && *pt != throughput_now
        {
            update["ProvisionedThroughput"] = pt.clone();
            if mode_now == "PROVISIONED" {
                undo["ProvisionedThroughput"] = throughput_now;
            }
        }
        let stream_now = t
            .get("StreamSpecification")
            .cloned()
            .unwrap_or(json!({"StreamEnabled": false}));
        let stream_want = want
            .get("StreamSpecification")
            .cloned()
            .unwrap_or(json!({"StreamEnabled": false}));
        let enabled = |s: &Value| {
            s["StreamEnabled"]
                .as_bool()
                .unwrap_or(s.get("StreamViewType").is_some())
        };
        if enabled(&stream_now) != enabled(&stream_want)
            || (enabled(&stream_want)
                && stream_now["StreamViewType"] != stream_want["StreamViewType"])
        {
            let mut s = stream_want.clone();
            s["StreamEnabled"] = json!(enabled(&stream_want));
            update["StreamSpecification"] = s;
            undo["StreamSpecification"] = stream_now;
        }
        if update.as_object().is_some_and(|m| m.len() > 1) {
            self.send_table_update(&update).await?;
            self.wait_table_active(name).await?;
            Ok(Some(undo))
        } else {
            Ok(None)
        }
    }

    /// Brings a table's global secondary indexes to those of `want` (CreateTable members): an
    /// index that is gone or whose keys or projection changed is deleted, a new or changed one
    /// created, a changed throughput updated. `undo` receives, as it goes (a failure half-way
    /// leaves it right), the UpdateTable calls that undo what was done, in the order to make
    /// them.
    pub(super) async fn sync_global_indexes(
        &self,
        name: &str,
        want: &serde_json::Map<String, Value>,
        undo: &mut Vec<Value>,
    ) -> anyhow::Result<()> {
        let t = self
            .ddb("DescribeTable", &json!({"TableName": name}))
            .await?["Table"]
            .clone();
        let now: Vec<Value> = t["GlobalSecondaryIndexes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let wanted: Vec<Value> = want
            .get("GlobalSecondaryIndexes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let shape = |i: &Value| (i["KeySchema"].clone(), i["Projection"].clone());
        let throughput = |i: &Value| {
            json!({
                "ReadCapacityUnits": i["ProvisionedThroughput"]["ReadCapacityUnits"],
                "WriteCapacityUnits": i["ProvisionedThroughput"]["WriteCapacityUnits"],
            })
        };
        let definition = |i: &Value| {
            let mut d = json!({
                "IndexName": i["IndexName"],
                "KeySchema": i["KeySchema"],
                "Projection": i["Projection"],
            });
            if i["ProvisionedThroughput"]["ReadCapacityUnits"]
                .as_i64()
                .unwrap_or(0)
                > 0
            {
                d["ProvisionedThroughput"] = throughput(i);
            }
            d
        };
        let call = |update: Value, definitions: &Value| {
            json!({
                "TableName": name,
                "AttributeDefinitions": definitions,
                "GlobalSecondaryIndexUpdates": [update],
            })
        };
        let find = |list: &[Value], index: &Value| {
            list.iter()
                .find(|i| i["IndexName"] == index["IndexName"])
                .cloned()
        };
        let definitions_now = t["AttributeDefinitions"].clone();
        let definitions_want = want
            .get("AttributeDefinitions")
            .cloned()
            .unwrap_or(json!([]));
        for old in &now {
            let kept = find(&wanted, old).filter(|w| shape(w) == shape(old));
            match kept {
                None => {
                    self.ddb(
                        "UpdateTable",
                        &call(
                            json!({"Delete": {"IndexName": old["IndexName"]}}),
                            &json!([]),
                        ),
                    )
                    .await?;
                    undo.insert(
                        0,
                        call(json!({"Create": definition(old)}), &definitions_now),
                    );
                }
                Some(w) => {
                    if w.get("ProvisionedThroughput").is_some() && throughput(&w) != throughput(old)
                    {
                        let change = |i: &Value| {
                            json!({"Update": {"IndexName": i["IndexName"],
                                              "ProvisionedThroughput": throughput(i)}})
                        };
                        self.ddb("UpdateTable", &call(change(&w), &json!([])))
                            .await?;
                        undo.insert(0, call(change(old), &json!([])));
                    }
                }
            }
        }
        for w in &wanted {
            let exists = find(&now, w).is_some_and(|old| shape(&old) == shape(w));
            if !exists {
                self.ddb(
                    "UpdateTable",
                    &call(json!({"Create": w}), &definitions_want),
                )
                .await?;
                undo.insert(
                    0,
                    call(json!({"Delete": {"IndexName": w["IndexName"]}}), &json!([])),
                );
            }
        }
        Ok(())
    }

    /// Brings a table's time to live to `want` (the attribute, or `None` for disabled);
    /// returns the attribute it had before when something changed.
    pub(super) async fn sync_ttl(
        &self,
        name: &str,
        want: Option<&str>,
    ) -> anyhow::Result<Option<Option<String>>> {
        let described = self
            .ddb("DescribeTimeToLive", &json!({"TableName": name}))
            .await?;
        let now = match described["TimeToLiveDescription"]["TimeToLiveStatus"].as_str() {
            Some("ENABLED" | "ENABLING") => described["TimeToLiveDescription"]["AttributeName"]
                .as_str()
                .map(str::to_owned),
            _ => None,
        };
        if now.as_deref() == want {
            return Ok(None);
        }
        let update = |attribute: &str, enabled: bool| {
            json!({
                "TableName": name,
                "TimeToLiveSpecification": {"AttributeName": attribute, "Enabled": enabled},
            })
        };
        if let Some(attribute) = &now {
            self.ddb("UpdateTimeToLive", &update(attribute, false))
                .await?;
        }
        if let Some(attribute) = want {
            self.ddb("UpdateTimeToLive", &update(attribute, true))
                .await?;
        }
        Ok(Some(now))
    }
}

/// The attribute of an enabled `TimeToLiveSpecification`; `None` when disabled or absent.
pub(super) fn ttl_attribute(spec: Option<&Value>) -> Option<&str> {
    spec.filter(|s| s["Enabled"].as_bool() == Some(true))
        .and_then(|s| s["AttributeName"].as_str())
}

/// What a deploy changed, to undo it if a later step fails.
pub(super) enum Done {
    Created(Kind, String),
    UpdatedFunction {
        name: String,
        arn: String,
        config: Value,
        zip: Option<Vec<u8>>,
        tags: BTreeMap<String, String>,
        new_tags: BTreeMap<String, String>,
    },
    UpdatedTable {
        arn: String,
        name: String,
        undo: Option<Value>,
        /// The time-to-live attribute before, when the deploy changed it.
        ttl_before: Option<Option<String>>,
        /// The UpdateTable calls that undo the changes of global secondary indexes.
        index_undo: Vec<Value>,
        tags: BTreeMap<String, String>,
        new_tags: BTreeMap<String, String>,
    },
    UpdatedApi {
        id: String,
        previous: ApiState,
    },
    UpdatedRestApi {
        id: String,
        previous: super::rest::RestPrevious,
    },
    /// An `AutoPublishAlias` alias moved to `version` (from `previous`, or created).
    Alias {
        function: String,
        alias: String,
        version: String,
        previous: Option<String>,
    },
    /// The function's reserved concurrency changed from `previous`.
    Concurrency {
        function: String,
        previous: Option<u64>,
    },
}

impl Cloud {
    pub(super) async fn undo(&self, done: Done) -> anyhow::Result<()> {
        match done {
            Done::Created(kind, physical) => self.delete(kind, &physical).await,
            Done::UpdatedFunction {
                name,
                arn,
                config,
                zip,
                tags,
                new_tags,
            } => {
                let path = format!("/2015-03-31/functions/{}", encode(&name));
                let mut config = config;
                let architectures = config
                    .as_object_mut()
                    .and_then(|c| c.remove("Architectures"));
                if let Some(zip) = zip {
                    let mut body = json!({"ZipFile": b64(&zip)});
                    if let Some(a) = architectures {
                        body["Architectures"] = a;
                    }
                    self.lambda("PUT", &format!("{path}/code"), Some(&body))
                        .await?;
                }
                self.lambda("PUT", &format!("{path}/configuration"), Some(&config))
                    .await?;
                self.set_function_tags(&arn, &new_tags, &tags).await
            }
            Done::UpdatedTable {
                arn,
                name,
                undo,
                ttl_before,
                index_undo,
                tags,
                new_tags,
            } => {
                for call in &index_undo {
                    self.ddb("UpdateTable", call).await?;
                }
                if let Some(undo) = undo {
                    self.send_table_update(&undo).await?;
                }
                if let Some(before) = ttl_before {
                    self.sync_ttl(&name, before.as_deref()).await?;
                }
                self.set_table_tags(&arn, &new_tags, &tags).await
            }
            Done::UpdatedApi { id, previous } => self.sync_api(&id, &previous).await,
            Done::UpdatedRestApi { id, previous } => self.restore_rest_api(&id, &previous).await,
            Done::Alias {
                function,
                alias,
                previous,
                ..
            } => {
                let path = format!(
                    "/2015-03-31/functions/{}/aliases/{}",
                    encode(&function),
                    encode(&alias)
                );
                match previous {
                    Some(v) => self
                        .lambda("PUT", &path, Some(&json!({"FunctionVersion": v})))
                        .await
                        .map(drop),
                    None => self.lambda("DELETE", &path, None).await.map(drop),
                }
            }
            Done::Concurrency { function, previous } => {
                self.set_concurrency(&function, previous).await
            }
        }
    }

    async fn set_concurrency(&self, function: &str, n: Option<u64>) -> anyhow::Result<()> {
        let path = format!("/2017-10-31/functions/{}/concurrency", encode(function));
        match n {
            Some(n) => self
                .lambda(
                    "PUT",
                    &path,
                    Some(&json!({"ReservedConcurrentExecutions": n})),
                )
                .await
                .map(drop),
            None => self.lambda("DELETE", &path, None).await.map(drop),
        }
    }

    /// The version an alias points at; `None` if there is no such alias.
    pub(super) async fn alias_version(
        &self,
        function: &str,
        alias: &str,
    ) -> anyhow::Result<Option<String>> {
        let path = format!(
            "/2015-03-31/functions/{}/aliases/{}",
            encode(function),
            encode(alias)
        );
        let alias = self.lambda_if_found("GET", &path, None).await?;
        Ok(alias.and_then(|a| a["FunctionVersion"].as_str().map(str::to_owned)))
    }

    /// After a function is created or changed: its reserved concurrency, and for
    /// `AutoPublishAlias` a new version with the alias pointing at it (as SAM publishes one
    /// whenever code or configuration changed, which is when this runs).
    pub(super) async fn function_extras(
        &self,
        f: &FunctionSpec,
        created: bool,
        done: &mut Vec<Done>,
    ) -> anyhow::Result<()> {
        let name = encode(&f.name);
        let want = f.reserved_concurrency.map(u64::from);
        let previous = if created {
            None
        } else {
            self.lambda(
                "GET",
                &format!("/2019-09-30/functions/{name}/concurrency"),
                None,
            )
            .await?["ReservedConcurrentExecutions"]
                .as_u64()
        };
        if want != previous {
            self.set_concurrency(&f.name, want)
                .await
                .context("set the reserved concurrency")?;
            done.push(Done::Concurrency {
                function: f.name.clone(),
                previous,
            });
        }
        self.publish_alias(f, done).await?;
        self.sync_function_url(f)
            .await
            .context("set the function URL")?;
        self.sync_event_invoke_config(f)
            .await
            .context("set the asynchronous invocation settings")
    }

    /// Makes the function's asynchronous invocation settings `EventInvokeConfig`'s (on the
    /// alias with `AutoPublishAlias`), or removes them when the template has none.
    async fn sync_event_invoke_config(&self, f: &FunctionSpec) -> anyhow::Result<()> {
        let path = Self::settings_path(f, "2019-09-25", "event-invoke-config");
        match &f.event_invoke {
            Some(body) => {
                self.lambda("PUT", &path, Some(body)).await?;
            }
            // Absent already (404) is as good as deleted.
            None => {
                self.lambda_if_found("DELETE", &path, None).await?;
            }
        }
        Ok(())
    }

    /// The path of a function setting that SAM puts on the `AutoPublishAlias` alias when there
    /// is one: `/{version}/functions/{name}/{setting}`, with `?Qualifier={alias}`.
    fn settings_path(f: &FunctionSpec, version: &str, setting: &str) -> String {
        let mut path = format!("/{version}/functions/{}/{setting}", encode(&f.name));
        if let Some(p) = &f.publish {
            path.push_str(&format!("?Qualifier={}", encode(&p.alias)));
        }
        path
    }

    /// Makes the function's URL configuration `FunctionUrlConfig`'s: created, updated, or
    /// deleted when the template has none.
    async fn sync_function_url(&self, f: &FunctionSpec) -> anyhow::Result<()> {
        let path = Self::settings_path(f, "2021-10-31", "url");
        let current = self.lambda_if_found("GET", &path, None).await?;
        match (&f.url, current) {
            (None, None) => {}
            (None, Some(_)) => {
                self.lambda("DELETE", &path, None).await?;
            }
            (Some(body), None) => {
                self.lambda("POST", &path, Some(body)).await?;
            }
            (Some(body), Some(_)) => {
                let mut body = body.clone();
                // An update without Cors keeps the old one: clear it explicitly.
                if body.get("Cors").is_none() {
                    body["Cors"] = json!({});
                }
                self.lambda("PUT", &path, Some(&body)).await?;
            }
        }
        Ok(())
    }

    /// The URL of the function's `FunctionUrlConfig`, once deployed.
    pub(super) async fn function_url(&self, f: &FunctionSpec) -> anyhow::Result<Option<String>> {
        if f.url.is_none() {
            return Ok(None);
        }
        let path = Self::settings_path(f, "2021-10-31", "url");
        let config = self.lambda("GET", &path, None).await?;
        Ok(config["FunctionUrl"].as_str().map(str::to_owned))
    }

    /// `AutoPublishAlias`: publishes a version and points the alias at it.
    async fn publish_alias(&self, f: &FunctionSpec, done: &mut Vec<Done>) -> anyhow::Result<()> {
        let name = encode(&f.name);
        let Some(publish) = &f.publish else {
            return Ok(());
        };
        let version = self
            .lambda(
                "POST",
                &format!("/2015-03-31/functions/{name}/versions"),
                Some(&json!({})),
            )
            .await
            .context("publish a version")?["Version"]
            .as_str()
            .ok_or_else(|| anyhow!("PublishVersion returned no Version"))?
            .to_owned();
        let previous = self.alias_version(&f.name, &publish.alias).await?;
        let path = format!("/2015-03-31/functions/{name}/aliases");
        if previous.is_some() {
            self.lambda(
                "PUT",
                &format!("{path}/{}", encode(&publish.alias)),
                Some(&json!({"FunctionVersion": version})),
            )
            .await
        } else {
            self.lambda(
                "POST",
                &path,
                Some(&json!({"Name": publish.alias, "FunctionVersion": version})),
            )
            .await
        }
        .with_context(|| format!("point alias {} at version {version}", publish.alias))?;
        done.push(Done::Alias {
            function: f.name.clone(),
            alias: publish.alias.clone(),
            version,
            previous,
        });
        Ok(())
    }

    /// The configuration members of a function as UpdateFunctionConfiguration takes them.
    pub(super) async fn function_config(&self, name: &str) -> anyhow::Result<(Value, String)> {
        let f = self
            .lambda(
                "GET",
                &format!("/2015-03-31/functions/{}", encode(name)),
                None,
            )
            .await?;
        let c = &f["Configuration"];
        let mut config = json!({
            "Handler": c["Handler"],
            "Runtime": c["Runtime"],
            "Role": c["Role"],
            "MemorySize": c["MemorySize"],
            "Timeout": c["Timeout"],
            "Description": c["Description"],
            "Environment": {"Variables": c["Environment"]["Variables"].as_object().cloned().unwrap_or_default()},
        });
        if let Some(size) = c["EphemeralStorage"]["Size"].as_u64() {
            config["EphemeralStorage"] = json!({"Size": size});
        }
        if let Some(mode) = c["TracingConfig"]["Mode"].as_str() {
            config["TracingConfig"] = json!({ "Mode": mode });
        }
        // Not a configuration member: the undo of an update gives it back with the code.
        if c["Architectures"].is_array() {
            config["Architectures"] = c["Architectures"].clone();
        }
        let location = f["Code"]["Location"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        Ok((config, location))
    }

    /// Downloads a package from GetFunction's `Code.Location`.
    pub(super) async fn download(&self, location: &str) -> anyhow::Result<Vec<u8>> {
        let path = location
            .find("/_nimbus/")
            .map(|i| &location[i..])
            .ok_or_else(|| anyhow!("unexpected code location {location}"))?;
        let response = self
            .client
            .rest("lambda", "GET", path, &[], Vec::new())
            .await?;
        if !response.status.is_success() {
            bail!("download the current code: {}", response.status);
        }
        Ok(response.body.to_vec())
    }
}

impl Cloud {
    /// Makes each layer's latest version match its spec and package: publishes a new version
    /// where the content or configuration differs (or the layer has none). Returns each layer's
    /// version ARN by logical id, and the versions superseded under `RetentionPolicy: Delete`
    /// (layer name, version), to delete once the deploy succeeded; reports what it published
    /// through `published`.
    pub(super) async fn publish_layers(
        &self,
        layers: &[LayerSpec],
        packages: &BTreeMap<String, nimbus_deploy::package::Package>,
        mut published: impl FnMut(&LayerSpec, &str),
    ) -> anyhow::Result<(BTreeMap<String, String>, Vec<(String, u64)>)> {
        let mut arns = BTreeMap::new();
        let mut superseded = Vec::new();
        for layer in layers {
            let package = packages
                .get(&layer.logical_id)
                .ok_or_else(|| anyhow!("no package for layer {}", layer.logical_id))?;
            let path = format!("/2018-10-31/layers/{}/versions", encode(&layer.name));
            let latest = self
                .lambda("GET", &format!("{path}?MaxItems=1"), None)
                .await?;
            let latest = latest["LayerVersions"].get(0).cloned();
            let latest_version = latest.as_ref().and_then(|v| v["Version"].as_u64());
            let current = match latest {
                Some(v) => {
                    let version = v["Version"].as_u64().unwrap_or(0);
                    let full = self
                        .lambda("GET", &format!("{path}/{version}"), None)
                        .await?;
                    let same = full["Content"]["CodeSha256"].as_str() == Some(&package.sha256)
                        && full["Description"].as_str().unwrap_or("") == layer.description
                        && full["CompatibleRuntimes"] == json!(layer.compatible_runtimes)
                        && full["CompatibleArchitectures"] == json!(layer.compatible_architectures)
                        && full["LicenseInfo"].as_str() == layer.license_info.as_deref();
                    same.then(|| full["LayerVersionArn"].as_str().map(str::to_owned))
                        .flatten()
                }
                None => None,
            };
            let arn = match current {
                Some(arn) => arn,
                None => {
                    let mut body = json!({
                        "Content": {"ZipFile": base64::engine::general_purpose::STANDARD.encode(&package.zip)},
                        "Description": layer.description,
                        "CompatibleRuntimes": layer.compatible_runtimes,
                        "CompatibleArchitectures": layer.compatible_architectures,
                    });
                    if let Some(license) = &layer.license_info {
                        body["LicenseInfo"] = json!(license);
                    }
                    let out = self
                        .lambda("POST", &path, Some(&body))
                        .await
                        .with_context(|| {
                            format!(
                                "Resource {} (template line {}): publish layer {}",
                                layer.logical_id, layer.line, layer.name
                            )
                        })?;
                    let arn = out["LayerVersionArn"]
                        .as_str()
                        .ok_or_else(|| anyhow!("PublishLayerVersion answered without an ARN"))?
                        .to_owned();
                    published(layer, &arn);
                    if let (true, Some(old)) = (layer.delete_superseded, latest_version) {
                        superseded.push((layer.name.clone(), old));
                    }
                    arn
                }
            };
            arns.insert(layer.logical_id.clone(), arn);
        }
        Ok((arns, superseded))
    }

    /// Deletes superseded layer versions (`RetentionPolicy: Delete`).
    pub(super) async fn delete_layer_versions(
        &self,
        versions: &[(String, u64)],
    ) -> anyhow::Result<()> {
        for (name, version) in versions {
            let path = format!("/2018-10-31/layers/{}/versions/{version}", encode(name));
            self.lambda("DELETE", &path, None)
                .await
                .with_context(|| format!("delete layer version {name}:{version}"))?;
        }
        Ok(())
    }
}
