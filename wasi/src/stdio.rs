//! Standard input, output and error: the host's own streams, nothing, or
//! in-memory pipes.
//!
//! An inherited stdin is read straight from the host's file descriptor 0
//! (not through Rust's buffered `Stdin`), so that `poll_oneoff` on it sees
//! exactly the data the guest has not read yet. Inherited stdout and stderr
//! go through Rust's handles and are flushed after every write, so guest
//! output interleaves correctly with the embedder's.

use crate::Errno;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::sync::{Arc, Mutex, MutexGuard};

/// Bytes a guest reads as its standard input, shared with the embedder.
///
/// Cloning gives another handle to the same pipe.
#[derive(Clone, Debug, Default)]
pub struct MemoryInputPipe {
    inner: Arc<Mutex<InputState>>,
}

#[derive(Debug, Default)]
struct InputState {
    data: Vec<u8>,
    pos: usize,
}

impl MemoryInputPipe {
    /// A pipe that yields `data`, then end of file.
    pub fn new(data: impl Into<Vec<u8>>) -> MemoryInputPipe {
        MemoryInputPipe {
            inner: Arc::new(Mutex::new(InputState {
                data: data.into(),
                pos: 0,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, InputState> {
        // A panic while holding the lock cannot leave the state
        // inconsistent (it is two plain fields), so poisoning is ignored.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Copies unread bytes into `buf`; 0 at end of file.
    pub(crate) fn read(&self, buf: &mut [u8]) -> usize {
        let mut state = self.lock();
        let start = state.pos.min(state.data.len());
        let n = buf.len().min(state.data.len() - start);
        buf[..n].copy_from_slice(&state.data[start..start + n]);
        state.pos = start + n;
        n
    }

    /// How many bytes are left to read.
    pub(crate) fn remaining(&self) -> usize {
        let state = self.lock();
        state.data.len().saturating_sub(state.pos)
    }
}

/// A buffer that collects what a guest writes to stdout or stderr, shared
/// with the embedder, who reads it with [`contents`](Self::contents).
///
/// Cloning gives another handle to the same buffer.
#[derive(Clone, Debug)]
pub struct MemoryOutputPipe {
    inner: Arc<Mutex<Vec<u8>>>,
    capacity: usize,
}

impl MemoryOutputPipe {
    /// A pipe that holds at most `capacity` bytes; a write past that fails
    /// with `ENOSPC` after storing what fits.
    pub fn new(capacity: usize) -> MemoryOutputPipe {
        MemoryOutputPipe {
            inner: Arc::new(Mutex::new(Vec::new())),
            capacity,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<u8>> {
        // A `Vec` is consistent after any panic, so poisoning is ignored.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.lock().clone()
    }

    /// Appends `data`, up to the capacity.
    pub(crate) fn write(&self, data: &[u8]) -> Result<usize, Errno> {
        let mut buf = self.lock();
        let room = self.capacity.saturating_sub(buf.len());
        if room == 0 && !data.is_empty() {
            return Err(Errno::Nospc);
        }
        let n = data.len().min(room);
        buf.extend_from_slice(&data[..n]);
        Ok(n)
    }
}

/// Where a guest's standard input comes from.
#[derive(Debug, Clone, Default)]
pub(crate) enum InputStream {
    /// Always at end of file.
    #[default]
    Null,
    /// The host's standard input.
    Inherit,
    /// An in-memory pipe.
    Memory(MemoryInputPipe),
}

impl InputStream {
    /// Reads into `buf`, blocking until data or end of file.
    pub(crate) fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        match self {
            InputStream::Null => Ok(0),
            InputStream::Memory(pipe) => Ok(pipe.read(buf)),
            InputStream::Inherit => {
                let stdin = io::stdin();
                loop {
                    match rustix::io::read(stdin.as_fd(), &mut *buf) {
                        Ok(n) => return Ok(n),
                        Err(rustix::io::Errno::INTR) => continue,
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        }
    }
}

/// Which host stream an inherited output writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostOutput {
    Stdout,
    Stderr,
}

/// Where a guest's standard output or error goes.
#[derive(Debug, Clone, Default)]
pub(crate) enum OutputStream {
    /// Discarded.
    #[default]
    Null,
    /// The host's stdout or stderr.
    Inherit(HostOutput),
    /// An in-memory pipe.
    Memory(MemoryOutputPipe),
}

impl OutputStream {
    /// Writes all of `data` (or as much as a memory pipe holds).
    pub(crate) fn write(&self, data: &[u8]) -> Result<usize, Errno> {
        match self {
            OutputStream::Null => Ok(data.len()),
            OutputStream::Memory(pipe) => pipe.write(data),
            OutputStream::Inherit(HostOutput::Stdout) => {
                let mut out = io::stdout().lock();
                out.write_all(data)?;
                out.flush()?;
                Ok(data.len())
            }
            OutputStream::Inherit(HostOutput::Stderr) => {
                io::stderr().lock().write_all(data)?;
                Ok(data.len())
            }
        }
    }

    /// Is this the host's terminal?
    pub(crate) fn is_terminal(&self) -> bool {
        use std::io::IsTerminal;
        match self {
            OutputStream::Inherit(HostOutput::Stdout) => io::stdout().is_terminal(),
            OutputStream::Inherit(HostOutput::Stderr) => io::stderr().is_terminal(),
            _ => false,
        }
    }
}

impl InputStream {
    /// Is this the host's terminal?
    pub(crate) fn is_terminal(&self) -> bool {
        use std::io::IsTerminal;
        matches!(self, InputStream::Inherit) && io::stdin().is_terminal()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_pipes_read_and_write() {
        let input = MemoryInputPipe::new("hello");
        let mut buf = [0u8; 3];
        assert_eq!(input.read(&mut buf), 3);
        assert_eq!(&buf, b"hel");
        assert_eq!(input.remaining(), 2);
        assert_eq!(input.clone().read(&mut buf), 2);
        assert_eq!(input.read(&mut buf), 0);

        let output = MemoryOutputPipe::new(4);
        assert_eq!(output.write(b"abc"), Ok(3));
        assert_eq!(output.write(b"de"), Ok(1));
        assert_eq!(output.write(b"f"), Err(Errno::Nospc));
        assert_eq!(output.contents(), b"abcd");
    }
}
