//! The AWS endpoint's connections, each served on one of a few single-threaded runtimes (one
//! per core, "lanes"), with its DynamoDB requests handled right there.
//!
//! Why not the main multi-threaded runtime: at table request rates (tens of thousands per
//! second on two cores) its workers keep parking and waking each other around every request
//! (a worker that finds a task ready wakes an idle sibling to steal work), and each wake-up is
//! an interrupt between cores, costly on a virtual machine. Measured on GetItem at 16
//! connections: 0.57 context switches and 32 µs of server CPU per request with two workers,
//! against 26 µs on a single thread. A connection pinned to one lane wakes nobody else.
//!
//! A lane sends its answers together at the end of its turn ([`crate::batched`]), so that a
//! client sharing the cores is woken once for several answers instead of once per answer.
//!
//! The main runtime accepts and hands each connection to the next lane in turn. DynamoDB
//! requests (`POST /` with `X-Amz-Target: DynamoDB_…`) run in the lane, handed straight to the
//! endpoint's handler ([`nimbus_aws::call_direct`]: what the router would do, without its
//! routing and layers, 3–4% of a GetItem's CPU); every other request (Lambda, API
//! Gateway, logs, Nimbus' own paths) is sent to the main runtime, where function environments
//! and their tasks live, and its answer comes back to the lane. On shutdown the lanes stop
//! taking connections, let in-flight requests finish (hyper's graceful shutdown: idle
//! keep-alive connections close at once), and end.

use std::convert::Infallible;
use std::net::TcpStream as StdTcpStream;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use nimbus_aws::AwsState;
use tokio::net::TcpListener;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::batched::{BatchedStream, Sender};

/// Serves `router` on `listener` (DynamoDB calls straight through [`nimbus_aws::call_direct`]
/// with `state`, the router's own state) until `shutdown` is cancelled and the lanes have
/// drained.
/// Returns an error only if the lanes could not be started.
pub async fn serve(
    name: &'static str,
    listener: TcpListener,
    router: Router,
    state: Arc<AwsState>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let count = std::thread::available_parallelism().map_or(1, usize::from);
    let main = Handle::current();
    let mut lanes = Vec::with_capacity(count);
    let mut finished = Vec::with_capacity(count);
    for index in 0..count {
        let (sender, receiver) = mpsc::unbounded_channel();
        let (done, done_receiver) = oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .on_thread_park(yield_before_parking)
            .build()?;
        let router = router.clone();
        let state = Arc::clone(&state);
        let main = main.clone();
        let shutdown = shutdown.clone();
        std::thread::Builder::new()
            .name(format!("{name}-lane-{index}"))
            .spawn(move || {
                runtime.block_on(lane(receiver, router, state, main, shutdown));
                let _ = done.send(());
            })?;
        lanes.push(sender);
        finished.push(done_receiver);
    }
    let mut next = 0;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => break,
        };
        let stream = match accepted.and_then(|(stream, _)| {
            stream.set_nodelay(true)?;
            stream.into_std()
        }) {
            Ok(stream) => stream,
            Err(error) => {
                // Out of file descriptors or a connection reset before it was taken: the
                // listener itself is fine, so wait a moment and go on.
                tracing::warn!(%error, "{name}: cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if lanes[next].send(stream).is_err() {
            tracing::error!("{name}: lane {next} has stopped");
            shutdown.cancel();
            break;
        }
        next = (next + 1) % lanes.len();
    }
    drop(lanes);
    for done in finished {
        let _ = done.await;
    }
    Ok(())
}

/// Called when a lane has nothing left to run, just before it sleeps in `epoll_wait`.
///
/// Giving the core away twice first lets whatever else is runnable on it (typically the very
/// clients of this lane: functions and tools on the same machine) run and send their next
/// requests, which the lane then finds ready instead of being woken for each of them by an
/// interrupt from another core. With no other runnable thread it returns at once. Measured on
/// GetItem at 16 connections, two cores: 40k → 49.6k requests/s, p99 2.3 → 0.6 ms (one yield:
/// 48.2k; four: no better than two).
fn yield_before_parking() {
    for _ in 0..2 {
        std::thread::yield_now();
    }
}

/// One lane: serves the connections it is handed until shutdown, then drains them.
async fn lane(
    mut connections: mpsc::UnboundedReceiver<StdTcpStream>,
    router: Router,
    state: Arc<AwsState>,
    main: Handle,
    shutdown: CancellationToken,
) {
    let graceful = GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    let sender = Arc::new(Sender::default());
    tokio::spawn(Arc::clone(&sender).run());
    loop {
        let stream = tokio::select! {
            stream = connections.recv() => match stream {
                Some(stream) => stream,
                None => break,
            },
            () = shutdown.cancelled() => break,
        };
        let stream = match tokio::net::TcpStream::from_std(stream) {
            Ok(stream) => stream,
            Err(error) => {
                tracing::warn!(%error, "cannot register a connection");
                continue;
            }
        };
        let router = router.clone();
        let state = Arc::clone(&state);
        let main = main.clone();
        let service = TowerToHyperService::new(tower::service_fn(move |request| {
            dispatch(router.clone(), Arc::clone(&state), main.clone(), request)
        }));
        let stream = BatchedStream::new(stream, Arc::clone(&sender));
        let connection = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that goes away mid-request is its own business.
            let _ = connection.await;
        });
    }
    graceful.shutdown().await;
}

/// Runs a DynamoDB request here, anything else on the main runtime.
async fn dispatch(
    router: Router,
    state: Arc<AwsState>,
    main: Handle,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    if nimbus_aws::is_direct(&request) {
        return Ok(nimbus_aws::call_direct(state, request.map(Body::new)).await);
    }
    match main.spawn(router.oneshot(request)).await {
        Ok(response) => response,
        Err(error) => {
            tracing::error!(%error, "request task failed");
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            Ok(response)
        }
    }
}
