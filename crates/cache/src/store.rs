//! The file behind the result cache: one SQLite database per cache folder, read by key and
//! written in one short transaction at the end of a run, so a run touches only the entries
//! it asks for, whatever the cache holds.
//!
//! - Several processes share it (shards on one machine, `watch` beside a `check`): WAL mode,
//!   so readers never wait for a writer, and a busy timeout, so writers take turns.
//! - Eviction, when a run adds entries: those unused for longer than [`Eviction::max_age`], then,
//!   past [`Eviction::max_bytes`], the least recently used ones. Reading an entry marks it
//!   used (coarsely: at most once per [`touch_interval`]), so a warm run usually writes
//!   nothing at all.
//! - A file that is not a SQLite database, or a database of something else (another
//!   program's, or another layout of this one's), is set aside: renamed beside itself with a
//!   warning that names both paths, and an empty cache takes its place. It is only a cache:
//!   the worst outcome is running the snippets again.
//! - `results.json`, the single JSON file of earlier versions, is read once into the
//!   database and removed; one that cannot be read is set aside like a corrupt database.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior};
use serde::Deserialize;

/// The database's name in the cache folder.
pub const FILE: &str = "results.sqlite";

/// The single JSON file earlier versions kept; imported once.
pub const LEGACY_FILE: &str = "results.json";

/// `PRAGMA application_id`: "snip". A database without it is not ours.
const APPLICATION_ID: i32 = 0x736e_6970;

/// `PRAGMA user_version`: the tables' layout. Bumped when it changes.
const LAYOUT: i32 = 1;

/// How long a writer waits for another to finish before giving up on saving.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

const SCHEMA: &str = "
    CREATE TABLE results (
        key BLOB NOT NULL UNIQUE,
        -- Seconds since the Unix epoch when a run last wrote or read it.
        used INTEGER NOT NULL,
        value TEXT NOT NULL
    );
    CREATE INDEX results_used ON results (used);
";

/// A key: the first 16 bytes of a SHA-256 digest.
pub type Key = [u8; 16];

/// When the result cache forgets entries; `None` for no limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Eviction {
    /// Entries no run has read or written for this long are removed.
    pub max_age: Option<Duration>,
    /// Past this size (the database's pages in use), the least recently used entries are
    /// removed until it is back under 80% of it.
    pub max_bytes: Option<u64>,
}

pub const DEFAULT_MAX_AGE_DAYS: f64 = 30.0;
pub const DEFAULT_MAX_SIZE_MB: f64 = 512.0;

impl Default for Eviction {
    fn default() -> Self {
        Eviction::from_config(None, None)
    }
}

impl Eviction {
    /// From the config's `cache.max_age_days` and `cache.max_size_mb`: unset is the
    /// default, 0 (or less) is no limit.
    pub fn from_config(max_age_days: Option<f64>, max_size_mb: Option<f64>) -> Eviction {
        let days = max_age_days.unwrap_or(DEFAULT_MAX_AGE_DAYS);
        let megabytes = max_size_mb.unwrap_or(DEFAULT_MAX_SIZE_MB);
        Eviction {
            max_age: (days > 0.0).then(|| Duration::from_secs_f64(days * 86_400.0)),
            max_bytes: (megabytes > 0.0).then_some((megabytes * 1_000_000.0) as u64),
        }
    }
}

/// How stale an entry's mark of use may get before a read renews it: a day, or an eighth of
/// the time entries are kept if that is shorter, so eviction by age is never more than that
/// early.
pub fn touch_interval(eviction: &Eviction) -> i64 {
    let day = 86_400;
    eviction
        .max_age
        .map_or(day, |age| (age.as_secs() as i64 / 8).clamp(1, day))
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The database, or nothing when it could not be opened (every read misses, writes are
/// dropped, and the run was warned).
pub struct Store {
    path: PathBuf,
    connection: Option<Connection>,
}

/// Why a file cannot serve as the cache.
enum Problem {
    /// Not a database, or not ours: set it aside.
    Foreign(String),
    /// Anything else (permissions, a full disk, a lock held too long): leave it alone.
    Failed(rusqlite::Error),
}

impl From<rusqlite::Error> for Problem {
    fn from(err: rusqlite::Error) -> Self {
        match err.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
                Problem::Foreign(format!("it is not a SQLite database ({err})"))
            }
            _ => Problem::Failed(err),
        }
    }
}

/// What the file at the cache's path holds.
enum Found {
    Ours,
    Empty,
    Foreign(String),
}

