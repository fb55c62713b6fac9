//! The Lambda Runtime API of one execution environment.
//!
//! Every environment gets its own listening socket (today on loopback; the isolation work moves
//! it inside the environment's network namespace), so a runtime can only ever see and answer
//! its own invocations. The protocol is AWS's: `GET /2018-06-01/runtime/invocation/next` blocks
//! until an invocation is queued and returns it with the documented `Lambda-Runtime-*` headers;
//! the runtime answers with `.../invocation/{id}/response` or `.../invocation/{id}/error`, and
//! reports a failed start with `.../init/error`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{self as http, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Largest synchronous response a function may return: 6,291,556 bytes, as Lambda (100 bytes
/// more than the 6 MB of a request).
pub const MAX_RESPONSE: usize = 6 * 1024 * 1024 + 100;
/// Largest response read (and discarded) to keep the runtime's connection usable.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

/// One invocation handed to the runtime.
#[derive(Debug)]
pub struct Invocation {
    pub request_id: String,
    pub payload: Bytes,
    /// Epoch milliseconds at which the invocation times out.
    pub deadline_ms: u64,
    pub invoked_arn: String,
    pub trace_id: String,
    pub client_context: Option<String>,
    pub done: oneshot::Sender<Outcome>,
}

/// How an invocation ended, as the runtime reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Response(Bytes),
    /// `/error`: the body (`{errorMessage, errorType, stackTrace}`) and the error type header.
    Error {
        payload: Bytes,
        error_type: Option<String>,
    },
    /// The response was larger than [`MAX_RESPONSE`].
    ResponseTooLarge(usize),
    /// The runtime process ended before answering.
    Exited(String),
}

/// The start-up state of the runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitState {
    Starting,
    /// The runtime asked for its first invocation.
    Ready,
    /// The runtime reported `/init/error` with this body.
    Failed(Bytes),
}

struct ApiState {
    queue: tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
    inflight: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init: watch::Sender<InitState>,
}

/// The Runtime API endpoint of one environment.
pub struct RuntimeApi {
    addr: SocketAddr,
    state: Arc<ApiState>,
    queue: mpsc::Sender<Invocation>,
    stop: CancellationToken,
}

impl RuntimeApi {
    /// Binds a new endpoint on loopback and serves it as a task of `tasks`.
    pub async fn start(tasks: &TaskTracker) -> std::io::Result<RuntimeApi> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (queue, receiver) = mpsc::channel(1);
        let (init, _) = watch::channel(InitState::Starting);
        let state = Arc::new(ApiState {
            queue: tokio::sync::Mutex::new(receiver),
            inflight: Mutex::new(HashMap::new()),
            init,
        });
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                // The handlers read the body themselves, so that an oversized or broken one
                // still completes its invocation.
                post(response).layer(DefaultBodyLimit::disable()),
            )
            .route(
                "/2018-06-01/runtime/invocation/{id}/error",
                post(error).layer(DefaultBodyLimit::disable()),
            )
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .layer(DefaultBodyLimit::max(MAX_RESPONSE + 1024 * 1024))
            .with_state(Arc::clone(&state));
        let stop = CancellationToken::new();
        let shutdown = stop.clone();
        tasks.spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(shutdown.cancelled_owned())
                .await;
            if let Err(e) = served {
                tracing::warn!("runtime API endpoint failed: {e}");
            }
        });
        Ok(RuntimeApi {
            addr,
            state,
            queue,
            stop,
        })
    }

    /// `host:port` for `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Watches the runtime's start-up.
    pub fn init_state(&self) -> watch::Receiver<InitState> {
        self.state.init.subscribe()
    }

    /// Queues an invocation for the runtime's next `next` call. Fails if the endpoint is
    /// closed.
    pub async fn submit(&self, invocation: Invocation) -> Result<(), Invocation> {
        self.queue.send(invocation).await.map_err(|e| e.0)
    }

    /// Fails every queued and in-flight invocation with `Outcome::Exited(reason)`.
    pub fn fail_all(&self, reason: &str) {
        let pending: Vec<_> = match self.state.inflight.lock() {
            Ok(mut map) => map.drain().map(|(_, tx)| tx).collect(),
            Err(_) => Vec::new(),
        };
        for tx in pending {
            let _ = tx.send(Outcome::Exited(reason.to_owned()));
        }
        if let Ok(mut queue) = self.state.queue.try_lock() {
            queue.close();
            while let Ok(invocation) = queue.try_recv() {
                let _ = invocation.done.send(Outcome::Exited(reason.to_owned()));
            }
        }
    }

    /// Stops serving.
    pub fn stop(&self) {
        self.stop.cancel();
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn error_body(status: StatusCode, error_type: &str, message: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        serde_json::json!({"errorMessage": message, "errorType": error_type}).to_string(),
    )
        .into_response()
}

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        [("content-type", "application/json")],
        r#"{"status":"OK"}"#,
    )
        .into_response()
}

