//! Setup fixtures and per-snippet markers from the config: which snippets run after which
//! fixture, the markers of snippets whose format cannot hold them (plain text), and the
//! hints an `undefined-name` failure gets.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result};

use snipcheck_python::Fixture;
use snipcheck_record::{Diagnostic, Severity, Snippet};

use crate::config::{FixtureConfig, LoadedConfig};
use crate::options::CheckOptions;

/// The fixtures of a run, loaded.
#[derive(Default)]
pub struct Fixtures {
    /// Every fixture the config defines, in name order.
    defined: Vec<Fixture>,
}

/// Applies the config's `snippets:` markers and `fixtures:` to the extracted snippets
/// (`--no-fixtures`: none at all) and loads the fixtures' code. Problems with a marker or
/// an entry become error diagnostics; an unreadable fixture file stops the run. An id no
/// snippet has is an error only when the config's own documents are checked: with paths
/// on the command line the entry may be for a document left out.
pub fn prepare(
    loaded: &LoadedConfig,
    options: &CheckOptions,
    snippets: &mut [Vec<Snippet>],
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Fixtures> {
    let config = &loaded.config;
    let no_fixtures = options.no_fixtures;
    let every_document = options.paths.is_empty();
    let text = loaded
        .path
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    let config_path = loaded
        .path
        .as_ref()
        .map_or_else(|| "snipcheck.yaml".to_string(), |p| p.display().to_string());
    let mut error = |key: &str, message: String| {
        diagnostics.push(Diagnostic {
            path: config_path.clone(),
            line: line_of_key(&text, key),
            severity: Severity::Error,
            message,
        })
    };

    for (id, entry) in &config.snippets {
        let markers = match entry.markers() {
            Ok(markers) => markers,
            Err(message) => {
                error(id, format!("snippets.{id}: {message}"));
                continue;
            }
        };
        let mut found = false;
        for snippet in snippets.iter_mut().flatten().filter(|s| &s.id == id) {
            markers.clone().apply(snippet);
            found = true;
        }
        if !found && every_document {
            error(id, unknown_id("snippets", id, snippets));
        }
    }

    let mut defined = Vec::new();
    for (name, fixture) in &config.fixtures {
        let file = loaded.resolve(&fixture.file);
        let code = std::fs::read_to_string(&file).with_context(|| {
            format!(
                "{config_path}: fixture `{name}`: cannot read {}",
                file.display()
            )
        })?;
        defined.push(Fixture {
            name: name.clone(),
            path: file.display().to_string(),
            code,
        });
        for id in &fixture.snippets {
            if every_document && !snippets.iter().flatten().any(|s| &s.id == id) {
                error(
                    id,
                    unknown_id(&format!("fixtures.{name}.snippets"), id, snippets),
                );
            }
        }
    }

    for snippet in snippets.iter_mut().flatten() {
        if no_fixtures {
            snippet.fixtures.clear();
            continue;
        }
        // Fixtures from the config run first, then those the snippet's markers name.
        let mut names: Vec<String> = config
            .fixtures
            .iter()
            .filter(|(_, fixture)| applies(loaded, fixture, snippet))
            .map(|(name, _)| name.clone())
            .collect();
        for name in std::mem::take(&mut snippet.fixtures) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        for name in names.iter().filter(|n| !config.fixtures.contains_key(*n)) {
            diagnostics.push(Diagnostic {
                path: snippet.path.clone(),
                line: Some(snippet.line),
                severity: Severity::Error,
                message: format!(
                    "the snippet `{}` asks for the fixture `{name}`, which the config does not define ({})",
                    snippet.id,
                    match config.fixtures.keys().map(|k| format!("`{k}`")).collect::<Vec<_>>() {
                        known if known.is_empty() => "it defines no fixtures".to_string(),
                        known => format!("it defines {}", known.join(", ")),
                    }
                ),
            });
        }
        snippet.fixtures = names;
    }
    Ok(Fixtures { defined })
}

impl Fixtures {
    /// Every fixture the config defines.
    pub fn all(&self) -> &[Fixture] {
        &self.defined
    }

    /// The fixtures a document's snippets run with, for its job.
    pub fn for_document(&self, snippets: &[Snippet]) -> Vec<Fixture> {
        let used: BTreeSet<&str> = snippets
            .iter()
            .flat_map(|s| s.fixtures.iter().map(String::as_str))
            .collect();
        self.defined
            .iter()
            .filter(|f| used.contains(f.name.as_str()))
            .cloned()
            .collect()
    }
}

/// Whether a `fixtures:` entry applies to a snippet.
fn applies(loaded: &LoadedConfig, fixture: &FixtureConfig, snippet: &Snippet) -> bool {
    if fixture.snippets.contains(&snippet.id) {
        return true;
    }
    if fixture.documents.is_empty() && fixture.sections.is_empty() {
        return false;
    }
    let in_documents = fixture.documents.is_empty()
        || fixture
            .documents
            .iter()
            .any(|d| same_or_inside(&loaded.resolve(d), Path::new(&snippet.path)));
    let in_sections = fixture.sections.is_empty()
        || snippet
            .section
            .as_deref()
            .is_some_and(|s| fixture.sections.iter().any(|p| section_matches(p, s)));
    in_documents && in_sections
}

/// Whether `path` is `target` or lies inside it, comparing real paths where they exist.
fn same_or_inside(target: &Path, path: &Path) -> bool {
    let real = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    real(path).starts_with(real(target))
}

/// A heading pattern: a glob when it has `*` or `?`, else a substring; case-insensitive.
fn section_matches(pattern: &str, heading: &str) -> bool {
    let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
    let heading: Vec<char> = heading.to_lowercase().chars().collect();
    if !pattern.iter().any(|c| matches!(c, '*' | '?')) {
        return heading
            .windows(pattern.len().max(1))
            .any(|w| w == pattern.as_slice())
            || pattern.is_empty();
    }
    // Iterative glob with backtracking to the last `*`.
    let (mut p, mut h) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while h < heading.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, h));
                p += 1;
            }
            Some(c) if *c == '?' || *c == heading[h] => {
                p += 1;
                h += 1;
            }
            _ => match star {
                Some((sp, sh)) => {
                    p = sp + 1;
                    h = sh + 1;
                    star = Some((sp, sh + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// The message for an id the config names that no snippet has.
fn unknown_id(section: &str, id: &str, snippets: &[Vec<Snippet>]) -> String {
    let ids: BTreeSet<&str> = snippets.iter().flatten().map(|s| s.id.as_str()).collect();
    let close = ids
        .iter()
        .find(|known| known.starts_with(id) || id.starts_with(**known));
    match close {
        Some(known) => format!("{section}: no snippet has the id `{id}`; did you mean `{known}`?"),
        None => format!("{section}: no snippet in the documents checked has the id `{id}`"),
    }
}

/// The line of the config (1-based) where `key` is written: as a mapping key, else the
/// first line that names it as a word (an item of a `[...]` list).
fn line_of_key(text: &str, key: &str) -> Option<u32> {
    let as_key = text.lines().position(|line| {
        let line = line.trim_start().trim_start_matches("- ");
        [
            format!("{key}:"),
            format!("\"{key}\":"),
            format!("'{key}':"),
        ]
        .iter()
        .any(|k| line.starts_with(k.as_str()))
            || line == key
    });
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_');
    let named = || {
        text.lines().position(|line| {
            line.match_indices(key).any(|(at, _)| {
                !word(line[..at].chars().next_back())
                    && !word(line[at + key.len()..].chars().next())
            })
        })
    };
    as_key.or_else(named).map(|i| i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_patterns() {
        assert!(section_matches(
            "evaluate",
            "Q7. How do you EVALUATE a model?"
        ));
        assert!(section_matches(
            "Q7.*model?",
            "Q7. How do you evaluate a model?"
        ));
        assert!(section_matches("*regression*", "Q7. a regression model"));
        assert!(!section_matches("Q8.*", "Q7. a model"));
        assert!(!section_matches("clustering", "Q7. a model"));
        assert!(section_matches("Q?. *", "Q7. a model"));
    }

    #[test]
    fn keys_in_config_text() {
        let text = "snippets:\n  a-b:\n    skip: true\n  \"c\": {xfail: x}\nfixtures:\n  ml:\n    snippets: [d]\n    - e\n";
        assert_eq!(line_of_key(text, "a-b"), Some(2));
        assert_eq!(line_of_key(text, "c"), Some(4));
        assert_eq!(line_of_key(text, "e"), Some(8));
        assert_eq!(line_of_key(text, "d"), Some(7));
        assert_eq!(line_of_key(text, "zz"), None);
    }
}
