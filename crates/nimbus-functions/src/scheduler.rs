//! The scheduler: warm environments per function revision, scale-out up to the function's
//! reserved concurrency and the global limit, throttling beyond them, and reaping of idle
//! environments.
//!
//! Environments are pooled by (function, version, revision): when a function's code or
//! configuration changes its revision changes, the idle environments of older revisions are
//! stopped at once and busy ones when they finish, so no invocation runs old code after an
//! update returns.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::environment::Environment;
use crate::error::{FunctionsError, Result};
use crate::model::ResolvedFunction;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PoolKey {
    function: String,
    version: String,
    revision: String,
}

impl PoolKey {
    fn of(resolved: &ResolvedFunction) -> PoolKey {
        PoolKey {
            function: resolved.config.function_name.clone(),
            version: resolved.config.version.clone(),
            revision: resolved.config.revision_id.clone(),
        }
    }
}

struct Idle {
    env: Arc<Environment>,
    since: Instant,
}

#[derive(Default)]
struct Inner {
    idle: HashMap<PoolKey, Vec<Idle>>,
    /// Current revision of each (function, version).
    current: HashMap<(String, String), String>,
    /// Executions running or starting, per function.
    busy_by_function: HashMap<String, u32>,
    busy: u32,
    /// Environments alive (busy, starting or idle).
    live: u32,
}

/// What [`Scheduler::acquire`] grants.
pub enum Slot {
    /// A warm environment, now busy.
    Warm(Arc<Environment>),
    /// Room for a new environment: start one, then [`Scheduler::release`] it, or
    /// [`Scheduler::abandon`] the slot if it fails to start.
    Cold,
}

/// Warm pools and concurrency accounting.
pub struct Scheduler {
    inner: Mutex<Inner>,
    max_environments: u32,
    idle_timeout: Duration,
}

fn throttled(reason: &'static str) -> FunctionsError {
    FunctionsError::TooManyRequests {
        message: "Rate Exceeded.".into(),
        reason,
    }
}

impl Scheduler {
    pub fn new(max_environments: u32, idle_timeout: Duration) -> Scheduler {
        Scheduler {
            inner: Mutex::new(Inner::default()),
            max_environments,
            idle_timeout,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A warm environment of `resolved`, or room to start one; throttles beyond the limits.
    pub fn acquire(&self, resolved: &ResolvedFunction) -> Result<Slot> {
        let key = PoolKey::of(resolved);
        let mut dropped = Vec::new();
        let slot = {
            let mut inner = self.lock();
            let version_key = (key.function.clone(), key.version.clone());
            if inner.current.get(&version_key) != Some(&key.revision) {
                inner.current.insert(version_key, key.revision.clone());
                let stale: Vec<PoolKey> = inner
                    .idle
                    .keys()
                    .filter(|k| {
                        k.function == key.function
                            && k.version == key.version
                            && k.revision != key.revision
                    })
                    .cloned()
                    .collect();
                for k in stale {
                    if let Some(envs) = inner.idle.remove(&k) {
                        inner.live -= envs.len() as u32;
                        dropped.extend(envs);
                    }
                }
            }
            let running = inner
                .busy_by_function
                .get(&key.function)
                .copied()
                .unwrap_or(0);
            if resolved
                .reserved_concurrency
                .is_some_and(|reserved| running >= reserved)
            {
                return Err(throttled(
                    "ReservedFunctionConcurrentInvocationLimitExceeded",
                ));
            }
            if inner.busy >= self.max_environments {
                return Err(throttled("ConcurrentInvocationLimitExceeded"));
            }
            let warm = loop {
                let Some(idle) = inner.idle.get_mut(&key).and_then(Vec::pop) else {
                    break None;
                };
                if idle.env.is_reusable() {
                    break Some(idle.env);
                }
                inner.live -= 1;
                dropped.push(idle);
            };
            if warm.is_none() {
                if inner.live >= self.max_environments {
                    // Make room by stopping the longest-idle environment of any function.
                    if let Some(victim) = oldest_idle(&mut inner) {
                        inner.live -= 1;
                        dropped.push(victim);
                    }
                }
                inner.live += 1;
            }
            *inner
                .busy_by_function
                .entry(key.function.clone())
                .or_default() += 1;
            inner.busy += 1;
            match warm {
                Some(env) => Slot::Warm(env),
                None => Slot::Cold,
            }
        };
        drop(dropped);
        Ok(slot)
    }

    /// Gives back a slot whose environment failed to start.
    pub fn abandon(&self, resolved: &ResolvedFunction) {
        let mut inner = self.lock();
        Self::unbusy(&mut inner, &resolved.config.function_name);
        inner.live = inner.live.saturating_sub(1);
    }

    fn unbusy(inner: &mut Inner, function: &str) {
        if let Some(n) = inner.busy_by_function.get_mut(function) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                inner.busy_by_function.remove(function);
            }
        }
        inner.busy = inner.busy.saturating_sub(1);
    }

