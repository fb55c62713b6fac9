//! Lambda layers: versioned zips that functions extract at `/opt`. Publishing, listing,
//! describing (with a `Content.Location` that downloads the zip), deleting, the versions'
//! permissions, and the resolution of a function's `Layers` ARNs.
//!
//! Layout in the store (layer names are `[a-zA-Z0-9-_]{1,140}`):
//!
//! | key | value |
//! | --- | --- |
//! | `functions/layer/{name}` | [`LayerMeta`]: the highest version number ever published |
//! | `functions/layerver/{name}/{n:010}` | [`LayerVersionRecord`] |
//!
//! Zips are stored as content-addressed blobs beside function packages ([`crate::code`]); a
//! blob is deleted only when no layer version and no function version (which keeps its layers
//! after the layer version is deleted, as on Lambda) references it. Version numbers start at 1
//! and are never reused, also after every version was deleted.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use nimbus_store::{Direction, KeyRange, WriteBatch};
use serde::{Deserialize, Serialize};

use crate::Functions;
use crate::api;
use crate::code;
use crate::control::{
    check_revision, decode_zip, max_length, missing, new_revision, now_timestamp, validation,
};
use crate::error::{FunctionsError, Result};
use crate::model::LayerRef;
use crate::registry::Policy;

const METAS: &str = "functions/layer/";
const VERSIONS: &str = "functions/layerver/";
/// Layers a function may use.
pub const MAX_LAYERS: usize = 5;

/// Runtimes a layer may declare (the service model's `Runtime` enum).
const LAYER_RUNTIMES: &[&str] = &[
    "nodejs",
    "nodejs4.3",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "nodejs16.x",
    "nodejs18.x",
    "nodejs20.x",
    "nodejs22.x",
    "nodejs24.x",
    "java8",
    "java8.al2",
    "java11",
    "java17",
    "java21",
    "java25",
    "python2.7",
    "python3.6",
    "python3.7",
    "python3.8",
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "python3.14",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "dotnet6",
    "dotnet8",
    "dotnet10",
    "nodejs4.3-edge",
    "go1.x",
    "ruby2.5",
    "ruby2.7",
    "ruby3.2",
    "ruby3.3",
    "ruby3.4",
    "ruby4.0",
    "provided",
    "provided.al2",
    "provided.al2023",
    "nodejs26.x",
    "python3.15",
    "java8.al2023",
    "java11.al2023",
    "java17.al2023",
    "custom",
];

/// What belongs to a layer rather than to one version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerMeta {
    pub name: String,
    pub last_version: u64,
}

/// One published layer version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerVersionRecord {
    pub name: String,
    pub version: u64,
    pub description: String,
    pub created_date: String,
    pub compatible_runtimes: Vec<String>,
    pub compatible_architectures: Vec<String>,
    pub license_info: Option<String>,
    pub code_sha256_hex: String,
    pub code_size: u64,
    /// Total size of the unzipped files (counted against the 250 MB of a function).
    pub unzipped_size: u64,
    #[serde(default)]
    pub policy: Policy,
}

fn meta_key(name: &str) -> Vec<u8> {
    format!("{METAS}{name}").into_bytes()
}

fn version_key(name: &str, version: u64) -> Vec<u8> {
    format!("{VERSIONS}{name}/{version:010}").into_bytes()
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| FunctionsError::Service(format!("encode layer: {e}")))
}

fn decode<T: for<'de> Deserialize<'de>>(key: &[u8], bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        FunctionsError::Service(format!(
            "corrupt layer record {}: {e}",
            String::from_utf8_lossy(key)
        ))
    })
}

fn not_found() -> FunctionsError {
    FunctionsError::ResourceNotFound("The resource you requested does not exist.".into())
}

fn is_layer_name(s: &str) -> bool {
    (1..=140).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

const LAYER_NAME_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:layer:[a-zA-Z0-9-_]{1,140}|[a-zA-Z0-9-_]{1,140})";
const LAYER_VERSION_ARN_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)";

