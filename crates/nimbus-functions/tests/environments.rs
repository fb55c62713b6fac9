//! Execution environments with real runtime processes: the shipped Python and Node.js shims,
//! warm reuse, timeouts, the memory limit, init errors, throttling, logs and usage.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use nimbus_functions::model::{FunctionConfig, ResolvedFunction};
use nimbus_functions::{Functions, FunctionsConfig, code};
use nimbus_metering::{Totals, UsageSink};
use nimbus_store::Store;
use nimbus_store::mem::MemStore;

struct Harness {
    functions: Arc<Functions>,
    store: Arc<dyn Store>,
    usage: Arc<Totals>,
    _dir: tempfile::TempDir,
}

fn harness() -> Harness {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> = Arc::new(MemStore::new());
    let usage = Arc::new(Totals::new());
    let config = FunctionsConfig {
        data_dir: dir.path().to_owned(),
        region: "us-east-1".into(),
        account_id: "000000000000".into(),
        aws_endpoint: "http://127.0.0.1:9".into(),
        access_key_id: "AKIDTEST".into(),
        secret_access_key: "secret".into(),
        idle_timeout: Duration::from_secs(300),
        max_environments: 8,
        search_path: std::env::var("PATH").unwrap_or_default(),
        async_retry_delay: Duration::from_millis(100),
        log_retention: Duration::from_secs(86400),
        runtimes_dir: dir.path().join("runtimes"),
        auto_install_sdks: false,
    };
    let sink: Arc<dyn UsageSink> = usage.clone();
    let functions = Arc::new(Functions::new(Arc::clone(&store), config, sink).expect("functions"));
    functions.start();
    Harness {
        functions,
        store,
        usage,
        _dir: dir,
    }
}

fn zip(files: &[(&str, &str)]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut w = zip::ZipWriter::new(&mut buf);
    for (name, body) in files {
        let opts = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
        w.start_file(*name, opts).expect("start");
        w.write_all(body.as_bytes()).expect("write");
    }
    w.finish().expect("finish");
    buf.into_inner()
}

impl Harness {
    fn function(
        &self,
        name: &str,
        runtime: &str,
        handler: &str,
        files: &[(&str, &str)],
        timeout: u32,
        memory: u32,
    ) -> ResolvedFunction {
        let code = code::put(self.store.as_ref(), &zip(files)).expect("store code");
        let arn = format!("arn:aws:lambda:us-east-1:000000000000:function:{name}");
        ResolvedFunction {
            config: FunctionConfig {
                function_name: name.into(),
                function_arn: arn.clone(),
                version: "$LATEST".into(),
                runtime: runtime.into(),
                handler: handler.into(),
                memory_size: memory,
                timeout,
                ephemeral_storage: 512,
                environment: BTreeMap::from([("GREETING".to_owned(), "hello".to_owned())]),
                code_sha256_hex: code.sha256_hex,
                code_size: code.size,
                revision_id: uuid_like(name),
                description: String::new(),
                role: "arn:aws:iam::000000000000:role/r".into(),
                architectures: vec!["x86_64".into()],
                last_modified: "2026-01-01T00:00:00.000+0000".into(),
                log_group: format!("/aws/lambda/{name}"),
                layers: Vec::new(),
            },
            invoked_arn: arn,
            reserved_concurrency: None,
            log_format: None,
            log_level: None,
        }
    }

    async fn call(&self, f: &ResolvedFunction, payload: &str) -> nimbus_functions::InvokeOutput {
        let id = format!("req-{}", rand_suffix());
        self.functions
            .run(f, &id, Bytes::from(payload.to_owned()), None, true)
            .await
            .expect("invoke")
    }
}

fn uuid_like(seed: &str) -> String {
    format!("rev-{seed}-{}", rand_suffix())
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

fn json(b: &Bytes) -> serde_json::Value {
    serde_json::from_slice(b).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(b)))
}

