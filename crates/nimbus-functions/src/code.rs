//! Deployment packages: zip blobs kept in the store (so that every node sharing the store can
//! run every function), and their extracted copies in a local cache directory, which an
//! environment mounts as `/var/task`.
//!
//! Blobs are content-addressed by the hex SHA-256 of the zip and split into chunks below the
//! store's comfortable value size. Extraction goes to a temporary directory that is renamed into
//! place, so a crash never leaves a half-extracted package under the final name.

use std::io::Read;
use std::ops::ControlFlow;
use std::path::{Component, Path, PathBuf};

use base64::Engine as _;
use nimbus_store::{KeyRange, Store, WriteBatch};
use sha2::{Digest, Sha256};

use crate::error::{FunctionsError, Result};

const PREFIX: &str = "functions/code/";
const CHUNK: usize = 1 << 20;
/// Largest unzipped package Lambda accepts.
pub const MAX_UNZIPPED: u64 = 250 * 1024 * 1024;

/// A stored package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRef {
    pub sha256_hex: String,
    /// Base64 SHA-256, as Lambda reports `CodeSha256`.
    pub sha256_base64: String,
    pub size: u64,
}

fn chunk_key(sha_hex: &str, index: u32) -> Vec<u8> {
    let mut key = format!("{PREFIX}{sha_hex}/").into_bytes();
    key.extend_from_slice(&index.to_be_bytes());
    key
}

/// The longest file name component file systems take.
const MAX_NAME_COMPONENT: usize = 255;

/// The path of a zip entry inside the directory it is extracted to: `None` for an absolute
/// path or one with a `..` component (which `enclosed_name` lets through when it stays inside).
fn inside_path<R: Read>(entry: &zip::read::ZipFile<'_, R>) -> Option<PathBuf> {
    entry
        .enclosed_name()
        .filter(|path| !path.components().any(|c| matches!(c, Component::ParentDir)))
}

/// Checks that `zip` is a readable zip whose unzipped size fits Lambda's limit and whose
/// entries can all be extracted, without extracting it.
pub fn validate_zip(zip: &[u8]) -> Result<()> {
    let unreadable = || {
        FunctionsError::InvalidParameterValue(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
                .into(),
        )
    };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).map_err(|_| unreadable())?;
    let mut total = 0u64;
    // Entries that could not be extracted are refused now rather than at every invocation:
    // a path leaving the code directory, a name component longer than a file system takes,
    // and a file where another entry needs a directory.
    let mut files = std::collections::HashSet::new();
    let mut dirs = std::collections::HashSet::new();
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|_| unreadable())?;
        total = total.saturating_add(entry.size());
        let path = inside_path(&entry).ok_or_else(unreadable)?;
        if path
            .components()
            .any(|c| c.as_os_str().len() > MAX_NAME_COMPONENT)
        {
            return Err(unreadable());
        }
        let mut parent = path.parent();
        while let Some(dir) = parent.filter(|d| !d.as_os_str().is_empty()) {
            dirs.insert(dir.to_path_buf());
            parent = dir.parent();
        }
        if entry.is_dir() {
            dirs.insert(path);
        } else {
            files.insert(path);
        }
    }
    if files.iter().any(|f| dirs.contains(f)) {
        return Err(unreadable());
    }
    if total > MAX_UNZIPPED {
        return Err(FunctionsError::InvalidParameterValue(format!(
            "Unzipped size must be smaller than {MAX_UNZIPPED} bytes"
        )));
    }
    Ok(())
}

/// The total size of the files in `zip`, from its central directory.
pub fn unzipped_size(zip: &[u8]) -> Result<u64> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).map_err(|_| {
        FunctionsError::InvalidParameterValue("Could not unzip uploaded file.".into())
    })?;
    let mut total = 0u64;
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|e| FunctionsError::InvalidParameterValue(format!("Could not unzip: {e}")))?;
        total = total.saturating_add(entry.size());
    }
    Ok(total)
}

/// A hex SHA-256 in base64, as Lambda reports `CodeSha256`.
pub fn base64_sha(sha_hex: &str) -> String {
    hex::decode(sha_hex)
        .map(|bytes| base64::engine::general_purpose::STANDARD.encode(bytes))
        .unwrap_or_default()
}

