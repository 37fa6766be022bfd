//! Reading newline-terminated messages from a pipe with a deadline.

use std::os::fd::RawFd;
use std::time::Instant;

pub enum ReadLine {
    Line(String),
    /// The writer closed its end (or the pipe broke).
    Eof,
    TimedOut,
}

/// Owns the read end of a pipe; closes it when dropped.
pub struct LineReader {
    fd: RawFd,
    buffer: Vec<u8>,
}

impl LineReader {
    pub fn new(fd: RawFd) -> Self {
        LineReader {
            fd,
            buffer: Vec::new(),
        }
    }

    /// The next line, waiting at most until `deadline` (forever with `None`).
    pub fn read_line(&mut self, deadline: Option<Instant>) -> ReadLine {
        loop {
            if let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                return ReadLine::Line(String::from_utf8_lossy(&line[..end]).into_owned());
            }
            let timeout_ms = match deadline {
                None => -1,
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return ReadLine::TimedOut;
                    }
                    left.as_millis().clamp(1, i32::MAX as u128) as i32
                }
            };
            let mut poll = libc::pollfd {
                fd: self.fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: polling one descriptor we own.
            let ready = unsafe { libc::poll(&mut poll, 1, timeout_ms) };
            if ready < 0 {
                if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return ReadLine::Eof;
            }
            if ready == 0 {
                continue; // the deadline check above decides
            }
            let mut chunk = [0u8; 8192];
            // SAFETY: reading into a buffer of the given length.
            let read = unsafe { libc::read(self.fd, chunk.as_mut_ptr().cast(), chunk.len()) };
            match read {
                n if n > 0 => self.buffer.extend_from_slice(&chunk[..n as usize]),
                0 => return ReadLine::Eof,
                _ => {
                    if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                        return ReadLine::Eof;
                    }
                }
            }
        }
    }
}

impl Drop for LineReader {
    fn drop(&mut self) {
        // SAFETY: closing the descriptor this reader owns.
        unsafe { libc::close(self.fd) };
    }
}
