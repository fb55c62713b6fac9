//! The pip builder: the source folder copied, then `requirements.txt` installed into it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{Job, Target, copy_tree, run};
use crate::error::Result;

const INSTALL: &str = "install Python 3 with pip (e.g. `apt-get install python3-pip`)";

/// True when `dir/requirements.txt` names at least one package (an empty one installs nothing,
/// so the folder is packaged as it is).
pub(super) fn has_requirements(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("requirements.txt")).is_ok_and(|text| {
        text.lines().any(|l| {
            let l = l.trim();
            !l.is_empty() && !l.starts_with('#')
        })
    })
}

/// True when `program --version` runs: a name on `PATH` may be a version manager's shim that
/// fails when that version is not installed.
fn works(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The runtime's own interpreter: `python3.X` on `PATH` when it runs, else the one pyenv
/// installed (its shim on `PATH` runs only the selected version). The server resolves runtimes
/// the same way, so the packages are built for the interpreter that will import them.
fn exact_interpreter(version: &str) -> Option<PathBuf> {
    let name = format!("python{version}");
    if works(&name) {
        return Some(PathBuf::from(name));
    }
    let root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".pyenv")))?;
    let mut found: Vec<PathBuf> = std::fs::read_dir(root.join("versions"))
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin").join(&name))
        .filter(|p| works(&p.to_string_lossy()))
        .collect();
    found.sort();
    found.pop()
}

/// The platform tags pip may pick binary wheels for, on this host (functions run on the host's
/// interpreter). `manylinux2014` also admits `manylinux2010` and `manylinux1` wheels.
fn platforms() -> Vec<String> {
    let arch = std::env::consts::ARCH;
    ["manylinux2014", "manylinux_2_28", "manylinux_2_34"]
        .iter()
        .map(|p| format!("{p}_{arch}"))
        .collect()
}

pub(super) fn build(job: &Job<'_>) -> Result<()> {
    let req = job.req;
    let dest = match req.target {
        Target::Function => job.artifact.to_owned(),
        Target::Layer => job.artifact.join("python"),
    };
    copy_tree(req.source, &dest, &[])?;
    let requirements = req.source.join("requirements.txt");
    if !has_requirements(req.source) {
        return Ok(());
    }
    let version = req
        .runtime
        .strip_prefix("python")
        .filter(|v| v.starts_with("3."))
        .ok_or_else(|| req.error(format!("{} is not a Python runtime", req.runtime)))?;
    let mut cmd;
    if let Some(exact) = exact_interpreter(version) {
        // The runtime's own interpreter picks what suits it.
        cmd = Command::new(&exact);
        cmd.args(["-m", "pip", "install", "--prefer-binary"]);
    } else {
        // Another Python installs for the runtime's version: binary wheels only, since a
        // source build would compile for the wrong interpreter.
        cmd = Command::new("python3");
        cmd.args(["-m", "pip", "install", "--only-binary=:all:"]);
        cmd.args(["--implementation", "cp", "--python-version", version]);
        for p in platforms() {
            cmd.args(["--platform", &p]);
        }
    }
    cmd.args([
        "--disable-pip-version-check",
        "--no-input",
        "--no-compile",
        "--quiet",
    ]);
    cmd.arg("--target").arg(&dest);
    cmd.arg("-r").arg(&requirements);
    cmd.current_dir(req.source);
    run(req, cmd, INSTALL).map(drop)
}
