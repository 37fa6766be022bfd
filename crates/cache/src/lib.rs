//! Remembers verdicts by everything that determines them, so a re-run over unchanged
//! documents needs no interpreter at all. A snippet's key hashes:
//!
//! - the Python environment's fingerprint and the run's settings (given at [`ResultCache::open`]);
//! - the snippet as extracted, except where it stands (its id, lines and section): its
//!   document, code, kind and markers, and any field it gains later;
//! - the name and code of each fixture it runs with, in order;
//! - for a docstring's examples, the whole source of their module (doctest runs them against
//!   it, and decides from it whether they run).
//!
//! Editing the prose above a snippet moves it without changing its verdict: lines are
//! stored relative to the snippet and moved back on the way out. Other answers (the
//! resolution of a name in the prose) are kept by their question and the environment.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use snipcheck_record::{Category, Outcome, Snippet, Verdict};

mod store;

pub use store::{
    CacheInfo, Eviction, DEFAULT_MAX_AGE_DAYS, DEFAULT_MAX_SIZE_MB, FILE, LEGACY_FILE,
};
use store::{Key, Store};

/// Bumped when what is stored, or what goes into a key, changes.
const CACHE_VERSION: u32 = 4;

/// Hashes length-prefixed fields, so no two different field lists hash alike.
#[derive(Clone)]
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

    /// The first 16 bytes of the digest: plenty to tell cache entries apart.
    fn finish(self) -> Key {
        let mut key = [0u8; 16];
        key.copy_from_slice(&self.0.finalize()[..16]);
        key
    }
}

/// A verdict stored with its lines relative to the snippet's first line; written from a
/// borrowed verdict (`Entry<&Verdict>`), read back as `Entry<Verdict>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry<V = Verdict> {
    /// The snippet's first line when it ran.
    line: u32,
    verdict: V,
}

/// The verdicts of earlier runs, in a database under the cache folder (see [`store`]): each
/// read asks for one entry, and what a run learns is written at [`ResultCache::save`].
pub struct ResultCache {
    store: Store,
    eviction: Eviction,
    /// The run's clock, in seconds since the Unix epoch: what "used" means for eviction.
    now: i64,
    /// Written at `save`: entries as JSON, by key.
    pending: HashMap<Key, String>,
    /// Entries read whose mark of use is stale, renewed at `save`.
    touched: RefCell<Vec<Key>>,
    warnings: Vec<String>,
    environment: String,
    /// What starts every snippet's key: the environment and the settings, hashed once.
    snippet_keys: Hasher,
}

impl ResultCache {
    /// Opens the cache for a run in `environment` (its fingerprint) with `settings` (the
    /// run settings that change verdicts: time limit, sandbox, isolation, in any stable
    /// text form), evicting by the default [`Eviction`]. A file that cannot serve is set
    /// aside or left alone, with a warning in [`ResultCache::warnings`], and the run goes on
    /// (it is only a cache: the worst outcome is running the snippets again).
    pub fn open(dir: &Path, environment: &str, settings: &str) -> ResultCache {
        let mut warnings = Vec::new();
        let store = Store::open(dir, &mut warnings);
        ResultCache {
            store,
            eviction: Eviction::default(),
            now: store::now(),
            pending: HashMap::new(),
            touched: RefCell::new(Vec::new()),
            warnings,
            environment: environment.to_string(),
            snippet_keys: {
                let mut hasher = Hasher::new();
                hasher.field(environment.as_bytes());
                hasher.field(settings.as_bytes());
                hasher
            },
        }
    }

    /// The same cache, evicting by `eviction` when a run adds to it.
    pub fn evicting(mut self, eviction: Eviction) -> ResultCache {
        self.eviction = eviction;
        self
    }

