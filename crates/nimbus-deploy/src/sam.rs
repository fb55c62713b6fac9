//! The SAM expansion: a parsed [`Template`] with its parameters to the [`Desired`] resources
//! of one stack. Physical names follow CloudFormation (`{stack}-{LogicalId}-{RANDOM}` unless
//! the template names the resource) and are kept from the running resource on re-deploys.
//! Resources (and function events) of services Nimbus does not run are listed in
//! [`Resolved::not_deployed`], their `Ref`/`Fn::GetAtt` answered by placeholders; everything
//! else Nimbus cannot deploy is collected and reported together; nothing is dropped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rand::Rng;
use serde_json::{Value as Json, json};

use sha2::{Digest, Sha256};

use crate::access;
use crate::error::{Error, Result};
use crate::intrinsics::{Context, PENDING, Placeholder, intrinsic};
use crate::model::*;
use crate::template::{Output, Parameter, Resource, Template};
use crate::yaml::{Node, Value};

/// The implicit HTTP API SAM creates for `HttpApi` events without an `ApiId`.
pub const IMPLICIT_HTTP_API: &str = "ServerlessHttpApi";
/// The implicit REST API SAM creates for `Api` events without a `RestApiId`.
pub const IMPLICIT_REST_API: &str = "ServerlessRestApi";

const FUNCTION: &str = "AWS::Serverless::Function";
const HTTP_API: &str = "AWS::Serverless::HttpApi";
const REST_API: &str = "AWS::Serverless::Api";
const SIMPLE_TABLE: &str = "AWS::Serverless::SimpleTable";
const TABLE: &str = "AWS::DynamoDB::Table";
const CONNECTOR: &str = "AWS::Serverless::Connector";
const SERVERLESS_LAYER: &str = "AWS::Serverless::LayerVersion";
const LAMBDA_LAYER: &str = "AWS::Lambda::LayerVersion";

/// What the expansion needs besides the template.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    pub stack: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    /// The template's folder: `CodeUri` is relative to it.
    pub template_dir: &'a Path,
    /// `--parameter-overrides`.
    pub overrides: &'a BTreeMap<String, String>,
    /// The stack's resources as they run now (for physical names and API ids).
    pub actual: &'a [Actual],
}

/// The stack a template describes.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub resources: Vec<Desired>,
    /// Resources of services Nimbus does not run, in template order: listed, not deployed.
    pub not_deployed: Vec<NotDeployed>,
    /// The layers, published before the functions that use them (see [`LayerSpec`]).
    pub layers: Vec<LayerSpec>,
    /// What is deployed only partly, to be shown to the user.
    pub warnings: Vec<String>,
    context: Context,
    outputs: Vec<Output>,
    region: String,
}

/// One evaluated output.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputValue {
    pub name: String,
    pub value: String,
    pub description: Option<String>,
}

impl Resolved {
    /// The outputs, once the APIs' ids are known; AWS API URLs become local gateway URLs.
    pub fn outputs(
        &self,
        api_ids: &BTreeMap<String, String>,
        gateway: &str,
    ) -> Result<Vec<OutputValue>> {
        let mut ctx = self.context.clone();
        for (logical_id, id) in api_ids {
            ctx.refs.insert(logical_id.clone(), json!(id));
            ctx.attributes
                .insert((logical_id.clone(), "ApiId".into()), json!(id));
            ctx.attributes.insert(
                (logical_id.clone(), "ApiEndpoint".into()),
                json!(format!(
                    "https://{id}.execute-api.{}.amazonaws.com",
                    self.region
                )),
            );
        }
        let mut out = Vec::new();
        for o in &self.outputs {
            let value = ctx.value(&o.value).map_err(|e| output_error(&o.name, e))?;
            let text = match value {
                Json::String(s) => s,
                // A list output is its items joined by commas, as CloudFormation shows it.
                Json::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
                    items
                        .iter()
                        .map(|i| i.as_str().map_or(i.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(",")
                }
                other => other.to_string(),
            };
            out.push(OutputValue {
                name: o.name.clone(),
                value: localize_urls(&text, api_ids.values(), gateway),
                description: o.description.clone(),
            });
        }
        Ok(out)
    }
}

fn output_error(name: &str, e: Error) -> Error {
    match e {
        Error::Template { line, message } => {
            Error::template(line, format!("output {name}: {message}"))
        }
        other => other,
    }
}

/// `https://{id}.execute-api.{region}.amazonaws.com` to `http://{id}.execute-api.localhost:{port}`.
fn localize_urls<'a>(text: &str, ids: impl Iterator<Item = &'a String>, gateway: &str) -> String {
    let port = gateway.rsplit(':').next().unwrap_or("8080");
    let mut out = text.to_owned();
    for id in ids {
        let prefix = format!("https://{id}.execute-api.");
        while let Some(start) = out.find(&prefix) {
            let host_start = start + "https://".len();
            let host_end = out[host_start..]
                .find(['/', '?', '"', ' '])
                .map_or(out.len(), |i| host_start + i);
            let local = format!("http://{id}.execute-api.localhost:{port}");
            out.replace_range(start..host_end, &local);
        }
    }
    out
}

/// A random suffix as CloudFormation makes them: 12 upper-case letters and digits.
fn random_suffix() -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    (0..12)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

/// `{stack}-{LogicalId}-{RANDOM}`, each of the first two parts shortened to fit `max`.
fn generated_name(stack: &str, logical_id: &str, max: usize) -> String {
    let suffix = random_suffix();
    let room = max.saturating_sub(suffix.len() + 2);
    let stack_part: String = stack.chars().take(room / 2).collect();
    let id_part: String = logical_id
        .chars()
        .take(room.saturating_sub(stack_part.len()))
        .collect();
    format!("{stack_part}-{id_part}-{suffix}")
}

/// SAM's Globals merge: maps merge key by key, lists concatenate, the resource's value wins
/// otherwise.
fn merge(global: &Node, local: &Node) -> Node {
    match (&global.value, &local.value) {
        (Value::Map(g), Value::Map(l))
            if intrinsic(global).is_none() && intrinsic(local).is_none() =>
        {
            let mut entries = g.clone();
            for (k, v) in l {
                match entries.iter_mut().find(|(gk, _)| gk == k) {
                    Some((_, gv)) => *gv = merge(gv, v),
                    None => entries.push((k.clone(), v.clone())),
                }
            }
            Node::new(local.line, Value::Map(entries))
        }
        (Value::Seq(g), Value::Seq(l)) => {
            Node::new(local.line, Value::Seq(g.iter().chain(l).cloned().collect()))
        }
        _ => local.clone(),
    }
}

/// Collects what cannot be deployed, with where it is.
#[derive(Default)]
struct Problems {
    unsupported: Vec<String>,
    warnings: Vec<String>,
}

impl Problems {
    fn unsupported(&mut self, logical_id: &str, line: usize, what: String) {
        self.unsupported
            .push(format!("{logical_id} (template line {line}): {what}"));
    }

    /// Reports every property of `props` not in `known`.
    fn check_properties(&mut self, r: &Resource, props: &Node, known: &[&str], hint: &str) {
        for (key, node) in props.as_map().unwrap_or_default() {
            if !known.contains(&key.as_str()) {
                self.unsupported(
                    &r.logical_id,
                    node.line,
                    format!("property {key} of {} is not supported{hint}", r.kind),
                );
            }
        }
    }
}

