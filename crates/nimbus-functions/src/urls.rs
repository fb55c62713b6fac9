//! Function URLs: an HTTP endpoint of its own for a function or one of its aliases
//! (CreateFunctionUrlConfig and the rest of the `2021-10-31` operations). The gateway serves
//! them on its port at `http://{urlId}.lambda-url.localhost:{port}/` with the HTTP API 2.0
//! event, as Lambda serves `https://{urlId}.lambda-url.{region}.on.aws/`; this module keeps
//! their configurations and answers the gateway's lookups ([`Functions::url_target`]).
//!
//! A configuration lives in its function's meta record, by qualifier (`""` for the function
//! itself), and the key `functions/url/{urlId}` names its function and qualifier, so the data
//! plane finds a URL with one read. Both are written in the same registry change.

use serde::{Deserialize, Serialize};

use crate::Functions;
use crate::api::Page;
use crate::control::{missing, now_timestamp, paginate, validation};
use crate::error::{FunctionsError, Result};
use crate::registry::{UrlIndex, is_name, is_version_number};

/// The CORS settings of a function URL, as the Lambda API spells them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Cors {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_credentials: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_headers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_methods: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_origins: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expose_headers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
}

/// A function URL's configuration as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlConfig {
    pub url_id: String,
    /// `NONE` or `AWS_IAM`.
    pub auth_type: String,
    #[serde(default)]
    pub cors: Option<Cors>,
    /// `BUFFERED` or `RESPONSE_STREAM`.
    pub invoke_mode: String,
    pub creation_time: String,
    pub last_modified_time: String,
}

/// The body of CreateFunctionUrlConfig and UpdateFunctionUrlConfig.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UrlConfigRequest {
    pub auth_type: Option<String>,
    pub cors: Option<Cors>,
    pub invoke_mode: Option<String>,
}

/// A function URL configuration as the API answers it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UrlConfigResponse {
    pub function_url: String,
    pub function_arn: String,
    pub auth_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cors: Option<Cors>,
    pub creation_time: String,
    /// Not in CreateFunctionUrlConfig's answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_time: Option<String>,
    pub invoke_mode: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListUrlConfigsResponse {
    pub function_url_configs: Vec<UrlConfigResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

/// What the gateway needs to serve a function URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlTarget {
    pub function: String,
    pub qualifier: Option<String>,
    pub auth_type: String,
    pub cors: Option<Cors>,
}

/// A new URL id: 32 characters of `[a-z0-9]`, as Lambda's.
fn new_url_id() -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let mut n = u128::from_be_bytes(bytes);
    (0..32)
        .map(|_| {
            let c = b"abcdefghijklmnopqrstuvwxyz0123456789"[(n % 36) as usize];
            n /= 36;
            c as char
        })
        .collect()
}

fn check_auth_type(value: &str) -> Result<()> {
    if value == "NONE" || value == "AWS_IAM" {
        return Ok(());
    }
    Err(validation(
        value,
        "authType",
        "Member must satisfy enum value set: [NONE, AWS_IAM]",
    ))
}

fn check_invoke_mode(value: &str) -> Result<()> {
    if value == "BUFFERED" || value == "RESPONSE_STREAM" {
        return Ok(());
    }
    Err(validation(
        value,
        "invokeMode",
        "Member must satisfy enum value set: [RESPONSE_STREAM, BUFFERED]",
    ))
}

fn check_cors(cors: &Cors) -> Result<()> {
    let lists = [
        (&cors.allow_headers, "cors.allowHeaders", 100),
        (&cors.allow_methods, "cors.allowMethods", 6),
        (&cors.allow_origins, "cors.allowOrigins", 100),
        (&cors.expose_headers, "cors.exposeHeaders", 100),
    ];
    for (list, field, max) in lists {
        if let Some(list) = list
            && list.len() > max
        {
            return Err(validation(
                format!("{list:?}"),
                field,
                &format!("Member must have length less than or equal to {max}"),
            ));
        }
    }
    if let Some(age) = cors.max_age
        && !(0..=86_400).contains(&age)
    {
        return Err(validation(
            age,
            "cors.maxAge",
            "Member must have value less than or equal to 86400",
        ));
    }
    Ok(())
}

