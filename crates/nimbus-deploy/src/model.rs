//! Desired resources (what the template asks for, fully resolved) and actual ones (what runs,
//! as read back from the server), in the shapes the plan compares.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value as Json;
use sha2::{Digest, Sha256};

/// Tag naming the stack a resource belongs to.
pub const TAG_STACK: &str = "nimbus:stack-name";
/// Tag naming the resource's logical id in its template.
pub const TAG_LOGICAL_ID: &str = "nimbus:logical-id";
/// Tag holding the hash of the resource's desired configuration.
pub const TAG_HASH: &str = "nimbus:hash";
/// Tag holding the hash of the properties whose change needs a new resource (a table's keys).
pub const TAG_REPLACE_HASH: &str = "nimbus:replace-hash";
/// Prefix of the tags that record a function's table permissions, one per table:
/// `nimbus:table-access:1` = `read+write shop-Items-ABC` (see [`TableAccess::tag_value`]).
pub const TAG_TABLE_ACCESS: &str = "nimbus:table-access:";

/// The kinds of resource a stack deploys, in creation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Table,
    Function,
    HttpApi,
    RestApi,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Table => "table",
            Kind::Function => "function",
            Kind::HttpApi => "http api",
            Kind::RestApi => "rest api",
        }
    }
}

/// One resource the template asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    pub logical_id: String,
    pub line: usize,
    /// The template's resource type (`AWS::Serverless::Function`).
    pub resource_type: String,
    pub spec: Spec,
    /// Hash of the spec (without code, which is compared by its own hash).
    pub hash: String,
    /// Hash of what cannot change in place.
    pub replace_hash: String,
}

impl Desired {
    pub fn kind(&self) -> Kind {
        match self.spec {
            Spec::Table(_) => Kind::Table,
            Spec::Function(_) => Kind::Function,
            Spec::HttpApi(_) => Kind::HttpApi,
            Spec::RestApi(_) => Kind::RestApi,
        }
    }

    /// The physical name where it is known before creation (tables and functions).
    pub fn physical_name(&self) -> Option<&str> {
        match &self.spec {
            Spec::Table(t) => Some(&t.name),
            Spec::Function(f) => Some(&f.name),
            Spec::HttpApi(_) | Spec::RestApi(_) => None,
        }
    }
}

/// What to deploy, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Spec {
    Function(FunctionSpec),
    Table(TableSpec),
    HttpApi(ApiSpec),
    RestApi(RestApiSpec),
}

/// A Lambda function.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionSpec {
    pub name: String,
    /// The configuration members of CreateFunction / UpdateFunctionConfiguration (`Handler`,
    /// `Runtime`, `MemorySize`, `Timeout`, `Environment`, `Role`, ...).
    pub config: serde_json::Map<String, Json>,
    pub architectures: Vec<String>,
    pub code: CodeSource,
    /// The template's own tags.
    pub tags: BTreeMap<String, String>,
    /// Policies as the template wrote them (recorded; Nimbus does not enforce IAM).
    pub policies: Vec<String>,
    /// The resource's `Metadata` (how its code is built: `BuildMethod`, `BuildProperties`).
    pub metadata: Option<Json>,
    /// Table permissions from policies and connectors (recorded; not enforced yet).
    pub permissions: Vec<TableAccess>,
    /// `AutoPublishAlias`.
    pub publish: Option<Publish>,
    /// `ReservedConcurrentExecutions`.
    pub reserved_concurrency: Option<u32>,
    /// `FunctionUrlConfig`, as CreateFunctionUrlConfig's body (`AuthType`, `Cors`,
    /// `InvokeMode`); on the alias with `AutoPublishAlias`, as SAM puts it.
    pub url: Option<Json>,
    /// `EventInvokeConfig`, as PutFunctionEventInvokeConfig's body; on the alias with
    /// `AutoPublishAlias`.
    pub event_invoke: Option<Json>,
}

/// What a function may do to a table, from its `Policies` (the DynamoDB policy templates,
/// AWS managed policies, policy statements) and from `AWS::Serverless::Connector`s. Nimbus
/// does not enforce IAM yet: this is recorded (in the function's tags) and shown, so that
/// per-function credentials can enforce it later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableAccess {
    /// The table name, or `*` for every table.
    pub table: String,
    pub levels: std::collections::BTreeSet<AccessLevel>,
    /// Where it comes from (`DynamoDBCrudPolicy`, `connector ReadItems`), for the plan.
    pub granted_by: Vec<String>,
}

