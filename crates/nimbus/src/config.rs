//! The resolved configuration of one `nimbus` invocation.
//!
//! Precedence, for every key: command-line flag, then `NIMBUS_*` environment variable (both
//! parsed by clap into [`ServerArgs`]), then the TOML file named by `--config`, then the
//! default. The file rejects unknown keys so that a typo is an error, not a silent default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use nimbus_aws::sigv4::KeyPair;
use serde::Deserialize;

use crate::cli::{FunctionArgs, ServerArgs};

pub const DEFAULT_DATA_DIR: &str = ".nimbus";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4566";
pub const DEFAULT_GATEWAY: &str = "127.0.0.1:8080";
pub const DEFAULT_REGION: &str = "us-east-1";
pub const DEFAULT_LOG_LEVEL: &str = "info";

/// The TOML config file.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    listen: Option<SocketAddr>,
    gateway: Option<SocketAddr>,
    region: Option<String>,
    log_level: Option<String>,
    no_auth: Option<bool>,
    idle_timeout: Option<u64>,
    max_environments: Option<u32>,
    async_retry_delay: Option<u64>,
    log_retention_days: Option<u64>,
    #[serde(default)]
    credentials: Vec<FileKeyPair>,
}

/// An additional key pair accepted by the server.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileKeyPair {
    access_key_id: String,
    secret_access_key: String,
}

/// Configuration after precedence is applied.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub gateway: SocketAddr,
    pub region: String,
    pub log_level: String,
    pub no_auth: bool,
    /// Key pairs from the config file, accepted besides the generated one.
    pub extra_keys: Vec<KeyPair>,
    pub functions: FunctionSettings,
}

/// Resolved settings of function execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSettings {
    pub idle_timeout: Duration,
    pub max_environments: u32,
    pub async_retry_delay: Duration,
    pub log_retention: Duration,
}

impl Config {
    /// Applies precedence to the parsed flags/environment and the config file.
    pub fn resolve(args: &ServerArgs, no_auth_flag: bool) -> anyhow::Result<Config> {
        Self::resolve_serve(args, no_auth_flag, &FunctionArgs::default())
    }

    /// [`Config::resolve`] with the settings only `serve` takes.
    pub fn resolve_serve(
        args: &ServerArgs,
        no_auth_flag: bool,
        functions: &FunctionArgs,
    ) -> anyhow::Result<Config> {
        let file = match &args.config {
            Some(path) => load_file(path)?,
            None => FileConfig::default(),
        };
        let parse_addr = |s: &str| s.parse::<SocketAddr>().expect("default address is valid");
        let region = args
            .region
            .clone()
            .or(file.region)
            .unwrap_or_else(|| DEFAULT_REGION.to_owned());
        anyhow::ensure!(
            !region.is_empty()
                && region
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "invalid region {region:?}: use a name such as us-east-1"
        );
        Ok(Config {
            data_dir: args
                .data_dir
                .clone()
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            listen: args
                .listen
                .or(file.listen)
                .unwrap_or_else(|| parse_addr(DEFAULT_LISTEN)),
            gateway: args
                .gateway
                .or(file.gateway)
                .unwrap_or_else(|| parse_addr(DEFAULT_GATEWAY)),
            region,
            log_level: args
                .log_level
                .clone()
                .or(file.log_level)
                .unwrap_or_else(|| DEFAULT_LOG_LEVEL.to_owned()),
            no_auth: no_auth_flag || file.no_auth.unwrap_or(false),
            functions: FunctionSettings {
                idle_timeout: Duration::from_secs(
                    functions.idle_timeout.or(file.idle_timeout).unwrap_or(300),
                ),
                max_environments: functions
                    .max_environments
                    .or(file.max_environments)
                    .unwrap_or(64)
                    .max(1),
                async_retry_delay: Duration::from_secs(
                    functions
                        .async_retry_delay
                        .or(file.async_retry_delay)
                        .unwrap_or(60),
                ),
                log_retention: Duration::from_secs(
                    86_400
                        * functions
                            .log_retention_days
                            .or(file.log_retention_days)
                            .unwrap_or(30),
                ),
            },
            extra_keys: file
                .credentials
                .into_iter()
                .map(|k| KeyPair {
                    access_key_id: k.access_key_id,
                    secret_access_key: k.secret_access_key,
                })
                .collect(),
        })
    }
}

fn load_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("read config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parse config file {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_config(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nimbus.toml");
        std::fs::write(&path, text).expect("write");
        (dir, path)
    }

    #[test]
    fn flags_beat_the_file_which_beats_defaults() {
        let (_dir, path) = write_config(
            "listen = \"127.0.0.1:5000\"\nregion = \"eu-west-1\"\n\n[[credentials]]\naccess_key_id = \"AK\"\nsecret_access_key = \"SK\"\n",
        );
        let args = ServerArgs {
            config: Some(path),
            region: Some("ap-south-1".into()),
            ..Default::default()
        };
        let c = Config::resolve(&args, false).expect("config");
        assert_eq!(c.region, "ap-south-1");
        assert_eq!(c.listen.to_string(), "127.0.0.1:5000");
        assert_eq!(c.gateway.to_string(), DEFAULT_GATEWAY);
        assert_eq!(c.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        assert_eq!(c.extra_keys.len(), 1);
        assert!(!c.no_auth);
    }

    #[test]
    fn unknown_keys_and_bad_regions_are_errors() {
        let (_dir, path) = write_config("lisen = \"127.0.0.1:5000\"\n");
        let args = ServerArgs {
            config: Some(path),
            ..Default::default()
        };
        let err = Config::resolve(&args, false).expect_err("typo");
        assert!(format!("{err:#}").contains("lisen"), "{err:#}");
        let args = ServerArgs {
            region: Some("Not A Region".into()),
            ..Default::default()
        };
        assert!(Config::resolve(&args, false).is_err());
    }
}
