//! `nimbus deploy`, `nimbus stacks` and `nimbus delete-stack`: the reconcile of a SAM stack.
//!
//! `nimbus-deploy` turns the template into desired resources and a plan; this module reads what
//! runs and executes the plan, only through the AWS APIs the server speaks (Lambda, DynamoDB,
//! API Gateway v2 and v1), signed like any client. Stack membership lives in tags on each resource
//! (`nimbus:stack-name`, `nimbus:logical-id`, `nimbus:hash`). A failed step undoes what the
//! deploy changed before it (created resources are deleted, updated ones restored), so the
//! previous stack keeps working. Resources of services Nimbus does not run are listed before
//! anything is applied (`--strict` refuses them); functions' table permissions are shown and
//! recorded as tags, not enforced.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use nimbus_deploy::model::*;
use nimbus_deploy::package::{Package, package};
use nimbus_deploy::plan::{Change, plan};
use nimbus_deploy::sam::{Inputs, Resolved, resolve};
use nimbus_deploy::template::Template;
use serde_json::{Value, json};

use crate::cli::{DeleteStackArgs, DeployArgs, StacksArgs};
use crate::client::Client;
use crate::commands::encode;
use crate::config::Config;
use nimbus_deploy::build::Builder;

mod build;
mod cloud;
mod rest;

use build::Progress;
pub use build::build;
use cloud::{ApiState, Cloud, Done, Found, b64};

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

/// `text` as a tag value AWS would accept: at most 256 characters of letters, digits, spaces
/// and `_ . : / = + - @` (policy templates are written `Name(Key=value,...)`: the parentheses
/// become `:` and ` `, the commas `+`).
fn tag_value(text: &str) -> String {
    let mapped: String = text
        .chars()
        .filter_map(|c| match c {
            '(' => Some(':'),
            ')' => None,
            ',' => Some('+'),
            c if c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c) => Some(c),
            _ => Some('_'),
        })
        .collect();
    mapped.chars().take(256).collect()
}

/// The tags Nimbus puts on a resource of `stack`, besides the template's own.
fn stack_tags(stack: &str, d: &Desired) -> BTreeMap<String, String> {
    let mut tags = match &d.spec {
        Spec::Function(f) => f.tags.clone(),
        Spec::Table(t) => t.tags.clone(),
        Spec::HttpApi(a) => a.tags.clone(),
        Spec::RestApi(a) => a.tags.clone(),
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
        tags.insert("nimbus:policies".into(), tag_value(&f.policies.join(" ")));
    }
    if let Spec::Function(f) = &d.spec {
        for (i, access) in f.permissions.iter().enumerate() {
            tags.insert(format!("{TAG_TABLE_ACCESS}{}", i + 1), access.tag_value());
        }
    }
    tags
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
    /// The layers' packages, by logical id.
    layer_packages: BTreeMap<String, Package>,
    actual: Vec<Found>,
}

/// Resolves the template against the stack's `actual` resources, builds the functions that have
/// a build and packages the code (file reads and tool runs: called outside the async runtime).
/// A failed build stops here, before anything is applied.
#[allow(clippy::too_many_arguments)]
fn prepare(
    actual: Vec<Found>,
    config: &Config,
    template: &Template,
    template_dir: &Path,
    builder: &Builder,
    stack: &str,
    overrides: &BTreeMap<String, String>,
) -> anyhow::Result<Prepared> {
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
            let built = build::build_function(builder, template_dir, d, f, Progress::Stdout)?;
            let p = package(&build::code_of(f, &built)).map_err(|e| {
                anyhow!(
                    "Resource {} (template line {}): package the code: {e}",
                    d.logical_id,
                    d.line
                )
            })?;
            packages.insert(d.logical_id.clone(), p);
        }
    }
    let mut layer_packages = BTreeMap::new();
    for layer in &resolved.layers {
        // A layer with `Metadata: BuildMethod` is built first; its output is packaged.
        let built = match &layer.code {
            nimbus_deploy::model::CodeSource::Dir(dir) => builder
                .build_layer(
                    &layer.logical_id,
                    dir,
                    layer.metadata.as_ref(),
                    layer.compatible_runtimes.first().map(String::as_str),
                    template_dir,
                )
                .map_err(|e| {
                    anyhow!(
                        "Resource {} (template line {}): build the layer: {e}",
                        layer.logical_id,
                        layer.line
                    )
                })?,
            _ => None,
        };
        if let Some(b) = &built {
            say!(
                "Built layer {} ({}){}",
                layer.logical_id,
                b.method.name(),
                if b.cached { ", cached" } else { "" }
            );
        }
        let code = match built {
            Some(b) => nimbus_deploy::model::CodeSource::Dir(b.dir),
            None => layer.code.clone(),
        };
        let p = package(&code).map_err(|e| {
            anyhow!(
                "Resource {} (template line {}): package the layer: {e}",
                layer.logical_id,
                layer.line
            )
        })?;
        layer_packages.insert(layer.logical_id.clone(), p);
    }
    Ok(Prepared {
        resolved,
        packages,
        layer_packages,
        actual,
    })
}

