//! Errors of loading and resolving a template. Each names the resource and the template line
//! where it can, since that is what a user fixes.

use std::path::PathBuf;

/// What went wrong with a template or its files.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The template itself is wrong: bad YAML, a bad section, a bad intrinsic.
    #[error("{}{message}", line.map(|l| format!("template line {l}: ")).unwrap_or_default())]
    Template {
        line: Option<usize>,
        message: String,
    },
    /// One resource is wrong.
    #[error("Resource {logical_id}{}: {message}", line.map(|l| format!(" (template line {l})")).unwrap_or_default())]
    Resource {
        logical_id: String,
        line: Option<usize>,
        message: String,
    },
    /// The template uses resource types or properties that Nimbus does not deploy; each entry
    /// says what and where.
    #[error("the template uses what Nimbus cannot deploy:\n  {}", .0.join("\n  "))]
    Unsupported(Vec<String>),
    /// Building a function's or layer's code failed: `message` says which step, and carries
    /// the tool's own output.
    #[error("{name}: {message}")]
    Build { name: String, message: String },
    /// A file the template names (CodeUri) could not be read or packaged.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    pub fn template(line: Option<usize>, message: impl Into<String>) -> Error {
        Error::Template {
            line,
            message: message.into(),
        }
    }

    /// The same error, attributed to a resource (a template error inside it keeps its line).
    pub fn in_resource(self, logical_id: &str, resource_line: usize) -> Error {
        match self {
            Error::Template { line, message } => Error::Resource {
                logical_id: logical_id.to_owned(),
                line: line.or(Some(resource_line)),
                message,
            },
            other => other,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
