//! The makefile builder: `make build-<LogicalId>` with `ARTIFACTS_DIR`, as `sam build` runs it
//! for `Metadata: BuildMethod: makefile`. The Makefile is the one in `CodeUri`, run in a scratch
//! copy of that folder (so the build leaves the sources alone), or, with `Metadata:
//! ContextPath`, the one in that folder, run there.

use std::process::Command;

use super::{Job, copy_tree, run};
use crate::error::Result;

pub(super) fn build(job: &Job<'_>) -> Result<()> {
    let req = job.req;
    let (makefile, dir) = match req.context_path() {
        Some(context) => (context.join("Makefile"), context),
        None => {
            copy_tree(req.source, job.scratch, &[])?;
            (req.source.join("Makefile"), job.scratch.to_owned())
        }
    };
    if !makefile.is_file() {
        return Err(req.error(format!(
            "BuildMethod makefile needs a Makefile with a build-{} target: {} does not exist",
            req.name,
            makefile.display()
        )));
    }
    let makefile = std::fs::canonicalize(&makefile).unwrap_or(makefile);
    let artifacts = std::fs::canonicalize(job.artifact).unwrap_or_else(|_| job.artifact.into());
    let mut cmd = Command::new("make");
    cmd.arg("--makefile").arg(&makefile);
    cmd.arg(format!("build-{}", req.name));
    cmd.env("ARTIFACTS_DIR", &artifacts);
    cmd.current_dir(&dir);
    run(req, cmd, "install make (e.g. `apt-get install make`)").map(drop)
}
