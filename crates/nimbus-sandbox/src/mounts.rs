//! The mount step of a spawn: the child gets a private mount namespace in which the requested
//! directories are bind-mounted (e.g. a function's layers at `/opt`), invisible to every other
//! process.
//!
//! Between fork and exec the child unshares `CLONE_NEWNS` (as root), or `CLONE_NEWUSER |
//! CLONE_NEWNS` with its own uid and gid mapped (unprivileged, where the kernel allows user
//! namespaces), marks every mount private so nothing propagates back to the host, and makes the
//! bind mounts. Any refusal fails the spawn with [`crate::process::SandboxError::Mounts`], naming
//! the step; nothing is silently skipped.
//!
//! This is the seam later isolation extends (pid, network and ipc namespaces, a read-only
//! `/var/task`, a private `/tmp`). An empty [`Mounts`] creates no namespace at all.

use std::ffi::CString;
use std::io;
use std::path::PathBuf;

/// One bind mount inside the child's mount namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindMount {
    /// A directory of the host.
    pub source: PathBuf,
    /// Where the child sees it; must exist (the child's view starts as the host's).
    pub target: PathBuf,
    pub read_only: bool,
}

/// The mounts of one process. Empty: the process shares the host's mount namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mounts {
    pub binds: Vec<BindMount>,
}

impl Mounts {
    pub fn is_empty(&self) -> bool {
        self.binds.is_empty()
    }
}

/// The steps of the mount setup, in order; a failing step's index travels from the child to the
/// parent through a pipe, so the error names it.
pub(crate) const STEPS: &[&str] = &[
    "unshare the mount namespace",
    "map uid and gid in the user namespace",
    "make the mounts private",
    "bind mount",
    "make the bind mount read-only",
];

/// Everything the child needs, allocated before the fork: the child may not allocate.
#[derive(Debug)]
pub(crate) struct Plan {
    user_namespace: bool,
    uid_map: CString,
    gid_map: CString,
    binds: Vec<(CString, CString, bool)>,
}

fn cstring(bytes: Vec<u8>) -> io::Result<CString> {
    CString::new(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
}

impl Plan {
    /// Checks the mount points and prepares the C strings of `mounts`.
    pub(crate) fn new(mounts: &Mounts) -> io::Result<Plan> {
        // SAFETY: geteuid and getegid have no preconditions and cannot fail.
        let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
        let mut binds = Vec::new();
        for bind in &mounts.binds {
            for dir in [&bind.source, &bind.target] {
                if !dir.is_dir() {
                    return Err(io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("mount point {} is not a directory", dir.display()),
                    ));
                }
            }
            binds.push((
                cstring(bind.source.clone().into_os_string().into_encoded_bytes())?,
                cstring(bind.target.clone().into_os_string().into_encoded_bytes())?,
                bind.read_only,
            ));
        }
        Ok(Plan {
            user_namespace: uid != 0,
            uid_map: cstring(format!("{uid} {uid} 1").into_bytes())?,
            gid_map: cstring(format!("{gid} {gid} 1").into_bytes())?,
            binds,
        })
    }

    /// A copy for the spawn's pre-exec closure.
    pub(crate) fn clone_for_child(&self) -> Plan {
        Plan {
            user_namespace: self.user_namespace,
            uid_map: self.uid_map.clone(),
            gid_map: self.gid_map.clone(),
            binds: self.binds.clone(),
        }
    }

    /// Runs in the forked child before exec. On failure returns the index of the failing
    /// step in [`STEPS`] and the error.
    ///
    /// # Safety
    /// Call only between fork and exec: it changes the calling process' namespaces. It only
    /// makes async-signal-safe system calls (unshare, open, write, close, mount) on memory
    /// prepared before the fork, and allocates nothing.
    pub(crate) unsafe fn apply(&self) -> Result<(), (u8, io::Error)> {
        let fail = |step: u8| (step, io::Error::last_os_error());
        let flags = if self.user_namespace {
            libc::CLONE_NEWUSER | libc::CLONE_NEWNS
        } else {
            libc::CLONE_NEWNS
        };
        // SAFETY: (for every block below) plain system calls on NUL-terminated strings owned by
        // `self`, which outlives the calls; see the function's contract.
        if unsafe { libc::unshare(flags) } != 0 {
            return Err(fail(0));
        }
        if self.user_namespace {
            let files: [(&[u8], &[u8]); 3] = [
                (b"/proc/self/setgroups\0", b"deny"),
                (b"/proc/self/uid_map\0", self.uid_map.as_bytes()),
                (b"/proc/self/gid_map\0", self.gid_map.as_bytes()),
            ];
            for (path, value) in files {
                // SAFETY: as above.
                let fd =
                    unsafe { libc::open(path.as_ptr().cast(), libc::O_WRONLY | libc::O_CLOEXEC) };
                if fd < 0 {
                    return Err(fail(1));
                }
                // SAFETY: as above.
                let written = unsafe { libc::write(fd, value.as_ptr().cast(), value.len()) };
                let error = fail(1);
                // SAFETY: as above.
                unsafe { libc::close(fd) };
                if written != value.len() as isize {
                    return Err(error);
                }
            }
        }
        let none = std::ptr::null::<libc::c_char>();
        // SAFETY: as above.
        let private = unsafe {
            libc::mount(
                none,
                c"/".as_ptr(),
                none,
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            )
        };
        if private != 0 {
            return Err(fail(2));
        }
        for (source, target, read_only) in &self.binds {
            // SAFETY: as above.
            let bound = unsafe {
                libc::mount(
                    source.as_ptr(),
                    target.as_ptr(),
                    none,
                    libc::MS_BIND | libc::MS_REC,
                    std::ptr::null(),
                )
            };
            if bound != 0 {
                return Err(fail(3));
            }
            if *read_only {
                // SAFETY: as above.
                let remounted = unsafe {
                    libc::mount(
                        none,
                        target.as_ptr(),
                        none,
                        libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY,
                        std::ptr::null(),
                    )
                };
                if remounted != 0 {
                    return Err(fail(4));
                }
            }
        }
        Ok(())
    }
}
