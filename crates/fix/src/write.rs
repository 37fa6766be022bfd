//! Showing fixes as a diff, and writing them without losing anything.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};

/// A unified diff of `before` and `after` (three lines of context), empty when equal.
pub fn unified_diff(path: &str, before: &str, after: &str) -> String {
    if before == after {
        return String::new();
    }
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

/// Replaces the file at `path` with `after`, atomically (a temporary file beside it, then a
/// rename), keeping its permissions. Refused when the file no longer holds `before`, the
/// text the fixes were computed on: a change made meanwhile must not be overwritten.
pub fn write_if_unchanged(path: &Path, before: &str, after: &str) -> Result<()> {
    let now = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if now != before.as_bytes() {
        bail!(
            "{} changed since it was checked; nothing written (check it again)",
            path.display()
        );
    }
    let metadata = std::fs::metadata(path)?;
    if metadata.permissions().readonly() {
        bail!("{} is not writable; nothing written", path.display());
    }
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut file = tempfile::Builder::new()
        .prefix(".snipcheck-fix-")
        .tempfile_in(folder)
        .with_context(|| format!("cannot write beside {}", path.display()))?;
    file.write_all(after.as_bytes())?;
    file.as_file().sync_all()?;
    std::fs::set_permissions(file.path(), metadata.permissions())?;
    file.persist(path)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_diff_shows_only_the_changed_line() {
        let diff = unified_diff("guide.txt", "one\ntwo\nthree\n", "one\n2\nthree\n");
        assert_eq!(
            diff,
            "--- a/guide.txt\n+++ b/guide.txt\n@@ -1,3 +1,3 @@\n one\n-two\n+2\n three\n"
        );
        assert_eq!(unified_diff("guide.txt", "same\n", "same\n"), "");
    }

    #[test]
    fn writes_atomically_and_refuses_a_changed_file() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("doc.md");
        std::fs::write(&path, "before\n").unwrap();
        write_if_unchanged(&path, "before\n", "after\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "after\n");
        // Changed meanwhile: left as it is.
        let err = write_if_unchanged(&path, "before\n", "again\n").unwrap_err();
        assert!(err.to_string().contains("changed since it was checked"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "after\n");
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 1);
    }

    #[test]
    fn refuses_a_read_only_file() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("doc.md");
        std::fs::write(&path, "before\n").unwrap();
        let mut permissions = std::fs::metadata(&path).unwrap().permissions();
        permissions.set_readonly(true);
        std::fs::set_permissions(&path, permissions).unwrap();
        let err = write_if_unchanged(&path, "before\n", "after\n").unwrap_err();
        assert!(err.to_string().contains("not writable"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "before\n");
    }
}