impl Store {
    /// Opens (or creates) the database in `dir`; `warnings` gets what the run should be told
    /// (a file set aside, a cache that could not be opened).
    pub fn open(dir: &Path, warnings: &mut Vec<String>) -> Store {
        let path = dir.join(FILE);
        let disabled = |path: PathBuf| Store {
            path,
            connection: None,
        };
        if let Err(err) = std::fs::create_dir_all(dir) {
            warnings.push(format!(
                "cannot create the cache folder {}: {err}; running without the result cache",
                dir.display()
            ));
            return disabled(path);
        }
        let mut set_aside_once = false;
        loop {
            match connect(&path) {
                Ok(connection) => {
                    let mut store = Store {
                        path,
                        connection: Some(connection),
                    };
                    store.import_legacy(dir, warnings);
                    return store;
                }
                Err(Problem::Foreign(why)) if !set_aside_once => {
                    set_aside_once = true;
                    match set_aside(&path) {
                        Ok(aside) => warnings.push(format!(
                            "the result cache {} was set aside: {why}; moved it to {} and \
                             started an empty one",
                            path.display(),
                            aside.display()
                        )),
                        Err(err) => {
                            warnings.push(format!(
                                "the result cache {} is unusable ({why}) and cannot be moved \
                                 aside ({err}); running without the result cache",
                                path.display()
                            ));
                            return disabled(path);
                        }
                    }
                }
                Err(Problem::Foreign(why)) => {
                    warnings.push(format!(
                        "the result cache {} is unusable ({why}); running without it",
                        path.display()
                    ));
                    return disabled(path);
                }
                Err(Problem::Failed(err)) => {
                    warnings.push(format!(
                        "cannot open the result cache {}: {err}; running without it",
                        path.display()
                    ));
                    return disabled(path);
                }
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The value stored under `key`, and when it was last used.
    pub fn get(&self, key: &Key) -> Option<(String, i64)> {
        let connection = self.connection.as_ref()?;
        let mut statement = connection
            .prepare_cached("SELECT value, used FROM results WHERE key = ?1")
            .ok()?;
        statement
            .query_row([&key[..]], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()
            .ok()
            .flatten()
    }

    /// Writes `put` (key, value), marks `touched` as used at `now`, and, when anything was
    /// added, evicts what `eviction` says is too old or too much: one transaction.
    pub fn write(
        &mut self,
        put: &HashMap<Key, String>,
        touched: &[Key],
        now: i64,
        eviction: &Eviction,
    ) -> rusqlite::Result<()> {
        let Some(connection) = self.connection.as_mut() else {
            return Ok(());
        };
        if put.is_empty() && touched.is_empty() {
            return Ok(());
        }
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut insert = transaction.prepare_cached(
                "INSERT INTO results (key, used, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET used = excluded.used, value = excluded.value",
            )?;
            // In key order: the same rows in the same order whichever run writes them.
            let mut keys: Vec<&Key> = put.keys().collect();
            keys.sort();
            for key in keys {
                insert.execute(rusqlite::params![&key[..], now, put[key]])?;
            }
            let mut touch = transaction
                .prepare_cached("UPDATE results SET used = ?2 WHERE key = ?1 AND used < ?2")?;
            for key in touched {
                touch.execute(rusqlite::params![&key[..], now])?;
            }
        }
        let evicted = if put.is_empty() {
            0
        } else {
            evict(&transaction, now, eviction)?
        };
        transaction.commit()?;
        if evicted > 0 {
            // Gives the freed pages back to the file system; not needed for correctness.
            let _ = connection.execute_batch("PRAGMA incremental_vacuum");
        }
        Ok(())
    }

    /// What the cache holds, for `snipcheck cache`.
    pub fn info(&self, eviction: &Eviction) -> rusqlite::Result<CacheInfo> {
        let entries = match &self.connection {
            Some(connection) => connection
                .query_row("SELECT count(*) FROM results", [], |r| r.get::<_, i64>(0))?
                as u64,
            None => 0,
        };
        let bytes = ["", "-wal"]
            .iter()
            .filter_map(|suffix| std::fs::metadata(with_suffix(&self.path, suffix)).ok())
            .map(|m| m.len())
            .sum();
        Ok(CacheInfo {
            path: self.path.clone(),
            entries,
            bytes,
            eviction: *eviction,
            cleared: None,
        })
    }

    /// Removes every entry and gives the space back; returns how many there were.
    pub fn clear(&mut self) -> rusqlite::Result<u64> {
        let Some(connection) = self.connection.as_mut() else {
            return Ok(0);
        };
        let removed = connection.execute("DELETE FROM results", [])?;
        connection.execute_batch("PRAGMA incremental_vacuum")?;
        // Empties the write-ahead log too, unless another process is reading it.
        let _ = connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        Ok(removed as u64)
    }

    /// Reads `results.json` of earlier versions into the database, once: the first run to
    /// rename it takes it, so concurrent runs do not import it twice.
    fn import_legacy(&mut self, dir: &Path, warnings: &mut Vec<String>) {
        let legacy = dir.join(LEGACY_FILE);
        if !legacy.exists() {
            return;
        }
        let claimed = dir.join(format!("{LEGACY_FILE}.importing-{}", std::process::id()));
        if std::fs::rename(&legacy, &claimed).is_err() {
            return;
        }
        #[derive(Deserialize)]
        struct Legacy {
            version: u32,
            #[serde(default)]
            entries: HashMap<String, serde_json::Value>,
            #[serde(default)]
            values: HashMap<String, serde_json::Value>,
        }
        let parsed = std::fs::read(&claimed)
            .map_err(|err| err.to_string())
            .and_then(|bytes| {
                serde_json::from_slice::<Legacy>(&bytes).map_err(|err| err.to_string())
            });
        match parsed {
            Ok(old) => {
                // Other versions' keys can never match: nothing to take from them.
                if old.version == crate::CACHE_VERSION {
                    let put: HashMap<Key, String> = old
                        .entries
                        .into_iter()
                        .chain(old.values)
                        .filter_map(|(key, value)| Some((parse_key(&key)?, value.to_string())))
                        .collect();
                    if let Err(err) = self.write(&put, &[], now(), &Eviction::default()) {
                        warnings.push(format!(
                            "cannot import {} into the result cache: {err}",
                            legacy_display(dir)
                        ));
                        let _ = std::fs::rename(&claimed, &legacy);
                        return;
                    }
                }
                let _ = std::fs::remove_file(&claimed);
            }
            Err(why) => match std::fs::rename(&claimed, aside_name(&legacy)) {
                Ok(()) => warnings.push(format!(
                    "the result cache {} of an earlier version cannot be read ({why}); \
                     moved it to {}",
                    legacy_display(dir),
                    aside_name(&legacy).display()
                )),
                Err(_) => {
                    let _ = std::fs::remove_file(&claimed);
                }
            },
        }
    }
}

fn legacy_display(dir: &Path) -> String {
    dir.join(LEGACY_FILE).display().to_string()
}

fn parse_key(hex: &str) -> Option<Key> {
    let mut key = [0u8; 16];
    if hex.len() != 32 {
        return None;
    }
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(key)
}

/// Opens the database at `path`, creating the tables in a new or empty file.
fn connect(path: &Path) -> Result<Connection, Problem> {
    let connection = Connection::open(path)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    match examine(&connection)? {
        Found::Ours => {}
        Found::Empty => initialise(&connection)?,
        Found::Foreign(why) => return Err(Problem::Foreign(why)),
    }
    // Readers never wait for a writer, and a writer only for another writer. Where WAL is
    // not available (some network file systems) the default journal still works.
    let _ = connection.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()));
    // A cache need not survive a power cut: no sync at every commit, only at checkpoints.
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(connection)
}

fn examine(connection: &Connection) -> Result<Found, Problem> {
    // One statement, so one snapshot: another process may be creating the tables.
    let (application, layout, tables): (i32, i32, i64) = connection.query_row(
        "SELECT (SELECT application_id FROM pragma_application_id),
                (SELECT user_version FROM pragma_user_version),
                (SELECT count(*) FROM sqlite_schema)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    Ok(match (application, layout, tables) {
        (APPLICATION_ID, LAYOUT, _) => Found::Ours,
        (APPLICATION_ID, other, _) => Found::Foreign(format!(
            "its layout ({other}) is not the one this snipcheck uses ({LAYOUT})"
        )),
        (0, 0, 0) => Found::Empty,
        _ => Found::Foreign("it is a SQLite database of something else".into()),
    })
}

/// Creates the tables; when another process got there first (it holds the write lock until
/// it has), takes its work instead.
fn initialise(connection: &Connection) -> Result<(), Problem> {
    // Only takes effect before the first table exists: lets eviction shrink the file.
    connection.execute_batch("PRAGMA auto_vacuum = INCREMENTAL")?;
    let _ = connection.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()));
    connection.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| match examine(connection)? {
        Found::Ours => Ok(()),
        Found::Foreign(why) => Err(Problem::Foreign(why)),
        Found::Empty => {
            connection.execute_batch(SCHEMA)?;
            connection.pragma_update(None, "application_id", APPLICATION_ID)?;
            connection.pragma_update(None, "user_version", LAYOUT)?;
            Ok(())
        }
    })();
    match result {
        Ok(()) => Ok(connection.execute_batch("COMMIT")?),
        Err(problem) => {
            let _ = connection.execute_batch("ROLLBACK");
            Err(problem)
        }
    }
}

