//! Nimbus deploy: a SAM template (`Transform: AWS::Serverless-2016-10-31`) to the desired
//! resources of one stack, and the plan that makes the running resources match them.
//!
//! This crate owns template loading (YAML with the short intrinsic tags, line numbers kept for
//! errors), parameters and conditions, intrinsic evaluation, the SAM expansion (Globals,
//! functions and their HttpApi and Api events, the implicit `ServerlessHttpApi` and
//! `ServerlessRestApi`, `AWS::Serverless::Api`, tables, layers, connectors and policies as
//! table permissions, placeholders for resources of other services), function builds
//! ([`build`]: pip, npm, esbuild and make run as processes, cached by their inputs), function
//! and layer packages, and the plan. It makes no calls to the server: the CLI reads what runs
//! through the AWS APIs, hands it in as [`model::Actual`], and executes the [`plan::Plan`].
//!
//! Invariants: nothing in a template is dropped silently (unsupported properties and events
//! are errors or warnings that name their line; resources of other services are listed as
//! not deployed); the same template and the same files
//! give the same hashes, so a re-deploy of an unchanged stack plans nothing.

pub mod access;
pub mod build;
pub mod error;
pub mod intrinsics;
pub mod model;
pub mod package;
pub mod plan;
pub mod sam;
pub mod template;
pub mod yaml;

pub use error::{Error, Result};
