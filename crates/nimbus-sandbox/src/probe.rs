//! Probes of the kernel's isolation mechanisms. Each probe really tries the mechanism (e.g.
//! starts a child in new namespaces) rather than guessing from version numbers.

use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// The verdict of one probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What was probed, e.g. "user namespaces".
    pub what: &'static str,
    pub ok: bool,
    /// One line: what was found, or why it is unavailable.
    pub detail: String,
}

/// Which cgroup hierarchy the machine offers for resource limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cgroups {
    /// Unified hierarchy with the listed controllers enabled at the root.
    V2 {
        controllers: Vec<String>,
    },
    /// Legacy hierarchies, one per mounted controller.
    V1 {
        controllers: Vec<String>,
    },
    None,
}

/// Runs every probe, each once (what `serve` checks at start-up); with `measure`, also
/// measures what the mount step costs, about twenty more process starts (what `nimbus doctor`
/// reports).
pub fn all(measure: bool) -> Vec<Finding> {
    vec![namespaces(), mounts(measure), cgroups_finding(), seccomp()]
}

/// The mount step of a spawn ([`crate::mounts`]): starts a process with a temporary directory
/// bind-mounted over another in its private mount namespace, checks that the process sees it
/// and the host does not; with `measure`, also what the step adds to a process start.
pub fn mounts(measure: bool) -> Finding {
    let (ok, detail) = match mount_probe(if measure { 10 } else { 0 }) {
        Ok(cost) => (
            true,
            format!(
                "private mount namespaces with bind mounts work ({}){}",
                // SAFETY: geteuid has no preconditions.
                if unsafe { libc::geteuid() } == 0 {
                    "as root"
                } else {
                    "in a user namespace"
                },
                cost.map(|c| format!(
                    "; they add {:.2} ms to a process start",
                    c.as_secs_f64() * 1000.0
                ))
                .unwrap_or_default()
            ),
        ),
        Err(e) => (
            false,
            format!("{e}; functions with layers cannot start (their layers are mounted at /opt)"),
        ),
    };
    Finding {
        what: "mounts",
        ok,
        detail,
    }
}

/// Runs the mount probe; with `rounds` > 0, `Ok` carries the extra start-up time of the mount
/// step (best of `rounds` starts with and without it).
pub fn mount_probe(rounds: usize) -> Result<Option<std::time::Duration>, String> {
    use crate::mounts::{BindMount, Mounts};
    use crate::process::{SpawnSpec, spawn};
    use std::time::{Duration, Instant};
    let dir = std::env::temp_dir().join(format!(
        "nimbus-mount-probe-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
    ));
    let (source, target) = (dir.join("source"), dir.join("target"));
    let setup = || -> io::Result<()> {
        std::fs::create_dir_all(&source)?;
        std::fs::create_dir_all(&target)?;
        std::fs::write(source.join("marker"), b"")
    };
    if let Err(e) = setup() {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(format!(
            "cannot prepare the probe in {}: {e}",
            dir.display()
        ));
    }
    let spec = |mounts: Mounts| SpawnSpec {
        program: "/bin/sh".into(),
        args: vec!["-c".into(), "test -e target/marker".into()],
        env: Vec::new(),
        cwd: dir.clone(),
        mounts,
    };
    let with = spec(Mounts {
        binds: vec![BindMount {
            source: source.clone(),
            target: target.clone(),
            read_only: true,
        }],
    });
    let without = spec(Mounts::default());
    // Its own thread and runtime: the probe may be called from inside another runtime.
    let result = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot start the probe's runtime: {e}"))?;
                runtime.block_on(async {
                    let run = |spec: &SpawnSpec| {
                        let child = spawn(spec, None);
                        async move {
                            let started = Instant::now();
                            let status = child
                                .map_err(|e| format!("{e:#}"))?
                                .wait()
                                .await
                                .map_err(|e| e.to_string())?;
                            Ok::<_, String>((status.success(), started.elapsed()))
                        }
                    };
                    let (seen, _) = run(&with).await?;
                    if !seen {
                        return Err("a bind mount was not visible to the process".to_owned());
                    }
                    if target.join("marker").exists() {
                        return Err(
                            "a bind mount leaked out of the private mount namespace".to_owned()
                        );
                    }
                    if rounds == 0 {
                        return Ok(None);
                    }
                    // Start-up cost: time spawn-to-exit with and without the step, best of each.
                    let mut best = [Duration::MAX; 2];
                    for _ in 0..rounds {
                        for (i, spec) in [&without, &with].into_iter().enumerate() {
                            let started = Instant::now();
                            run(spec).await?;
                            best[i] = best[i].min(started.elapsed());
                        }
                    }
                    Ok(Some(best[1].saturating_sub(best[0])))
                })
            })
            .join()
            .unwrap_or_else(|_| Err("the probe panicked".to_owned()))
    });
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Starts `/bin/true` in new user, pid, mount, ipc, uts and network namespaces.
pub fn namespaces() -> Finding {
    let flags = libc::CLONE_NEWUSER
        | libc::CLONE_NEWPID
        | libc::CLONE_NEWNS
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWUTS
        | libc::CLONE_NEWNET;
    let mut cmd = Command::new("/bin/true");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: the closure runs in the forked child before exec and only calls `unshare`, which
    // is async-signal-safe; it touches no memory shared with the parent.
    unsafe {
        cmd.pre_exec(move || {
            if libc::unshare(flags) == 0 {
                Ok(())
            } else {
                Err(io::Error::last_os_error())
            }
        });
    }
    let (ok, detail) = match cmd.status() {
        Ok(status) if status.success() => (
            true,
            "user, pid, mount, ipc, uts and network namespaces can be created".to_owned(),
        ),
        Ok(status) => (
            false,
            format!("a child in new namespaces exited with {status}"),
        ),
        Err(e) => (false, format!("unshare refused: {e}")),
    };
    Finding {
        what: "namespaces",
        ok,
        detail,
    }
}

