//! What a run checks: documents from the command line or the config, narrowed by
//! `--changed-since` and `--select`, read and extracted.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use snipcheck_extract::Document;
use snipcheck_record::{Diagnostic, Severity, ShardInfo, Snippet};
use snipcheck_shard::Shard;

use crate::config::{self, LoadedConfig};
use crate::fixtures::{self, Fixtures};
use crate::gate;
use crate::options::CheckOptions;

/// The documents of a run and the snippets to check in each.
pub struct Inputs {
    pub documents: Vec<Document>,
    /// Per document, in order.
    pub snippets: Vec<Vec<Snippet>>,
    pub diagnostics: Vec<Diagnostic>,
    /// `--select` narrowed the run to single snippets.
    pub selected: bool,
    /// The setup fixtures the snippets name.
    pub fixtures: Fixtures,
    /// Which shard of the whole set of documents this run checks, when it is one.
    pub shard: Option<ShardInfo>,
}

/// Reads and extracts what the arguments and the config ask for.
pub fn collect(options: &CheckOptions, loaded: &LoadedConfig) -> Result<Inputs> {
    let mut paths = inputs(options, loaded)?;
    if let Some(rev) = &options.changed_since {
        paths = changed_documents(&paths, rev, loaded)?;
    }
    let mut diagnostics = Vec::new();
    let documents = load_documents(&paths, &options.texts, &mut diagnostics);
    let mut snippets = Vec::new();
    for document in &documents {
        let extraction = snipcheck_extract::extract(document);
        diagnostics.extend(extraction.diagnostics);
        snippets.push(extraction.snippets);
    }
    // Markers from the config apply before narrowing, so an entry for a snippet left out
    // by --select is still checked against the document.
    let fixtures = fixtures::prepare(loaded, options, &mut snippets, &mut diagnostics)?;
    let selected = !options.select.is_empty();
    if selected {
        select(&mut snippets, &options.select)?;
    }
    let mut inputs = Inputs {
        documents,
        snippets,
        diagnostics,
        selected,
        fixtures,
        shard: None,
    };
    if let Some(shard) = options.shard {
        if selected {
            bail!("--shard and --select cannot be used together: a selection is one run");
        }
        keep_shard(&mut inputs, shard, loaded);
    }
    Ok(inputs)
}

/// Keeps the documents of one shard of the whole set, and records which shard it is. They
/// are split by what every machine of a matrix reads alike: the durations in the committed
/// record, else their number of snippets (see `snipcheck_shard::costs`). Problems with files
/// that could not be read go to shard 1, so that they are reported once.
fn keep_shard(inputs: &mut Inputs, shard: Shard, loaded: &LoadedConfig) {
    let fingerprint = snipcheck_shard::fingerprint(
        inputs
            .documents
            .iter()
            .map(|d| (d.path.as_str(), d.text.as_bytes())),
    );
    let costs = snipcheck_shard::costs(&recorded_durations(loaded, inputs));
    let shard_of = snipcheck_shard::assign(&costs, shard.total);
    let all: Vec<String> = inputs.documents.iter().map(|d| d.path.clone()).collect();
    let mine = |i: usize| shard_of[i] + 1 == shard.index;
    let documents = std::mem::take(&mut inputs.documents);
    let snippets = std::mem::take(&mut inputs.snippets);
    for (i, (document, snippets)) in documents.into_iter().zip(snippets).enumerate() {
        if mine(i) {
            inputs.documents.push(document);
            inputs.snippets.push(snippets);
        }
    }
    inputs
        .diagnostics
        .retain(|d| match all.iter().position(|p| *p == d.path) {
            Some(i) => mine(i),
            None => shard.index == 1,
        });
    inputs.shard = Some(ShardInfo {
        index: shard.index,
        total: shard.total,
        fingerprint,
        documents: all,
    });
}

/// Each snippet's duration in the committed record, per document. Not the result cache's:
/// machines of a matrix have caches of their own (or none), and would split differently. A
/// record that cannot be read counts as none here; the comparison reports it.
fn recorded_durations(loaded: &LoadedConfig, inputs: &Inputs) -> Vec<Vec<Option<u64>>> {
    let baseline = gate::record_file(loaded)
        .and_then(|file| snipcheck_baseline::Baseline::load(&file).ok().flatten());
    inputs
        .documents
        .iter()
        .zip(&inputs.snippets)
        .map(|(document, snippets)| {
            let known = baseline
                .as_ref()
                .and_then(|b| b.snippets.get(&gate::document_key(loaded, &document.path)));
            snippets
                .iter()
                .map(|s| known.and_then(|k| k.get(&s.id)).and_then(|k| k.duration_ms))
                .collect()
        })
        .collect()
}

/// Keeps the snippets named by `--select`: an id, or `PATH:LINE` with the line anywhere in
/// the snippet. Every selector must match something.
fn select(snippets: &mut [Vec<Snippet>], selectors: &[String]) -> Result<()> {
    let mut unmatched: BTreeSet<&str> = selectors.iter().map(String::as_str).collect();
    for document in snippets.iter_mut() {
        document.retain(|snippet| {
            let hits: Vec<&str> = selectors
                .iter()
                .map(String::as_str)
                .filter(|s| selects(s, snippet))
                .collect();
            for hit in &hits {
                unmatched.remove(hit);
            }
            !hits.is_empty()
        });
    }
    if let Some(first) = unmatched.first() {
        bail!("--select {first}: no snippet has this id, or covers this path and line");
    }
    Ok(())
}