/// Removes entries unused for too long, then the least recently used ones while the
/// database is over its size; returns how many went.
fn evict(connection: &Connection, now: i64, eviction: &Eviction) -> rusqlite::Result<usize> {
    let mut removed = 0;
    if let Some(age) = eviction.max_age {
        removed += connection.execute(
            "DELETE FROM results WHERE used < ?1",
            [now - age.as_secs() as i64],
        )?;
    }
    if let Some(cap) = eviction.max_bytes {
        let in_use = bytes_in_use(connection)?;
        if in_use > cap {
            let count: i64 =
                connection.query_row("SELECT count(*) FROM results", [], |r| r.get(0))?;
            // Down to 80% of the cap, so that the next runs do not evict again at once.
            let keep = (count as f64 * (cap as f64 * 0.8) / in_use as f64) as i64;
            removed += connection.execute(
                "DELETE FROM results WHERE rowid IN
                     (SELECT rowid FROM results ORDER BY used, rowid LIMIT ?1)",
                [count - keep],
            )?;
        }
    }
    Ok(removed)
}

/// The database's pages that hold something (free pages are given back by the vacuum).
fn bytes_in_use(connection: &Connection) -> rusqlite::Result<u64> {
    let pragma = |name: &str| -> rusqlite::Result<i64> {
        connection.pragma_query_value(None, name, |r| r.get(0))
    };
    let pages = pragma("page_count")? - pragma("freelist_count")?;
    Ok((pages.max(0) * pragma("page_size")?) as u64)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// Renames `path` (and a database's `-wal` and `-shm` files beside it) to a name of its own
/// beside it; returns the new path.
fn set_aside(path: &Path) -> std::io::Result<PathBuf> {
    let aside = aside_name(path);
    std::fs::rename(path, &aside)?;
    for suffix in ["-wal", "-shm"] {
        let companion = with_suffix(path, suffix);
        if companion.exists() {
            let _ = std::fs::rename(&companion, with_suffix(&aside, suffix));
        }
    }
    Ok(aside)
}

/// `NAME.set-aside-TIME-PID` beside `path`.
fn aside_name(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!("{name}.set-aside-{}-{}", now(), std::process::id()))
}

