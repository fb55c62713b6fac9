//! `nimbus doctor`: one line per thing Nimbus needs from the machine, each with a verdict.

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

use crate::cli::DoctorArgs;
use crate::config::Config;

struct Check {
    what: String,
    ok: bool,
    /// Works, but not as well as it could (a substitute interpreter, an SDK not installed yet).
    warn: bool,
    detail: String,
}

pub fn run(args: DoctorArgs) -> anyhow::Result<()> {
    let config = Config::resolve(&args.server, false)?;
    let mut checks: Vec<Check> = nimbus_sandbox::probe::all(true)
        .into_iter()
        .map(|f| Check {
            what: f.what.to_owned(),
            ok: f.ok,
            warn: false,
            detail: f.detail,
        })
        .collect();
    for (name, flag) in [("python3", "--version"), ("node", "--version")] {
        checks.push(interpreter(name, flag));
    }
    checks.extend(runtime_checks(&crate::runtimes::dirs(&config)));
    for (what, addr) in [
        ("AWS API port", config.listen),
        ("gateway port", config.gateway),
    ] {
        let (ok, detail) = match TcpListener::bind(addr) {
            Ok(_) => (true, format!("{addr} is free")),
            Err(e) => (
                false,
                format!(
                    "{addr} cannot be bound: {e} (a running server holds it, or pick another address)"
                ),
            ),
        };
        checks.push(Check {
            what: what.to_owned(),
            ok,
            warn: false,
            detail,
        });
    }
    checks.push(data_dir(&config.data_dir));
    let width = checks.iter().map(|c| c.what.len()).max().unwrap_or(0);
    for c in &checks {
        let verdict = match (c.ok, c.warn) {
            (false, _) => "FAIL",
            (true, true) => "warn",
            (true, false) => "ok  ",
        };
        println!("{verdict} {:width$}  {}", c.what, c.detail);
    }
    Ok(())
}

fn interpreter(name: &str, flag: &str) -> Check {
    let (ok, detail) = match Command::new(name).arg(flag).output() {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(if out.stdout.is_empty() {
                &out.stderr
            } else {
                &out.stdout
            });
            (true, format!("{} found", text.trim()))
        }
        Ok(out) => (false, format!("`{name} {flag}` exited with {}", out.status)),
        Err(e) => (
            false,
            format!("not found on PATH ({e}); functions of this runtime cannot run"),
        ),
    };
    Check {
        what: name.to_owned(),
        ok,
        warn: false,
        detail,
    }
}

/// One line per Python and Node.js runtime (exact interpreter, or the substitute that runs it)
/// and per SDK.
fn runtime_checks(dirs: &nimbus_functions::runtimes::RuntimeDirs) -> Vec<Check> {
    use nimbus_functions::runtimes::{Family, sdk_installed};
    let mut checks: Vec<Check> = crate::runtimes::inspect(dirs)
        .into_iter()
        .filter(|s| !s.runtime.starts_with("provided"))
        .map(|s| {
            let version = s.version.unwrap_or_default();
            let (ok, detail) = match (&s.interpreter, s.exact) {
                (Some(p), true) => (true, format!("runs on {p} ({version})")),
                (Some(p), false) => (
                    true,
                    format!(
                        "substitute: {} is not installed, so {p} ({version}) runs it",
                        s.runtime
                    ),
                ),
                (None, _) => (false, s.note.unwrap_or_default()),
            };
            Check {
                what: format!("runtime {}", s.runtime),
                ok,
                warn: !s.exact,
                detail,
            }
        })
        .collect();
    for (what, family) in [
        ("Python SDK", Family::Python),
        ("Node.js SDK", Family::Node),
    ] {
        let name = crate::runtimes::sdk_name(family);
        let installed = sdk_installed(dirs, family);
        checks.push(Check {
            what: what.to_owned(),
            ok: true,
            warn: !installed,
            detail: if installed {
                format!("{name} installed in {}", dirs.root.display())
            } else {
                format!(
                    "{name} not installed yet: `nimbus runtimes install` installs it now, else the first invocation does"
                )
            },
        });
    }
    checks
}

fn data_dir(dir: &Path) -> Check {
    let probe = || -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let file = dir.join(".doctor-probe");
        std::fs::write(&file, b"probe")?;
        std::fs::File::open(&file)?.sync_all()?;
        std::fs::remove_file(&file)
    };
    let (ok, detail) = match probe() {
        Ok(()) => (true, format!("{} is writable", dir.display())),
        Err(e) => (false, format!("{} is not writable: {e}", dir.display())),
    };
    Check {
        what: "data directory".to_owned(),
        ok,
        warn: false,
        detail,
    }
}
