//! The committed record of known results as a CI gate: compare a run with it, remember the
//! run, and rewrite the record from it on `snipcheck accept` or `check --update`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use snipcheck_baseline::{Baseline, Scope};
use snipcheck_record::Record;

use crate::config::LoadedConfig;
use crate::files::{file_already_holds, write_atomically, write_atomically_with};

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

/// How the run stands against the committed record (or, without one, on its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateOutcome {
    /// Every snippet passed (or was skipped, or fails as recorded) and no claim is wrong.
    Passed,
    /// A snippet failed or a claim in the prose is wrong (that the record does not expect).
    Failed,
    /// Input errors: the check could not be done as asked.
    InputError,
    /// Interrupted: the record holds the verdicts that were finished.
    Interrupted,
}

/// The outcome of a finished run: input errors first; with a committed record, a failure
/// only for differences that matter; without one, for any failure or wrong claim.
pub fn outcome(record: &Record) -> GateOutcome {
    let failed = match &record.baseline {
        Some(baseline) => baseline.fails_check(),
        None => record.summary.failed > 0 || record.has_reference_errors(),
    };
    if record.summary.errors > 0 {
        GateOutcome::InputError
    } else if failed {
        GateOutcome::Failed
    } else {
        GateOutcome::Passed
    }
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
    // Written as a `LastRun`, from the caller's record: a large run's record is neither
    // copied nor held as text.
    #[derive(Serialize)]
    struct Borrowed<'a> {
        record: &'a Record,
        documents: &'a [String],
        selected: bool,
    }
    let run = Borrowed {
        record,
        documents,
        selected,
    };
    let write = |out: &mut dyn std::io::Write| {
        serde_json::to_writer(out, &run).map_err(std::io::Error::other)
    };
    // A warm re-run of unchanged documents remembers what is there already: replacing a
    // file by a rename can wait for the disk, which costs more than the whole run.
    if file_already_holds(&file, write) {
        return Ok(());
    }
    write_atomically_with(&file, write)
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

#[cfg(test)]
mod tests {
    use snipcheck_record::{
        Category, Diagnostic, Outcome, Severity, Snippet, SnippetError, SnippetRecord,
    };

    use super::*;
    use crate::config;

    fn snippet(path: &Path, id: &str, failed: bool) -> SnippetRecord {
        let outcome = if failed {
            let error = SnippetError {
                kind: "NameError".into(),
                message: "name 'x' is not defined".into(),
                line: Some(2),
                traceback: None,
            };
            Outcome::failed(Category::UndefinedName, error, 1.0)
        } else {
            Outcome::clean(Category::Passed, 1.0)
        };
        SnippetRecord {
            snippet: Snippet {
                id: id.into(),
                path: path.display().to_string(),
                line: 1,
                end_line: 3,
                code: format!("{id}()\n"),
                ..Snippet::default()
            },
            outcome,
        }
    }

    fn record(snippets: Vec<SnippetRecord>) -> Record {
        Record::new(1, None, snippets, Vec::new(), Vec::new())
    }

    /// A config folder with `snipcheck.yaml` in it, loaded, and its guide's path.
    fn project() -> (tempfile::TempDir, LoadedConfig, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let config_file = dir.path().join("snipcheck.yaml");
        std::fs::write(&config_file, "documents: [guide.md]\n").unwrap();
        let loaded = config::load(Some(&config_file)).unwrap();
        let guide = dir.path().join("guide.md");
        (dir, loaded, guide)
    }

    #[test]
    fn without_a_record_any_failure_fails_and_input_errors_come_first() {
        assert_eq!(outcome(&record(vec![])), GateOutcome::Passed);
        let guide = Path::new("guide.md");
        let failing = record(vec![snippet(guide, "a", true)]);
        assert_eq!(outcome(&failing), GateOutcome::Failed);
        let diagnostic = Diagnostic {
            path: "guide.md".into(),
            line: Some(4),
            severity: Severity::Error,
            message: "unterminated fence".into(),
        };
        let broken = Record::new(1, None, vec![], vec![], vec![diagnostic]);
        assert_eq!(outcome(&broken), GateOutcome::InputError);
    }

