//! Asynchronous invocation settings (PutFunctionEventInvokeConfig and the rest of the
//! `2019-09-25` operations): how many times a failed `Event` invocation is retried (0 to 2),
//! how old an event may get before it is discarded, and where a record of the outcome goes.
//! The queue worker ([`crate::invoke`]) reads them for each queued invocation.
//!
//! A configuration belongs to a function's `$LATEST` (also the unqualified function, as Lambda
//! has it), a version or an alias, and lives in the function's meta record by that qualifier.
//! Destinations: a Lambda function receives the invocation record as an asynchronous
//! invocation of its own; SQS queues, SNS topics, EventBridge buses and S3 buckets are
//! services Nimbus does not run, so their records are logged and dropped.

use serde::{Deserialize, Serialize};

use crate::Functions;
use crate::api::Page;
use crate::control::{paginate, validation};
use crate::error::{FunctionsError, Result};
use crate::model::LATEST;
use crate::registry::{is_name, is_version_number};

/// Lambda's defaults: two retries, six hours.
pub const DEFAULT_RETRIES: u32 = 2;
pub const DEFAULT_MAX_AGE_SECONDS: u64 = 21_600;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Destination {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DestinationConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_success: Option<Destination>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<Destination>,
}

/// One qualifier's settings as stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventInvokeConfig {
    #[serde(default)]
    pub maximum_retry_attempts: Option<u32>,
    #[serde(default)]
    pub maximum_event_age_in_seconds: Option<u64>,
    #[serde(default)]
    pub destination_config: Option<DestinationConfig>,
    /// Epoch seconds.
    pub last_modified: f64,
}

impl EventInvokeConfig {
    pub fn retries(&self) -> u32 {
        self.maximum_retry_attempts.unwrap_or(DEFAULT_RETRIES)
    }
    pub fn max_age_seconds(&self) -> u64 {
        self.maximum_event_age_in_seconds
            .unwrap_or(DEFAULT_MAX_AGE_SECONDS)
    }
    /// The destination for an outcome, if one is set.
    pub fn destination(&self, success: bool) -> Option<&str> {
        let d = self.destination_config.as_ref()?;
        let target = if success {
            &d.on_success
        } else {
            &d.on_failure
        };
        target
            .as_ref()?
            .destination
            .as_deref()
            .filter(|s| !s.is_empty())
    }
}

/// The body of Put and UpdateFunctionEventInvokeConfig.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventInvokeRequest {
    pub maximum_retry_attempts: Option<i64>,
    pub maximum_event_age_in_seconds: Option<i64>,
    pub destination_config: Option<DestinationConfig>,
}