/// The reference of `zip` without storing it.
pub fn reference(zip: &[u8]) -> CodeRef {
    let digest = Sha256::digest(zip);
    CodeRef {
        sha256_hex: hex::encode(digest),
        sha256_base64: base64::engine::general_purpose::STANDARD.encode(digest),
        size: zip.len() as u64,
    }
}

/// Stores `zip` (idempotent: the same bytes are stored once).
pub fn put(store: &dyn Store, zip: &[u8]) -> Result<CodeRef> {
    let code = reference(zip);
    if store.get(&chunk_key(&code.sha256_hex, 0))?.is_some() {
        return Ok(code);
    }
    let mut batch = WriteBatch::new();
    for (i, chunk) in zip.chunks(CHUNK).enumerate() {
        batch.put(chunk_key(&code.sha256_hex, i as u32), chunk.to_vec());
    }
    if zip.is_empty() {
        batch.put(chunk_key(&code.sha256_hex, 0), Vec::new());
    }
    store.commit(batch)?;
    Ok(code)
}

/// Reads a stored package back.
pub fn get(store: &dyn Store, sha_hex: &str) -> Result<Vec<u8>> {
    let mut zip = Vec::new();
    let mut found = false;
    let range = KeyRange::prefix(format!("{PREFIX}{sha_hex}/").as_bytes());
    store.scan(&range, nimbus_store::Direction::Forward, &mut |_, v| {
        found = true;
        zip.extend_from_slice(v);
        ControlFlow::Continue(())
    })?;
    if !found {
        return Err(FunctionsError::Service(format!(
            "deployment package {sha_hex} is missing from the store"
        )));
    }
    Ok(zip)
}

/// Deletes a stored package.
pub fn delete(store: &dyn Store, sha_hex: &str) -> Result<()> {
    let mut batch = WriteBatch::new();
    batch.delete_range(KeyRange::prefix(format!("{PREFIX}{sha_hex}/").as_bytes()));
    store.commit(batch)?;
    Ok(())
}

/// Extracted packages under one local directory.
#[derive(Debug, Clone)]
pub struct CodeCache {
    root: PathBuf,
}

impl CodeCache {
    pub fn new(root: PathBuf) -> Self {
        CodeCache { root }
    }

    /// The directory holding every extracted package.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory holding the extracted package `sha_hex`, extracting it from the store
    /// first if needed. Blocks on I/O.
    pub fn dir(&self, store: &dyn Store, sha_hex: &str) -> Result<PathBuf> {
        let dir = self.root.join(sha_hex);
        if dir.is_dir() {
            return Ok(dir);
        }
        let zip = get(store, sha_hex)?;
        let io = |what: &str, e: std::io::Error| FunctionsError::Service(format!("{what}: {e}"));
        std::fs::create_dir_all(&self.root).map_err(|e| io("create code cache", e))?;
        let tmp = self
            .root
            .join(format!(".{sha_hex}.{}", uuid::Uuid::new_v4().simple()));
        extract(&zip, &tmp)?;
        match std::fs::rename(&tmp, &dir) {
            Ok(()) => {}
            // Another environment extracted the same package first.
            Err(_) if dir.is_dir() => {
                let _ = std::fs::remove_dir_all(&tmp);
            }
            Err(e) => return Err(io("place extracted package", e)),
        }
        Ok(dir)
    }
}