/// Expands `template` into the desired resources of the stack.
pub fn resolve(template: &Template, inputs: &Inputs<'_>) -> Result<Resolved> {
    let mut ctx = Context {
        mappings: template.mappings.clone(),
        language_extensions: template.language_extensions,
        ..Context::default()
    };
    parameters(template, inputs, &mut ctx)?;
    ctx.evaluate_conditions(&template.conditions)?;

    let globals = globals(template)?;
    let mut problems = Problems::default();

    // Resources that exist under this template's condition values.
    let mut resources: Vec<&Resource> = Vec::new();
    for r in &template.resources {
        let included = match &r.condition {
            Some(c) => ctx
                .condition(&r.properties, c)
                .map_err(|e| e.in_resource(&r.logical_id, r.line))?,
            None => true,
        };
        ctx.declared.insert(r.logical_id.clone());
        if included {
            resources.push(r);
        }
    }
    let needs_implicit_api = resources.iter().any(|r| {
        r.kind == FUNCTION
            && r.properties
                .get("Events")
                .and_then(Node::as_map)
                .unwrap_or_default()
                .iter()
                .any(|(_, e)| {
                    e.get("Type").and_then(Node::as_str) == Some("HttpApi")
                        && e.get("Properties").and_then(|p| p.get("ApiId")).is_none()
                })
    });
    if needs_implicit_api {
        ctx.declared.insert(IMPLICIT_HTTP_API.to_owned());
    }
    let needs_implicit_rest_api = resources.iter().any(|r| {
        r.kind == FUNCTION
            && r.properties
                .get("Events")
                .and_then(Node::as_map)
                .unwrap_or_default()
                .iter()
                .any(|(_, e)| {
                    e.get("Type").and_then(Node::as_str) == Some("Api")
                        && e.get("Properties")
                            .and_then(|p| p.get("RestApiId"))
                            .is_none()
                })
    });
    if needs_implicit_rest_api {
        ctx.declared.insert(IMPLICIT_REST_API.to_owned());
    }

    // Names and references first, since properties refer to each other.
    let existing = |logical_id: &str, kind: Kind| {
        inputs
            .actual
            .iter()
            .find(|a| a.logical_id == logical_id && a.kind == kind)
    };
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let arn = |service: &str, rest: String| {
        format!(
            "arn:aws:{service}:{}:{}:{rest}",
            inputs.region, inputs.account
        )
    };
    for r in &resources {
        let id = &r.logical_id;
        let in_resource = |e: Error| e.in_resource(id, r.line);
        match r.kind.as_str() {
            FUNCTION | SIMPLE_TABLE | TABLE => {
                let (kind, name_key, max) = if r.kind == FUNCTION {
                    (Kind::Function, "FunctionName", 64)
                } else {
                    (Kind::Table, "TableName", 255)
                };
                let explicit = match r
                    .properties
                    .get(name_key)
                    .or_else(|| globals.get(r.kind.as_str()).and_then(|g| g.get(name_key)))
                {
                    Some(n) => Some(ctx.string(n).map_err(in_resource)?),
                    None => None,
                };
                let name = match (explicit, existing(id, kind)) {
                    (Some(name), Some(a))
                        if kind == Kind::Table
                            && a.physical == name
                            && a.replace_hash.as_deref()
                                != Some(&table_replace_hash(&ctx, r, &globals)?) =>
                    {
                        return Err(Error::Resource {
                            logical_id: id.clone(),
                            line: Some(r.line),
                            message: format!(
                                "the key schema changed, which needs a new table, but TableName {name} is fixed: give the table a new name (or none)"
                            ),
                        });
                    }
                    (Some(name), _) => name,
                    (None, Some(a)) if kind == Kind::Function => a.physical.clone(),
                    (None, Some(a))
                        if a.replace_hash.as_deref()
                            == Some(&table_replace_hash(&ctx, r, &globals)?) =>
                    {
                        a.physical.clone()
                    }
                    (None, _) => generated_name(inputs.stack, id, max),
                };
                ctx.refs.insert(id.clone(), json!(name));
                if kind == Kind::Function {
                    let fn_arn = arn("lambda", format!("function:{name}"));
                    ctx.attributes
                        .insert((id.clone(), "Arn".into()), json!(fn_arn));
                    let role_id = format!("{id}Role");
                    let role = role_arn(inputs, id);
                    ctx.declared.insert(role_id.clone());
                    ctx.refs
                        .insert(role_id.clone(), json!(role.rsplit('/').next()));
                    ctx.attributes.insert((role_id, "Arn".into()), json!(role));
                    // SAM's `AWS::Lambda::Url` of `FunctionUrlConfig`: the URL is known once
                    // the deploy created it.
                    let url_id = format!("{id}Url");
                    ctx.declared.insert(url_id.clone());
                    ctx.refs.insert(url_id.clone(), json!(fn_arn));
                    ctx.attributes
                        .insert((url_id, "FunctionUrl".into()), json!(PENDING));
                } else {
                    ctx.attributes.insert(
                        (id.clone(), "Arn".into()),
                        json!(arn("dynamodb", format!("table/{name}"))),
                    );
                    ctx.attributes
                        .insert((id.clone(), "StreamArn".into()), json!(PENDING));
                }
                names.insert(id.clone(), name);
            }
            SERVERLESS_LAYER | LAMBDA_LAYER => {
                // `Ref` and `LayerVersionArn` are the version ARN, known once published.
                let marker = json!(layer_marker(id));
                ctx.refs.insert(id.clone(), marker.clone());
                ctx.attributes
                    .insert((id.clone(), "LayerVersionArn".into()), marker);
            }
            HTTP_API => {
                let value =
                    existing(id, Kind::HttpApi).map_or(json!(PENDING), |a| json!(a.physical));
                ctx.refs.insert(id.clone(), value.clone());
                ctx.attributes.insert((id.clone(), "ApiId".into()), value);
                ctx.attributes
                    .insert((id.clone(), "ApiEndpoint".into()), json!(PENDING));
            }
            REST_API => rest_api_refs(&mut ctx, id, existing(id, Kind::RestApi)),
            CONNECTOR => {}
            _ => {
                let p = placeholder(&ctx, r, inputs);
                ctx.placeholders.insert(id.clone(), p);
            }
        }
    }
    if needs_implicit_rest_api {
        rest_api_refs(
            &mut ctx,
            IMPLICIT_REST_API,
            existing(IMPLICIT_REST_API, Kind::RestApi),
        );
    }
    let mut grants = connectors(&ctx, &resources, &names, &mut problems)?;
    published_refs(&mut ctx, &resources, &globals, &names, inputs)?;
    stream_arns(&mut ctx, &resources, &mut problems);
    if needs_implicit_api {
        let id = IMPLICIT_HTTP_API.to_owned();
        let value = existing(&id, Kind::HttpApi).map_or(json!(PENDING), |a| json!(a.physical));
        ctx.refs.insert(id.clone(), value.clone());
        ctx.attributes.insert((id.clone(), "ApiId".into()), value);
        ctx.attributes
            .insert((id.clone(), "ApiEndpoint".into()), json!(PENDING));
    }

    // Now each resource.
    let mut desired = Vec::new();
    let mut not_deployed_list = Vec::new();
    let mut layers = Vec::new();
    let mut apis: BTreeMap<String, (usize, Option<&Resource>, Vec<RouteSpec>)> = BTreeMap::new();
    if needs_implicit_api {
        apis.insert(IMPLICIT_HTTP_API.to_owned(), (0, None, Vec::new()));
    }
    for r in &resources {
        if r.kind == HTTP_API {
            apis.insert(r.logical_id.clone(), (r.line, Some(r), Vec::new()));
        }
    }
    let mut rest_apis: RestApis<'_> = BTreeMap::new();
    if needs_implicit_rest_api {
        rest_apis.insert(IMPLICIT_REST_API.to_owned(), (0, None, Vec::new()));
    }
    for r in &resources {
        if r.kind == REST_API {
            rest_apis.insert(r.logical_id.clone(), (r.line, Some(r), Vec::new()));
        }
    }
    for r in &resources {
        let props = match globals.get(r.kind.as_str()) {
            Some(g) => merge(g, &r.properties),
            None => r.properties.clone(),
        };
        let not_deployed = ctx.placeholders.contains_key(&r.logical_id);
        for (attribute, line) in r.unsupported_attributes.iter().filter(|_| !not_deployed) {
            problems.unsupported(
                &r.logical_id,
                *line,
                format!(
                    "resource attribute {attribute} is not supported (only DeletionPolicy: Delete)"
                ),
            );
        }
        let in_resource = |e: Error| e.in_resource(&r.logical_id, r.line);
        match r.kind.as_str() {
            FUNCTION => {
                let (props, mut extras) =
                    function_extras(&ctx, r, &props, &mut problems, &mut grants)
                        .map_err(in_resource)?;
                not_deployed_list.append(&mut extras.events);
                let mut methods = Vec::new();
                let (mut spec, routes) = function(
                    &ctx,
                    r,
                    &props,
                    inputs,
                    &names,
                    &mut problems,
                    &apis,
                    (&rest_apis, &mut methods),
                )
                .map_err(in_resource)?;
                let extras_hash = extras.apply(&mut spec);
                let routes = to_alias(routes, &spec);
                let methods = methods_to_alias(methods, &spec);
                for (api, route) in routes {
                    if let Some(entry) = apis.get_mut(&api) {
                        entry.2.push(route);
                    }
                }
                for (api, method) in methods {
                    if let Some(entry) = rest_apis.get_mut(&api) {
                        entry.2.push(method);
                    }
                }
                // No layers hash as before layers existed: unchanged stacks stay unchanged.
                let mut hashed = spec.config.clone();
                if hashed.get("Layers") == Some(&json!([])) {
                    hashed.remove("Layers");
                }
                let hash = hash_json(&json!({
                    "config": hashed,
                    "architectures": spec.architectures,
                    "tags": spec.tags,
                    "policies": spec.policies,
                }));
                let hash = match extras_hash {
                    Some(h) => hash_json(&json!([hash, h])),
                    None => hash,
                };
                desired.push(Desired {
                    logical_id: r.logical_id.clone(),
                    line: r.line,
                    resource_type: r.kind.clone(),
                    spec: Spec::Function(spec),
                    hash,
                    replace_hash: String::new(),
                });
            }
            SIMPLE_TABLE | TABLE => {
                let spec = table(&ctx, r, &props, &names, &mut problems).map_err(in_resource)?;
                let hash =
                    hash_json(&json!({"create": spec.create, "tags": spec.tags, "ttl": spec.ttl}));
                desired.push(Desired {
                    logical_id: r.logical_id.clone(),
                    line: r.line,
                    resource_type: r.kind.clone(),
                    spec: Spec::Table(spec),
                    hash,
                    replace_hash: table_replace_hash(&ctx, r, &globals)?,
                });
            }
            HTTP_API | REST_API | CONNECTOR => {}
            SERVERLESS_LAYER | LAMBDA_LAYER => {
                let spec = layer(&ctx, r, &props, inputs, &mut problems).map_err(in_resource)?;
                layers.push(spec);
            }
            other => not_deployed_list.push(NotDeployed {
                logical_id: r.logical_id.clone(),
                line: r.line,
                resource_type: other.to_owned(),
                reference: ctx
                    .placeholders
                    .get(&r.logical_id)
                    .map(|p| p.reference())
                    .unwrap_or_default(),
            }),
        }
    }
    for (logical_id, (line, resource, mut routes)) in apis {
        let spec = match resource {
            Some(r) => {
                let props = match globals.get(HTTP_API) {
                    Some(g) => merge(g, &r.properties),
                    None => r.properties.clone(),
                };
                let props = http_api_accepted(r, &props, &mut problems);
                http_api(&ctx, r, &props, inputs, &mut problems)
                    .map_err(|e| e.in_resource(&r.logical_id, r.line))?
            }
            None => {
                let props = globals
                    .get(HTTP_API)
                    .cloned()
                    .unwrap_or_else(|| Node::new(0, Value::Map(Vec::new())));
                let implicit = Resource {
                    logical_id: logical_id.clone(),
                    line: props.line,
                    kind: HTTP_API.to_owned(),
                    properties: props.clone(),
                    condition: None,
                    metadata: None,
                    unsupported_attributes: Vec::new(),
                };
                let props = http_api_accepted(&implicit, &props, &mut problems);
                http_api(&ctx, &implicit, &props, inputs, &mut problems)?
            }
        };
        routes.sort();
        if let Some(w) = routes.windows(2).find(|w| w[0].route_key == w[1].route_key) {
            return Err(Error::Resource {
                logical_id: w[1].function.clone(),
                line: None,
                message: format!(
                    "route {:?} of {logical_id} is defined twice",
                    w[1].route_key
                ),
            });
        }
        let (spec, auth) = spec;
        resolve_route_auth(&logical_id, &spec.authorizers, &auth, &mut routes)?;
        let spec = ApiSpec { routes, ..spec };
        let mut hashed = json!({
            "name": spec.name,
            "description": spec.description,
            "cors": spec.cors,
            "stage": spec.stage,
            "tags": spec.tags,
            // Authorization only when set, so that stacks deployed before it count as unchanged.
            "routes": spec.routes.iter().map(|r| {
                let mut fields = vec![json!(r.route_key), json!(r.function_arn), json!(r.payload_format_version), json!(r.timeout_ms)];
                if r.authorization_type != "NONE" {
                    fields.extend([json!(r.authorization_type), json!(r.authorizer), json!(r.scopes)]);
                }
                fields
            }).collect::<Vec<_>>(),
        });
        if !spec.authorizers.is_empty() {
            hashed["authorizers"] = spec
                .authorizers
                .iter()
                .map(|a| json!([a.name, a.body]))
                .collect();
        }
        let hash = hash_json(&hashed);
        desired.push(Desired {
            logical_id,
            line,
            resource_type: HTTP_API.to_owned(),
            spec: Spec::HttpApi(spec),
            hash,
            replace_hash: String::new(),
        });
    }
    for (logical_id, (line, resource, methods)) in rest_apis {
        let implicit;
        let (r, props) = match resource {
            Some(r) => (
                r,
                match globals.get(REST_API) {
                    Some(g) => merge(g, &r.properties),
                    None => r.properties.clone(),
                },
            ),
            None => {
                let props = globals
                    .get(REST_API)
                    .cloned()
                    .unwrap_or_else(|| Node::new(0, Value::Map(Vec::new())));
                implicit = Resource {
                    logical_id: logical_id.clone(),
                    line: props.line,
                    kind: REST_API.to_owned(),
                    properties: props.clone(),
                    condition: None,
                    unsupported_attributes: Vec::new(),
                    metadata: None,
                };
                (&implicit, props)
            }
        };
        let spec = rest_api(&ctx, r, &props, inputs, methods, &mut problems)
            .map_err(|e| e.in_resource(&r.logical_id, r.line))?;
        let hash = hash_json(&json!({
            "name": spec.name,
            "description": spec.description,
            "stages": spec.stages,
            "variables": spec.variables,
            "binary": spec.binary_media_types,
            "endpoint": spec.endpoint_type,
            "cors": spec.cors.as_ref().map(|c| json!([c.allow_origin, c.allow_headers, c.allow_methods, c.max_age, c.allow_credentials])),
            "tags": spec.tags,
            // The authorization only when set, so that stacks deployed before it count as unchanged.
            "methods": spec.methods.iter().map(|m| {
                let mut fields = vec![json!(m.path), json!(m.method), json!(m.function_arn), json!(m.timeout_ms)];
                if m.authorization_type != "NONE" {
                    fields.push(json!(m.authorization_type));
                }
                fields
            }).collect::<Vec<_>>(),
        }));
        desired.push(Desired {
            logical_id,
            line,
            resource_type: REST_API.to_owned(),
            spec: Spec::RestApi(spec),
            hash,
            replace_hash: String::new(),
        });
    }
    if !problems.unsupported.is_empty() {
        return Err(Error::Unsupported(problems.unsupported));
    }

    let mut outputs = Vec::new();
    for o in &template.outputs {
        let included = match &o.condition {
            Some(c) => ctx.condition(&o.value, c)?,
            None => true,
        };
        if included {
            outputs.push(o.clone());
        }
    }
    // Outputs are evaluated after the deploy, when the APIs' ids are known; check them now,
    // with stand-ins for those ids, so that a broken output stops the deploy before it starts.
    let mut check = ctx.clone();
    for value in check.refs.values_mut().chain(check.attributes.values_mut()) {
        if value.as_str() == Some(PENDING) {
            *value = json!("id");
        }
    }
    for o in &outputs {
        check
            .value(&o.value)
            .map_err(|e| output_error(&o.name, e))?;
    }
    desired.sort_by_key(|d| d.kind());
    Ok(Resolved {
        resources: desired,
        not_deployed: not_deployed_list,
        layers,
        warnings: problems.warnings,
        context: ctx,
        outputs,
        region: inputs.region.to_owned(),
    })
}

fn role_arn(inputs: &Inputs<'_>, logical_id: &str) -> String {
    let name: String = format!("{}-{logical_id}Role", inputs.stack)
        .chars()
        .take(64)
        .collect();
    format!("arn:aws:iam::{}:role/{name}", inputs.account)
}

/// Parameter values: defaults, overrides, checks; then the pseudo parameters.
fn parameters(template: &Template, inputs: &Inputs<'_>, ctx: &mut Context) -> Result<()> {
    for name in inputs.overrides.keys() {
        if !template.parameters.iter().any(|p| &p.name == name) {
            return Err(Error::template(
                None,
                format!("--parameter-overrides names {name}, which the template does not declare"),
            ));
        }
    }
    for p in &template.parameters {
        let value = inputs
            .overrides
            .get(&p.name)
            .cloned()
            .or_else(|| p.default.clone())
            .ok_or_else(|| {
                Error::template(
                    Some(p.line),
                    format!(
                        "parameter {} has no Default: give it with --parameter-overrides {}=VALUE",
                        p.name, p.name
                    ),
                )
            })?;
        if !p.allowed_values.is_empty() && !p.allowed_values.contains(&value) {
            return Err(Error::template(
                Some(p.line),
                format!(
                    "parameter {} is {value:?}, not one of its AllowedValues {:?}",
                    p.name, p.allowed_values
                ),
            ));
        }
        check_parameter(p, &value)?;
        let json = match p.kind.as_str() {
            "Number" => {
                value.parse::<f64>().map_err(|_| {
                    Error::template(
                        Some(p.line),
                        format!("parameter {} must be a Number, not {value:?}", p.name),
                    )
                })?;
                json!(value)
            }
            k if k == "CommaDelimitedList" || k.starts_with("List<") => {
                json!(value.split(',').map(str::trim).collect::<Vec<_>>())
            }
            _ => json!(value),
        };
        ctx.parameters.insert(p.name.clone(), json);
    }
    let pseudo = [
        ("AWS::Region", json!(inputs.region)),
        ("AWS::AccountId", json!(inputs.account)),
        ("AWS::StackName", json!(inputs.stack)),
        (
            "AWS::StackId",
            json!(format!(
                "arn:aws:cloudformation:{}:{}:stack/{}/nimbus",
                inputs.region, inputs.account, inputs.stack
            )),
        ),
        ("AWS::Partition", json!("aws")),
        ("AWS::URLSuffix", json!("amazonaws.com")),
        ("AWS::NotificationARNs", json!([])),
    ];
    for (k, v) in pseudo {
        ctx.parameters.insert(k.to_owned(), v);
    }
    Ok(())
}

/// A parameter value against the parameter's `Type`, `MinLength`/`MaxLength` and
/// `MinValue`/`MaxValue`, as CloudFormation checks them before it creates anything.
fn check_parameter(p: &Parameter, value: &str) -> Result<()> {
    let fail = |message: String| Err(Error::template(Some(p.line), message));
    let name = &p.name;
    if p.kind.starts_with("AWS::SSM::Parameter::") {
        return fail(format!(
            "parameter {name}: type {} reads Systems Manager, which Nimbus does not run; use String",
            p.kind
        ));
    }
    let length = value.chars().count();
    if let Some(min) = p.min_length
        && length < min
    {
        return fail(format!(
            "parameter {name} is {value:?}, shorter than its MinLength {min}"
        ));
    }
    if let Some(max) = p.max_length
        && length > max
    {
        return fail(format!(
            "parameter {name} is {value:?}, longer than its MaxLength {max}"
        ));
    }
    let numbers: Vec<&str> = match p.kind.as_str() {
        "Number" => vec![value],
        "List<Number>" => value.split(',').map(str::trim).collect(),
        _ => return Ok(()),
    };
    for n in numbers {
        let Ok(v) = n.parse::<f64>() else {
            return fail(format!(
                "parameter {name} must be a {}, not {value:?}",
                p.kind
            ));
        };
        if p.min_value.is_some_and(|min| v < min) || p.max_value.is_some_and(|max| v > max) {
            return fail(format!(
                "parameter {name} is {n}, outside its MinValue/MaxValue {}..{}",
                p.min_value.map_or("".into(), |m| m.to_string()),
                p.max_value.map_or("".into(), |m| m.to_string()),
            ));
        }
    }
    Ok(())
}

fn globals(template: &Template) -> Result<BTreeMap<&'static str, Node>> {
    let mut out = BTreeMap::new();
    let Some(section) = &template.globals else {
        return Ok(out);
    };
    let entries = section
        .as_map()
        .ok_or_else(|| Error::template(Some(section.line), "Globals must be a map"))?;
    for (key, node) in entries {
        let kind = match key.as_str() {
            "Function" => FUNCTION,
            "HttpApi" => HTTP_API,
            "SimpleTable" => SIMPLE_TABLE,
            "Api" => "AWS::Serverless::Api",
            other => {
                return Err(Error::template(
                    Some(node.line),
                    format!(
                        "Globals section {other} is not supported (Function, HttpApi, SimpleTable, Api)"
                    ),
                ));
            }
        };
        check_globals(key, node)?;
        out.insert(kind, node.clone());
    }
    Ok(out)
}

/// The properties SAM allows in each `Globals` section (SAM's Globals documentation); a
/// property outside the list is an error there, as `sam validate` makes it.
fn globals_allowed(section: &str) -> &'static [&'static str] {
    match section {
        "Function" => &[
            "Handler",
            "Runtime",
            "CodeUri",
            "DeadLetterQueue",
            "Description",
            "MemorySize",
            "Timeout",
            "VpcConfig",
            "Environment",
            "Tags",
            "PropagateTags",
            "Tracing",
            "KmsKeyArn",
            "Layers",
            "AutoPublishAlias",
            "AutoPublishAliasAllProperties",
            "DeploymentPreference",
            "PermissionsBoundary",
            "ReservedConcurrentExecutions",
            "ProvisionedConcurrencyConfig",
            "AssumeRolePolicyDocument",
            "EventInvokeConfig",
            "Architectures",
            "EphemeralStorage",
            "SnapStart",
            "RuntimeManagementConfig",
            "LoggingConfig",
            "RecursiveLoop",
            "SourceKMSKeyArn",
            "FunctionUrlConfig",
        ],
        "HttpApi" => &[
            "Auth",
            "AccessLogSettings",
            "CorsConfiguration",
            "DefaultRouteSettings",
            "Domain",
            "FailOnWarnings",
            "PropagateTags",
            "RouteSettings",
            "StageVariables",
            "Tags",
        ],
        "SimpleTable" => &["SSESpecification"],
        "Api" => &[
            "AccessLogSetting",
            "AlwaysDeploy",
            "Auth",
            "BinaryMediaTypes",
            "CacheClusterEnabled",
            "CacheClusterSize",
            "CanarySetting",
            "Cors",
            "DefinitionUri",
            "Domain",
            "EndpointConfiguration",
            "GatewayResponses",
            "MergeDefinitions",
            "MethodSettings",
            "MinimumCompressionSize",
            "Name",
            "OpenApiVersion",
            "PropagateTags",
            "TracingEnabled",
            "Variables",
        ],
        _ => &[],
    }
}

