//! The lock file that keeps a data directory to one open store at a time.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use crate::error::{Error, Result};

pub(crate) const LOCK_FILE: &str = "LOCK";

/// An exclusive advisory lock on `LOCK` in the data directory, released on drop (and by the
/// kernel when the process dies, so a crash never leaves a stale lock behind).
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    pub(crate) fn acquire(dir: &Path) -> Result<Self> {
        let path = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| Error::Io {
                step: "open lock file",
                path: path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(DirLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(Error::Locked {
                dir: dir.to_path_buf(),
            }),
            Err(TryLockError::Error(source)) => Err(Error::Io {
                step: "lock",
                path,
                source,
            }),
        }
    }
}
