//! The gateway end to end in memory: management calls, then requests through the data-plane
//! router (`tower::ServiceExt::oneshot`) to an echo function.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::BodyExt;
use nimbus_gateway::invoke::{FunctionRef, InvokeFailure, InvokeFuture, Invoked, Invoker};
use nimbus_gateway::model::*;
use nimbus_gateway::{Gateway, GatewayConfig};
use serde_json::{Value, json};
use tower::ServiceExt;

/// `echo` returns its event as the body of a 200; `raw` returns a plain JSON object; `fail` fails; `slow` sleeps; `busy` is throttled.
struct Functions;

impl Invoker for Functions {
    fn invoke(&self, function: FunctionRef, payload: Bytes) -> InvokeFuture {
        Box::pin(async move {
            let event: Value = serde_json::from_slice(&payload).expect("event is JSON");
            match function.name.as_str() {
                "echo" => Ok(Invoked {
                    payload: Bytes::from(
                        json!({"statusCode": 200, "headers": {"content-type": "application/json"},
                               "body": event.to_string()})
                        .to_string(),
                    ),
                    function_error: false,
                }),
                "raw" => Ok(Invoked {
                    payload: Bytes::from_static(br#"{"hello":"world"}"#),
                    function_error: false,
                }),
                "fail" => Ok(Invoked {
                    payload: Bytes::from_static(br#"{"errorMessage":"boom"}"#),
                    function_error: true,
                }),
                "slow" => {
                    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                    Ok(Invoked {
                        payload: Bytes::from_static(b"{}"),
                        function_error: false,
                    })
                }
                "busy" => Err(InvokeFailure::Throttled("Rate Exceeded.".into())),
                other => Err(InvokeFailure::NotFound(other.into())),
            }
        })
    }
}

fn gateway(dir: &tempfile::TempDir) -> Arc<Gateway> {
    Arc::new(
        Gateway::new(
            Arc::new(nimbus_store::mem::MemStore::default()),
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

fn arn(name: &str) -> String {
    format!("arn:aws:lambda:us-east-1:000000000000:function:{name}")
}

async fn call(
    gw: &Arc<Gateway>,
    host: &str,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &'static [u8],
) -> (u16, http::HeaderMap, Bytes) {
    let mut b = http::Request::builder()
        .method(method)
        .uri(uri)
        .header("host", host);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let response = nimbus_gateway::router(Arc::clone(gw))
        .oneshot(b.body(axum::body::Body::from(body)).expect("request"))
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

fn http_api(gw: &Gateway, name: &str) -> String {
    gw.create_api(ApiInput {
        name: Some(name.into()),
        protocol_type: Some("HTTP".into()),
        ..ApiInput::default()
    })
    .expect("api")
    .api_id
}

fn integration(
    gw: &Gateway,
    api: &str,
    function: &str,
    version: &str,
    timeout: Option<i64>,
) -> String {
    let i = gw
        .create_integration(
            api,
            IntegrationInput {
                integration_type: Some("AWS_PROXY".into()),
                integration_uri: Some(arn(function)),
                payload_format_version: Some(version.into()),
                timeout_in_millis: timeout,
                ..IntegrationInput::default()
            },
        )
        .expect("integration");
    format!("integrations/{}", i.integration_id)
}

fn route(gw: &Gateway, api: &str, key: &str, target: &str) {
    gw.create_route(
        api,
        RouteInput {
            route_key: Some(key.into()),
            target: Some(target.into()),
            ..RouteInput::default()
        },
    )
    .expect("route");
}

fn default_stage(gw: &Gateway, api: &str) {
    gw.create_stage(
        api,
        StageInput {
            stage_name: Some("$default".into()),
            auto_deploy: Some(true),
            ..StageInput::default()
        },
    )
    .expect("stage");
}

#[tokio::test]
async fn events_errors_and_stages() {
    let dir = tempfile::tempdir().expect("tmp");
    let gw = gateway(&dir);
    let api = http_api(&gw, "shop");
    let host = format!("{api}.execute-api.localhost:8080");
    let echo2 = integration(&gw, &api, "echo", "2.0", None);
    let echo1 = integration(&gw, &api, "echo", "1.0", None);
    route(&gw, &api, "GET /items/{id}", &echo2);
    route(&gw, &api, "POST /v1/{proxy+}", &echo1);
    route(
        &gw,
        &api,
        "GET /fail",
        &integration(&gw, &api, "fail", "2.0", None),
    );
    route(
        &gw,
        &api,
        "GET /raw",
        &integration(&gw, &api, "raw", "2.0", None),
    );
    route(
        &gw,
        &api,
        "GET /slow",
        &integration(&gw, &api, "slow", "2.0", Some(100)),
    );
    route(
        &gw,
        &api,
        "GET /busy",
        &integration(&gw, &api, "busy", "2.0", None),
    );
    route(
        &gw,
        &api,
        "GET /missing",
        &integration(&gw, &api, "nothing", "2.0", None),
    );
    route(
        &gw,
        &api,
        "GET /bad",
        &integration(&gw, &api, "raw", "1.0", None),
    );
    default_stage(&gw, &api);

    let (status, headers, body) = call(
        &gw,
        &host,
        "GET",
        "/items/42?a=1&a=2&b=x",
        &[
            ("cookie", "c1=v1; c2=v2"),
            ("x-multi", "1"),
            ("x-multi", "2"),
        ],
        b"",
    )
    .await;
    assert_eq!(status, 200, "{body:?}");
    assert!(headers.contains_key("apigw-requestid"));
    let event: Value = serde_json::from_slice(&body).expect("event");
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "GET /items/{id}");
    assert_eq!(event["rawPath"], "/items/42");
    assert_eq!(event["rawQueryString"], "a=1&a=2&b=x");
    assert_eq!(event["cookies"], json!(["c1=v1", "c2=v2"]));
    assert_eq!(event["headers"]["x-multi"], "1,2");
    assert!(event["headers"].get("cookie").is_none());
    assert_eq!(
        event["queryStringParameters"],
        json!({"a": "1,2", "b": "x"})
    );
    assert_eq!(event["pathParameters"], json!({"id": "42"}));
    assert_eq!(event["requestContext"]["apiId"], api.as_str());
    assert_eq!(event["requestContext"]["stage"], "$default");
    assert_eq!(event["requestContext"]["http"]["method"], "GET");
    assert_eq!(
        event["requestContext"]["domainName"],
        format!("{api}.execute-api.localhost")
    );
    assert_eq!(event["requestContext"]["domainPrefix"], api.as_str());
    assert_eq!(
        event["requestContext"]["requestId"].as_str(),
        headers["apigw-requestid"].to_str().ok()
    );

    let (status, _, body) = call(
        &gw,
        &host,
        "POST",
        "/v1/a/b?x=1&x=2",
        &[("content-type", "application/octet-stream")],
        b"\x00\x01",
    )
    .await;
    assert_eq!(status, 200);
    let event: Value = serde_json::from_slice(&body).expect("event");
    assert_eq!(event["version"], "1.0");
    assert_eq!(event["resource"], "/v1/{proxy+}");
    assert_eq!(event["pathParameters"], json!({"proxy": "a/b"}));
    assert_eq!(
        event["multiValueQueryStringParameters"]["x"],
        json!(["1", "2"])
    );
    assert_eq!(event["isBase64Encoded"], true);
    assert_eq!(event["body"], "AAE=");

    let expect = |status: u16, msg: &str| (status, json!({"message": msg}));
    for (path, want) in [
        ("/nowhere", expect(404, "Not Found")),
        ("/fail", expect(500, "Internal Server Error")),
        ("/missing", expect(500, "Internal Server Error")),
        ("/bad", expect(502, "Internal Server Error")),
        ("/slow", expect(504, "Endpoint request timed out")),
        ("/busy", expect(503, "Service Unavailable")),
    ] {
        let (status, _, body) = call(&gw, &host, "GET", path, &[], b"").await;
        let body: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!((status, body), want, "{path}");
    }
    // 2.0 inference: a plain JSON value becomes a 200 application/json body.
    let (status, headers, body) = call(&gw, &host, "GET", "/raw", &[], b"").await;
    assert_eq!((status, &body[..]), (200, &br#"{"hello":"world"}"#[..]));
    assert_eq!(headers["content-type"], "application/json");

    // Named stage as a path prefix, with stage variables, from a deployment.
    let dep = gw
        .create_deployment(&api, DeploymentInput::default())
        .expect("deployment");
    gw.create_stage(
        &api,
        StageInput {
            stage_name: Some("prod".into()),
            deployment_id: Some(dep.deployment_id),
            stage_variables: Some([("color".to_owned(), "blue".to_owned())].into()),
            ..StageInput::default()
        },
    )
    .expect("stage");
    let (status, _, body) = call(&gw, &host, "GET", "/prod/items/7", &[], b"").await;
    assert_eq!(status, 200);
    let event: Value = serde_json::from_slice(&body).expect("event");
    assert_eq!(event["rawPath"], "/prod/items/7");
    assert_eq!(event["requestContext"]["stage"], "prod");
    assert_eq!(event["stageVariables"], json!({"color": "blue"}));
    assert_eq!(event["pathParameters"], json!({"id": "7"}));

    // Unknown API host and root without mapping.
    let (status, _, _) = call(
        &gw,
        "nope.execute-api.localhost",
        "GET",
        "/items/1",
        &[],
        b"",
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, body) = call(&gw, "localhost:8080", "GET", "/", &[], b"").await;
    assert_eq!(status, 200);
    let welcome: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(welcome["apis"][0]["apiId"], api.as_str());

    // Root mapping by tag.
    gw.tag_resource(
        &format!("arn:aws:apigateway:us-east-1::/apis/{api}"),
        [("nimbus:root".to_owned(), "true".to_owned())].into(),
    )
    .expect("tag");
    let (status, _, _) = call(&gw, "localhost:8080", "GET", "/items/42", &[], b"").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn quick_create_cors_throttling_and_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let store: Arc<dyn nimbus_store::Store> = Arc::new(nimbus_store::mem::MemStore::default());
    let config = GatewayConfig {
        region: "us-east-1".into(),
        account_id: "000000000000".into(),
        port: 8080,
        logs_dir: dir.path().join("logs"),
    };
    let gw = Arc::new(
        Gateway::new(Arc::clone(&store), config.clone(), Arc::new(Functions)).expect("gw"),
    );
    let api = gw
        .create_api(ApiInput {
            name: Some("quick".into()),
            protocol_type: Some("HTTP".into()),
            target: Some(arn("echo")),
            cors_configuration: Some(Cors {
                allow_origins: Some(vec!["https://app.example".into()]),
                allow_methods: Some(vec!["GET".into(), "POST".into()]),
                allow_headers: Some(vec!["content-type".into()]),
                max_age: Some(60),
                ..Cors::default()
            }),
            ..ApiInput::default()
        })
        .expect("api");
    assert_eq!(
        api.api_endpoint,
        format!("http://{}.execute-api.localhost:8080", api.api_id)
    );
    let host = format!("{}.execute-api.localhost", api.api_id);
    let (status, headers, _) = call(
        &gw,
        &host,
        "OPTIONS",
        "/anything",
        &[
            ("origin", "https://app.example"),
            ("access-control-request-method", "POST"),
        ],
        b"",
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example"
    );
    assert_eq!(headers["access-control-allow-methods"], "GET,POST");
    assert_eq!(headers["access-control-max-age"], "60");
    let (status, headers, body) = call(
        &gw,
        &host,
        "GET",
        "/x",
        &[("origin", "https://app.example")],
        b"",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example"
    );
    let event: Value = serde_json::from_slice(&body).expect("event");
    assert_eq!(event["routeKey"], "$default");

    // Throttling: burst 1, rate ~0.
    gw.update_stage(
        &api.api_id,
        "$default",
        StageInput {
            default_route_settings: Some(RouteSettings {
                throttling_burst_limit: Some(1),
                throttling_rate_limit: Some(0.001),
                ..RouteSettings::default()
            }),
            ..StageInput::default()
        },
    )
    .expect("update");
    let (first, _, _) = call(&gw, &host, "GET", "/x", &[], b"").await;
    let (second, _, body) = call(&gw, &host, "GET", "/x", &[], b"").await;
    assert_eq!((first, second), (200, 429));
    assert_eq!(
        serde_json::from_slice::<Value>(&body).expect("json"),
        json!({"message": "Too Many Requests"})
    );

    // Everything is in the store: a new service sees the same API and the old one's logs.
    gw.flush_logs();
    drop(gw);
    let gw = Arc::new(Gateway::new(store, config, Arc::new(Functions)).expect("gw"));
    assert_eq!(gw.get_api(&api.api_id).expect("api").name, "quick");
    assert_eq!(gw.get_routes(&api.api_id).expect("routes").len(), 1);
    let logs = gw.access_log_events(&api.api_id, 0, 100).expect("logs");
    assert!(
        logs.iter().any(|e| e.message.contains("\"status\":429")),
        "{logs:?}"
    );
}
