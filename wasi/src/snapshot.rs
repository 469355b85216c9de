//! Which of the two WASI ABIs a call came in through: `wasi_snapshot_preview1`
//! or the older `wasi_unstable` (snapshot 0).
//!
//! Both are served by the same implementation (`preview1.rs`, `poll.rs`);
//! the functions whose guest-visible layout differs take a [`Snapshot`]
//! and ask it for the layout. Everything else — every other function,
//! errno values, flags, `fdstat`, `prestat`, `dirent`, `event`, `iovec` —
//! is the same in both, as wasmtime's `preview0` adapter also assumes.

use crate::abi::{self, Filestat, unstable};
use crate::memory::GuestMemory;
use crate::preview1::Result;

/// The ABI a function was imported under.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Snapshot {
    /// `wasi_unstable`, snapshot 0.
    Unstable,
    /// `wasi_snapshot_preview1`.
    Preview1,
}

/// Where a clock subscription keeps the fields `poll_oneoff` reads.
pub(crate) struct ClockFields {
    pub(crate) id: u32,
    pub(crate) timeout: u32,
    pub(crate) flags: u32,
}

impl Snapshot {
    /// The import module name.
    pub(crate) fn module(self) -> &'static str {
        match self {
            Snapshot::Unstable => unstable::MODULE,
            Snapshot::Preview1 => abi::MODULE,
        }
    }

    /// The size of `filestat`.
    pub(crate) fn filestat_size(self) -> u32 {
        match self {
            Snapshot::Unstable => unstable::size::FILESTAT,
            Snapshot::Preview1 => abi::size::FILESTAT,
        }
    }

    /// Writes `stat` at `out` in this ABI's layout (`out` already checked
    /// writable for [`Snapshot::filestat_size`] bytes, or checked here).
    pub(crate) fn write_filestat(
        self,
        mem: &mut GuestMemory<'_>,
        out: u32,
        stat: &Filestat,
    ) -> Result {
        match self {
            Snapshot::Unstable => mem.write(out, &unstable::filestat_bytes(stat)),
            Snapshot::Preview1 => mem.write(out, &stat.to_bytes()),
        }
    }

    /// A guest's `whence` as preview 1 numbers it; an unknown value stays
    /// unknown (`u8::MAX`), which `fd_seek` refuses with `EINVAL`.
    pub(crate) fn whence(self, whence: u8) -> u8 {
        match self {
            Snapshot::Preview1 => whence,
            Snapshot::Unstable => match whence {
                unstable::whence::SET => abi::whence::SET,
                unstable::whence::CUR => abi::whence::CUR,
                unstable::whence::END => abi::whence::END,
                _ => u8::MAX,
            },
        }
    }

    /// The rights this ABI can express (snapshot 0 has no `sock_accept`).
    pub(crate) fn rights(self, rights: u64) -> u64 {
        match self {
            Snapshot::Unstable => rights & unstable::RIGHTS_ALL,
            Snapshot::Preview1 => rights,
        }
    }

    /// The size of a `subscription`.
    pub(crate) fn subscription_size(self) -> u32 {
        match self {
            Snapshot::Unstable => unstable::size::SUBSCRIPTION,
            Snapshot::Preview1 => abi::size::SUBSCRIPTION,
        }
    }

    /// The offsets of a clock subscription's fields.
    pub(crate) fn clock_fields(self) -> ClockFields {
        match self {
            Snapshot::Unstable => ClockFields {
                id: unstable::subscription_clock::ID,
                timeout: unstable::subscription_clock::TIMEOUT,
                flags: unstable::subscription_clock::FLAGS,
            },
            // userdata (8), tag (1) padded to 16, then id (4) padded to
            // 24, timeout (8), precision (8), flags (2).
            Snapshot::Preview1 => ClockFields {
                id: 16,
                timeout: 24,
                flags: 40,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot0_whence_maps_onto_preview1() {
        let s = Snapshot::Unstable;
        assert_eq!(s.whence(0), abi::whence::CUR);
        assert_eq!(s.whence(1), abi::whence::END);
        assert_eq!(s.whence(2), abi::whence::SET);
        assert_eq!(s.whence(3), u8::MAX);
        assert_eq!(Snapshot::Preview1.whence(2), abi::whence::END);
    }

    #[test]
    fn snapshot0_has_no_sock_accept_right() {
        let all = abi::rights::ALL;
        assert_eq!(Snapshot::Preview1.rights(all), all);
        assert_eq!(
            Snapshot::Unstable.rights(all),
            all & !abi::rights::SOCK_ACCEPT
        );
    }
}