    #[test]
    fn the_record_file_sits_beside_the_config_unless_named() {
        let (dir, mut loaded, _) = project();
        assert_eq!(record_file(&loaded), Some(dir.path().join(DEFAULT_RECORD)));
        loaded.config.record = Some(PathBuf::from("ci/known.yaml"));
        assert_eq!(record_file(&loaded), Some(dir.path().join("ci/known.yaml")));
        assert_eq!(record_file(&LoadedConfig::default()), None);
        let guide = dir.path().join("docs").join("guide.md");
        assert_eq!(
            document_key(&loaded, &guide.display().to_string()),
            "docs/guide.md"
        );
    }

    #[test]
    fn an_accepted_failure_passes_and_a_new_one_fails() {
        let (_dir, loaded, guide) = project();
        let documents = vec![guide.display().to_string()];
        let known = record(vec![
            snippet(&guide, "a", true),
            snippet(&guide, "b", false),
        ]);
        let written = accept(&loaded, &known, &documents, false).unwrap();
        assert_eq!(record_file(&loaded), Some(written));

        let mut again = known.clone();
        let covered = scope(&loaded, &documents, &again, false);
        compare(&loaded, &mut again, &covered).unwrap();
        assert!(again.baseline.is_some());
        assert_eq!(outcome(&again), GateOutcome::Passed);

        let mut worse = record(vec![snippet(&guide, "a", true), snippet(&guide, "b", true)]);
        let covered = scope(&loaded, &documents, &worse, false);
        compare(&loaded, &mut worse, &covered).unwrap();
        assert_eq!(outcome(&worse), GateOutcome::Failed);
    }

    #[test]
    fn accept_takes_the_remembered_run() {
        let (dir, loaded, guide) = project();
        let cache = dir.path().join("cache");
        let err = accept_last_run(&cache, &loaded).unwrap_err().to_string();
        assert!(err.contains("no run to accept"), "{err}");

        let documents = vec![guide.display().to_string()];
        let run = record(vec![snippet(&guide, "a", true)]);
        remember_run(&cache, &loaded, &run, &documents, false).unwrap();
        let file = accept_last_run(&cache, &loaded).unwrap();
        let mut same = run.clone();
        let covered = scope(&loaded, &documents, &same, false);
        compare(&loaded, &mut same, &covered).unwrap();
        assert_eq!(outcome(&same), GateOutcome::Passed);
        assert!(std::fs::read_to_string(file).unwrap().contains("guide.md"));
    }

    #[test]
    fn the_remembered_run_is_the_run_as_written_whole() {
        let (dir, loaded, guide) = project();
        let cache = dir.path().join("cache");
        let documents = vec![guide.display().to_string()];
        let run = record(vec![
            snippet(&guide, "a", true),
            snippet(&guide, "b", false),
        ]);
        remember_run(&cache, &loaded, &run, &documents, true).unwrap();
        let whole = LastRun {
            record: run,
            documents,
            selected: true,
        };
        let written = std::fs::read_to_string(last_run_file(&cache, &loaded)).unwrap();
        assert_eq!(written, serde_json::to_string(&whole).unwrap());
    }

    #[test]
    fn a_selected_run_scopes_to_its_snippets() {
        let (_dir, loaded, guide) = project();
        let documents = vec![guide.display().to_string()];
        let run = record(vec![snippet(&guide, "a", false)]);
        let everything = scope(&loaded, &documents, &run, false);
        assert_eq!(
            everything.documents.into_iter().collect::<Vec<_>>(),
            vec!["guide.md".to_string()]
        );
        assert!(everything.snippets.is_none());
        let selected = scope(&loaded, &documents, &run, true);
        let snippets: Vec<_> = selected.snippets.unwrap().into_iter().collect();
        assert_eq!(snippets, vec![("guide.md".to_string(), "a".to_string())]);
    }
}