/// The directory holding the layers `shas` (hex SHA-256 of their zips) extracted in order into
/// one tree, later layers overwriting the files of earlier ones as Lambda does, under `root`;
/// extracted from the store on first use and cached by the list of layers. Blocks on I/O.
pub fn layers_dir(root: &Path, store: &dyn Store, shas: &[&str]) -> Result<PathBuf> {
    let key = hex::encode(Sha256::digest(shas.join(",").as_bytes()));
    let dir = root.join(&key[..32]);
    if dir.is_dir() {
        return Ok(dir);
    }
    let io = |what: &str, e: std::io::Error| FunctionsError::Service(format!("{what}: {e}"));
    std::fs::create_dir_all(root).map_err(|e| io("create layer cache", e))?;
    let tmp = root.join(format!(".{}.{}", &key[..32], uuid::Uuid::new_v4().simple()));
    for sha in shas {
        let zip = get(store, sha)?;
        extract(&zip, &tmp)?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| io("create layer directory", e))?;
    match std::fs::rename(&tmp, &dir) {
        Ok(()) => {}
        Err(_) if dir.is_dir() => {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        Err(e) => return Err(io("place extracted layers", e)),
    }
    Ok(dir)
}

/// Extracts `zip` into `dest`, keeping Unix permissions and refusing paths that leave `dest`.
pub fn extract(zip: &[u8], dest: &Path) -> Result<()> {
    let bad = |e: String| {
        FunctionsError::InvalidParameterValue(format!("Could not unzip uploaded file: {e}"))
    };
    let io = |e: std::io::Error| FunctionsError::Service(format!("extract package: {e}"));
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(zip)).map_err(|e| bad(e.to_string()))?;
    std::fs::create_dir_all(dest).map_err(io)?;
    let mut total = 0u64;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| bad(e.to_string()))?;
        let Some(relative) = inside_path(&entry) else {
            return Err(bad(format!(
                "unsafe path {}",
                entry.name_raw().escape_ascii()
            )));
        };
        let path = dest.join(relative);
        if entry.is_dir() {
            std::fs::create_dir_all(&path).map_err(io)?;
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let mut data = Vec::with_capacity(entry.size() as usize);
        (&mut entry)
            .take(MAX_UNZIPPED.saturating_sub(total) + 1)
            .read_to_end(&mut data)
            .map_err(|e| bad(e.to_string()))?;
        total += data.len() as u64;
        if total > MAX_UNZIPPED {
            return Err(bad("unzipped size over the limit".into()));
        }
        // A later layer overwrites an earlier one's file, which may be read-only.
        if std::fs::symlink_metadata(&path).is_ok_and(|m| !m.is_dir()) {
            std::fs::remove_file(&path).map_err(io)?;
        }
        std::fs::write(&path, &data).map_err(io)?;
        // Zips made on Windows carry no Unix mode: keep files readable and, like Lambda,
        // let `bootstrap` run.
        let mode = entry.unix_mode().map(|m| m & 0o777).unwrap_or(0o644) | 0o444;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).map_err(io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use nimbus_store::mem::MemStore;
    use std::io::Write;

    pub(crate) fn make_zip(files: &[(&str, &str, u32)]) -> Vec<u8> {
        let mut buf = std::io::Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut buf);
        for (name, body, mode) in files {
            let opts = zip::write::SimpleFileOptions::default().unix_permissions(*mode);
            w.start_file(*name, opts).expect("start");
            w.write_all(body.as_bytes()).expect("write");
        }
        w.finish().expect("finish");
        buf.into_inner()
    }

    #[test]
    fn packages_round_trip_and_extract_with_modes() {
        let store = MemStore::new();
        let zip = make_zip(&[
            ("bootstrap", "#!/bin/sh\n", 0o755),
            ("lib/a.py", "x = 1\n", 0o644),
        ]);
        validate_zip(&zip).expect("valid");
        let code = put(&store, &zip).expect("put");
        assert_eq!(get(&store, &code.sha256_hex).expect("get"), zip);
        let tmp = tempfile::tempdir().expect("tmp");
        let cache = CodeCache::new(tmp.path().join("code"));
        let dir = cache.dir(&store, &code.sha256_hex).expect("extract");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("bootstrap"))
            .expect("f")
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111);
        assert_eq!(
            std::fs::read_to_string(dir.join("lib/a.py")).expect("f"),
            "x = 1\n"
        );
        assert_eq!(cache.dir(&store, &code.sha256_hex).expect("cached"), dir);
        assert!(validate_zip(b"not a zip").is_err());
        // Entries that could not be extracted are refused up front.
        let long = "n".repeat(256);
        for bad in [
            make_zip(&[("../evil.py", "x", 0o644)]),
            make_zip(&[(long.as_str(), "x", 0o644)]),
            make_zip(&[("a", "file", 0o644), ("a/b.py", "x", 0o644)]),
        ] {
            assert!(validate_zip(&bad).is_err());
        }
        validate_zip(&make_zip(&[("a/b.py", "x", 0o644), ("a/c.py", "y", 0o644)]))
            .expect("a directory shared by two files");
        delete(&store, &code.sha256_hex).expect("delete");
        assert!(get(&store, &code.sha256_hex).is_err());
    }
}