fn check_globals(section: &str, node: &Node) -> Result<()> {
    let entries = node.as_map().ok_or_else(|| {
        Error::template(Some(node.line), format!("Globals.{section} must be a map"))
    })?;
    let allowed = globals_allowed(section);
    for (key, value) in entries {
        if !allowed.contains(&key.as_str()) {
            return Err(Error::template(
                Some(value.line),
                format!("Globals.{section}.{key} is not a property SAM allows in Globals"),
            ));
        }
    }
    Ok(())
}

fn resource_error(r: &Resource, line: usize, message: impl Into<String>) -> Error {
    Error::Resource {
        logical_id: r.logical_id.clone(),
        line: Some(line),
        message: message.into(),
    }
}

/// Evaluates an optional property.
fn opt(ctx: &Context, props: &Node, key: &str) -> Result<Option<Json>> {
    match props.get(key) {
        Some(n) => ctx.eval(n),
        None => Ok(None),
    }
}

fn string_map(r: &Resource, node: &Node, value: Json) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    match value {
        Json::Object(map) => {
            for (k, v) in map {
                let v = match v {
                    Json::String(s) => s,
                    Json::Number(_) | Json::Bool(_) => v.to_string(),
                    other => {
                        return Err(resource_error(
                            r,
                            node.line,
                            format!("{k} must be a string, not {other}"),
                        ));
                    }
                };
                out.insert(k, v);
            }
        }
        // CloudFormation's list form: [{Key, Value}].
        Json::Array(items) => {
            for item in items {
                match (item["Key"].as_str(), &item["Value"]) {
                    (Some(k), Json::String(v)) => {
                        out.insert(k.to_owned(), v.clone());
                    }
                    _ => {
                        return Err(resource_error(
                            r,
                            node.line,
                            "tags must be a map or a list of {Key, Value}",
                        ));
                    }
                }
            }
        }
        other => {
            return Err(resource_error(
                r,
                node.line,
                format!("expected a map, not {other}"),
            ));
        }
    }
    Ok(out)
}

fn integer(r: &Resource, props: &Node, key: &str, value: Json) -> Result<i64> {
    let line = props.get(key).map_or(props.line, |n| n.line);
    match &value {
        Json::Number(n) => n.as_i64(),
        Json::String(s) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| resource_error(r, line, format!("{key} must be an integer, not {value}")))
}

type Apis<'a> = BTreeMap<String, (usize, Option<&'a Resource>, Vec<RouteSpec>)>;
type RestApis<'a> = BTreeMap<String, (usize, Option<&'a Resource>, Vec<MethodSpec>)>;

const FUNCTION_PROPERTIES: &[&str] = &[
    "Handler",
    "Runtime",
    "CodeUri",
    "InlineCode",
    "MemorySize",
    "Timeout",
    "Environment",
    "Description",
    "FunctionName",
    "Architectures",
    "Tags",
    "EphemeralStorage",
    "Events",
    "Policies",
    "Role",
    "Tracing",
    "PackageType",
    "Layers",
];

#[allow(clippy::too_many_arguments)]
fn function(
    ctx: &Context,
    r: &Resource,
    props: &Node,
    inputs: &Inputs<'_>,
    names: &BTreeMap<String, String>,
    problems: &mut Problems,
    apis: &Apis<'_>,
    (rest_apis, rest_methods): (&RestApis<'_>, &mut Vec<(String, MethodSpec)>),
) -> Result<(FunctionSpec, Vec<(String, RouteSpec)>)> {
    problems.check_properties(r, props, FUNCTION_PROPERTIES, "");
    let id = &r.logical_id;
    if let Some(p) = opt(ctx, props, "PackageType")?
        && p != json!("Zip")
    {
        problems.unsupported(
            id,
            r.line,
            format!("PackageType {p} is not supported (Zip only)"),
        );
    }
    let handler = opt(ctx, props, "Handler")?
        .ok_or_else(|| resource_error(r, r.line, "the function has no Handler"))?;
    let runtime = opt(ctx, props, "Runtime")?
        .ok_or_else(|| resource_error(r, r.line, "the function has no Runtime"))?;
    let mut config = serde_json::Map::new();
    config.insert("Handler".into(), handler);
    config.insert("Runtime".into(), runtime.clone());
    for key in ["MemorySize", "Timeout"] {
        if let Some(v) = opt(ctx, props, key)? {
            config.insert(key.into(), json!(integer(r, props, key, v)?));
        }
    }
    if let Some(v) = opt(ctx, props, "Description")? {
        config.insert("Description".into(), v);
    }
    let role = match opt(ctx, props, "Role")? {
        Some(Json::String(role)) => role,
        Some(other) => {
            return Err(resource_error(
                r,
                r.line,
                format!("Role must be an ARN, not {other}"),
            ));
        }
        None => role_arn(inputs, id),
    };
    config.insert("Role".into(), json!(role));
    if let Some(node) = props.get("Environment") {
        let env = ctx.value(node)?;
        let vars = match env.get("Variables") {
            Some(v) => string_map(r, node, v.clone())?,
            None => BTreeMap::new(),
        };
        if env
            .as_object()
            .is_some_and(|m| m.keys().any(|k| k != "Variables"))
        {
            problems.unsupported(id, node.line, "Environment takes only Variables".into());
        }
        config.insert("Environment".into(), json!({ "Variables": vars }));
    }
    if let Some(v) = opt(ctx, props, "EphemeralStorage")? {
        config.insert("EphemeralStorage".into(), v);
    }
    if let Some(v) = opt(ctx, props, "Layers")? {
        if !v.as_array().is_some_and(|l| l.iter().all(Json::is_string)) {
            return Err(resource_error(
                r,
                r.line,
                format!("Layers must be a list of layer version ARNs, not {v}"),
            ));
        }
        config.insert("Layers".into(), v);
    }
    // Lambda's defaults, written out so that removing a property from the template resets it.
    for (key, default) in [
        ("MemorySize", json!(128)),
        ("Timeout", json!(3)),
        ("Description", json!("")),
        ("Environment", json!({"Variables": {}})),
        ("EphemeralStorage", json!({"Size": 512})),
        ("Layers", json!([])),
    ] {
        config.entry(key).or_insert(default);
    }
    let architectures = match opt(ctx, props, "Architectures")? {
        Some(Json::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| resource_error(r, r.line, "Architectures must be a list of strings"))?,
        Some(other) => {
            return Err(resource_error(
                r,
                r.line,
                format!("Architectures must be a list, not {other}"),
            ));
        }
        None => Vec::new(),
    };
    let tags = match props.get("Tags") {
        Some(node) => string_map(r, node, ctx.value(node)?)?,
        None => BTreeMap::new(),
    };

    let code = match (props.get("CodeUri"), props.get("InlineCode")) {
        (Some(node), None) => match ctx.value(node)? {
            Json::String(path) => {
                let full: PathBuf = inputs.template_dir.join(&path);
                if full.is_dir() {
                    CodeSource::Dir(full)
                } else if full.is_file() {
                    CodeSource::Zip(full)
                } else {
                    return Err(resource_error(
                        r,
                        node.line,
                        format!(
                            "CodeUri {path:?} is neither a folder nor a zip file ({})",
                            full.display()
                        ),
                    ));
                }
            }
            other => {
                problems.unsupported(
                    id,
                    node.line,
                    format!("CodeUri {other} is not supported: use a local folder or zip file"),
                );
                CodeSource::Inline {
                    file_name: String::new(),
                    text: String::new(),
                }
            }
        },
        (None, Some(node)) => {
            let text = ctx.string(node)?;
            let runtime = runtime.as_str().unwrap_or("");
            let file_name = if runtime.starts_with("nodejs") {
                "index.js"
            } else {
                "index.py"
            };
            CodeSource::Inline {
                file_name: file_name.to_owned(),
                text,
            }
        }
        (Some(_), Some(node)) => {
            return Err(resource_error(
                r,
                node.line,
                "CodeUri and InlineCode cannot be used together",
            ));
        }
        // As `sam build`: no CodeUri means the template's folder.
        (None, None) => CodeSource::Dir(inputs.template_dir.to_owned()),
    };

    let mut policies = Vec::new();
    if let Some(node) = props.get("Policies") {
        let items = match ctx.value(node)? {
            Json::Array(items) => items,
            single => vec![single],
        };
        for p in items {
            policies.push(match p {
                Json::String(s) => s,
                Json::Object(m) if m.len() == 1 && !m.contains_key("Statement") => {
                    let (name, args) = m
                        .iter()
                        .next()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .unwrap_or_default();
                    let args = args
                        .as_object()
                        .map(|a| {
                            a.iter()
                                .map(|(k, v)| {
                                    format!(
                                        "{k}={}",
                                        v.as_str().map_or(v.to_string(), str::to_owned)
                                    )
                                })
                                .collect::<Vec<_>>()
                                .join(",")
                        })
                        .unwrap_or_default();
                    format!("{name}({args})")
                }
                other => format!("policy document {}", hash_json(&other)),
            });
        }
    }

    let mut routes = Vec::new();
    if let Some(events) = props.get("Events") {
        let entries = events
            .as_map()
            .ok_or_else(|| resource_error(r, events.line, "Events must be a map"))?;
        for (name, event) in entries {
            let kind = event.get("Type").and_then(Node::as_str).unwrap_or("");
            let ep = event
                .get("Properties")
                .cloned()
                .unwrap_or_else(|| Node::new(event.line, Value::Map(Vec::new())));
            match kind {
                "HttpApi" => {
                    problems.check_properties(
                        r,
                        &ep,
                        &[
                            "Path",
                            "Method",
                            "ApiId",
                            "PayloadFormatVersion",
                            "TimeoutInMillis",
                            "Auth",
                        ],
                        " (in an HttpApi event)",
                    );
                    let (authorizer, scopes) = http_event_auth(ctx, r, name, &ep, problems)?;
                    let api = event_api(
                        r,
                        name,
                        event,
                        &ep,
                        ("ApiId", IMPLICIT_HTTP_API, HTTP_API),
                        apis,
                    )?;
                    let path = opt(ctx, &ep, "Path")?;
                    let method = opt(ctx, &ep, "Method")?;
                    let route_key = match (path, method) {
                        (None, None) => "$default".to_owned(),
                        (Some(Json::String(p)), m) => {
                            let m = m
                                .and_then(|m| m.as_str().map(str::to_uppercase))
                                .unwrap_or_else(|| "ANY".into());
                            let m = if m == "X-AMAZON-APIGATEWAY-ANY-METHOD" {
                                "ANY".into()
                            } else {
                                m
                            };
                            format!("{m} {p}")
                        }
                        _ => {
                            return Err(resource_error(
                                r,
                                event.line,
                                format!(
                                    "event {name}: an HttpApi event needs a Path (or neither Path nor Method)"
                                ),
                            ));
                        }
                    };
                    let payload_format_version = match opt(ctx, &ep, "PayloadFormatVersion")? {
                        Some(Json::String(v)) => v,
                        Some(v) => v.to_string(),
                        None => "2.0".to_owned(),
                    };
                    let timeout_ms = match opt(ctx, &ep, "TimeoutInMillis")? {
                        Some(v) => integer(r, &ep, "TimeoutInMillis", v)? as u64,
                        None => 30_000,
                    };
                    let fn_name = names.get(id).cloned().unwrap_or_default();
                    routes.push((
                        api,
                        RouteSpec {
                            route_key,
                            function: id.clone(),
                            function_arn: format!(
                                "arn:aws:lambda:{}:{}:function:{fn_name}",
                                inputs.region, inputs.account
                            ),
                            payload_format_version,
                            timeout_ms,
                            // Resolved against the API's `Auth` by `resolve_route_auth`.
                            authorization_type: String::new(),
                            authorizer,
                            scopes,
                        },
                    ));
                }
                "Api" => {
                    let method = rest_event(ctx, r, name, event, &ep, rest_apis, problems)?;
                    let fn_name = names.get(id).cloned().unwrap_or_default();
                    let (api, path, verb, timeout_ms, authorizer) = method;
                    rest_methods.push((
                        api,
                        MethodSpec {
                            path,
                            method: verb,
                            function: id.clone(),
                            function_arn: format!(
                                "arn:aws:lambda:{}:{}:function:{fn_name}",
                                inputs.region, inputs.account
                            ),
                            timeout_ms,
                            // Empty: the API's `DefaultAuthorizer`, set by `rest_api`.
                            authorization_type: authorizer.unwrap_or_default(),
                        },
                    ));
                }
                "" => {
                    return Err(resource_error(
                        r,
                        event.line,
                        format!("event {name} has no Type"),
                    ));
                }
                other => problems.unsupported(
                    id,
                    event.line,
                    format!("event {name} of type {other} is not supported (HttpApi and Api only)"),
                ),
            }
        }
    }
    let mut metadata = r.metadata.as_ref().map(|m| ctx.value(m)).transpose()?;
    crate::build::link_sourcemap(metadata.as_mut(), &mut config);
    Ok((
        FunctionSpec {
            name: names.get(id).cloned().unwrap_or_default(),
            config,
            architectures,
            code,
            tags,
            policies,
            metadata,
            permissions: Vec::new(),
            publish: None,
            reserved_concurrency: None,
            url: None,
            event_invoke: None,
        },
        routes,
    ))
}

const HTTP_API_PROPERTIES: &[&str] = &[
    "Name",
    "StageName",
    "CorsConfiguration",
    "Description",
    "Tags",
    "FailOnWarnings",
    "Auth",
];

/// An HTTP API's `Auth` beside its authorizers: the default for its routes and the scopes
/// each JWT authorizer asks by default.
#[derive(Debug, Default)]
struct HttpAuth {
    /// An authorizer's name, or `AWS_IAM`.
    default: Option<String>,
    scopes: BTreeMap<String, Vec<String>>,
}

/// An `HttpApi` event's `Auth`: the authorizer it names (a name, `NONE` or `AWS_IAM`) and its
/// `AuthorizationScopes`.
fn http_event_auth(
    ctx: &Context,
    r: &Resource,
    name: &str,
    ep: &Node,
    problems: &mut Problems,
) -> Result<(Option<String>, Vec<String>)> {
    let Some(auth) = opt(ctx, ep, "Auth")? else {
        return Ok((None, Vec::new()));
    };
    let line = ep.get("Auth").map_or(ep.line, |n| n.line);
    let Json::Object(map) = auth else {
        return Err(resource_error(
            r,
            line,
            format!("event {name}: Auth must be a map"),
        ));
    };
    let mut authorizer = None;
    let mut scopes = Vec::new();
    for (k, v) in map {
        match k.as_str() {
            "Authorizer" => {
                authorizer = Some(v.as_str().map(str::to_owned).ok_or_else(|| {
                    resource_error(
                        r,
                        line,
                        format!("event {name}: Auth.Authorizer must be a string"),
                    )
                })?);
            }
            "AuthorizationScopes" => scopes = strings(r, line, "Auth.AuthorizationScopes", &v)?,
            other => problems.unsupported(
                &r.logical_id,
                line,
                format!("event {name}: Auth.{other} is not supported"),
            ),
        }
    }
    Ok((authorizer, scopes))
}

/// A list of strings (a single string counts as a list of one).
fn strings(r: &Resource, line: usize, what: &str, v: &Json) -> Result<Vec<String>> {
    match v {
        Json::String(s) => Ok(vec![s.clone()]),
        Json::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| resource_error(r, line, format!("{what} must be a list of strings"))),
        other => Err(resource_error(
            r,
            line,
            format!("{what} must be a list of strings, not {other}"),
        )),
    }
}

