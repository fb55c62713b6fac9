//! The build step of a stack's functions (pip, npm, esbuild, make, from
//! [`nimbus_deploy::build`]), shared by `nimbus build`, `nimbus deploy` and `--watch`: each
//! function with a build is built (or found cached in the project's `.nimbus/build/`) and the
//! folder to package is the build's output.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use nimbus_deploy::build::{Builder, Built, Method, Request, Target};
use nimbus_deploy::model::{CodeSource, Desired, FunctionSpec, Spec};
use nimbus_deploy::sam::Resolved;
use serde_json::{Value, json};

use crate::cli::BuildArgs;

/// Where tools Nimbus installs for builds (a pinned esbuild) are kept, for every project:
/// `$XDG_CACHE_HOME/nimbus/tools`, else `~/.cache/nimbus/tools`.
pub(super) fn tools_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|cache| cache.join("nimbus").join("tools"))
        .unwrap_or_else(|| PathBuf::from(".nimbus").join("tools"))
}

/// Where progress lines go: stdout for people, stderr when stdout carries JSON.
#[derive(Clone, Copy)]
pub(super) enum Progress {
    Stdout,
    Stderr,
}

impl Progress {
    fn write(self, text: &str) {
        // A closed output must not stop a build halfway.
        let _ = match self {
            Progress::Stdout => {
                let mut out = std::io::stdout();
                out.write_all(text.as_bytes()).and_then(|()| out.flush())
            }
            Progress::Stderr => std::io::stderr().write_all(text.as_bytes()),
        };
    }
}

/// One function's build, as `nimbus build --json` reports it.
pub(super) struct FunctionBuild {
    pub logical_id: String,
    pub runtime: String,
    pub method: Option<Method>,
    pub built: Option<Built>,
}

impl FunctionBuild {
    fn json(&self) -> Value {
        json!({
            "logical_id": self.logical_id,
            "runtime": self.runtime,
            "method": self.method.map(Method::name),
            "cached": self.built.as_ref().map(|b| b.cached),
            "seconds": self.built.as_ref().map(|b| (b.seconds * 1000.0).round() / 1000.0),
            "artifact": self.built.as_ref().map(|b| b.dir.display().to_string()),
        })
    }
}

fn request<'a>(
    logical_id: &'a str,
    f: &'a FunctionSpec,
    dir: &'a Path,
    template_dir: &'a Path,
) -> Request<'a> {
    Request {
        name: logical_id,
        target: Target::Function,
        source: dir,
        runtime: f
            .config
            .get("Runtime")
            .and_then(Value::as_str)
            .unwrap_or(""),
        handler: f.config.get("Handler").and_then(Value::as_str),
        architecture: f.architectures.first().map_or("x86_64", String::as_str),
        metadata: f.metadata.as_ref(),
        template_dir,
    }
}

/// Builds one function when it has a build, printing its progress line.
pub(super) fn build_function(
    builder: &Builder,
    template_dir: &Path,
    d: &Desired,
    f: &FunctionSpec,
    progress: Progress,
) -> anyhow::Result<FunctionBuild> {
    let runtime = f
        .config
        .get("Runtime")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let mut result = FunctionBuild {
        logical_id: d.logical_id.clone(),
        runtime: runtime.clone(),
        method: None,
        built: None,
    };
    let CodeSource::Dir(dir) = &f.code else {
        return Ok(result);
    };
    let req = request(&d.logical_id, f, dir, template_dir);
    let at = |e: nimbus_deploy::Error| match e {
        nimbus_deploy::Error::Build { name, message } => {
            anyhow!("Resource {name} (template line {}): {message}", d.line)
        }
        other => anyhow!(other),
    };
    let Some(method) = builder.method(&req).map_err(at)? else {
        return Ok(result);
    };
    result.method = Some(method);
    progress.write(&format!(
        "Building {} ({runtime}, {})… ",
        d.logical_id,
        method.name()
    ));
    match builder.build(&req, method) {
        Ok(built) => {
            if built.cached {
                progress.write("cached\n");
            } else {
                progress.write(&format!("done in {:.1} s\n", built.seconds));
            }
            result.built = Some(built);
            Ok(result)
        }
        Err(e) => {
            progress.write("failed\n");
            Err(at(e))
        }
    }
}

/// The code to package for a function: its build's output, or its own `CodeSource`.
pub(super) fn code_of(f: &FunctionSpec, build: &FunctionBuild) -> CodeSource {
    match &build.built {
        Some(b) => CodeSource::Dir(b.dir.clone()),
        None => f.code.clone(),
    }
}

/// `nimbus build`: builds every function of the template without deploying.
pub fn build(args: BuildArgs) -> anyhow::Result<()> {
    let loaded = super::load_template(args.template.as_deref())?;
    let overrides = super::parse_overrides(&args.parameter_overrides)?;
    let stack = super::default_stack_name(&loaded.path);
    let resolved: Resolved = nimbus_deploy::sam::resolve(
        &loaded.template,
        &nimbus_deploy::sam::Inputs {
            stack: &stack,
            region: "us-east-1",
            account: crate::serve::ACCOUNT_ID,
            template_dir: &loaded.dir,
            overrides: &overrides,
            actual: &[],
        },
    )
    .map_err(|e| anyhow!("{}: {e}", loaded.path.display()))?;
    let builder = Builder::for_project(&loaded.dir, tools_dir());
    let progress = if args.json {
        Progress::Stderr
    } else {
        Progress::Stdout
    };
    let mut builds = Vec::new();
    for d in &resolved.resources {
        if let Spec::Function(f) = &d.spec {
            builds.push(build_function(&builder, &loaded.dir, d, f, progress)?);
        }
    }
    let built = builds.iter().filter(|b| b.built.is_some()).count();
    if args.json {
        let out = json!({
            "build_dir": builder.root().display().to_string(),
            "functions": builds.iter().map(FunctionBuild::json).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for b in builds.iter().filter(|b| b.method.is_none()) {
            println!(
                "{} ({}): nothing to build, packaged from its folder as it is",
                b.logical_id, b.runtime
            );
        }
        println!(
            "Built {built} of {} function(s) into {}",
            builds.len(),
            builder.root().display()
        );
    }
    Ok(())
}
