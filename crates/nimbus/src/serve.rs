//! `nimbus serve`: binds the AWS API endpoint and the gateway, prints how to reach them, and
//! shuts down gracefully on SIGINT or SIGTERM (in-flight requests finish, storage is flushed,
//! exit code 0).

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use nimbus_aws::sigv4::KeyPair;
use nimbus_aws::{AwsConfig, AwsState, Services};
use nimbus_functions::{Functions, FunctionsConfig};
use nimbus_store::Store;
use nimbus_store_embedded::{EmbeddedOptions, EmbeddedStore};
use nimbus_tables::{Tables, TablesConfig};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::cli::ServeArgs;
use crate::config::Config;
use crate::{credentials, telemetry};

/// The account id shown in ARNs. One server is one account.
pub(crate) const ACCOUNT_ID: &str = "000000000000";

/// How long in-flight requests may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let mut config = Config::resolve_serve(&args.server, args.no_auth, &args.functions)?;
    // Function processes run in their own working directory, so every path handed to them
    // (runtime shims, SDKs, code) must be absolute: the default `./.nimbus` is not.
    config.data_dir = std::path::absolute(&config.data_dir)
        .with_context(|| format!("resolve the data directory {}", config.data_dir.display()))?;
    telemetry::init(&config.log_level)?;
    let key = credentials::load_or_create(&config.data_dir)?;
    let store_dir = config.data_dir.join("store");
    let store: Arc<dyn Store> = Arc::new(
        EmbeddedStore::open(&store_dir, EmbeddedOptions::default())
            .with_context(|| format!("open the store in {}", store_dir.display()))?,
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start the async runtime")?;
    let result = runtime.block_on(serve(config, key, Arc::clone(&store)));
    store.flush().context("flush the store")?;
    tracing::info!("storage flushed");
    result
}

async fn serve(config: Config, key: KeyPair, store: Arc<dyn Store>) -> anyhow::Result<()> {
    if config.no_auth {
        tracing::warn!(
            "SIGNATURE VERIFICATION IS OFF (--no-auth): anyone who can reach {} can read and change everything. Development only.",
            config.listen
        );
    }
    for finding in nimbus_sandbox::probe::all(false) {
        if !finding.ok {
            tracing::warn!(
                mechanism = finding.what,
                "isolation unavailable: {}",
                finding.detail
            );
        }
    }
    let aws_listener = TcpListener::bind(config.listen).await.with_context(|| {
        format!(
            "listen on {} for the AWS API (is another server running? use --listen)",
            config.listen
        )
    })?;
    let gateway_listener = TcpListener::bind(config.gateway).await.with_context(|| {
        format!(
            "listen on {} for the gateway (use --gateway)",
            config.gateway
        )
    })?;
    let aws_addr = aws_listener.local_addr()?;
    let gateway_addr = gateway_listener.local_addr()?;

    let mut keys = vec![key.clone()];
    keys.extend(config.extra_keys.iter().cloned());
    let usage = Arc::new(nimbus_metering::Totals::new());
    let functions_config = FunctionsConfig {
        data_dir: config.data_dir.join("functions"),
        region: config.region.clone(),
        account_id: ACCOUNT_ID.to_owned(),
        aws_endpoint: format!("http://{aws_addr}"),
        access_key_id: key.access_key_id.clone(),
        secret_access_key: key.secret_access_key.clone(),
        idle_timeout: config.functions.idle_timeout,
        max_environments: config.functions.max_environments,
        search_path: std::env::var("PATH")
            .unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()),
        async_retry_delay: config.functions.async_retry_delay,
        log_retention: config.functions.log_retention,
        runtimes_dir: config.data_dir.join("runtimes"),
        auto_install_sdks: true,
    };
    let functions_store = Arc::clone(&store);
    let functions_usage: Arc<dyn nimbus_metering::UsageSink> = usage.clone();
    let functions = Arc::new(
        tokio::task::spawn_blocking(move || {
            Functions::new(functions_store, functions_config, functions_usage)
        })
        .await
        .context("start the function service")?
        .context("start the function service")?,
    );
    functions.set_url_host(format!("lambda-url.localhost:{}", gateway_addr.port()));
    functions.start();
    let tables = Arc::new(
        Tables::new(
            Arc::clone(&store),
            TablesConfig {
                region: config.region.clone(),
                account_id: ACCOUNT_ID.to_owned(),
                endpoint: aws_addr.to_string(),
            },
            Arc::clone(&usage) as Arc<dyn nimbus_metering::UsageSink>,
        )
        .context("start the table service")?,
    );
    let gateway = Arc::new(
        nimbus_gateway::Gateway::new(
            Arc::clone(&store),
            nimbus_gateway::GatewayConfig {
                region: config.region.clone(),
                account_id: ACCOUNT_ID.to_owned(),
                port: gateway_addr.port(),
                logs_dir: config.data_dir.join("gateway").join("logs"),
            },
            Arc::new(nimbus_gateway::FunctionsInvoker(Arc::clone(&functions))),
        )
        .context("start the gateway service")?,
    );
    let state = Arc::new(AwsState::new(
        AwsConfig {
            region: config.region.clone(),
            keys,
            no_auth: config.no_auth,
        },
        Services {
            tables: Arc::clone(&tables),
            functions: Arc::clone(&functions),
            gateway: Arc::clone(&gateway),
            usage,
        },
    ));

    // AWS_IAM routes and function URLs are checked by the endpoint's verifier, which knows
    // the sessions it issued too.
    gateway.set_signature_check(Arc::new(nimbus_aws::GatewaySignatures::new(
        state.verifier(),
        ACCOUNT_ID,
    )));
    // Environments sign with sessions of their function's role, not the node's key.
    functions.set_credential_issuer(Arc::new(nimbus_aws::sts::FunctionSessions(Arc::downgrade(
        &state,
    ))));
    let shutdown = CancellationToken::new();
    let tasks = TaskTracker::new();
    tasks.spawn(serve_aws(
        aws_listener,
        nimbus_aws::router(Arc::clone(&state)),
        state,
        shutdown.clone(),
    ));
    tasks.spawn(serve_http(
        "gateway",
        gateway_listener,
        nimbus_gateway::router(Arc::clone(&gateway)),
        shutdown.clone(),
    ));
    tasks.spawn(expire_items(tables, shutdown.clone()));
    tasks.close();

    let signals = install_signals();
    print_banner(&config, &key, aws_addr, gateway_addr)?;
    tracing::info!(aws = %aws_addr, gateway = %gateway_addr, "nimbus is ready");

    tokio::select! {
        signal = shutdown_signal(signals) => tracing::info!("{signal} received, shutting down"),
        () = shutdown.cancelled() => tracing::error!("a listener failed, shutting down"),
    }
    shutdown.cancel();
    if tokio::time::timeout(SHUTDOWN_GRACE, tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!("requests still running after {SHUTDOWN_GRACE:?}; stopping anyway");
    }
    functions.shutdown().await;
    let _ = tokio::task::spawn_blocking(move || gateway.flush_logs()).await;
    Ok(())
}

