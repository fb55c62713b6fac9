//! Starting one confined process: its own cgroup (memory limit, CPU weight, pids limit; v2 or
//! v1), its own session and process group, a cleared environment, and piped output.
//!
//! The child joins its cgroup between fork and exec (cheaply: see `Cgroup::join_files`), so not
//! one page it touches is charged elsewhere; then, when the spec asks for mounts, it enters its
//! private mount namespace ([`crate::mounts`]). Further namespaces and seccomp will be added
//! here, to the same spawn.

use std::ffi::{CString, OsString};
use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::mounts::{Mounts, Plan, STEPS};
use crate::probe::{Cgroups, cgroups};

/// Resource limits of one process tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Hard memory limit; the kernel kills the tree when it is exceeded.
    pub memory_bytes: u64,
    /// CPU weight relative to other sandboxes, proportional to memory as Lambda does
    /// (in MiB of memory: 1769 MiB is one full vCPU's share).
    pub cpu_weight_mb: u32,
    /// Maximum number of processes and threads.
    pub pids: u32,
}

/// Errors of the sandbox.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cgroups are not available: {0}")]
    CgroupsUnavailable(String),
    #[error("cannot configure cgroup {path}: {source}")]
    Cgroup {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The kernel refused the private mount namespace or one of its mounts.
    #[error("cannot set up the private mounts ({step}): {source}")]
    Mounts {
        step: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("cannot start {program}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: io::Error,
    },
}

/// One cgroup (one directory per v1 controller, or one v2 directory).
#[derive(Debug)]
pub struct Cgroup {
    dirs: Vec<PathBuf>,
    v2: bool,
}

const ROOT: &str = "/sys/fs/cgroup";
const PARENT: &str = "nimbus";

fn write(path: &Path, value: &str) -> Result<(), SandboxError> {
    std::fs::write(path, value).map_err(|source| SandboxError::Cgroup {
        path: path.to_owned(),
        source,
    })
}

impl Cgroup {
    /// Creates the cgroup `name` under Nimbus' parent group and applies `limits`.
    pub fn create(name: &str, limits: &Limits) -> Result<Cgroup, SandboxError> {
        match cgroups() {
            Cgroups::V2 { .. } => Self::create_v2(name, limits),
            Cgroups::V1 { controllers } if controllers.iter().any(|c| c == "memory") => {
                Self::create_v1(name, limits, &controllers)
            }
            Cgroups::V1 { .. } => Err(SandboxError::CgroupsUnavailable(
                "cgroup v1 without the memory controller".into(),
            )),
            Cgroups::None => Err(SandboxError::CgroupsUnavailable(
                "no cgroup hierarchy is mounted".into(),
            )),
        }
    }

    fn create_v2(name: &str, limits: &Limits) -> Result<Cgroup, SandboxError> {
        let root = Path::new(ROOT);
        let parent = root.join(PARENT);
        let mkdir = |p: &Path| {
            std::fs::create_dir_all(p).map_err(|source| SandboxError::Cgroup {
                path: p.to_owned(),
                source,
            })
        };
        mkdir(&parent)?;
        // Controllers must be enabled for the children of each level.
        write(&root.join("cgroup.subtree_control"), "+memory +cpu +pids")?;
        write(&parent.join("cgroup.subtree_control"), "+memory +cpu +pids")?;
        let dir = parent.join(name);
        mkdir(&dir)?;
        let group = Cgroup {
            dirs: vec![dir.clone()],
            v2: true,
        };
        write(&dir.join("memory.max"), &limits.memory_bytes.to_string())?;
        // Swapping would hide the limit: a function over it must be killed, not slowed.
        let _ = std::fs::write(dir.join("memory.swap.max"), "0");
        // cpu.weight is 1..=10000, default 100 (= one vCPU at 1769 MiB).
        let weight = (u64::from(limits.cpu_weight_mb) * 100 / 1769).clamp(1, 10_000);
        write(&dir.join("cpu.weight"), &weight.to_string())?;
        write(&dir.join("pids.max"), &limits.pids.to_string())?;
        Ok(group)
    }

    fn create_v1(
        name: &str,
        limits: &Limits,
        controllers: &[String],
    ) -> Result<Cgroup, SandboxError> {
        let mut dirs = Vec::new();
        for controller in controllers {
            let dir = Path::new(ROOT).join(controller).join(PARENT).join(name);
            std::fs::create_dir_all(&dir).map_err(|source| SandboxError::Cgroup {
                path: dir.clone(),
                source,
            })?;
            dirs.push(dir.clone());
            match controller.as_str() {
                "memory" => {
                    write(
                        &dir.join("memory.limit_in_bytes"),
                        &limits.memory_bytes.to_string(),
                    )?;
                    let _ = std::fs::write(dir.join("memory.swappiness"), "0");
                    // Present only when swap accounting is on.
                    let memsw = dir.join("memory.memsw.limit_in_bytes");
                    if memsw.exists() {
                        write(&memsw, &limits.memory_bytes.to_string())?;
                    }
                }
                "cpu" => {
                    // cpu.shares: 1024 is one vCPU's share at 1769 MiB.
                    let shares = (u64::from(limits.cpu_weight_mb) * 1024 / 1769).max(2);
                    write(&dir.join("cpu.shares"), &shares.to_string())?;
                }
                "pids" => write(&dir.join("pids.max"), &limits.pids.to_string())?,
                _ => {}
            }
        }
        Ok(Cgroup { dirs, v2: false })
    }

    /// The highest memory use of the group so far, in bytes, where the kernel reports it.
    pub fn memory_peak_bytes(&self) -> Option<u64> {
        let file = if self.v2 {
            "memory.peak"
        } else {
            "memory.max_usage_in_bytes"
        };
        self.dirs
            .iter()
            .map(|d| d.join(file))
            .find(|p| p.exists())
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|s| s.trim().parse().ok())
    }

    /// Whether the kernel killed a process of the group for exceeding the memory limit.
    pub fn oom_killed(&self) -> bool {
        let (file, key) = if self.v2 {
            ("memory.events", "oom_kill ")
        } else {
            ("memory.oom_control", "oom_kill ")
        };
        self.dirs
            .iter()
            .filter_map(|d| std::fs::read_to_string(d.join(file)).ok())
            .flat_map(|s| s.lines().map(str::to_owned).collect::<Vec<_>>())
            .filter_map(|l| {
                l.strip_prefix(key)
                    .and_then(|n| n.trim().parse::<u64>().ok())
            })
            .any(|n| n > 0)
    }

    /// Kills every process in the group.
    pub fn kill_all(&self) {
        if self.v2 {
            let kill = self.dirs[0].join("cgroup.kill");
            if std::fs::write(&kill, "1").is_ok() {
                return;
            }
        }
        for dir in &self.dirs {
            if let Ok(pids) = std::fs::read_to_string(dir.join("cgroup.procs")) {
                for pid in pids.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
                    // SAFETY: kill(2) takes plain integers; a stale pid at worst gets ESRCH.
                    unsafe {
                        libc::kill(pid, libc::SIGKILL);
                    }
                }
            }
        }
    }

    /// Removes the group's directories (the kernel refuses while processes remain).
    pub fn remove(&self) {
        for dir in &self.dirs {
            let _ = std::fs::remove_dir(dir);
        }
    }

    /// The files through which a freshly forked child moves itself into the group.
    ///
    /// v1 takes the `tasks` file, not `cgroup.procs`: moving a whole thread group makes the
    /// kernel take its global threadgroup lock for writing, which waits for an RCU grace period
    /// (10–15 ms on this kind of host, on every cold start), while moving the calling thread
    /// alone skips that lock. Between fork and exec the child has exactly one thread, so the
    /// thread is the process. v2 has no per-thread file outside threaded groups.
    fn join_files(&self) -> Vec<PathBuf> {
        let file = if self.v2 { "cgroup.procs" } else { "tasks" };
        self.dirs.iter().map(|d| d.join(file)).collect()
    }
}

