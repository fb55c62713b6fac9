//! The `nimbus` binary: parses the command line, starts telemetry, wires the services and maps
//! errors to exit codes. Everything else lives in the library crates.

mod batched;
mod cli;
mod client;
mod commands;
mod config;
mod credentials;
mod deploy;
mod doctor;
mod lanes;
mod serve;
mod telemetry;

// Commands on the resources of a running server, and local ones (runtimes, init).
mod apis;
mod functions;
mod init;
mod item_json;
mod output;
mod runtimes;
mod tables;
mod usage;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

/// mimalloc instead of the system allocator: the request path allocates and frees many small
/// buffers (headers, JSON, items), and glibc's `malloc`/`free` took about a tenth of the CPU of a
/// GetItem under load (docs/BENCHMARKS.md, "Tables").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Credentials(args) => credentials::run(args),
        Command::Doctor(args) => doctor::run(args),
        Command::Functions(args) => functions::run(args),
        Command::Tables(args) => tables::run(args),
        Command::Apis(args) => apis::run(args),
        Command::Usage(args) => usage::run(args),
        Command::Runtimes(args) => runtimes::run(args),
        Command::Init(args) => init::run(args),
        Command::Invoke(args) => commands::invoke(args),
        Command::Logs(args) => commands::logs(args),
        Command::Deploy(args) => deploy::deploy(args),
        Command::Build(args) => deploy::build(args),
        Command::Stacks(args) => deploy::stacks(args),
        Command::DeleteStack(args) => deploy::delete_stack(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
