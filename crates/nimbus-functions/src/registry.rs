//! The function registry: configurations, versions, aliases, tags, resource policies and
//! concurrency settings, kept in the store under `functions/` (deployment packages live apart,
//! under `functions/code/`, see [`crate::code`]).
//!
//! Layout (names are `[a-zA-Z0-9-_]+`, so `/` never appears inside one):
//!
//! | key | value |
//! | --- | --- |
//! | `functions/fn/{name}` | [`FunctionMeta`]: tags, policies, reserved concurrency, version counter |
//! | `functions/ver/{name}/$LATEST` | [`VersionRecord`] of the editable version |
//! | `functions/ver/{name}/{n:010}` | [`VersionRecord`] of published version `n` (`$` sorts before digits, so a scan lists `$LATEST` first, then versions in order) |
//! | `functions/alias/{name}/{alias}` | [`AliasRecord`] |
//! | `functions/url/{urlId}` | [`UrlIndex`]: the function and qualifier of a function URL |
//!
//! Every change of a function goes through [`Registry::write`]: one write batch that also
//! rewrites the function's meta record with a new generation, guarded by a check that the meta
//! record is the one read. Writers in this process are serialized by a lock; writers on other
//! nodes sharing the store lose the check and get `ResourceConflictException`, as Lambda
//! answers concurrent updates.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex, MutexGuard};

use nimbus_store::{Direction, KeyRange, Store, WriteBatch};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::FunctionsConfig;
use crate::error::{FunctionsError, Result};
use crate::model::{FunctionConfig, LATEST, ResolvedFunction};

const FUNCTIONS: &str = "functions/fn/";
const VERSIONS: &str = "functions/ver/";
const ALIASES: &str = "functions/alias/";
const URLS: &str = "functions/url/";

/// The pattern Lambda states when a `FunctionName` parameter is malformed.
pub const FUNCTION_NAME_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?";

/// Settings of a version that the data plane does not need, kept for the API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraSettings {
    #[serde(default)]
    pub tracing_mode: Option<String>,
    #[serde(default)]
    pub log_format: Option<String>,
    #[serde(default)]
    pub application_log_level: Option<String>,
    #[serde(default)]
    pub system_log_level: Option<String>,
    #[serde(default)]
    pub snap_start_apply_on: Option<String>,
    #[serde(default)]
    pub dead_letter_target: Option<String>,
    #[serde(default)]
    pub kms_key_arn: Option<String>,
}

/// One version as stored: `$LATEST` or a published snapshot of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRecord {
    pub config: FunctionConfig,
    #[serde(default)]
    pub extra: ExtraSettings,
    /// For a published version: the description `$LATEST` had when it was published, which
    /// PublishVersion may have replaced with its own (`None` when it did not, or for versions
    /// published before this was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_description: Option<String>,
}

/// A resource-based policy of a function or one of its qualifiers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    pub revision_id: String,
    /// IAM policy statements, as AddPermission built them.
    pub statements: Vec<serde_json::Value>,
}

/// What belongs to a function as a whole rather than to one version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionMeta {
    pub name: String,
    /// Bumped by every change; the optimistic check of [`Registry::write`].
    pub generation: u64,
    /// The highest version number ever published (numbers are never reused).
    pub last_version: u32,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub reserved_concurrency: Option<u32>,
    /// Policies by qualifier; `""` is the unqualified function.
    #[serde(default)]
    pub policies: BTreeMap<String, Policy>,
    /// Function URLs by qualifier (an alias; `""` is the unqualified function).
    #[serde(default)]
    pub urls: BTreeMap<String, crate::urls::UrlConfig>,
    /// Asynchronous invocation settings by qualifier (`$LATEST`, a version or an alias).
    #[serde(default)]
    pub event_invoke: BTreeMap<String, crate::event_invoke::EventInvokeConfig>,
}

/// Which function URL a URL id is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlIndex {
    pub function: String,
    /// An alias, or `""` for the function itself.
    pub qualifier: String,
}