impl TableAccess {
    /// `read+write TABLE`: the tag value, in the characters AWS tag values allow (letters,
    /// digits, spaces, `_ . : / = + - @`); every table (`*`) is written `:all`, which no table
    /// name can be.
    pub fn tag_value(&self) -> String {
        let levels: Vec<&str> = self.levels.iter().map(|l| l.name()).collect();
        let table = if self.table == "*" {
            ":all"
        } else {
            &self.table
        };
        format!("{} {table}", levels.join("+"))
    }

    /// The DynamoDB operations the levels allow.
    pub fn operations(&self) -> std::collections::BTreeSet<&'static str> {
        self.levels
            .iter()
            .flat_map(|l| l.operations().iter().copied())
            .collect()
    }
}

/// A group of DynamoDB operations, as the SAM policy templates and connectors grant them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccessLevel {
    Read,
    Write,
    Delete,
    Reconfigure,
    StreamRead,
    Backup,
    Restore,
}

impl AccessLevel {
    pub const ALL: [AccessLevel; 7] = [
        AccessLevel::Read,
        AccessLevel::Write,
        AccessLevel::Delete,
        AccessLevel::Reconfigure,
        AccessLevel::StreamRead,
        AccessLevel::Backup,
        AccessLevel::Restore,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AccessLevel::Read => "read",
            AccessLevel::Write => "write",
            AccessLevel::Delete => "delete",
            AccessLevel::Reconfigure => "reconfigure",
            AccessLevel::StreamRead => "stream-read",
            AccessLevel::Backup => "backup",
            AccessLevel::Restore => "restore",
        }
    }

    /// The DynamoDB operations of the level (what the SAM policy templates list).
    pub fn operations(self) -> &'static [&'static str] {
        match self {
            AccessLevel::Read => &[
                "GetItem",
                "BatchGetItem",
                "Query",
                "Scan",
                "ConditionCheckItem",
                "DescribeTable",
                "PartiQLSelect",
                "TransactGetItems",
            ],
            AccessLevel::Write => &[
                "PutItem",
                "UpdateItem",
                "BatchWriteItem",
                "PartiQLInsert",
                "PartiQLUpdate",
                "TransactWriteItems",
            ],
            AccessLevel::Delete => &["DeleteItem", "PartiQLDelete"],
            AccessLevel::Reconfigure => &["UpdateTable", "DescribeTable"],
            AccessLevel::StreamRead => &[
                "DescribeStream",
                "GetRecords",
                "GetShardIterator",
                "ListStreams",
            ],
            AccessLevel::Backup => &[
                "CreateBackup",
                "DescribeBackup",
                "DeleteBackup",
                "ListBackups",
                "DescribeContinuousBackups",
                "UpdateContinuousBackups",
            ],
            AccessLevel::Restore => &["RestoreTableFromBackup", "DescribeBackup", "ListBackups"],
        }
    }

    /// The level an operation belongs to (the first, for the ones in two).
    pub fn of_operation(op: &str) -> Option<AccessLevel> {
        AccessLevel::ALL
            .into_iter()
            .find(|l| l.operations().contains(&op))
    }
}

/// `AutoPublishAlias`: after a change, publish a version and point this alias at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    pub alias: String,
    /// `DeploymentPreference.Type`, when there is one (traffic moves at once in Nimbus).
    pub deployment_preference: Option<String>,
}

/// A resource of a service Nimbus does not run: listed, not deployed.
#[derive(Debug, Clone, PartialEq)]
pub struct NotDeployed {
    pub logical_id: String,
    pub line: usize,
    pub resource_type: String,
    /// The placeholder its `Ref` gives.
    pub reference: String,
}

/// Where a function's code comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum CodeSource {
    /// A folder whose content is zipped.
    Dir(PathBuf),
    /// A ready zip file.
    Zip(PathBuf),
    /// `InlineCode`: one file.
    Inline { file_name: String, text: String },
}

/// A DynamoDB table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableSpec {
    pub name: String,
    /// The CreateTable request without `TableName` and `Tags`.
    pub create: serde_json::Map<String, Json>,
    pub tags: BTreeMap<String, String>,
    /// `TimeToLiveSpecification` (`AttributeName`, `Enabled`), applied with UpdateTimeToLive.
    pub ttl: Option<Json>,
}

