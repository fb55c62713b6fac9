//! `nimbus apis`: the running server's HTTP APIs (API Gateway v2) and REST APIs (API Gateway
//! v1), their routes or resources, their stages and URLs.

use clap::{Args, Subcommand};
use serde_json::Value;

use crate::cli::ServerArgs;
use crate::client::Client;
use crate::commands::{encode, runtime};
use crate::config::Config;
use crate::output::{Table, print_fields, print_json, rest_json, text};

/// The tag that serves an API at the root of the gateway port.
const ROOT_TAG: &str = "nimbus:root";

#[derive(Debug, Args)]
pub struct ApisArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Option<ApisCommand>,
}

#[derive(Debug, Subcommand)]
pub enum ApisCommand {
    /// List HTTP and REST APIs with their endpoints (the default).
    #[command(after_help = "Examples:\n  nimbus apis list\n  nimbus apis list --json")]
    List,
    /// Show one API with its routes, integrations and stages.
    #[command(
        after_help = "Examples:\n  nimbus apis get a1b2c3d4e5\n  nimbus apis get shop --json"
    )]
    Get {
        /// API id, or the API's name.
        id: String,
    },
}

pub fn run(args: ApisArgs) -> anyhow::Result<()> {
    let config = Config::resolve(&args.server, false)?;
    runtime()?.block_on(async {
        let client = Client::new(&config)?;
        match args.command.unwrap_or(ApisCommand::List) {
            ApisCommand::List => list(&client, args.json, config.gateway.port()).await,
            ApisCommand::Get { id } => get(&client, &id, args.json, config.gateway.port()).await,
        }
    })
}

async fn apis(client: &Client) -> anyhow::Result<Vec<Value>> {
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut path = "/v2/apis".to_owned();
        if let Some(t) = &token {
            path.push_str(&format!("?nextToken={}", encode(t)));
        }
        let page = rest_json(client, "apigateway", "GET", &path, None)
            .await?
            .body;
        all.extend(page["items"].as_array().into_iter().flatten().cloned());
        token = page["nextToken"].as_str().map(str::to_owned);
        if token.is_none() {
            return Ok(all);
        }
    }
}

/// The REST APIs, each in the list's shape: `apiId`, `name`, `protocolType` `REST`,
/// `apiEndpoint` (the stages' URLs, `http://{id}.execute-api.localhost:{port}/{stage}/`,
/// separated by spaces), `createdDate`, `tags`, `stages` and `urls`.
async fn rest_apis(client: &Client, gateway_port: u16) -> anyhow::Result<Vec<Value>> {
    let page = rest_json(client, "apigateway", "GET", "/restapis", None)
        .await?
        .body;
    let mut out = Vec::new();
    for api in page["item"].as_array().into_iter().flatten() {
        let id = text(&api["id"]);
        let stages = rest_json(
            client,
            "apigateway",
            "GET",
            &format!("/restapis/{}/stages", encode(&id)),
            None,
        )
        .await?
        .body["item"]
            .clone();
        let names: Vec<String> = stages
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| text(&s["stageName"]))
            .collect();
        let urls: Vec<String> = names
            .iter()
            .map(|s| format!("http://{id}.execute-api.localhost:{gateway_port}/{s}/"))
            .collect();
        let created = api["createdDate"]
            .as_i64()
            .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
        out.push(serde_json::json!({
            "apiId": id,
            "name": api["name"],
            "protocolType": "REST",
            "apiEndpoint": urls.join(" "),
            "createdDate": created,
            "tags": api["tags"],
            "stages": names,
            "urls": urls,
            "rootResourceId": api["rootResourceId"],
        }));
    }
    Ok(out)
}

fn is_root(api: &Value) -> bool {
    api["tags"][ROOT_TAG].as_str() == Some("true")
}

async fn list(client: &Client, json: bool, gateway_port: u16) -> anyhow::Result<()> {
    let mut apis = apis(client).await?;
    apis.extend(rest_apis(client, gateway_port).await?);
    if json {
        return print_json(&Value::Array(apis));
    }
    if apis.is_empty() {
        println!(
            "No APIs. Create one with `aws apigatewayv2 create-api` or `aws apigateway create-rest-api`, or deploy a SAM template with `nimbus deploy`."
        );
        return Ok(());
    }
    let mut out = Table::new(["ID", "NAME", "PROTOCOL", "ENDPOINT", "CREATED"]);
    for api in &apis {
        out.row(vec![
            text(&api["apiId"]),
            text(&api["name"]),
            text(&api["protocolType"]),
            endpoints(api, gateway_port),
            text(&api["createdDate"]),
        ]);
    }
    out.print()
}

