//! The server's own key pair: generated on first start, kept in the data directory with mode
//! 0600, reused afterwards. `nimbus credentials` prints it.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;
use nimbus_aws::sigv4::KeyPair;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::cli::CredentialsArgs;
use crate::config::Config;

const FILE_NAME: &str = "credentials.json";

/// The file's content, also the `--json` output.
#[derive(Serialize, Deserialize)]
struct StoredKeyPair {
    access_key_id: String,
    secret_access_key: String,
}

/// Path of the credentials file in `data_dir`.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

/// Reads the key pair of `data_dir`, generating and durably storing one if there is none.
pub fn load_or_create(data_dir: &Path) -> anyhow::Result<KeyPair> {
    let file = path(data_dir);
    match std::fs::read(&file) {
        Ok(bytes) => {
            let mode = std::fs::metadata(&file)?.permissions().mode() & 0o777;
            anyhow::ensure!(
                mode & 0o077 == 0,
                "{} is readable by other users (mode {mode:o}); run `chmod 600` on it",
                file.display()
            );
            let stored: StoredKeyPair = serde_json::from_slice(&bytes)
                .with_context(|| format!("parse {}", file.display()))?;
            Ok(KeyPair {
                access_key_id: stored.access_key_id,
                secret_access_key: stored.secret_access_key,
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(data_dir),
        Err(e) => Err(e).with_context(|| format!("read {}", file.display())),
    }
}

fn create(data_dir: &Path) -> anyhow::Result<KeyPair> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("create data directory {}", data_dir.display()))?;
    let pair = generate();
    let stored = StoredKeyPair {
        access_key_id: pair.access_key_id.clone(),
        secret_access_key: pair.secret_access_key.clone(),
    };
    let tmp = data_dir.join(format!("{FILE_NAME}.tmp"));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("create {}", tmp.display()))?;
    f.write_all(&serde_json::to_vec_pretty(&stored)?)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path(data_dir)).context("store credentials")?;
    std::fs::File::open(data_dir)?
        .sync_all()
        .context("sync data directory")?;
    Ok(pair)
}

/// A new key pair in AWS's shapes: a 20-character key id and a 40-character secret.
fn generate() -> KeyPair {
    const ID_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const SECRET_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut rng = rand::rng();
    let mut pick = |chars: &[u8], n: usize| -> String {
        (0..n)
            .map(|_| chars[rng.random_range(0..chars.len())] as char)
            .collect()
    };
    KeyPair {
        access_key_id: format!("NKIA{}", pick(ID_CHARS, 16)),
        secret_access_key: pick(SECRET_CHARS, 40),
    }
}

/// `nimbus credentials`.
pub fn run(args: CredentialsArgs) -> anyhow::Result<()> {
    let config = Config::resolve(&args.server, false)?;
    let pair = load_or_create(&config.data_dir)?;
    if args.json {
        let out = StoredKeyPair {
            access_key_id: pair.access_key_id,
            secret_access_key: pair.secret_access_key,
        };
        println!("{}", serde_json::to_string(&out)?);
    } else if args.env {
        println!("export AWS_ACCESS_KEY_ID={}", pair.access_key_id);
        println!("export AWS_SECRET_ACCESS_KEY={}", pair.secret_access_key);
        println!("export AWS_REGION={}", config.region);
    } else {
        println!("access key id:     {}", pair.access_key_id);
        println!("secret access key: {}", pair.secret_access_key);
        println!("region:            {}", config.region);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_private_and_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let first = load_or_create(&data).expect("created");
        assert_eq!(first.access_key_id.len(), 20);
        assert_eq!(first.secret_access_key.len(), 40);
        let mode = std::fs::metadata(path(&data))
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(load_or_create(&data).expect("reused"), first);
        std::fs::set_permissions(path(&data), std::fs::Permissions::from_mode(0o644))
            .expect("chmod");
        assert!(
            load_or_create(&data).is_err(),
            "a world-readable file is refused"
        );
    }
}
