//! `snipcheck fix`: check, then apply the fixes the record calls for, or show them.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use snipcheck_fix::{plan, unified_diff, write_if_unchanged, Request, Summary};

use crate::args::FixArgs;
use crate::exit;
use crate::progress::Terminal;

pub fn run(args: &FixArgs) -> ExitCode {
    exit::of(fix(args))
}

/// 0 when nothing is left to fix, 1 when fixes remain (unsafe, or no longer in place), 2
/// when a document could not be written.
fn fix(args: &FixArgs) -> Result<u8> {
    let mut terminal = Terminal::new(true, false);
    let run = snipcheck_check::check(&args.options(), &mut terminal)?;
    let request = Request {
        unsafe_fixes: args.unsafe_fixes,
        update_output: args.update_output,
    };
    let fixes = plan(&run.documents, &run.record, request);
    let mut stdout = std::io::stdout().lock();
    let mut summary = Summary {
        dry_run: args.diff,
        ..Summary::default()
    };
    let mut failed = false;
    for document in &fixes {
        for line in document.remaining() {
            eprintln!("{line}");
            summary.remaining += 1;
        }
        summary.unsafe_left += document.unsafe_left(request);
        if !document.changed() {
            continue;
        }
        if args.diff {
            let diff = unified_diff(&document.path, &document.before, &document.after);
            write!(stdout, "{diff}")?;
            summary.applied += document.applied();
            continue;
        }
        let path = Path::new(&document.path);
        match write_if_unchanged(path, &document.before, &document.after) {
            Ok(()) => summary.applied += document.applied(),
            Err(err) => {
                eprintln!("error: {err:#}");
                summary.remaining += document.applied();
                failed = true;
            }
        }
    }
    stdout.flush()?;
    eprintln!("{summary}");
    Ok(if failed {
        exit::INPUT_ERROR
    } else if summary.remaining > 0 {
        exit::FAILURES
    } else {
        exit::SUCCESS
    })
}
