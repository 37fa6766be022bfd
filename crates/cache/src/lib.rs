//! Remembers verdicts by everything that determines them, so a re-run over unchanged
//! documents needs no interpreter at all. A snippet's key hashes:
//!
//! - the snippet as extracted, except where it stands (its id, lines and section): its
//!   document, code, kind and markers, and any field it gains later;
//! - the name and code of each fixture it runs with, in order;
//! - for a docstring's examples, the whole source of their module (doctest runs them against
//!   it, and decides from it whether they run);
//! - the Python environment's fingerprint and the run's settings (given at [`ResultCache::open`]).
//!
//! Editing the prose above a snippet moves it without changing its verdict: lines are
//! stored relative to the snippet and moved back on the way out. Other answers (the
//! resolution of a name in the prose) are kept by their question and the environment.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use snipcheck_record::{Category, Outcome, Snippet, Verdict};

/// Bumped when what is stored, or what goes into a key, changes.
const CACHE_VERSION: u32 = 3;

/// The fields of a snippet that say where it stands, not what it is.
const POSITION: [&str; 4] = ["id", "line", "end_line", "section"];

/// Hashes length-prefixed fields, so no two different field lists hash alike.
struct Hasher(Sha256);

impl Hasher {
    fn new() -> Self {
        let mut hasher = Hasher(Sha256::new());
        hasher.field(&CACHE_VERSION.to_le_bytes());
        hasher.field(env!("CARGO_PKG_VERSION").as_bytes());
        hasher
    }