/// Which cgroup hierarchy is mounted and with which controllers.
pub fn cgroups() -> Cgroups {
    cgroups_at(Path::new("/sys/fs/cgroup"))
}

fn cgroups_at(root: &Path) -> Cgroups {
    let wanted = ["memory", "cpu", "pids"];
    if let Ok(list) = std::fs::read_to_string(root.join("cgroup.controllers")) {
        let controllers: Vec<String> = list.split_whitespace().map(str::to_owned).collect();
        if wanted.iter().all(|w| controllers.iter().any(|c| c == w)) {
            return Cgroups::V2 { controllers };
        }
    }
    let v1: Vec<String> = wanted
        .iter()
        .filter(|c| root.join(c).join("tasks").exists())
        .map(|c| (*c).to_owned())
        .collect();
    if !v1.is_empty() {
        return Cgroups::V1 { controllers: v1 };
    }
    Cgroups::None
}

fn cgroups_finding() -> Finding {
    let (ok, detail) = match cgroups() {
        Cgroups::V2 { controllers } => (
            true,
            format!("cgroup v2 with controllers: {}", controllers.join(" ")),
        ),
        Cgroups::V1 { controllers } => (
            controllers.iter().any(|c| c == "memory"),
            format!("cgroup v1 with controllers: {}", controllers.join(" ")),
        ),
        Cgroups::None => (
            false,
            "no cgroup hierarchy with memory, cpu or pids controllers is mounted".to_owned(),
        ),
    };
    Finding {
        what: "cgroups",
        ok,
        detail,
    }
}

/// Whether seccomp filters are available (the kernel lists its filter actions).
pub fn seccomp() -> Finding {
    let actions = std::fs::read_to_string("/proc/sys/kernel/seccomp/actions_avail");
    // SAFETY: PR_GET_SECCOMP takes no pointers and only reads the calling thread's mode.
    let mode = unsafe { libc::prctl(libc::PR_GET_SECCOMP) };
    let (ok, detail) = match actions {
        Ok(list) if mode >= 0 => (
            true,
            format!("seccomp filters available (actions: {})", list.trim()),
        ),
        Ok(_) => (false, "prctl(PR_GET_SECCOMP) failed".to_owned()),
        Err(e) => (false, format!("seccomp not available: {e}")),
    };
    Finding {
        what: "seccomp",
        ok,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_versions_are_told_apart() {
        let dir = std::env::temp_dir().join(format!("nimbus-cg-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("memory")).expect("dir");
        std::fs::write(dir.join("memory/tasks"), "").expect("file");
        assert_eq!(
            cgroups_at(&dir),
            Cgroups::V1 {
                controllers: vec!["memory".into()]
            }
        );
        std::fs::write(dir.join("cgroup.controllers"), "cpu memory pids io\n").expect("file");
        assert!(matches!(cgroups_at(&dir), Cgroups::V2 { .. }));
        std::fs::remove_dir_all(&dir).expect("cleanup");
        assert_eq!(cgroups_at(&dir), Cgroups::None);
    }

    #[test]
    fn probes_give_a_verdict() {
        for finding in all(true) {
            eprintln!("{finding:?}");
            assert!(!finding.detail.is_empty(), "{finding:?}");
        }
    }
}
