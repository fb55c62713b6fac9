//! Builds: a function's (or a layer's) source folder turned into the folder that is zipped, as
//! `sam build` does it.
//!
//! | method | when | what runs |
//! | --- | --- | --- |
//! | [`Method::Pip`] | `python3.x` with a `requirements.txt` that names packages | the runtime's `python3.x -m pip install -r requirements.txt -t OUT` (else any `python3` with `--python-version`, `--platform`, `--only-binary=:all:`) |
//! | [`Method::Npm`] | `nodejs*` with a `package.json` that has `dependencies` | `npm ci --omit=dev` with a lock file, else `npm install --omit=dev` |
//! | [`Method::Esbuild`] | `Metadata: BuildMethod: esbuild` | `npm ci`/`npm install`, then esbuild with the `BuildProperties` ([`esbuild_args`]) |
//! | [`Method::Makefile`] | `Metadata: BuildMethod: makefile` | `make build-<LogicalId>` with `ARTIFACTS_DIR` |
//!
//! A function with none of these is packaged from its folder as it is. Tools run as real
//! processes on the host (`PATH` as inherited); a missing tool is an error that says what to
//! install, and a failing one is an error that carries the tool's own output.
//!
//! Outputs are cached in the project's `.nimbus/build/<LogicalId>/` next to
//! `<LogicalId>.json`, which holds the [`cache_key`] of the inputs that built it (source files,
//! manifest and lock files, runtime, architecture, metadata): an unchanged function is not
//! rebuilt. A build writes into a staging folder and replaces the cached output only when it
//! succeeds, so a failed build leaves the previous output (and the deployed code) alone.
//!
//! Layers (`AWS::Serverless::LayerVersion` with `Metadata: BuildMethod`) build through
//! [`Builder::build_layer`] (a [`Target::Layer`] request): Python packages land in `python/`,
//! Node.js packages in `nodejs/node_modules`, as Lambda expects them under `/opt`.

mod cache;
mod esbuild;
mod makefile;
mod node;
mod python;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::Value as Json;

pub use cache::cache_key;
pub use esbuild::{ESBUILD_VERSION, esbuild_args, link_sourcemap};

use crate::error::{Error, Result};
use crate::package::{files, io};

/// How a resource is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Method {
    Pip,
    Npm,
    Esbuild,
    Makefile,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Pip => "pip",
            Method::Npm => "npm",
            Method::Esbuild => "esbuild",
            Method::Makefile => "makefile",
        }
    }
}

/// What is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A function's code: the output is the function's package root.
    Function,
    /// A layer's content: Python packages under `python/`, Node.js ones under
    /// `nodejs/node_modules`; `runtime` is the layer's `BuildMethod` (`python3.12`,
    /// `nodejs20.x`) or, for `makefile`, one of its compatible runtimes.
    Layer,
}

/// One resource to build.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The logical id: names the output folder and every message.
    pub name: &'a str,
    pub target: Target,
    /// The `CodeUri` (or `ContentUri`) folder.
    pub source: &'a Path,
    pub runtime: &'a str,
    /// The function's handler (`app.lambdaHandler`), which gives esbuild its default entry.
    pub handler: Option<&'a str>,
    /// `x86_64` or `arm64`, as the template says.
    pub architecture: &'a str,
    /// The resource's `Metadata` (`BuildMethod`, `BuildProperties`, `ContextPath`).
    pub metadata: Option<&'a Json>,
    /// The template's folder, which `ContextPath` is relative to.
    pub template_dir: &'a Path,
}

impl Request<'_> {
    fn metadata(&self, key: &str) -> Option<&Json> {
        self.metadata.and_then(|m| m.get(key))
    }

    fn error(&self, message: impl Into<String>) -> Error {
        Error::Build {
            name: self.name.to_owned(),
            message: message.into(),
        }
    }

    /// `Metadata: ContextPath`, resolved against the template's folder.
    fn context_path(&self) -> Option<PathBuf> {
        self.metadata("ContextPath")
            .and_then(Json::as_str)
            .map(|p| self.template_dir.join(p))
    }
}