/// A layer version ARN taken apart: `(region, account, name, version)`.
fn split_version_arn(arn: &str) -> Option<(&str, &str, &str, u64)> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        [
            "arn",
            partition,
            "lambda",
            region,
            account,
            "layer",
            name,
            version,
        ] if partition.starts_with("aws")
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && is_layer_name(name)
            && !version.is_empty()
            && version.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Some((region, account, name, version.parse().ok()?))
        }
        _ => None,
    }
}

fn check_runtimes(runtimes: &[String]) -> Result<()> {
    if runtimes.len() > 15 {
        return Err(validation(
            format!("{runtimes:?}"),
            "compatibleRuntimes",
            "Member must have length less than or equal to 15",
        ));
    }
    if let Some(bad) = runtimes
        .iter()
        .find(|r| !LAYER_RUNTIMES.contains(&r.as_str()))
    {
        return Err(validation(
            format!("[{}]", runtimes.join(", ")),
            "compatibleRuntimes",
            &format!(
                "Member must satisfy constraint: [Member must satisfy enum value set: [{}]] ({bad})",
                LAYER_RUNTIMES.join(", ")
            ),
        ));
    }
    Ok(())
}

fn check_architectures(architectures: &[String]) -> Result<()> {
    if architectures.len() > 2 || architectures.iter().any(|a| a != "x86_64" && a != "arm64") {
        return Err(validation(
            format!("[{}]", architectures.join(", ")),
            "compatibleArchitectures",
            "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]",
        ));
    }
    Ok(())
}

fn matches(record: &LayerVersionRecord, filter: &api::LayerFilter) -> bool {
    filter
        .runtime
        .as_ref()
        .is_none_or(|r| record.compatible_runtimes.contains(r))
        && filter
            .architecture
            .as_ref()
            .is_none_or(|a| record.compatible_architectures.contains(a))
}

fn list_page(max_items: Option<i64>) -> Result<usize> {
    match max_items {
        None => Ok(50),
        Some(n) if (1..=50).contains(&n) => Ok(n as usize),
        Some(n) => Err(validation(
            n,
            "maxItems",
            "Member must have value between 1 and 50",
        )),
    }
}

