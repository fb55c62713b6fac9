//! `nimbus runtimes`: which runtimes this machine runs, on which interpreter, and the AWS SDKs
//! that Python and Node.js functions import without bundling them (boto3, the AWS SDK for
//! JavaScript v3), installed into `<data-dir>/runtimes/`. Works on the data directory alone; no
//! server is needed.

use anyhow::Context;
use clap::{Args, Subcommand};
use nimbus_functions::runtimes::{self as rt, Family, RuntimeDirs};
use serde::Serialize;
use serde_json::json;

use crate::cli::ServerArgs;
use crate::config::Config;
use crate::output::{Table, print_json};

#[derive(Debug, Args)]
pub struct RuntimesArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Option<RuntimesCommand>,
}

#[derive(Debug, Subcommand)]
pub enum RuntimesCommand {
    /// List the runtimes with the interpreter each runs on and whether its SDK is installed
    /// (the default).
    #[command(after_help = "Examples:\n  nimbus runtimes list\n  nimbus runtimes list --json")]
    List,
    /// Install boto3 (with pip) and the AWS SDK for JavaScript v3 (with npm) into the data
    /// directory. Without it, the first invocation of a Python or Node.js function installs its SDK.
    #[command(
        after_help = "Examples:\n  nimbus runtimes install\n  nimbus runtimes install --python\n  nimbus runtimes install --data-dir /var/lib/nimbus --json"
    )]
    Install {
        /// Only the Python SDK (boto3).
        #[arg(long)]
        python: bool,
        /// Only the Node.js SDK (AWS SDK for JavaScript v3).
        #[arg(long)]
        node: bool,
    },
}

/// How one runtime runs on this machine.
#[derive(Debug, Serialize)]
pub struct RuntimeStatus {
    pub runtime: &'static str,
    /// The interpreter that runs it, if any (for `provided.*`, none: the package's `bootstrap`).
    pub interpreter: Option<String>,
    /// The interpreter's own version line.
    pub version: Option<String>,
    /// Whether the interpreter is the one the runtime names (`python3.12` for `python3.12`).
    pub exact: bool,
    /// Why another interpreter runs it, or why nothing can.
    pub note: Option<String>,
    /// The SDK functions of this runtime import, and whether it is installed.
    pub sdk: Option<Sdk>,
}

#[derive(Debug, Serialize)]
pub struct Sdk {
    pub name: String,
    pub installed: bool,
}

/// The runtime directory of `config`'s data directory, searching interpreters on `PATH` as
/// `serve` does.
pub fn dirs(config: &Config) -> RuntimeDirs {
    let data_dir = std::path::absolute(&config.data_dir).unwrap_or(config.data_dir.clone());
    RuntimeDirs::new(
        data_dir.join("runtimes"),
        std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()),
    )
}

/// The SDK of `family`, named for people.
pub fn sdk_name(family: Family) -> String {
    match family {
        Family::Python => format!("boto3 {}", rt::BOTO3_VERSION),
        Family::Node => "AWS SDK for JavaScript v3".to_owned(),
        Family::Provided => String::new(),
    }
}

/// Every supported runtime, inspected.
pub fn inspect(dirs: &RuntimeDirs) -> Vec<RuntimeStatus> {
    rt::SUPPORTED
        .iter()
        .map(|&runtime| {
            let family = Family::of(runtime).unwrap_or(Family::Provided);
            let sdk = (family != Family::Provided).then(|| Sdk {
                name: sdk_name(family),
                installed: rt::sdk_installed(dirs, family),
            });
            let resolved = dirs.resolve(runtime);
            let (interpreter, exact, note) = match (family, resolved) {
                (Family::Provided, _) => (
                    None,
                    true,
                    Some("runs the package's own bootstrap".to_owned()),
                ),
                (_, Some(r)) => (Some(r.interpreter), r.exact, r.note),
                (Family::Python, None) => (
                    None,
                    false,
                    Some("python3 is not installed; install Python 3".to_owned()),
                ),
                (Family::Node, None) => (
                    None,
                    false,
                    Some("node is not installed; install Node.js".to_owned()),
                ),
            };
            RuntimeStatus {
                runtime,
                version: interpreter.as_ref().map(|i| i.version_text()),
                interpreter: interpreter.map(|i| i.path.display().to_string()),
                exact,
                note,
                sdk,
            }
        })
        .collect()
}

pub fn run(args: RuntimesArgs) -> anyhow::Result<()> {
    let config = Config::resolve(&args.server, false)?;
    let dirs = dirs(&config);
    match args.command.unwrap_or(RuntimesCommand::List) {
        RuntimesCommand::List => list(&dirs, args.json),
        RuntimesCommand::Install { python, node } => {
            let families = match (python, node) {
                (true, false) => vec![Family::Python],
                (false, true) => vec![Family::Node],
                _ => vec![Family::Python, Family::Node],
            };
            install(&dirs, &families, args.json)
        }
    }
}

fn list(dirs: &RuntimeDirs, json: bool) -> anyhow::Result<()> {
    let status = inspect(dirs);
    if json {
        return print_json(&serde_json::to_value(&status)?);
    }
    let mut out = Table::new(["RUNTIME", "INTERPRETER", "VERSION", "SDK", "NOTE"]);
    for s in &status {
        out.row(vec![
            s.runtime.to_owned(),
            s.interpreter.clone().unwrap_or_else(|| "-".to_owned()),
            s.version.clone().unwrap_or_default(),
            s.sdk
                .as_ref()
                .map(|sdk| {
                    let state = if sdk.installed {
                        "installed"
                    } else {
                        "not installed"
                    };
                    format!("{}: {state}", sdk.name)
                })
                .unwrap_or_default(),
            s.note.clone().unwrap_or_default(),
        ]);
    }
    out.print()?;
    if status
        .iter()
        .any(|s| s.sdk.as_ref().is_some_and(|sdk| !sdk.installed))
    {
        println!(
            "\nInstall the SDKs now with `nimbus runtimes install`; otherwise the first invocation of a function installs them."
        );
    }
    Ok(())
}

fn install(dirs: &RuntimeDirs, families: &[Family], json: bool) -> anyhow::Result<()> {
    std::fs::create_dir_all(&dirs.root)
        .with_context(|| format!("create {}", dirs.root.display()))?;
    let mut results = Vec::new();
    for &family in families {
        let name = sdk_name(family);
        let tool = if family == Family::Python {
            "pip"
        } else {
            "npm"
        };
        if !json && !rt::sdk_installed(dirs, family) {
            eprintln!(
                "Installing {name} with {tool} into {} ...",
                dirs.root.display()
            );
        }
        let newly = rt::install_sdk(dirs, family).with_context(|| {
            format!(
                "install {name}: check that {tool} works and can reach its package registry, then run `nimbus runtimes install` again"
            )
        })?;
        if !json {
            let state = if newly {
                "installed"
            } else {
                "already installed"
            };
            println!("{name}: {state}");
        }
        results.push(json!({"sdk": name, "installed": true, "newly_installed": newly}));
    }
    if json {
        print_json(&serde_json::Value::Array(results))?;
    }
    Ok(())
}
