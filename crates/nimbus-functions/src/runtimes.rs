//! Runtimes: how an environment's process is started for each `Runtime` value.
//!
//! - `python3.x` runs the host's interpreter (the exact `python3.x` when installed, else the
//!   installed Python 3 nearest in version) on the Python bootstrap shim Nimbus ships;
//! - `nodejs*` runs the host's `node` on the Node.js bootstrap shim;
//! - `provided.*` runs the package's own `bootstrap` executable.
//!
//! Interpreters are resolved once, at first use, to the real executable: each candidate name on
//! `PATH` is asked for its own `sys.executable` / `process.execPath` and version, and that
//! answer is cached. A name on `PATH` may be a version manager's shim (pyenv's is a shell script
//! that costs ~50 ms per start); environments run the executable behind it directly. The
//! Pythons that pyenv installed (`$PYENV_ROOT/versions/*`) are candidates too, whichever one
//! its shim selects. When the
//! exact interpreter is missing, [`Resolution::note`] says which one runs instead; the init log
//! of every environment and `nimbus doctor` repeat it.
//!
//! Layers: when a function has layers, its environment sees them at `/opt` and the search
//! paths include Lambda's layer directories (`/opt/python`,
//! `/opt/python/lib/python3.X/site-packages`; `/opt/nodejs/node_modules`,
//! `/opt/nodejs/nodeNN/node_modules`; `/opt/bin` on `PATH`, `/opt/lib` on `LD_LIBRARY_PATH`).
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
    "python3.14",
    "nodejs18.x",
    "nodejs20.x",
    "nodejs22.x",
    "nodejs24.x",
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
    /// Interpreters found to work (or not), by name on `PATH`, resolved to their real
    /// executables: a name on `PATH` may be a shim of a version manager, slow to start, or
    /// failing when that version is not installed.
    working: Arc<Mutex<HashMap<String, Option<Interpreter>>>>,
    /// pyenv's folder, whose installed Pythons are candidates too.
    pyenv_root: PathBuf,
    /// Each runtime's resolution, by runtime name: worked out once, then reused by every cold
    /// start.
    resolved: Arc<Mutex<HashMap<String, Option<Resolution>>>>,
}

/// One working interpreter: its real executable and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    /// The executable itself (`sys.executable`, `process.execPath`), not a shim on `PATH`.
    pub path: PathBuf,
    /// `[major, minor, patch]`.
    pub version: [u32; 3],
}

impl Interpreter {
    /// `3.12.1` or `20.20.2`.
    pub fn version_text(&self) -> String {
        let [a, b, c] = self.version;
        format!("{a}.{b}.{c}")
    }
}

/// The interpreter a runtime runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub interpreter: Interpreter,
    /// Whether it is the version the runtime names.
    pub exact: bool,
    /// Set when it is not: which runtime runs on what instead, in one sentence.
    pub note: Option<String>,
}

/// Python versions Nimbus looks for, as `python3.X` names on `PATH`.
const PYTHON_MINORS: std::ops::RangeInclusive<u32> = 8..=15;

/// pyenv's folder: `$PYENV_ROOT`, else `~/.pyenv`.
fn pyenv_root() -> PathBuf {
    std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".pyenv")))
        .unwrap_or_default()
}

/// The `python3.X` executables of every Python that pyenv installed under `root`. pyenv's shim
/// on `PATH` runs only the version selected for the current folder (`python3.12` fails when
/// 3.11 is selected), yet the others are installed and are the exact interpreters for their
/// runtimes.
fn pyenv_pythons(root: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(root.join("versions")) else {
        return Vec::new();
    };
    let mut found: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("3."))
        .flat_map(|e| {
            let bin = e.path().join("bin");
            PYTHON_MINORS
                .map(move |m| bin.join(format!("python3.{m}")))
                .filter(|p| is_executable(p))
        })
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    found.sort();
    found
}

/// The requested version of a runtime: `python3.12` → `[3, 12]`, `nodejs20.x` → `[20]`.
fn wanted_version(runtime: &str) -> Option<Vec<u32>> {
    if let Some(minor) = runtime.strip_prefix("python3.") {
        return Some(vec![3, minor.parse().ok()?]);
    }
    let major = runtime.strip_prefix("nodejs")?.strip_suffix(".x")?;
    Some(vec![major.parse().ok()?])
}

