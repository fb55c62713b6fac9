//! `nimbus init`: writes a SAM project (an HTTP API, a function reading and writing a table,
//! the table, a README) that `nimbus deploy` deploys and `sam deploy` deploys to AWS too. The
//! files are embedded from `crates/nimbus/templates/`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;

const TEMPLATE: &str = include_str!("../templates/template.yaml");
const README: &str = include_str!("../templates/README.md");
const GITIGNORE: &str = include_str!("../templates/gitignore");
const PYTHON_HANDLER: &str = include_str!("../templates/python/app.py");
const NODE_HANDLER: &str = include_str!("../templates/node/app.mjs");

/// A runtime the scaffolded handler runs on: a supported Python or Node.js runtime.
fn parse_runtime(s: &str) -> Result<String, String> {
    use nimbus_functions::runtimes::{Family, SUPPORTED};
    let choices: Vec<&str> = SUPPORTED
        .iter()
        .copied()
        .filter(|r| matches!(Family::of(r), Some(Family::Python | Family::Node)))
        .collect();
    if choices.contains(&s) {
        Ok(s.to_owned())
    } else {
        Err(format!("choose one of {}", choices.join(", ")))
    }
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to create the project in [default: the current directory]
    pub dir: Option<PathBuf>,
    /// Runtime of the function: python3.12 (boto3) or nodejs20.x (AWS SDK for JavaScript v3),
    /// or another python3.x / nodejs version.
    #[arg(long, default_value = "python3.12", value_parser = parse_runtime)]
    pub runtime: String,
    /// Project name, also the suggested stack name [default: the directory's name]
    #[arg(long)]
    pub name: Option<String>,
    /// Overwrite files that already exist.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: InitArgs) -> anyhow::Result<()> {
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("."));
    let name = match args.name {
        Some(n) => n,
        None => {
            let abs = std::path::absolute(&dir).unwrap_or_else(|_| dir.clone());
            abs.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "my-app".to_owned())
        }
    };
    let name = stack_name(&name);
    let files = project(&name, &args.runtime);
    if !args.force {
        let existing: Vec<String> = files
            .iter()
            .filter(|(path, _)| dir.join(path).exists())
            .map(|(path, _)| path.clone())
            .collect();
        if !existing.is_empty() {
            bail!(
                "{} already has {}; choose another directory or pass --force to overwrite",
                dir.display(),
                existing.join(", ")
            );
        }
    }
    for (path, content) in &files {
        write(&dir.join(path), content)?;
    }
    let shown = dir.display();
    println!("Created {name} ({}) in {shown}:", args.runtime);
    for (path, _) in &files {
        println!("  {path}");
    }
    println!("\nNext:");
    if dir != Path::new(".") {
        println!("  cd {shown}");
    }
    println!("  nimbus serve                      # in another terminal, if it is not running");
    println!("  nimbus deploy template.yaml --stack-name {name}");
    println!("  curl http://127.0.0.1:8080/items");
    Ok(())
}

/// The project's files, relative to its directory.
fn project(name: &str, runtime: &str) -> Vec<(String, String)> {
    let (handler_path, handler) = if runtime.starts_with("nodejs") {
        ("src/app.mjs", NODE_HANDLER)
    } else {
        ("src/app.py", PYTHON_HANDLER)
    };
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{runtime}}", runtime)
            .replace("{{handler_file}}", handler_path)
    };
    vec![
        ("template.yaml".to_owned(), fill(TEMPLATE)),
        (handler_path.to_owned(), fill(handler)),
        ("README.md".to_owned(), fill(README)),
        (".gitignore".to_owned(), GITIGNORE.to_owned()),
    ]
}

/// A CloudFormation stack name: letters, digits and hyphens, starting with a letter.
fn stack_name(raw: &str) -> String {
    let mut name: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    name = name.trim_matches('-').to_owned();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name.insert_str(0, "app-");
    }
    name.truncate(128);
    name
}

fn write(path: &Path, content: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("create {}", parent.display()))?;
    }
    std::fs::write(path, content).with_context(|| format!("write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projects_name_their_runtime_and_handler() {
        let files = project("shop", "nodejs20.x");
        let template = &files[0].1;
        assert!(template.contains("Runtime: nodejs20.x"));
        assert!(!template.contains("{{"));
        assert_eq!(files[1].0, "src/app.mjs");
        assert!(files[2].1.contains("--stack-name shop"));
        assert_eq!(project("shop", "python3.12")[1].0, "src/app.py");
        assert_eq!(stack_name("my_app"), "my-app");
        assert_eq!(stack_name("2024 demo"), "app-2024-demo");
    }
}
