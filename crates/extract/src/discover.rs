//! Finding the documents under a folder.

use std::io;
use std::path::{Path, PathBuf};

use crate::Format;

/// Folders that hold build output, dependencies or caches, never documentation to check.
const SKIPPED_DIRS: &[&str] = &["target", "node_modules", "__pycache__"];

/// Every document (a file [`Format::for_path`] recognises) under `root`, sorted.
///
/// Hidden folders (`.git`, `.venv`, ...) and [`SKIPPED_DIRS`] are not entered; symlinked
/// folders are not followed, so links cannot make the walk loop. A symlink to a file is
/// kept. When `root` is itself a document file, it is the only result.
pub fn discover(root: &Path) -> io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    if std::fs::metadata(root)?.is_file() {
        if Format::for_path(root).is_some() {
            found.push(root.to_path_buf());
        }
        return Ok(found);
    }
    walk(root, &mut found)?;
    found.sort();
    Ok(found)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        // `file_type` does not follow symlinks.
        let kind = entry.file_type()?;
        if kind.is_dir() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if !name.starts_with('.') && !SKIPPED_DIRS.contains(&name.as_ref()) {
                walk(&path, found)?;
            }
        } else if Format::for_path(&path).is_some_and(Format::discoverable) {
            // A symlink counts when it leads to a file (not a folder, not nowhere).
            let is_file = kind.is_file() || std::fs::metadata(&path).is_ok_and(|m| m.is_file());
            if is_file {
                found.push(path);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(root: &Path, rel: &str) {
        let p = root.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, "x\n").expect("write");
    }

    #[test]
    fn walks_sorted_and_skips_noise() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        for rel in [
            "b.md",
            "a.txt",
            "image.png",
            "docs/guide.markdown",
            "docs/deep/notes.text",
            "docs/z.mdown",
            ".git/HEAD.md",
            ".hidden/x.md",
            "target/doc.md",
            "node_modules/pkg/README.md",
            "pkg/__pycache__/x.txt",
            "README",
        ] {
            touch(root, rel);
        }
        let found: Vec<String> = discover(root)
            .expect("walks")
            .iter()
            .map(|p| {
                p.strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .replace('\\', "/")
            })
            .collect();
        assert_eq!(
            found,
            [
                "a.txt",
                "b.md",
                "docs/deep/notes.text",
                "docs/guide.markdown",
                "docs/z.mdown"
            ]
        );
    }

    #[test]
    fn root_file_and_missing_root() {
        let dir = tempfile::tempdir().expect("tempdir");
        touch(dir.path(), "one.md");
        let file = dir.path().join("one.md");
        assert_eq!(discover(&file).expect("file"), vec![file.clone()]);
        assert!(discover(&dir.path().join("nope")).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn symlinked_dirs_are_not_followed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        touch(root, "docs/a.md");
        std::os::unix::fs::symlink(root, root.join("docs/loop")).expect("symlink");
        std::os::unix::fs::symlink(root.join("docs/a.md"), root.join("link.md")).expect("symlink");
        std::os::unix::fs::symlink(root.join("gone.md"), root.join("dangling.md"))
            .expect("symlink");
        let found = discover(root).expect("walks");
        assert_eq!(found, vec![root.join("docs/a.md"), root.join("link.md")]);
    }
}
