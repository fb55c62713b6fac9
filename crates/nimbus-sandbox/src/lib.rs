//! Linux isolation of one process: namespaces, cgroups, seccomp and mounts, and the probes
//! that tell what this kernel allows.
//!
//! The functions crate creates every execution environment through this crate; nothing else
//! in Nimbus calls `unshare`, writes cgroup files or installs filters. Where the kernel refuses
//! a mechanism, the probes in [`probe`] say so plainly (`nimbus serve` logs it at start-up and
//! `nimbus doctor` prints it): Nimbus never pretends to isolate what it cannot.
//!
//! This is the one crate of the workspace that may use `unsafe`; each block carries a
//! `// SAFETY:` comment.

pub mod mounts;
pub mod probe;
pub mod process;