/// An alias: a name for a version, optionally sending a share of invocations to a second one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AliasRecord {
    pub name: String,
    pub function_version: String,
    pub description: String,
    /// At most one entry: version → share of invocations in `0..=1`.
    #[serde(default)]
    pub additional_version_weights: BTreeMap<String, f64>,
    pub revision_id: String,
}

/// A `FunctionName` parameter taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    pub name: String,
    /// The qualifier, from the name (`f:alias`, `...:function:f:3`) or the `Qualifier` parameter.
    pub qualifier: Option<String>,
}

/// The writes of one change, applied by [`Registry::write`].
#[derive(Debug, Default)]
pub struct Writes {
    batch: WriteBatch,
    meta: Option<FunctionMeta>,
    delete_function: bool,
}

impl Writes {
    pub fn put_meta(&mut self, meta: FunctionMeta) {
        self.meta = Some(meta);
    }
    pub fn put_version(&mut self, record: &VersionRecord) -> Result<()> {
        let key = version_key(&record.config.function_name, &record.config.version);
        self.batch.put(key, encode(record)?);
        Ok(())
    }
    pub fn delete_version(&mut self, name: &str, version: &str) {
        self.batch.delete(version_key(name, version));
    }
    pub fn put_alias(&mut self, function: &str, alias: &AliasRecord) -> Result<()> {
        self.batch
            .put(alias_key(function, &alias.name), encode(alias)?);
        Ok(())
    }
    pub fn delete_alias(&mut self, function: &str, alias: &str) {
        self.batch.delete(alias_key(function, alias));
    }
    pub fn put_url_index(&mut self, url_id: &str, index: &UrlIndex) -> Result<()> {
        self.batch
            .put(format!("{URLS}{url_id}").into_bytes(), encode(index)?);
        Ok(())
    }
    pub fn delete_url_index(&mut self, url_id: &str) {
        self.batch.delete(format!("{URLS}{url_id}").into_bytes());
    }
    /// Deletes the function with all its versions and aliases (its URLs' index entries are
    /// the caller's: [`Writes::delete_url_index`]).
    pub fn delete_function(&mut self, name: &str) {
        self.delete_function = true;
        self.batch
            .delete_range(KeyRange::prefix(format!("{VERSIONS}{name}/").as_bytes()));
        self.batch
            .delete_range(KeyRange::prefix(format!("{ALIASES}{name}/").as_bytes()));
    }
}

/// Functions, versions and aliases.
pub struct Registry {
    store: Arc<dyn Store>,
    region: String,
    account_id: String,
    writes: Mutex<()>,
}

fn meta_key(name: &str) -> Vec<u8> {
    format!("{FUNCTIONS}{name}").into_bytes()
}

fn version_key(name: &str, version: &str) -> Vec<u8> {
    match version.parse::<u32>() {
        Ok(n) => format!("{VERSIONS}{name}/{n:010}").into_bytes(),
        Err(_) => format!("{VERSIONS}{name}/{version}").into_bytes(),
    }
}

fn alias_key(name: &str, alias: &str) -> Vec<u8> {
    format!("{ALIASES}{name}/{alias}").into_bytes()
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| FunctionsError::Service(format!("encode record: {e}")))
}

fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        FunctionsError::Service(format!(
            "corrupt record {}: {e}",
            String::from_utf8_lossy(key)
        ))
    })
}

/// Whether `s` is a valid function name (`[a-zA-Z0-9-_]+`).
pub fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_qualifier(s: &str) -> bool {
    s == LATEST || is_name(s)
}

/// Whether `s` names a published version.
pub fn is_version_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

