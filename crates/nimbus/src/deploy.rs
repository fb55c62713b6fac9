//! `nimbus deploy`, `nimbus stacks` and `nimbus delete-stack`: the reconcile of a SAM stack.
//!
//! `nimbus-deploy` turns the template into desired resources and a plan; this module reads what
//! runs and executes the plan, only through the AWS APIs the server speaks (Lambda, DynamoDB,
//! API Gateway v2), signed like any client. Stack membership lives in tags on each resource
//! (`nimbus:stack-name`, `nimbus:logical-id`, `nimbus:hash`). A failed step undoes what the
//! deploy changed before it (created resources are deleted, updated ones restored), so the
//! previous stack keeps working.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use base64::Engine as _;
use nimbus_deploy::model::*;
use nimbus_deploy::package::{Package, package};
use nimbus_deploy::plan::{Change, plan};
use nimbus_deploy::sam::{Inputs, Resolved, resolve};
use nimbus_deploy::template::Template;
use serde_json::{Value, json};

use crate::cli::{DeleteStackArgs, DeployArgs, StacksArgs};
use crate::client::{Client, describe_error};
use crate::commands::encode;
use crate::config::Config;

/// `println!` that ignores a closed stdout: a deploy must not stop halfway because its output
/// pipe went away.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("start the async runtime")
}

/// A stack resource found on the server.
#[derive(Debug, Clone)]
struct Found {
    stack: String,
    actual: Actual,
    /// The ARN tags are attached to.
    arn: String,
    tags: BTreeMap<String, String>,
}

/// The AWS APIs of one server.
struct Cloud {
    client: Client,
    region: String,
}

impl Cloud {
    /// A REST JSON call; non-2xx answers are errors.
    async fn rest(
        &self,
        service: &str,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
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
        if !response.status.is_success() {
            bail!("{}", describe_error(&response, &value));
        }
        Ok(value)
    }

    async fn lambda(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        self.rest("lambda", method, path, body).await
    }

    async fn apigw(&self, method: &str, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        self.rest("apigateway", method, path, body).await
    }

    async fn ddb(&self, op: &str, body: &Value) -> anyhow::Result<Value> {
        self.client
            .json("dynamodb", &format!("DynamoDB_20120810.{op}"), "1.0", body)
            .await
    }

    fn api_arn(&self, id: &str) -> String {
        format!("arn:aws:apigateway:{}::/apis/{id}", self.region)
    }

    /// Every resource that carries a stack tag.
    async fn inventory(&self) -> anyhow::Result<Vec<Found>> {
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
        Ok(found)
    }

    async fn delete(&self, kind: Kind, physical: &str) -> anyhow::Result<()> {
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
        }
        Ok(())
    }
}

fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// The tags Nimbus puts on a resource of `stack`, besides the template's own.
fn stack_tags(stack: &str, d: &Desired) -> BTreeMap<String, String> {
    let mut tags = match &d.spec {
        Spec::Function(f) => f.tags.clone(),
        Spec::Table(t) => t.tags.clone(),
        Spec::HttpApi(a) => a.tags.clone(),
    };
    tags.insert(TAG_STACK.into(), stack.into());
    tags.insert(TAG_LOGICAL_ID.into(), d.logical_id.clone());
    tags.insert(TAG_HASH.into(), d.hash.clone());
    if !d.replace_hash.is_empty() {
        tags.insert(TAG_REPLACE_HASH.into(), d.replace_hash.clone());
    }
    if let Spec::Function(f) = &d.spec
        && !f.policies.is_empty()
    {
        let text: String = f.policies.join(" ").chars().take(256).collect();
        tags.insert("nimbus:policies".into(), text);
    }
    tags
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The state of an HTTP API that deploy manages: what [`Cloud::sync_api`] converges to.
#[derive(Debug, Clone)]
struct ApiState {
    name: String,
    description: Option<String>,
    cors: Option<Value>,
    /// route key → (integration URI, payload format version, timeout ms)
    routes: BTreeMap<String, (String, String, u64)>,
    stages: BTreeSet<String>,
    tags: BTreeMap<String, String>,
}

impl ApiState {
    fn desired(spec: &ApiSpec, tags: BTreeMap<String, String>) -> ApiState {
        ApiState {
            name: spec.name.clone(),
            description: spec.description.clone(),
            cors: spec.cors.clone(),
            routes: spec
                .routes
                .iter()
                .map(|r| {
                    (
                        r.route_key.clone(),
                        (
                            r.function_arn.clone(),
                            r.payload_format_version.clone(),
                            r.timeout_ms,
                        ),
                    )
                })
                .collect(),
            stages: [spec.stage.clone()].into(),
            tags,
        }
    }
}

impl Cloud {
    async fn create_api(&self, state: &ApiState) -> anyhow::Result<String> {
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

    async fn read_api(&self, id: &str) -> anyhow::Result<ApiState> {
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
                route_map.insert(
                    key,
                    (
                        i["integrationUri"].as_str().unwrap_or_default().to_owned(),
                        i["payloadFormatVersion"]
                            .as_str()
                            .unwrap_or("2.0")
                            .to_owned(),
                        i["timeoutInMillis"].as_u64().unwrap_or(30_000),
                    ),
                );
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
            stages: stages["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["stageName"].as_str().map(str::to_owned))
                .collect(),
            tags: string_map(&api["tags"]),
        })
    }

    /// Makes API `id` match `state`: settings, routes with their integrations, stages, tags.
    async fn sync_api(&self, id: &str, state: &ApiState) -> anyhow::Result<()> {
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
            match state.routes.get(key) {
                None => {
                    self.apigw("DELETE", &format!("/v2/apis/{id}/routes/{route_id}"), None)
                        .await?;
                }
                Some((uri, version, timeout)) => {
                    seen.insert(key.to_owned());
                    let body = json!({
                        "integrationType": "AWS_PROXY",
                        "integrationUri": uri,
                        "payloadFormatVersion": version,
                        "timeoutInMillis": timeout,
                    });
                    match integrations.get(&integration_id) {
                        Some(i)
                            if i["integrationUri"].as_str() == Some(uri)
                                && i["payloadFormatVersion"].as_str() == Some(version)
                                && i["timeoutInMillis"].as_u64() == Some(*timeout) => {}
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
                                &format!("/v2/apis/{id}/routes/{route_id}"),
                                Some(&json!({"target": format!("integrations/{new_id}")})),
                            )
                            .await?;
                            used_integrations.insert(new_id);
                            continue;
                        }
                    }
                    used_integrations.insert(integration_id);
                }
            }
        }
        for (key, (uri, version, timeout)) in &state.routes {
            if seen.contains(key) {
                continue;
            }
            let body = json!({
                "integrationType": "AWS_PROXY",
                "integrationUri": uri,
                "payloadFormatVersion": version,
                "timeoutInMillis": timeout,
            });
            let i = self
                .apigw("POST", &format!("/v2/apis/{id}/integrations"), Some(&body))
                .await?;
            let integration_id = i["integrationId"].as_str().unwrap_or_default().to_owned();
            self.apigw(
                "POST",
                &format!("/v2/apis/{id}/routes"),
                Some(&json!({"routeKey": key, "target": format!("integrations/{integration_id}")})),
            )
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

    async fn set_function_tags(
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

    async fn set_table_tags(
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

    async fn wait_table_active(&self, name: &str) -> anyhow::Result<()> {
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

    /// UpdateTable with what differs between `want` (CreateTable members) and the table.
    async fn update_table(
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
            self.ddb("UpdateTable", &update).await?;
            self.wait_table_active(name).await?;
            Ok(Some(undo))
        } else {
            Ok(None)
        }
    }
}

/// What a deploy changed, to undo it if a later step fails.
enum Done {
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
        undo: Option<Value>,
        tags: BTreeMap<String, String>,
        new_tags: BTreeMap<String, String>,
    },
    UpdatedApi {
        id: String,
        previous: ApiState,
    },
}

impl Cloud {
    async fn undo(&self, done: Done) -> anyhow::Result<()> {
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
                if let Some(zip) = zip {
                    self.lambda(
                        "PUT",
                        &format!("{path}/code"),
                        Some(&json!({"ZipFile": b64(&zip)})),
                    )
                    .await?;
                }
                self.lambda("PUT", &format!("{path}/configuration"), Some(&config))
                    .await?;
                self.set_function_tags(&arn, &new_tags, &tags).await
            }
            Done::UpdatedTable {
                arn,
                undo,
                tags,
                new_tags,
            } => {
                if let Some(undo) = undo {
                    self.ddb("UpdateTable", &undo).await?;
                }
                self.set_table_tags(&arn, &new_tags, &tags).await
            }
            Done::UpdatedApi { id, previous } => self.sync_api(&id, &previous).await,
        }
    }

    /// The configuration members of a function as UpdateFunctionConfiguration takes them.
    async fn function_config(&self, name: &str) -> anyhow::Result<(Value, String)> {
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
        let location = f["Code"]["Location"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        Ok((config, location))
    }

    /// Downloads a package from GetFunction's `Code.Location`.
    async fn download(&self, location: &str) -> anyhow::Result<Vec<u8>> {
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

/// Template file: the argument, else `template.yaml` / `template.yml` here.
fn template_path(arg: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(p) = arg {
        let p = if p.is_dir() {
            p.join("template.yaml")
        } else {
            p.to_owned()
        };
        return Ok(p);
    }
    for name in ["template.yaml", "template.yml", "template.json"] {
        if Path::new(name).is_file() {
            return Ok(PathBuf::from(name));
        }
    }
    bail!("no template.yaml here: name the template, e.g. `nimbus deploy path/to/template.yaml`")
}

fn check_stack_name(name: &str) -> anyhow::Result<()> {
    let ok = name.len() <= 128
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !ok {
        bail!(
            "invalid stack name {name:?}: use letters, digits and '-', starting with a letter (at most 128)"
        );
    }
    Ok(())
}

/// The stack name of a template folder when none is given.
fn default_stack_name(template: &Path) -> String {
    let dir = std::fs::canonicalize(template)
        .ok()
        .and_then(|p| {
            p.parent()
                .and_then(|d| d.file_name())
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    let mut name: String = dir
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    if !name.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
        name.insert_str(0, "stack-");
    }
    name
}

/// Everything `deploy` prepares before touching the server.
struct Prepared {
    resolved: Resolved,
    packages: BTreeMap<String, Package>,
    actual: Vec<Found>,
}

async fn prepare(
    cloud: &Cloud,
    config: &Config,
    template: &Template,
    template_dir: &Path,
    stack: &str,
    overrides: &BTreeMap<String, String>,
) -> anyhow::Result<Prepared> {
    let actual: Vec<Found> = cloud
        .inventory()
        .await?
        .into_iter()
        .filter(|f| f.stack == stack)
        .collect();
    let actual_list: Vec<Actual> = actual.iter().map(|f| f.actual.clone()).collect();
    let resolved = resolve(
        template,
        &Inputs {
            stack,
            region: &config.region,
            account: crate::serve::ACCOUNT_ID,
            template_dir,
            overrides,
            actual: &actual_list,
        },
    )?;
    let mut packages = BTreeMap::new();
    for d in &resolved.resources {
        if let Spec::Function(f) = &d.spec {
            let p = package(&f.code).map_err(|e| {
                anyhow!(
                    "Resource {} (template line {}): package the code: {e}",
                    d.logical_id,
                    d.line
                )
            })?;
            packages.insert(d.logical_id.clone(), p);
        }
    }
    Ok(Prepared {
        resolved,
        packages,
        actual,
    })
}

/// `nimbus deploy`.
pub fn deploy(args: DeployArgs) -> anyhow::Result<()> {
    let config = Config::resolve(&args.server, false)?;
    let path = template_path(args.template.as_deref())?;
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
    let template = Template::parse(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let template_dir = path.parent().map(Path::to_owned).unwrap_or_default();
    let template_dir = if template_dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        template_dir
    };
    let stack = args
        .stack_name
        .clone()
        .unwrap_or_else(|| default_stack_name(&path));
    check_stack_name(&stack)?;
    let mut overrides = BTreeMap::new();
    for o in &args.parameter_overrides {
        for pair in o.split_whitespace() {
            let pair = pair.strip_prefix("ParameterKey=").unwrap_or(pair);
            let (k, v) = pair
                .split_once(",ParameterValue=")
                .or_else(|| pair.split_once('='))
                .ok_or_else(|| anyhow!("--parameter-overrides takes KEY=VALUE, not {pair:?}"))?;
            overrides.insert(k.to_owned(), v.to_owned());
        }
    }
    let rt = runtime()?;
    let cloud = Cloud {
        client: Client::new(&config)?,
        region: config.region.clone(),
    };
    let prepared = rt
        .block_on(prepare(
            &cloud,
            &config,
            &template,
            &template_dir,
            &stack,
            &overrides,
        ))
        .map_err(|e| anyhow!("{}: {e:#}", path.display()))?;
    for w in &prepared.resolved.warnings {
        eprintln!("warning: {w}");
    }
    let api_ids = rt.block_on(apply(&cloud, &stack, &prepared))?;
    let gateway = config.gateway.to_string();
    let outputs = prepared.resolved.outputs(&api_ids, &gateway)?;
    if !outputs.is_empty() {
        say!("\nOutputs:");
        for o in &outputs {
            say!("  {} = {}", o.name, o.value);
            if let Some(d) = &o.description {
                say!("      {d}");
            }
        }
    }
    if args.watch {
        watch(&rt, &cloud, &prepared)?;
    }
    Ok(())
}

/// Executes the plan; returns the stack's API ids by logical id.
async fn apply(
    cloud: &Cloud,
    stack: &str,
    p: &Prepared,
) -> anyhow::Result<BTreeMap<String, String>> {
    let desired = &p.resolved.resources;
    let actual: Vec<Actual> = p.actual.iter().map(|f| f.actual.clone()).collect();
    let code: BTreeMap<String, String> = p
        .packages
        .iter()
        .map(|(k, v)| (k.clone(), v.sha256.clone()))
        .collect();
    let plan = plan(desired, &actual, &code);
    let mut api_ids: BTreeMap<String, String> = BTreeMap::new();
    for (d, a) in desired.iter().filter_map(|d| {
        p.actual
            .iter()
            .find(|f| {
                f.actual.kind == Kind::HttpApi
                    && f.actual.logical_id == d.logical_id
                    && d.kind() == Kind::HttpApi
            })
            .map(|a| (d, a))
    }) {
        api_ids.insert(d.logical_id.clone(), a.actual.physical.clone());
    }
    if plan.is_empty() {
        say!(
            "No changes: stack {stack} is up to date ({} resources).",
            desired.len()
        );
        return Ok(api_ids);
    }
    say!("Deploying stack {stack}");
    let mut done: Vec<Done> = Vec::new();
    let (mut created, mut updated, mut deleted) = (0, 0, 0);
    for step in &plan.steps {
        let d = step.desired.map(|i| &desired[i]);
        let a = step.actual.map(|i| &p.actual[i]);
        let result = match (&step.change, d, a) {
            (Change::Create, Some(d), _) => {
                create(cloud, stack, d, p.packages.get(&d.logical_id), &mut done)
                    .await
                    .map(|id| {
                        if let Some(id) = &id {
                            api_ids.insert(d.logical_id.clone(), id.clone());
                        }
                        let physical = d.physical_name().map(str::to_owned).or(id);
                        let physical = physical.unwrap_or_default();
                        say!(
                            "  create  {:<9} {:<24} {physical}",
                            d.kind().name(),
                            d.logical_id
                        );
                        created += 1;
                    })
            }
            (Change::Update { config, code }, Some(d), Some(a)) => {
                let package = p.packages.get(&d.logical_id);
                update(cloud, stack, d, a, *code, package, &mut done)
                    .await
                    .map(|()| {
                        let what = match (config, code) {
                            (true, true) => "configuration and code",
                            (false, true) => "code",
                            _ => "configuration",
                        };
                        let (kind, id, physical) =
                            (d.kind().name(), &d.logical_id, &a.actual.physical);
                        say!("  update  {kind:<9} {id:<24} {physical} ({what})");
                        updated += 1;
                    })
            }
            (Change::Delete, _, Some(a)) => cloud
                .delete(a.actual.kind, &a.actual.physical)
                .await
                .map(|()| {
                    let (kind, id, physical) = (
                        a.actual.kind.name(),
                        &a.actual.logical_id,
                        &a.actual.physical,
                    );
                    say!("  delete  {kind:<9} {id:<24} {physical}");
                    deleted += 1;
                }),
            _ => Ok(()),
        };
        if let Err(err) = result {
            let (id, line) = match (d, a) {
                (Some(d), _) => (d.logical_id.clone(), Some(d.line)),
                (None, Some(a)) => (a.actual.logical_id.clone(), None),
                _ => (String::new(), None),
            };
            let mut rollback_errors = Vec::new();
            if !matches!(step.change, Change::Delete) {
                while let Some(step) = done.pop() {
                    if let Err(e) = cloud.undo(step).await {
                        rollback_errors.push(format!("{e:#}"));
                    }
                }
            }
            let at = line
                .map(|l| format!(" (template line {l})"))
                .unwrap_or_default();
            let mut message = format!("Resource {id}{at}: {err:#}");
            if matches!(step.change, Change::Delete) {
                message.push_str("\nthe new resources are in place; re-run the deploy to finish removing the old ones");
            } else if rollback_errors.is_empty() {
                message.push_str(&format!(
                    "\nthe deploy was rolled back: stack {stack} is as it was"
                ));
            } else {
                message.push_str(&format!(
                    "\nrolling back also failed: {}",
                    rollback_errors.join("; ")
                ));
            }
            bail!("{message}");
        }
    }
    say!("Stack {stack} deployed: {created} created, {updated} updated, {deleted} deleted.");
    Ok(api_ids)
}

/// Creates `d`; returns the API id for an API.
async fn create(
    cloud: &Cloud,
    stack: &str,
    d: &Desired,
    package: Option<&Package>,
    done: &mut Vec<Done>,
) -> anyhow::Result<Option<String>> {
    let tags = stack_tags(stack, d);
    match &d.spec {
        Spec::Function(f) => {
            let package = package.ok_or_else(|| anyhow!("no package"))?;
            let mut body = Value::Object(f.config.clone());
            body["FunctionName"] = json!(f.name);
            body["Code"] = json!({"ZipFile": b64(&package.zip)});
            body["Tags"] = json!(tags);
            if !f.architectures.is_empty() {
                body["Architectures"] = json!(f.architectures);
            }
            cloud
                .lambda("POST", "/2015-03-31/functions", Some(&body))
                .await?;
            done.push(Done::Created(Kind::Function, f.name.clone()));
            Ok(None)
        }
        Spec::Table(t) => {
            let mut body = Value::Object(t.create.clone());
            body["TableName"] = json!(t.name);
            body["Tags"] = json!(
                tags.iter()
                    .map(|(k, v)| json!({"Key": k, "Value": v}))
                    .collect::<Vec<_>>()
            );
            cloud.ddb("CreateTable", &body).await?;
            done.push(Done::Created(Kind::Table, t.name.clone()));
            cloud.wait_table_active(&t.name).await?;
            Ok(None)
        }
        Spec::HttpApi(a) => {
            let id = cloud.create_api(&ApiState::desired(a, tags)).await?;
            done.push(Done::Created(Kind::HttpApi, id.clone()));
            Ok(Some(id))
        }
    }
}

async fn update(
    cloud: &Cloud,
    stack: &str,
    d: &Desired,
    a: &Found,
    code_changed: bool,
    package: Option<&Package>,
    done: &mut Vec<Done>,
) -> anyhow::Result<()> {
    let tags = stack_tags(stack, d);
    match &d.spec {
        Spec::Function(f) => {
            let (previous, location) = cloud.function_config(&f.name).await?;
            let old_zip = if code_changed {
                Some(cloud.download(&location).await?)
            } else {
                None
            };
            done.push(Done::UpdatedFunction {
                name: f.name.clone(),
                arn: a.arn.clone(),
                config: previous,
                zip: old_zip,
                tags: a.tags.clone(),
                new_tags: tags.clone(),
            });
            let path = format!("/2015-03-31/functions/{}", encode(&f.name));
            if code_changed {
                let package = package.ok_or_else(|| anyhow!("no package"))?;
                cloud
                    .lambda(
                        "PUT",
                        &format!("{path}/code"),
                        Some(&json!({"ZipFile": b64(&package.zip)})),
                    )
                    .await?;
            }
            cloud
                .lambda(
                    "PUT",
                    &format!("{path}/configuration"),
                    Some(&Value::Object(f.config.clone())),
                )
                .await?;
            cloud.set_function_tags(&a.arn, &a.tags, &tags).await
        }
        Spec::Table(t) => {
            let undo = cloud.update_table(&t.name, &t.create).await?;
            done.push(Done::UpdatedTable {
                arn: a.arn.clone(),
                undo,
                tags: a.tags.clone(),
                new_tags: tags.clone(),
            });
            cloud.set_table_tags(&a.arn, &a.tags, &tags).await
        }
        Spec::HttpApi(spec) => {
            let id = &a.actual.physical;
            let previous = cloud.read_api(id).await?;
            done.push(Done::UpdatedApi {
                id: id.clone(),
                previous,
            });
            cloud.sync_api(id, &ApiState::desired(spec, tags)).await
        }
    }
}

/// `--watch`: re-packages a function when its CodeUri folder changes and updates its code.
fn watch(rt: &tokio::runtime::Runtime, cloud: &Cloud, p: &Prepared) -> anyhow::Result<()> {
    use notify::{RecursiveMode, Watcher};
    let mut watched: Vec<(PathBuf, String, String, CodeSource)> = Vec::new();
    for d in &p.resolved.resources {
        if let Spec::Function(f) = &d.spec
            && let CodeSource::Dir(dir) = &f.code
        {
            let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
            watched.push((dir, d.logical_id.clone(), f.name.clone(), f.code.clone()));
        }
    }
    if watched.is_empty() {
        bail!("--watch: no function has a CodeUri folder to watch");
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !matches!(event.kind, notify::EventKind::Access(_))
        {
            let _ = tx.send(event.paths);
        }
    })
    .context("start watching files")?;
    let dirs: BTreeSet<&PathBuf> = watched.iter().map(|w| &w.0).collect();
    for dir in &dirs {
        watcher
            .watch(dir, RecursiveMode::Recursive)
            .with_context(|| format!("watch {}", dir.display()))?;
    }
    let mut last: BTreeMap<String, String> = p
        .packages
        .iter()
        .map(|(k, v)| (k.clone(), v.sha256.clone()))
        .collect();
    say!(
        "\nWatching {} folder(s) for code changes; Ctrl-C to stop.",
        dirs.len()
    );
    while let Ok(paths) = rx.recv() {
        let mut changed: BTreeSet<PathBuf> = paths.into_iter().collect();
        // Let an editor finish writing, and gather what came with it.
        while let Ok(more) = rx.recv_timeout(Duration::from_millis(100)) {
            changed.extend(more);
        }
        for (dir, logical_id, name, code) in &watched {
            if !changed.iter().any(|c| c.starts_with(dir)) {
                continue;
            }
            let package = match package(code) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("{logical_id}: package the code: {e}");
                    continue;
                }
            };
            if last.get(logical_id) == Some(&package.sha256) {
                continue;
            }
            let path = format!("/2015-03-31/functions/{}/code", encode(name));
            match rt.block_on(cloud.lambda(
                "PUT",
                &path,
                Some(&json!({"ZipFile": b64(&package.zip)})),
            )) {
                Ok(_) => {
                    say!("updated {logical_id} ({name})");
                    last.insert(logical_id.clone(), package.sha256);
                }
                Err(e) => eprintln!("{logical_id}: update the code: {e:#}"),
            }
        }
    }
    Ok(())
}