/// An HTTP API with its routes and its `$default` stage.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiSpec {
    pub name: String,
    pub description: Option<String>,
    pub cors: Option<Json>,
    pub routes: Vec<RouteSpec>,
    pub stage: String,
    pub tags: BTreeMap<String, String>,
    /// `Auth.Authorizers`, by name.
    pub authorizers: Vec<AuthorizerSpec>,
}

/// An authorizer of an HTTP API: its name and the rest of CreateAuthorizer's body
/// (`authorizerType` `JWT` or `REQUEST`, `identitySource`, `jwtConfiguration` or
/// `authorizerUri` and its options).
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizerSpec {
    pub name: String,
    pub body: Json,
}

/// A route to a function of the stack.
#[derive(Debug, Clone, PartialEq, PartialOrd, Eq, Ord)]
pub struct RouteSpec {
    pub route_key: String,
    /// The function's logical id.
    pub function: String,
    /// The function's ARN (the integration's target).
    pub function_arn: String,
    pub payload_format_version: String,
    pub timeout_ms: u64,
    /// `NONE`, `AWS_IAM`, `JWT` or `CUSTOM`.
    pub authorization_type: String,
    /// The name of the API's authorizer, for `JWT` and `CUSTOM`.
    pub authorizer: Option<String>,
    /// The scopes a JWT must carry.
    pub scopes: Vec<String>,
}

/// A REST API (API Gateway v1) with its methods and stages, as SAM's `AWS::Serverless::Api`
/// (or the implicit `ServerlessRestApi` of `Api` events) describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct RestApiSpec {
    pub name: String,
    pub description: Option<String>,
    /// The stages that serve the API, the template's `StageName` first (SAM also creates a
    /// stage named `Stage` unless `OpenApiVersion` is 3.x).
    pub stages: Vec<String>,
    pub variables: BTreeMap<String, String>,
    pub binary_media_types: Vec<String>,
    /// `EDGE`, `REGIONAL` or `PRIVATE`.
    pub endpoint_type: String,
    /// SAM's `Cors`: an `OPTIONS` method answering the preflight on every path.
    pub cors: Option<RestCors>,
    pub methods: Vec<MethodSpec>,
    pub tags: BTreeMap<String, String>,
}

/// The preflight answer SAM's `Cors` sets up (values as the template writes them, quoted:
/// `"'*'"`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestCors {
    pub allow_origin: String,
    pub allow_headers: Option<String>,
    /// `None`: the methods of each path, with `OPTIONS`.
    pub allow_methods: Option<String>,
    pub max_age: Option<String>,
    pub allow_credentials: bool,
}

/// A method of a REST API resource that invokes a function of the stack.
#[derive(Debug, Clone, PartialEq, PartialOrd, Eq, Ord)]
pub struct MethodSpec {
    /// `/items/{id}`.
    pub path: String,
    /// `GET`, `ANY`, ...
    pub method: String,
    /// The function's logical id.
    pub function: String,
    pub function_arn: String,
    pub timeout_ms: u64,
    /// `NONE` or `AWS_IAM` (the method's `authorizationType`).
    pub authorization_type: String,
}

/// A resource of the stack that exists on the server.
#[derive(Debug, Clone, PartialEq)]
pub struct Actual {
    pub logical_id: String,
    pub kind: Kind,
    /// Function name, table name or API id.
    pub physical: String,
    /// The `nimbus:hash` tag.
    pub hash: Option<String>,
    /// The `nimbus:replace-hash` tag.
    pub replace_hash: Option<String>,
    /// A function's `CodeSha256`.
    pub code_sha256: Option<String>,
}