/// A template read from disk.
struct Loaded {
    path: PathBuf,
    template: Template,
    /// The template's folder: `CodeUri` and the build folder are relative to it.
    dir: PathBuf,
}

fn load_template(arg: Option<&Path>) -> anyhow::Result<Loaded> {
    let path = template_path(arg)?;
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
    let template = Template::parse(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let dir = path.parent().map(Path::to_owned).unwrap_or_default();
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    Ok(Loaded {
        path,
        template,
        dir,
    })
}

/// `--parameter-overrides` values: `K=V` or `ParameterKey=K,ParameterValue=V`.
fn parse_overrides(values: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut overrides = BTreeMap::new();
    for o in values {
        for pair in o.split_whitespace() {
            let pair = pair.strip_prefix("ParameterKey=").unwrap_or(pair);
            let (k, v) = pair
                .split_once(",ParameterValue=")
                .or_else(|| pair.split_once('='))
                .ok_or_else(|| anyhow!("--parameter-overrides takes KEY=VALUE, not {pair:?}"))?;
            overrides.insert(k.to_owned(), v.to_owned());
        }
    }
    Ok(overrides)
}

/// `nimbus deploy`.
pub fn deploy(args: DeployArgs) -> anyhow::Result<()> {
    let config = Config::resolve(&args.server, false)?;
    let Loaded {
        path,
        template,
        dir: template_dir,
    } = load_template(args.template.as_deref())?;
    let stack = args
        .stack_name
        .clone()
        .unwrap_or_else(|| default_stack_name(&path));
    check_stack_name(&stack)?;
    let overrides = parse_overrides(&args.parameter_overrides)?;
    let builder = Builder::for_project(&template_dir, build::tools_dir());
    let rt = runtime()?;
    let cloud = Cloud {
        client: Client::new(&config)?,
        region: config.region.clone(),
    };
    let actual: Vec<Found> = rt
        .block_on(cloud.inventory())?
        .into_iter()
        .filter(|f| f.stack == stack)
        .collect();
    let prepared = prepare(
        actual,
        &config,
        &template,
        &template_dir,
        &builder,
        &stack,
        &overrides,
    )
    .map_err(|e| anyhow!("{}: {e:#}", path.display()))?;
    for w in &prepared.resolved.warnings {
        eprintln!("warning: {w}");
    }
    not_deployed(&prepared.resolved, args.strict)
        .map_err(|e| anyhow!("{}: {e:#}", path.display()))?;
    let (api_ids, layer_arns) = rt.block_on(apply(&cloud, &stack, &prepared))?;
    let gateway = config.gateway.to_string();
    let mut resolved = prepared.resolved.clone();
    rt.block_on(learn_published(&cloud, &mut resolved))?;
    rt.block_on(learn_rest_roots(&cloud, &mut resolved, &api_ids))?;
    rt.block_on(learn_function_urls(&cloud, &mut resolved))?;
    let mut outputs = resolved.outputs(&api_ids, &gateway)?;
    // A layer's Ref is its version ARN, known since it was published.
    for o in &mut outputs {
        for (id, arn) in &layer_arns {
            o.value = o
                .value
                .replace(&nimbus_deploy::model::layer_marker(id), arn);
        }
    }
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
        watch(&rt, &cloud, &prepared, &builder, &template_dir)?;
    }
    Ok(())
}

/// Lists the resources of services Nimbus does not run; with `--strict`, refuses them.
fn not_deployed(resolved: &Resolved, strict: bool) -> anyhow::Result<()> {
    let list = &resolved.not_deployed;
    if list.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = list
        .iter()
        .map(|n| {
            let reference = if n.reference.is_empty() {
                String::new()
            } else {
                format!(" Ref = {}", n.reference)
            };
            format!(
                "{:<24} {:<32} (template line {}){reference}",
                n.logical_id, n.resource_type, n.line
            )
        })
        .collect();
    if strict {
        bail!(
            "--strict: the template has resources Nimbus does not deploy; nothing was changed:\n  {}",
            lines.join("\n  ")
        );
    }
    say!(
        "Not deployed (services Nimbus does not run; their Ref and GetAtt resolve to placeholder values):"
    );
    for l in &lines {
        say!("  not deployed  {l}");
    }
    Ok(())
}

