//! `snipcheck watch`: check, then check again whenever a document, the config or anything
//! in the config's folder changes. The result cache makes each re-check run only what an
//! edit touched, and one session keeps the workers warm between checks.

use std::process::ExitCode;
use std::time::Duration;

use snipcheck_check::{watched, Session};
use snipcheck_python::interrupt::interrupted;

use crate::args::CheckArgs;
use crate::check;

/// How often files are looked at: fast enough to feel immediate, cheap for a few files.
const POLL: Duration = Duration::from_millis(300);

pub fn run(args: &CheckArgs) -> ExitCode {
    let options = args.options();
    let mut seen = watched::snapshot(&options);
    let session = Session::new();
    loop {
        if let Err(err) = check::check(args, &session) {
            eprintln!("error: {err:#}");
        }
        eprintln!("snipcheck: watching for changes (Ctrl-C to stop)");
        loop {
            // Ctrl-C, once a check has taken it over: the session's workers end with us.
            if interrupted() {
                return crate::exit::code(crate::exit::INTERRUPTED);
            }
            std::thread::sleep(POLL);
            let now = watched::snapshot(&options);
            if now != seen {
                seen = now;
                break;
            }
        }
        eprintln!("\nsnipcheck: a file changed; checking again");
    }
}
