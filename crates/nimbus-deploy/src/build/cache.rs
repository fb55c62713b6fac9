//! The cache key of a build: a hash of everything that decides its output.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::{Method, Request, Target};
use crate::error::Result;
use crate::model::hash_json;
use crate::package::{files, io};

/// Bumped when a builder changes what it produces for the same inputs.
const BUILDER_VERSION: &str = "1";

/// The hash of a build's inputs: the method, runtime, architecture, target, handler and
/// metadata, and every source file (name, executable bit, content) of `req.source` and of
/// `extra` folders (a makefile's `ContextPath`). Modification times do not count, and
/// `node_modules` does not either: npm installs it again from the manifest and lock file, which
/// do count. The host's architecture counts, since packages are chosen for it.
pub fn cache_key(req: &Request<'_>, method: Method, extra: &[impl AsRef<Path>]) -> Result<String> {
    let mut h = Sha256::new();
    let settings = serde_json::json!({
        "builder": BUILDER_VERSION,
        "method": method.name(),
        "runtime": req.runtime,
        "architecture": req.architecture,
        "host": std::env::consts::ARCH,
        "layer": req.target == Target::Layer,
        "handler": req.handler,
        "metadata": req.metadata.map(hash_json),
    });
    h.update(settings.to_string().as_bytes());
    let dirs = std::iter::once(req.source).chain(extra.iter().map(AsRef::as_ref));
    for (i, dir) in dirs.enumerate() {
        h.update(format!("\0dir {i}\0").as_bytes());
        for (name, path, mode) in files(dir, &["node_modules"])? {
            let content = std::fs::read(&path).map_err(io(&path))?;
            h.update(name.as_bytes());
            h.update([0, u8::from(mode & 0o111 != 0)]);
            h.update(Sha256::digest(&content));
        }
    }
    Ok(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(dir: &Path, runtime: &str, metadata: Option<&serde_json::Value>) -> String {
        let req = Request {
            name: "Fn",
            target: Target::Function,
            source: dir,
            runtime,
            handler: Some("app.handler"),
            architecture: "x86_64",
            metadata,
            template_dir: dir,
        };
        cache_key(&req, Method::Pip, &[] as &[&Path]).unwrap()
    }

    #[test]
    fn the_key_follows_sources_manifests_runtime_and_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("app.py"), "def handler(e, c): return 1\n").unwrap();
        std::fs::write(d.join("requirements.txt"), "six==1.16.0\n").unwrap();
        let first = key(d, "python3.13", None);
        assert_eq!(first, key(d, "python3.13", None), "same inputs, same key");

        // Touching a file without changing it keeps the key.
        std::fs::write(d.join("app.py"), "def handler(e, c): return 1\n").unwrap();
        assert_eq!(first, key(d, "python3.13", None));

        // What is not packaged does not count.
        std::fs::create_dir_all(d.join("node_modules/x")).unwrap();
        std::fs::write(d.join("node_modules/x/index.js"), "1").unwrap();
        std::fs::create_dir_all(d.join("__pycache__")).unwrap();
        std::fs::write(d.join("__pycache__/app.cpython-313.pyc"), "x").unwrap();
        std::fs::create_dir_all(d.join(".nimbus/build/Fn")).unwrap();
        std::fs::write(d.join(".nimbus/build/Fn.json"), "{}").unwrap();
        assert_eq!(first, key(d, "python3.13", None));

        assert_ne!(first, key(d, "python3.12", None), "runtime");
        let meta = json!({"BuildMethod": "python3.13"});
        assert_ne!(first, key(d, "python3.13", Some(&meta)), "metadata");

        std::fs::write(d.join("requirements.txt"), "six==1.17.0\n").unwrap();
        let manifest = key(d, "python3.13", None);
        assert_ne!(first, manifest, "manifest");

        std::fs::write(d.join("lib.py"), "X = 1\n").unwrap();
        let added = key(d, "python3.13", None);
        assert_ne!(manifest, added, "a new file");

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let p = d.join("lib.py");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
            assert_ne!(added, key(d, "python3.13", None), "the executable bit");
        }
    }

    #[test]
    fn metadata_key_order_does_not_matter() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.js"), "1").unwrap();
        let a = json!({"BuildMethod": "esbuild", "BuildProperties": {"Minify": true, "Target": "es2020"}});
        let b = json!({"BuildProperties": {"Target": "es2020", "Minify": true}, "BuildMethod": "esbuild"});
        assert_eq!(
            key(dir.path(), "nodejs20.x", Some(&a)),
            key(dir.path(), "nodejs20.x", Some(&b))
        );
    }
}
