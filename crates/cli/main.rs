//! snipcheck: verifies the Python examples in documentation.
//!
//! This crate parses arguments, puts a run's stages together and maps results to exit
//! codes; the work happens in `snipcheck-extract`, `snipcheck-python`, `snipcheck-baseline`,
//! `snipcheck-cache` and `snipcheck-report`.

mod args;
mod check;
mod config;
mod execute;
mod exit;
mod files;
mod fixtures;
mod gate;
mod inputs;
mod progress;
mod references;
mod watch;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(check_args) => check::run(&check_args),
        Command::Accept(accept_args) => check::accept(&accept_args),
        Command::Watch(check_args) => watch::run(&check_args),
        Command::Config(config_args) => {
            if config_args.schema {
                print!("{}", config::schema());
            } else {
                println!("{}", config::DOCUMENTATION);
            }
            ExitCode::SUCCESS
        }
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
