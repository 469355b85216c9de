//! The guest's file descriptor table.
//!
//! A descriptor is an open object (a stream, a host file, or a directory
//! capability) plus the WASI rights it carries. Numbers are handed out
//! lowest-free-first, like POSIX; 0–2 are stdio and the preopened
//! directories follow from 3.

use crate::Errno;
use crate::abi::{filetype, rights};
use crate::stdio::{InputStream, OutputStream};
use std::collections::BTreeMap;

/// An open file on the host.
#[derive(Debug)]
pub(crate) struct FileObject {
    pub(crate) file: std::fs::File,
}

/// A directory capability: every path the guest names through it is
/// resolved inside it by cap-std.
#[derive(Debug)]
pub(crate) struct DirObject {
    pub(crate) dir: cap_std::fs::Dir,
    /// The listing `fd_readdir` pages through; taken afresh when a guest
    /// starts again from cookie 0.
    pub(crate) listing: Option<Vec<DirEntry>>,
}

/// One entry of a directory listing.
#[derive(Debug, Clone)]
pub(crate) struct DirEntry {
    pub(crate) name: Vec<u8>,
    pub(crate) ino: u64,
    pub(crate) filetype: u8,
}

/// What a descriptor refers to.
#[derive(Debug)]
pub(crate) enum Object {
    Input(InputStream),
    Output(OutputStream),
    File(FileObject),
    Dir(DirObject),
}

/// An entry of the table.
#[derive(Debug)]
pub(crate) struct Descriptor {
    pub(crate) object: Object,
    pub(crate) rights_base: u64,
    pub(crate) rights_inheriting: u64,
    /// `fdflags` as last set (the host file's own flags follow them).
    pub(crate) flags: u16,
    /// The guest-visible name, for preopened directories.
    pub(crate) preopen: Option<String>,
}

impl Descriptor {
    /// A standard input descriptor.
    pub(crate) fn input(stream: InputStream) -> Descriptor {
        Descriptor {
            object: Object::Input(stream),
            rights_base: rights::FD_READ
                | rights::FD_FDSTAT_SET_FLAGS
                | rights::FD_FILESTAT_GET
                | rights::POLL_FD_READWRITE,
            rights_inheriting: 0,
            flags: 0,
            preopen: None,
        }
    }

    /// A standard output or error descriptor.
    pub(crate) fn output(stream: OutputStream) -> Descriptor {
        Descriptor {
            object: Object::Output(stream),
            rights_base: rights::FD_WRITE
                | rights::FD_FDSTAT_SET_FLAGS
                | rights::FD_FILESTAT_GET
                | rights::POLL_FD_READWRITE,
            rights_inheriting: 0,
            flags: 0,
            preopen: None,
        }
    }

    /// Fails with `ENOTCAPABLE` unless the descriptor has every right in
    /// `required`.
    pub(crate) fn require(&self, required: u64) -> Result<(), Errno> {
        if self.rights_base & required == required {
            Ok(())
        } else {
            Err(Errno::Notcapable)
        }
    }

    /// The descriptor's `filetype`.
    pub(crate) fn filetype(&self) -> u8 {
        match &self.object {
            Object::Input(stream) if stream.is_terminal() => filetype::CHARACTER_DEVICE,
            Object::Output(stream) if stream.is_terminal() => filetype::CHARACTER_DEVICE,
            Object::Input(_) | Object::Output(_) => filetype::UNKNOWN,
            Object::Dir(_) => filetype::DIRECTORY,
            Object::File(f) => match crate::fs::file_metadata(&f.file) {
                Ok(meta) => crate::fs::filetype_of(&meta.file_type()),
                Err(_) => filetype::UNKNOWN,
            },
        }
    }

    /// The directory, or `ENOTDIR`.
    pub(crate) fn dir(&self) -> Result<&DirObject, Errno> {
        match &self.object {
            Object::Dir(d) => Ok(d),
            _ => Err(Errno::Notdir),
        }
    }
}

/// Descriptor number → descriptor.
#[derive(Debug, Default)]
pub(crate) struct Table {
    entries: BTreeMap<u32, Descriptor>,
}

/// Descriptors above this number are refused with `EMFILE`.
const MAX_FD: u32 = 1 << 20;

impl Table {
    /// Places `descriptor` at the lowest free number.
    pub(crate) fn push(&mut self, descriptor: Descriptor) -> Result<u32, Errno> {
        let mut fd = 0u32;
        for &used in self.entries.keys() {
            if used != fd {
                break;
            }
            fd += 1;
        }
        if fd >= MAX_FD {
            return Err(Errno::Mfile);
        }
        self.entries.insert(fd, descriptor);
        Ok(fd)
    }

    /// Places `descriptor` at `fd`, replacing what was there.
    pub(crate) fn insert_at(&mut self, fd: u32, descriptor: Descriptor) {
        self.entries.insert(fd, descriptor);
    }

    /// The descriptor `fd`, or `EBADF`.
    pub(crate) fn get(&self, fd: u32) -> Result<&Descriptor, Errno> {
        self.entries.get(&fd).ok_or(Errno::Badf)
    }

    /// The descriptor `fd`, writable, or `EBADF`.
    pub(crate) fn get_mut(&mut self, fd: u32) -> Result<&mut Descriptor, Errno> {
        self.entries.get_mut(&fd).ok_or(Errno::Badf)
    }

    /// Removes `fd`, or fails with `EBADF`.
    pub(crate) fn remove(&mut self, fd: u32) -> Result<Descriptor, Errno> {
        self.entries.remove(&fd).ok_or(Errno::Badf)
    }

    /// Does `fd` exist?
    pub(crate) fn contains(&self, fd: u32) -> bool {
        self.entries.contains_key(&fd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_lowest_free_first() {
        let mut table = Table::default();
        let null = || Descriptor::input(InputStream::Null);
        assert_eq!(table.push(null()), Ok(0));
        assert_eq!(table.push(null()), Ok(1));
        assert_eq!(table.push(null()), Ok(2));
        table.remove(1).unwrap();
        assert_eq!(table.push(null()), Ok(1));
        assert_eq!(table.push(null()), Ok(3));
        assert_eq!(table.remove(7).err(), Some(Errno::Badf));
        assert_eq!(
            table.get(0).unwrap().require(rights::FD_WRITE),
            Err(Errno::Notcapable)
        );
    }
}