/// An `AWS::Serverless::HttpApi`'s `Auth`: its `Authorizers` as CreateAuthorizer bodies (a JWT
/// authorizer for `JwtConfiguration`, a Lambda `REQUEST` authorizer for `FunctionArn`), its
/// `DefaultAuthorizer`. What Nimbus cannot enforce is refused, so that no route is left open.
fn http_api_auth(
    ctx: &Context,
    r: &Resource,
    props: &Node,
    inputs: &Inputs<'_>,
    problems: &mut Problems,
) -> Result<(Vec<AuthorizerSpec>, HttpAuth)> {
    let mut authorizers = Vec::new();
    let mut auth = HttpAuth::default();
    let Some(value) = opt(ctx, props, "Auth")? else {
        return Ok((authorizers, auth));
    };
    let line = props.get("Auth").map_or(props.line, |n| n.line);
    let Json::Object(map) = value else {
        return Err(resource_error(r, line, "Auth must be a map"));
    };
    for (k, v) in &map {
        match k.as_str() {
            "DefaultAuthorizer" => {
                auth.default = Some(v.as_str().map(str::to_owned).ok_or_else(|| {
                    resource_error(r, line, "Auth.DefaultAuthorizer must be a string")
                })?);
            }
            "EnableIamAuthorizer" => {}
            "Authorizers" => {
                let Json::Object(defined) = v else {
                    return Err(resource_error(r, line, "Auth.Authorizers must be a map"));
                };
                for (name, a) in defined {
                    let Json::Object(a) = a else {
                        return Err(resource_error(
                            r,
                            line,
                            format!("Auth.Authorizers.{name} must be a map"),
                        ));
                    };
                    let what = format!("Auth.Authorizers.{name}");
                    let body = if let Some(jwt) = a.get("JwtConfiguration") {
                        let field = |lower: &str, upper: &str| {
                            jwt.get(lower).or_else(|| jwt.get(upper)).cloned()
                        };
                        let audience = match field("audience", "Audience") {
                            Some(v) => {
                                strings(r, line, &format!("{what}.JwtConfiguration.audience"), &v)?
                            }
                            None => Vec::new(),
                        };
                        if let Some(scopes) = a.get("AuthorizationScopes") {
                            let scopes =
                                strings(r, line, &format!("{what}.AuthorizationScopes"), scopes)?;
                            auth.scopes.insert(name.clone(), scopes);
                        }
                        json!({
                            "authorizerType": "JWT",
                            "identitySource": [a.get("IdentitySource").and_then(Json::as_str)
                                .unwrap_or("$request.header.Authorization")],
                            "jwtConfiguration": {"issuer": field("issuer", "Issuer"), "audience": audience},
                        })
                    } else if let Some(arn) = a.get("FunctionArn").and_then(Json::as_str) {
                        let version = match a.get("AuthorizerPayloadFormatVersion") {
                            Some(Json::String(v)) => v.clone(),
                            Some(Json::Number(n)) => format!("{:.1}", n.as_f64().unwrap_or(2.0)),
                            _ => {
                                return Err(resource_error(
                                    r,
                                    line,
                                    format!("{what}: AuthorizerPayloadFormatVersion is required"),
                                ));
                            }
                        };
                        let mut sources = Vec::new();
                        let mut ttl = None;
                        if let Some(Json::Object(identity)) = a.get("Identity") {
                            for (key, prefix) in [
                                ("Headers", "$request.header."),
                                ("QueryStrings", "$request.querystring."),
                                ("Context", "$context."),
                                ("StageVariables", "$stageVariables."),
                            ] {
                                if let Some(v) = identity.get(key) {
                                    let names =
                                        strings(r, line, &format!("{what}.Identity.{key}"), v)?;
                                    sources
                                        .extend(names.into_iter().map(|n| format!("{prefix}{n}")));
                                }
                            }
                            ttl = identity.get("ReauthorizeEvery").and_then(Json::as_u64);
                        }
                        // API Gateway caches a verdict for 300 seconds unless told otherwise; without
                        // identity sources there is nothing to key a cache on.
                        let ttl = if sources.is_empty() {
                            0
                        } else {
                            ttl.unwrap_or(300)
                        };
                        json!({
                            "authorizerType": "REQUEST",
                            "identitySource": sources,
                            "authorizerUri": format!(
                                "arn:aws:apigateway:{}:lambda:path/2015-03-31/functions/{arn}/invocations",
                                inputs.region
                            ),
                            "authorizerPayloadFormatVersion": version,
                            "enableSimpleResponses": a.get("EnableSimpleResponses") == Some(&json!(true)),
                            "authorizerResultTtlInSeconds": ttl,
                        })
                    } else {
                        return Err(resource_error(
                            r,
                            line,
                            format!("{what} needs a JwtConfiguration or a FunctionArn"),
                        ));
                    };
                    for key in a.keys() {
                        if ![
                            "JwtConfiguration",
                            "IdentitySource",
                            "AuthorizationScopes",
                            "FunctionArn",
                            "FunctionInvokeRole",
                            "Identity",
                            "AuthorizerPayloadFormatVersion",
                            "EnableSimpleResponses",
                            "EnableFunctionDefaultPermissions",
                        ]
                        .contains(&key.as_str())
                        {
                            problems.unsupported(
                                &r.logical_id,
                                line,
                                format!("{what}.{key} is not supported"),
                            );
                        }
                    }
                    authorizers.push(AuthorizerSpec {
                        name: name.clone(),
                        body,
                    });
                }
            }
            other => problems.unsupported(
                &r.logical_id,
                line,
                format!("Auth.{other} is not supported"),
            ),
        }
    }
    Ok((authorizers, auth))
}

/// Sets each route's authorization from its event's `Auth.Authorizer`, else the API's
/// `DefaultAuthorizer`, else none; an authorizer the API does not define is an error.
fn resolve_route_auth(
    api: &str,
    authorizers: &[AuthorizerSpec],
    auth: &HttpAuth,
    routes: &mut [RouteSpec],
) -> Result<()> {
    for route in routes {
        let named = route.authorizer.take().or_else(|| auth.default.clone());
        match named.as_deref() {
            None | Some("NONE") => route.authorization_type = "NONE".into(),
            Some("AWS_IAM") => route.authorization_type = "AWS_IAM".into(),
            Some(name) => {
                let a = authorizers.iter().find(|a| a.name == name).ok_or_else(|| {
                    Error::Resource {
                        logical_id: route.function.clone(),
                        line: None,
                        message: format!(
                            "route {:?}: {name} is not an authorizer of {api} (Auth.Authorizers)",
                            route.route_key
                        ),
                    }
                })?;
                let jwt = a.body["authorizerType"] == "JWT";
                route.authorization_type = if jwt { "JWT" } else { "CUSTOM" }.into();
                route.authorizer = Some(name.to_owned());
                if jwt && route.scopes.is_empty() {
                    route.scopes = auth.scopes.get(name).cloned().unwrap_or_default();
                }
            }
        }
    }
    Ok(())
}

const SERVERLESS_LAYER_PROPERTIES: &[&str] = &[
    "ContentUri",
    "LayerName",
    "Description",
    "CompatibleRuntimes",
    "CompatibleArchitectures",
    "LicenseInfo",
    "RetentionPolicy",
];
const LAMBDA_LAYER_PROPERTIES: &[&str] = &[
    "Content",
    "LayerName",
    "Description",
    "CompatibleRuntimes",
    "CompatibleArchitectures",
    "LicenseInfo",
];

/// A layer: `AWS::Serverless::LayerVersion` (`ContentUri`, a folder or zip) or
/// `AWS::Lambda::LayerVersion` (`Content`, a local path as `aws cloudformation package` takes).
fn layer(
    ctx: &Context,
    r: &Resource,
    props: &Node,
    inputs: &Inputs<'_>,
    problems: &mut Problems,
) -> Result<LayerSpec> {
    let serverless = r.kind == SERVERLESS_LAYER;
    let (known, content_key) = if serverless {
        (SERVERLESS_LAYER_PROPERTIES, "ContentUri")
    } else {
        (LAMBDA_LAYER_PROPERTIES, "Content")
    };
    problems.check_properties(r, props, known, "");
    let delete_superseded = match opt(ctx, props, "RetentionPolicy")? {
        None => false,
        Some(policy) => match policy.as_str() {
            Some("Retain") => false,
            Some("Delete") => true,
            _ => {
                return Err(resource_error(
                    r,
                    r.line,
                    format!("RetentionPolicy must be Retain or Delete, not {policy}"),
                ));
            }
        },
    };
    let node = props
        .get(content_key)
        .ok_or_else(|| resource_error(r, r.line, format!("the layer has no {content_key}")))?;
    let code = match ctx.value(node)? {
        Json::String(path) => {
            let full: PathBuf = inputs.template_dir.join(&path);
            if full.is_dir() {
                CodeSource::Dir(full)
            } else if full.is_file() {
                CodeSource::Zip(full)
            } else {
                return Err(resource_error(
                    r,
                    node.line,
                    format!(
                        "{content_key} {path:?} is neither a folder nor a zip file ({})",
                        full.display()
                    ),
                ));
            }
        }
        other => {
            problems.unsupported(
                &r.logical_id,
                node.line,
                format!("{content_key} {other} is not supported: use a local folder or zip file"),
            );
            CodeSource::Zip(PathBuf::new())
        }
    };
    let strings = |key: &str| -> Result<Vec<String>> {
        match opt(ctx, props, key)? {
            None => Ok(Vec::new()),
            Some(Json::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    resource_error(r, r.line, format!("{key} must be a list of strings"))
                }),
            Some(other) => Err(resource_error(
                r,
                r.line,
                format!("{key} must be a list, not {other}"),
            )),
        }
    };
    let text = |key: &str| -> Result<Option<String>> {
        match opt(ctx, props, key)? {
            None => Ok(None),
            Some(Json::String(s)) => Ok(Some(s)),
            Some(other) => Err(resource_error(
                r,
                r.line,
                format!("{key} must be a string, not {other}"),
            )),
        }
    };
    let name = match text("LayerName")? {
        Some(name) => name,
        None => format!("{}-{}", inputs.stack, r.logical_id)
            .chars()
            .take(140)
            .collect(),
    };
    Ok(LayerSpec {
        logical_id: r.logical_id.clone(),
        line: r.line,
        name,
        code,
        description: text("Description")?.unwrap_or_default(),
        compatible_runtimes: strings("CompatibleRuntimes")?,
        compatible_architectures: strings("CompatibleArchitectures")?,
        license_info: text("LicenseInfo")?,
        delete_superseded,
        metadata: r.metadata.as_ref().map(|m| ctx.value(m)).transpose()?,
    })
}

fn http_api(
    ctx: &Context,
    r: &Resource,
    props: &Node,
    inputs: &Inputs<'_>,
    problems: &mut Problems,
) -> Result<(ApiSpec, HttpAuth)> {
    problems.check_properties(r, props, HTTP_API_PROPERTIES, "");
    let (authorizers, auth) = http_api_auth(ctx, r, props, inputs, problems)?;
    let name = match opt(ctx, props, "Name")? {
        Some(Json::String(n)) => n,
        _ => inputs.stack.to_owned(),
    };
    let stage = match opt(ctx, props, "StageName")? {
        Some(Json::String(s)) => s,
        _ => "$default".to_owned(),
    };
    let cors = match opt(ctx, props, "CorsConfiguration")? {
        None | Some(Json::Bool(false)) => None,
        Some(Json::Bool(true)) => Some(json!({
            "allowOrigins": ["*"], "allowHeaders": ["*"], "allowMethods": ["*"]
        })),
        Some(Json::String(origin)) => Some(json!({
            "allowOrigins": [origin.trim_matches('\'')], "allowHeaders": ["*"], "allowMethods": ["*"]
        })),
        Some(Json::Object(m)) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                let key = match k.as_str() {
                    "AllowOrigins" => "allowOrigins",
                    "AllowHeaders" => "allowHeaders",
                    "AllowMethods" => "allowMethods",
                    "ExposeHeaders" => "exposeHeaders",
                    "AllowCredentials" => "allowCredentials",
                    "MaxAge" => "maxAge",
                    other => {
                        problems.unsupported(
                            &r.logical_id,
                            props.line,
                            format!("CorsConfiguration.{other} is not supported"),
                        );
                        continue;
                    }
                };
                out.insert(key.to_owned(), v);
            }
            Some(Json::Object(out))
        }
        Some(other) => {
            return Err(resource_error(
                r,
                props.line,
                format!("CorsConfiguration must be a boolean or a map, not {other}"),
            ));
        }
    };
    let tags = match props.get("Tags") {
        Some(node) => string_map(r, node, ctx.value(node)?)?,
        None => BTreeMap::new(),
    };
    let spec = ApiSpec {
        name,
        description: opt(ctx, props, "Description")?.and_then(|d| d.as_str().map(str::to_owned)),
        cors,
        routes: Vec::new(),
        stage,
        tags,
        authorizers,
    };
    Ok((spec, auth))
}

/// A REST API's id (`Ref`) and `RootResourceId` before and after it exists.
fn rest_api_refs(ctx: &mut Context, id: &str, existing: Option<&Actual>) {
    let value = existing.map_or(json!(PENDING), |a| json!(a.physical));
    ctx.refs.insert(id.to_owned(), value);
    ctx.attributes
        .insert((id.to_owned(), "RootResourceId".into()), json!(PENDING));
}

/// The logical id of the API an event attaches to: `!Ref` of its `key` property (`ApiId`,
/// `RestApiId`), or the `implicit` API when it has none; `api_type` is the resource type
/// that `key` must refer to, and `apis` the APIs of that type in the template.
fn event_api<V>(
    r: &Resource,
    name: &str,
    event: &Node,
    ep: &Node,
    (key, implicit, api_type): (&str, &str, &str),
    apis: &BTreeMap<String, V>,
) -> Result<String> {
    let api = match ep.get(key) {
        None => implicit.to_owned(),
        Some(node) => match intrinsic(node) {
            Some(("Ref", target)) => target.as_str().unwrap_or("").to_owned(),
            _ => {
                return Err(resource_error(
                    r,
                    node.line,
                    format!("event {name}: {key} must be !Ref of an {api_type} of this template"),
                ));
            }
        },
    };
    if !apis.contains_key(&api) {
        return Err(resource_error(
            r,
            event.line,
            format!("event {name}: {api} is not an {api_type} of this template"),
        ));
    }
    Ok(api)
}