/// A finished build.
#[derive(Debug, Clone)]
pub struct Built {
    /// The folder to package.
    pub dir: PathBuf,
    pub method: Method,
    /// True when the output of an earlier build with the same inputs was reused.
    pub cached: bool,
    pub seconds: f64,
}

/// Builds into one project's cache folder.
#[derive(Debug, Clone)]
pub struct Builder {
    root: PathBuf,
    tools: PathBuf,
}

/// The build folder of a project, relative to its template's folder.
pub const BUILD_DIR: &str = ".nimbus/build";

impl Builder {
    /// Builds into `root` (a project's `.nimbus/build`); tools Nimbus installs itself (esbuild)
    /// go to `tools`, shared by all projects.
    pub fn new(root: PathBuf, tools: PathBuf) -> Builder {
        Builder { root, tools }
    }

    /// The builder of the project whose template is in `template_dir`.
    pub fn for_project(template_dir: &Path, tools: PathBuf) -> Builder {
        Builder::new(template_dir.join(BUILD_DIR), tools)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// How `req` is built, or `None` when its folder is packaged as it is.
    pub fn method(&self, req: &Request<'_>) -> Result<Option<Method>> {
        if let Some(m) = req.metadata("BuildMethod") {
            let m = m.as_str().ok_or_else(|| {
                req.error(format!("Metadata BuildMethod must be a string, not {m}"))
            })?;
            return match m {
                "makefile" => Ok(Some(Method::Makefile)),
                "esbuild" if req.runtime.starts_with("nodejs") => Ok(Some(Method::Esbuild)),
                "esbuild" => Err(req.error(format!(
                    "BuildMethod esbuild builds Node.js functions, not {}",
                    req.runtime
                ))),
                m if m.starts_with("python3.") => Ok(Some(Method::Pip)),
                m if m.starts_with("nodejs") => Ok(Some(Method::Npm)),
                other => Err(req.error(format!(
                    "BuildMethod {other} is not supported (makefile, esbuild, or a python3.x or nodejs runtime)"
                ))),
            };
        }
        if req.target == Target::Layer {
            return Ok(None);
        }
        if req.runtime.starts_with("python3.") && python::has_requirements(req.source) {
            Ok(Some(Method::Pip))
        } else if req.runtime.starts_with("nodejs") && node::has_dependencies(req.source) {
            Ok(Some(Method::Npm))
        } else {
            Ok(None)
        }
    }

    /// Builds a layer's `ContentUri` folder as its `Metadata` says (`BuildMethod: python3.12`,
    /// `nodejs20.x` or `makefile`, with `ContextPath` as for functions): Python packages under
    /// `python/`, Node.js ones under `nodejs/node_modules`. `compatible_runtime` (one of the
    /// layer's `CompatibleRuntimes`) stands for the runtime when the method is `makefile`.
    /// `None` when the layer has no `BuildMethod`: its folder is packaged as it is.
    pub fn build_layer(
        &self,
        name: &str,
        content: &Path,
        metadata: Option<&Json>,
        compatible_runtime: Option<&str>,
        template_dir: &Path,
    ) -> Result<Option<Built>> {
        let method = metadata
            .and_then(|m| m.get("BuildMethod"))
            .and_then(Json::as_str);
        let runtime = match method {
            Some(m) if m.starts_with("python3.") || m.starts_with("nodejs") => m,
            _ => compatible_runtime.unwrap_or(""),
        };
        let req = Request {
            name,
            target: Target::Layer,
            source: content,
            runtime,
            handler: None,
            architecture: "x86_64",
            metadata,
            template_dir,
        };
        match self.method(&req)? {
            Some(method) => self.build(&req, method).map(Some),
            None => Ok(None),
        }
    }

    /// Builds `req` with `method`, or reuses the cached output of the same inputs.
    pub fn build(&self, req: &Request<'_>, method: Method) -> Result<Built> {
        let started = Instant::now();
        let mut extra = Vec::new();
        if method == Method::Makefile
            && let Some(context) = req.context_path()
        {
            extra.push(context);
        }
        let key = cache_key(req, method, &extra)?;
        let out = self.root.join(req.name);
        let record = self.root.join(format!("{}.json", req.name));
        let recorded = std::fs::read(&record)
            .ok()
            .and_then(|b| serde_json::from_slice::<Json>(&b).ok());
        if out.is_dir()
            && recorded
                .as_ref()
                .and_then(|r| r.get("key"))
                .and_then(Json::as_str)
                == Some(key.as_str())
        {
            return Ok(Built {
                dir: out,
                method,
                cached: true,
                seconds: started.elapsed().as_secs_f64(),
            });
        }
        std::fs::create_dir_all(&self.root).map_err(io(&self.root))?;
        let staging = tempfile::Builder::new()
            .prefix(&format!(".tmp-{}-", req.name))
            .tempdir_in(&self.root)
            .map_err(io(&self.root))?;
        let artifact = staging.path().join("artifact");
        let scratch = staging.path().join("scratch");
        for dir in [&artifact, &scratch] {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let job = Job {
            req,
            artifact: &artifact,
            scratch: &scratch,
            tools: &self.tools,
        };
        match method {
            Method::Pip => python::build(&job)?,
            Method::Npm => node::build(&job)?,
            Method::Esbuild => node::bundle(&job)?,
            Method::Makefile => makefile::build(&job)?,
        }
        if out.exists() {
            std::fs::remove_dir_all(&out).map_err(io(&out))?;
        }
        std::fs::rename(&artifact, &out).map_err(io(&out))?;
        let text = serde_json::json!({
            "key": key,
            "method": method.name(),
            "runtime": req.runtime,
        });
        std::fs::write(&record, text.to_string()).map_err(io(&record))?;
        Ok(Built {
            dir: out,
            method,
            cached: false,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}

/// One build in progress: where its output and its scratch files go.
struct Job<'a> {
    req: &'a Request<'a>,
    artifact: &'a Path,
    scratch: &'a Path,
    tools: &'a Path,
}

/// Copies the files of `from` (as packages see them, without folders named in `skip`) to `to`,
/// keeping their modes.
fn copy_tree(from: &Path, to: &Path, skip: &[&str]) -> Result<()> {
    for (name, path, _) in files(from, skip)? {
        let dest = to.join(&name);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::copy(&path, &dest).map_err(io(&path))?;
    }
    Ok(())
}

/// Runs a tool to completion; its output is returned on success and carried by the error
/// otherwise. `install` says how to get the tool when it is missing.
fn run(req: &Request<'_>, mut cmd: Command, install: &str) -> Result<String> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let line = std::iter::once(program.clone())
        .chain(cmd.get_args().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ");
    let output = match cmd.output() {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let tool = Path::new(&program)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or(program);
            return Err(req.error(format!("{tool} not found: {install}")));
        }
        Err(e) => return Err(req.error(format!("could not run {line}: {e}"))),
    };
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    if !output.status.success() {
        let status = match output.status.code() {
            Some(code) => format!("exit status {code}"),
            None => "killed by a signal".to_owned(),
        };
        return Err(req.error(format!(
            "build failed: `{line}` ended with {status}:\n{}",
            text.trim_end()
        )));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request<'a>(
        dir: &'a Path,
        runtime: &'a str,
        target: Target,
        metadata: Option<&'a Json>,
    ) -> Request<'a> {
        Request {
            name: "Thing",
            target,
            source: dir,
            runtime,
            handler: Some("app.handler"),
            architecture: "x86_64",
            metadata,
            template_dir: dir,
        }
    }

    #[test]
    fn the_method_comes_from_metadata_else_from_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let builder = Builder::for_project(d, d.join("tools"));
        let method = |runtime, metadata: Option<&Json>| {
            builder.method(&request(d, runtime, Target::Function, metadata))
        };
        assert_eq!(method("python3.12", None).unwrap(), None, "no manifest");
        std::fs::write(d.join("requirements.txt"), "# nothing yet\n\n").unwrap();
        assert_eq!(
            method("python3.12", None).unwrap(),
            None,
            "nothing to install"
        );
        std::fs::write(d.join("requirements.txt"), "six\n").unwrap();
        assert_eq!(method("python3.12", None).unwrap(), Some(Method::Pip));

        std::fs::write(d.join("package.json"), r#"{"name": "x"}"#).unwrap();
        assert_eq!(method("nodejs20.x", None).unwrap(), None, "no dependencies");
        std::fs::write(d.join("package.json"), r#"{"dependencies": {"ms": "2"}}"#).unwrap();
        assert_eq!(method("nodejs20.x", None).unwrap(), Some(Method::Npm));

        let esbuild = json!({"BuildMethod": "esbuild"});
        assert_eq!(
            method("nodejs22.x", Some(&esbuild)).unwrap(),
            Some(Method::Esbuild)
        );
        let err = method("python3.12", Some(&esbuild))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("Thing: BuildMethod esbuild builds Node.js"),
            "{err}"
        );
        let make = json!({"BuildMethod": "makefile"});
        assert_eq!(
            method("provided.al2023", Some(&make)).unwrap(),
            Some(Method::Makefile)
        );
        let err = method("java21", Some(&json!({"BuildMethod": "maven"})))
            .unwrap_err()
            .to_string();
        assert!(err.contains("BuildMethod maven is not supported"), "{err}");

        // A layer is built only when its metadata says how.
        let layer = |metadata| builder.method(&request(d, "python3.12", Target::Layer, metadata));
        assert_eq!(layer(None).unwrap(), None);
        let py = json!({"BuildMethod": "python3.12"});
        assert_eq!(layer(Some(&py)).unwrap(), Some(Method::Pip));
        let node = json!({"BuildMethod": "nodejs20.x"});
        assert_eq!(layer(Some(&node)).unwrap(), Some(Method::Npm));
    }

    #[test]
    fn a_python_layer_lands_under_python_and_is_cached() {
        let project = tempfile::tempdir().unwrap();
        let src = project.path().join("layer");
        std::fs::create_dir_all(src.join("shared")).unwrap();
        std::fs::write(src.join("shared/util.py"), "X = 1\n").unwrap();
        let builder = Builder::for_project(project.path(), project.path().join("tools"));
        let metadata = json!({"BuildMethod": "python3.12"});
        let build = || {
            builder
                .build_layer("Thing", &src, Some(&metadata), None, project.path())
                .unwrap()
                .unwrap()
        };
        let built = build();
        assert!(!built.cached);
        assert_eq!(built.method, Method::Pip);
        assert_eq!(built.dir, project.path().join(".nimbus/build/Thing"));
        assert!(built.dir.join("python/shared/util.py").is_file());
        assert!(build().cached);
        std::fs::write(src.join("shared/util.py"), "X = 2\n").unwrap();
        let rebuilt = build();
        assert!(!rebuilt.cached);
        let text = std::fs::read_to_string(rebuilt.dir.join("python/shared/util.py")).unwrap();
        assert_eq!(text, "X = 2\n");
    }

    #[test]
    fn a_failed_make_carries_its_output_and_keeps_the_last_good_build() {
        let project = tempfile::tempdir().unwrap();
        let src = project.path().join("fn");
        std::fs::create_dir_all(&src).unwrap();
        let good = "build-Thing:\n\techo ok > $(ARTIFACTS_DIR)/bootstrap\n";
        std::fs::write(src.join("Makefile"), good).unwrap();
        let builder = Builder::for_project(project.path(), project.path().join("tools"));
        let metadata = json!({"BuildMethod": "makefile"});
        let req = request(&src, "provided.al2023", Target::Function, Some(&metadata));
        let built = builder.build(&req, Method::Makefile).unwrap();
        assert_eq!(
            std::fs::read_to_string(built.dir.join("bootstrap")).unwrap(),
            "ok\n"
        );
        // The build ran in a copy: the source folder is as it was.
        assert!(!src.join("bootstrap").exists());

        let bad = "build-Thing:\n\t@echo compiler says no >&2; exit 3\n";
        std::fs::write(src.join("Makefile"), bad).unwrap();
        let err = builder
            .build(&req, Method::Makefile)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("Thing: build failed: `make"), "{err}");
        assert!(err.contains("compiler says no"), "{err}");
        assert_eq!(
            std::fs::read_to_string(built.dir.join("bootstrap")).unwrap(),
            "ok\n"
        );
        // No staging folder is left behind.
        let left: Vec<_> = std::fs::read_dir(builder.root())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left.len(), 2, "{left:?}");
    }
}
