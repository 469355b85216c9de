//! The numbers of the `wasi_snapshot_preview1` ABI: rights, flags, file
//! types, and the byte layouts of the structures guests pass by pointer.
//!
//! Values and offsets follow the preview 1 `witx` definitions (the same ones
//! wasi-libc's `<wasi/api.h>` asserts with `_Static_assert`). All integers
//! in guest memory are little-endian.

/// The import module name of every preview 1 function.
pub const MODULE: &str = "wasi_snapshot_preview1";

/// `rights`: what a file descriptor may be used for.
pub mod rights {
    #![allow(missing_docs)]
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ADVISE: u64 = 1 << 7;
    pub const FD_ALLOCATE: u64 = 1 << 8;
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    pub const PATH_LINK_SOURCE: u64 = 1 << 11;
    pub const PATH_LINK_TARGET: u64 = 1 << 12;
    pub const PATH_OPEN: u64 = 1 << 13;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const PATH_READLINK: u64 = 1 << 15;
    pub const PATH_RENAME_SOURCE: u64 = 1 << 16;
    pub const PATH_RENAME_TARGET: u64 = 1 << 17;
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub const PATH_SYMLINK: u64 = 1 << 24;
    pub const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    pub const SOCK_SHUTDOWN: u64 = 1 << 28;
    pub const SOCK_ACCEPT: u64 = 1 << 29;

    /// Directory rights that only look.
    pub const DIR_READ: u64 = PATH_OPEN
        | FD_READDIR
        | PATH_READLINK
        | PATH_FILESTAT_GET
        | FD_FILESTAT_GET
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | POLL_FD_READWRITE;
    /// Directory rights that change the tree.
    pub const DIR_MUTATE: u64 = PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_FILESTAT_SET_SIZE
        | PATH_FILESTAT_SET_TIMES
        | FD_FILESTAT_SET_TIMES
        | FD_DATASYNC
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE;
    /// Every right that applies to a directory.
    pub const DIR_ALL: u64 = DIR_READ | DIR_MUTATE;
    /// File rights that only read.
    pub const FILE_READ: u64 = FD_READ
        | FD_SEEK
        | FD_TELL
        | FD_FILESTAT_GET
        | FD_FDSTAT_SET_FLAGS
        | FD_ADVISE
        | FD_SYNC
        | POLL_FD_READWRITE;
    /// File rights that write.
    pub const FILE_WRITE: u64 =
        FD_WRITE | FD_DATASYNC | FD_ALLOCATE | FD_FILESTAT_SET_SIZE | FD_FILESTAT_SET_TIMES;
    /// Every right that applies to a regular file.
    pub const FILE_ALL: u64 = FILE_READ | FILE_WRITE;
    /// The rights that need a file opened for writing on the host.
    pub const NEED_HOST_WRITE: u64 = FD_WRITE | FD_ALLOCATE | FD_FILESTAT_SET_SIZE;
    /// Every defined right.
    pub const ALL: u64 = (1 << 30) - 1;
}

/// `filetype`.
pub mod filetype {
    #![allow(missing_docs)]
    pub const UNKNOWN: u8 = 0;
    pub const BLOCK_DEVICE: u8 = 1;
    pub const CHARACTER_DEVICE: u8 = 2;
    pub const DIRECTORY: u8 = 3;
    pub const REGULAR_FILE: u8 = 4;
    pub const SOCKET_DGRAM: u8 = 5;
    pub const SOCKET_STREAM: u8 = 6;
    pub const SYMBOLIC_LINK: u8 = 7;
}

/// `fdflags`.
pub mod fdflags {
    #![allow(missing_docs)]
    pub const APPEND: u16 = 1 << 0;
    pub const DSYNC: u16 = 1 << 1;
    pub const NONBLOCK: u16 = 1 << 2;
    pub const RSYNC: u16 = 1 << 3;
    pub const SYNC: u16 = 1 << 4;
    pub const ALL: u16 = (1 << 5) - 1;
}

/// `oflags` (for `path_open`).
pub mod oflags {
    #![allow(missing_docs)]
    pub const CREAT: u16 = 1 << 0;
    pub const DIRECTORY: u16 = 1 << 1;
    pub const EXCL: u16 = 1 << 2;
    pub const TRUNC: u16 = 1 << 3;
    pub const ALL: u16 = (1 << 4) - 1;
}

/// `lookupflags`.
pub mod lookupflags {
    #![allow(missing_docs)]
    pub const SYMLINK_FOLLOW: u32 = 1 << 0;
}