impl Functions {
    /// Sets the host function URLs are served under, e.g. `lambda-url.localhost:8080`.
    pub fn set_url_host(&self, host: String) {
        let _ = self.url_host.set(host);
    }

    fn function_url(&self, url_id: &str) -> String {
        let host = self
            .url_host
            .get()
            .map_or("lambda-url.localhost", String::as_str);
        format!("http://{url_id}.{host}/")
    }

    /// The function and its URL qualifier (`None`: the function itself): an alias that exists.
    fn url_owner(&self, function_name: &str, qualifier: Option<&str>) -> Result<(String, String)> {
        let r = self.registry().parse_name(function_name, qualifier)?;
        let meta = self.registry().existing(&r.name)?;
        let qualifier = r.qualifier.unwrap_or_default();
        if !qualifier.is_empty() {
            if !is_name(&qualifier) || is_version_number(&qualifier) {
                return Err(validation(
                    &qualifier,
                    "qualifier",
                    r"Member must satisfy regular expression pattern: ((?!^\d+$)^[0-9a-zA-Z-_]+$)",
                ));
            }
            if self.registry().alias(&meta.name, &qualifier)?.is_none() {
                return Err(FunctionsError::ResourceNotFound(format!(
                    "Function not found: {}",
                    self.registry().arn(&meta.name, Some(&qualifier))
                )));
            }
        }
        Ok((meta.name, qualifier))
    }

    fn url_response(&self, function: &str, qualifier: &str, c: &UrlConfig) -> UrlConfigResponse {
        let qualifier = (!qualifier.is_empty()).then_some(qualifier);
        UrlConfigResponse {
            function_url: self.function_url(&c.url_id),
            function_arn: self.registry().arn(function, qualifier),
            auth_type: c.auth_type.clone(),
            cors: c.cors.clone(),
            creation_time: c.creation_time.clone(),
            last_modified_time: Some(c.last_modified_time.clone()),
            invoke_mode: c.invoke_mode.clone(),
        }
    }

    fn url_not_found() -> FunctionsError {
        FunctionsError::ResourceNotFound("The resource you requested does not exist.".into())
    }

    pub fn create_function_url_config(
        &self,
        function_name: &str,
        qualifier: Option<&str>,
        request: UrlConfigRequest,
    ) -> Result<UrlConfigResponse> {
        let auth_type = request.auth_type.ok_or_else(|| missing("authType"))?;
        check_auth_type(&auth_type)?;
        let invoke_mode = request.invoke_mode.unwrap_or_else(|| "BUFFERED".into());
        check_invoke_mode(&invoke_mode)?;
        if let Some(cors) = &request.cors {
            check_cors(cors)?;
        }
        let (function, qualifier) = self.url_owner(function_name, qualifier)?;
        let now = now_timestamp();
        let config = UrlConfig {
            url_id: new_url_id(),
            auth_type,
            cors: request.cors.filter(|c| *c != Cors::default()),
            invoke_mode,
            creation_time: now.clone(),
            last_modified_time: now,
        };
        self.registry().update(&function, |meta, writes| {
            if meta.urls.contains_key(&qualifier) {
                return Err(FunctionsError::ResourceConflict(format!(
                    "Failed to create function url config for [functionArn = {}]. Error message:  FunctionUrlConfig exists for this Lambda function",
                    self.registry().arn(&function, (!qualifier.is_empty()).then_some(&qualifier))
                )));
            }
            writes.put_url_index(
                &config.url_id,
                &UrlIndex {
                    function: function.clone(),
                    qualifier: qualifier.clone(),
                },
            )?;
            meta.urls.insert(qualifier.clone(), config.clone());
            Ok(())
        })?;
        let mut response = self.url_response(&function, &qualifier, &config);
        response.last_modified_time = None;
        Ok(response)
    }

