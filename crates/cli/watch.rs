//! `snipcheck watch`: check, then check again whenever a document, the config or anything
//! in the config's folder changes. The result cache makes each re-check run only what an
//! edit touched.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use crate::args::CheckArgs;
use crate::{check, config};

/// How often files are looked at: fast enough to feel immediate, cheap for a few files.
const POLL: Duration = Duration::from_millis(300);

pub fn run(args: &CheckArgs) -> ExitCode {
    let mut seen = snapshot(args);
    loop {
        if let Err(err) = check::check(args) {
            eprintln!("error: {err:#}");
        }
        eprintln!("snipcheck: watching for changes (Ctrl-C to stop)");
        loop {
            std::thread::sleep(POLL);
            let now = snapshot(args);
            if now != seen {
                seen = now;
                break;
            }
        }
        eprintln!("\nsnipcheck: a file changed; checking again");
    }
}

/// Modification times of everything a check reads: the paths given (or the config's
/// documents), and the files in the config's folder (fixtures, requirements, the config).
fn snapshot(args: &CheckArgs) -> BTreeMap<PathBuf, Option<SystemTime>> {
    let mut roots: Vec<PathBuf> = args.paths.clone();
    if let Ok(loaded) = config::load(args.config.as_deref()) {
        roots.push(loaded.base.clone());
        roots.extend(loaded.config.documents.iter().map(|d| loaded.resolve(d)));
    }
    let mut files = BTreeMap::new();
    for root in roots {
        let mut stack = vec![root];
        while let Some(path) = stack.pop() {
            match std::fs::symlink_metadata(&path) {
                Ok(meta) if meta.is_dir() => {
                    // Build output and caches change all the time and hold no documents.
                    let skipped = path.file_name().is_some_and(|n| {
                        let n = n.to_string_lossy();
                        (n.starts_with('.') && n != ".")
                            || matches!(&*n, "target" | "node_modules" | "__pycache__")
                    });
                    if skipped {
                        continue;
                    }
                    if let Ok(entries) = std::fs::read_dir(&path) {
                        stack.extend(entries.flatten().map(|e| e.path()));
                    }
                }
                Ok(meta) => {
                    files.insert(path, meta.modified().ok());
                }
                Err(_) => {
                    files.insert(path, None);
                }
            }
        }
    }
    files
}
