//! Remembers verdicts by everything that determines them (the snippet's code, its document,
//! its fixtures and markers, the environment, the run's settings), so a re-run over
//! unchanged documents needs no interpreter at all.
//!
//! The snippet's line is deliberately not part of the key: editing the prose above a
//! snippet moves it without changing its verdict. Lines are stored relative to the snippet
//! and moved back on the way out.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use snipcheck_record::{Category, Outcome, Snippet};

/// Bumped when what is stored, or what goes into a key, changes.
const CACHE_VERSION: u32 = 1;

/// Everything besides the code that can change a snippet's verdict.
pub struct KeyParts<'a> {
    pub snippet: &'a Snippet,
    /// Fixture names with their source, in the order they run.
    pub fixtures: &'a [(String, String)],
    /// The snippet's markers, in any stable text form.
    pub markers: &'a str,
    /// The Python environment's fingerprint.
    pub environment: &'a str,
    /// Run settings that change verdicts: time limit, sandbox, isolation.
    pub settings: &'a str,
}

/// The cache key of a snippet.
pub fn key(parts: &KeyParts<'_>) -> String {
    let mut hasher = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    field(&CACHE_VERSION.to_le_bytes());
    field(env!("CARGO_PKG_VERSION").as_bytes());
    field(parts.snippet.path.as_bytes());
    field(parts.snippet.code.as_bytes());
    for (name, source) in parts.fixtures {
        field(name.as_bytes());
        field(source.as_bytes());
    }
    field(parts.markers.as_bytes());
    field(parts.environment.as_bytes());
    field(parts.settings.as_bytes());
    short_hex(hasher)
}

/// The first 16 bytes of a digest, in hex: plenty to tell cache entries apart.
fn short_hex(hasher: Sha256) -> String {
    hasher
        .finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The key of any other answer: what was asked (as JSON) in which environment.
pub fn value_key(question: &serde_json::Value, environment: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(CACHE_VERSION.to_le_bytes());
    hasher.update(environment.as_bytes());
    hasher.update([0]);
    hasher.update(question.to_string().as_bytes());
    short_hex(hasher)
}

/// A verdict stored with its lines relative to the snippet's first line.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    /// The snippet's first line when it ran.
    line: u32,
    outcome: Outcome,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Stored {
    version: u32,
    entries: HashMap<String, Entry>,
    /// Other remembered answers (the resolution of prose references), as their JSON.
    #[serde(default)]
    values: HashMap<String, serde_json::Value>,
}

/// The verdicts of earlier runs, in one file under the cache folder.
pub struct ResultCache {
    path: PathBuf,
    stored: Stored,
    changed: bool,
}

impl ResultCache {
    /// Opens the cache; an unreadable or outdated file is treated as empty (it is only a
    /// cache: the worst outcome is running the snippets again).
    pub fn open(dir: &Path) -> ResultCache {
        let path = dir.join("results.json");
        let stored = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Stored>(&bytes).ok())
            .filter(|s| s.version == CACHE_VERSION)
            .unwrap_or_default();
        ResultCache {
            path,
            stored,
            changed: false,
        }
    }

    /// The verdict remembered for `key`, moved to the snippet's current line.
    pub fn get(&self, key: &str, snippet: &Snippet) -> Option<Outcome> {
        let entry = self.stored.entries.get(key)?;
        Some(move_lines(
            entry.outcome.clone(),
            &snippet.path,
            i64::from(snippet.line) - i64::from(entry.line),
        ))
    }

    /// Remembers a verdict, unless it may not hold next time (a timeout or a crash depends
    /// on the machine's load as much as on the snippet).
    pub fn put(&mut self, key: String, snippet: &Snippet, outcome: &Outcome) {
        if matches!(
            outcome.category,
            Category::Timeout | Category::Crashed | Category::Skipped
        ) {
            return;
        }
        self.stored.entries.insert(
            key,
            Entry {
                line: snippet.line,
                outcome: outcome.clone(),
            },
        );
        self.changed = true;
    }

    /// Another remembered answer, by a key the caller built with [`value_key`].
    pub fn get_value(&self, key: &str) -> Option<&serde_json::Value> {
        self.stored.values.get(key)
    }

    pub fn put_value(&mut self, key: String, value: serde_json::Value) {
        self.stored.values.insert(key, value);
        self.changed = true;
    }

    /// Writes the cache atomically, if anything was added.
    pub fn save(&mut self) -> std::io::Result<()> {
        if !self.changed {
            return Ok(());
        }
        self.stored.version = CACHE_VERSION;
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let mut file = tempfile::NamedTempFile::new_in(dir)?;
        file.write_all(&serde_json::to_vec(&self.stored)?)?;
        file.persist(&self.path).map_err(|e| e.error)?;
        self.changed = false;
        Ok(())
    }
}