/// An `Api` event: the API it goes to, its path, its method (upper case, `ANY` for SAM's
/// `any`) and the integration timeout.
fn rest_event(
    ctx: &Context,
    r: &Resource,
    name: &str,
    event: &Node,
    ep: &Node,
    rest_apis: &RestApis<'_>,
    problems: &mut Problems,
) -> Result<(String, String, String, u64, Option<String>)> {
    problems.check_properties(
        r,
        ep,
        &[
            "Path",
            "Method",
            "RestApiId",
            "Auth",
            "RequestParameters",
            "RequestModel",
            "TimeoutInMillis",
        ],
        " (in an Api event)",
    );
    let api = event_api(
        r,
        name,
        event,
        ep,
        ("RestApiId", IMPLICIT_REST_API, REST_API),
        rest_apis,
    )?;
    let (Some(Json::String(path)), Some(Json::String(method))) =
        (opt(ctx, ep, "Path")?, opt(ctx, ep, "Method")?)
    else {
        return Err(resource_error(
            r,
            event.line,
            format!("event {name}: an Api event needs a Path and a Method"),
        ));
    };
    let method = match method.to_ascii_uppercase().as_str() {
        "ANY" | "X-AMAZON-APIGATEWAY-ANY-METHOD" => "ANY".to_owned(),
        m @ ("GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS") => m.to_owned(),
        other => {
            return Err(resource_error(
                r,
                event.line,
                format!("event {name}: Method {other} is not an HTTP method"),
            ));
        }
    };
    if !path.starts_with('/') {
        return Err(resource_error(
            r,
            event.line,
            format!("event {name}: Path {path} must start with /"),
        ));
    }
    let timeout_ms = match opt(ctx, ep, "TimeoutInMillis")? {
        Some(v) => integer(r, ep, "TimeoutInMillis", v)?.clamp(50, 29_000) as u64,
        None => 29_000,
    };
    let authorizer = match opt(ctx, ep, "Auth")? {
        Some(auth) => auth_authorizer(
            r,
            event.line,
            &format!("event {name}: Auth"),
            &auth,
            "Authorizer",
            problems,
        ),
        None => None,
    };
    let path = match path.trim_end_matches('/') {
        "" => "/".to_owned(),
        p => p.to_owned(),
    };
    Ok((api, path, method, timeout_ms, authorizer))
}

/// The authorization an `Auth` map names under `key` (`DefaultAuthorizer` of an Api,
/// `Authorizer` of an Api event): `AWS_IAM` and `NONE` become the methods' authorization
/// type and are enforced. Anything else (a Lambda or Cognito authorizer, API keys, resource
/// policies) is accepted with a warning and not enforced, as REST API authorizers are not
/// supported.
fn auth_authorizer(
    r: &Resource,
    line: usize,
    what: &str,
    auth: &Json,
    key: &str,
    problems: &mut Problems,
) -> Option<String> {
    let Json::Object(map) = auth else {
        problems.warnings.push(format!(
            "{} (template line {line}): {what} is not a map: accepted but not enforced",
            r.logical_id
        ));
        return None;
    };
    let mut kind = None;
    for (k, v) in map {
        match (k.as_str(), v.as_str()) {
            (k2, Some(name @ ("AWS_IAM" | "NONE"))) if k2 == key => kind = Some(name.to_owned()),
            // Whether the default reaches CORS preflights: Nimbus' preflights are always open.
            ("AddDefaultAuthorizerToCorsPreflight", _) => {}
            _ => problems.warnings.push(format!(
                "{} (template line {line}): {what}.{k} is accepted but not enforced",
                r.logical_id
            )),
        }
    }
    kind
}

const REST_API_PROPERTIES: &[&str] = &[
    "Name",
    "StageName",
    "Description",
    "Cors",
    "BinaryMediaTypes",
    "EndpointConfiguration",
    "Auth",
    "Tags",
    "Variables",
    "OpenApiVersion",
    "TracingEnabled",
    "MethodSettings",
    "AccessLogSetting",
    "CacheClusterEnabled",
    "CacheClusterSize",
    "MinimumCompressionSize",
];

/// An `AWS::Serverless::Api` (or the implicit `ServerlessRestApi`, whose stage is `Prod`).
fn rest_api(
    ctx: &Context,
    r: &Resource,
    props: &Node,
    inputs: &Inputs<'_>,
    mut methods: Vec<MethodSpec>,
    problems: &mut Problems,
) -> Result<RestApiSpec> {
    problems.check_properties(r, props, REST_API_PROPERTIES, "");
    let string = |key: &str| -> Result<Option<String>> {
        Ok(match opt(ctx, props, key)? {
            Some(Json::String(s)) => Some(s),
            Some(Json::Null) | None => None,
            Some(other) => Some(other.to_string()),
        })
    };
    let stage = match string("StageName")? {
        Some(s) => s,
        None if r.logical_id == IMPLICIT_REST_API => "Prod".to_owned(),
        None => {
            return Err(resource_error(
                r,
                r.line,
                "StageName is required for an AWS::Serverless::Api",
            ));
        }
    };
    // SAM's deployment also creates a stage named `Stage`, unless OpenApiVersion is 3.x.
    let openapi3 = string("OpenApiVersion")?.is_some_and(|v| v.starts_with('3'));
    let mut stages = vec![stage.clone()];
    if !openapi3 && stage != "Stage" {
        stages.push("Stage".to_owned());
    }
    let binary_media_types = match opt(ctx, props, "BinaryMediaTypes")? {
        None => Vec::new(),
        Some(Json::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(|s| s.replace("~1", "/")))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| resource_error(r, props.line, "BinaryMediaTypes must be strings"))?,
        Some(other) => {
            return Err(resource_error(
                r,
                props.line,
                format!("BinaryMediaTypes must be a list, not {other}"),
            ));
        }
    };
    let endpoint_type = match opt(ctx, props, "EndpointConfiguration")? {
        None => "EDGE".to_owned(),
        Some(Json::String(t)) => t,
        Some(Json::Object(m)) => m
            .get("Type")
            .and_then(Json::as_str)
            .unwrap_or("EDGE")
            .to_owned(),
        Some(other) => {
            return Err(resource_error(
                r,
                props.line,
                format!("EndpointConfiguration must be a string or a map, not {other}"),
            ));
        }
    };
    let cors = match opt(ctx, props, "Cors")? {
        None => None,
        Some(Json::String(origin)) => Some(RestCors {
            allow_origin: origin,
            ..RestCors::default()
        }),
        Some(Json::Object(m)) => {
            let text = |k: &str| m.get(k).and_then(Json::as_str).map(str::to_owned);
            for k in m.keys() {
                if ![
                    "AllowOrigin",
                    "AllowHeaders",
                    "AllowMethods",
                    "MaxAge",
                    "AllowCredentials",
                ]
                .contains(&k.as_str())
                {
                    problems.unsupported(
                        &r.logical_id,
                        props.line,
                        format!("Cors.{k} is not supported"),
                    );
                }
            }
            Some(RestCors {
                allow_origin: text("AllowOrigin")
                    .ok_or_else(|| resource_error(r, props.line, "Cors needs AllowOrigin"))?,
                allow_headers: text("AllowHeaders"),
                allow_methods: text("AllowMethods"),
                max_age: m.get("MaxAge").map(|v| match v {
                    Json::String(s) => s.clone(),
                    other => format!("'{other}'"),
                }),
                allow_credentials: m.get("AllowCredentials") == Some(&json!(true)),
            })
        }
        Some(other) => {
            return Err(resource_error(
                r,
                props.line,
                format!("Cors must be a string or a map, not {other}"),
            ));
        }
    };
    let default_authorizer = match opt(ctx, props, "Auth")? {
        Some(auth) => auth_authorizer(r, r.line, "Auth", &auth, "DefaultAuthorizer", problems),
        None => None,
    };
    let default_authorizer = default_authorizer.unwrap_or_else(|| "NONE".to_owned());
    for m in &mut methods {
        if m.authorization_type.is_empty() {
            m.authorization_type.clone_from(&default_authorizer);
        }
    }
    let variables = match props.get("Variables") {
        Some(node) => string_map(r, node, ctx.value(node)?)?,
        None => BTreeMap::new(),
    };
    let tags = match props.get("Tags") {
        Some(node) => string_map(r, node, ctx.value(node)?)?,
        None => BTreeMap::new(),
    };
    methods.sort();
    if let Some(w) = methods
        .windows(2)
        .find(|w| (&w[0].path, &w[0].method) == (&w[1].path, &w[1].method))
    {
        return Err(Error::Resource {
            logical_id: w[1].function.clone(),
            line: None,
            message: format!(
                "method {} {} of {} is defined twice",
                w[1].method, w[1].path, r.logical_id
            ),
        });
    }
    Ok(RestApiSpec {
        name: string("Name")?.unwrap_or_else(|| inputs.stack.to_owned()),
        description: string("Description")?,
        stages,
        variables,
        binary_media_types,
        endpoint_type,
        cors,
        methods,
        tags,
    })
}

const SIMPLE_TABLE_PROPERTIES: &[&str] = &[
    "PrimaryKey",
    "ProvisionedThroughput",
    "TableName",
    "Tags",
    "SSESpecification",
    "PointInTimeRecoverySpecification",
];

const TABLE_PROPERTIES: &[&str] = &[
    "TableName",
    "KeySchema",
    "AttributeDefinitions",
    "BillingMode",
    "ProvisionedThroughput",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "StreamSpecification",
    "Tags",
    "TableClass",
    "DeletionProtectionEnabled",
    "SSESpecification",
    "TimeToLiveSpecification",
    "PointInTimeRecoverySpecification",
];

/// CloudFormation's `SSESpecification` of a table as CreateTable takes it: `SSEEnabled` is
/// the API's `Enabled`.
fn sse_specification(sse: Json) -> Json {
    match sse {
        Json::Object(mut m) => {
            if let Some(enabled) = m.remove("SSEEnabled") {
                m.insert("Enabled".into(), enabled);
            }
            Json::Object(m)
        }
        other => other,
    }
}

/// CloudFormation's `StreamSpecification` of a table as CreateTable takes it: the property
/// has only `StreamViewType` (a table with it has a stream), the API also `StreamEnabled`.
fn stream_specification(stream: Json) -> Json {
    match stream {
        Json::Object(mut m) => {
            if !m.contains_key("StreamEnabled") {
                m.insert("StreamEnabled".into(), Json::Bool(true));
            }
            Json::Object(m)
        }
        other => other,
    }
}

/// A table's `PointInTimeRecoverySpecification`: accepted, with a warning.
fn warn_point_in_time_recovery(r: &Resource, props: &Node, problems: &mut Problems) {
    if let Some(node) = props.get("PointInTimeRecoverySpecification") {
        problems.warnings.push(format!(
            "{} (template line {}): PointInTimeRecoverySpecification is accepted but not honoured (Nimbus tables keep no backups)",
            r.logical_id, node.line
        ));
    }
}

fn table(
    ctx: &Context,
    r: &Resource,
    props: &Node,
    names: &BTreeMap<String, String>,
    problems: &mut Problems,
) -> Result<TableSpec> {
    let mut create = serde_json::Map::new();
    if r.kind == SIMPLE_TABLE {
        problems.check_properties(r, props, SIMPLE_TABLE_PROPERTIES, "");
        let (key, key_type) = match opt(ctx, props, "PrimaryKey")? {
            Some(pk) => {
                let name = pk["Name"].as_str().map(str::to_owned);
                let kind = match pk["Type"].as_str() {
                    Some("String") => "S",
                    Some("Number") => "N",
                    Some("Binary") => "B",
                    other => {
                        return Err(resource_error(
                            r,
                            props.get("PrimaryKey").map_or(r.line, |n| n.line),
                            format!(
                                "PrimaryKey.Type must be String, Number or Binary, not {other:?}"
                            ),
                        ));
                    }
                };
                let name =
                    name.ok_or_else(|| resource_error(r, r.line, "PrimaryKey needs a Name"))?;
                (name, kind)
            }
            None => ("id".to_owned(), "S"),
        };
        create.insert(
            "KeySchema".into(),
            json!([{"AttributeName": key, "KeyType": "HASH"}]),
        );
        create.insert(
            "AttributeDefinitions".into(),
            json!([{"AttributeName": key, "AttributeType": key_type}]),
        );
        match opt(ctx, props, "ProvisionedThroughput")? {
            Some(pt) => {
                create.insert("BillingMode".into(), json!("PROVISIONED"));
                create.insert("ProvisionedThroughput".into(), numbers(pt));
            }
            None => {
                create.insert("BillingMode".into(), json!("PAY_PER_REQUEST"));
            }
        }
        if let Some(sse) = opt(ctx, props, "SSESpecification")? {
            create.insert("SSESpecification".into(), sse_specification(sse));
        }
        warn_point_in_time_recovery(r, props, problems);
    } else {
        problems.check_properties(r, props, TABLE_PROPERTIES, "");
        for key in TABLE_PROPERTIES {
            if matches!(
                *key,
                "TableName"
                    | "Tags"
                    | "TimeToLiveSpecification"
                    | "PointInTimeRecoverySpecification"
            ) {
                continue;
            }
            if let Some(v) = opt(ctx, props, key)? {
                let v = match *key {
                    "SSESpecification" => sse_specification(v),
                    "StreamSpecification" => stream_specification(v),
                    _ => numbers(v),
                };
                create.insert((*key).to_owned(), v);
            }
        }
        warn_point_in_time_recovery(r, props, problems);
        for required in ["KeySchema", "AttributeDefinitions"] {
            if !create.contains_key(required) {
                return Err(resource_error(
                    r,
                    r.line,
                    format!("the table has no {required}"),
                ));
            }
        }
        if !create.contains_key("BillingMode") {
            create.insert("BillingMode".into(), json!("PROVISIONED"));
        }
    }
    let tags = match props.get("Tags") {
        Some(node) => string_map(r, node, ctx.value(node)?)?,
        None => BTreeMap::new(),
    };
    let ttl = match r.kind.as_str() {
        SIMPLE_TABLE => None,
        _ => opt(ctx, props, "TimeToLiveSpecification")?,
    };
    Ok(TableSpec {
        name: names.get(&r.logical_id).cloned().unwrap_or_default(),
        create,
        tags,
        ttl,
    })
}

/// Numbers written as strings (`"5"`) become numbers, as CloudFormation coerces them.
fn numbers(value: Json) -> Json {
    match value {
        Json::Object(m) => Json::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let v = match (&k[..], v) {
                        (
                            "ReadCapacityUnits"
                            | "WriteCapacityUnits"
                            | "MaxReadRequestUnits"
                            | "MaxWriteRequestUnits",
                            Json::String(s),
                        ) => s.parse::<i64>().map_or(Json::String(s), |n| json!(n)),
                        (_, v) => numbers(v),
                    };
                    (k, v)
                })
                .collect(),
        ),
        Json::Array(items) => Json::Array(items.into_iter().map(numbers).collect()),
        other => other,
    }
}

/// Hash of a table's key schema: a change needs a new table.
fn table_replace_hash(
    ctx: &Context,
    r: &Resource,
    globals: &BTreeMap<&'static str, Node>,
) -> Result<String> {
    let props = match globals.get(r.kind.as_str()) {
        Some(g) => merge(g, &r.properties),
        None => r.properties.clone(),
    };
    let keys = if r.kind == SIMPLE_TABLE {
        opt(ctx, &props, "PrimaryKey")
    } else {
        Ok(Some(json!([
            opt(ctx, &props, "KeySchema")?,
            opt(ctx, &props, "LocalSecondaryIndexes")?
        ])))
    }
    .map_err(|e| e.in_resource(&r.logical_id, r.line))?;
    Ok(hash_json(&keys.unwrap_or(Json::Null)))
}

impl Resolved {
    /// Records a value that is only known after the deploy (a published version's ARN), for
    /// [`Resolved::outputs`]: a `Ref` when `attribute` is `None`, else a `Fn::GetAtt`.
    pub fn learn(&mut self, logical_id: &str, attribute: Option<&str>, value: Json) {
        match attribute {
            None => {
                self.context.refs.insert(logical_id.to_owned(), value);
            }
            Some(a) => {
                self.context
                    .attributes
                    .insert((logical_id.to_owned(), a.to_owned()), value);
            }
        }
    }
}

