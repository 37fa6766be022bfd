//! snipcheck: verifies the Python examples in documentation.
//!
//! This crate parses arguments, writes what a check produced and maps its outcome to exit
//! codes; the check itself is `snipcheck-check`, the reports `snipcheck-report`.

mod args;
mod check;
mod exit;
mod fix;
mod progress;
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
        Command::Fix(fix_args) => fix::run(&fix_args),
        Command::Merge(merge_args) => check::merge(&merge_args),
        Command::Cache(cache_args) => check::cache(&cache_args),
        Command::Lsp(lsp_args) => {
            let options = snipcheck_check::CheckOptions {
                config: lsp_args.config,
                cache_dir: lsp_args.cache_dir,
                ..Default::default()
            };
            ExitCode::from(snipcheck_lsp::serve(options) as u8)
        }
        Command::Config(config_args) => {
            if config_args.schema {
                print!("{}", snipcheck_check::config::schema());
            } else {
                println!("{}", snipcheck_check::config::DOCUMENTATION);
            }
            ExitCode::SUCCESS
        }
    }
}