/// Shifts every document line in an outcome by `delta`: the error's line and the
/// `File "<path>", line N` entries of its traceback that point into the document.
fn move_lines(mut outcome: Outcome, path: &str, delta: i64) -> Outcome {
    if delta == 0 {
        return outcome;
    }
    let shift = |line: u32| (i64::from(line) + delta).max(1) as u32;
    if let Some(error) = outcome.error.as_mut() {
        error.line = error.line.map(shift);
        if let Some(traceback) = error.traceback.as_mut() {
            *traceback = move_traceback_lines(traceback, path, &shift);
        }
    }
    outcome
}

fn move_traceback_lines(traceback: &str, path: &str, shift: &impl Fn(u32) -> u32) -> String {
    let marker = format!("File \"{path}\", line ");
    let mut out = String::with_capacity(traceback.len());
    let mut rest = traceback;
    while let Some(at) = rest.find(&marker) {
        let (before, after) = rest.split_at(at + marker.len());
        out.push_str(before);
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        match after[..digits].parse::<u32>() {
            Ok(line) => out.push_str(&shift(line).to_string()),
            Err(_) => out.push_str(&after[..digits]),
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use snipcheck_record::SnippetError;

    fn snippet(line: u32, code: &str) -> Snippet {
        Snippet {
            id: "s".into(),
            path: "doc.md".into(),
            line,
            end_line: line + 1,
            code: code.into(),
            section: None,
            ..Snippet::default()
        }
    }

    fn parts<'a>(snippet: &'a Snippet, environment: &'a str) -> KeyParts<'a> {
        KeyParts {
            snippet,
            fixtures: &[],
            markers: "",
            environment,
            settings: "timeout=60",
        }
    }

    fn failure(line: u32) -> Outcome {
        Outcome::failed(
            Category::UndefinedName,
            SnippetError {
                kind: "NameError".into(),
                message: "name 'x' is not defined".into(),
                line: Some(line),
                traceback: Some(format!(
                    "Traceback (most recent call last):\n  File \"doc.md\", line {line}, in <module>\n  File \"other.py\", line 7, in f\n"
                )),
            },
            2.0,
        )
    }

    #[test]
    fn keys_change_with_what_changes_verdicts_and_not_with_lines() {
        let here = snippet(10, "print(x)\n");
        let moved = snippet(40, "print(x)\n");
        let edited = snippet(10, "print(y)\n");
        assert_eq!(key(&parts(&here, "env1")), key(&parts(&moved, "env1")));
        assert_ne!(key(&parts(&here, "env1")), key(&parts(&edited, "env1")));
        assert_ne!(key(&parts(&here, "env1")), key(&parts(&here, "env2")));
        let fixture = [("ml".to_string(), "x = 1\n".to_string())];
        let with_fixture = KeyParts {
            fixtures: &fixture,
            ..parts(&here, "env1")
        };
        assert_ne!(key(&with_fixture), key(&parts(&here, "env1")));
        let changed_fixture = [("ml".to_string(), "x = 2\n".to_string())];
        let with_changed_fixture = KeyParts {
            fixtures: &changed_fixture,
            ..parts(&here, "env1")
        };
        assert_ne!(key(&with_fixture), key(&with_changed_fixture));
    }

    #[test]
    fn a_moved_snippet_gets_its_verdict_at_the_new_lines() {
        let dir = std::env::temp_dir().join(format!("snipcheck-cache-{}", std::process::id()));
        let here = snippet(10, "print(x)\n");
        let mut cache = ResultCache::open(&dir);
        cache.put("k".into(), &here, &failure(11));
        cache.save().unwrap();

        let cache = ResultCache::open(&dir);
        let moved = cache.get("k", &snippet(40, "print(x)\n")).unwrap();
        let error = moved.error.unwrap();
        assert_eq!(error.line, Some(41));
        let traceback = error.traceback.unwrap();
        assert!(traceback.contains("\"doc.md\", line 41,"), "{traceback}");
        assert!(traceback.contains("\"other.py\", line 7,"), "{traceback}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn timeouts_are_not_remembered_and_a_corrupt_file_is_empty() {
        let dir = std::env::temp_dir().join(format!("snipcheck-cache2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("results.json"), "{not json").unwrap();
        let mut cache = ResultCache::open(&dir);
        let here = snippet(1, "while True: pass\n");
        cache.put(
            "t".into(),
            &here,
            &Outcome::failed(
                Category::Timeout,
                SnippetError {
                    kind: "Timeout".into(),
                    message: "stopped".into(),
                    line: None,
                    traceback: None,
                },
                1.0,
            ),
        );
        assert!(cache.get("t", &here).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