/// The property that names a resource of a type Nimbus does not deploy.
fn name_property(kind: &str) -> &'static str {
    match kind {
        "AWS::S3::Bucket" => "BucketName",
        "AWS::SQS::Queue" => "QueueName",
        "AWS::SNS::Topic" => "TopicName",
        "AWS::IAM::Role" => "RoleName",
        "AWS::Serverless::StateMachine" | "AWS::StepFunctions::StateMachine" => "StateMachineName",
        "AWS::Logs::LogGroup" => "LogGroupName",
        _ => "Name",
    }
}

/// The stand-in for a resource Nimbus does not deploy: its own name if the template gives
/// one, else one made up from the stack and the logical id (the same on every deploy, so
/// that what refers to it does not change).
fn placeholder(ctx: &Context, r: &Resource, inputs: &Inputs<'_>) -> Placeholder {
    let explicit = r
        .properties
        .get(name_property(&r.kind))
        .and_then(|n| ctx.string(n).ok());
    let digest = Sha256::digest(format!("{}/{}", inputs.stack, r.logical_id).as_bytes());
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let suffix: String = digest
        .iter()
        .take(12)
        .map(|b| CHARS[*b as usize % CHARS.len()] as char)
        .collect();
    let name = match explicit {
        Some(name) => name,
        None if r.kind == "AWS::S3::Bucket" => {
            // Bucket names are lower case, at most 63 characters.
            let stack: String = inputs.stack.to_lowercase().chars().take(24).collect();
            let id: String = r.logical_id.to_lowercase().chars().take(24).collect();
            format!("{stack}-{id}-{}", suffix.to_lowercase())
        }
        None if r.kind == "AWS::CloudFront::Distribution" => format!("E{}", &suffix[..12]),
        None => format!("{}-{}-{suffix}", inputs.stack, r.logical_id),
    };
    Placeholder {
        kind: r.kind.clone(),
        name,
        region: inputs.region.to_owned(),
        account: inputs.account.to_owned(),
    }
}

/// The table permissions that connectors grant, by function logical id: standalone
/// `AWS::Serverless::Connector`s and functions' `Connectors` properties.
fn connectors(
    ctx: &Context,
    resources: &[&Resource],
    names: &BTreeMap<String, String>,
    problems: &mut Problems,
) -> Result<BTreeMap<String, Vec<TableAccess>>> {
    let kinds: BTreeMap<String, String> = resources
        .iter()
        .map(|r| (r.logical_id.clone(), r.kind.clone()))
        .collect();
    let stack = access::Stack {
        kinds: &kinds,
        names,
    };
    let mut grants = BTreeMap::new();
    let mut notes = Vec::new();
    for r in resources {
        let in_resource = |e: Error| e.in_resource(&r.logical_id, r.line);
        if r.kind == CONNECTOR {
            problems.check_properties(
                r,
                &r.properties,
                &["Source", "Destination", "Permissions"],
                "",
            );
            access::connector(
                ctx,
                &stack,
                &r.logical_id,
                &r.properties,
                None,
                &mut grants,
                &mut notes,
            )
            .map_err(in_resource)?;
        } else if r.kind == FUNCTION
            && let Some(embedded) = r.properties.get("Connectors")
        {
            let entries = embedded
                .as_map()
                .ok_or_else(|| resource_error(r, embedded.line, "Connectors must be a map"))?;
            for (name, c) in entries {
                let props = c.get("Properties").ok_or_else(|| {
                    resource_error(r, c.line, format!("connector {name} has no Properties"))
                })?;
                let full = format!("{}{name}", r.logical_id);
                access::connector(
                    ctx,
                    &stack,
                    &full,
                    props,
                    Some(&r.logical_id),
                    &mut grants,
                    &mut notes,
                )
                .map_err(in_resource)?;
            }
        }
    }
    problems.warnings.extend(notes);
    Ok(grants)
}

/// `Ref` of `Fn.Alias` (and of SAM's `Fn` + `Alias` + name resource) for functions with
/// `AutoPublishAlias`, and `Fn.Version`, which is only known once the version is published.
fn published_refs(
    ctx: &mut Context,
    resources: &[&Resource],
    globals: &BTreeMap<&'static str, Node>,
    names: &BTreeMap<String, String>,
    inputs: &Inputs<'_>,
) -> Result<()> {
    for r in resources.iter().filter(|r| r.kind == FUNCTION) {
        let props = match globals.get(FUNCTION) {
            Some(g) => merge(g, &r.properties),
            None => r.properties.clone(),
        };
        let Some(node) = props.get("AutoPublishAlias") else {
            continue;
        };
        let alias = ctx
            .string(node)
            .map_err(|e| e.in_resource(&r.logical_id, r.line))?;
        let name = names.get(&r.logical_id).cloned().unwrap_or_default();
        let alias_arn = json!(format!(
            "arn:aws:lambda:{}:{}:function:{name}:{alias}",
            inputs.region, inputs.account
        ));
        let id = &r.logical_id;
        for alias_id in [format!("{id}.Alias"), format!("{id}Alias{alias}")] {
            ctx.declared.insert(alias_id.clone());
            ctx.refs.insert(alias_id, alias_arn.clone());
        }
        ctx.attributes
            .insert((id.clone(), "Alias".into()), alias_arn.clone());
        ctx.declared.insert(format!("{id}.Version"));
        ctx.refs.insert(format!("{id}.Version"), json!(PENDING));
        ctx.attributes
            .insert((id.clone(), "Version".into()), json!(PENDING));
    }
    Ok(())
}

/// `Fn::GetAtt Table.StreamArn`: a table with a `StreamSpecification` has one in the format
/// DynamoDB gives, but its label (the stream's creation time) is only known once the table
/// exists, so the template sees a placeholder label, which the deploy says; a table without
/// has none, as in AWS.
fn stream_arns(ctx: &mut Context, resources: &[&Resource], problems: &mut Problems) {
    for r in resources
        .iter()
        .filter(|r| r.kind == TABLE || r.kind == SIMPLE_TABLE)
    {
        let key = (r.logical_id.clone(), "StreamArn".to_owned());
        ctx.attributes.remove(&key);
        let Some(spec) = r.properties.get("StreamSpecification") else {
            continue;
        };
        let Some(Json::String(table_arn)) = ctx
            .attributes
            .get(&(r.logical_id.clone(), "Arn".into()))
            .cloned()
        else {
            continue;
        };
        ctx.attributes.insert(
            key,
            json!(format!("{table_arn}/stream/1970-01-01T00:00:00.000")),
        );
        problems.warnings.push(format!(
            "{} (template line {}): the table gets its stream, but Fn::GetAtt StreamArn is a placeholder in this deploy (the real one is DescribeTable's LatestStreamArn)",
            r.logical_id, spec.line
        ));
    }
}

/// The function properties beyond the Lambda configuration, handled here.
const EXTRA_PROPERTIES: &[&str] = &[
    "Tracing",
    "AutoPublishAlias",
    "AutoPublishCodeSha256",
    "AutoPublishAliasAllProperties",
    "DeploymentPreference",
    "ReservedConcurrentExecutions",
    "ProvisionedConcurrencyConfig",
    "Connectors",
    "FunctionUrlConfig",
    "EventInvokeConfig",
];

/// Event types `function` handles (or reports itself); the others are listed as not deployed.
const SERVED_EVENTS: &[&str] = &["HttpApi", "Api"];

/// Function properties SAM allows that Nimbus accepts but has no use for on one machine.
const NOT_HONOURED: &[&str] = &[
    "DeadLetterQueue",
    "VpcConfig",
    "KmsKeyArn",
    "PermissionsBoundary",
    "AssumeRolePolicyDocument",
    "SnapStart",
    "RuntimeManagementConfig",
    "LoggingConfig",
    "RecursiveLoop",
    "SourceKMSKeyArn",
    "PropagateTags",
    "CodeSigningConfigArn",
    "RolePath",
    "FileSystemConfigs",
];

/// A function's `FunctionUrlConfig` as CreateFunctionUrlConfig's body: `AuthType` (`NONE` or
/// `AWS_IAM`, required), `Cors`, `InvokeMode`.
fn function_url_config(r: &Resource, line: usize, v: Json) -> Result<Json> {
    let Json::Object(map) = v else {
        return Err(resource_error(r, line, "FunctionUrlConfig must be a map"));
    };
    let mut body = serde_json::Map::new();
    for (k, v) in map {
        match k.as_str() {
            "AuthType" => match v.as_str() {
                Some("NONE" | "AWS_IAM") => {
                    body.insert(k, v);
                }
                _ => {
                    return Err(resource_error(
                        r,
                        line,
                        format!("FunctionUrlConfig.AuthType must be NONE or AWS_IAM, not {v}"),
                    ));
                }
            },
            "Cors" | "InvokeMode" => {
                body.insert(k, v);
            }
            other => {
                return Err(resource_error(
                    r,
                    line,
                    format!("FunctionUrlConfig.{other} is not supported"),
                ));
            }
        }
    }
    if !body.contains_key("AuthType") {
        return Err(resource_error(
            r,
            line,
            "FunctionUrlConfig needs an AuthType",
        ));
    }
    Ok(Json::Object(body))
}

/// A function's `EventInvokeConfig` as PutFunctionEventInvokeConfig's body: SAM's `Type` of
/// each destination is dropped (the ARN says it); a destination without a `Destination` ARN
/// (SAM would create a queue or topic for it) is refused.
fn event_invoke_config(r: &Resource, line: usize, v: Json) -> Result<Json> {
    let Json::Object(map) = v else {
        return Err(resource_error(r, line, "EventInvokeConfig must be a map"));
    };
    let mut body = serde_json::Map::new();
    for (k, v) in map {
        match k.as_str() {
            "MaximumEventAgeInSeconds" | "MaximumRetryAttempts" => {
                body.insert(k, v);
            }
            "DestinationConfig" => {
                let mut config = serde_json::Map::new();
                for (when, d) in v.as_object().into_iter().flatten() {
                    let Some(arn) = d.get("Destination").filter(|a| a.is_string()) else {
                        return Err(resource_error(
                            r,
                            line,
                            format!(
                                "EventInvokeConfig.DestinationConfig.{when} needs a Destination ARN (Nimbus does not create queues or topics for it)"
                            ),
                        ));
                    };
                    config.insert(when.clone(), json!({ "Destination": arn }));
                }
                body.insert(k, Json::Object(config));
            }
            other => {
                return Err(resource_error(
                    r,
                    line,
                    format!("EventInvokeConfig.{other} is not supported"),
                ));
            }
        }
    }
    Ok(Json::Object(body))
}

/// What [`function_extras`] adds to a function.
#[derive(Debug, Default)]
struct Extras {
    tracing: Option<String>,
    permissions: Vec<TableAccess>,
    publish: Option<Publish>,
    code_sha256: Option<String>,
    reserved_concurrency: Option<u32>,
    url: Option<Json>,
    event_invoke: Option<Json>,
    /// Events of sources Nimbus does not run (SQS, S3, Schedule, ...): listed, not deployed.
    events: Vec<NotDeployed>,
}

impl Extras {
    /// Puts these into `spec`; returns what the configuration hash must include (`None` when
    /// there is nothing, so that templates without them keep their hashes).
    fn apply(self, spec: &mut FunctionSpec) -> Option<Json> {
        if let Some(mode) = &self.tracing {
            spec.config
                .insert("TracingConfig".into(), json!({ "Mode": mode }));
        }
        let hashed = json!({
            "permissions": self.permissions.iter().map(TableAccess::tag_value).collect::<Vec<_>>(),
            "publish": self.publish.as_ref().map(|p| json!([p.alias, p.deployment_preference])),
            "code_sha256": self.code_sha256,
            "reserved_concurrency": self.reserved_concurrency,
        });
        let empty = self.permissions.is_empty()
            && self.publish.is_none()
            && self.code_sha256.is_none()
            && self.reserved_concurrency.is_none();
        let mut hashed = (!empty).then_some(hashed);
        // Only when set, so that templates without it keep their hashes.
        if let Some(url) = &self.url {
            hashed.get_or_insert_with(|| json!({}))["url"] = url.clone();
        }
        if let Some(config) = &self.event_invoke {
            hashed.get_or_insert_with(|| json!({}))["event_invoke"] = config.clone();
        }
        spec.event_invoke = self.event_invoke;
        spec.permissions = self.permissions;
        spec.publish = self.publish;
        spec.reserved_concurrency = self.reserved_concurrency;
        spec.url = self.url;
        hashed
    }
}

/// Reads `Tracing`, `AutoPublishAlias` and the properties that go with it,
/// `ReservedConcurrentExecutions`, the table permissions (policies and connectors), and the
/// properties accepted without effect; returns the properties without them, for
/// [`function`].
fn function_extras(
    ctx: &Context,
    r: &Resource,
    props: &Node,
    problems: &mut Problems,
    grants: &mut BTreeMap<String, Vec<TableAccess>>,
) -> Result<(Node, Extras)> {
    let id = &r.logical_id;
    let line = |key: &str| props.get(key).map_or(r.line, |n| n.line);
    let mut extras = Extras::default();
    if let Some(v) = opt(ctx, props, "Tracing")? {
        extras.tracing = match v.as_str() {
            Some("Active") => Some("Active".into()),
            Some("PassThrough") => Some("PassThrough".into()),
            Some("Disabled") => None,
            _ => {
                return Err(resource_error(
                    r,
                    line("Tracing"),
                    format!("Tracing must be Active, PassThrough or Disabled, not {v}"),
                ));
            }
        };
    }
    if let Some(v) = opt(ctx, props, "ReservedConcurrentExecutions")? {
        let n = integer(r, props, "ReservedConcurrentExecutions", v)?;
        extras.reserved_concurrency = Some(u32::try_from(n).map_err(|_| {
            resource_error(
                r,
                line("ReservedConcurrentExecutions"),
                format!("ReservedConcurrentExecutions must be 0 or more, not {n}"),
            )
        })?);
    }
    if let Some(v) = opt(ctx, props, "EventInvokeConfig")? {
        extras.event_invoke = Some(event_invoke_config(r, line("EventInvokeConfig"), v)?);
    }
    if let Some(v) = opt(ctx, props, "FunctionUrlConfig")? {
        extras.url = Some(function_url_config(r, line("FunctionUrlConfig"), v)?);
    }
    let alias = match opt(ctx, props, "AutoPublishAlias")? {
        Some(Json::String(a)) if is_alias_name(&a) => Some(a),
        Some(other) => {
            return Err(resource_error(
                r,
                line("AutoPublishAlias"),
                format!(
                    "AutoPublishAlias must be an alias name (letters, digits, - and _, not only digits), not {other}"
                ),
            ));
        }
        None => None,
    };
    for key in ["DeploymentPreference", "ProvisionedConcurrencyConfig"] {
        if props.get(key).is_some() && alias.is_none() {
            return Err(resource_error(
                r,
                line(key),
                format!("{key} needs AutoPublishAlias"),
            ));
        }
    }
    let mut deployment_preference = None;
    if let Some(pref) = opt(ctx, props, "DeploymentPreference")? {
        let enabled = pref
            .get("Enabled")
            .is_none_or(|e| e != &json!(false) && e != &json!("false"));
        let kind = pref
            .get("Type")
            .and_then(Json::as_str)
            .unwrap_or("AllAtOnce");
        if enabled {
            deployment_preference = Some(kind.to_owned());
            if kind != "AllAtOnce" || pref.get("Hooks").is_some() || pref.get("Alarms").is_some() {
                problems.warnings.push(format!(
                    "{id} (template line {}): DeploymentPreference {kind}: Nimbus moves the alias to the new version at once, without CodeDeploy hooks or alarms",
                    line("DeploymentPreference")
                ));
            }
        }
    }
    if props.get("ProvisionedConcurrencyConfig").is_some() {
        problems.warnings.push(format!(
            "{id} (template line {}): ProvisionedConcurrencyConfig is accepted but not honoured: environments start on demand and stay warm while used",
            line("ProvisionedConcurrencyConfig")
        ));
    }
    if let Some(v) = opt(ctx, props, "AutoPublishCodeSha256")? {
        extras.code_sha256 = Some(v.as_str().map_or(v.to_string(), str::to_owned));
    }
    extras.publish = alias.map(|alias| Publish {
        alias,
        deployment_preference,
    });
    let mut permissions = match props.get("Policies") {
        Some(node) => access::from_policies(ctx, node)?,
        None => Vec::new(),
    };
    permissions.extend(grants.remove(id).unwrap_or_default());
    extras.permissions = access::merge(permissions);
    for a in &extras.permissions {
        if a.tag_value().len() > 256 {
            return Err(resource_error(
                r,
                r.line,
                format!(
                    "the table name {} is too long to record its permissions (tag values hold 256 characters)",
                    a.table
                ),
            ));
        }
    }

    let mut rest = Vec::new();
    for (key, node) in props.as_map().unwrap_or_default() {
        if key == "Events"
            && let Some(events) = node.as_map()
        {
            // Events of sources Nimbus does not run are taken out here, listed like the
            // resources of those services; the ones Nimbus serves stay for `function`.
            let mut kept = Vec::new();
            for (name, event) in events {
                match event.get("Type").and_then(Node::as_str) {
                    Some(kind) if !SERVED_EVENTS.contains(&kind) => {
                        extras.events.push(NotDeployed {
                            logical_id: format!("{id}{name}"),
                            line: event.line,
                            resource_type: format!("{kind} event of {id}"),
                            reference: String::new(),
                        });
                    }
                    _ => kept.push((name.clone(), event.clone())),
                }
            }
            rest.push((key.clone(), Node::new(node.line, Value::Map(kept))));
        } else if NOT_HONOURED.contains(&key.as_str()) {
            problems.warnings.push(format!(
                "{id} (template line {}): {key} is accepted but not honoured by Nimbus",
                node.line
            ));
        } else if !EXTRA_PROPERTIES.contains(&key.as_str()) {
            rest.push((key.clone(), node.clone()));
        }
    }
    Ok((Node::new(props.line, Value::Map(rest)), extras))
}