fn selects(selector: &str, snippet: &Snippet) -> bool {
    if selector == snippet.id {
        return true;
    }
    let Some((path, line)) = selector.rsplit_once(':') else {
        return false;
    };
    let Ok(line) = line.parse::<u32>() else {
        return false;
    };
    let same_path = Path::new(path) == Path::new(&snippet.path)
        || Path::new(&snippet.path).ends_with(path)
        || Path::new(path).ends_with(&snippet.path);
    same_path && (snippet.line..=snippet.end_line.max(snippet.line)).contains(&line)
}

/// The documents among `paths` (files, or files found in folders) that git sees changed
/// since `rev`, committed or not, or new and untracked. A change to the config itself
/// (or anything it names) may change every verdict: then every document is kept.
fn changed_documents(paths: &[PathBuf], rev: &str, loaded: &LoadedConfig) -> Result<Vec<PathBuf>> {
    let git = |args: &[&str]| -> Result<String> {
        let output = Command::new("git")
            .args(args)
            .output()
            .context("--changed-since needs git, and git could not be run")?;
        if !output.status.success() {
            bail!(
                "--changed-since {rev}: git {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let root = PathBuf::from(git(&["rev-parse", "--show-toplevel"])?.trim());
    let mut changed: BTreeSet<PathBuf> = BTreeSet::new();
    for list in [
        git(&["diff", "--name-only", rev, "--"])?,
        git(&["ls-files", "--others", "--exclude-standard", "--full-name"])?,
    ] {
        changed.extend(list.lines().map(|l| canonical(&root.join(l))));
    }
    let config_changed = loaded
        .path
        .as_ref()
        .is_some_and(|c| changed.contains(&canonical(c)));
    let mut kept = Vec::new();
    for path in paths {
        let files = if path.is_dir() {
            snipcheck_extract::discover(path).unwrap_or_default()
        } else {
            vec![path.clone()]
        };
        kept.extend(
            files
                .into_iter()
                .filter(|f| config_changed || changed.contains(&canonical(f))),
        );
    }
    Ok(kept)
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// What to check: the command-line paths, else the config's documents.
pub fn inputs(options: &CheckOptions, loaded: &LoadedConfig) -> Result<Vec<PathBuf>> {
    if !options.paths.is_empty() {
        return Ok(options.paths.clone());
    }
    if loaded.config.documents.is_empty() {
        anyhow::bail!(match &loaded.path {
            Some(path) => format!(
                "nothing to check: {} lists no documents, and no path was given",
                path.display()
            ),
            None => format!(
                "nothing to check: give documents or folders, or list them in one of {}",
                config::DEFAULT_LOCATIONS.join(", ")
            ),
        });
    }
    Ok(loaded
        .config
        .documents
        .iter()
        .map(|d| loaded.resolve(d))
        .collect())
}

/// Reads every document; a bad one becomes an error diagnostic and the rest go on.
/// Reads the documents named (folders are searched); `texts` replace what a file holds
/// (an editor's unsaved buffer), and may name files not written yet.
pub fn load_documents(
    inputs: &[PathBuf],
    texts: &[(PathBuf, String)],
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Document> {
    let mut documents = Vec::new();
    let mut error = |path: &Path, line: Option<u32>, message: String| {
        diagnostics.push(Diagnostic {
            path: path.display().to_string(),
            line,
            severity: Severity::Error,
            message,
        })
    };
    for input in inputs {
        if let Some((_, text)) = texts.iter().find(|(path, _)| path == input) {
            let display = input.display().to_string();
            match snipcheck_extract::Format::for_path(input) {
                Some(format) => documents.push(Document {
                    path: display,
                    text: text.clone(),
                    format,
                }),
                None => error(input, None, "not a document snipcheck reads".into()),
            }
            continue;
        }
        let files = if input.is_dir() {
            match snipcheck_extract::discover(input) {
                Ok(files) if files.is_empty() => {
                    error(
                        input,
                        None,
                        "no documents found in this folder (looked for Markdown, plain-text, HTML, reST and notebook files)"
                            .into(),
                    );
                    continue;
                }
                Ok(files) => files,
                Err(err) => {
                    error(input, None, format!("cannot read folder: {err}"));
                    continue;
                }
            }
        } else if input.exists() {
            vec![input.clone()]
        } else {
            error(input, None, "no such file or folder".into());
            continue;
        };
        for file in files {
            let display = file.display().to_string();
            match snipcheck_extract::load(&file, &display) {
                Ok(document) => documents.push(document),
                Err(err) => {
                    let line = match &err {
                        snipcheck_extract::LoadError::InvalidUtf8 { line, .. } => Some(*line),
                        _ => None,
                    };
                    // The error text names the file already; keep the message to the reason.
                    let message = err.to_string();
                    let message = message
                        .strip_prefix(&format!("{display}: "))
                        .unwrap_or(&message)
                        .to_string();
                    error(&file, line, message);
                }
            }
        }
    }
    documents
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snippet(id: &str, line: u32, end_line: u32) -> Snippet {
        Snippet {
            id: id.into(),
            path: "docs/guide.md".into(),
            line,
            end_line,
            ..Snippet::default()
        }
    }

    #[test]
    fn selectors_match_ids_and_lines_inside_snippets() {
        let s = snippet("fit-model", 10, 12);
        assert!(selects("fit-model", &s));
        assert!(selects("docs/guide.md:11", &s));
        assert!(selects("guide.md:12", &s));
        assert!(!selects("docs/guide.md:13", &s));
        assert!(!selects("other.md:11", &s));
        assert!(!selects("fit", &s));
    }

    #[test]
    fn a_selector_that_matches_nothing_is_an_error() {
        let mut snippets = vec![vec![snippet("a", 1, 2), snippet("b", 5, 6)]];
        select(&mut snippets, &["b".into()]).unwrap();
        assert_eq!(snippets[0].len(), 1);
        let err = select(&mut snippets, &["nope".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("--select nope"), "{err}");
    }
}