    pub fn get_function_url_config(
        &self,
        function_name: &str,
        qualifier: Option<&str>,
    ) -> Result<UrlConfigResponse> {
        let (function, qualifier) = self.url_owner(function_name, qualifier)?;
        let meta = self.registry().existing(&function)?;
        let config = meta.urls.get(&qualifier).ok_or_else(Self::url_not_found)?;
        Ok(self.url_response(&function, &qualifier, config))
    }

    pub fn update_function_url_config(
        &self,
        function_name: &str,
        qualifier: Option<&str>,
        request: UrlConfigRequest,
    ) -> Result<UrlConfigResponse> {
        if let Some(a) = &request.auth_type {
            check_auth_type(a)?;
        }
        if let Some(m) = &request.invoke_mode {
            check_invoke_mode(m)?;
        }
        if let Some(cors) = &request.cors {
            check_cors(cors)?;
        }
        let (function, qualifier) = self.url_owner(function_name, qualifier)?;
        let config = self.registry().update(&function, |meta, _| {
            let config = meta
                .urls
                .get_mut(&qualifier)
                .ok_or_else(Self::url_not_found)?;
            if let Some(a) = request.auth_type {
                config.auth_type = a;
            }
            if let Some(m) = request.invoke_mode {
                config.invoke_mode = m;
            }
            if let Some(c) = request.cors {
                // An empty Cors clears it.
                config.cors = Some(c).filter(|c| *c != Cors::default());
            }
            config.last_modified_time = now_timestamp();
            Ok(config.clone())
        })?;
        Ok(self.url_response(&function, &qualifier, &config))
    }

    pub fn delete_function_url_config(
        &self,
        function_name: &str,
        qualifier: Option<&str>,
    ) -> Result<()> {
        let (function, qualifier) = self.url_owner(function_name, qualifier)?;
        self.registry().update(&function, |meta, writes| {
            let config = meta
                .urls
                .remove(&qualifier)
                .ok_or_else(Self::url_not_found)?;
            writes.delete_url_index(&config.url_id);
            Ok(())
        })
    }

    pub fn list_function_url_configs(
        &self,
        function_name: &str,
        page: &Page,
    ) -> Result<ListUrlConfigsResponse> {
        let meta = self.listed_function(function_name, page)?;
        let items = meta
            .urls
            .iter()
            .map(|(q, c)| (c.url_id.clone(), self.url_response(&meta.name, q, c)))
            .collect();
        let (function_url_configs, next_marker) = paginate(items, page)?;
        Ok(ListUrlConfigsResponse {
            function_url_configs,
            next_marker,
        })
    }

    /// The function whose settings a list operation of at most 50 items a page reads
    /// (ListFunctionUrlConfigs, ListFunctionEventInvokeConfigs).
    pub(crate) fn listed_function(
        &self,
        function_name: &str,
        page: &Page,
    ) -> Result<crate::registry::FunctionMeta> {
        let r = self.registry().parse_name(function_name, None)?;
        let meta = self.registry().existing(&r.name)?;
        if let Some(n) = page.max_items
            && !(1..=50).contains(&n)
        {
            return Err(validation(
                n,
                "maxItems",
                "Member must have value less than or equal to 50",
            ));
        }
        Ok(meta)
    }

    /// The function URL `url_id` names, if any. Blocks on I/O.
    pub fn url_target(&self, url_id: &str) -> Result<Option<UrlTarget>> {
        let Some(index) = self.registry().url_index(url_id)? else {
            return Ok(None);
        };
        let Some(meta) = self.registry().meta(&index.function)? else {
            return Ok(None);
        };
        Ok(meta
            .urls
            .get(&index.qualifier)
            .filter(|c| c.url_id == url_id)
            .map(|c| UrlTarget {
                function: meta.name.clone(),
                qualifier: (!index.qualifier.is_empty()).then(|| index.qualifier.clone()),
                auth_type: c.auth_type.clone(),
                cors: c.cors.clone(),
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_ids_are_32_lowercase_letters_and_digits() {
        let a = new_url_id();
        assert_eq!(a.len(), 32);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
        assert_ne!(a, new_url_id());
    }
}