/// A stable hash of a JSON value (keys sorted at every level).
pub fn hash_json(value: &Json) -> String {
    fn canonical(value: &Json, out: &mut String) {
        match value {
            Json::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for k in keys {
                    out.push_str(&Json::String(k.clone()).to_string());
                    out.push(':');
                    canonical(&map[k], out);
                    out.push(',');
                }
                out.push('}');
            }
            Json::Array(items) => {
                out.push('[');
                for i in items {
                    canonical(i, out);
                    out.push(',');
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut text = String::new();
    canonical(value, &mut text);
    hex::encode(&Sha256::digest(text.as_bytes())[..12])
}

/// A layer (`AWS::Serverless::LayerVersion`, `AWS::Lambda::LayerVersion`). Layers have no tags
/// on Lambda, so they are not part of the stack's inventory: a deploy publishes a new version
/// when the content or configuration differs from the layer's latest version, and old
/// versions are retained (SAM's default `RetentionPolicy: Retain`) unless `RetentionPolicy` is
/// `Delete`.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerSpec {
    pub logical_id: String,
    pub line: usize,
    /// The layer name: `LayerName`, else `{stack}-{LogicalId}`.
    pub name: String,
    pub code: CodeSource,
    pub description: String,
    pub compatible_runtimes: Vec<String>,
    pub compatible_architectures: Vec<String>,
    pub license_info: Option<String>,
    /// `RetentionPolicy: Delete`: a superseded version is deleted once the deploy succeeded.
    pub delete_superseded: bool,
    /// The resource's `Metadata` (`BuildMethod`: the layer is built before it is packaged).
    pub metadata: Option<Json>,
}

/// What `Ref` of a layer evaluates to until its version ARN is known (after it is published):
/// functions' `Layers` carry it, and [`bind_layers`] replaces it.
pub fn layer_marker(logical_id: &str) -> String {
    format!("nimbus-layer-version:{logical_id}")
}

/// Replaces the layer markers in the functions' configurations by the layer version ARNs of
/// `arns` (by logical id) and folds those ARNs into the functions' hashes, so that a function
/// moves to a layer's new version when the layer changed.
pub fn bind_layers(resources: &mut [Desired], arns: &BTreeMap<String, String>) {
    fn replace(value: &mut Json, by_marker: &BTreeMap<String, &String>, used: &mut Vec<String>) {
        match value {
            Json::String(s) => {
                if let Some(arn) = by_marker.get(s.as_str()) {
                    used.push((*arn).clone());
                    *s = (*arn).clone();
                }
            }
            Json::Array(items) => items.iter_mut().for_each(|v| replace(v, by_marker, used)),
            Json::Object(map) => map.values_mut().for_each(|v| replace(v, by_marker, used)),
            _ => {}
        }
    }
    let by_marker: BTreeMap<String, &String> = arns
        .iter()
        .map(|(id, arn)| (layer_marker(id), arn))
        .collect();
    for d in resources {
        if let Spec::Function(f) = &mut d.spec {
            let mut config = Json::Object(std::mem::take(&mut f.config));
            let mut used = Vec::new();
            replace(&mut config, &by_marker, &mut used);
            if let Json::Object(map) = config {
                f.config = map;
            }
            if !used.is_empty() {
                d.hash = hash_json(&serde_json::json!([d.hash, used]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_markers_become_arns_and_change_the_hash() {
        let mut config = serde_json::Map::new();
        config.insert(
            "Layers".into(),
            serde_json::json!([layer_marker("Deps"), "arn:aws:lambda:us-east-1:1:layer:x:1"]),
        );
        let function = Desired {
            logical_id: "Fn".into(),
            line: 1,
            resource_type: "AWS::Serverless::Function".into(),
            spec: Spec::Function(FunctionSpec {
                name: "f".into(),
                config,
                architectures: Vec::new(),
                code: CodeSource::Zip("f.zip".into()),
                tags: BTreeMap::new(),
                policies: Vec::new(),
                metadata: None,
                permissions: Vec::new(),
                publish: None,
                reserved_concurrency: None,
                url: None,
                event_invoke: None,
            }),
            hash: "h".into(),
            replace_hash: String::new(),
        };
        let bound = |arn: &str| {
            let mut resources = vec![function.clone()];
            bind_layers(
                &mut resources,
                &BTreeMap::from([("Deps".into(), arn.into())]),
            );
            resources.remove(0)
        };
        let one = bound("arn:aws:lambda:us-east-1:000000000000:layer:deps:1");
        let Spec::Function(f) = &one.spec else {
            panic!("function")
        };
        assert_eq!(
            f.config["Layers"],
            serde_json::json!([
                "arn:aws:lambda:us-east-1:000000000000:layer:deps:1",
                "arn:aws:lambda:us-east-1:1:layer:x:1"
            ])
        );
        let again = bound("arn:aws:lambda:us-east-1:000000000000:layer:deps:1");
        let two = bound("arn:aws:lambda:us-east-1:000000000000:layer:deps:2");
        assert_eq!(one.hash, again.hash);
        assert_ne!(one.hash, two.hash);
        assert_ne!(one.hash, "h");
    }
}
