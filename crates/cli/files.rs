//! Writing what the tool produces: reports, the baseline, the last run.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// Writes through a temporary file and a rename, so a reader never sees half a report.
pub fn write_atomically(path: &Path, text: &str) -> Result<()> {
    // A device or pipe (`-o /dev/null`, `-o /dev/stdout`) is written in place: renaming
    // over it would replace the device itself.
    if path.metadata().is_ok_and(|m| !m.is_file()) {
        return std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()));
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(parent)
        .with_context(|| format!("cannot write in {}", parent.display()))?;
    file.write_all(text.as_bytes())?;
    file.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
