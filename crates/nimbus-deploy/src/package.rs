//! Function packages: a `CodeUri` folder zipped (file modes kept, timestamps fixed so that the
//! same files give the same bytes and the same `CodeSha256`), a ready zip, or inline code.
//! When a function has a build step (pip, npm, esbuild, make: [`crate::build`]), the folder
//! zipped is the build's output rather than `CodeUri` itself.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;

use crate::error::{Error, Result};
use crate::model::CodeSource;

/// A function package and its hash.
#[derive(Debug, Clone)]
pub struct Package {
    pub zip: Vec<u8>,
    /// Base64 SHA-256 of `zip`, as Lambda reports `CodeSha256`.
    pub sha256: String,
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// Packages `source`.
pub fn package(source: &CodeSource) -> Result<Package> {
    let zip = match source {
        CodeSource::Zip(path) => std::fs::read(path).map_err(io(path))?,
        CodeSource::Dir(dir) => zip_dir(dir)?,
        CodeSource::Inline { file_name, text } => {
            let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            let opts = SimpleFileOptions::default().unix_permissions(0o644);
            let err = |e: zip::result::ZipError| Error::Io {
                path: file_name.into(),
                source: std::io::Error::other(e),
            };
            out.start_file(file_name.as_str(), opts).map_err(err)?;
            out.write_all(text.as_bytes())
                .map_err(io(Path::new(file_name)))?;
            out.finish().map_err(err)?.into_inner()
        }
    };
    let sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&zip));
    Ok(Package { zip, sha256 })
}

fn zip_dir(dir: &Path) -> Result<Vec<u8>> {
    let files = files(dir, &[])?;
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let zerr = |e: zip::result::ZipError| Error::Io {
        path: dir.to_owned(),
        source: std::io::Error::other(e),
    };
    for (name, path, mode) in files {
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        let opts = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(mode & 0o777)
            .last_modified_time(zip::DateTime::default());
        out.start_file(name, opts).map_err(zerr)?;
        out.write_all(&bytes).map_err(io(&path))?;
    }
    Ok(out.finish().map_err(zerr)?.into_inner())
}

/// Names never packaged: caches, version control, and build folders (SAM's and ours).
const SKIPPED: &[&str] = &["__pycache__", ".git", ".aws-sam", ".nimbus"];

/// Files under `dir` as (relative name with `/`, path, mode), sorted by name, skipping what a
/// package never needs and folders named in `skip`.
pub(crate) fn files(dir: &Path, skip: &[&str]) -> Result<Vec<(String, PathBuf, u32)>> {
    let mut out = Vec::new();
    collect(dir, dir, skip, &mut out)?;
    out.sort();
    Ok(out)
}

fn collect(
    root: &Path,
    dir: &Path,
    skip: &[&str],
    out: &mut Vec<(String, PathBuf, u32)>,
) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if SKIPPED.contains(&name.as_str()) || name.ends_with(".pyc") {
            continue;
        }
        let meta = std::fs::metadata(&path).map_err(io(&path))?;
        if meta.is_dir() {
            if !skip.contains(&name.as_str()) {
                collect(root, &path, skip, out)?;
            }
        } else if meta.is_file() {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push((rel, path.clone(), mode(&meta)));
        }
    }
    Ok(())
}

#[cfg(unix)]
pub(crate) fn mode(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode()
}

#[cfg(not(unix))]
pub(crate) fn mode(_meta: &std::fs::Metadata) -> u32 {
    0o644
}