    fn field(&mut self, bytes: &[u8]) {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    /// The first 16 bytes of the digest, in hex: plenty to tell cache entries apart.
    fn finish(self) -> String {
        self.0
            .finalize()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// A verdict stored with its lines relative to the snippet's first line.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    /// The snippet's first line when it ran.
    line: u32,
    verdict: Verdict,
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
    environment: String,
    settings: String,
}

impl ResultCache {
    /// Opens the cache for a run in `environment` (its fingerprint) with `settings` (the
    /// run settings that change verdicts: time limit, sandbox, isolation, in any stable
    /// text form). An unreadable or outdated file is treated as empty (it is only a cache:
    /// the worst outcome is running the snippets again).
    pub fn open(dir: &Path, environment: &str, settings: &str) -> ResultCache {
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
            environment: environment.to_string(),
            settings: settings.to_string(),
        }
    }

    /// The key of a snippet that runs after `fixtures` (name and code each), as the
    /// module's documentation lists it.
    fn snippet_key(&self, snippet: &Snippet, fixtures: &[(String, String)]) -> String {
        let mut described = serde_json::to_value(snippet).unwrap_or_default();
        if let Some(fields) = described.as_object_mut() {
            for moving in POSITION {
                fields.remove(moving);
            }
        }
        let mut hasher = Hasher::new();
        hasher.field(described.to_string().as_bytes());
        if let Some(module) = &snippet.module {
            // Editing the code beside a docstring must run its examples again.
            hasher.field(&std::fs::read(module).unwrap_or_default());
        }
        for (name, code) in fixtures {
            hasher.field(name.as_bytes());
            hasher.field(code.as_bytes());
        }
        hasher.field(self.environment.as_bytes());
        hasher.field(self.settings.as_bytes());
        hasher.finish()
    }

    /// The key of another answer: the question (as JSON) in this environment.
    fn answer_key(&self, question: &impl Serialize) -> String {
        let mut hasher = Hasher::new();
        hasher.field(b"answer");
        hasher.field(self.environment.as_bytes());
        hasher.field(
            serde_json::to_string(question)
                .unwrap_or_default()
                .as_bytes(),
        );
        hasher.finish()
    }

    /// The verdict remembered for `snippet` after `fixtures`, moved to its current line.
    pub fn verdict(&self, snippet: &Snippet, fixtures: &[(String, String)]) -> Option<Verdict> {
        let entry = self
            .stored
            .entries
            .get(&self.snippet_key(snippet, fixtures))?;
        Some(Verdict {
            outcome: move_lines(
                entry.verdict.outcome.clone(),
                &snippet.path,
                i64::from(snippet.line) - i64::from(entry.line),
            ),
            missing: entry.verdict.missing.clone(),
        })
    }

    /// Remembers a verdict, unless it may not hold next time (a timeout or a crash depends
    /// on the machine's load as much as on the snippet).
    pub fn remember(
        &mut self,
        snippet: &Snippet,
        fixtures: &[(String, String)],
        verdict: &Verdict,
    ) {
        if matches!(
            verdict.outcome.category,
            Category::Timeout | Category::Crashed | Category::Skipped
        ) {
            return;
        }
        let key = self.snippet_key(snippet, fixtures);
        self.stored.entries.insert(
            key,
            Entry {
                line: snippet.line,
                verdict: verdict.clone(),
            },
        );
        self.changed = true;
    }

    /// The answer remembered for `question`; `None` also when it no longer reads as `T`.
    pub fn answer<T: DeserializeOwned>(&self, question: &impl Serialize) -> Option<T> {
        let value = self.stored.values.get(&self.answer_key(question))?;
        serde_json::from_value(value.clone()).ok()
    }

    pub fn remember_answer(&mut self, question: &impl Serialize, answer: &impl Serialize) {
        if let Ok(value) = serde_json::to_value(answer) {
            let key = self.answer_key(question);
            self.stored.values.insert(key, value);
            self.changed = true;
        }
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

/// Shifts every document line in an outcome by `delta`: the error's line, the
/// `File "<path>", line N` entries of its traceback that point into the document, and
/// where its mismatching expected outputs are.
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
    for mismatch in &mut outcome.mismatches {
        mismatch.line = shift(mismatch.line);
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
    use snipcheck_record::{OutputMismatch, SnippetError};

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

    fn cache(dir: &Path, environment: &str) -> ResultCache {
        ResultCache::open(dir, environment, "timeout=60")
    }

    fn failure(line: u32) -> Outcome {
        let mut outcome = Outcome::failed(
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
        );
        outcome.mismatches.push(OutputMismatch {
            line: line + 1,
            want: "1\n".into(),
            got: "2\n".into(),
            options: Vec::new(),
            exception: false,
            truncated: false,
        });
        outcome
    }

    #[test]
    fn keys_change_with_what_changes_verdicts_and_not_with_lines() {
        let dir = Path::new("/nonexistent");
        let (env1, env2) = (cache(dir, "env1"), cache(dir, "env2"));
        let here = snippet(10, "print(x)\n");
        let mut moved = snippet(40, "print(x)\n");
        moved.id = "renamed".into();
        moved.section = Some("Elsewhere".into());
        let edited = snippet(10, "print(y)\n");
        assert_eq!(env1.snippet_key(&here, &[]), env1.snippet_key(&moved, &[]));
        assert_ne!(env1.snippet_key(&here, &[]), env1.snippet_key(&edited, &[]));
        assert_ne!(env1.snippet_key(&here, &[]), env2.snippet_key(&here, &[]));
        let slower = ResultCache::open(dir, "env1", "timeout=90");
        assert_ne!(env1.snippet_key(&here, &[]), slower.snippet_key(&here, &[]));
        let mut marked = here.clone();
        marked.session = Some("s".into());
        assert_ne!(env1.snippet_key(&here, &[]), env1.snippet_key(&marked, &[]));
        let fixture = [("ml".to_string(), "x = 1\n".to_string())];
        assert_ne!(
            env1.snippet_key(&here, &fixture),
            env1.snippet_key(&here, &[])
        );
        let changed_fixture = [("ml".to_string(), "x = 2\n".to_string())];
        assert_ne!(
            env1.snippet_key(&here, &fixture),
            env1.snippet_key(&here, &changed_fixture)
        );
    }

    #[test]
    fn answers_are_typed_and_kept_by_question_and_environment() {
        let dir = std::env::temp_dir().join(format!("snipcheck-cache3-{}", std::process::id()));
        let mut store = cache(&dir, "env1");
        store.remember_answer(&"json.loads", &vec!["json.load".to_string()]);
        store.save().unwrap();
        let again = cache(&dir, "env1");
        assert_eq!(
            again.answer::<Vec<String>>(&"json.loads"),
            Some(vec!["json.load".to_string()])
        );
        assert_eq!(again.answer::<u32>(&"json.loads"), None);
        assert_eq!(
            cache(&dir, "env2").answer::<Vec<String>>(&"json.loads"),
            None
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_moved_snippet_gets_its_verdict_at_the_new_lines() {
        let dir = std::env::temp_dir().join(format!("snipcheck-cache-{}", std::process::id()));
        let here = snippet(10, "print(x)\n");
        let mut store = cache(&dir, "env1");
        store.remember(&here, &[], &failure(11).into());
        store.save().unwrap();

        let store = cache(&dir, "env1");
        let moved = store.verdict(&snippet(40, "print(x)\n"), &[]).unwrap();
        assert_eq!(moved.outcome.mismatches[0].line, 42);
        let error = moved.outcome.error.unwrap();
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
        let mut store = cache(&dir, "env1");
        let here = snippet(1, "while True: pass\n");
        store.remember(
            &here,
            &[],
            &Outcome::failed(
                Category::Timeout,
                SnippetError {
                    kind: "Timeout".into(),
                    message: "stopped".into(),
                    line: None,
                    traceback: None,
                },
                1.0,
            )
            .into(),
        );
        assert!(store.verdict(&here, &[]).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
