//! Logging: one subscriber for the whole process, to stderr, filtered by the configured level.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the subscriber. `level` is a level or an `EnvFilter` directive list.
pub fn init(level: &str) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(level)
        .map_err(|e| anyhow::anyhow!("invalid log level {level:?}: {e}"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only on a terminal: redirected to a file, escape codes would garble the log.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot start logging: {e}"))
}
