//! Errors of opening a store. Once open, the store reports through [`nimbus_store::Error`].

use std::path::PathBuf;

/// Why [`EmbeddedStore::open`](crate::EmbeddedStore::open) failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Another process (or another store in this process) has the data directory open.
    #[error(
        "data directory {} is in use by another process (lock file {} is held)",
        dir.display(),
        dir.join(crate::lock::LOCK_FILE).display()
    )]
    Locked { dir: PathBuf },
    /// A file-system step on the data directory failed.
    #[error("{step} {}", path.display())]
    Io {
        step: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The storage engine refused to open its files.
    #[error("open the storage engine in {}", path.display())]
    Engine {
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The writer thread could not be started.
    #[error("start the writer thread")]
    Thread(#[source] std::io::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
