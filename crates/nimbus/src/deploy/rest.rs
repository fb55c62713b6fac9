//! The REST API (API Gateway v1) calls of a deploy. A REST API is converged by rebuilding its
//! resource tree from the template (resources, methods, `AWS_PROXY` integrations, SAM's
//! `Cors` preflight methods) and deploying it to each stage in one new deployment, so callers
//! see the old routes or the new ones, never a half-built tree. Undoing an update points the
//! stages back at the deployments they served before.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::anyhow;
use nimbus_deploy::model::{RestApiSpec, RestCors};
use serde_json::{Value, json};

use super::cloud::{Cloud, string_map};
use crate::commands::encode;

/// What an update of a REST API may need to give back.
#[derive(Debug, Clone)]
pub(super) struct RestPrevious {
    name: String,
    description: Option<String>,
    binary_media_types: Vec<String>,
    tags: BTreeMap<String, String>,
    /// Stage name → deployment id.
    stages: BTreeMap<String, String>,
}

fn patch(ops: Vec<Value>) -> Value {
    json!({ "patchOperations": ops })
}

/// `/` escaped as the patch paths of API Gateway want it.
fn escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

impl Cloud {
    pub(super) fn rest_api_arn(&self, id: &str) -> String {
        format!("arn:aws:apigateway:{}::/restapis/{id}", self.region)
    }

    /// `arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations`.
    fn invocation_uri(&self, function_arn: &str) -> String {
        format!(
            "arn:aws:apigateway:{}:lambda:path/2015-03-31/functions/{function_arn}/invocations",
            self.region
        )
    }

    /// The REST APIs on the server: (id, tags).
    pub(super) async fn rest_apis(
        &self,
    ) -> anyhow::Result<Vec<(String, BTreeMap<String, String>)>> {
        let apis = self.apigw("GET", "/restapis", None).await?;
        Ok(apis["item"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| Some((a["id"].as_str()?.to_owned(), string_map(&a["tags"]))))
            .collect())
    }

    pub(super) async fn create_rest_api(
        &self,
        spec: &RestApiSpec,
        tags: &BTreeMap<String, String>,
    ) -> anyhow::Result<String> {
        let mut body = json!({
            "name": spec.name,
            "binaryMediaTypes": spec.binary_media_types,
            "endpointConfiguration": {"types": [spec.endpoint_type]},
            "tags": tags,
        });
        if let Some(d) = &spec.description {
            body["description"] = json!(d);
        }
        let api = self.apigw("POST", "/restapis", Some(&body)).await?;
        let id = api["id"]
            .as_str()
            .ok_or_else(|| anyhow!("CreateRestApi returned no id"))?
            .to_owned();
        if let Err(e) = self.sync_rest_api(&id, spec, tags).await {
            let _ = self.delete_rest_api(&id).await;
            return Err(e);
        }
        Ok(id)
    }

    pub(super) async fn delete_rest_api(&self, id: &str) -> anyhow::Result<()> {
        self.apigw("DELETE", &format!("/restapis/{}", encode(id)), None)
            .await?;
        Ok(())
    }