fn log_of(out: &nimbus_functions::InvokeOutput) -> String {
    use base64::Engine as _;
    let raw = out.log_result.as_deref().unwrap_or_default();
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(raw)
            .expect("base64"),
    )
    .expect("utf8")
}

const PY_ECHO: &str = r#"
import os
COUNT = 0
def handler(event, context):
    global COUNT
    COUNT += 1
    print("hello from python")
    return {
        "event": event,
        "count": COUNT,
        "name": context.function_name,
        "memory": context.memory_limit_in_mb,
        "request_id": context.aws_request_id,
        "arn": context.invoked_function_arn,
        "remaining": context.get_remaining_time_in_millis(),
        "greeting": os.environ.get("GREETING"),
        "region": os.environ.get("AWS_REGION"),
        "endpoint": os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"),
    }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_handler_runs_warm_with_context_logs_and_usage() {
    let h = harness();
    let f = h.function(
        "py-echo",
        "python3.12",
        "app.handler",
        &[("app.py", PY_ECHO)],
        5,
        256,
    );
    let first = h.call(&f, r#"{"k": 42}"#).await;
    assert_eq!(first.function_error, None, "{:?}", first.payload);
    let body = json(&first.payload);
    assert_eq!(body["event"]["k"], 42);
    assert_eq!(body["count"], 1);
    assert_eq!(body["name"], "py-echo");
    // The real Python runtime reports the environment variable as it is: a string.
    assert_eq!(body["memory"], "256");
    assert_eq!(body["greeting"], "hello");
    assert_eq!(body["region"], "us-east-1");
    assert_eq!(body["endpoint"], "http://127.0.0.1:9");
    assert!(
        body["remaining"]
            .as_i64()
            .is_some_and(|r| r > 3000 && r <= 5000)
    );
    let log = log_of(&first);
    assert!(log.contains("START RequestId: req-"), "{log}");
    assert!(log.contains("hello from python"), "{log}");
    assert!(log.contains("Init Duration:"), "{log}");
    assert!(log.contains("Memory Size: 256 MB"), "{log}");

    let second = h.call(&f, "{}").await;
    assert_eq!(json(&second.payload)["count"], 2, "warm environment reused");
    let log = log_of(&second);
    assert!(!log.contains("Init Duration"), "{log}");
    assert!(log.contains("Billed Duration:"), "{log}");
    let (_, functions) = h.usage.snapshot();
    assert_eq!(functions["py-echo"].requests, 2);
    assert_eq!(h.functions.environment_counts(), (0, 1));

    let events = h
        .functions
        .logs()
        .events("py-echo", &nimbus_functions::logs::LogQuery::default())
        .expect("events");
    assert!(
        events
            .iter()
            .any(|e| e.message.starts_with("REPORT RequestId:"))
    );
    h.functions.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_handlers_of_both_module_kinds_run() {
    let h = harness();
    let cjs = h.function(
        "node-cjs",
        "nodejs20.x",
        "index.handler",
        &[(
            "index.js",
            "exports.handler = async (event, context) => ({ got: event.x, name: context.functionName });",
        )],
        5,
        128,
    );
    let out = h.call(&cjs, r#"{"x": "y"}"#).await;
    assert_eq!(out.function_error, None, "{:?}", out.payload);
    assert_eq!(
        json(&out.payload),
        serde_json::json!({"got": "y", "name": "node-cjs"})
    );
    let esm = h.function(
        "node-esm",
        "nodejs22.x",
        "app.handler",
        &[(
            "app.mjs",
            "export const handler = async (event) => { throw new TypeError('bad ' + event.x); };",
        )],
        5,
        128,
    );
    let out = h.call(&esm, r#"{"x": "input"}"#).await;
    assert_eq!(out.function_error.as_deref(), Some("Unhandled"));
    let err = json(&out.payload);
    assert_eq!(err["errorType"], "TypeError");
    assert_eq!(err["errorMessage"], "bad input");
    h.functions.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_kills_and_replaces_the_environment() {
    let h = harness();
    let f = h.function(
        "sleepy",
        "python3.12",
        "app.handler",
        &[(
            "app.py",
            "import time\ndef handler(event, context):\n    time.sleep(event.get('sleep', 0))\n    return 'done'\n",
        )],
        1,
        128,
    );
    let out = h.call(&f, r#"{"sleep": 3}"#).await;
    assert_eq!(out.function_error.as_deref(), Some("Unhandled"));
    let err = json(&out.payload);
    assert!(
        err["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("Task timed out after 1.00 seconds")),
        "{err}"
    );
    assert!(log_of(&out).contains("Status: timeout"));
    assert_eq!(
        h.functions.environment_counts(),
        (0, 0),
        "killed, not pooled"
    );
    let out = h.call(&f, "{}").await;
    assert_eq!(json(&out.payload), "done");
    h.functions.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_hog_is_killed_and_reported_out_of_memory() {
    let h = harness();
    let f = h.function(
        "hog",
        "python3.12",
        "app.handler",
        &[(
            "app.py",
            "def handler(event, context):\n    blocks = [bytearray(16 << 20) for _ in range(40)]\n    return len(blocks)\n",
        )],
        10,
        128,
    );
    let out = h.call(&f, "{}").await;
    assert_eq!(out.function_error.as_deref(), Some("Unhandled"));
    let err = json(&out.payload);
    assert_eq!(err["errorType"], "Runtime.OutOfMemory", "{err}");
    assert!(
        err["errorMessage"]
            .as_str()
            .is_some_and(|m| m.ends_with("Runtime exited with error: signal: killed")),
        "{err}"
    );
    h.functions.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_errors_are_the_invocations_function_error() {
    let h = harness();
    let f = h.function(
        "broken",
        "python3.12",
        "app.handler",
        &[("app.py", "def handler(:\n")],
        3,
        128,
    );
    let out = h.call(&f, "{}").await;
    assert_eq!(out.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(
        json(&out.payload)["errorType"],
        "Runtime.UserCodeSyntaxError"
    );
    let f = h.function(
        "missing",
        "python3.12",
        "nope.handler",
        &[("app.py", "x = 1\n")],
        3,
        128,
    );
    let out = h.call(&f, "{}").await;
    assert_eq!(json(&out.payload)["errorType"], "Runtime.ImportModuleError");
    let f = h.function(
        "noboot",
        "provided.al2023",
        "x",
        &[("README", "no bootstrap")],
        3,
        128,
    );
    let out = h.call(&f, "{}").await;
    assert_eq!(json(&out.payload)["errorType"], "Runtime.InvalidEntrypoint");
    assert_eq!(h.functions.environment_counts(), (0, 0));
    h.functions.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_concurrency_throttles_the_excess() {
    let h = harness();
    let mut f = h.function(
        "one-at-a-time",
        "python3.12",
        "app.handler",
        &[(
            "app.py",
            "import time\ndef handler(event, context):\n    time.sleep(1)\n    return 'ok'\n",
        )],
        5,
        128,
    );
    f.reserved_concurrency = Some(1);
    let functions = Arc::clone(&h.functions);
    let f1 = f.clone();
    let slow = tokio::spawn(async move {
        functions
            .run(&f1, "first", Bytes::from_static(b"{}"), None, false)
            .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = h
        .functions
        .run(&f, "second", Bytes::from_static(b"{}"), None, false)
        .await;
    match second {
        Err(nimbus_functions::FunctionsError::TooManyRequests { reason, .. }) => {
            assert_eq!(reason, "ReservedFunctionConcurrentInvocationLimitExceeded")
        }
        other => panic!("expected throttling, got {other:?}"),
    }
    let first = slow.await.expect("join").expect("first invocation");
    assert_eq!(first.function_error, None);
    f.reserved_concurrency = Some(0);
    assert!(
        h.functions
            .run(&f, "third", Bytes::from_static(b"{}"), None, false)
            .await
            .is_err()
    );
    h.functions.shutdown().await;
}