/// The versions that `AutoPublishAlias` aliases point at, for outputs (`Ref Fn.Version`).
async fn learn_published(cloud: &Cloud, resolved: &mut Resolved) -> anyhow::Result<()> {
    let published: Vec<(String, String, String)> = resolved
        .resources
        .iter()
        .filter_map(|d| match &d.spec {
            Spec::Function(f) => f
                .publish
                .as_ref()
                .map(|p| (d.logical_id.clone(), f.name.clone(), p.alias.clone())),
            _ => None,
        })
        .collect();
    for (logical_id, name, alias) in published {
        let Some(version) = cloud.alias_version(&name, &alias).await? else {
            continue;
        };
        let arn = format!(
            "arn:aws:lambda:{}:{}:function:{name}:{version}",
            cloud.region,
            crate::serve::ACCOUNT_ID
        );
        resolved.learn(&format!("{logical_id}.Version"), None, json!(arn));
        resolved.learn(&logical_id, Some("Version"), json!(arn));
    }
    Ok(())
}

/// The URL of each function with a `FunctionUrlConfig` (`!GetAtt {Fn}Url.FunctionUrl`), known
/// once the deploy created it.
async fn learn_function_urls(cloud: &Cloud, resolved: &mut Resolved) -> anyhow::Result<()> {
    let functions: Vec<(String, FunctionSpec)> = resolved
        .resources
        .iter()
        .filter_map(|d| match &d.spec {
            Spec::Function(f) if f.url.is_some() => Some((d.logical_id.clone(), f.clone())),
            _ => None,
        })
        .collect();
    for (logical_id, f) in functions {
        if let Some(url) = cloud.function_url(&f).await? {
            resolved.learn(&format!("{logical_id}Url"), Some("FunctionUrl"), json!(url));
        }
    }
    Ok(())
}

/// `RootResourceId` of each REST API of the stack (`!GetAtt Api.RootResourceId` in Outputs),
/// known once the API exists.
async fn learn_rest_roots(
    cloud: &Cloud,
    resolved: &mut Resolved,
    api_ids: &BTreeMap<String, String>,
) -> anyhow::Result<()> {
    let rest: Vec<(String, String)> = resolved
        .resources
        .iter()
        .filter(|d| matches!(d.spec, Spec::RestApi(_)))
        .filter_map(|d| {
            api_ids
                .get(&d.logical_id)
                .map(|id| (d.logical_id.clone(), id.clone()))
        })
        .collect();
    for (logical_id, id) in rest {
        let root = cloud.rest_root_resource(&id).await?;
        resolved.learn(&logical_id, Some("RootResourceId"), json!(root));
    }
    Ok(())
}

/// What a function step did beyond the function itself: its alias, concurrency and the table
/// permissions it records.
fn function_notes(d: &Desired, done: &[Done]) -> Vec<String> {
    let Spec::Function(f) = &d.spec else {
        return Vec::new();
    };
    let mut notes = Vec::new();
    if let Some(p) = &f.publish {
        let version = done.iter().rev().find_map(|step| match step {
            Done::Alias {
                function, version, ..
            } if *function == f.name => Some(version.clone()),
            _ => None,
        });
        if let Some(v) = version {
            notes.push(format!("alias {} -> version {v}", p.alias));
        }
    }
    if let Some(n) = f.reserved_concurrency {
        notes.push(format!("reserved concurrency {n}"));
    }
    for a in &f.permissions {
        let levels: Vec<&str> = a.levels.iter().map(|l| l.name()).collect();
        let table = if a.table == "*" {
            "every table"
        } else {
            &a.table
        };
        notes.push(format!(
            "may {} {table} ({}; recorded, not enforced)",
            levels.join("+"),
            a.granted_by.join(", ")
        ));
    }
    notes
}