    pub(super) async fn read_rest_api(&self, id: &str) -> anyhow::Result<RestPrevious> {
        let api = self.apigw("GET", &format!("/restapis/{id}"), None).await?;
        let stages = self
            .apigw("GET", &format!("/restapis/{id}/stages"), None)
            .await?;
        Ok(RestPrevious {
            name: api["name"].as_str().unwrap_or_default().to_owned(),
            description: api["description"].as_str().map(str::to_owned),
            binary_media_types: api["binaryMediaTypes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            tags: string_map(&api["tags"]),
            stages: stages["item"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| {
                    Some((
                        s["stageName"].as_str()?.to_owned(),
                        s["deploymentId"].as_str()?.to_owned(),
                    ))
                })
                .collect(),
        })
    }

    /// Name, description and binary media types.
    async fn set_rest_settings(
        &self,
        id: &str,
        name: &str,
        description: Option<&str>,
        binary: &[String],
    ) -> anyhow::Result<()> {
        let current = self.apigw("GET", &format!("/restapis/{id}"), None).await?;
        let mut ops = vec![
            json!({"op": "replace", "path": "/name", "value": name}),
            json!({"op": "replace", "path": "/description", "value": description}),
        ];
        let have: BTreeSet<&str> = current["binaryMediaTypes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for t in &have {
            if !binary.iter().any(|b| b == t) {
                ops.push(
                    json!({"op": "remove", "path": format!("/binaryMediaTypes/{}", escape(t))}),
                );
            }
        }
        for t in binary {
            if !have.contains(t.as_str()) {
                ops.push(json!({"op": "add", "path": format!("/binaryMediaTypes/{}", escape(t))}));
            }
        }
        self.apigw("PATCH", &format!("/restapis/{id}"), Some(&patch(ops)))
            .await?;
        Ok(())
    }

    async fn set_endpoint_type(&self, id: &str, wanted: &str) -> anyhow::Result<()> {
        let current = self.apigw("GET", &format!("/restapis/{id}"), None).await?;
        let Some(old) = current["endpointConfiguration"]["types"][0].as_str() else {
            return Ok(());
        };
        if old != wanted {
            let op = json!({"op": "replace", "path": format!("/endpointConfiguration/types/{old}"), "value": wanted});
            self.apigw("PATCH", &format!("/restapis/{id}"), Some(&patch(vec![op])))
                .await?;
        }
        Ok(())
    }

    async fn set_rest_tags(&self, id: &str, tags: &BTreeMap<String, String>) -> anyhow::Result<()> {
        let arn = encode(&self.rest_api_arn(id));
        let current = self.apigw("GET", &format!("/tags/{arn}"), None).await?;
        let current = string_map(&current["tags"]);
        let removed: Vec<String> = current
            .keys()
            .filter(|k| !tags.contains_key(*k))
            .map(|k| format!("tagKeys={}", encode(k)))
            .collect();
        if !removed.is_empty() {
            self.apigw(
                "DELETE",
                &format!("/tags/{arn}?{}", removed.join("&")),
                None,
            )
            .await?;
        }
        if &current != tags {
            self.apigw("PUT", &format!("/tags/{arn}"), Some(&json!({"tags": tags})))
                .await?;
        }
        Ok(())
    }

    /// The id of REST API `id`'s root resource (`/`), as the API reports it.
    pub(super) async fn rest_root_resource(&self, id: &str) -> anyhow::Result<String> {
        let api = self.apigw("GET", &format!("/restapis/{id}"), None).await?;
        api["rootResourceId"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("REST API {id} has no root resource"))
    }

    /// Makes REST API `id` serve `spec` on its stages.
    pub(super) async fn sync_rest_api(
        &self,
        id: &str,
        spec: &RestApiSpec,
        tags: &BTreeMap<String, String>,
    ) -> anyhow::Result<()> {
        self.set_rest_settings(
            id,
            &spec.name,
            spec.description.as_deref(),
            &spec.binary_media_types,
        )
        .await?;
        self.set_endpoint_type(id, &spec.endpoint_type).await?;
        // The tree: clear it, then build it again from the template.
        let resources = self
            .apigw(
                "GET",
                &format!("/restapis/{id}/resources?embed=methods"),
                None,
            )
            .await?;
        let resources = resources["item"].as_array().cloned().unwrap_or_default();
        let root = resources
            .iter()
            .find(|r| r["path"] == "/")
            .and_then(|r| r["id"].as_str())
            .ok_or_else(|| anyhow!("REST API {id} has no root resource"))?
            .to_owned();
        for r in &resources {
            let rid = r["id"].as_str().unwrap_or_default();
            if r["parentId"].as_str() == Some(root.as_str()) {
                self.apigw("DELETE", &format!("/restapis/{id}/resources/{rid}"), None)
                    .await?;
            }
        }
        if let Some(methods) = resources
            .iter()
            .find(|r| r["id"] == root.as_str())
            .and_then(|r| r["resourceMethods"].as_object())
        {
            for m in methods.keys() {
                self.apigw(
                    "DELETE",
                    &format!("/restapis/{id}/resources/{root}/methods/{m}"),
                    None,
                )
                .await?;
            }
        }
        let mut ids: BTreeMap<String, String> = BTreeMap::from([("/".to_owned(), root)]);
        let mut by_path: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for m in &spec.methods {
            let resource = self.ensure_resource(id, &m.path, &mut ids).await?;
            let base = format!("/restapis/{id}/resources/{resource}/methods/{}", m.method);
            self.apigw(
                "PUT",
                &base,
                Some(&json!({"authorizationType": m.authorization_type})),
            )
            .await?;
            self.apigw(
                "PUT",
                &format!("{base}/integration"),
                Some(&json!({
                    "type": "AWS_PROXY",
                    "httpMethod": "POST",
                    "uri": self.invocation_uri(&m.function_arn),
                    "timeoutInMillis": m.timeout_ms,
                })),
            )
            .await?;
            by_path.entry(&m.path).or_default().push(&m.method);
        }
        if let Some(cors) = &spec.cors {
            for (path, methods) in &by_path {
                if methods.contains(&"OPTIONS") {
                    continue;
                }
                let resource = ids.get(*path).cloned().unwrap_or_default();
                self.preflight(id, &resource, cors, methods).await?;
            }
        }
        // One deployment for every stage.
        let stages = self
            .apigw("GET", &format!("/restapis/{id}/stages"), None)
            .await?;
        let existing: BTreeSet<String> = stages["item"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["stageName"].as_str().map(str::to_owned))
            .collect();
        let wanted: BTreeSet<String> = if spec.methods.is_empty() {
            BTreeSet::new()
        } else {
            spec.stages.iter().cloned().collect()
        };
        if let Some(first) = spec.stages.first().filter(|_| !spec.methods.is_empty()) {
            let deployment = self
                .apigw(
                    "POST",
                    &format!("/restapis/{id}/deployments"),
                    Some(&json!({"stageName": first, "variables": spec.variables})),
                )
                .await?;
            let deployment_id = deployment["id"].as_str().unwrap_or_default();
            for stage in spec.stages.iter().skip(1) {
                self.point_stage(id, stage, deployment_id, existing.contains(stage))
                    .await?;
            }
        }
        for stage in existing.difference(&wanted) {
            self.apigw(
                "DELETE",
                &format!("/restapis/{id}/stages/{}", encode(stage)),
                None,
            )
            .await?;
        }
        self.set_rest_tags(id, tags).await
    }

    async fn point_stage(
        &self,
        id: &str,
        stage: &str,
        deployment_id: &str,
        exists: bool,
    ) -> anyhow::Result<()> {
        if exists {
            self.apigw(
                "PATCH",
                &format!("/restapis/{id}/stages/{}", encode(stage)),
                Some(&patch(vec![
                    json!({"op": "replace", "path": "/deploymentId", "value": deployment_id}),
                ])),
            )
            .await?;
        } else {
            self.apigw(
                "POST",
                &format!("/restapis/{id}/stages"),
                Some(&json!({"stageName": stage, "deploymentId": deployment_id})),
            )
            .await?;
        }
        Ok(())
    }

    /// The resource of `path`, creating it and its parents as needed.
    async fn ensure_resource(
        &self,
        id: &str,
        path: &str,
        ids: &mut BTreeMap<String, String>,
    ) -> anyhow::Result<String> {
        let mut current = "/".to_owned();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            let next = if current == "/" {
                format!("/{part}")
            } else {
                format!("{current}/{part}")
            };
            if !ids.contains_key(&next) {
                let parent = ids.get(&current).cloned().unwrap_or_default();
                let created = self
                    .apigw(
                        "POST",
                        &format!("/restapis/{id}/resources/{parent}"),
                        Some(&json!({"pathPart": part})),
                    )
                    .await?;
                let rid = created["id"].as_str().unwrap_or_default().to_owned();
                ids.insert(next.clone(), rid);
            }
            current = next;
        }
        Ok(ids.get(&current).cloned().unwrap_or_default())
    }