/// The AWS endpoint, on its per-core lanes ([`crate::lanes`]).
async fn serve_aws(
    listener: TcpListener,
    router: axum::Router,
    state: Arc<AwsState>,
    shutdown: CancellationToken,
) {
    if let Err(e) = crate::lanes::serve("aws", listener, router, state, shutdown.clone()).await {
        tracing::error!("AWS API server failed: {e}");
        shutdown.cancel();
    }
}

async fn serve_http(
    name: &'static str,
    listener: TcpListener,
    router: axum::Router,
    shutdown: CancellationToken,
) {
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, service)
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await;
    if let Err(e) = result {
        tracing::error!("{name} server failed: {e}");
        shutdown.cancel();
    }
}

/// SIGTERM and SIGINT handlers, installed before the banner says the server is up: a signal
/// sent as soon as the banner appears must reach them, not the default action (which would end
/// the process without a graceful shutdown).
fn install_signals() -> Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)> {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(term), Ok(int)) => Some((term, int)),
        _ => {
            tracing::error!("cannot install signal handlers; stop with kill -9");
            None
        }
    }
}

async fn shutdown_signal(
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
) -> &'static str {
    let Some((mut term, mut int)) = signals else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}

fn print_banner(
    config: &Config,
    key: &KeyPair,
    aws: SocketAddr,
    gateway: SocketAddr,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let endpoint = format!("http://{aws}");
    writeln!(out, "Nimbus {} is running.", env!("CARGO_PKG_VERSION"))?;
    writeln!(
        out,
        "  AWS API endpoint: {endpoint}  (DynamoDB, Lambda, API Gateway; region {})",
        config.region
    )?;
    writeln!(
        out,
        "  Gateway:          http://{gateway}/  (an API: http://{{apiId}}.execute-api.localhost:{}/)",
        gateway.port()
    )?;
    writeln!(out, "  Data directory:   {}", config.data_dir.display())?;
    writeln!(out)?;
    if config.no_auth {
        writeln!(
            out,
            "  WARNING: signature verification is OFF (--no-auth). Development only."
        )?;
    }
    writeln!(
        out,
        "Credentials (print them again with `nimbus credentials`):"
    )?;
    writeln!(out, "  export AWS_ACCESS_KEY_ID={}", key.access_key_id)?;
    writeln!(
        out,
        "  export AWS_SECRET_ACCESS_KEY={}",
        key.secret_access_key
    )?;
    writeln!(out, "  export AWS_REGION={}", config.region)?;
    writeln!(out)?;
    writeln!(out, "Try:")?;
    writeln!(
        out,
        "  aws --endpoint-url {endpoint} --region {} dynamodb list-tables",
        config.region
    )?;
    out.flush()?;
    Ok(())
}

/// How often a time-to-live pass runs over the tables that enabled it.
const TTL_PASS_INTERVAL: Duration = Duration::from_secs(2);
/// How often stream records older than a day are trimmed (every this many passes).
const STREAM_TRIM_EVERY: u32 = 30;

/// Deletes expired items (time to live) until shutdown, one pass every [`TTL_PASS_INTERVAL`],
/// and trims stream records past their day every [`STREAM_TRIM_EVERY`] passes. A pass reads
/// the store, so it runs on a blocking thread.
async fn expire_items(tables: Arc<Tables>, shutdown: CancellationToken) {
    let runtime = tokio::runtime::Handle::current();
    let mut passes = 0u32;
    loop {
        tokio::select! {
            () = tokio::time::sleep(TTL_PASS_INTERVAL) => {}
            () = shutdown.cancelled() => return,
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let tables = Arc::clone(&tables);
        let runtime = runtime.clone();
        passes = passes.wrapping_add(1);
        let trim = passes.is_multiple_of(STREAM_TRIM_EVERY);
        let pass = tokio::task::spawn_blocking(move || {
            runtime.block_on(async {
                let expired = tables.expire_items(now).await;
                let trimmed = if trim {
                    tables.trim_streams(now).await.map(|_| ())
                } else {
                    Ok(())
                };
                (expired, trimmed)
            })
        });
        match pass.await {
            Ok((expired, trimmed)) => {
                if let Err(error) = expired {
                    tracing::warn!(%error, "time to live pass failed");
                }
                if let Err(error) = trimmed {
                    tracing::warn!(%error, "stream trimming failed");
                }
            }
            Err(error) => tracing::error!(%error, "time to live pass panicked"),
        }
    }
}
