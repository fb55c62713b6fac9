//! Function packages: a `CodeUri` folder zipped (file modes kept, timestamps fixed so that the
//! same files give the same bytes and the same `CodeSha256`), a ready zip, or inline code.
//! A build step (pip, npm, esbuild) would produce the folder this zips.

use std::io::Write;
use std::path::Path;

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

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
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
    let mut files = Vec::new();
    collect(dir, dir, &mut files)?;
    files.sort();
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

/// Files under `dir` as (zip name, path, mode), skipping what a package never needs.
fn collect(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, std::path::PathBuf, u32)>,
) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "__pycache__" || name == ".git" || name == ".aws-sam" || name.ends_with(".pyc") {
            continue;
        }
        let meta = std::fs::metadata(&path).map_err(io(&path))?;
        if meta.is_dir() {
            collect(root, &path, out)?;
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
fn mode(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode()
}

#[cfg(not(unix))]
fn mode(_meta: &std::fs::Metadata) -> u32 {
    0o644
}
