//! Writing what the tool produces (reports, the baseline, the last run), and reading records back.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// Writes through a temporary file and a rename, so a reader never sees half a report.
pub fn write_atomically(path: &Path, text: &str) -> Result<()> {
    write_atomically_with(path, |out| out.write_all(text.as_bytes()))
}

/// As [`write_atomically`], with what `write` writes: a large file goes out as it is made,
/// never whole in memory.
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    // A device or pipe (`-o /dev/null`, `-o /dev/stdout`) is written in place: renaming
    // over it would replace the device itself.
    if path.metadata().is_ok_and(|m| !m.is_file()) {
        let mut out = std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        );
        return write(&mut out)
            .and_then(|()| out.flush())
            .with_context(|| format!("cannot write {}", path.display()));
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file = tempfile::NamedTempFile::new_in(parent)
        .with_context(|| format!("cannot write in {}", parent.display()))?;
    let mut out = std::io::BufWriter::new(file);
    write(&mut out)
        .and_then(|()| out.flush())
        .with_context(|| format!("cannot write {}", path.display()))?;
    let file = out.into_inner().map_err(|err| err.into_error())?;
    // Temporary files are private (0600); a report is for others to read, as `>` would make it.
    use std::os::unix::fs::PermissionsExt;
    let _ = file
        .as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644));
    file.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Whether the file at `path` holds exactly what `write` writes, compared as it is written:
/// neither the new text nor the old file is held whole.
pub fn file_already_holds(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> bool {
    use std::io::Read;
    /// Fails at the first byte that differs from the file.
    struct Compare<R: Read>(R);
    impl<R: Read> Write for Compare<R> {
        fn write(&mut self, new: &[u8]) -> std::io::Result<usize> {
            let mut old = vec![0; new.len()];
            self.0.read_exact(&mut old)?;
            if old == new {
                Ok(new.len())
            } else {
                Err(std::io::Error::other("differs"))
            }
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let mut compare = Compare(std::io::BufReader::new(file));
    // Equal only if the file also ends where the new text does.
    write(&mut compare).is_ok() && compare.0.read(&mut [0]).is_ok_and(|n| n == 0)
}

/// A record written by `check --format json` (or yaml, by its extension).
pub fn read_record(path: &Path) -> Result<snipcheck_record::Record> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the record {}", path.display()))?;
    let yaml = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    );
    let parsed = if yaml {
        serde_yaml::from_str(&text).map_err(anyhow::Error::from)
    } else {
        serde_json::from_str(&text).map_err(anyhow::Error::from)
    };
    parsed.with_context(|| format!("{} is not a snipcheck record", path.display()))
}
