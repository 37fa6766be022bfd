//! Output capture at the file-descriptor level, so that prints from C extensions and
//! subprocesses are caught as well as Python's own.
//!
//! The worker creates the files and keeps them across forks: when a child is killed, the
//! worker can still read what the snippet printed before it hung or crashed.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;

use snipcheck_record::Captured;

/// How much of each stream is kept per snippet; the rest is counted, not stored.
pub const CAPTURE_LIMIT: u64 = 64 * 1024;

/// Unnamed temporary files standing in for a child's stdout and stderr.
pub struct CaptureFiles {
    pub stdout: File,
    pub stderr: File,
}

impl CaptureFiles {
    pub fn new() -> std::io::Result<CaptureFiles> {
        Ok(CaptureFiles {
            stdout: tempfile::tempfile()?,
            stderr: tempfile::tempfile()?,
        })
    }

    /// Empties both files before the next snippet starts writing into them.
    pub fn reset(&self) {
        for file in [&self.stdout, &self.stderr] {
            let _ = file.set_len(0);
            // The child writes through descriptors 1 and 2, which share this file's offset.
            // SAFETY: lseek on a descriptor we own.
            unsafe { libc::lseek(file.as_raw_fd(), 0, libc::SEEK_SET) };
        }
    }

    pub fn read(&self) -> (Captured, Captured) {
        (read_capped(&self.stdout), read_capped(&self.stderr))
    }
}

fn read_capped(file: &File) -> Captured {
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let keep = size.min(CAPTURE_LIMIT);
    let mut buffer = vec![0u8; keep as usize];
    let read = file.read_at(&mut buffer, 0).unwrap_or(0);
    buffer.truncate(read);
    Captured {
        text: String::from_utf8_lossy(&buffer).into_owned(),
        truncated_bytes: size - read as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn keeps_the_first_bytes_and_counts_the_rest() {
        let files = CaptureFiles::new().unwrap();
        let big = vec![b'x'; (CAPTURE_LIMIT + 10) as usize];
        (&files.stdout).write_all(&big).unwrap();
        let (stdout, stderr) = files.read();
        assert_eq!(stdout.text.len() as u64, CAPTURE_LIMIT);
        assert_eq!(stdout.truncated_bytes, 10);
        assert_eq!(stderr, Captured::default());
        files.reset();
        assert_eq!(files.read().0, Captured::default());
    }
}