/// Executes the plan; returns the stack's API ids and its layers' version ARNs by logical id.
async fn apply(
    cloud: &Cloud,
    stack: &str,
    p: &Prepared,
) -> anyhow::Result<(BTreeMap<String, String>, BTreeMap<String, String>)> {
    // Layers first: the functions refer to their version ARNs, known once published.
    let (layer_arns, superseded) = cloud
        .publish_layers(&p.resolved.layers, &p.layer_packages, |layer, arn| {
            say!("  publish layer     {:<24} {arn}", layer.logical_id);
        })
        .await?;
    let mut bound = p.resolved.resources.clone();
    nimbus_deploy::model::bind_layers(&mut bound, &layer_arns);
    let desired = &bound;
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
                matches!(f.actual.kind, Kind::HttpApi | Kind::RestApi)
                    && f.actual.logical_id == d.logical_id
                    && d.kind() == f.actual.kind
            })
            .map(|a| (d, a))
    }) {
        api_ids.insert(d.logical_id.clone(), a.actual.physical.clone());
    }
    if plan.is_empty() {
        cloud.delete_layer_versions(&superseded).await?;
        say!(
            "No changes: stack {stack} is up to date ({} resources).",
            desired.len()
        );
        return Ok((api_ids, layer_arns));
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
        if result.is_ok()
            && let Some(d) = d
        {
            for note in function_notes(d, &done) {
                say!("            {note}");
            }
        }
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
    // The functions have moved to the new layer versions: superseded ones may go.
    cloud.delete_layer_versions(&superseded).await?;
    for (name, version) in &superseded {
        say!("  delete  layer     {name}:{version}");
    }
    say!("Stack {stack} deployed: {created} created, {updated} updated, {deleted} deleted.");
    Ok((api_ids, layer_arns))
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
            let created = cloud
                .lambda("POST", "/2015-03-31/functions", Some(&body))
                .await?;
            done.push(Done::Created(Kind::Function, f.name.clone()));
            runtime_note(&d.logical_id, &created);
            cloud.function_extras(f, true, done).await?;
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
            cloud
                .sync_ttl(&t.name, cloud::ttl_attribute(t.ttl.as_ref()))
                .await?;
            Ok(None)
        }
        Spec::HttpApi(a) => {
            let id = cloud.create_api(&ApiState::desired(a, tags)).await?;
            done.push(Done::Created(Kind::HttpApi, id.clone()));
            Ok(Some(id))
        }
        Spec::RestApi(a) => {
            let id = cloud.create_rest_api(a, &tags).await?;
            done.push(Done::Created(Kind::RestApi, id.clone()));
            Ok(Some(id))
        }
    }
}

/// Prints the server's note when another interpreter than the runtime's own runs a function.
fn runtime_note(logical_id: &str, configuration: &Value) {
    if let Some(reason) = configuration["StateReason"].as_str() {
        say!("  note    {logical_id}: {reason}");
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
            // An architecture is changed with the code (UpdateFunctionCode takes it).
            let architectures = if f.architectures.is_empty() {
                json!(["x86_64"])
            } else {
                json!(f.architectures)
            };
            let code_changed = code_changed
                || previous
                    .get("Architectures")
                    .is_some_and(|a| *a != architectures);
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
                        Some(&json!({
                            "ZipFile": b64(&package.zip),
                            "Architectures": architectures,
                        })),
                    )
                    .await?;
            }
            let mut config = f.config.clone();
            // Removing Tracing from the template turns tracing off again.
            config
                .entry("TracingConfig")
                .or_insert(json!({"Mode": "PassThrough"}));
            let updated = cloud
                .lambda(
                    "PUT",
                    &format!("{path}/configuration"),
                    Some(&Value::Object(config)),
                )
                .await?;
            runtime_note(&d.logical_id, &updated);
            cloud.set_function_tags(&a.arn, &a.tags, &tags).await?;
            cloud.function_extras(f, false, done).await
        }
        Spec::Table(t) => {
            let undo = cloud.update_table(&t.name, &t.create).await?;
            done.push(Done::UpdatedTable {
                arn: a.arn.clone(),
                name: t.name.clone(),
                undo,
                ttl_before: None,
                index_undo: Vec::new(),
                tags: a.tags.clone(),
                new_tags: tags.clone(),
            });
            let changed = cloud
                .sync_ttl(&t.name, cloud::ttl_attribute(t.ttl.as_ref()))
                .await?;
            if let Some(Done::UpdatedTable { ttl_before, .. }) = done.last_mut() {
                *ttl_before = changed;
            }
            let mut undo_indexes = Vec::new();
            let synced = cloud
                .sync_global_indexes(&t.name, &t.create, &mut undo_indexes)
                .await;
            if let Some(Done::UpdatedTable { index_undo, .. }) = done.last_mut() {
                *index_undo = undo_indexes;
            }
            synced?;
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
        Spec::RestApi(spec) => {
            let id = &a.actual.physical;
            let previous = cloud.read_rest_api(id).await?;
            done.push(Done::UpdatedRestApi {
                id: id.clone(),
                previous,
            });
            cloud.sync_rest_api(id, spec, &tags).await
        }
    }
}

