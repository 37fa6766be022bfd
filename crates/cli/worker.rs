//! snipcheck-worker: the process that embeds CPython and runs snippets for `snipcheck`.
//!
//! It links no libpython (see build.rs): the main process starts it with the environment's
//! libpython preloaded, so this one binary serves every CPython 3.9-3.13. Users never run it.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(snipcheck_python::worker::serve_from_command_line() as u8)
}