/// `fstflags` (for the `*_filestat_set_times` functions).
pub mod fstflags {
    #![allow(missing_docs)]
    pub const ATIM: u16 = 1 << 0;
    pub const ATIM_NOW: u16 = 1 << 1;
    pub const MTIM: u16 = 1 << 2;
    pub const MTIM_NOW: u16 = 1 << 3;
    pub const ALL: u16 = (1 << 4) - 1;
}

/// `whence` (for `fd_seek`).
pub mod whence {
    #![allow(missing_docs)]
    pub const SET: u8 = 0;
    pub const CUR: u8 = 1;
    pub const END: u8 = 2;
}

/// `clockid`.
pub mod clockid {
    #![allow(missing_docs)]
    pub const REALTIME: u32 = 0;
    pub const MONOTONIC: u32 = 1;
    pub const PROCESS_CPUTIME_ID: u32 = 2;
    pub const THREAD_CPUTIME_ID: u32 = 3;
}

/// `eventtype`, the tag of a subscription and of an event.
pub mod eventtype {
    #![allow(missing_docs)]
    pub const CLOCK: u8 = 0;
    pub const FD_READ: u8 = 1;
    pub const FD_WRITE: u8 = 2;
}

/// `eventrwflags`.
pub mod eventrwflags {
    #![allow(missing_docs)]
    pub const FD_READWRITE_HANGUP: u16 = 1 << 0;
}

/// `subclockflags`.
pub mod subclockflags {
    #![allow(missing_docs)]
    pub const SUBSCRIPTION_CLOCK_ABSTIME: u16 = 1 << 0;
}

/// `advice` values run from `normal` (0) to `noreuse` (5).
pub const ADVICE_MAX: u8 = 5;

/// `preopentype::dir`, the only preopen type.
pub const PREOPENTYPE_DIR: u8 = 0;

/// Sizes of the structures in guest memory.
pub mod size {
    #![allow(missing_docs)]
    pub const IOVEC: u32 = 8;
    pub const FDSTAT: u32 = 24;
    pub const FILESTAT: u32 = 64;
    pub const PRESTAT: u32 = 8;
    pub const DIRENT: u32 = 24;
    pub const SUBSCRIPTION: u32 = 48;
    pub const EVENT: u32 = 32;
}

/// `filestat`, as written to guest memory.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Filestat {
    /// Device id.
    pub dev: u64,
    /// Inode.
    pub ino: u64,
    /// A `filetype` value.
    pub filetype: u8,
    /// Number of hard links.
    pub nlink: u64,
    /// Size in bytes.
    pub size: u64,
    /// Last access, nanoseconds since the epoch.
    pub atim: u64,
    /// Last modification, nanoseconds since the epoch.
    pub mtim: u64,
    /// Last status change, nanoseconds since the epoch.
    pub ctim: u64,
}

impl Filestat {
    /// The structure's 64 bytes.
    pub fn to_bytes(&self) -> [u8; size::FILESTAT as usize] {
        let mut out = [0u8; size::FILESTAT as usize];
        out[0..8].copy_from_slice(&self.dev.to_le_bytes());
        out[8..16].copy_from_slice(&self.ino.to_le_bytes());
        out[16] = self.filetype;
        out[24..32].copy_from_slice(&self.nlink.to_le_bytes());
        out[32..40].copy_from_slice(&self.size.to_le_bytes());
        out[40..48].copy_from_slice(&self.atim.to_le_bytes());
        out[48..56].copy_from_slice(&self.mtim.to_le_bytes());
        out[56..64].copy_from_slice(&self.ctim.to_le_bytes());
        out
    }
}

/// `fdstat`, as written to guest memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fdstat {
    /// A `filetype` value.
    pub filetype: u8,
    /// `fdflags`.
    pub flags: u16,
    /// The descriptor's rights.
    pub rights_base: u64,
    /// The rights descriptors opened through it may have.
    pub rights_inheriting: u64,
}

impl Fdstat {
    /// The structure's 24 bytes.
    pub fn to_bytes(&self) -> [u8; size::FDSTAT as usize] {
        let mut out = [0u8; size::FDSTAT as usize];
        out[0] = self.filetype;
        out[2..4].copy_from_slice(&self.flags.to_le_bytes());
        out[8..16].copy_from_slice(&self.rights_base.to_le_bytes());
        out[16..24].copy_from_slice(&self.rights_inheriting.to_le_bytes());
        out
    }
}

