//! snipcheck: verifies the Python examples in documentation.
//!
//! This crate only parses arguments and maps results to exit codes; the work happens in
//! `snipcheck-extract`, `snipcheck-python` and `snipcheck-report`.

mod args;
mod check;
mod config;
mod exit;
mod fixtures;
mod progress;
mod references;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(check_args) => check::run(&check_args),
        Command::Worker(worker) => {
            let code = snipcheck_python::worker::main(
                &worker.python_env,
                &worker.warmup,
                worker.sandbox.as_deref(),
            );
            ExitCode::from(code as u8)
        }
    }
}