impl Registry {
    pub fn new(store: Arc<dyn Store>, config: &FunctionsConfig) -> Result<Registry> {
        Ok(Registry {
            store,
            region: config.region.clone(),
            account_id: config.account_id.clone(),
            writes: Mutex::new(()),
        })
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// `arn:aws:lambda:{region}:{account}:function:{name}`.
    pub fn function_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{name}",
            self.region, self.account_id
        )
    }

    /// The function's ARN, with `:{qualifier}` when there is one.
    pub fn arn(&self, name: &str, qualifier: Option<&str>) -> String {
        match qualifier {
            Some(q) => format!("{}:{q}", self.function_arn(name)),
            None => self.function_arn(name),
        }
    }

    /// `Function not found: {arn}`, Lambda's words for a missing function or version.
    pub fn not_found(&self, name: &str, qualifier: Option<&str>) -> FunctionsError {
        FunctionsError::ResourceNotFound(format!(
            "Function not found: {}",
            self.arn(name, qualifier)
        ))
    }

    /// Takes a `FunctionName` parameter apart: a name, `name:qualifier`, a partial ARN
    /// (`{account}:function:{name}[:{qualifier}]`) or a full ARN, plus the `Qualifier`
    /// parameter, which must agree with a qualifier in the name.
    pub fn parse_name(&self, input: &str, qualifier: Option<&str>) -> Result<FunctionRef> {
        let malformed = || {
            FunctionsError::Validation(format!(
                "1 validation error detected: Value '{input}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: {FUNCTION_NAME_PATTERN}"
            ))
        };
        let parts: Vec<&str> = input.split(':').collect();
        let (account, region, name, in_name) = match parts.as_slice() {
            [name] => (None, None, *name, None),
            [name, q] => (None, None, *name, Some(*q)),
            [account, "function", name] => (Some(*account), None, *name, None),
            [account, "function", name, q] => (Some(*account), None, *name, Some(*q)),
            [
                "arn",
                partition,
                "lambda",
                region,
                account,
                "function",
                name,
                rest @ ..,
            ] if partition.starts_with("aws") && rest.len() <= 1 => {
                (Some(*account), Some(*region), *name, rest.first().copied())
            }
            _ => return Err(malformed()),
        };
        let bad_account =
            account.is_some_and(|a| a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()));
        if bad_account || !is_name(name) || in_name.is_some_and(|q| !is_qualifier(q)) {
            return Err(malformed());
        }
        if account.is_some() && input.len() > 140 {
            return Err(FunctionsError::Validation(format!(
                "1 validation error detected: Value '{input}' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 140"
            )));
        }
        if name.len() > 64 && account.is_none() {
            return Err(FunctionsError::Validation(format!(
                "1 validation error detected: Value '{input}' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64"
            )));
        }
        if let Some(q) = qualifier.filter(|q| !is_qualifier(q)) {
            return Err(FunctionsError::Validation(format!(
                "1 validation error detected: Value '{q}' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)"
            )));
        }
        let qualifier = match (in_name, qualifier) {
            (Some(a), Some(b)) if a != b => {
                return Err(FunctionsError::InvalidParameterValue(
                    "The derived qualifier from the function name does not match the specified qualifier.".into(),
                ));
            }
            (a, b) => a.or(b).map(str::to_owned),
        };
        if let Some(region) = region.filter(|r| *r != self.region) {
            return Err(FunctionsError::ResourceNotFound(format!(
                "Functions from '{region}' are not reachable in this region ('{}')",
                self.region
            )));
        }
        if account.is_some_and(|a| a != self.account_id) {
            return Err(FunctionsError::ResourceNotFound(format!(
                "Function not found: {input}"
            )));
        }
        Ok(FunctionRef {
            name: name.to_owned(),
            qualifier,
        })
    }

    fn read<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>> {
        match self.store.get(key)? {
            Some(bytes) => Ok(Some(decode(key, &bytes)?)),
            None => Ok(None),
        }
    }

    fn scan<T: DeserializeOwned>(&self, prefix: &str) -> Result<Vec<T>> {
        let mut out = Vec::new();
        let mut failed = None;
        self.store.scan(
            &KeyRange::prefix(prefix.as_bytes()),
            Direction::Forward,
            &mut |k, v| match decode(k, v) {
                Ok(record) => {
                    out.push(record);
                    ControlFlow::Continue(())
                }
                Err(e) => {
                    failed = Some(e);
                    ControlFlow::Break(())
                }
            },
        )?;
        match failed {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    /// The function's meta record, if the function exists.
    pub fn meta(&self, name: &str) -> Result<Option<FunctionMeta>> {
        self.read(&meta_key(name))
    }

    /// The function's meta record, or `Function not found`.
    pub fn existing(&self, name: &str) -> Result<FunctionMeta> {
        self.meta(name)?.ok_or_else(|| self.not_found(name, None))
    }

    /// Every function's meta record, in name order.
    pub fn all(&self) -> Result<Vec<FunctionMeta>> {
        self.scan(FUNCTIONS)
    }

    /// One version (`$LATEST` or a number), if it exists.
    pub fn version(&self, name: &str, version: &str) -> Result<Option<VersionRecord>> {
        self.read(&version_key(name, version))
    }

    /// `$LATEST` and then the published versions in order.
    pub fn versions(&self, name: &str) -> Result<Vec<VersionRecord>> {
        self.scan(&format!("{VERSIONS}{name}/"))
    }

    /// Every version of every function.
    pub fn all_versions(&self) -> Result<Vec<VersionRecord>> {
        self.scan(VERSIONS)
    }

    /// The function URL `url_id` belongs to.
    pub fn url_index(&self, url_id: &str) -> Result<Option<UrlIndex>> {
        let key = format!("{URLS}{url_id}").into_bytes();
        self.store.get(&key)?.map(|b| decode(&key, &b)).transpose()
    }

    pub fn alias(&self, name: &str, alias: &str) -> Result<Option<AliasRecord>> {
        self.read(&alias_key(name, alias))
    }

    /// The function's aliases in name order.
    pub fn aliases(&self, name: &str) -> Result<Vec<AliasRecord>> {
        self.scan(&format!("{ALIASES}{name}/"))
    }

    /// The version a qualifier designates: `None` and `$LATEST` are `$LATEST`, a number is that
    /// version, anything else an alias. `route` applies an alias' weighted routing; without it
    /// the alias' primary version is returned (what GetFunction describes).
    pub fn version_for(
        &self,
        name: &str,
        qualifier: Option<&str>,
        route: bool,
    ) -> Result<VersionRecord> {
        let q = qualifier.unwrap_or(LATEST);
        let version = if q == LATEST || is_version_number(q) {
            q.to_owned()
        } else {
            let alias = self
                .alias(name, q)?
                .ok_or_else(|| self.not_found(name, Some(q)))?;
            match alias.additional_version_weights.iter().next() {
                Some((extra, weight)) if route && rand::random::<f64>() < *weight => extra.clone(),
                _ => alias.function_version,
            }
        };
        self.version(name, &version)?
            .ok_or_else(|| self.not_found(name, qualifier))
    }

    /// The configuration that `name` (a name, partial or full ARN) with `qualifier` (a version
    /// or alias; `None` is `$LATEST`) runs. An alias with weighted routing picks its
    /// additional version with the configured probability.
    pub fn resolve(&self, name: &str, qualifier: Option<&str>) -> Result<ResolvedFunction> {
        let r = self.parse_name(name, qualifier)?;
        // An invocation always names a version: Lambda's answer for a missing function
        // ends in `:$LATEST` when no qualifier was given.
        let meta = self.meta(&r.name)?.ok_or_else(|| {
            self.not_found(&r.name, Some(r.qualifier.as_deref().unwrap_or(LATEST)))
        })?;
        let record = self.version_for(&r.name, r.qualifier.as_deref(), true)?;
        Ok(ResolvedFunction {
            config: record.config,
            invoked_arn: self.arn(&r.name, r.qualifier.as_deref()),
            reserved_concurrency: meta.reserved_concurrency,
            // JSON logs are filtered at INFO unless a level is set, as GetFunction reports.
            log_level: record.extra.application_log_level.or_else(|| {
                (record.extra.log_format.as_deref() == Some("JSON")).then(|| "INFO".to_owned())
            }),
            log_format: record.extra.log_format,
        })
    }

    /// Holds the registry's write lock.
    fn lock(&self) -> MutexGuard<'_, ()> {
        self.writes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies one change of function `name` atomically. `change` gets the function's current
    /// meta record (`None`: it does not exist) and records its writes; the meta record it puts
    /// (or the current one) is stored with a new generation. Runs under the write lock, so
    /// `change` may read the whole registry (e.g. to sum reserved concurrency).
    pub fn write<T>(
        &self,
        name: &str,
        change: impl FnOnce(Option<FunctionMeta>, &mut Writes) -> Result<T>,
    ) -> Result<T> {
        let _guard = self.lock();
        let key = meta_key(name);
        let raw = self.store.get(&key)?;
        let current: Option<FunctionMeta> = raw.as_deref().map(|b| decode(&key, b)).transpose()?;
        let mut writes = Writes::default();
        let out = change(current.clone(), &mut writes)?;
        let mut batch = std::mem::take(&mut writes.batch);
        batch.check(key.clone(), raw);
        if writes.delete_function {
            batch.delete(key);
        } else if let Some(mut meta) = writes.meta.take().or(current) {
            meta.generation += 1;
            batch.put(key, encode(&meta)?);
        }
        self.store.commit(batch).map_err(|e| match e {
            nimbus_store::Error::Conflict { .. } => FunctionsError::ResourceConflict(format!(
                "The operation cannot be performed at this time. An update is in progress for resource: {}",
                self.function_arn(name)
            )),
            other => other.into(),
        })?;
        Ok(out)
    }

    /// [`Self::write`] for a function that must exist (`Function not found` otherwise):
    /// `change` edits its meta record in place.
    pub fn update<T>(
        &self,
        name: &str,
        change: impl FnOnce(&mut FunctionMeta, &mut Writes) -> Result<T>,
    ) -> Result<T> {
        self.write(name, |current, writes| {
            let mut meta = current.ok_or_else(|| self.not_found(name, None))?;
            let out = change(&mut meta, writes)?;
            writes.put_meta(meta);
            Ok(out)
        })
    }

    /// Runs `f` under the write lock (for work that must not interleave with changes, such
    /// as removing packages no version references any more).
    pub fn exclusive<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let _guard = self.lock();
        f()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use nimbus_store::mem::MemStore;

    pub(crate) fn config() -> FunctionsConfig {
        let data_dir =
            std::env::temp_dir().join(format!("nimbus-functions-{}", uuid::Uuid::new_v4()));
        FunctionsConfig {
            runtimes_dir: data_dir.join("runtimes"),
            data_dir,
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
            aws_endpoint: "http://127.0.0.1:4566".into(),
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "secret".into(),
            idle_timeout: std::time::Duration::from_secs(300),
            max_environments: 64,
            search_path: "/usr/bin:/bin".into(),
            async_retry_delay: std::time::Duration::from_secs(60),
            log_retention: std::time::Duration::from_secs(86_400),
            auto_install_sdks: false,
        }
    }

    #[test]
    fn names_parse_in_every_form() {
        let r = Registry::new(Arc::new(MemStore::new()), &config()).expect("registry");
        let plain = |n: &str, q: Option<&str>| FunctionRef {
            name: n.into(),
            qualifier: q.map(Into::into),
        };
        assert_eq!(r.parse_name("f", None).expect("name"), plain("f", None));
        assert_eq!(
            r.parse_name("f:live", None).expect("qualified"),
            plain("f", Some("live"))
        );
        assert_eq!(
            r.parse_name("000000000000:function:f", Some("3"))
                .expect("partial"),
            plain("f", Some("3"))
        );
        assert_eq!(
            r.parse_name(
                "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST",
                None
            )
            .expect("arn"),
            plain("f", Some("$LATEST"))
        );
        assert!(matches!(
            r.parse_name("f:1", Some("2")),
            Err(FunctionsError::InvalidParameterValue(_))
        ));
        assert!(matches!(
            r.parse_name("bad name", None),
            Err(FunctionsError::Validation(_))
        ));
        assert!(matches!(
            r.parse_name("arn:aws:lambda:eu-west-1:000000000000:function:f", None),
            Err(FunctionsError::ResourceNotFound(_))
        ));
    }

    #[test]
    fn version_keys_sort_latest_first_then_numerically() {
        let mut keys = [
            version_key("f", "10"),
            version_key("f", "2"),
            version_key("f", LATEST),
        ];
        keys.sort();
        assert_eq!(
            keys,
            [
                version_key("f", LATEST),
                version_key("f", "2"),
                version_key("f", "10")
            ]
        );
    }
}
