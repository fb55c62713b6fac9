//! API Gateway over REST JSON: v2 (HTTP APIs, `/v2/apis/...`, `/v2/tags/...`) and v1 (REST
//! APIs, `/restapis/...`, `/tags/...`) requests to calls on [`Gateway`], run on a blocking
//! thread since management operations touch storage, and the one mapping from
//! [`GatewayError`] to API Gateway's error responses. v1 lists are `{"item": [...]}` and its
//! deletes of APIs, resources, deployments and stages answer 202, as the model says.

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode};
use nimbus_gateway::model::*;
use nimbus_gateway::rest::{
    CreateDeploymentInput, CreateResourceInput, CreateRestApiInput, CreateStageInput, PatchInput,
    PutIntegrationInput, PutMethodInput,
};
use nimbus_gateway::{Gateway, GatewayError};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::{AwsError, Protocol};

const NAMESPACE: &str = "com.amazonaws.apigateway";

/// The one mapping from gateway errors to API Gateway error responses.
pub fn to_aws(err: GatewayError) -> AwsError {
    let p = Protocol::RestJson;
    match err {
        GatewayError::NotFound { message, .. } => AwsError::new(
            p,
            StatusCode::NOT_FOUND,
            NAMESPACE,
            "NotFoundException",
            message,
        ),
        GatewayError::BadRequest(m) => AwsError::new(
            p,
            StatusCode::BAD_REQUEST,
            NAMESPACE,
            "BadRequestException",
            m,
        ),
        GatewayError::Conflict(m) => {
            AwsError::new(p, StatusCode::CONFLICT, NAMESPACE, "ConflictException", m)
        }
        GatewayError::Internal(m) => {
            tracing::error!("gateway operation failed: {m}");
            AwsError::internal(p)
        }
    }
}

fn percent_decode(s: &str) -> String {
    nimbus_gateway::routes::percent_decode(s)
}

fn parse<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, AwsError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        AwsError::new(
            Protocol::RestJson,
            StatusCode::BAD_REQUEST,
            NAMESPACE,
            "BadRequestException",
            format!("Invalid request body: {e}"),
        )
    })
}

