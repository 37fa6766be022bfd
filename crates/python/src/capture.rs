//! Output capture at the file-descriptor level: a child's stdout and stderr are pipes the
//! supervisor drains, so prints from C extensions and subprocesses are caught as well as
//! Python's, and a flood is counted without being stored or filling a disk.
//!
//! The child runs snippet after snippet without waiting for the supervisor, so one read
//! may hold the output of two snippets. After each snippet the child writes a separator
//! (random per child) into both streams; the supervisor cuts the streams there.

use std::collections::VecDeque;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use snipcheck_record::Captured;

/// How much of each stream is kept per snippet; the rest is counted, not stored.
pub const CAPTURE_LIMIT: usize = 64 * 1024;

/// A pipe whose write end becomes a child's stdout or stderr.
pub struct OutputPipe {
    read: OwnedFd,
    /// Handed to the child; the supervisor closes its copy after the fork.
    write: Option<OwnedFd>,
    separator: Vec<u8>,
    /// Bytes that may be the start of a separator cut by a read boundary.
    pending: Vec<u8>,
    current: Segment,
    /// Output of snippets whose separator has been seen, oldest first.
    finished: VecDeque<Captured>,
    open: bool,
}

#[derive(Default)]
struct Segment {
    kept: Vec<u8>,
    dropped: u64,
}

impl Segment {
    fn push(&mut self, bytes: &[u8]) {
        let room = CAPTURE_LIMIT
            .saturating_sub(self.kept.len())
            .min(bytes.len());
        self.kept.extend_from_slice(&bytes[..room]);
        self.dropped += (bytes.len() - room) as u64;
    }

    fn take(&mut self) -> Captured {
        let segment = std::mem::take(self);
        Captured {
            text: String::from_utf8_lossy(&segment.kept).into_owned(),
            truncated_bytes: segment.dropped,
        }
    }
}

impl OutputPipe {
    pub fn new(separator: &[u8]) -> std::io::Result<OutputPipe> {
        let (read, write) = pipe()?;
        // The supervisor must never block on output: it has a deadline to keep.
        // SAFETY: fcntl on a descriptor we own.
        unsafe {
            let flags = libc::fcntl(read.as_raw_fd(), libc::F_GETFL);
            libc::fcntl(read.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
        Ok(OutputPipe {
            read,
            write: Some(write),
            separator: separator.to_vec(),
            pending: Vec::new(),
            current: Segment::default(),
            finished: VecDeque::new(),
            open: true,
        })
    }

    pub fn read_fd(&self) -> RawFd {
        self.read.as_raw_fd()
    }

    pub fn write_fd(&self) -> Option<RawFd> {
        self.write.as_ref().map(AsRawFd::as_raw_fd)
    }

    /// Drops the supervisor's copy of the write end, so end-of-file can be seen.
    pub fn close_write(&mut self) {
        self.write = None;
    }

    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Reads everything available now, keeping up to the limit.
    pub fn drain(&mut self) {
        // Not zeroed: it is drained several times per snippet, and zeroing 64 KiB each time
        // cost more than the reads.
        let mut chunk = std::mem::MaybeUninit::<[u8; 65536]>::uninit();
        while self.open {
            // SAFETY: reading into a buffer of the given length from a descriptor we own.
            let n = unsafe {
                libc::read(
                    self.read.as_raw_fd(),
                    chunk.as_mut_ptr().cast(),
                    std::mem::size_of_val(&chunk),
                )
            };
            if n > 0 {
                // SAFETY: `read` wrote the first `n` bytes.
                let read =
                    unsafe { std::slice::from_raw_parts(chunk.as_ptr().cast::<u8>(), n as usize) };
                self.absorb(read);
            } else if n == 0 {
                self.open = false;
            } else {
                let err = std::io::Error::last_os_error();
                match err.kind() {
                    std::io::ErrorKind::Interrupted => continue,
                    std::io::ErrorKind::WouldBlock => return,
                    _ => self.open = false,
                }
            }
        }
    }

    /// Splits new bytes at separators; holds back a tail that may begin one.
    fn absorb(&mut self, bytes: &[u8]) {
        let mut data = std::mem::take(&mut self.pending);
        data.extend_from_slice(bytes);
        let mut start = 0;
        while let Some(at) = memchr::memmem::find(&data[start..], &self.separator) {
            self.current.push(&data[start..start + at]);
            self.finished.push_back(self.current.take());
            start += at + self.separator.len();
        }
        let rest = &data[start..];
        let keep = partial_separator_suffix(rest, &self.separator);
        self.current.push(&rest[..rest.len() - keep]);
        self.pending = rest[rest.len() - keep..].to_vec();
    }

    /// The output of the oldest snippet that finished (its separator was seen).
    pub fn take_finished(&mut self) -> Captured {
        self.finished
            .pop_front()
            .unwrap_or_else(|| self.take_current())
    }

    /// The output of the snippet still running, for a timeout or a crash.
    pub fn take_current(&mut self) -> Captured {
        let pending = std::mem::take(&mut self.pending);
        self.current.push(&pending);
        self.current.take()
    }
}

/// Length of the longest suffix of `data` that is a proper prefix of `separator`.
fn partial_separator_suffix(data: &[u8], separator: &[u8]) -> usize {
    let longest = data.len().min(separator.len().saturating_sub(1));
    (1..=longest)
        .rev()
        .find(|&n| data[data.len() - n..] == separator[..n])
        .unwrap_or(0)
}

/// A pipe with close-on-exec on both ends (the child `dup2`s what it needs).
pub fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: pipe2 fills `fds` on success; each descriptor is then owned exactly once.
    unsafe {
        if libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok((OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_all(fd: RawFd, bytes: &[u8]) {
        let mut written = 0;
        while written < bytes.len() {
            // SAFETY: writing from a valid buffer.
            let n =
                unsafe { libc::write(fd, bytes[written..].as_ptr().cast(), bytes.len() - written) };
            assert!(n > 0);
            written += n as usize;
        }
    }

    const SEP: &[u8] = b"<<sep-42>>";

    #[test]
    fn keeps_the_first_bytes_and_counts_the_rest() {
        let mut pipe = OutputPipe::new(SEP).unwrap();
        let fd = pipe.write_fd().unwrap();
        // Larger than the cap, in pieces smaller than the pipe buffer.
        for _ in 0..3 {
            write_all(fd, &[b'x'; 30_000]);
            pipe.drain();
        }
        let captured = pipe.take_current();
        assert_eq!(captured.text.len(), CAPTURE_LIMIT);
        assert_eq!(captured.truncated_bytes, 90_000 - CAPTURE_LIMIT as u64);
        assert_eq!(pipe.take_current(), Captured::default());
    }

    #[test]
    fn separators_split_snippets_even_across_reads() {
        let mut pipe = OutputPipe::new(SEP).unwrap();
        let fd = pipe.write_fd().unwrap();
        write_all(fd, b"first\n<<sep-");
        pipe.drain();
        write_all(fd, b"42>>second\n<<sep-42>>third");
        pipe.drain();
        assert_eq!(pipe.take_finished().text, "first\n");
        assert_eq!(pipe.take_finished().text, "second\n");
        assert_eq!(pipe.take_current().text, "third");
    }

    #[test]
    fn a_lone_separator_prefix_is_output() {
        let mut pipe = OutputPipe::new(SEP).unwrap();
        write_all(pipe.write_fd().unwrap(), b"ends with <<sep");
        pipe.close_write();
        pipe.drain();
        assert!(!pipe.is_open());
        assert_eq!(pipe.take_current().text, "ends with <<sep");
    }
}