/// A process to start.
#[derive(Debug, Clone)]
pub struct SpawnSpec {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// The whole environment: nothing of the host's is inherited.
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
    /// Bind mounts in a private mount namespace; empty: none is created.
    pub mounts: Mounts,
}

/// Starts `spec` in its own session and process group, inside `cgroup` if given, with stdin
/// closed and stdout/stderr piped. The child is killed if the handle is dropped.
pub fn spawn(
    spec: &SpawnSpec,
    cgroup: Option<&Cgroup>,
) -> Result<tokio::process::Child, SandboxError> {
    let spawn_error = |source| SandboxError::Spawn {
        program: spec.program.display().to_string(),
        source,
    };
    let join_files: Vec<CString> = cgroup
        .map(|c| c.join_files())
        .unwrap_or_default()
        .into_iter()
        .map(|p| CString::new(p.into_os_string().into_encoded_bytes()))
        .collect::<Result<_, _>>()
        .map_err(|e| spawn_error(io::Error::new(io::ErrorKind::InvalidInput, e)))?;
    let plan = if spec.mounts.is_empty() {
        None
    } else {
        let plan = Plan::new(&spec.mounts).map_err(|source| SandboxError::Mounts {
            step: "check the mount points",
            source,
        })?;
        Some((plan, StepPipe::new().map_err(spawn_error)?))
    };
    let mut cmd = tokio::process::Command::new(&spec.program);
    cmd.args(&spec.args)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&spec.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child_plan = plan
        .as_ref()
        .map(|(plan, pipe)| (plan.clone_for_child(), pipe.write_fd()));
    // SAFETY: the closure runs in the forked child before exec. It only calls setsid, open,
    // write, close, unshare and mount — async-signal-safe functions — on C strings allocated
    // before the fork, and allocates nothing itself.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setsid() < 0 {
                return Err(io::Error::last_os_error());
            }
            for path in &join_files {
                let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                if fd < 0 {
                    return Err(io::Error::last_os_error());
                }
                // "0" moves the writing thread (= this whole process) itself.
                let written = libc::write(fd, b"0".as_ptr().cast(), 1);
                libc::close(fd);
                if written != 1 {
                    return Err(io::Error::last_os_error());
                }
            }
            if let Some((plan, step_fd)) = &child_plan
                && let Err((step, error)) = plan.apply()
            {
                libc::write(*step_fd, [step].as_ptr().cast(), 1);
                return Err(error);
            }
            Ok(())
        });
    }
    let spawned = cmd.spawn();
    drop(cmd);
    match (spawned, plan) {
        (Ok(child), _) => Ok(child),
        (Err(source), Some((_, pipe))) => match pipe.failed_step() {
            Some(step) => Err(SandboxError::Mounts { step, source }),
            None => Err(spawn_error(source)),
        },
        (Err(source), None) => Err(spawn_error(source)),
    }
}

