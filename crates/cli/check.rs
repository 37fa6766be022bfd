//! `snipcheck check` and `snipcheck accept`: run the library's check, write the reports,
//! and turn the outcome into an exit code.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Result;
use snipcheck_check::{write_atomically, Cancel, CheckRun, GateOutcome, Session};
use snipcheck_extract::{Document, Format as DocumentFormat};
use snipcheck_record::Record;
use snipcheck_report::{Format, HumanOptions, Source, SourceFormat};

use crate::args::{AcceptArgs, CacheArgs, CheckArgs, MergeArgs, ReportArgs};
use crate::exit;
use crate::progress::Terminal;

pub fn run(args: &CheckArgs) -> ExitCode {
    let session = Session::new();
    // Nothing after the check needs the workers: they end while the reports are written
    // (a worker that imported numpy takes tens of milliseconds to be torn down).
    exit::of(std::thread::scope(|scope| {
        check_then(args, &session, || {
            scope.spawn(|| session.close());
        })
    }))
}

/// One whole check on `session`'s workers; returns the exit code.
pub fn check(args: &CheckArgs, session: &Session) -> Result<u8> {
    check_then(args, session, || {})
}

/// [`check`], calling `checked` once the check has run, before its reports are written.
fn check_then(args: &CheckArgs, session: &Session, checked: impl FnOnce()) -> Result<u8> {
    let mut options = args.options();
    if options.shard.is_none() {
        options.shard = crate::args::bazel_shard()?;
    }
    let mut terminal = Terminal::new(args.report.quiet, args.report.verbose);
    let run = snipcheck_check::check_in(session, &Cancel::default(), &options, &mut terminal);
    checked();
    report(&args.report, run?)
}

/// `snipcheck merge`: the shards' records as one, gated and reported as `check` would.
pub fn merge(args: &MergeArgs) -> ExitCode {
    exit::of(merged(args))
}

fn merged(args: &MergeArgs) -> Result<u8> {
    let records = args
        .records
        .iter()
        .map(|path| snipcheck_check::read_record(path))
        .collect::<Result<Vec<_>>>()?;
    let run = snipcheck_check::merge(args.config.as_deref(), args.cache_dir.as_deref(), records)?;
    report(&args.report, run)
}

/// Writes a finished run's reports and gives its exit code.
fn report(args: &ReportArgs, run: CheckRun) -> Result<u8> {
    write_reports(args, &run.record, &sources(&run.documents))?;
    Ok(match run.outcome {
        GateOutcome::Passed => exit::SUCCESS,
        GateOutcome::Failed => exit::FAILURES,
        GateOutcome::InputError => exit::INPUT_ERROR,
        GateOutcome::Interrupted => {
            eprintln!("snipcheck: interrupted; the report holds the verdicts that were finished");
            exit::INTERRUPTED
        }
    })
}

/// The documents' text as the run read it, for the reports that show or quote it.
fn sources(documents: &[Document]) -> Vec<Source<'_>> {
    documents
        .iter()
        .map(|document| Source {
            path: &document.path,
            text: &document.text,
            format: match document.format {
                DocumentFormat::Text => SourceFormat::Text,
                DocumentFormat::Markdown => SourceFormat::Markdown,
                DocumentFormat::Html => SourceFormat::Html,
                DocumentFormat::Python => SourceFormat::Python,
                DocumentFormat::Notebook => SourceFormat::Notebook,
                DocumentFormat::Rst => SourceFormat::Rst,
            },
        })
        .collect()
}

fn write_reports(args: &ReportArgs, record: &Record, sources: &[Source]) -> Result<()> {
    let format = Format::from_name(&args.format).unwrap_or(Format::Human);
    let mut human = HumanOptions {
        quiet: args.quiet,
        verbose: args.verbose,
        color: false,
    };
    for extra in &args.output_format {
        let text = snipcheck_report::render(record, sources, extra.format, &human);
        write_atomically(&extra.path, &text)?;
    }
    match &args.output {
        Some(path) => write_atomically(
            path,
            &snipcheck_report::render(record, sources, format, &human),
        ),
        None => {
            human.color = color_stdout();
            let text = snipcheck_report::render(record, sources, format, &human);
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            Ok(stdout.flush()?)
        }
    }
}

/// Colour on a terminal, unless `NO_COLOR` is set to anything but the empty string.
fn color_stdout() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// `snipcheck accept`: the record file takes the results of the last check.
pub fn accept(args: &AcceptArgs) -> ExitCode {
    let file = snipcheck_check::accept(args.config.as_deref(), args.cache_dir.as_deref());
    exit::of(file.map(|file| {
        eprintln!(
            "snipcheck: wrote the last run's results to {}",
            file.display()
        );
        exit::SUCCESS
    }))
}

/// `snipcheck cache [info|clear]`: the result cache's place, entries and size.
pub fn cache(args: &CacheArgs) -> ExitCode {
    let (config, dir) = (args.at.config.as_deref(), args.at.cache_dir.as_deref());
    let clear = args.action == "clear";
    let info = snipcheck_check::cache(config, dir, clear, &mut Terminal::new(false, false));
    exit::of(info.map(|info| print!("{info}")).map(|()| exit::SUCCESS))
}
