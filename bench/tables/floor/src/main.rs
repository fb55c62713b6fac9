//! The HTTP floor of the table benchmark: a bare hyper server that reads each request body and
//! answers with the same fixed body, shaped and sized like a GetItem response for one ~200-byte
//! item. Whatever a DynamoDB implementation adds on top of this is its own cost.
//!
//! Usage: `nimbus-bench-floor [ADDR]` (default `127.0.0.1:4599`).

use std::convert::Infallible;
use std::net::SocketAddr;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// A GetItem answer for one item of the benchmark's shape (pk, payload, n, flag).
const BODY: &str = concat!(
    r#"{"Item":{"flag":{"BOOL":true},"n":{"N":"4242"},"#,
    r#""payload":{"S":"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"},"#,
    r#""pk":{"S":"item00004242"}}}"#
);

async fn answer(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    // Read the whole request, as a real server must before it can answer.
    let _ = req.into_body().collect().await;
    let response = Response::builder()
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amzn-requestid", "00000000-0000-0000-0000-000000000000")
        .body(Full::new(Bytes::from_static(BODY.as_bytes())))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::from_static(BODY.as_bytes()))));
    Ok(response)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr: SocketAddr = match std::env::args().nth(1) {
        Some(arg) => arg
            .parse()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{arg}: {e}")))?,
        None => SocketAddr::from(([127, 0, 0, 1], 4599)),
    };
    let listener = TcpListener::bind(addr).await?;
    println!("floor listening on http://{addr}/ ({} byte body)", BODY.len());
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service_fn(answer))
                .await;
        });
    }
}