/// `FunctionEventInvokeConfig` as the API answers it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventInvokeResponse {
    pub last_modified: f64,
    pub function_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_retry_attempts: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_event_age_in_seconds: Option<u64>,
    pub destination_config: DestinationConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListEventInvokeResponse {
    pub function_event_invoke_configs: Vec<EventInvokeResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

fn now_seconds() -> f64 {
    let millis = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    millis as f64 / 1000.0
}

/// The services a destination may be, by the service part of its ARN.
const DESTINATION_SERVICES: [&str; 5] = ["lambda", "sqs", "sns", "events", "s3"];

fn check_destinations(d: &DestinationConfig) -> Result<()> {
    for target in [&d.on_success, &d.on_failure].into_iter().flatten() {
        let Some(arn) = target.destination.as_deref().filter(|a| !a.is_empty()) else {
            continue;
        };
        let service = arn.split(':').nth(2).unwrap_or_default();
        if !arn.starts_with("arn:") || !DESTINATION_SERVICES.contains(&service) {
            return Err(FunctionsError::InvalidParameterValue(format!(
                "The destination ARN {arn} is invalid."
            )));
        }
    }
    Ok(())
}

impl Functions {
    /// The function and the qualifier the settings belong to (`$LATEST` for none).
    fn event_invoke_owner(
        &self,
        function_name: &str,
        qualifier: Option<&str>,
    ) -> Result<(String, String)> {
        let r = self.registry().parse_name(function_name, qualifier)?;
        let meta = self.registry().existing(&r.name)?;
        let qualifier = r.qualifier.unwrap_or_else(|| LATEST.to_owned());
        if qualifier != LATEST {
            if !is_name(&qualifier) {
                return Err(validation(
                    &qualifier,
                    "qualifier",
                    r"Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)",
                ));
            }
            let exists = if is_version_number(&qualifier) {
                self.registry().version(&meta.name, &qualifier)?.is_some()
            } else {
                self.registry().alias(&meta.name, &qualifier)?.is_some()
            };
            if !exists {
                return Err(self.registry().not_found(&meta.name, Some(&qualifier)));
            }
        }
        Ok((meta.name, qualifier))
    }

    fn event_invoke_response(
        &self,
        function: &str,
        qualifier: &str,
        c: &EventInvokeConfig,
    ) -> EventInvokeResponse {
        EventInvokeResponse {
            last_modified: c.last_modified,
            function_arn: self.registry().arn(function, Some(qualifier)),
            maximum_retry_attempts: c.maximum_retry_attempts,
            maximum_event_age_in_seconds: c.maximum_event_age_in_seconds,
            destination_config: c.destination_config.clone().unwrap_or_default(),
        }
    }

    fn event_invoke_not_found(&self, function: &str, qualifier: &str) -> FunctionsError {
        FunctionsError::ResourceNotFound(format!(
            "The function {} doesn't have an EventInvokeConfig",
            self.registry().arn(function, Some(qualifier))
        ))
    }

    /// Put (`replace`: the request is the whole configuration) or Update (only what it names).
    pub fn put_function_event_invoke_config(
        &self,
        function_name: &str,
        qualifier: Option<&str>,
        request: EventInvokeRequest,
        replace: bool,
    ) -> Result<EventInvokeResponse> {
        let retries = match request.maximum_retry_attempts {
            Some(n) if !(0..=2).contains(&n) => {
                return Err(validation(
                    n,
                    "maximumRetryAttempts",
                    "Member must have value less than or equal to 2",
                ));
            }
            n => n.map(|n| n as u32),
        };
        let age = match request.maximum_event_age_in_seconds {
            Some(n) if !(60..=21_600).contains(&n) => {
                let constraint = if n < 60 {
                    "Member must have value greater than or equal to 60"
                } else {
                    "Member must have value less than or equal to 21600"
                };
                return Err(validation(n, "maximumEventAgeInSeconds", constraint));
            }
            n => n.map(|n| n as u64),
        };
        if let Some(d) = &request.destination_config {
            check_destinations(d)?;
        }
        let (function, qualifier) = self.event_invoke_owner(function_name, qualifier)?;
        let config = self.registry().update(&function, |meta, _| {
            let config = match meta.event_invoke.get_mut(&qualifier) {
                Some(existing) if !replace => existing,
                None if !replace => return Err(self.event_invoke_not_found(&function, &qualifier)),
                _ => meta.event_invoke.entry(qualifier.clone()).or_default(),
            };
            if replace {
                *config = EventInvokeConfig::default();
            }
            if retries.is_some() || replace {
                config.maximum_retry_attempts = retries;
            }
            if age.is_some() || replace {
                config.maximum_event_age_in_seconds = age;
            }
            if request.destination_config.is_some() || replace {
                config.destination_config = request.destination_config;
            }
            config.last_modified = now_seconds();
            Ok(config.clone())
        })?;
        Ok(self.event_invoke_response(&function, &qualifier, &config))
    }

    pub fn get_function_event_invoke_config(
        &self,
        function_name: &str,
        qualifier: Option<&str>,
    ) -> Result<EventInvokeResponse> {
        let (function, qualifier) = self.event_invoke_owner(function_name, qualifier)?;
        let meta = self.registry().existing(&function)?;
        let config = meta
            .event_invoke
            .get(&qualifier)
            .ok_or_else(|| self.event_invoke_not_found(&function, &qualifier))?;
        Ok(self.event_invoke_response(&function, &qualifier, config))
    }

    pub fn delete_function_event_invoke_config(
        &self,
        function_name: &str,
        qualifier: Option<&str>,
    ) -> Result<()> {
        let (function, qualifier) = self.event_invoke_owner(function_name, qualifier)?;
        self.registry().update(&function, |meta, _| {
            meta.event_invoke
                .remove(&qualifier)
                .map(|_| ())
                .ok_or_else(|| self.event_invoke_not_found(&function, &qualifier))
        })
    }

    pub fn list_function_event_invoke_configs(
        &self,
        function_name: &str,
        page: &Page,
    ) -> Result<ListEventInvokeResponse> {
        let meta = self.listed_function(function_name, page)?;
        let items = meta
            .event_invoke
            .iter()
            .map(|(q, c)| (q.clone(), self.event_invoke_response(&meta.name, q, c)))
            .collect();
        let (function_event_invoke_configs, next_marker) = paginate(items, page)?;
        Ok(ListEventInvokeResponse {
            function_event_invoke_configs,
            next_marker,
        })
    }

    /// The settings that apply to an asynchronous invocation of `function` as invoked
    /// (`qualifier` `None` is `$LATEST`); Lambda's defaults when there are none.
    pub(crate) fn event_invoke_settings(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> EventInvokeConfig {
        let qualifier = qualifier.unwrap_or(LATEST);
        match self.registry().meta(function) {
            Ok(Some(meta)) => meta
                .event_invoke
                .get(qualifier)
                .cloned()
                .unwrap_or_default(),
            _ => EventInvokeConfig::default(),
        }
    }
}