/// With `AutoPublishAlias`, events invoke the alias, as SAM points them there.
fn to_alias(routes: Vec<(String, RouteSpec)>, spec: &FunctionSpec) -> Vec<(String, RouteSpec)> {
    let Some(p) = &spec.publish else {
        return routes;
    };
    routes
        .into_iter()
        .map(|(api, mut route)| {
            route.function_arn = format!("{}:{}", route.function_arn, p.alias);
            (api, route)
        })
        .collect()
}

/// `Api` events' methods invoke the alias when the function publishes one.
fn methods_to_alias(
    methods: Vec<(String, MethodSpec)>,
    spec: &FunctionSpec,
) -> Vec<(String, MethodSpec)> {
    let Some(p) = &spec.publish else {
        return methods;
    };
    methods
        .into_iter()
        .map(|(api, mut method)| {
            method.function_arn = format!("{}:{}", method.function_arn, p.alias);
            (api, method)
        })
        .collect()
}

/// HttpApi properties SAM allows that Nimbus accepts without effect (`Auth` is not among
/// them: what of it Nimbus cannot enforce is refused, since a route would be left open).
const HTTP_API_NOT_HONOURED: &[&str] = &[
    "AccessLogSettings",
    "DefaultRouteSettings",
    "RouteSettings",
    "StageVariables",
    "Domain",
    "PropagateTags",
    "DisableExecuteApiEndpoint",
];

/// The properties of an HTTP API without the ones accepted without effect, each reported.
fn http_api_accepted(r: &Resource, props: &Node, problems: &mut Problems) -> Node {
    let mut rest = Vec::new();
    for (key, node) in props.as_map().unwrap_or_default() {
        if HTTP_API_NOT_HONOURED.contains(&key.as_str()) {
            problems.warnings.push(format!(
                "{} (template line {}): {key} is accepted but not honoured by Nimbus",
                r.logical_id, node.line
            ));
        } else {
            rest.push((key.clone(), node.clone()));
        }
    }
    Node::new(props.line, Value::Map(rest))
}