impl Functions {
    /// `arn:aws:lambda:{region}:{account}:layer:{name}`.
    pub fn layer_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:lambda:{}:{}:layer:{name}",
            self.config().region,
            self.config().account_id
        )
    }

    /// The layer name of a `LayerName` parameter: a name or a layer ARN of this account.
    fn layer_name(&self, input: &str) -> Result<String> {
        let malformed = || {
            validation(
                input,
                "layerName",
                &format!("Member must satisfy regular expression pattern: {LAYER_NAME_PATTERN}"),
            )
        };
        if is_layer_name(input) {
            return Ok(input.to_owned());
        }
        let parts: Vec<&str> = input.split(':').collect();
        match parts.as_slice() {
            ["arn", partition, "lambda", region, account, "layer", name]
                if partition.starts_with("aws") && is_layer_name(name) =>
            {
                if *region != self.config().region || *account != self.config().account_id {
                    return Err(not_found());
                }
                Ok((*name).to_owned())
            }
            _ => Err(malformed()),
        }
    }

    fn layer_version_number(version: &str) -> Result<u64> {
        version
            .parse::<u64>()
            .ok()
            .filter(|v| *v >= 1)
            .ok_or_else(|| {
                FunctionsError::InvalidParameterValue(format!(
                    "Layer Version Cannot be less than 1: {version}"
                ))
            })
    }

    fn layer_version(&self, name: &str, version: u64) -> Result<Option<LayerVersionRecord>> {
        let key = version_key(name, version);
        match self.store().get(&key)? {
            Some(bytes) => Ok(Some(decode(&key, &bytes)?)),
            None => Ok(None),
        }
    }

    /// The versions of layer `name`, oldest first.
    fn layer_versions(&self, name: &str) -> Result<Vec<LayerVersionRecord>> {
        self.scan_layers(&format!("{VERSIONS}{name}/"))
    }

    /// Every version of every layer, by name then version.
    pub(crate) fn all_layer_versions(&self) -> Result<Vec<LayerVersionRecord>> {
        self.scan_layers(VERSIONS)
    }

    fn scan_layers(&self, prefix: &str) -> Result<Vec<LayerVersionRecord>> {
        let mut out = Vec::new();
        let mut failed = None;
        self.store().scan(
            &KeyRange::prefix(prefix.as_bytes()),
            Direction::Forward,
            &mut |k, v| match decode(k, v) {
                Ok(record) => {
                    out.push(record);
                    ControlFlow::Continue(())
                }
                Err(e) => {
                    failed = Some(e);
                    ControlFlow::Break(())
                }
            },
        )?;
        match failed {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    fn describe_layer_version(&self, record: &LayerVersionRecord) -> api::LayerVersionResponse {
        let layer_arn = self.layer_arn(&record.name);
        api::LayerVersionResponse {
            content: api::LayerVersionContentOutput {
                location: self.code_location(&record.code_sha256_hex),
                code_sha256: code::base64_sha(&record.code_sha256_hex),
                code_size: record.code_size,
            },
            layer_version_arn: format!("{layer_arn}:{}", record.version),
            layer_arn,
            description: record.description.clone(),
            created_date: record.created_date.clone(),
            version: record.version,
            compatible_runtimes: record.compatible_runtimes.clone(),
            compatible_architectures: record.compatible_architectures.clone(),
            license_info: record.license_info.clone(),
        }
    }

    fn list_item(&self, record: &LayerVersionRecord) -> api::LayerVersionsListItem {
        api::LayerVersionsListItem {
            layer_version_arn: format!("{}:{}", self.layer_arn(&record.name), record.version),
            version: record.version,
            description: record.description.clone(),
            created_date: record.created_date.clone(),
            compatible_runtimes: record.compatible_runtimes.clone(),
            compatible_architectures: record.compatible_architectures.clone(),
            license_info: record.license_info.clone(),
        }
    }

    pub fn publish_layer_version(
        &self,
        layer_name: &str,
        request: api::PublishLayerVersionRequest,
    ) -> Result<api::LayerVersionResponse> {
        let name = self.layer_name(layer_name)?;
        let content = request.content.ok_or_else(|| missing("content"))?;
        let description = request.description.unwrap_or_default();
        max_length(&description, "description", 256)?;
        if let Some(license) = &request.license_info {
            max_length(license, "licenseInfo", 512)?;
        }
        let runtimes = request.compatible_runtimes.unwrap_or_default();
        check_runtimes(&runtimes)?;
        let architectures = request.compatible_architectures.unwrap_or_default();
        check_architectures(&architectures)?;
        let zip = decode_zip(content.zip_file.as_deref(), content.s3_bucket.is_some())?;
        let unzipped_size = code::unzipped_size(&zip)?;
        let registry = self.registry();
        let record = registry.exclusive(|| {
            let stored = code::put(self.store().as_ref(), &zip)?;
            let key = meta_key(&name);
            let raw = self.store().get(&key)?;
            let mut meta: LayerMeta = match raw.as_deref() {
                Some(bytes) => decode(&key, bytes)?,
                None => LayerMeta {
                    name: name.clone(),
                    last_version: 0,
                },
            };
            meta.last_version += 1;
            let record = LayerVersionRecord {
                name: name.clone(),
                version: meta.last_version,
                description,
                created_date: now_timestamp(),
                compatible_runtimes: runtimes,
                compatible_architectures: architectures,
                license_info: request.license_info,
                code_sha256_hex: stored.sha256_hex,
                code_size: stored.size,
                unzipped_size,
                policy: Policy::default(),
            };
            let mut batch = WriteBatch::new();
            batch.check(key.clone(), raw);
            batch.put(key, encode(&meta)?);
            batch.put(version_key(&name, record.version), encode(&record)?);
            self.store().commit(batch)?;
            Ok(record)
        })?;
        Ok(self.describe_layer_version(&record))
    }

    pub fn get_layer_version(
        &self,
        layer_name: &str,
        version: &str,
    ) -> Result<api::LayerVersionResponse> {
        let name = self.layer_name(layer_name)?;
        let version = Self::layer_version_number(version)?;
        let record = self.layer_version(&name, version)?.ok_or_else(not_found)?;
        Ok(self.describe_layer_version(&record))
    }

    pub fn get_layer_version_by_arn(&self, arn: &str) -> Result<api::LayerVersionResponse> {
        let Some((region, account, name, version)) = split_version_arn(arn) else {
            return Err(validation(
                arn,
                "arn",
                &format!(
                    "Member must satisfy regular expression pattern: {LAYER_VERSION_ARN_PATTERN}"
                ),
            ));
        };
        if region != self.config().region || account != self.config().account_id {
            return Err(not_found());
        }
        let record = self.layer_version(name, version)?.ok_or_else(not_found)?;
        Ok(self.describe_layer_version(&record))
    }

    pub fn list_layers(
        &self,
        filter: &api::LayerFilter,
        page: &api::Page,
    ) -> Result<api::ListLayersResponse> {
        let max = list_page(page.max_items)?;
        let mut latest: BTreeMap<String, LayerVersionRecord> = BTreeMap::new();
        for record in self.all_layer_versions()? {
            if matches(&record, filter) {
                latest.insert(record.name.clone(), record);
            }
        }
        let mut layers: Vec<api::LayersListItem> = latest
            .into_iter()
            .filter(|(name, _)| page.marker.as_ref().is_none_or(|m| name > m))
            .map(|(name, record)| api::LayersListItem {
                layer_arn: self.layer_arn(&name),
                layer_name: name,
                latest_matching_version: self.list_item(&record),
            })
            .collect();
        let next_marker = (layers.len() > max).then(|| layers[max - 1].layer_name.clone());
        layers.truncate(max);
        Ok(api::ListLayersResponse {
            layers,
            next_marker,
        })
    }

    pub fn list_layer_versions(
        &self,
        layer_name: &str,
        filter: &api::LayerFilter,
        page: &api::Page,
    ) -> Result<api::ListLayerVersionsResponse> {
        let name = self.layer_name(layer_name)?;
        let max = list_page(page.max_items)?;
        let marker = match &page.marker {
            Some(m) => Some(m.parse::<u64>().map_err(|_| {
                FunctionsError::InvalidParameterValue(format!("Invalid marker: {m}"))
            })?),
            None => None,
        };
        // Newest first, as Lambda lists them.
        let mut versions: Vec<LayerVersionRecord> = self
            .layer_versions(&name)?
            .into_iter()
            .rev()
            .filter(|r| matches(r, filter))
            .filter(|r| marker.is_none_or(|m| r.version < m))
            .collect();
        let next_marker = (versions.len() > max).then(|| versions[max - 1].version.to_string());
        versions.truncate(max);
        Ok(api::ListLayerVersionsResponse {
            layer_versions: versions.iter().map(|r| self.list_item(r)).collect(),
            next_marker,
        })
    }

    /// Deletes a layer version (deleting one that does not exist succeeds, as on Lambda).
    /// Functions using it keep it.
    pub fn delete_layer_version(&self, layer_name: &str, version: &str) -> Result<()> {
        let name = self.layer_name(layer_name)?;
        let version = Self::layer_version_number(version)?;
        let Some(record) = self.registry().exclusive(|| {
            let record = self.layer_version(&name, version)?;
            if record.is_some() {
                let mut batch = WriteBatch::new();
                batch.delete(version_key(&name, version));
                self.store().commit(batch)?;
            }
            Ok(record)
        })?
        else {
            return Ok(());
        };
        self.collect_code([record.code_sha256_hex].into());
        Ok(())
    }

    /// Applies `change` to the policy of one layer version.
    fn change_layer_policy<T>(
        &self,
        layer_name: &str,
        version: &str,
        change: impl FnOnce(&mut Policy) -> Result<T>,
    ) -> Result<T> {
        let name = self.layer_name(layer_name)?;
        let version = Self::layer_version_number(version)?;
        self.registry().exclusive(|| {
            let mut record = self.layer_version(&name, version)?.ok_or_else(not_found)?;
            let out = change(&mut record.policy)?;
            let mut batch = WriteBatch::new();
            batch.put(version_key(&name, version), encode(&record)?);
            self.store().commit(batch)?;
            Ok(out)
        })
    }

    pub fn add_layer_version_permission(
        &self,
        layer_name: &str,
        version: &str,
        revision_id: Option<&str>,
        request: api::AddLayerVersionPermissionRequest,
    ) -> Result<api::AddLayerVersionPermissionResponse> {
        let sid = request.statement_id.ok_or_else(|| missing("statementId"))?;
        if sid.is_empty() || sid.len() > 100 || !crate::registry::is_name(&sid) {
            return Err(validation(
                &sid,
                "statementId",
                "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)",
            ));
        }
        let action = request.action.ok_or_else(|| missing("action"))?;
        if action != "lambda:GetLayerVersion" {
            return Err(validation(
                &action,
                "action",
                "Member must satisfy regular expression pattern: lambda:GetLayerVersion",
            ));
        }
        let principal = request.principal.ok_or_else(|| missing("principal"))?;
        let principal_json = if principal == "*" {
            serde_json::json!("*")
        } else if principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit()) {
            serde_json::json!({ "AWS": format!("arn:aws:iam::{principal}:root") })
        } else if principal.starts_with("arn:") && principal.ends_with(":root") {
            serde_json::json!({ "AWS": principal })
        } else {
            return Err(validation(
                &principal,
                "principal",
                r"Member must satisfy regular expression pattern: \d{12}|\*|arn:(aws[a-zA-Z-]*):iam::\d{12}:root",
            ));
        };
        let name = self.layer_name(layer_name)?;
        let number = Self::layer_version_number(version)?;
        let mut statement = serde_json::json!({
            "Sid": sid,
            "Effect": "Allow",
            "Principal": principal_json,
            "Action": action,
            "Resource": format!("{}:{number}", self.layer_arn(&name)),
        });
        if let Some(org) = request.organization_id {
            statement["Condition"] =
                serde_json::json!({ "StringEquals": { "aws:PrincipalOrgID": org } });
        }
        self.change_layer_policy(layer_name, version, |policy| {
            check_revision(revision_id, &policy.revision_id, "GetLayerVersionPolicy")?;
            if policy.statements.iter().any(|s| s["Sid"] == sid.as_str()) {
                return Err(FunctionsError::ResourceConflict(format!(
                    "The statement id ({sid}) provided already exists. Please choose a new statement id, or remove the existing statement."
                )));
            }
            policy.statements.push(statement.clone());
            policy.revision_id = new_revision();
            Ok(api::AddLayerVersionPermissionResponse {
                statement: statement.to_string(),
                revision_id: policy.revision_id.clone(),
            })
        })
    }

    pub fn get_layer_version_policy(
        &self,
        layer_name: &str,
        version: &str,
    ) -> Result<api::GetLayerVersionPolicyResponse> {
        let name = self.layer_name(layer_name)?;
        let number = Self::layer_version_number(version)?;
        let record = self.layer_version(&name, number)?.ok_or_else(not_found)?;
        if record.policy.statements.is_empty() {
            return Err(FunctionsError::ResourceNotFound(
                "No policy is associated with the given resource.".into(),
            ));
        }
        let document = serde_json::json!({
            "Version": "2012-10-17",
            "Id": "default",
            "Statement": record.policy.statements,
        });
        Ok(api::GetLayerVersionPolicyResponse {
            policy: document.to_string(),
            revision_id: record.policy.revision_id,
        })
    }

    pub fn remove_layer_version_permission(
        &self,
        layer_name: &str,
        version: &str,
        statement_id: &str,
        revision_id: Option<&str>,
    ) -> Result<()> {
        self.change_layer_policy(layer_name, version, |policy| {
            check_revision(revision_id, &policy.revision_id, "GetLayerVersionPolicy")?;
            let before = policy.statements.len();
            policy.statements.retain(|s| s["Sid"] != statement_id);
            if policy.statements.len() == before {
                return Err(FunctionsError::ResourceNotFound(format!(
                    "Statement {statement_id} is not found in resource policy."
                )));
            }
            policy.revision_id = new_revision();
            Ok(())
        })
    }

    /// Resolves a function's `Layers` parameter to the versions it names, in order, checking
    /// Lambda's rules: at most five, valid ARNs of existing versions, one version per layer.
    pub(crate) fn resolve_layers(&self, arns: &[String]) -> Result<Vec<LayerRef>> {
        if arns.len() > MAX_LAYERS {
            return Err(FunctionsError::InvalidParameterValue(format!(
                "Cannot reference more than {MAX_LAYERS} layers."
            )));
        }
        let mut seen: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        for arn in arns {
            let Some((region, account, name, version)) = split_version_arn(arn) else {
                return Err(validation(
                    format!("[{}]", arns.join(", ")),
                    "layers",
                    &format!(
                        "Member must satisfy constraint: [Member must have length less than or equal to 140, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: {LAYER_VERSION_ARN_PATTERN}, Member must not be null]"
                    ),
                ));
            };
            if seen.contains(&name) {
                return Err(FunctionsError::InvalidParameterValue(format!(
                    "Two different versions of the same layer are not allowed to be referenced in the same function. {} is referenced more than once.",
                    self.layer_arn(name)
                )));
            }
            seen.push(name);
            let record = (region == self.config().region && account == self.config().account_id)
                .then(|| self.layer_version(name, version))
                .transpose()?
                .flatten()
                .ok_or_else(|| {
                    FunctionsError::InvalidParameterValue(format!(
                        "Layer version {arn} does not exist."
                    ))
                })?;
            out.push(LayerRef {
                arn: arn.clone(),
                code_size: record.code_size,
                sha256_hex: record.code_sha256_hex,
                unzipped_size: record.unzipped_size,
            });
        }
        Ok(out)
    }

    /// Checks the 250 MB limit on a function's unzipped code (`code_unzipped` bytes) plus its
    /// layers.
    pub(crate) fn check_unzipped_total(code_unzipped: u64, layers: &[LayerRef]) -> Result<()> {
        let total = code_unzipped + layers.iter().map(|l| l.unzipped_size).sum::<u64>();
        if total > code::MAX_UNZIPPED {
            return Err(FunctionsError::InvalidParameterValue(format!(
                "Function code combined with layers exceeds the maximum allowed size of {} bytes. The actual size is {total} bytes.",
                code::MAX_UNZIPPED
            )));
        }
        Ok(())
    }

    /// The unzipped size of a stored package. Blocks on storage.
    pub(crate) fn stored_unzipped_size(&self, code_sha_hex: &str) -> Result<u64> {
        code::unzipped_size(&code::get(self.store().as_ref(), code_sha_hex)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_arns_are_taken_apart() {
        assert_eq!(
            split_version_arn("arn:aws:lambda:us-east-1:000000000000:layer:deps:3"),
            Some(("us-east-1", "000000000000", "deps", 3))
        );
        assert_eq!(
            split_version_arn("arn:aws:lambda:us-east-1:000000000000:layer:deps"),
            None
        );
        assert_eq!(
            split_version_arn("arn:aws:lambda:us-east-1:000000000000:function:deps:3"),
            None
        );
        assert!(is_layer_name("my-layer_1"));
        assert!(!is_layer_name("my layer"));
    }
}
