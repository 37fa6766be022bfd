//! Newline-terminated messages from a non-blocking pipe.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::Instant;

pub enum ReadLine {
    Line(String),
    /// The writer closed its end (or the pipe broke).
    Eof,
    TimedOut,
}

/// Owns the read end of a pipe; the caller polls it and then calls [`LineBuffer::fill`].
pub struct LineBuffer {
    fd: OwnedFd,
    buffer: Vec<u8>,
    open: bool,
}

impl LineBuffer {
    pub fn new(fd: OwnedFd) -> Self {
        // SAFETY: fcntl on a descriptor we own.
        unsafe {
            let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
            libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
        LineBuffer {
            fd,
            buffer: Vec::new(),
            open: true,
        }
    }

    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// False once the writer closed its end.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Reads whatever is available without blocking.
    pub fn fill(&mut self) {
        // Not zeroed first: `read` writes what is then used.
        let mut chunk = std::mem::MaybeUninit::<[u8; 8192]>::uninit();
        while self.open {
            // SAFETY: reading into a buffer of the given length.
            let n = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    chunk.as_mut_ptr().cast(),
                    std::mem::size_of_val(&chunk),
                )
            };
            if n > 0 {
                // SAFETY: `read` wrote the first `n` bytes.
                let read =
                    unsafe { std::slice::from_raw_parts(chunk.as_ptr().cast::<u8>(), n as usize) };
                self.buffer.extend_from_slice(read);
            } else if n == 0 {
                self.open = false;
            } else {
                match std::io::Error::last_os_error().kind() {
                    std::io::ErrorKind::Interrupted => continue,
                    std::io::ErrorKind::WouldBlock => return,
                    _ => self.open = false,
                }
            }
        }
    }

    /// The next line, waiting at most until `deadline`.
    pub fn read_line(&mut self, deadline: Instant) -> ReadLine {
        loop {
            if let Some(line) = self.next_line() {
                return ReadLine::Line(line);
            }
            if !self.open {
                return ReadLine::Eof;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return ReadLine::TimedOut;
            }
            let mut poll = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: polling one descriptor we own.
            unsafe {
                libc::poll(
                    &mut poll,
                    1,
                    left.as_millis().clamp(1, i32::MAX as u128) as i32,
                )
            };
            self.fill();
        }
    }

    /// The next complete line already read, without its newline.
    pub fn next_line(&mut self) -> Option<String> {
        let end = self.buffer.iter().position(|&b| b == b'\n')?;
        let line: Vec<u8> = self.buffer.drain(..=end).collect();
        Some(String::from_utf8_lossy(&line[..end]).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lines_and_sees_end_of_file() {
        let (read, write) = crate::capture::pipe().unwrap();
        let mut lines = LineBuffer::new(read);
        // SAFETY: writing a valid buffer to our pipe.
        unsafe { libc::write(write.as_raw_fd(), b"one\ntw".as_ptr().cast(), 6) };
        lines.fill();
        assert_eq!(lines.next_line().as_deref(), Some("one"));
        assert_eq!(lines.next_line(), None);
        unsafe { libc::write(write.as_raw_fd(), b"o\n".as_ptr().cast(), 2) };
        drop(write);
        lines.fill();
        assert_eq!(lines.next_line().as_deref(), Some("two"));
        assert!(!lines.is_open());
    }
}
