//! The bare server of the gateway benchmark: hyper 1 on a multi-threaded tokio runtime, reading
//! each request and answering `200 hello` (text/plain), the same body the gateway returns for the
//! benchmark's route. What the gateway and the function add on top of this is their own cost.
//!
//! Usage: `nimbus-bench-gateway-floor [ADDR]` (default `127.0.0.1:4598`).

use std::convert::Infallible;
use std::net::SocketAddr;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

async fn answer(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    // Read the whole request, as a real server must before it can answer.
    let _ = req.into_body().collect().await;
    let response = Response::builder()
        .header("content-type", "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from_static(b"hello")))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::from_static(b"hello"))));
    Ok(response)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr: SocketAddr = match std::env::args().nth(1) {
        Some(arg) => arg
            .parse()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{arg}: {e}")))?,
        None => SocketAddr::from(([127, 0, 0, 1], 4598)),
    };
    let listener = TcpListener::bind(addr).await?;
    println!("floor listening on http://{addr}/");
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
