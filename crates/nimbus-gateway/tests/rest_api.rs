//! REST APIs end to end in memory: management calls build an API, requests go through the
//! data-plane router (`tower::ServiceExt::oneshot`) to an echo function, and a gateway opened
//! again over the same store serves what was deployed.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::BodyExt;
use nimbus_gateway::invoke::{FunctionRef, InvokeFailure, InvokeFuture, Invoked, Invoker};
use nimbus_gateway::rest::*;
use nimbus_gateway::{Gateway, GatewayConfig};
use nimbus_store::Store;
use serde_json::{Value, json};
use tower::ServiceExt;

/// `echo` answers with its event; `fail` fails; `busy` is throttled.
struct Functions;

impl Invoker for Functions {
    fn invoke(&self, function: FunctionRef, payload: Bytes) -> InvokeFuture {
        Box::pin(async move {
            match function.name.as_str() {
                "echo" => Ok(Invoked {
                    payload: Bytes::from(
                        json!({"statusCode": 200,
                               "body": String::from_utf8_lossy(&payload)})
                        .to_string(),
                    ),
                    function_error: false,
                }),
                "fail" => Ok(Invoked {
                    payload: Bytes::from_static(br#"{"errorMessage":"boom"}"#),
                    function_error: true,
                }),
                "busy" => Err(InvokeFailure::Throttled("Rate Exceeded.".into())),
                other => Err(InvokeFailure::NotFound(other.into())),
            }
        })
    }
}

fn gateway(store: Arc<dyn Store>, dir: &tempfile::TempDir) -> Arc<Gateway> {
    Arc::new(
        Gateway::new(
            store,
            GatewayConfig {
                region: "us-east-1".into(),
                account_id: "000000000000".into(),
                port: 8080,
                logs_dir: dir.path().join("logs"),
            },
            Arc::new(Functions),
        )
        .expect("gateway"),
    )
}

fn uri(function: &str) -> String {
    format!(
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:{function}/invocations"
    )
}

async fn call(
    gw: &Arc<Gateway>,
    api: &str,
    method: &str,
    path: &str,
) -> (u16, http::HeaderMap, Bytes) {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", format!("{api}.execute-api.localhost:8080"))
        .body(axum::body::Body::empty())
        .expect("request");
    let response = nimbus_gateway::router(Arc::clone(gw))
        .oneshot(request)
        .await
        .expect("infallible");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, headers, body)
}

fn method(gw: &Gateway, api: &str, resource: &str, verb: &str, function: &str) {
    gw.put_method(
        api,
        resource,
        verb,
        PutMethodInput {
            authorization_type: Some("NONE".into()),
            ..PutMethodInput::default()
        },
    )
    .expect("method");
    gw.put_integration(
        api,
        resource,
        verb,
        PutIntegrationInput {
            kind: Some("AWS_PROXY".into()),
            http_method: Some("POST".into()),
            uri: Some(uri(function)),
            ..PutIntegrationInput::default()
        },
    )
    .expect("integration");
}

#[tokio::test]
async fn rest_apis_serve_their_deployments_and_survive_a_reopen() {
    let dir = tempfile::tempdir().expect("dir");
    let store: Arc<dyn Store> = Arc::new(nimbus_store::mem::MemStore::default());
    let gw = gateway(Arc::clone(&store), &dir);
    let api = gw
        .create_rest_api(CreateRestApiInput {
            name: Some("shop".into()),
            ..CreateRestApiInput::default()
        })
        .expect("api");
    let items = gw
        .create_resource(
            &api.id,
            &api.root_resource_id,
            CreateResourceInput {
                path_part: Some("items".into()),
            },
        )
        .expect("resource");
    let items = items["id"].as_str().expect("id").to_owned();
    let broken = gw
        .create_resource(
            &api.id,
            &api.root_resource_id,
            CreateResourceInput {
                path_part: Some("broken".into()),
            },
        )
        .expect("resource");
    let broken = broken["id"].as_str().expect("id").to_owned();
    method(&gw, &api.id, &items, "GET", "echo");
    method(&gw, &api.id, &broken, "ANY", "fail");
    let busy = gw
        .create_resource(
            &api.id,
            &api.root_resource_id,
            CreateResourceInput {
                path_part: Some("busy".into()),
            },
        )
        .expect("resource");
    method(
        &gw,
        &api.id,
        busy["id"].as_str().expect("id"),
        "GET",
        "busy",
    );
    // Nothing is served before a deployment.
    assert_eq!(call(&gw, &api.id, "GET", "/prod/items").await.0, 403);
    gw.create_rest_deployment(
        &api.id,
        CreateDeploymentInput {
            stage_name: Some("prod".into()),
            variables: Some([("v".to_owned(), "1".to_owned())].into()),
            ..CreateDeploymentInput::default()
        },
    )
    .expect("deployment");

    let (status, headers, body) = call(&gw, &api.id, "GET", "/prod/items?x=1").await;
    assert_eq!(status, 200, "{body:?}");
    assert!(headers.contains_key("x-amzn-requestid"));
    let event: Value = serde_json::from_slice(&body).expect("event");
    assert_eq!(event["resource"], "/items");
    assert_eq!(event["path"], "/items");
    assert_eq!(event["requestContext"]["path"], "/prod/items");
    assert_eq!(event["requestContext"]["resourceId"], items.as_str());
    assert_eq!(event["stageVariables"], json!({"v": "1"}));
    assert_eq!(event["queryStringParameters"], json!({"x": "1"}));

    let (status, headers, body) = call(&gw, &api.id, "POST", "/prod/items").await;
    assert_eq!(status, 403);
    assert_eq!(
        headers.get("x-amzn-errortype").map(|v| v.as_bytes()),
        Some(&b"MissingAuthenticationTokenException"[..])
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&body).expect("json"),
        json!({"message": "Missing Authentication Token"})
    );
    let (status, _, body) = call(&gw, &api.id, "DELETE", "/prod/broken").await;
    assert_eq!(status, 502);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).expect("json"),
        json!({"message": "Internal server error"})
    );

    let (status, _, body) = call(&gw, &api.id, "GET", "/prod/busy").await;
    assert_eq!(
        (status, &body[..]),
        (500, &br#"{"message":"Internal server error"}"#[..])
    );

    // The welcome page names the stage URLs.
    let request = http::Request::builder()
        .uri("/")
        .header("host", "localhost:8080")
        .body(axum::body::Body::empty())
        .expect("request");
    let response = nimbus_gateway::router(Arc::clone(&gw))
        .oneshot(request)
        .await
        .expect("infallible");
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let welcome: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(
        welcome["apis"][0]["endpoints"],
        json!([format!(
            "http://{}.execute-api.localhost:8080/prod/",
            api.id
        )])
    );

    // Reopened over the same store: the stage serves the same deployment.
    drop(gw);
    let again = gateway(store, &dir);
    assert_eq!(call(&again, &api.id, "GET", "/prod/items").await.0, 200);
    assert_eq!(
        again
            .get_rest_stage(&api.id, "prod")
            .expect("stage")
            .variables["v"],
        "1"
    );
    again.delete_rest_api(&api.id).expect("delete");
    assert_eq!(call(&again, &api.id, "GET", "/prod/items").await.0, 404);
}
