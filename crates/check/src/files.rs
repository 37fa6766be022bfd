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
    // Temporary files are private (0600); a report is for others to read, as `>` would make it.
    use std::os::unix::fs::PermissionsExt;
    let _ = file
        .as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644));
    file.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
