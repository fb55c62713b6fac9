//! The gateway benchmark's function: answers every event (an HTTP API payload 2.0 event, or
//! whatever the Invoke API sends) with the payload 2.0 response `{"statusCode":200,"body":"hello"}`.

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::{json, Value};

async fn handler(_event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    Ok(json!({"statusCode": 200, "body": "hello"}))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(handler)).await
}