/// The API's endpoint, and the port's root when the API is served there.
fn endpoints(api: &Value, gateway_port: u16) -> String {
    let endpoint = text(&api["apiEndpoint"]);
    if is_root(api) {
        format!("{endpoint} (and http://127.0.0.1:{gateway_port}/)")
    } else {
        endpoint
    }
}

async fn get(client: &Client, id: &str, json: bool, gateway_port: u16) -> anyhow::Result<()> {
    let path = format!("/v2/apis/{}", encode(id));
    let reply = rest_json(client, "apigateway", "GET", &path, None).await?;
    if reply.status == http::StatusCode::NOT_FOUND
        && let Some(api) = rest_apis(client, gateway_port)
            .await?
            .into_iter()
            .find(|a| a["apiId"].as_str() == Some(id) || a["name"].as_str() == Some(id))
    {
        return get_rest(client, api, json).await;
    }
    let mut api = if reply.status == http::StatusCode::NOT_FOUND {
        let mut named = apis(client)
            .await?
            .into_iter()
            .filter(|a| a["name"].as_str() == Some(id));
        match (named.next(), named.next()) {
            (Some(api), None) => api,
            (Some(_), Some(_)) => anyhow::bail!(
                "several APIs are named {id:?}; name one by its id (see `nimbus apis list`)"
            ),
            (None, _) => {
                anyhow::bail!("no API has the id or name {id:?}; list them with `nimbus apis list`")
            }
        }
    } else {
        reply.body
    };
    let api_id = text(&api["apiId"]);
    let sub = |what: &'static str| {
        let path = format!("/v2/apis/{}/{what}", encode(&api_id));
        async move {
            anyhow::Ok(
                rest_json(client, "apigateway", "GET", &path, None)
                    .await?
                    .body["items"]
                    .clone(),
            )
        }
    };
    let routes = sub("routes").await?;
    let integrations = sub("integrations").await?;
    let stages = sub("stages").await?;
    if json {
        api["routes"] = routes;
        api["integrations"] = integrations;
        api["stages"] = stages;
        return print_json(&api);
    }
    let stage_names = stages
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| text(&s["stageName"]))
        .collect::<Vec<_>>()
        .join(", ");
    print_fields(&[
        ("API", api_id.clone()),
        ("Name", text(&api["name"])),
        ("Protocol", text(&api["protocolType"])),
        ("Endpoint", endpoints(&api, gateway_port)),
        ("Stages", stage_names),
        ("Created", text(&api["createdDate"])),
    ])?;
    let routes = routes.as_array().cloned().unwrap_or_default();
    if routes.is_empty() {
        println!("\nNo routes.");
        return Ok(());
    }
    let integration = |target: &str| -> String {
        let id = target.strip_prefix("integrations/").unwrap_or(target);
        integrations
            .as_array()
            .into_iter()
            .flatten()
            .find(|i| i["integrationId"].as_str() == Some(id))
            .map(|i| text(&i["integrationUri"]))
            .unwrap_or_else(|| target.to_owned())
    };
    let mut out = Table::new(["ROUTE", "AUTHORIZATION", "TARGET"]);
    for r in &routes {
        out.row(vec![
            text(&r["routeKey"]),
            text(&r["authorizationType"]),
            integration(&text(&r["target"])),
        ]);
    }
    println!();
    out.print()
}

/// `nimbus apis get` of a REST API: its stages with their URLs, and its methods.
async fn get_rest(client: &Client, mut api: Value, json: bool) -> anyhow::Result<()> {
    let id = text(&api["apiId"]);
    let resources = rest_json(
        client,
        "apigateway",
        "GET",
        &format!("/restapis/{}/resources?embed=methods", encode(&id)),
        None,
    )
    .await?
    .body["item"]
        .clone();
    if json {
        api["resources"] = resources;
        return print_json(&api);
    }
    print_fields(&[
        ("API", id.clone()),
        ("Name", text(&api["name"])),
        ("Protocol", "REST".to_owned()),
        ("Endpoint", text(&api["apiEndpoint"])),
        ("Created", text(&api["createdDate"])),
    ])?;
    let mut out = Table::new(["METHOD", "RESOURCE", "INTEGRATION"]);
    let mut any = false;
    for r in resources.as_array().into_iter().flatten() {
        for (method, m) in r["resourceMethods"].as_object().into_iter().flatten() {
            let i = &m["methodIntegration"];
            let target = match i["type"].as_str() {
                Some("AWS_PROXY") => text(&i["uri"]),
                Some(other) => other.to_owned(),
                None => "-".to_owned(),
            };
            out.row(vec![method.clone(), text(&r["path"]), target]);
            any = true;
        }
    }
    if !any {
        println!("\nNo methods.");
        return Ok(());
    }
    println!();
    out.print()
}