    /// SAM's `Cors`: an `OPTIONS` method with a `MOCK` integration that answers the preflight.
    async fn preflight(
        &self,
        id: &str,
        resource: &str,
        cors: &RestCors,
        methods: &[&str],
    ) -> anyhow::Result<()> {
        let base = format!("/restapis/{id}/resources/{resource}/methods/OPTIONS");
        self.apigw("PUT", &base, Some(&json!({"authorizationType": "NONE"})))
            .await?;
        self.apigw(
            "PUT",
            &format!("{base}/integration"),
            Some(&json!({
                "type": "MOCK",
                "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
            })),
        )
        .await?;
        let allow_methods = cors.allow_methods.clone().unwrap_or_else(|| {
            let mut all: Vec<&str> = if methods.contains(&"ANY") {
                vec!["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
            } else {
                methods.iter().copied().chain(["OPTIONS"]).collect()
            };
            all.sort_unstable();
            all.dedup();
            format!("'{}'", all.join(","))
        });
        let mut headers = BTreeMap::from([
            ("Access-Control-Allow-Origin", cors.allow_origin.clone()),
            ("Access-Control-Allow-Methods", allow_methods),
        ]);
        if let Some(h) = &cors.allow_headers {
            headers.insert("Access-Control-Allow-Headers", h.clone());
        }
        if let Some(age) = &cors.max_age {
            headers.insert("Access-Control-Max-Age", age.clone());
        }
        if cors.allow_credentials {
            headers.insert("Access-Control-Allow-Credentials", "'true'".into());
        }
        let declared: BTreeMap<String, bool> = headers
            .keys()
            .map(|h| (format!("method.response.header.{h}"), false))
            .collect();
        let mapped: BTreeMap<String, String> = headers
            .iter()
            .map(|(h, v)| (format!("method.response.header.{h}"), v.clone()))
            .collect();
        self.apigw(
            "PUT",
            &format!("{base}/responses/200"),
            Some(&json!({"responseParameters": declared})),
        )
        .await?;
        self.apigw(
            "PUT",
            &format!("{base}/integration/responses/200"),
            Some(&json!({
                "responseParameters": mapped,
                "responseTemplates": {"application/json": ""},
            })),
        )
        .await?;
        Ok(())
    }

    /// Gives an updated REST API back its settings, tags and the deployments its stages
    /// served.
    pub(super) async fn restore_rest_api(
        &self,
        id: &str,
        previous: &RestPrevious,
    ) -> anyhow::Result<()> {
        self.set_rest_settings(
            id,
            &previous.name,
            previous.description.as_deref(),
            &previous.binary_media_types,
        )
        .await?;
        let now = self.read_rest_api(id).await?;
        for stage in now.stages.keys() {
            if !previous.stages.contains_key(stage) {
                self.apigw(
                    "DELETE",
                    &format!("/restapis/{id}/stages/{}", encode(stage)),
                    None,
                )
                .await?;
            }
        }
        for (stage, deployment) in &previous.stages {
            self.point_stage(id, stage, deployment, now.stages.contains_key(stage))
                .await?;
        }
        self.set_rest_tags(id, &previous.tags).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_paths_escape_slashes() {
        assert_eq!(escape("image/png"), "image~1png");
        assert_eq!(escape("a~b"), "a~0b");
    }
}
