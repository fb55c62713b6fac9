//! Runtimes: how an environment's process is started for each `Runtime` value.
//!
//! - `python3.x` runs the host's interpreter (the exact `python3.x` when installed, else the
//!   nearest `python3`) on the Python bootstrap shim Nimbus ships;
//! - `nodejs*` runs the host's `node` on the Node.js bootstrap shim;
//! - `provided.*` runs the package's own `bootstrap` executable.
//!
//! As on Lambda, Python handlers can import `boto3` and Node.js handlers the AWS SDK for
//! JavaScript v3 without bundling them: pinned versions are installed once into
//! `<data-dir>/runtimes/` from the package registries ([`install_sdk`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use crate::error::{FunctionsError, Result};

/// The Python bootstrap shim: imports the runtime module beside it, so that its bytecode is cached.
pub const PYTHON_BOOTSTRAP: &str = include_str!("../runtimes/python/bootstrap.py");
/// The Python runtime module the bootstrap imports.
pub const PYTHON_RUNTIME: &str = include_str!("../runtimes/python/_nimbus_runtime.py");
/// The Node.js bootstrap shim (CommonJS; it imports ES module handlers with `import()`).
pub const NODE_BOOTSTRAP: &str = include_str!("../runtimes/node/bootstrap.cjs");

/// The boto3 version installed for Python functions.
pub const BOTO3_VERSION: &str = "1.44.8";
/// The AWS SDK for JavaScript v3 packages installed for Node.js functions.
pub const NODE_SDK_PACKAGES: &[&str] = &[
    "@aws-sdk/client-dynamodb@3.1169.0",
    "@aws-sdk/lib-dynamodb@3.1169.0",
    "@aws-sdk/client-lambda@3.1164.0",
];

/// The runtimes Lambda accepts and Nimbus runs.
pub const SUPPORTED: &[&str] = &[
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "nodejs18.x",
    "nodejs20.x",
    "nodejs22.x",
    "provided.al2",
    "provided.al2023",
];

/// The family of a runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Python,
    Node,
    Provided,
}

impl Family {
    pub fn of(runtime: &str) -> Option<Family> {
        if runtime.starts_with("python3.") {
            Some(Family::Python)
        } else if runtime.starts_with("nodejs") {
            Some(Family::Node)
        } else if runtime.starts_with("provided") {
            Some(Family::Provided)
        } else {
            None
        }
    }
}

/// Where the shims and the SDKs live, and which interpreters work.
#[derive(Debug, Clone)]
pub struct RuntimeDirs {
    pub root: PathBuf,
    /// `PATH` used to find interpreters and given to functions.
    pub search_path: String,
    /// Interpreters found to work (or not), by name: a name on `PATH` may be a shim of a
    /// version manager that fails when that version is not installed.
    working: Arc<Mutex<HashMap<String, Option<PathBuf>>>>,
}

impl RuntimeDirs {
    pub fn new(root: PathBuf, search_path: String) -> RuntimeDirs {
        RuntimeDirs {
            root,
            search_path,
            working: Arc::default(),
        }
    }

    /// `name` on the search path, if it runs (`name --version` succeeds). Cached.
    pub fn interpreter(&self, name: &str) -> Option<PathBuf> {
        if let Some(found) = self.working.lock().ok().and_then(|m| m.get(name).cloned()) {
            return found;
        }
        let found = self.which(name).filter(|path| {
            Command::new(path)
                .arg("--version")
                .env("PATH", &self.search_path)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
        if let Ok(mut map) = self.working.lock() {
            map.insert(name.to_owned(), found.clone());
        }
        found
    }

    pub fn python_sdk(&self) -> PathBuf {
        self.root.join("python")
    }
    pub fn node_sdk(&self) -> PathBuf {
        self.root.join("node")
    }
    fn shims(&self) -> PathBuf {
        self.root.join("shims")
    }

    /// Writes the shims where interpreters can load them. Blocks on I/O.
    pub fn write_shims(&self) -> std::io::Result<()> {
        let dir = self.shims();
        std::fs::create_dir_all(dir.join("python"))?;
        std::fs::create_dir_all(dir.join("node"))?;
        write_if_changed(&dir.join("python/bootstrap.py"), PYTHON_BOOTSTRAP)?;
        write_if_changed(&dir.join("python/_nimbus_runtime.py"), PYTHON_RUNTIME)?;
        write_if_changed(&dir.join("node/bootstrap.cjs"), NODE_BOOTSTRAP)
    }

    /// Finds `name` on the search path.
    pub fn which(&self, name: &str) -> Option<PathBuf> {
        self.search_path
            .split(':')
            .filter(|d| !d.is_empty())
            .map(|d| Path::new(d).join(name))
            .find(|p| is_executable(p))
    }
}

fn write_if_changed(path: &Path, content: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|c| c == content) {
        return Ok(());
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, content)?;
    std::fs::rename(tmp, path)
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// How to start a runtime's process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Variables the runtime needs beyond Lambda's.
    pub env: Vec<(String, String)>,
    /// Set when the exact interpreter is missing and a nearby one runs instead.
    pub substitute: Option<String>,
}

/// Why a runtime cannot start; reported to the caller as the function's init error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchError {
    pub error_type: &'static str,
    pub message: String,
}