fn json_status(status: StatusCode, value: Value) -> Response {
    (
        status,
        [(http::header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// What an operation returns.
enum Out {
    Created(Value),
    Ok(Value),
    Accepted,
    NoContent,
}

fn items<T: serde::Serialize>(list: Vec<T>) -> Out {
    Out::Ok(json!({ "items": list.iter().map(to_value).collect::<Vec<_>>() }))
}

/// Runs one API Gateway v2 operation.
pub async fn handle(
    gateway: &Arc<Gateway>,
    parts: &http::request::Parts,
    body: bytes::Bytes,
) -> Result<Response, AwsError> {
    let segments: Vec<String> = parts
        .uri
        .path()
        .trim_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let query: Vec<(String, String)> =
        form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    let method = parts.method.clone();
    let gateway = Arc::clone(gateway);
    let out = tokio::task::spawn_blocking(move || run(&gateway, &method, &segments, &query, &body))
        .await
        .map_err(|e| {
            tracing::error!("gateway operation panicked: {e}");
            AwsError::internal(Protocol::RestJson)
        })??;
    Ok(match out {
        Out::Created(v) => json_status(StatusCode::CREATED, v),
        Out::Ok(v) => json_status(StatusCode::OK, v),
        Out::Accepted => StatusCode::ACCEPTED.into_response(),
        Out::NoContent => StatusCode::NO_CONTENT.into_response(),
    })
}

fn run(
    gw: &Gateway,
    method: &Method,
    segments: &[String],
    query: &[(String, String)],
    body: &[u8],
) -> Result<Out, AwsError> {
    let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
    if seg.first() != Some(&"v2") {
        return run_v1(gw, method.as_str(), &seg, query, body);
    }
    let m = method.as_str();
    let e = to_aws;
    let out = match (m, seg.as_slice()) {
        ("POST", ["v2", "apis"]) => {
            Out::Created(to_value(&gw.create_api(parse(body)?).map_err(e)?))
        }
        ("GET", ["v2", "apis"]) => items(gw.get_apis().map_err(e)?),
        ("GET", ["v2", "apis", api]) => Out::Ok(to_value(&gw.get_api(api).map_err(e)?)),
        ("PATCH", ["v2", "apis", api]) => {
            Out::Ok(to_value(&gw.update_api(api, parse(body)?).map_err(e)?))
        }
        ("DELETE", ["v2", "apis", api]) => {
            gw.delete_api(api).map_err(e)?;
            Out::NoContent
        }
        ("DELETE", ["v2", "apis", api, "cors"]) => {
            gw.delete_cors_configuration(api).map_err(e)?;
            Out::NoContent
        }
        // routes
        ("POST", ["v2", "apis", api, "routes"]) => {
            Out::Created(to_value(&gw.create_route(api, parse(body)?).map_err(e)?))
        }
        ("GET", ["v2", "apis", api, "routes"]) => items(gw.get_routes(api).map_err(e)?),
        ("GET", ["v2", "apis", api, "routes", id]) => {
            Out::Ok(to_value(&gw.get_route(api, id).map_err(e)?))
        }
        ("PATCH", ["v2", "apis", api, "routes", id]) => Out::Ok(to_value(
            &gw.update_route(api, id, parse(body)?).map_err(e)?,
        )),
        ("DELETE", ["v2", "apis", api, "routes", id]) => {
            gw.delete_route(api, id).map_err(e)?;
            Out::NoContent
        }
        // integrations
        ("POST", ["v2", "apis", api, "integrations"]) => Out::Created(to_value(
            &gw.create_integration(api, parse(body)?).map_err(e)?,
        )),
        ("GET", ["v2", "apis", api, "integrations"]) => items(gw.get_integrations(api).map_err(e)?),
        ("GET", ["v2", "apis", api, "integrations", id]) => {
            Out::Ok(to_value(&gw.get_integration(api, id).map_err(e)?))
        }
        ("PATCH", ["v2", "apis", api, "integrations", id]) => Out::Ok(to_value(
            &gw.update_integration(api, id, parse(body)?).map_err(e)?,
        )),
        ("DELETE", ["v2", "apis", api, "integrations", id]) => {
            gw.delete_integration(api, id).map_err(e)?;
            Out::NoContent
        }
        // stages
        ("POST", ["v2", "apis", api, "stages"]) => {
            Out::Created(to_value(&gw.create_stage(api, parse(body)?).map_err(e)?))
        }
        ("GET", ["v2", "apis", api, "stages"]) => items(gw.get_stages(api).map_err(e)?),
        ("GET", ["v2", "apis", api, "stages", name]) => {
            Out::Ok(to_value(&gw.get_stage(api, name).map_err(e)?))
        }
        ("PATCH", ["v2", "apis", api, "stages", name]) => Out::Ok(to_value(
            &gw.update_stage(api, name, parse(body)?).map_err(e)?,
        )),
        ("DELETE", ["v2", "apis", api, "stages", name]) => {
            gw.delete_stage(api, name).map_err(e)?;
            Out::NoContent
        }
        ("DELETE", ["v2", "apis", api, "stages", name, "routesettings", key]) => {
            gw.delete_route_settings(api, name, key).map_err(e)?;
            Out::NoContent
        }
        ("DELETE", ["v2", "apis", _api, "stages", _name, "cache", "authorizers"]) => Out::NoContent,
        // deployments
        ("POST", ["v2", "apis", api, "deployments"]) => Out::Created(to_value(
            &gw.create_deployment(api, parse::<DeploymentInput>(body)?)
                .map_err(e)?,
        )),
        ("GET", ["v2", "apis", api, "deployments"]) => items(gw.get_deployments(api).map_err(e)?),
        ("GET", ["v2", "apis", api, "deployments", id]) => {
            Out::Ok(to_value(&gw.get_deployment(api, id).map_err(e)?))
        }
        ("DELETE", ["v2", "apis", api, "deployments", id]) => {
            gw.delete_deployment(api, id).map_err(e)?;
            Out::NoContent
        }
        // authorizers
        ("POST", ["v2", "apis", api, "authorizers"]) => Out::Created(to_value(
            &gw.create_authorizer(api, parse(body)?).map_err(e)?,
        )),
        ("GET", ["v2", "apis", api, "authorizers"]) => items(gw.get_authorizers(api).map_err(e)?),
        ("GET", ["v2", "apis", api, "authorizers", id]) => {
            Out::Ok(to_value(&gw.get_authorizer(api, id).map_err(e)?))
        }
        ("PATCH", ["v2", "apis", api, "authorizers", id]) => Out::Ok(to_value(
            &gw.update_authorizer(api, id, parse(body)?).map_err(e)?,
        )),
        ("DELETE", ["v2", "apis", api, "authorizers", id]) => {
            gw.delete_authorizer(api, id).map_err(e)?;
            Out::NoContent
        }
        // tags: the ARN may itself contain '/', so it is the rest of the path
        ("GET", ["v2", "tags", arn @ ..]) if !arn.is_empty() => {
            Out::Ok(json!({ "tags": gw.get_tags(&arn.join("/")).map_err(e)? }))
        }
        ("POST", ["v2", "tags", arn @ ..]) if !arn.is_empty() => {
            #[derive(Default, serde::Deserialize)]
            struct TagBody {
                #[serde(default)]
                tags: Tags,
            }
            let b: TagBody = parse(body)?;
            gw.tag_resource(&arn.join("/"), b.tags).map_err(e)?;
            Out::Created(json!({}))
        }
        ("DELETE", ["v2", "tags", arn @ ..]) if !arn.is_empty() => {
            let keys: Vec<String> = query
                .iter()
                .filter(|(k, _)| k == "tagKeys")
                .map(|(_, v)| v.clone())
                .collect();
            gw.untag_resource(&arn.join("/"), &keys).map_err(e)?;
            Out::NoContent
        }
        _ => {
            return Err(AwsError::new(
                Protocol::RestJson,
                StatusCode::NOT_FOUND,
                NAMESPACE,
                "NotFoundException",
                format!("Unsupported API Gateway operation: {m} /{}", seg.join("/")),
            ));
        }
    };
    Ok(out)
}

/// v1 lists: `{"item": [...]}`.
fn item<T: serde::Serialize>(list: Vec<T>) -> Out {
    Out::Ok(json!({ "item": list.iter().map(to_value).collect::<Vec<_>>() }))
}

/// A v1 list that pages (`GetRestApis`, `GetResources`, `GetDeployments`): `limit` (1 to 500)
/// and `position` as API Gateway takes them; the position is the offset of the next page.
/// Without `limit` the rest of the list comes in one answer.
fn page<T: serde::Serialize>(list: Vec<T>, query: &[(String, String)]) -> Result<Out, AwsError> {
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let bad = |message: String| {
        AwsError::new(
            Protocol::RestJson,
            StatusCode::BAD_REQUEST,
            NAMESPACE,
            "BadRequestException",
            message,
        )
    };
    let start = match get("position") {
        None => 0,
        Some(p) => p
            .parse::<usize>()
            .map_err(|_| bad(format!("Invalid position parameter: {p}")))?,
    };
    let limit = match get("limit") {
        None => usize::MAX,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=500).contains(&n) => n,
            _ => {
                return Err(bad(format!(
                    "Invalid limit parameter: {l}; it must be 1 to 500"
                )));
            }
        },
    };
    let start = start.min(list.len());
    let end = start.saturating_add(limit).min(list.len());
    let mut out = json!({ "item": list[start..end].iter().map(to_value).collect::<Vec<_>>() });
    if end < list.len() {
        out["position"] = json!(end.to_string());
    }
    Ok(Out::Ok(out))
}

fn unsupported(m: &str, seg: &[&str]) -> AwsError {
    AwsError::new(
        Protocol::RestJson,
        StatusCode::NOT_FOUND,
        NAMESPACE,
        "NotFoundException",
        format!("Unsupported API Gateway operation: {m} /{}", seg.join("/")),
    )
}

/// API Gateway v1: REST APIs and their tags.
fn run_v1(
    gw: &Gateway,
    m: &str,
    seg: &[&str],
    query: &[(String, String)],
    body: &[u8],
) -> Result<Out, AwsError> {
    let e = to_aws;
    let q = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let embed = query
        .iter()
        .any(|(k, v)| k == "embed" && v.split(',').any(|x| x == "methods"));
    let value = |body: &[u8]| -> Result<Value, AwsError> {
        Ok(parse::<Option<Value>>(body)?.unwrap_or_else(|| json!({})))
    };
    let out = match (m, seg) {
        ("POST", ["restapis"]) => Out::Created(to_value(
            &gw.create_rest_api(parse::<CreateRestApiInput>(body)?)
                .map_err(e)?,
        )),
        ("GET", ["restapis"]) => page(gw.get_rest_apis().map_err(e)?, query)?,
        ("GET", ["restapis", api]) => Out::Ok(to_value(&gw.get_rest_api(api).map_err(e)?)),
        ("PATCH", ["restapis", api]) => Out::Ok(to_value(
            &gw.update_rest_api(api, parse::<PatchInput>(body)?)
                .map_err(e)?,
        )),
        ("DELETE", ["restapis", api]) => {
            gw.delete_rest_api(api).map_err(e)?;
            Out::Accepted
        }
        // resources
        ("GET", ["restapis", api, "resources"]) => {
            page(gw.get_resources(api, embed).map_err(e)?, query)?
        }
        ("GET", ["restapis", api, "resources", id]) => {
            Out::Ok(gw.get_resource(api, id, embed).map_err(e)?)
        }
        ("POST", ["restapis", api, "resources", parent]) => Out::Created(
            gw.create_resource(api, parent, parse::<CreateResourceInput>(body)?)
                .map_err(e)?,
        ),
        ("DELETE", ["restapis", api, "resources", id]) => {
            gw.delete_resource(api, id).map_err(e)?;
            Out::Accepted
        }
        // methods
        ("PUT", ["restapis", api, "resources", id, "methods", method]) => Out::Created(to_value(
            &gw.put_method(api, id, method, parse::<PutMethodInput>(body)?)
                .map_err(e)?,
        )),
        ("GET", ["restapis", api, "resources", id, "methods", method]) => {
            Out::Ok(to_value(&gw.get_method(api, id, method).map_err(e)?))
        }
        ("PATCH", ["restapis", api, "resources", id, "methods", method]) => Out::Ok(to_value(
            &gw.update_method(api, id, method, parse::<PatchInput>(body)?)
                .map_err(e)?,
        )),
        ("DELETE", ["restapis", api, "resources", id, "methods", method]) => {
            gw.delete_method(api, id, method).map_err(e)?;
            Out::NoContent
        }
        (
            "PUT",
            [
                "restapis",
                api,
                "resources",
                id,
                "methods",
                method,
                "responses",
                status,
            ],
        ) => Out::Created(
            gw.put_method_response(api, id, method, status, value(body)?)
                .map_err(e)?,
        ),
        // integrations
        (
            "PUT",
            [
                "restapis",
                api,
                "resources",
                id,
                "methods",
                method,
                "integration",
            ],
        ) => Out::Created(to_value(
            &gw.put_integration(api, id, method, parse::<PutIntegrationInput>(body)?)
                .map_err(e)?,
        )),
        (
            "GET",
            [
                "restapis",
                api,
                "resources",
                id,
                "methods",
                method,
                "integration",
            ],
        ) => Out::Ok(to_value(
            &gw.get_rest_integration(api, id, method).map_err(e)?,
        )),
        (
            "DELETE",
            [
                "restapis",
                api,
                "resources",
                id,
                "methods",
                method,
                "integration",
            ],
        ) => {
            gw.delete_rest_integration(api, id, method).map_err(e)?;
            Out::NoContent
        }
        (
            "PUT",
            [
                "restapis",
                api,
                "resources",
                id,
                "methods",
                method,
                "integration",
                "responses",
                status,
            ],
        ) => Out::Created(
            gw.put_integration_response(api, id, method, status, value(body)?)
                .map_err(e)?,
        ),
        // deployments
        ("POST", ["restapis", api, "deployments"]) => Out::Created(to_value(
            &gw.create_rest_deployment(api, parse::<CreateDeploymentInput>(body)?)
                .map_err(e)?,
        )),
        ("GET", ["restapis", api, "deployments"]) => {
            page(gw.get_rest_deployments(api).map_err(e)?, query)?
        }
        ("GET", ["restapis", api, "deployments", id]) => {
            Out::Ok(to_value(&gw.get_rest_deployment(api, id).map_err(e)?))
        }
        ("DELETE", ["restapis", api, "deployments", id]) => {
            gw.delete_rest_deployment(api, id).map_err(e)?;
            Out::Accepted
        }
        // stages
        ("POST", ["restapis", api, "stages"]) => Out::Created(to_value(
            &gw.create_rest_stage(api, parse::<CreateStageInput>(body)?)
                .map_err(e)?,
        )),
        ("GET", ["restapis", api, "stages"]) => {
            item(gw.get_rest_stages(api, q("deploymentId")).map_err(e)?)
        }
        ("GET", ["restapis", api, "stages", name]) => {
            Out::Ok(to_value(&gw.get_rest_stage(api, name).map_err(e)?))
        }
        ("PATCH", ["restapis", api, "stages", name]) => Out::Ok(to_value(
            &gw.update_rest_stage(api, name, parse::<PatchInput>(body)?)
                .map_err(e)?,
        )),
        ("DELETE", ["restapis", api, "stages", name]) => {
            gw.delete_rest_stage(api, name).map_err(e)?;
            Out::Accepted
        }
        // tags: the ARN may itself contain '/', so it is the rest of the path
        (_, ["tags", arn @ ..]) if !arn.is_empty() => {
            let arn = arn.join("/");
            let (api, stage) = Gateway::rest_tag_target(&arn).ok_or_else(|| {
                AwsError::new(
                    Protocol::RestJson,
                    StatusCode::BAD_REQUEST,
                    NAMESPACE,
                    "BadRequestException",
                    format!("Invalid resource ARN {arn}"),
                )
            })?;
            let stage = stage.as_deref();
            match m {
                "GET" => Out::Ok(json!({ "tags": gw.get_rest_tags(&api, stage).map_err(e)? })),
                "PUT" => {
                    #[derive(Default, serde::Deserialize)]
                    struct TagBody {
                        #[serde(default)]
                        tags: Tags,
                    }
                    let b: TagBody = parse(body)?;
                    gw.tag_rest(&api, stage, b.tags).map_err(e)?;
                    Out::NoContent
                }
                "DELETE" => {
                    let keys: Vec<String> = query
                        .iter()
                        .filter(|(k, _)| k == "tagKeys")
                        .map(|(_, v)| v.clone())
                        .collect();
                    gw.untag_rest(&api, stage, &keys).map_err(e)?;
                    Out::NoContent
                }
                _ => return Err(unsupported(m, seg)),
            }
        }
        _ => return Err(unsupported(m, seg)),
    };
    Ok(out)
}