async fn next(State(state): State<Arc<ApiState>>) -> Response {
    state.init.send_if_modified(|s| {
        if *s == InitState::Starting {
            *s = InitState::Ready;
            true
        } else {
            false
        }
    });
    let invocation = state.queue.lock().await.recv().await;
    let Some(invocation) = invocation else {
        return error_body(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceException",
            "the environment is shutting down",
        );
    };
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    set("lambda-runtime-aws-request-id", &invocation.request_id);
    set(
        "lambda-runtime-deadline-ms",
        &invocation.deadline_ms.to_string(),
    );
    set(
        "lambda-runtime-invoked-function-arn",
        &invocation.invoked_arn,
    );
    set("lambda-runtime-trace-id", &invocation.trace_id);
    if let Some(context) = &invocation.client_context {
        set("lambda-runtime-client-context", context);
    }
    set("content-type", "application/json");
    if let Ok(mut inflight) = state.inflight.lock() {
        inflight.insert(invocation.request_id.clone(), invocation.done);
    }
    (StatusCode::OK, headers, invocation.payload).into_response()
}

fn complete(state: &ApiState, id: &str, outcome: Outcome) -> Response {
    let sender = state.inflight.lock().ok().and_then(|mut m| m.remove(id));
    match sender {
        Some(tx) => {
            let _ = tx.send(outcome);
            accepted()
        }
        None => error_body(
            StatusCode::BAD_REQUEST,
            "InvalidRequestID",
            "Invalid request ID",
        ),
    }
}

/// A response or error body the runtime sent: its bytes, or why it cannot be the answer.
enum Sent {
    Body(Bytes),
    /// Larger than [`MAX_RESPONSE`] (the size, as far as it was read).
    TooLarge(usize),
    /// Not a readable HTTP body (a malformed chunk, a connection cut short).
    Broken(String),
}

/// Reads a body the runtime posts. The whole body is read (up to a bound) even when it is too
/// large, so that the runtime's keep-alive connection stays usable for its next invocation.
async fn read_sent(headers: &HeaderMap, body: axum::body::Body) -> Sent {
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(size) = declared.filter(|size| *size > DRAIN_LIMIT) {
        return Sent::TooLarge(size);
    }
    match axum::body::to_bytes(body, DRAIN_LIMIT).await {
        Ok(bytes) if bytes.len() > MAX_RESPONSE => Sent::TooLarge(bytes.len()),
        Ok(bytes) => Sent::Body(bytes),
        Err(e) => {
            let over_limit = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            if over_limit {
                Sent::TooLarge(declared.unwrap_or(DRAIN_LIMIT + 1))
            } else {
                Sent::Broken(e.to_string())
            }
        }
    }
}

/// Ends the invocation `id` with what the runtime sent, when it cannot be the answer, and
/// tells the runtime why (boxed: a response is large next to the bytes).
fn refuse_sent(state: &ApiState, id: &str, sent: Sent) -> Result<Bytes, Box<Response>> {
    match sent {
        Sent::Body(bytes) => Ok(bytes),
        Sent::TooLarge(size) => {
            complete(state, id, Outcome::ResponseTooLarge(size));
            Err(Box::new(error_body(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                &format!("Exceeded maximum allowed payload size ({MAX_RESPONSE} bytes)."),
            )))
        }
        Sent::Broken(why) => {
            complete(
                state,
                id,
                Outcome::Exited(format!("the runtime sent an unreadable body: {why}")),
            );
            Err(Box::new(error_body(
                StatusCode::BAD_REQUEST,
                "InvalidRequest",
                &format!("The request body could not be read: {why}"),
            )))
        }
    }
}

async fn response(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    match refuse_sent(&state, &id, read_sent(&headers, body).await) {
        Ok(body) => complete(&state, &id, Outcome::Response(body)),
        Err(answer) => *answer,
    }
}

/// `/error`: the function's error. One too large to be the answer, or unreadable, ends the
/// invocation as a response would, rather than leaving it to its timeout.
async fn error(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let error_type = headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match refuse_sent(&state, &id, read_sent(&headers, body).await) {
        Ok(payload) => complete(
            &state,
            &id,
            Outcome::Error {
                payload,
                error_type,
            },
        ),
        Err(answer) => *answer,
    }
}

async fn init_error(State(state): State<Arc<ApiState>>, body: Bytes) -> Response {
    state.init.send_replace(InitState::Failed(body));
    accepted()
}