/// The process to start for `runtime` with the package extracted at `task_root`.
pub fn launch(
    dirs: &RuntimeDirs,
    runtime: &str,
    task_root: &Path,
) -> std::result::Result<Launch, LaunchError> {
    let shims = dirs.shims();
    match Family::of(runtime) {
        Some(Family::Python) => {
            let exact = runtime.to_owned();
            let (program, substitute) = match dirs.interpreter(&exact) {
                Some(p) => (p, None),
                None => match dirs.interpreter("python3") {
                    Some(p) => (
                        p,
                        Some(format!("{exact} is not installed; python3 runs it")),
                    ),
                    None => return Err(missing("python3")),
                },
            };
            let mut path = vec![task_root.display().to_string()];
            path.push(dirs.python_sdk().display().to_string());
            Ok(Launch {
                program,
                args: vec![shims.join("python/bootstrap.py").display().to_string()],
                env: vec![
                    ("PYTHONPATH".into(), path.join(":")),
                    ("PYTHONUNBUFFERED".into(), "1".into()),
                    ("PYTHONDONTWRITEBYTECODE".into(), "1".into()),
                ],
                substitute,
            })
        }
        Some(Family::Node) => {
            let program = dirs.interpreter("node").ok_or_else(|| missing("node"))?;
            let sdk = dirs.node_sdk().join("node_modules");
            Ok(Launch {
                program,
                args: vec![shims.join("node/bootstrap.cjs").display().to_string()],
                env: vec![(
                    "NODE_PATH".into(),
                    format!(
                        "{}:{}",
                        task_root.join("node_modules").display(),
                        sdk.display()
                    ),
                )],
                substitute: None,
            })
        }
        Some(Family::Provided) => {
            let bootstrap = task_root.join("bootstrap");
            if !is_executable(&bootstrap) {
                return Err(LaunchError {
                    error_type: "Runtime.InvalidEntrypoint",
                    message: format!(
                        "Couldn't find valid bootstrap(s): [{}]",
                        bootstrap.display()
                    ),
                });
            }
            Ok(Launch {
                program: bootstrap,
                args: Vec::new(),
                env: Vec::new(),
                substitute: None,
            })
        }
        None => Err(LaunchError {
            error_type: "Runtime.InvalidRuntime",
            message: format!("Runtime {runtime} is not supported"),
        }),
    }
}

fn missing(interpreter: &str) -> LaunchError {
    LaunchError {
        error_type: "Runtime.InvalidEntrypoint",
        message: format!("{interpreter} is not installed on this machine (see `nimbus doctor`)"),
    }
}

/// Installs the SDK of `family` into the runtime directory if it is not there yet. Blocks
/// while pip or npm run.
pub fn install_sdk(dirs: &RuntimeDirs, family: Family) -> Result<bool> {
    let (marker, mut cmd) = match family {
        Family::Python => {
            let target = dirs.python_sdk();
            let marker = target.join(format!(".boto3-{BOTO3_VERSION}"));
            let python = dirs
                .interpreter("python3")
                .ok_or_else(|| FunctionsError::Service("python3 is not installed".into()))?;
            let mut cmd = Command::new(python);
            cmd.args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-input",
                "--upgrade",
                "--target",
            ])
            .arg(&target)
            .arg(format!("boto3=={BOTO3_VERSION}"));
            (marker, cmd)
        }
        Family::Node => {
            let prefix = dirs.node_sdk();
            let marker = node_marker(dirs);
            let npm = dirs
                .which("npm")
                .ok_or_else(|| FunctionsError::Service("npm is not installed".into()))?;
            std::fs::create_dir_all(&prefix).map_err(|e| {
                FunctionsError::Service(format!("create {}: {e}", prefix.display()))
            })?;
            let mut cmd = Command::new(npm);
            cmd.args([
                "install",
                "--silent",
                "--no-audit",
                "--no-fund",
                "--omit=dev",
                "--prefix",
            ])
            .arg(&prefix)
            .args(NODE_SDK_PACKAGES);
            (marker, cmd)
        }
        Family::Provided => return Ok(false),
    };
    if marker.exists() {
        return Ok(false);
    }
    cmd.env("PATH", &dirs.search_path);
    let out = cmd
        .output()
        .map_err(|e| FunctionsError::Service(format!("cannot run the SDK installer: {e}")))?;
    if !out.status.success() {
        return Err(FunctionsError::Service(format!(
            "installing the {family:?} SDK failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    std::fs::write(&marker, b"")
        .map_err(|e| FunctionsError::Service(format!("mark SDK installed: {e}")))?;
    Ok(true)
}

/// The file that marks the current package list as installed.
fn node_marker(dirs: &RuntimeDirs) -> PathBuf {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(NODE_SDK_PACKAGES.join(",").as_bytes());
    dirs.node_sdk()
        .join(format!(".sdk-{}", &hex::encode(digest)[..12]))
}

/// Makes the Node.js SDK importable from every extracted package under `code_root`: a
/// `node_modules` link in their common parent directory. Node resolves bare specifiers by
/// walking up parent directories, for `require` and for ES module `import` alike, after the
/// package's own `node_modules`; `NODE_PATH` reaches only `require`, and a loader hook would
/// cost every cold start a loader thread.
pub fn link_node_sdk(dirs: &RuntimeDirs, code_root: &Path) -> std::io::Result<()> {
    let target = dirs.node_sdk().join("node_modules");
    let link = code_root.join("node_modules");
    if !target.is_dir() || std::fs::symlink_metadata(&link).is_ok() {
        return Ok(());
    }
    std::fs::create_dir_all(code_root)?;
    match std::os::unix::fs::symlink(&target, &link) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

/// Whether the SDK of `family` is installed.
pub fn sdk_installed(dirs: &RuntimeDirs, family: Family) -> bool {
    match family {
        Family::Python => dirs
            .python_sdk()
            .join(format!(".boto3-{BOTO3_VERSION}"))
            .exists(),
        Family::Node => node_marker(dirs).exists(),
        Family::Provided => true,
    }
}
