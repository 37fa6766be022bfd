//! What a check reads, with modification times, so a front end can tell when to check again.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::SystemTime;

use crate::config;
use crate::options::CheckOptions;

/// Modification times of everything a check reads: the paths given (or the config's
/// documents), and the files in the config's folder (fixtures, requirements, the config).
/// A file that cannot be read is listed without a time, so its return is a change too.
pub fn snapshot(options: &CheckOptions) -> BTreeMap<PathBuf, Option<SystemTime>> {
    let mut roots: Vec<PathBuf> = options.paths.clone();
    if let Ok(loaded) = config::load(options.config.as_deref()) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_an_edit_and_skips_hidden_and_build_folders() {
        // Not `tempdir()`: its `.tmp` name is a hidden folder, which is skipped.
        let dir = tempfile::Builder::new().prefix("docs").tempdir().unwrap();
        let guide = dir.path().join("guide.md");
        std::fs::write(&guide, "text\n").unwrap();
        std::fs::create_dir(dir.path().join("target")).unwrap();
        std::fs::write(dir.path().join("target").join("out.md"), "x").unwrap();
        std::fs::create_dir(dir.path().join(".cache")).unwrap();
        std::fs::write(dir.path().join(".cache").join("c.md"), "x").unwrap();
        let options = CheckOptions {
            paths: vec![dir.path().to_path_buf()],
            config: Some(dir.path().join("absent.yaml")),
            ..CheckOptions::default()
        };
        let before = snapshot(&options);
        assert_eq!(before.keys().collect::<Vec<_>>(), vec![&guide]);
        std::fs::remove_file(&guide).unwrap();
        assert_ne!(snapshot(&options), before);
    }
}