/// The numbers of the older `wasi_unstable` ABI (WASI snapshot 0) where
/// they differ from preview 1; everything not here is the same.
///
/// Snapshot 0 has no `sock_accept` (function or right), orders `whence`
/// differently, counts hard links in 32 bits (so `filestat` is 56 bytes
/// with `size` at offset 24), and gives a clock subscription an
/// `identifier` field of its own before the clock id (so a subscription is
/// 56 bytes).
pub mod unstable {
    use super::Filestat;

    /// The import module name of every snapshot 0 function.
    pub const MODULE: &str = "wasi_unstable";

    /// `whence` in snapshot 0 (preview 1: set 0, cur 1, end 2).
    pub mod whence {
        #![allow(missing_docs)]
        pub const CUR: u8 = 0;
        pub const END: u8 = 1;
        pub const SET: u8 = 2;
    }

    /// Every right snapshot 0 defines (preview 1 adds `sock_accept`, bit 29).
    pub const RIGHTS_ALL: u64 = (1 << 29) - 1;

    /// Sizes of the structures whose layout differs from preview 1.
    pub mod size {
        #![allow(missing_docs)]
        pub const FILESTAT: u32 = 56;
        pub const SUBSCRIPTION: u32 = 56;
    }

    /// Offsets inside a clock subscription (from the subscription's
    /// start): `identifier` (u64), `id` (u32), `timeout` (u64),
    /// `precision` (u64), `flags` (u16).
    pub mod subscription_clock {
        #![allow(missing_docs)]
        pub const IDENTIFIER: u32 = 16;
        pub const ID: u32 = 24;
        pub const TIMEOUT: u32 = 32;
        pub const PRECISION: u32 = 40;
        pub const FLAGS: u32 = 48;
    }

    /// `filestat` as snapshot 0 lays it out: a link count above
    /// `u32::MAX` is written as `u32::MAX`.
    pub fn filestat_bytes(stat: &Filestat) -> [u8; size::FILESTAT as usize] {
        let mut out = [0u8; size::FILESTAT as usize];
        out[0..8].copy_from_slice(&stat.dev.to_le_bytes());
        out[8..16].copy_from_slice(&stat.ino.to_le_bytes());
        out[16] = stat.filetype;
        let nlink = u32::try_from(stat.nlink).unwrap_or(u32::MAX);
        out[20..24].copy_from_slice(&nlink.to_le_bytes());
        out[24..32].copy_from_slice(&stat.size.to_le_bytes());
        out[32..40].copy_from_slice(&stat.atim.to_le_bytes());
        out[40..48].copy_from_slice(&stat.mtim.to_le_bytes());
        out[48..56].copy_from_slice(&stat.ctim.to_le_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot0_filestat_has_a_32_bit_link_count() {
        let stat = Filestat {
            dev: 1,
            ino: 2,
            filetype: filetype::DIRECTORY,
            nlink: u64::from(u32::MAX) + 5,
            size: 0x1122_3344_5566_7788,
            atim: 5,
            mtim: 6,
            ctim: 7,
        };
        let bytes = unstable::filestat_bytes(&stat);
        assert_eq!(bytes[16], filetype::DIRECTORY);
        assert_eq!(
            u32::from_le_bytes(bytes[20..24].try_into().unwrap()),
            u32::MAX
        );
        assert_eq!(
            u64::from_le_bytes(bytes[24..32].try_into().unwrap()),
            0x1122_3344_5566_7788
        );
        assert_eq!(u64::from_le_bytes(bytes[48..56].try_into().unwrap()), 7);
    }

    #[test]
    fn structures_have_the_witx_layout() {
        let stat = Filestat {
            dev: 1,
            ino: 2,
            filetype: filetype::REGULAR_FILE,
            nlink: 3,
            size: 4,
            atim: 5,
            mtim: 6,
            ctim: 7,
        };
        let bytes = stat.to_bytes();
        assert_eq!(bytes[16], 4);
        assert_eq!(u64::from_le_bytes(bytes[56..64].try_into().unwrap()), 7);
        let fdstat = Fdstat {
            filetype: filetype::DIRECTORY,
            flags: fdflags::APPEND,
            rights_base: rights::PATH_OPEN,
            rights_inheriting: rights::FD_READ,
        };
        let bytes = fdstat.to_bytes();
        assert_eq!(&bytes[0..4], &[3, 0, 1, 0]);
        assert_eq!(
            u64::from_le_bytes(bytes[8..16].try_into().unwrap()),
            1 << 13
        );
        assert_eq!(
            rights::ALL,
            rights::DIR_ALL | rights::FILE_ALL | 0x3000_0000
        );
    }
}
