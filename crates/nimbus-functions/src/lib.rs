//! Functions: the Lambda model of Nimbus. Will own the function registry, versions and
//! aliases, the scheduler and environment pools, the Runtime API server, and the runtimes
//! (Python and Node.js shims, `provided` bootstraps, WebAssembly components). Environments are
//! created in exactly one place, through `nimbus-sandbox`. Knows nothing of table internals.
//!
//! The Lambda control plane and execution environments land with the functions work; this
//! crate marks the boundary so that the layers around it are wired for it.
