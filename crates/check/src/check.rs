//! One whole check: find the documents, run them, compare with the committed record; and
//! `accept`, which writes the last run into that record.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use snipcheck_python::{Cancel, Session};
use snipcheck_record::Record;

use crate::config;
use crate::execute::execute;
use crate::gate::{self, GateOutcome};
use crate::inputs;
use crate::observer::Observer;
use crate::options::CheckOptions;
use crate::references;
use crate::suggest;

/// What a check found.
pub struct CheckRun {
    /// Every verdict and claim, with the comparison against the committed record when there
    /// is one (`record.baseline`).
    pub record: Record,
    pub outcome: GateOutcome,
    /// The documents as the run read them (the reports quote and show their text).
    pub documents: Vec<snipcheck_extract::Document>,
}

/// A check cancelled by its caller before it ended (the error [`check_in`] returns then).
#[derive(Debug)]
pub struct Cancelled;

impl std::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the check was cancelled")
    }
}

impl std::error::Error for Cancelled {}

/// Checks what `options` ask for; `observer` hears the progress. Its workers end with it.
pub fn check(options: &CheckOptions, observer: &mut dyn Observer) -> Result<CheckRun> {
    check_in(&Session::new(), &Cancel::default(), options, observer)
}

/// [`check`] on the workers `session` keeps warm from earlier checks (and keeps for later
/// ones), with the same verdicts as a fresh check. After `cancel`, it ends early with
/// [`Cancelled`] and remembers nothing of the run.
pub fn check_in(
    session: &Session,
    cancel: &Cancel,
    options: &CheckOptions,
    observer: &mut dyn Observer,
) -> Result<CheckRun> {
    if options.shard.is_some() && options.update {
        bail!(
            "--update cannot take one shard's results: merge the shards' records with \
             `snipcheck merge`, then run `snipcheck accept`"
        );
    }
    let loaded = config::load(options.config.as_deref()).map_err(anyhow::Error::msg)?;
    let inputs = inputs::collect(options, &loaded)?;
    let (found, queries) = references::extract(
        &inputs.documents,
        &inputs.snippets,
        &loaded.config.references,
    );
    let documents: Vec<String> = inputs.documents.iter().map(|d| d.path.clone()).collect();
    let mut execution = execute(
        (session, cancel),
        options,
        &loaded,
        inputs.snippets,
        &inputs.fixtures,
        &queries,
        observer,
    )?;
    suggest::definitions(&mut execution.results, inputs.fixtures.all());
    if execution.cached > 0 {
        observer.cached(execution.cached, execution.ran);
    }
    let references = references::records(
        found,
        &execution.answers,
        &loaded.config.references,
        &execution.results,
    );
    let mut snippets: Vec<_> = execution
        .results
        .into_iter()
        .map(|result| result.into_record())
        .collect();
    let mut diagnostics = inputs.diagnostics;
    diagnostics.extend(snipcheck_python::skips::diagnose(&mut snippets));

    let mut record = Record::new(
        documents.len() as u32,
        execution.python,
        snippets,
        references,
        diagnostics,
    );
    record.sandbox = execution.sandbox;
    record.shard = inputs.shard;
    let scope = gate::scope(&loaded, &documents, &record, inputs.selected);
    gate::compare(&loaded, &mut record, &scope)?;
    // One shard's run is not the whole run `accept` takes: `merge` remembers that one.
    if !execution.interrupted && record.shard.is_none() {
        let cache = loaded.cache_dir(options.cache_dir.as_deref());
        if let Err(err) = gate::remember_run(&cache, &loaded, &record, &documents, inputs.selected)
        {
            observer.warning(&format!("cannot remember this run for `accept`: {err:#}"));
        }
        if options.update {
            let file = gate::accept(&loaded, &record, &documents, inputs.selected)?;
            observer.wrote_record(&file);
            // The record now matches the run: nothing differs any more.
            gate::compare(&loaded, &mut record, &scope)?;
        }
    }
    let outcome = if execution.interrupted {
        GateOutcome::Interrupted
    } else {
        gate::outcome(&record)
    };
    Ok(CheckRun {
        record,
        outcome,
        documents: inputs.documents,
    })
}

/// `merge`: the records of every shard of a sharded run become the record of the whole run,
/// compared with the committed record and remembered for `accept`, as `check` would.
pub fn merge(
    config: Option<&Path>,
    cache_dir: Option<&Path>,
    records: Vec<Record>,
) -> Result<CheckRun> {
    let loaded = config::load(config).map_err(anyhow::Error::msg)?;
    let documents = records
        .first()
        .and_then(|r| r.shard.as_ref())
        .map(|shard| shard.documents.clone())
        .unwrap_or_default();
    let mut record = snipcheck_shard::merge(records)?;
    let scope = gate::scope(&loaded, &documents, &record, false);
    gate::compare(&loaded, &mut record, &scope)?;
    let cache = loaded.cache_dir(cache_dir);
    gate::remember_run(&cache, &loaded, &record, &documents, false)?;
    let paths: Vec<PathBuf> = documents.iter().map(PathBuf::from).collect();
    let documents = inputs::load_documents(&paths, &[], &mut Vec::new());
    Ok(CheckRun {
        outcome: gate::outcome(&record),
        record,
        documents,
    })
}

/// `accept`: the record file of `config` takes the results of its last check; returns the
/// file written.
pub fn accept(config: Option<&Path>, cache_dir: Option<&Path>) -> Result<PathBuf> {
    let loaded = config::load(config).map_err(anyhow::Error::msg)?;
    gate::accept_last_run(&loaded.cache_dir(cache_dir), &loaded)
}

/// `cache`: where the result cache of `config` is, how many entries it holds and its size;
/// with `clear`, after emptying it. Warnings about the file go to `observer`.
pub fn cache(
    config: Option<&Path>,
    cache_dir: Option<&Path>,
    clear: bool,
    observer: &mut dyn Observer,
) -> Result<snipcheck_cache::CacheInfo> {
    let loaded = config::load(config).map_err(anyhow::Error::msg)?;
    let dir = loaded.cache_dir(cache_dir);
    let mut warnings = Vec::new();
    let info = snipcheck_cache::ResultCache::inspect(
        &dir,
        loaded.config.cache.eviction(),
        clear,
        &mut warnings,
    );
    for warning in &warnings {
        observer.warning(warning);
    }
    info.with_context(|| format!("cannot read the result cache in {}", dir.display()))
}