/// `nimbus stacks`.
pub fn stacks(args: StacksArgs) -> anyhow::Result<()> {
    let config = Config::resolve(&args.server, false)?;
    let rt = runtime()?;
    let cloud = Cloud {
        client: Client::new(&config)?,
        region: config.region.clone(),
    };
    let found = rt.block_on(cloud.inventory())?;
    let mut by_stack: BTreeMap<&str, Vec<&Found>> = BTreeMap::new();
    for f in &found {
        by_stack.entry(&f.stack).or_default().push(f);
    }
    if by_stack.is_empty() {
        say!("No stacks. Deploy one with `nimbus deploy template.yaml --stack-name NAME`.");
        return Ok(());
    }
    for (stack, mut resources) in by_stack {
        resources.sort_by(|a, b| {
            (a.actual.kind, &a.actual.logical_id).cmp(&(b.actual.kind, &b.actual.logical_id))
        });
        say!("{stack} ({} resources)", resources.len());
        for r in resources {
            say!(
                "  {:<9} {:<24} {}",
                r.actual.kind.name(),
                r.actual.logical_id,
                r.actual.physical
            );
        }
    }
    Ok(())
}

/// `nimbus delete-stack`.
pub fn delete_stack(args: DeleteStackArgs) -> anyhow::Result<()> {
    let config = Config::resolve(&args.server, false)?;
    check_stack_name(&args.stack_name)?;
    let rt = runtime()?;
    let cloud = Cloud {
        client: Client::new(&config)?,
        region: config.region.clone(),
    };
    rt.block_on(async {
        let mut found: Vec<Found> = cloud
            .inventory()
            .await?
            .into_iter()
            .filter(|f| f.stack == args.stack_name)
            .collect();
        if found.is_empty() {
            bail!(
                "stack {} does not exist (see `nimbus stacks`)",
                args.stack_name
            );
        }
        // APIs first, tables last: nothing is left pointing at what is gone.
        found.sort_by_key(|f| std::cmp::Reverse(f.actual.kind));
        for f in &found {
            cloud
                .delete(f.actual.kind, &f.actual.physical)
                .await
                .with_context(|| {
                    format!(
                        "Resource {}: delete {}",
                        f.actual.logical_id, f.actual.physical
                    )
                })?;
            say!(
                "  delete  {:<9} {:<24} {}",
                f.actual.kind.name(),
                f.actual.logical_id,
                f.actual.physical
            );
        }
        say!(
            "Stack {} deleted ({} resources).",
            args.stack_name,
            found.len()
        );
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_names() {
        assert!(check_stack_name("hello-world1").is_ok());
        assert!(check_stack_name("1hello").is_err());
        assert!(check_stack_name("hello_world").is_err());
        assert_eq!(
            default_stack_name(Path::new("/nonexistent/x.yaml")),
            "stack-"
        );
    }
}