/// The pipe through which a child tells which mount step failed (the error itself comes back
/// through the standard library's own pipe, as an errno without context).
#[derive(Debug)]
struct StepPipe {
    read: std::os::fd::OwnedFd,
    write: std::os::fd::OwnedFd,
}

impl StepPipe {
    fn new() -> io::Result<StepPipe> {
        use std::os::fd::FromRawFd;
        let mut fds = [0i32; 2];
        // SAFETY: pipe2 writes two descriptors into the array it is given, which has room.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: both descriptors were just created and are owned by nothing else.
        let (read, write) = unsafe {
            (
                std::os::fd::OwnedFd::from_raw_fd(fds[0]),
                std::os::fd::OwnedFd::from_raw_fd(fds[1]),
            )
        };
        Ok(StepPipe { read, write })
    }

    fn write_fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        self.write.as_raw_fd()
    }

    /// The step the child reported, if it reported one (read after the spawn failed, when the
    /// child has written all it will write).
    fn failed_step(self) -> Option<&'static str> {
        use std::io::Read;
        drop(self.write);
        let mut byte = [0u8; 1];
        let mut file = std::fs::File::from(self.read);
        match file.read(&mut byte) {
            Ok(1) => STEPS.get(usize::from(byte[0])).copied(),
            _ => None,
        }
    }
}