/// What `snipcheck cache` shows.
#[derive(Debug, Clone)]
pub struct CacheInfo {
    pub path: PathBuf,
    pub entries: u64,
    /// The database and its write-ahead log on disk.
    pub bytes: u64,
    pub eviction: Eviction,
    /// How many entries `clear` removed, when it ran.
    pub cleared: Option<u64>,
}

impl fmt::Display for CacheInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(cleared) = self.cleared {
            writeln!(f, "cleared: {cleared} entries")?;
        }
        writeln!(f, "result cache: {}", self.path.display())?;
        writeln!(f, "entries: {}", self.entries)?;
        writeln!(f, "size: {}", megabytes(self.bytes))?;
        let age = match self.eviction.max_age {
            Some(age) => format!("after {} days unused", trim(age.as_secs_f64() / 86_400.0)),
            None => "never by age".into(),
        };
        let size = match self.eviction.max_bytes {
            Some(cap) => format!("least recently used first past {}", megabytes(cap)),
            None => "never by size".into(),
        };
        writeln!(
            f,
            "evicted: {age}; {size} (config: cache.max_age_days, cache.max_size_mb)"
        )
    }
}

fn megabytes(bytes: u64) -> String {
    if bytes < 1_000_000 {
        format!("{} kB", trim(bytes as f64 / 1_000.0))
    } else {
        format!("{} MB", trim(bytes as f64 / 1_000_000.0))
    }
}

/// A number with at most one decimal, without a trailing `.0`.
fn trim(value: f64) -> String {
    let text = format!("{value:.1}");
    text.strip_suffix(".0").map(str::to_string).unwrap_or(text)
}