    /// What the run should be told about the cache itself (a file set aside, a cache that
    /// could not be opened or saved).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The key of a snippet that runs after `fixtures` (name and code each), as the
    /// module's documentation lists it.
    fn snippet_key(&self, snippet: &Snippet, fixtures: &[(String, String)]) -> Key {
        // Where it stands, emptied; every other field, including any added later, counts.
        let described = Snippet {
            id: String::new(),
            line: 0,
            end_line: 0,
            section: None,
            ..snippet.clone()
        };
        let mut hasher = self.snippet_keys.clone();
        hasher.field(&serde_json::to_vec(&described).unwrap_or_default());
        if let Some(module) = &snippet.module {
            // Editing the code beside a docstring must run its examples again.
            hasher.field(&std::fs::read(module).unwrap_or_default());
        }
        for (name, code) in fixtures {
            hasher.field(name.as_bytes());
            hasher.field(code.as_bytes());
        }
        hasher.finish()
    }

    /// The key of another answer: the question (as JSON) in this environment.
    fn answer_key(&self, question: &impl Serialize) -> Key {
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

    /// The stored JSON under `key`: this run's, else the database's (marking it used).
    fn lookup<T: DeserializeOwned>(&self, key: &Key) -> Option<T> {
        if let Some(json) = self.pending.get(key) {
            return serde_json::from_str(json).ok();
        }
        let (json, used) = self.store.get(key)?;
        if used < self.now - store::touch_interval(&self.eviction) {
            self.touched.borrow_mut().push(*key);
        }
        serde_json::from_str(&json).ok()
    }

    /// The verdict remembered for `snippet` after `fixtures`, moved to its current line.
    pub fn verdict(&self, snippet: &Snippet, fixtures: &[(String, String)]) -> Option<Verdict> {
        let entry: Entry = self.lookup(&self.snippet_key(snippet, fixtures))?;
        Some(Verdict {
            outcome: move_lines(
                entry.verdict.outcome,
                &snippet.path,
                i64::from(snippet.line) - i64::from(entry.line),
            ),
            missing: entry.verdict.missing,
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
        let entry = Entry {
            line: snippet.line,
            verdict,
        };
        if let Ok(json) = serde_json::to_string(&entry) {
            self.pending.insert(key, json);
        }
    }

    /// The answer remembered for `question`; `None` also when it no longer reads as `T`.
    pub fn answer<T: DeserializeOwned>(&self, question: &impl Serialize) -> Option<T> {
        self.lookup(&self.answer_key(question))
    }

    pub fn remember_answer(&mut self, question: &impl Serialize, answer: &impl Serialize) {
        if let Ok(json) = serde_json::to_string(answer) {
            let key = self.answer_key(question);
            self.pending.insert(key, json);
        }
    }

    /// Writes what this run added (and renews the entries it read), in one transaction,
    /// then evicts; nothing when the run learnt nothing new.
    pub fn save(&mut self) -> std::io::Result<()> {
        let touched = std::mem::take(&mut *self.touched.borrow_mut());
        self.store
            .write(&self.pending, &touched, self.now, &self.eviction)
            .map_err(|err| {
                std::io::Error::other(format!("{}: {err}", self.store.path().display()))
            })?;
        self.pending.clear();
        Ok(())
    }

    /// Where the cache is, how many entries it holds and how large it is.
    pub fn info(&self) -> std::io::Result<CacheInfo> {
        self.store
            .info(&self.eviction)
            .map_err(std::io::Error::other)
    }

    /// Forgets every entry; returns how many there were.
    pub fn clear(&mut self) -> std::io::Result<u64> {
        self.pending.clear();
        self.store.clear().map_err(std::io::Error::other)
    }

    /// What the cache folder `dir` holds, without creating anything when it holds no cache;
    /// with `clear`, after emptying it. `warnings` gets what the caller should be told.
    pub fn inspect(
        dir: &Path,
        eviction: Eviction,
        clear: bool,
        warnings: &mut Vec<String>,
    ) -> std::io::Result<CacheInfo> {
        let path = dir.join(FILE);
        if !path.exists() && !dir.join(LEGACY_FILE).exists() {
            return Ok(CacheInfo {
                path,
                entries: 0,
                bytes: 0,
                eviction,
                cleared: clear.then_some(0),
            });
        }
        let mut cache = ResultCache::open(dir, "", "").evicting(eviction);
        warnings.append(&mut cache.warnings);
        let cleared = if clear { Some(cache.clear()?) } else { None };
        Ok(CacheInfo {
            cleared,
            ..cache.info()?
        })
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

    const DAY: i64 = 86_400;

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

    impl ResultCache {
        /// The same cache as seen by a run at another time.
        fn at(mut self, now: i64) -> Self {
            self.now = now;
            self
        }
    }

    fn passed() -> Verdict {
        Outcome::clean(Category::Passed, 1.0).into()
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
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
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
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let mut store = cache(dir, "env1");
        store.remember_answer(&"json.loads", &vec!["json.load".to_string()]);
        store.save().unwrap();
        let again = cache(dir, "env1");
        assert_eq!(
            again.answer::<Vec<String>>(&"json.loads"),
            Some(vec!["json.load".to_string()])
        );
        assert_eq!(again.answer::<u32>(&"json.loads"), None);
        assert_eq!(
            cache(dir, "env2").answer::<Vec<String>>(&"json.loads"),
            None
        );
    }

    #[test]
    fn a_moved_snippet_gets_its_verdict_at_the_new_lines() {
        let dir = tempfile::tempdir().unwrap();
        let here = snippet(10, "print(x)\n");
        let mut store = cache(dir.path(), "env1");
        store.remember(&here, &[], &failure(11).into());
        store.save().unwrap();

        let store = cache(dir.path(), "env1");
        let moved = store.verdict(&snippet(40, "print(x)\n"), &[]).unwrap();
        assert_eq!(moved.outcome.mismatches[0].line, 42);
        let error = moved.outcome.error.unwrap();
        assert_eq!(error.line, Some(41));
        let traceback = error.traceback.unwrap();
        assert!(traceback.contains("\"doc.md\", line 41,"), "{traceback}");
        assert!(traceback.contains("\"other.py\", line 7,"), "{traceback}");
    }

    #[test]
    fn timeouts_are_not_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = cache(dir.path(), "env1");
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
        store.save().unwrap();
        assert!(cache(dir.path(), "env1").verdict(&here, &[]).is_none());
        assert!(store.warnings().is_empty(), "{:?}", store.warnings());
    }

    /// The files in `dir` whose name starts with `prefix`.
    fn files_starting(dir: &Path, prefix: &str) -> Vec<std::path::PathBuf> {
        let mut found: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
            .collect();
        found.sort();
        found
    }

    /// Opens a cache on `dir`, expecting the file there to be set aside: one warning naming
    /// both paths, and a working, empty cache in its place.
    fn expect_set_aside(dir: &Path, because: &str) -> std::path::PathBuf {
        let path = dir.join(FILE);
        let here = snippet(1, "x = 1\n");
        let mut store = cache(dir, "env1");
        let [warning] = store.warnings() else {
            panic!("one warning expected: {:?}", store.warnings());
        };
        let aside = files_starting(dir, &format!("{FILE}.set-aside-"));
        assert_eq!(aside.len(), 1, "{aside:?}");
        assert!(warning.contains(&path.display().to_string()), "{warning}");
        assert!(
            warning.contains(&aside[0].display().to_string()),
            "{warning}"
        );
        assert!(warning.contains(because), "{warning}");
        assert!(store.verdict(&here, &[]).is_none());
        store.remember(&here, &[], &passed());
        store.save().unwrap();
        let again = cache(dir, "env1");
        assert!(again.warnings().is_empty(), "{:?}", again.warnings());
        assert!(again.verdict(&here, &[]).is_some());
        aside[0].clone()
    }

    #[test]
    fn a_corrupt_file_is_set_aside_with_a_warning_and_the_run_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let garbage =
            b"this is not a database, only some bytes that happen to be here\n".repeat(100);
        std::fs::write(dir.path().join(FILE), &garbage).unwrap();
        let aside = expect_set_aside(dir.path(), "not a SQLite database");
        assert_eq!(std::fs::read(aside).unwrap(), garbage, "kept as it was");
    }

    #[test]
    fn a_foreign_database_is_set_aside_and_kept_intact() {
        let dir = tempfile::tempdir().unwrap();
        let foreign = rusqlite::Connection::open(dir.path().join(FILE)).unwrap();
        foreign
            .execute_batch(
                "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL);
                 INSERT INTO invoices (total) VALUES (12.5);",
            )
            .unwrap();
        drop(foreign);
        let aside = expect_set_aside(dir.path(), "a SQLite database of something else");
        let kept = rusqlite::Connection::open(aside).unwrap();
        let total: f64 = kept
            .query_row("SELECT total FROM invoices", [], |r| r.get(0))
            .unwrap();
        assert_eq!(total, 12.5);
    }

    #[test]
    fn the_json_file_of_earlier_versions_is_read_once_then_removed() {
        let dir = tempfile::tempdir().unwrap();
        let here = snippet(10, "print(x)\n");
        let probe = cache(dir.path(), "env1");
        let hex = |key: Key| key.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let entry = serde_json::to_value(Entry::<Verdict> {
            line: 10,
            verdict: failure(11).into(),
        })
        .unwrap();
        let legacy = serde_json::json!({
            "version": CACHE_VERSION,
            "entries": { hex(probe.snippet_key(&here, &[])): entry },
            "values": { hex(probe.answer_key(&"q")): ["a"] },
        });
        drop(probe);
        std::fs::write(dir.path().join(LEGACY_FILE), legacy.to_string()).unwrap();
        let store = cache(dir.path(), "env1");
        assert!(store.warnings().is_empty(), "{:?}", store.warnings());
        assert!(!dir.path().join(LEGACY_FILE).exists());
        assert_eq!(
            store.verdict(&here, &[]).unwrap().outcome.category,
            Category::UndefinedName
        );
        assert_eq!(store.answer::<Vec<String>>(&"q"), Some(vec!["a".into()]));
        assert!(files_starting(dir.path(), LEGACY_FILE).is_empty());

        // One that cannot be read is set aside, with a warning.
        std::fs::write(dir.path().join(LEGACY_FILE), "{not json").unwrap();
        let store = cache(dir.path(), "env1");
        assert_eq!(store.warnings().len(), 1, "{:?}", store.warnings());
        assert!(
            store.warnings()[0].contains(LEGACY_FILE),
            "{:?}",
            store.warnings()
        );
        assert!(
            store.verdict(&here, &[]).is_some(),
            "the database is untouched"
        );
        assert_eq!(
            files_starting(dir.path(), &format!("{LEGACY_FILE}.set-aside-")).len(),
            1
        );
    }

    fn eviction(days: f64, megabytes: f64) -> Eviction {
        Eviction::from_config(Some(days), Some(megabytes))
    }

    #[test]
    fn entries_unused_for_the_set_time_are_evicted_and_reading_keeps_them() {
        let dir = tempfile::tempdir().unwrap();
        let open = |now: i64| {
            ResultCache::open(dir.path(), "env1", "t")
                .evicting(eviction(30.0, 0.0))
                .at(now)
        };
        let (old, read, fresh) = (
            snippet(1, "old = 1\n"),
            snippet(1, "read = 1\n"),
            snippet(1, "fresh = 1\n"),
        );
        let t0 = 1_000 * DAY;
        let mut first = open(t0);
        first.remember(&old, &[], &passed());
        first.remember(&read, &[], &passed());
        first.save().unwrap();
        // Twenty days later a run reads one of them (a warm run: it writes only the mark).
        let mut later = open(t0 + 20 * DAY);
        assert!(later.verdict(&read, &[]).is_some());
        later.save().unwrap();
        // Forty days after the first: the one nobody read is gone, the other is not.
        let mut last = open(t0 + 40 * DAY);
        last.remember(&fresh, &[], &passed());
        last.save().unwrap();
        let check = open(t0 + 40 * DAY);
        assert!(check.verdict(&old, &[]).is_none());
        assert!(check.verdict(&read, &[]).is_some());
        assert!(check.verdict(&fresh, &[]).is_some());
        assert_eq!(check.info().unwrap().entries, 2);
    }

    #[test]
    fn past_the_size_cap_the_least_recently_used_entries_go() {
        let dir = tempfile::tempdir().unwrap();
        let open = |now: i64| {
            ResultCache::open(dir.path(), "env1", "t")
                .evicting(eviction(0.0, 0.2))
                .at(now)
        };
        let big = "-".repeat(1000);
        // 400 entries of about 1 kB, ten at a time a second apart: twice the cap of 200 kB.
        for run in 0..40 {
            let mut store = open(DAY + run as i64);
            for i in run * 10..run * 10 + 10 {
                store.remember_answer(&i, &big);
            }
            store.save().unwrap();
        }
        let store = open(DAY + 400);
        let info = store.info().unwrap();
        let kept: Vec<usize> = (0..400)
            .filter(|i| store.answer::<String>(i).is_some())
            .collect();
        assert!(kept.len() < 200 && kept.len() > 50, "{} kept", kept.len());
        // The newest are the ones kept: every run's after the oldest run with one kept.
        let oldest_run = kept[0] / 10;
        assert!(
            ((oldest_run + 1) * 10..400).all(|i| kept.contains(&i)),
            "{kept:?}"
        );
        assert!(info.bytes < 400_000, "{info}");
    }

    #[test]
    fn several_writers_at_once_all_get_their_entries_in() {
        let dir = tempfile::tempdir().unwrap();
        let snippets = |writer: usize| -> Vec<Snippet> {
            (0..20)
                .map(|i| snippet(1, &format!("writer_{writer} = {i}\n")))
                .collect()
        };
        std::thread::scope(|scope| {
            for writer in 0..4 {
                let dir = dir.path();
                scope.spawn(move || {
                    // Each its own connection, as separate processes have; every entry saved
                    // on its own, so the writers contend as often as they can.
                    for s in snippets(writer) {
                        let mut store = cache(dir, "env1");
                        assert!(store.warnings().is_empty(), "{:?}", store.warnings());
                        store.remember(&s, &[], &passed());
                        store.save().unwrap();
                    }
                });
            }
        });
        let store = cache(dir.path(), "env1");
        for writer in 0..4 {
            for s in snippets(writer) {
                assert!(store.verdict(&s, &[]).is_some(), "{}", s.code);
            }
        }
        assert_eq!(store.info().unwrap().entries, 80);
    }

    #[test]
    fn info_counts_and_clear_empties() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = cache(dir.path(), "env1");
        store.remember(&snippet(1, "a = 1\n"), &[], &passed());
        store.remember_answer(&"q", &1);
        store.save().unwrap();
        let info = store.info().unwrap();
        assert_eq!(info.entries, 2);
        assert_eq!(info.path, dir.path().join(FILE));
        let text = info.to_string();
        assert!(text.contains("entries: 2\n"), "{text}");
        assert!(text.contains("after 30 days unused"), "{text}");
        assert_eq!(store.clear().unwrap(), 2);
        assert_eq!(store.info().unwrap().entries, 0);
        assert!(cache(dir.path(), "env1")
            .verdict(&snippet(1, "a = 1\n"), &[])
            .is_none());
    }
}
