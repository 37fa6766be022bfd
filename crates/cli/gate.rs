//! The committed record of known results as a CI gate: compare a run with it, remember the
//! run, and rewrite the record from it on `snipcheck accept` or `check --update`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use snipcheck_baseline::{Baseline, Scope};
use snipcheck_record::Record;

use crate::config::LoadedConfig;
use crate::files::write_atomically;

/// The record file of a config: `record:` in it, else `snipcheck.record.yaml` beside it.
/// Without a config file there is no record.
pub fn record_file(loaded: &LoadedConfig) -> Option<PathBuf> {
    loaded.path.as_ref()?;
    Some(match &loaded.config.record {
        Some(path) => loaded.resolve(path),
        None => loaded.resolve(Path::new(DEFAULT_RECORD)),
    })
}

pub const DEFAULT_RECORD: &str = "snipcheck.record.yaml";

/// Documents are keyed relative to the config's folder, so the record reads the same
/// whichever folder snipcheck was started in.
pub fn document_key(loaded: &LoadedConfig, path: &str) -> String {
    let path = Path::new(path);
    path.strip_prefix(&loaded.base)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// What a run covered, for comparing and accepting only that.
pub fn scope(
    loaded: &LoadedConfig,
    documents: &[String],
    record: &Record,
    selected: bool,
) -> Scope {
    Scope {
        documents: documents.iter().map(|d| document_key(loaded, d)).collect(),
        snippets: selected.then(|| {
            record
                .snippets
                .iter()
                .map(|s| (document_key(loaded, &s.snippet.path), s.snippet.id.clone()))
                .collect()
        }),
    }
}

/// Compares the run with the record file, when there is one; errors in the file are
/// input errors.
pub fn compare(loaded: &LoadedConfig, record: &mut Record, scope: &Scope) -> Result<()> {
    let Some(file) = record_file(loaded) else {
        return Ok(());
    };
    let Some(baseline) = Baseline::load(&file).map_err(anyhow::Error::msg)? else {
        return Ok(());
    };
    let report = baseline.compare(record, scope, &file.display().to_string(), |path| {
        document_key(loaded, path)
    });
    record.baseline = Some(report);
    Ok(())
}

/// The last run of a config, kept under the cache folder for `snipcheck accept`.
#[derive(Serialize, Deserialize)]
pub struct LastRun {
    record: Record,
    documents: Vec<String>,
    selected: bool,
}

fn last_run_file(cache_dir: &Path, loaded: &LoadedConfig) -> PathBuf {
    let config = loaded
        .path
        .as_ref()
        .and_then(|p| p.canonicalize().ok())
        .unwrap_or_default();
    let name: String = config
        .to_string_lossy()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    cache_dir.join("last-run").join(format!("{name}.json"))
}

pub fn remember_run(
    cache_dir: &Path,
    loaded: &LoadedConfig,
    record: &Record,
    documents: &[String],
    selected: bool,
) -> Result<()> {
    let file = last_run_file(cache_dir, loaded);
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let run = LastRun {
        record: record.clone(),
        documents: documents.to_vec(),
        selected,
    };
    write_atomically(&file, &serde_json::to_string(&run)?)
}

/// Rewrites the record file from the last run of this config; returns the file written.
pub fn accept_last_run(cache_dir: &Path, loaded: &LoadedConfig) -> Result<PathBuf> {
    let file = last_run_file(cache_dir, loaded);
    let text = std::fs::read_to_string(&file).with_context(|| {
        "there is no run to accept yet: run `snipcheck check` first".to_string()
    })?;
    let run: LastRun = serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: unreadable last run; run `snipcheck check` again",
            file.display()
        )
    })?;
    accept(loaded, &run.record, &run.documents, run.selected)
}

/// Writes the run's results into the record file (only the part the run covered).
pub fn accept(
    loaded: &LoadedConfig,
    record: &Record,
    documents: &[String],
    selected: bool,
) -> Result<PathBuf> {
    let file = record_file(loaded).context(
        "there is no config file, so there is no record to write: create snipcheck.yaml first",
    )?;
    let mut baseline = Baseline::load(&file)
        .map_err(anyhow::Error::msg)?
        .unwrap_or_default();
    let scope = scope(loaded, documents, record, selected);
    baseline.accept(record, &scope, |path| document_key(loaded, path));
    write_atomically(&file, &baseline.to_yaml())?;
    Ok(file)
}
