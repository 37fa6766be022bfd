//! `snipcheck fix`: check, then apply the fixes the record calls for, or show them.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use snipcheck_extract::Format as DocumentFormat;
use snipcheck_fix::{plan, unified_diff, write_if_unchanged};

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
    let documents = run.documents.iter().map(|document| {
        // Notebook cells are JSON strings and HTML text is decoded: their claims' columns
        // are not positions in the file's text.
        let positions_are_text = !matches!(
            document.format,
            DocumentFormat::Notebook | DocumentFormat::Html
        );
        (
            document.path.as_str(),
            document.text.as_str(),
            positions_are_text,
        )
    });
    let fixes = plan(documents, &run.record.references, args.unsafe_fixes);
    let mut stdout = std::io::stdout().lock();
    let (mut applied, mut remaining, mut unsafe_left, mut failed) = (0, 0, 0, false);
    for document in &fixes {
        for skipped in &document.applied.skipped {
            remaining += 1;
            if !skipped.fix.is_safe() && !args.unsafe_fixes {
                unsafe_left += 1;
            }
            eprintln!(
                "{}:{}:{}: `{}` -> `{}` not applied: {}",
                document.path,
                skipped.fix.line,
                skipped.fix.column,
                skipped.fix.written,
                skipped.fix.replacement,
                skipped.why
            );
        }
        if !document.changed() {
            continue;
        }
        if args.diff {
            write!(
                stdout,
                "{}",
                unified_diff(&document.path, &document.before, &document.applied.text)
            )?;
            applied += document.applied.applied.len();
            continue;
        }
        match write_if_unchanged(
            Path::new(&document.path),
            &document.before,
            &document.applied.text,
        ) {
            Ok(()) => applied += document.applied.applied.len(),
            Err(err) => {
                eprintln!("error: {err:#}");
                remaining += document.applied.applied.len();
                failed = true;
            }
        }
    }
    stdout.flush()?;
    let verb = if args.diff {
        "would be applied"
    } else {
        "applied"
    };
    let mut summary = format!(
        "snipcheck: {applied} fix{} {verb}, {remaining} remaining",
        if applied == 1 { "" } else { "es" }
    );
    if unsafe_left > 0 {
        summary.push_str(&format!(
            " ({unsafe_left} unsafe: --unsafe-fixes applies {})",
            if unsafe_left == 1 { "it" } else { "them" }
        ));
    }
    eprintln!("{summary}");
    Ok(if failed {
        exit::INPUT_ERROR
    } else if remaining > 0 {
        exit::FAILURES
    } else {
        exit::SUCCESS
    })
}