/// `--watch`: when a function's CodeUri folder changes, rebuilds it (when it has a build),
/// re-packages it and updates its code. Changes under `.nimbus/` (the build output, when
/// CodeUri is the template's folder) are not watched.
fn watch(
    rt: &tokio::runtime::Runtime,
    cloud: &Cloud,
    p: &Prepared,
    builder: &Builder,
    template_dir: &Path,
) -> anyhow::Result<()> {
    use notify::{RecursiveMode, Watcher};
    let mut watched: Vec<(PathBuf, &Desired, &FunctionSpec)> = Vec::new();
    for d in &p.resolved.resources {
        if let Spec::Function(f) = &d.spec
            && let CodeSource::Dir(dir) = &f.code
        {
            let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
            watched.push((dir, d, f));
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
            let paths: Vec<PathBuf> = event
                .paths
                .into_iter()
                .filter(|p| !p.components().any(|c| c.as_os_str() == ".nimbus"))
                .collect();
            if !paths.is_empty() {
                let _ = tx.send(paths);
            }
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
        for (dir, d, f) in &watched {
            if !changed.iter().any(|c| c.starts_with(dir)) {
                continue;
            }
            let logical_id = &d.logical_id;
            let built = match build::build_function(builder, template_dir, d, f, Progress::Stdout) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("{e:#}");
                    continue;
                }
            };
            let package = match package(&build::code_of(f, &built)) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("{logical_id}: package the code: {e}");
                    continue;
                }
            };
            if last.get(logical_id.as_str()) == Some(&package.sha256) {
                continue;
            }
            let name = &f.name;
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

    fn resolved(text: &str) -> Resolved {
        let template = Template::parse(text).expect("template");
        resolve(
            &template,
            &Inputs {
                stack: "shop",
                region: "us-east-1",
                account: "000000000000",
                template_dir: Path::new("."),
                overrides: &BTreeMap::new(),
                actual: &[],
            },
        )
        .expect("resolve")
    }

    const TEMPLATE: &str = "Resources:\n  Items:\n    Type: AWS::Serverless::SimpleTable\n  Bucket:\n    Type: AWS::S3::Bucket\n    Properties: {BucketName: uploads}\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      InlineCode: x\n      Handler: index.handler\n      Runtime: python3.12\n      AutoPublishAlias: live\n      Policies:\n        - DynamoDBCrudPolicy: {TableName: !Ref Items}\n        - AmazonDynamoDBReadOnlyAccess\n";

    #[test]
    fn strict_refuses_what_is_not_deployed() {
        let r = resolved(TEMPLATE);
        let err = not_deployed(&r, true).expect_err("strict");
        assert_eq!(
            format!("{err:#}"),
            format!(
                "--strict: the template has resources Nimbus does not deploy; nothing was changed:\n  {:<24} {:<32} (template line 4) Ref = uploads",
                "Bucket", "AWS::S3::Bucket"
            )
        );
        assert!(not_deployed(&r, false).is_ok());
    }

    #[test]
    fn function_steps_show_alias_and_permissions_and_tag_them() {
        let r = resolved(TEMPLATE);
        let d = r
            .resources
            .iter()
            .find(|d| d.kind() == Kind::Function)
            .expect("function");
        let Spec::Function(f) = &d.spec else {
            panic!("function")
        };
        let table = r.resources[0].physical_name().expect("table").to_owned();
        let done = [Done::Alias {
            function: f.name.clone(),
            alias: "live".into(),
            version: "3".into(),
            previous: Some("2".into()),
        }];
        assert_eq!(
            function_notes(d, &done),
            [
                "alias live -> version 3".to_owned(),
                "may read+stream-read every table (AmazonDynamoDBReadOnlyAccess; recorded, not enforced)".to_owned(),
                format!("may read+write+delete {table} (DynamoDBCrudPolicy; recorded, not enforced)"),
            ]
        );
        let tags = stack_tags("shop", d);
        assert_eq!(tags["nimbus:table-access:1"], "read+stream-read :all");
        let policies = &tags["nimbus:policies"];
        assert!(
            policies
                .chars()
                .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c)),
            "{policies}"
        );
        assert!(policies.contains("DynamoDBCrudPolicy:"), "{policies}");
        assert_eq!(
            tags["nimbus:table-access:2"],
            format!("read+write+delete {table}")
        );
    }
}
