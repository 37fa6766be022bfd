//! `snipcheck check` and `snipcheck accept`: find the documents, run, compare with the
//! committed record, report.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Result;
use snipcheck_record::Record;
use snipcheck_report::{Format, HumanOptions};

use crate::args::{AcceptArgs, CheckArgs};
use crate::config;
use crate::execute::{cache_dir, execute};
use crate::exit;
use crate::files::write_atomically;
use crate::gate;
use crate::inputs;
use crate::references;

pub fn run(args: &CheckArgs) -> ExitCode {
    exit::code(check(args).unwrap_or_else(|err| {
        eprintln!("error: {err:#}");
        exit::INPUT_ERROR
    }))
}

/// One whole check; returns the exit code.
pub fn check(args: &CheckArgs) -> Result<u8> {
    let loaded = config::load(args.config.as_deref()).map_err(anyhow::Error::msg)?;
    let inputs = inputs::collect(args, &loaded)?;
    let (found, queries) = references::extract(
        &inputs.documents,
        &inputs.snippets,
        &loaded.config.references,
    );
    let documents: Vec<String> = inputs.documents.iter().map(|d| d.path.clone()).collect();
    let mut execution = execute(args, &loaded, inputs.snippets, &inputs.fixtures, &queries)?;
    inputs.fixtures.suggest(&mut execution.records);
    if execution.cached > 0 && (args.verbose || std::io::stderr().is_terminal() && !args.quiet) {
        eprintln!(
            "snipcheck: {} verdict{} from the result cache, {} snippet{} run",
            execution.cached,
            if execution.cached == 1 { "" } else { "s" },
            execution.ran,
            if execution.ran == 1 { "" } else { "s" }
        );
    }
    let references = references::records(
        found,
        &execution.answers,
        &loaded.config.references,
        &execution.records,
    );

    let mut record = Record::new(
        documents.len() as u32,
        execution.python,
        execution.records,
        references,
        inputs.diagnostics,
    );
    record.sandbox = execution.sandbox;
    let scope = gate::scope(&loaded, &documents, &record, inputs.selected);
    gate::compare(&loaded, &mut record, &scope)?;
    if !execution.interrupted {
        let cache = cache_dir(args, &loaded);
        if let Err(err) = gate::remember_run(&cache, &loaded, &record, &documents, inputs.selected)
        {
            eprintln!("snipcheck: warning: cannot remember this run for `accept`: {err:#}");
        }
        if args.update {
            let file = gate::accept(&loaded, &record, &documents, inputs.selected)?;
            eprintln!("snipcheck: wrote the results to {}", file.display());
            // The record now matches the run: nothing differs any more.
            gate::compare(&loaded, &mut record, &scope)?;
        }
    }
    write_reports(args, &record)?;

    if execution.interrupted {
        eprintln!("snipcheck: interrupted; the report holds the verdicts that were finished");
        return Ok(exit::INTERRUPTED);
    }
    Ok(exit_code(&record))
}

/// 2 for input errors; with a committed record, 1 only for differences that matter;
/// without one, 1 for any failure or wrong claim.
fn exit_code(record: &Record) -> u8 {
    let failed = match &record.baseline {
        Some(baseline) => baseline.fails_check(),
        None => record.summary.failed > 0 || record.has_reference_errors(),
    };
    if record.summary.errors > 0 {
        exit::INPUT_ERROR
    } else if failed {
        exit::FAILURES
    } else {
        exit::SUCCESS
    }
}

fn write_reports(args: &CheckArgs, record: &Record) -> Result<()> {
    let format = Format::from_name(&args.format).unwrap_or(Format::Human);
    let mut human = HumanOptions {
        quiet: args.quiet,
        verbose: args.verbose,
        color: false,
    };
    for extra in &args.output_format {
        let text = snipcheck_report::render(record, extra.format, &human);
        write_atomically(&extra.path, &text)?;
    }
    match &args.output {
        Some(path) => write_atomically(path, &snipcheck_report::render(record, format, &human)),
        None => {
            human.color = color_stdout();
            let text = snipcheck_report::render(record, format, &human);
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
    let result = config::load(args.config.as_deref())
        .map_err(anyhow::Error::msg)
        .and_then(|loaded| {
            let cache = crate::execute::cache_dir_for(args.cache_dir.as_deref(), &loaded);
            gate::accept_last_run(&cache, &loaded)
        });
    match result {
        Ok(file) => {
            eprintln!(
                "snipcheck: wrote the last run's results to {}",
                file.display()
            );
            exit::code(exit::SUCCESS)
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            exit::code(exit::INPUT_ERROR)
        }
    }
}