/// Kills a process group (the session leader's pid is the group id).
pub fn kill_group(pgid: u32) {
    if let Ok(pgid) = i32::try_from(pgid) {
        // SAFETY: kill(2) with a negative pid signals the group; plain integers only.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(script: &str) -> SpawnSpec {
        SpawnSpec {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script.into()],
            env: vec![("ONLY".into(), "this".into())],
            cwd: std::env::temp_dir(),
            mounts: Mounts::default(),
        }
    }

    #[tokio::test]
    async fn bind_mounts_are_private_to_the_process() {
        use crate::mounts::BindMount;
        let dir = std::env::temp_dir().join(format!("nimbus-mounts-{}", std::process::id()));
        let (source, target) = (dir.join("layers"), dir.join("opt"));
        std::fs::create_dir_all(source.join("python")).expect("dir");
        std::fs::create_dir_all(&target).expect("dir");
        std::fs::write(source.join("python/m.py"), "x = 1\n").expect("file");
        let mut with = spec(&format!(
            "cat {0}/python/m.py && touch {0}/written",
            target.display()
        ));
        with.mounts.binds.push(BindMount {
            source: source.clone(),
            target: target.clone(),
            read_only: true,
        });
        let out = spawn(&with, None)
            .expect("spawn")
            .wait_with_output()
            .await
            .expect("wait");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stdout.trim(), "x = 1", "the process sees the mount");
        assert!(!out.status.success(), "read-only: {stderr}");
        assert!(!source.join("written").exists());
        assert!(
            !target.join("python").exists(),
            "the host does not see the mount"
        );
        // A missing mount point fails the spawn and says which step.
        with.mounts.binds[0].target = dir.join("missing");
        match spawn(&with, None) {
            Err(SandboxError::Mounts { step, .. }) => assert_eq!(step, "check the mount points"),
            other => panic!("expected a mounts error, got {other:?}"),
        }
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[tokio::test]
    async fn environment_is_cleared_and_output_piped() {
        let child = spawn(&spec("echo $ONLY-${HOME:-nohome}"), None).expect("spawn");
        let out = child.wait_with_output().await.expect("wait");
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "this-nohome");
    }

    #[tokio::test]
    async fn memory_limit_kills_the_process_when_cgroups_allow() {
        let name = format!("test-{}", std::process::id());
        let limits = Limits {
            memory_bytes: 32 << 20,
            cpu_weight_mb: 128,
            pids: 64,
        };
        let group = match Cgroup::create(&name, &limits) {
            Ok(group) => group,
            Err(e) => {
                // Only an unprivileged run on a machine without usable cgroups may get here;
                // `nimbus doctor` reports that case to users.
                assert!(!nix_root() || cgroups() == Cgroups::None, "{e}");
                eprintln!("not checked here: {e}");
                return;
            }
        };
        // Allocate ~200 MiB in the shell's memory.
        let child = spawn(
            &spec("x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived"),
            Some(&group),
        )
        .expect("spawn");
        let out = child.wait_with_output().await.expect("wait");
        group.kill_all();
        let peak = group.memory_peak_bytes();
        group.remove();
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("survived"),
            "the memory limit was not enforced"
        );
        assert!(peak.is_some_and(|p| p <= 33 << 20), "peak {peak:?}");
    }

    fn nix_root() -> bool {
        // SAFETY: geteuid has no preconditions.
        unsafe { libc::geteuid() == 0 }
    }
}
