//! The npm builder (production dependencies installed next to the code) and the esbuild
//! builder (dependencies installed in a scratch copy, then the handler bundled).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;

use super::{Job, Request, Target, copy_tree, esbuild, run};
use crate::error::Result;
use crate::package::io;

const INSTALL_NPM: &str = "install Node.js with npm (e.g. `apt-get install nodejs npm`)";

/// True when `dir/package.json` has dependencies to install (or cannot be read as JSON, which
/// npm then reports).
pub(super) fn has_dependencies(dir: &Path) -> bool {
    let Ok(text) = std::fs::read(dir.join("package.json")) else {
        return false;
    };
    match serde_json::from_slice::<Json>(&text) {
        Ok(manifest) => manifest
            .get("dependencies")
            .and_then(Json::as_object)
            .is_some_and(|d| !d.is_empty()),
        Err(_) => true,
    }
}

fn has_lock(dir: &Path) -> bool {
    dir.join("package-lock.json").is_file() || dir.join("npm-shrinkwrap.json").is_file()
}

/// `npm ci` (with a lock file) or `npm install` in `dir`.
fn npm_install(req: &Request<'_>, dir: &Path, ci: bool, production: bool) -> Result<()> {
    let mut cmd = Command::new("npm");
    cmd.arg(if ci { "ci" } else { "install" });
    if production {
        cmd.arg("--omit=dev");
    }
    cmd.args(["--no-audit", "--no-fund", "--no-update-notifier"]);
    cmd.current_dir(dir);
    run(req, cmd, INSTALL_NPM).map(drop)
}

pub(super) fn build(job: &Job<'_>) -> Result<()> {
    let req = job.req;
    let dest = match req.target {
        Target::Function => job.artifact.to_owned(),
        Target::Layer => job.artifact.join("nodejs"),
    };
    copy_tree(req.source, &dest, &["node_modules"])?;
    if !dest.join("package.json").is_file() {
        return Ok(());
    }
    npm_install(req, &dest, has_lock(&dest), true)
}

pub(super) fn bundle(job: &Job<'_>) -> Result<()> {
    let req = job.req;
    let empty = serde_json::Map::new();
    let props = match req.metadata("BuildProperties") {
        None => &empty,
        Some(Json::Object(p)) => p,
        Some(other) => {
            return Err(req.error(format!(
                "Metadata BuildProperties must be a map, not {other}"
            )));
        }
    };
    let scratch = job.scratch;
    copy_tree(req.source, scratch, &["node_modules"])?;
    if scratch.join("package.json").is_file() {
        // Everything, dev dependencies included: esbuild and type packages usually are.
        let ci = match props.get("UseNpmCi") {
            Some(v) => v.as_bool().unwrap_or(false) || v.as_str() == Some("true"),
            None => has_lock(scratch),
        };
        npm_install(req, scratch, ci, false)?;
    }
    let default_entry = req.handler.and_then(|h| default_entry(scratch, h));
    let args = esbuild::esbuild_args(props, default_entry.as_deref()).map_err(|e| req.error(e))?;
    let local = scratch.join("node_modules/.bin/esbuild");
    let program = if local.is_file() {
        local
    } else {
        ensure_esbuild(job)?
    };
    let mut cmd = Command::new(program);
    cmd.args(&args);
    cmd.arg(format!("--outdir={}", job.artifact.display()));
    cmd.current_dir(scratch);
    run(req, cmd, INSTALL_NPM).map(drop)
}

/// The source file of a handler's module (`app.lambdaHandler` → `app.ts`, `app.js`, ...).
fn default_entry(dir: &Path, handler: &str) -> Option<String> {
    let module = handler.rsplit_once('.').map_or(handler, |(m, _)| m);
    ["ts", "mts", "cts", "js", "mjs", "cjs"]
        .iter()
        .map(|ext| format!("{module}.{ext}"))
        .find(|f| dir.join(f).is_file())
}

/// The pinned esbuild in Nimbus' tools folder, installed with npm the first time.
fn ensure_esbuild(job: &Job<'_>) -> Result<PathBuf> {
    let req = job.req;
    let home = job
        .tools
        .join(format!("esbuild-{}", esbuild::ESBUILD_VERSION));
    let bin = home.join("node_modules/.bin/esbuild");
    if bin.is_file() {
        return Ok(bin);
    }
    std::fs::create_dir_all(job.tools).map_err(io(job.tools))?;
    let staging = tempfile::Builder::new()
        .prefix(".esbuild-")
        .tempdir_in(job.tools)
        .map_err(io(job.tools))?;
    let mut cmd = Command::new("npm");
    cmd.args([
        "install",
        "--no-audit",
        "--no-fund",
        "--no-update-notifier",
        "--no-save",
    ]);
    cmd.arg("--prefix").arg(staging.path());
    cmd.arg(format!("esbuild@{}", esbuild::ESBUILD_VERSION));
    run(req, cmd, INSTALL_NPM)?;
    let installed = staging.keep();
    let _ = std::fs::remove_dir_all(&home);
    std::fs::rename(&installed, &home).map_err(io(&home))?;
    Ok(bin)
}