    /// Returns a busy environment: kept warm if it is healthy and still current, else stopped.
    pub fn release(&self, resolved: &ResolvedFunction, env: Arc<Environment>, healthy: bool) {
        let key = PoolKey::of(resolved);
        let mut inner = self.lock();
        Self::unbusy(&mut inner, &key.function);
        let current = inner
            .current
            .get(&(key.function.clone(), key.version.clone()))
            == Some(&key.revision);
        if healthy && current && env.is_alive() {
            inner.idle.entry(key).or_default().push(Idle {
                env,
                since: Instant::now(),
            });
        } else {
            inner.live = inner.live.saturating_sub(1);
            drop(inner);
            env.kill();
        }
    }

    /// Stops environments idle for longer than the idle timeout. Returns how many.
    pub fn reap(&self) -> usize {
        let now = Instant::now();
        let mut dropped = Vec::new();
        {
            let mut inner = self.lock();
            let timeout = self.idle_timeout;
            for envs in inner.idle.values_mut() {
                let (old, keep): (Vec<Idle>, Vec<Idle>) = envs
                    .drain(..)
                    .partition(|i| now.duration_since(i.since) >= timeout || !i.env.is_alive());
                *envs = keep;
                dropped.extend(old);
            }
            inner.idle.retain(|_, v| !v.is_empty());
            inner.live = inner.live.saturating_sub(dropped.len() as u32);
        }
        let n = dropped.len();
        drop(dropped);
        n
    }

    /// Stops every idle environment of `function` (its code, configuration or existence
    /// changed); busy ones stop when they finish.
    pub fn drain_function(&self, function: &str) {
        let mut dropped = Vec::new();
        {
            let mut inner = self.lock();
            let keys: Vec<PoolKey> = inner
                .idle
                .keys()
                .filter(|k| k.function == function)
                .cloned()
                .collect();
            for k in keys {
                if let Some(envs) = inner.idle.remove(&k) {
                    dropped.extend(envs);
                }
            }
            inner.current.retain(|(f, _), _| f != function);
            inner.live = inner.live.saturating_sub(dropped.len() as u32);
        }
        drop(dropped);
    }

    /// Stops every idle environment (shutdown).
    pub fn drain_all(&self) {
        let dropped: Vec<Idle> = {
            let mut inner = self.lock();
            let all: Vec<Idle> = inner.idle.drain().flat_map(|(_, v)| v).collect();
            inner.live = inner.live.saturating_sub(all.len() as u32);
            all
        };
        drop(dropped);
    }

    /// (busy, live) environment counts.
    pub fn counts(&self) -> (u32, u32) {
        let inner = self.lock();
        (inner.busy, inner.live)
    }
}

fn oldest_idle(inner: &mut Inner) -> Option<Idle> {
    let (key, index) = inner
        .idle
        .iter()
        .flat_map(|(k, v)| {
            v.iter()
                .enumerate()
                .map(move |(i, idle)| (k, i, idle.since))
        })
        .min_by_key(|(_, _, since)| *since)
        .map(|(k, i, _)| (k.clone(), i))?;
    let envs = inner.idle.get_mut(&key)?;
    let victim = envs.remove(index);
    if envs.is_empty() {
        inner.idle.remove(&key);
    }
    Some(victim)
}