/// Parses `"/path/to/exe\n3.12.1\n"` as printed by the probes in [`RuntimeDirs::interpreter`].
fn parse_probe(out: &str) -> Option<Interpreter> {
    let mut lines = out.lines();
    let path = PathBuf::from(lines.next()?.trim());
    let mut parts = lines.next()?.trim().trim_start_matches('v').split('.');
    let mut version = [0u32; 3];
    for slot in &mut version {
        *slot = parts.next()?.parse().ok()?;
    }
    path.is_absolute().then_some(Interpreter { path, version })
}

impl RuntimeDirs {
    pub fn new(root: PathBuf, search_path: String) -> RuntimeDirs {
        RuntimeDirs {
            root,
            search_path,
            working: Arc::default(),
            pyenv_root: pyenv_root(),
            resolved: Arc::default(),
        }
    }

    /// Looks for pyenv's Pythons under `root` instead of `$PYENV_ROOT` or `~/.pyenv`.
    pub fn with_pyenv_root(mut self, root: PathBuf) -> RuntimeDirs {
        self.pyenv_root = root;
        self
    }

    /// `name` on the search path, resolved to the executable it really runs, if it works.
    /// Asked once per name and cached. Blocks while the interpreter answers.
    pub fn interpreter(&self, name: &str) -> Option<Interpreter> {
        if let Some(found) = self.working.lock().ok().and_then(|m| m.get(name).cloned()) {
            return found;
        }
        let found = self.which(name).and_then(|path| {
            let mut cmd = Command::new(&path);
            if name.starts_with("node") {
                cmd.args(["-p", "process.execPath + '\\n' + process.versions.node"]);
            } else {
                cmd.args([
                    "-c",
                    "import sys; print(sys.executable); print('%d.%d.%d' % sys.version_info[:3])",
                ]);
            }
            let out = cmd
                .env("PATH", &self.search_path)
                .stdin(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .output()
                .ok()
                .filter(|o| o.status.success())?;
            parse_probe(&String::from_utf8_lossy(&out.stdout)).filter(|i| is_executable(&i.path))
        });
        if let Ok(mut map) = self.working.lock() {
            map.insert(name.to_owned(), found.clone());
        }
        found
    }

    /// The interpreter `runtime` runs on: the exact version when installed, else the nearest
    /// installed one (the newer of two equally near), with a note saying so. `None` for
    /// `provided.*` and when no interpreter of the family works. Blocks on first use.
    pub fn resolve(&self, runtime: &str) -> Option<Resolution> {
        if let Some(known) = self
            .resolved
            .lock()
            .ok()
            .and_then(|m| m.get(runtime).cloned())
        {
            return known;
        }
        let found = self.find(runtime);
        if let Ok(mut map) = self.resolved.lock() {
            map.insert(runtime.to_owned(), found.clone());
        }
        found
    }

    /// What [`RuntimeDirs::resolve`] answers, worked out from the candidates.
    fn find(&self, runtime: &str) -> Option<Resolution> {
        let wanted = wanted_version(runtime)?;
        let candidates: Vec<Interpreter> = match Family::of(runtime)? {
            Family::Python => PYTHON_MINORS
                .map(|m| format!("python3.{m}"))
                .chain(["python3".to_owned()])
                .chain(pyenv_pythons(&self.pyenv_root))
                .filter_map(|name| self.interpreter(&name))
                .collect(),
            Family::Node => self.interpreter("node").into_iter().collect(),
            Family::Provided => return None,
        };
        let distance = |i: &Interpreter| -> (u32, std::cmp::Reverse<[u32; 3]>) {
            let (have, want) = match wanted.as_slice() {
                [3, minor] => (i.version[1], *minor),
                [major] => (i.version[0], *major),
                _ => (0, 0),
            };
            (have.abs_diff(want), std::cmp::Reverse(i.version))
        };
        let best = candidates.into_iter().min_by_key(distance)?;
        let exact = distance(&best).0 == 0;
        let kind = match Family::of(runtime) {
            Some(Family::Node) => "Node.js",
            _ => "Python",
        };
        let note = (!exact).then(|| {
            format!(
                "{runtime} is not installed on this host; {kind} {} ({}) runs it",
                best.version_text(),
                best.path.display()
            )
        });
        Some(Resolution {
            interpreter: best,
            exact,
            note,
        })
    }

    /// Resolves every supported runtime now, so that no cold start pays for it. Blocks.
    pub fn resolve_all(&self) {
        for runtime in SUPPORTED {
            self.resolve(runtime);
        }
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

    /// Finds `name` on the search path (an absolute path is taken as it is).
    pub fn which(&self, name: &str) -> Option<PathBuf> {
        if name.starts_with('/') {
            return Some(PathBuf::from(name)).filter(|p| is_executable(p));
        }
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

/// Where an environment's layers appear.
pub const LAYERS_MOUNT: &str = "/opt";

/// The process to start for `runtime` with the package extracted at `task_root`; with
/// `layers`, the search paths include Lambda's layer directories under [`LAYERS_MOUNT`].
/// Blocks on the first use of an interpreter.
pub fn launch(
    dirs: &RuntimeDirs,
    runtime: &str,
    task_root: &Path,
    layers: bool,
) -> std::result::Result<Launch, LaunchError> {
    let shims = dirs.shims();
    let opt = Path::new(LAYERS_MOUNT);
    let mut launch = match Family::of(runtime) {
        Some(Family::Python) => {
            let resolved = dirs.resolve(runtime).ok_or_else(|| missing("python3"))?;
            let mut path = vec![task_root.display().to_string()];
            if layers {
                // As Lambda's PYTHONPATH: the layer's site-packages of the runtime's version,
                // then `/opt/python`.
                path.push(
                    opt.join(format!("python/lib/{runtime}/site-packages"))
                        .display()
                        .to_string(),
                );
                path.push(opt.join("python").display().to_string());
            }
            path.push(dirs.python_sdk().display().to_string());
            Launch {
                program: resolved.interpreter.path,
                args: vec![shims.join("python/bootstrap.py").display().to_string()],
                env: vec![
                    ("PYTHONPATH".into(), path.join(":")),
                    ("PYTHONUNBUFFERED".into(), "1".into()),
                    ("PYTHONDONTWRITEBYTECODE".into(), "1".into()),
                ],
                substitute: resolved.note,
            }
        }
        Some(Family::Node) => {
            let resolved = dirs.resolve(runtime).ok_or_else(|| missing("node"))?;
            let mut path = vec![task_root.join("node_modules").display().to_string()];
            if layers {
                let major = runtime.trim_start_matches("nodejs").trim_end_matches(".x");
                path.push(
                    opt.join(format!("nodejs/node{major}/node_modules"))
                        .display()
                        .to_string(),
                );
                path.push(opt.join("nodejs/node_modules").display().to_string());
            }
            path.push(dirs.node_sdk().join("node_modules").display().to_string());
            Launch {
                program: resolved.interpreter.path,
                args: vec![shims.join("node/bootstrap.cjs").display().to_string()],
                env: vec![("NODE_PATH".into(), path.join(":"))],
                substitute: resolved.note,
            }
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
            Launch {
                program: bootstrap,
                args: Vec::new(),
                env: Vec::new(),
                substitute: None,
            }
        }
        None => {
            return Err(LaunchError {
                error_type: "Runtime.InvalidRuntime",
                message: format!("Runtime {runtime} is not supported"),
            });
        }
    };
    // Lambda puts the task root and its `lib` on every runtime's library path (native
    // libraries shipped in the package load by name), and with layers `/opt/lib` too and
    // `/opt/bin` on its PATH.
    let mut library_path = format!(
        "{}:{}",
        task_root.display(),
        task_root.join("lib").display()
    );
    if layers {
        launch.env.push((
            "PATH".into(),
            format!("{}:{}", dirs.search_path, opt.join("bin").display()),
        ));
        library_path = format!("{library_path}:{}", opt.join("lib").display());
    }
    launch.env.push(("LD_LIBRARY_PATH".into(), library_path));
    Ok(launch)
}

/// The variable that names a wrapper script for the runtime's start.
pub const EXEC_WRAPPER: &str = "AWS_LAMBDA_EXEC_WRAPPER";

/// The command that starts `launch`: as on Lambda, a managed runtime (Python, Node.js) whose
/// function sets [`EXEC_WRAPPER`] starts through that script, which gets the runtime's own
/// command as its arguments (and usually ends in `exec "$@"`); a custom runtime's `bootstrap`
/// ignores it. A wrapper under `/var/task/` names the file in the package, which an
/// environment sees at `task_root`.
pub fn command(
    launch: &Launch,
    runtime: &str,
    wrapper: Option<&str>,
    task_root: &Path,
) -> (PathBuf, Vec<String>) {
    let managed = matches!(Family::of(runtime), Some(Family::Python | Family::Node));
    match wrapper.filter(|w| managed && !w.is_empty()) {
        Some(wrapper) => {
            let program = match wrapper.strip_prefix("/var/task/") {
                Some(inside) => task_root.join(inside),
                None => PathBuf::from(wrapper),
            };
            let mut args = vec![launch.program.display().to_string()];
            args.extend(launch.args.iter().cloned());
            (program, args)
        }
        None => (launch.program.clone(), launch.args.clone()),
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
                .ok_or_else(|| FunctionsError::Service("python3 is not installed".into()))?
                .path;
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

/// For a Node.js function with layers: the layers' packages (`nodejs/nodeNN/node_modules` of
/// the runtime's version, else `nodejs/node_modules`, in the extracted `layers_dir`) and where
/// the environment mounts them so that ES modules find them too: `node_modules` in the parent
/// of `code_root`, the next directory that bare specifiers are looked up in after the
/// package's own `node_modules` and the SDK's link (`NODE_PATH` reaches only `require`).
/// Lambda resolves ES module imports from layers since Node.js 18.
pub fn node_layer_modules(
    runtime: &str,
    layers_dir: &Path,
    code_root: &Path,
) -> Option<(PathBuf, PathBuf)> {
    if Family::of(runtime) != Some(Family::Node) {
        return None;
    }
    let major = runtime.trim_start_matches("nodejs").trim_end_matches(".x");
    let source = [
        layers_dir.join(format!("nodejs/node{major}/node_modules")),
        layers_dir.join("nodejs/node_modules"),
    ]
    .into_iter()
    .find(|d| d.is_dir())?;
    Some((source, code_root.parent()?.join("node_modules")))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake interpreter on `PATH`: a script answering the resolution probe with `answer`.
    fn fake(dir: &Path, name: &str, answer: &str) {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\nprintf '{answer}'\n")).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    #[test]
    fn pythons_installed_by_pyenv_are_exact_interpreters() {
        let dir = tempfile::tempdir().expect("tmp");
        let pyenv = dir.path().join("pyenv");
        for (version, minor) in [("3.12.1", 12), ("3.9.18", 9)] {
            let bin = pyenv.join("versions").join(version).join("bin");
            std::fs::create_dir_all(&bin).expect("dir");
            let exe = bin.join(format!("python3.{minor}"));
            fake(
                &bin,
                &format!("python3.{minor}"),
                &format!("{}\\n{version}\\n", exe.display()),
            );
        }
        // PATH has only a 3.10, as when pyenv's shims select another version.
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).expect("dir");
        fake(
            &bin,
            "python3",
            &format!("{}/python3\\n3.10.2\\n", bin.display()),
        );
        let dirs = RuntimeDirs::new(dir.path().join("rt"), bin.display().to_string())
            .with_pyenv_root(pyenv.clone());
        let exact = dirs.resolve("python3.12").expect("resolved");
        assert!(exact.exact, "{:?}", exact.note);
        assert_eq!(exact.interpreter.version, [3, 12, 1]);
        assert!(exact.interpreter.path.starts_with(&pyenv));
        assert_eq!(
            dirs.resolve("python3.9")
                .expect("resolved")
                .interpreter
                .version,
            [3, 9, 18]
        );
        assert_eq!(
            dirs.resolve("python3.10")
                .expect("resolved")
                .interpreter
                .version,
            [3, 10, 2]
        );
    }

    #[test]
    fn runtimes_resolve_to_real_executables_or_the_nearest_version() {
        let dir = tempfile::tempdir().expect("tmp");
        let real = dir.path().join("real");
        std::fs::create_dir_all(&real).expect("dir");
        fake(&real, "python3.12-bin", "");
        fake(&real, "python3.10-bin", "");
        // The names on PATH are shims that answer with the real executables.
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).expect("dir");
        let r = real.display();
        fake(
            &bin,
            "python3.12",
            &format!("{r}/python3.12-bin\\n3.12.4\\n"),
        );
        fake(&bin, "python3", &format!("{r}/python3.10-bin\\n3.10.2\\n"));
        fake(&bin, "python3.13", "broken shim");
        let dirs = RuntimeDirs::new(dir.path().join("rt"), bin.display().to_string())
            .with_pyenv_root(dir.path().join("no-pyenv"));

        let exact = dirs.resolve("python3.12").expect("resolved");
        assert!(exact.exact && exact.note.is_none());
        assert_eq!(exact.interpreter.path, real.join("python3.12-bin"));
        assert_eq!(exact.interpreter.version, [3, 12, 4]);

        let newest = dirs.resolve("python3.14").expect("resolved");
        assert!(!newest.exact);
        assert_eq!(
            newest.interpreter.version,
            [3, 12, 4],
            "the nearest version"
        );
        let note = newest.note.expect("note");
        assert!(note.starts_with("python3.14 is not installed"), "{note}");
        assert!(note.contains("3.12.4"), "{note}");

        let older = dirs.resolve("python3.9").expect("resolved");
        assert_eq!(older.interpreter.version, [3, 10, 2]);
        assert!(dirs.resolve("nodejs22.x").is_none(), "no node on this PATH");
        assert!(dirs.resolve("provided.al2023").is_none());

        let with_layers =
            launch(&dirs, "python3.12", Path::new("/var/task"), true).expect("launch");
        let env: HashMap<_, _> = with_layers.env.iter().cloned().collect();
        assert_eq!(
            env["PYTHONPATH"].split(':').take(3).collect::<Vec<_>>(),
            [
                "/var/task",
                "/opt/python/lib/python3.12/site-packages",
                "/opt/python"
            ]
        );
        assert!(env["PATH"].ends_with(":/opt/bin"));
        assert!(env["LD_LIBRARY_PATH"].ends_with(":/opt/lib"));
        let without = launch(&dirs, "python3.12", Path::new("/var/task"), false).expect("launch");
        assert!(!without.env.iter().any(|(_, v)| v.contains("/opt")));
    }

    #[test]
    fn an_exec_wrapper_starts_managed_runtimes_only() {
        let launch = Launch {
            program: PathBuf::from("/usr/bin/python3.12"),
            args: vec!["/shims/python/bootstrap.py".into()],
            env: Vec::new(),
            substitute: None,
        };
        let root = Path::new("/data/code/f1");
        let (program, args) = command(&launch, "python3.12", Some("/var/task/wrap.sh"), root);
        assert_eq!(program, root.join("wrap.sh"));
        assert_eq!(args, ["/usr/bin/python3.12", "/shims/python/bootstrap.py"]);
        let (program, _) = command(&launch, "nodejs20.x", Some("/opt/otel-handler"), root);
        assert_eq!(program, PathBuf::from("/opt/otel-handler"));
        for (runtime, wrapper) in [("provided.al2023", Some("/opt/w")), ("python3.12", None)] {
            let (program, args) = command(&launch, runtime, wrapper, root);
            assert_eq!(
                (program, args),
                (launch.program.clone(), launch.args.clone())
            );
        }
    }

    #[test]
    fn node_layer_packages_are_mounted_where_es_modules_look() {
        let dir = tempfile::tempdir().expect("tmp");
        let (layers, code) = (dir.path().join("layers"), dir.path().join("fn/code"));
        assert_eq!(node_layer_modules("nodejs20.x", &layers, &code), None);
        std::fs::create_dir_all(layers.join("nodejs/node_modules")).expect("dir");
        let mount = dir.path().join("fn/node_modules");
        assert_eq!(
            node_layer_modules("nodejs20.x", &layers, &code),
            Some((layers.join("nodejs/node_modules"), mount.clone()))
        );
        std::fs::create_dir_all(layers.join("nodejs/node20/node_modules")).expect("dir");
        assert_eq!(
            node_layer_modules("nodejs20.x", &layers, &code),
            Some((layers.join("nodejs/node20/node_modules"), mount))
        );
        assert_eq!(node_layer_modules("python3.12", &layers, &code), None);
    }
}