/// Lambda's alias names: `(?!^[0-9]+$)([a-zA-Z0-9-_]+)`, at most 128.
fn is_alias_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.bytes().all(|b| b.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = "\
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    Default: dev
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Globals:
  Function:
    Runtime: python3.12
    Timeout: 10
    Environment:
      Variables:
        TABLE: !Ref Items
        STAGE: !Ref Stage
Resources:
  Items:
    Type: AWS::Serverless::SimpleTable
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Handler: app.handler
      MemorySize: !If [IsProd, 1024, 256]
      Environment:
        Variables:
          EXTRA: x
      Policies:
        - DynamoDBCrudPolicy:
            TableName: !Ref Items
      Events:
        Get:
          Type: HttpApi
          Properties:
            Path: /items/{id}
            Method: get
        Rest:
          Type: Api
          Properties:
            Path: /rest
            Method: get
Outputs:
  Url:
    Value: !Sub https://${ServerlessHttpApi}.execute-api.${AWS::Region}.amazonaws.com/items
";

    fn run(text: &str, overrides: &[(&str, &str)], actual: &[Actual]) -> Result<Resolved> {
        let template = Template::parse(text)?;
        let overrides: BTreeMap<String, String> = overrides
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let dir = std::env::temp_dir();
        resolve(
            &template,
            &Inputs {
                stack: "shop",
                region: "us-east-1",
                account: "000000000000",
                template_dir: &dir,
                overrides: &overrides,
                actual,
            },
        )
    }

    fn function(r: &Resolved) -> &FunctionSpec {
        r.resources
            .iter()
            .find_map(|d| match &d.spec {
                Spec::Function(f) => Some(f),
                _ => None,
            })
            .expect("a function")
    }

    #[test]
    fn sam_expands_functions_tables_and_the_implicit_api() {
        let r = run(TEMPLATE, &[], &[]).expect("resolve");
        let kinds: Vec<(Kind, &str)> = r
            .resources
            .iter()
            .map(|d| (d.kind(), d.logical_id.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (Kind::Table, "Items"),
                (Kind::Function, "Fn"),
                (Kind::HttpApi, IMPLICIT_HTTP_API),
                (Kind::RestApi, IMPLICIT_REST_API)
            ]
        );
        let Spec::Table(table) = &r.resources[0].spec else {
            panic!("table")
        };
        assert!(table.name.starts_with("shop-Items-"), "{}", table.name);
        assert_eq!(table.name.len(), "shop-Items-".len() + 12);
        assert_eq!(table.create["BillingMode"], json!("PAY_PER_REQUEST"));
        assert_eq!(
            table.create["KeySchema"],
            json!([{"AttributeName": "id", "KeyType": "HASH"}])
        );

        let f = function(&r);
        assert!(f.name.starts_with("shop-Fn-"));
        // Globals merged: scalars from the resource win, maps merge.
        assert_eq!(f.config["Timeout"], json!(10));
        assert_eq!(f.config["MemorySize"], json!(256));
        assert_eq!(f.config["Runtime"], json!("python3.12"));
        assert_eq!(
            f.config["Environment"],
            json!({"Variables": {"TABLE": table.name, "STAGE": "dev", "EXTRA": "x"}})
        );
        assert_eq!(
            f.policies,
            [format!("DynamoDBCrudPolicy(TableName={})", table.name)]
        );
        assert_eq!(
            f.config["Role"],
            json!("arn:aws:iam::000000000000:role/shop-FnRole")
        );

        let Spec::HttpApi(api) = &r.resources[2].spec else {
            panic!("api")
        };
        assert_eq!(api.stage, "$default");
        assert_eq!(api.routes.len(), 1);
        assert_eq!(api.routes[0].route_key, "GET /items/{id}");
        assert_eq!(api.routes[0].payload_format_version, "2.0");
        assert_eq!(
            api.routes[0].function_arn,
            format!("arn:aws:lambda:us-east-1:000000000000:function:{}", f.name)
        );
        // The REST event goes to the implicit REST API, served at `Prod` (and `Stage`, as
        // SAM does without OpenApiVersion).
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        let Spec::RestApi(rest) = &r.resources[3].spec else {
            panic!("rest api")
        };
        assert_eq!(rest.stages, ["Prod", "Stage"]);
        assert_eq!(rest.name, "shop");
        assert_eq!(rest.endpoint_type, "EDGE");
        assert_eq!(rest.methods.len(), 1);
        assert_eq!(
            (
                rest.methods[0].path.as_str(),
                rest.methods[0].method.as_str()
            ),
            ("/rest", "GET")
        );
        assert_eq!(rest.methods[0].function_arn, api.routes[0].function_arn);

        let ids = BTreeMap::from([(IMPLICIT_HTTP_API.to_owned(), "abc123".to_owned())]);
        let outputs = r.outputs(&ids, "127.0.0.1:8080").expect("outputs");
        assert_eq!(
            outputs[0].value,
            "http://abc123.execute-api.localhost:8080/items"
        );
    }

    #[test]
    fn overrides_and_conditions_change_the_hash() {
        let dev = run(TEMPLATE, &[], &[]).expect("dev");
        let prod = run(TEMPLATE, &[("Stage", "prod")], &[]).expect("prod");
        assert_eq!(function(&prod).config["MemorySize"], json!(1024));
        assert_ne!(dev.resources[1].hash, prod.resources[1].hash);
        let err = run(TEMPLATE, &[("Nope", "x")], &[]).expect_err("unknown");
        assert!(err.to_string().contains("Nope"), "{err}");
    }

    #[test]
    fn physical_names_are_kept_across_deploys() {
        let first = run(TEMPLATE, &[], &[]).expect("first");
        let actual: Vec<Actual> = first
            .resources
            .iter()
            .map(|d| Actual {
                logical_id: d.logical_id.clone(),
                kind: d.kind(),
                physical: d.physical_name().unwrap_or("api1").to_owned(),
                hash: Some(d.hash.clone()),
                replace_hash: Some(d.replace_hash.clone()),
                code_sha256: None,
            })
            .collect();
        let second = run(TEMPLATE, &[], &actual).expect("second");
        for (a, b) in first.resources.iter().zip(&second.resources) {
            assert_eq!(a.physical_name(), b.physical_name());
            assert_eq!(a.hash, b.hash, "{}", a.logical_id);
        }
        // A new key schema needs a new table (a new generated name).
        let rekeyed = TEMPLATE.replace(
            "Type: AWS::Serverless::SimpleTable\n",
            "Type: AWS::Serverless::SimpleTable\n    Properties:\n      PrimaryKey: {Name: sku, Type: String}\n",
        );
        let third = run(&rekeyed, &[], &actual).expect("third");
        assert_ne!(
            first.resources[0].physical_name(),
            third.resources[0].physical_name()
        );
        // ... which a fixed name forbids.
        let table_name = first.resources[0].physical_name().expect("name").to_owned();
        let named = rekeyed.replace(
            "    Properties:\n      PrimaryKey",
            &format!("    Properties:\n      TableName: {table_name}\n      PrimaryKey"),
        );
        let err = run(&named, &[], &actual).expect_err("fixed name");
        assert!(err.to_string().contains("needs a new table"), "{err}");
    }

    #[test]
    fn errors_name_the_resource_and_line() {
        let bad_output = TEMPLATE.replace("${ServerlessHttpApi}", "${Nope}");
        let err = run(&bad_output, &[], &[]).expect_err("bad output");
        assert_eq!(
            err.to_string(),
            "template line 44: output Url: Ref Nope: no parameter or resource has that name"
        );
        let missing = TEMPLATE.replace("      Handler: app.handler\n", "");
        let err = run(&missing, &[], &[]).expect_err("no handler");
        assert_eq!(
            err.to_string(),
            "Resource Fn (template line 19): the function has no Handler"
        );
        let bad_ref = TEMPLATE.replace("TABLE: !Ref Items", "TABLE: !GetAtt Itemz.Arn");
        let err = run(&bad_ref, &[], &[]).expect_err("bad ref");
        assert_eq!(
            err.to_string(),
            "Resource Fn (template line 14): Fn::GetAtt Itemz.Arn: no resource has that name"
        );
        let err = run(TEMPLATE, &[], &[]).and_then(|_| {
            run(
                &TEMPLATE.replace("CodeUri: .", "CodeUri: no-such-folder"),
                &[],
                &[],
            )
        });
        assert!(
            err.expect_err("code")
                .to_string()
                .starts_with("Resource Fn (template line 22): CodeUri")
        );
    }

    #[test]
    fn unsupported_types_and_properties_are_all_reported() {
        let text = format!("{TEMPLATE}Resources2: x\n").replace("Resources2: x\n", "");
        let text = text.replace(
            "Resources:\n",
            "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n    DeletionPolicy: Retain\n",
        );
        let text = text.replace(
            "      Handler: app.handler\n",
            "      Handler: app.handler\n      Frobnicate: live\n",
        );
        let err = run(&text, &[], &[]).expect_err("unsupported");
        let Error::Unsupported(items) = &err else {
            panic!("{err}")
        };
        // The queue is not deployed (and so its DeletionPolicy does not matter), not an error.
        assert_eq!(
            items,
            &[
                "Fn (template line 27): property Frobnicate of AWS::Serverless::Function is not supported"
            ]
        );
    }

    const OTHERS: &str = "\
Transform: [AWS::Serverless-2016-10-31]
Resources:
  Assets:
    Type: AWS::S3::Bucket
    DeletionPolicy: Retain
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: jobs
  Cdn:
    Type: AWS::CloudFront::Distribution
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: 'def handler(e, c): return 1'
      Handler: index.handler
      Runtime: python3.12
      Environment:
        Variables:
          BUCKET: !Ref Assets
          BUCKET_ARN: !GetAtt Assets.Arn
          QUEUE: !Ref Jobs
          QUEUE_ARN: !GetAtt Jobs.Arn
          CDN: !GetAtt Cdn.DomainName
      Events:
        Work:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
        Get:
          Type: HttpApi
Outputs:
  Bucket:
    Value: !Ref Assets
  Zones:
    Value: !GetAZs ''
";

    #[test]
    fn other_services_are_listed_with_placeholders() {
        let r = run(OTHERS, &[], &[]).expect("resolve");
        assert_eq!(r.resources.len(), 2, "the function and its HTTP API");
        let listed: Vec<(&str, &str, usize)> = r
            .not_deployed
            .iter()
            .map(|n| (n.logical_id.as_str(), n.resource_type.as_str(), n.line))
            .collect();
        assert_eq!(
            listed,
            [
                ("Assets", "AWS::S3::Bucket", 3),
                ("Jobs", "AWS::SQS::Queue", 6),
                ("Cdn", "AWS::CloudFront::Distribution", 10),
                ("FnWork", "SQS event of Fn", 26),
            ]
        );
        let env = &function(&r).config["Environment"]["Variables"];
        let bucket = env["BUCKET"].as_str().expect("bucket");
        assert!(bucket.starts_with("shop-assets-"), "{bucket}");
        assert_eq!(bucket, bucket.to_lowercase());
        assert_eq!(env["BUCKET_ARN"], json!(format!("arn:aws:s3:::{bucket}")));
        assert_eq!(
            env["QUEUE"],
            json!("https://sqs.us-east-1.amazonaws.com/000000000000/jobs")
        );
        assert_eq!(
            env["QUEUE_ARN"],
            json!("arn:aws:sqs:us-east-1:000000000000:jobs")
        );
        assert!(
            env["CDN"]
                .as_str()
                .is_some_and(|d| d.ends_with(".cloudfront.net")),
            "{env}"
        );
        assert_eq!(r.not_deployed[0].reference, bucket);
        // The same names on every deploy, so that nothing changes.
        let again = run(OTHERS, &[], &[]).expect("again");
        assert_eq!(again.resources[0].hash, r.resources[0].hash);
        let outputs = r
            .outputs(&BTreeMap::new(), "127.0.0.1:8080")
            .expect("outputs");
        assert_eq!(outputs[0].value, bucket);
        assert_eq!(outputs[1].value, "us-east-1a,us-east-1b,us-east-1c");
    }

    #[test]
    fn globals_and_parameters_are_checked_with_lines() {
        let bad_global = TEMPLATE.replace(
            "    Timeout: 10\n",
            "    Timeout: 10\n    FunctionName: x\n",
        );
        let err = run(&bad_global, &[], &[]).expect_err("global");
        assert_eq!(
            err.to_string(),
            "template line 12: Globals.Function.FunctionName is not a property SAM allows in Globals"
        );
        let table_global = TEMPLATE.replace(
            "Globals:\n",
            "Globals:\n  SimpleTable:\n    SSESpecification: {SSEEnabled: true}\n  HttpApi:\n    CorsConfiguration: true\n",
        );
        let r = run(&table_global, &[], &[]).expect("simple table globals");
        let Spec::Table(t) = &r.resources[0].spec else {
            panic!("table")
        };
        assert_eq!(t.create["SSESpecification"], json!({"Enabled": true}));
        let Spec::HttpApi(api) = &r.resources[2].spec else {
            panic!("api")
        };
        assert!(api.cors.is_some());
        let routed = table_global.replace(
            "    CorsConfiguration: true\n",
            "    CorsConfiguration: true\n    DefaultRouteSettings: {ThrottlingBurstLimit: 5}\n",
        );
        let r = run(&routed, &[], &[]).expect("accepted");
        assert!(
            r.warnings
                .iter()
                .any(|w| w.starts_with("ServerlessHttpApi (template line 13): DefaultRouteSettings is accepted but not honoured")),
            "{:?}",
            r.warnings
        );
        let auth = table_global.replace(
            "    CorsConfiguration: true\n",
            "    Auth: {DefaultAuthorizer: x}\n",
        );
        let Err(Error::Resource { message, .. }) = run(&auth, &[], &[]) else {
            panic!("a default authorizer the API lacks must be refused")
        };
        assert!(message.contains("x is not an authorizer"), "{message}");
        let policy = table_global.replace(
            "    CorsConfiguration: true\n",
            "    Auth: {ResourcePolicy: {}}\n",
        );
        let Err(Error::Unsupported(items)) = run(&policy, &[], &[]) else {
            panic!("what Nimbus cannot enforce must not be dropped")
        };
        assert!(
            items[0].contains("Auth.ResourcePolicy is not supported"),
            "{items:?}"
        );

        let constrained = TEMPLATE.replace(
            "    Default: dev\n",
            "    Default: dev\n    MinLength: 3\n    MaxLength: 5\n    AllowedValues: [dev, prod, staging2]\n  Size:\n    Type: Number\n    Default: 256\n    MinValue: 128\n    MaxValue: 10240\n",
        );
        run(&constrained, &[], &[]).expect("defaults pass");
        let err = run(&constrained, &[("Stage", "staging2")], &[]).expect_err("long");
        assert_eq!(
            err.to_string(),
            "template line 3: parameter Stage is \"staging2\", longer than its MaxLength 5"
        );
        let err = run(&constrained, &[("Size", "64")], &[]).expect_err("small");
        assert_eq!(
            err.to_string(),
            "template line 9: parameter Size is 64, outside its MinValue/MaxValue 128..10240"
        );
        let ssm = constrained.replace(
            "    Type: Number\n",
            "    Type: AWS::SSM::Parameter::Value<String>\n",
        );
        let err = run(&ssm, &[], &[]).expect_err("ssm");
        assert!(
            err.to_string()
                .starts_with("template line 9: parameter Size: type AWS::SSM::Parameter::Value<String> reads Systems Manager"),
            "{err}"
        );
        let err = run(&constrained, &[("Size", "big")], &[]).expect_err("nan");
        assert!(err.to_string().contains("must be a Number"), "{err}");
        let err = run(&constrained.replace("MinValue", "MinValu"), &[], &[]).expect_err("key");
        assert_eq!(
            err.to_string(),
            "template line 12: parameter Size has an unknown key MinValu"
        );
    }

    #[test]
    fn pseudo_parameters() {
        let text = format!(
            "{TEMPLATE}  Pseudo:\n    Value: !Join ['|', [!Ref AWS::Region, !Ref AWS::AccountId, !Ref AWS::StackName, !Ref AWS::StackId, !Ref AWS::Partition, !Ref AWS::URLSuffix, !If [IsProd, x, !Ref AWS::NoValue]]]\n"
        );
        let r = run(&text, &[], &[]).expect("resolve");
        let out = r
            .outputs(
                &BTreeMap::from([(IMPLICIT_HTTP_API.to_owned(), "a1".to_owned())]),
                "127.0.0.1:8080",
            )
            .expect("outputs");
        assert_eq!(
            out[1].value,
            "us-east-1|000000000000|shop|arn:aws:cloudformation:us-east-1:000000000000:stack/shop/nimbus|aws|amazonaws.com"
        );
    }

    #[test]
    fn code_uri_defaults_to_the_template_folder() {
        let text = TEMPLATE.replace("      CodeUri: .\n", "");
        let r = run(&text, &[], &[]).expect("resolve");
        assert_eq!(function(&r).code, CodeSource::Dir(std::env::temp_dir()));
    }

    const PUBLISHED: &str = "\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    AutoPublishAlias: live
    Tracing: Active
Resources:
  Items:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      BillingMode: PAY_PER_REQUEST
      StreamSpecification: {StreamViewType: NEW_IMAGE}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: 'def handler(e, c): return 1'
      Handler: index.handler
      Runtime: python3.12
      ReservedConcurrentExecutions: 5
      ProvisionedConcurrencyConfig: {ProvisionedConcurrentExecutions: 1}
      DeploymentPreference: {Type: Canary10Percent5Minutes}
      KmsKeyArn: arn:aws:kms:us-east-1:000000000000:key/x
      Policies:
        - DynamoDBReadPolicy: {TableName: !Ref Items}
      Connectors:
        Writes:
          Properties:
            Destination: {Id: Items}
            Permissions: [Write]
Outputs:
  Alias:
    Value: !Ref Fn.Alias
  Version:
    Value: !Ref Fn.Version
  Stream:
    Value: !GetAtt Items.StreamArn
";

    #[test]
    fn published_aliases_concurrency_tracing_and_permissions() {
        let mut r = run(PUBLISHED, &[], &[]).expect("resolve");
        let f = function(&r).clone();
        assert_eq!(f.config["TracingConfig"], json!({"Mode": "Active"}));
        let Spec::Table(t) = &r.resources[0].spec else {
            panic!("the table comes first")
        };
        assert_eq!(
            t.create["StreamSpecification"],
            json!({"StreamEnabled": true, "StreamViewType": "NEW_IMAGE"})
        );
        assert_eq!(f.reserved_concurrency, Some(5));
        assert_eq!(
            f.publish,
            Some(Publish {
                alias: "live".into(),
                deployment_preference: Some("Canary10Percent5Minutes".into())
            })
        );
        assert_eq!(f.permissions.len(), 1);
        assert_eq!(
            f.permissions[0].tag_value(),
            format!(
                "read+write+delete {}",
                r.resources[0].physical_name().expect("table")
            )
        );
        assert_eq!(
            f.permissions[0].granted_by,
            ["DynamoDBReadPolicy", "connector FnWrites"]
        );
        let warnings = r.warnings.join("\n");
        for what in [
            "Canary10Percent5Minutes",
            "ProvisionedConcurrencyConfig",
            "KmsKeyArn",
            "StreamArn is a placeholder",
        ] {
            assert!(warnings.contains(what), "{what}: {warnings}");
        }
        // Outputs: the version is learned after the deploy.
        let version_arn = format!(
            "arn:aws:lambda:us-east-1:000000000000:function:{}:1",
            f.name
        );
        r.learn("Fn.Version", None, json!(version_arn));
        let out = r
            .outputs(&BTreeMap::new(), "127.0.0.1:8080")
            .expect("outputs");
        assert_eq!(
            out[0].value,
            format!(
                "arn:aws:lambda:us-east-1:000000000000:function:{}:live",
                f.name
            )
        );
        assert_eq!(out[1].value, version_arn);
        assert!(out[2].value.contains("/stream/"), "{}", out[2].value);
        let with_route = PUBLISHED.replace(
            "      Connectors:\n",
            "      Events:\n        Get: {Type: HttpApi, Properties: {Path: /x, Method: get}}\n      Connectors:\n",
        );
        let r = run(&with_route, &[], &[]).expect("route");
        let Some(Spec::HttpApi(api)) = r.resources.last().map(|d| &d.spec) else {
            panic!("api")
        };
        assert_eq!(
            api.routes[0].function_arn,
            format!(
                "{}:live",
                r.context.attributes[&("Fn".to_owned(), "Arn".to_owned())]
                    .as_str()
                    .expect("arn")
            )
        );

        let no_alias = PUBLISHED.replace("    AutoPublishAlias: live\n", "");
        let err = run(&no_alias, &[], &[]).expect_err("needs alias");
        assert_eq!(
            err.to_string(),
            "Resource Fn (template line 21): DeploymentPreference needs AutoPublishAlias"
        );
        let bad = PUBLISHED.replace("Tracing: Active", "Tracing: On");
        let err = run(&bad, &[], &[]).expect_err("tracing");
        assert!(err.to_string().contains("Tracing must be"), "{err}");
        let bad = PUBLISHED.replace("Permissions: [Write]", "Permissions: [Admin]");
        let err = run(&bad, &[], &[]).expect_err("connector");
        assert_eq!(
            err.to_string(),
            "Resource Fn (template line 30): connector FnWrites: Permissions are Read and Write, not \"Admin\""
        );
    }

    #[test]
    fn layers_expand_and_functions_refer_to_them() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::create_dir_all(dir.path().join("deps/python")).expect("dir");
        let text = "\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Layers: [!Ref Shared]
Resources:
  Shared:
    Type: AWS::Lambda::LayerVersion
    Properties:
      Content: deps
      LayerName: shared-deps
  Deps:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: deps
      CompatibleRuntimes: [python3.12]
      RetentionPolicy: Delete
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: deps
      Handler: app.handler
      Runtime: python3.12
      Layers: [!Ref Deps]
";
        let template = Template::parse(text).expect("parse");
        let resolved = resolve(
            &template,
            &Inputs {
                stack: "shop",
                region: "us-east-1",
                account: "000000000000",
                template_dir: dir.path(),
                overrides: &BTreeMap::new(),
                actual: &[],
            },
        )
        .expect("resolve");
        let names: Vec<(&str, &str)> = resolved
            .layers
            .iter()
            .map(|l| (l.logical_id.as_str(), l.name.as_str()))
            .collect();
        assert_eq!(names, [("Shared", "shared-deps"), ("Deps", "shop-Deps")]);
        assert_eq!(resolved.layers[1].compatible_runtimes, ["python3.12"]);
        assert!(resolved.layers[1].delete_superseded && !resolved.layers[0].delete_superseded);
        assert_eq!(
            resolved.layers[1].code,
            CodeSource::Dir(dir.path().join("deps"))
        );
        // Globals' layers come first, as SAM merges lists.
        assert_eq!(
            function(&resolved).config["Layers"],
            json!([layer_marker("Shared"), layer_marker("Deps")])
        );
    }

    #[test]
    fn globals_merge_as_sam_does() {
        let g = crate::yaml::parse("a: 1\nm: {x: 1, y: 2}\nl: [1]\n").expect("g");
        let l = crate::yaml::parse("a: 2\nm: {y: 3}\nl: [2]\n").expect("l");
        let ctx = Context::default();
        assert_eq!(
            ctx.value(&merge(&g, &l)).expect("merge"),
            json!({"a": 2, "m": {"x": 1, "y": 3}, "l": [1, 2]})
        );
    }

    #[test]
    fn explicit_rest_apis_with_globals_cors_and_binary_types() {
        let text = "\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
  Api:
    OpenApiVersion: '3.0.1'
    BinaryMediaTypes: ['image~1png']
Resources:
  MyApi:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      Cors: \"'*'\"
      EndpointConfiguration: REGIONAL
      Variables:
        color: blue
      Auth:
        DefaultAuthorizer: AWS_IAM
        ApiKeyRequired: true
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Handler: app.handler
      Events:
        List:
          Type: Api
          Properties:
            RestApiId: !Ref MyApi
            Path: /items/
            Method: get
        Any:
          Type: Api
          Properties:
            RestApiId: !Ref MyApi
            Path: /files/{proxy+}
            Method: any
            Auth:
              Authorizer: NONE
Outputs:
  Url:
    Value: !Sub https://${MyApi}.execute-api.${AWS::Region}.amazonaws.com/v1/items
";
        let r = run(text, &[], &[]).expect("resolve");
        let rest = r
            .resources
            .iter()
            .find_map(|d| match &d.spec {
                Spec::RestApi(a) if d.logical_id == "MyApi" => Some(a),
                _ => None,
            })
            .expect("MyApi");
        assert_eq!(rest.stages, ["v1"]);
        assert_eq!(rest.binary_media_types, ["image/png"]);
        assert_eq!(rest.endpoint_type, "REGIONAL");
        assert_eq!(rest.variables["color"], "blue");
        assert_eq!(
            rest.cors.as_ref().map(|c| c.allow_origin.as_str()),
            Some("'*'")
        );
        let methods: Vec<(&str, &str, &str)> = rest
            .methods
            .iter()
            .map(|m| {
                let auth = m.authorization_type.as_str();
                (m.path.as_str(), m.method.as_str(), auth)
            })
            .collect();
        assert_eq!(
            methods,
            [
                ("/files/{proxy+}", "ANY", "NONE"),
                ("/items", "GET", "AWS_IAM")
            ]
        );
        assert!(
            r.warnings
                .iter()
                .any(|w| w.contains("Auth.ApiKeyRequired is accepted but not enforced")),
            "{:?}",
            r.warnings
        );
        let ids = BTreeMap::from([("MyApi".to_owned(), "r35t".to_owned())]);
        let outputs = r.outputs(&ids, "127.0.0.1:9000").expect("outputs");
        assert_eq!(
            outputs[0].value,
            "http://r35t.execute-api.localhost:9000/v1/items"
        );
        let missing_stage = text.replace("      StageName: v1\n", "");
        let err = run(&missing_stage, &[], &[]).expect_err("StageName is required");
        assert!(err.to_string().contains("StageName"), "{err}");
    }
}
