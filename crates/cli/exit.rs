//! Exit codes: part of the contract with CI jobs.

use std::process::ExitCode;

/// Every snippet passed (or was skipped) and no claim in the prose is wrong.
pub const SUCCESS: u8 = 0;
/// Some snippet failed, or an explicit claim in the prose does not resolve.
pub const FAILURES: u8 = 1;
/// Usage, configuration or input error: the check could not be done as asked.
pub const INPUT_ERROR: u8 = 2;

/// Ctrl-C: the run stopped early; what finished was still reported.
pub const INTERRUPTED: u8 = 130;

pub fn code(code: u8) -> ExitCode {
    ExitCode::from(code)
}

/// The exit code of a command that may fail with an input error, which it prints.
pub fn of(result: anyhow::Result<u8>) -> ExitCode {
    code(result.unwrap_or_else(|err| {
        eprintln!("error: {err:#}");
        INPUT_ERROR
    }))
}
