//! Filesystem helpers: opening paths inside a directory capability,
//! converting host metadata to WASI's `filestat`, directory listings and
//! timestamps.
//!
//! Containment is cap-std's job: every path is resolved by
//! `cap_std::fs::Dir` relative to the descriptor's directory, which refuses
//! any resolution — through `..`, an absolute path or a symbolic link
//! (absolute, or relative and climbing out) — that would leave it (on Linux
//! with `openat2(RESOLVE_BENEATH)` where available, otherwise by resolving
//! one component at a time in user space). Absolute guest paths are
//! refused here before cap-std sees them, so their error is always
//! `ENOTCAPABLE`.

use crate::Errno;
use crate::abi::{filetype, fstflags, oflags};
use crate::table::DirEntry;
use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsMaybeDirExt};
use cap_std::fs::{Dir, FileType, Metadata, MetadataExt, OpenOptions};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// Checks a guest path before resolution: absolute paths are outside
/// every capability (`ENOTCAPABLE`), and a path with a NUL byte cannot be
/// given to the host's C interface (`EILSEQ`).
pub(crate) fn guest_path(path: &str) -> Result<&Path, Errno> {
    if path.starts_with('/') {
        return Err(Errno::Notcapable);
    }
    if path.contains('\0') {
        return Err(Errno::Ilseq);
    }
    Ok(Path::new(path))
}

/// The WASI file type of a host file type.
pub(crate) fn filetype_of(ty: &FileType) -> u8 {
    use cap_std::fs::FileTypeExt;
    if ty.is_dir() {
        filetype::DIRECTORY
    } else if ty.is_file() {
        filetype::REGULAR_FILE
    } else if ty.is_symlink() {
        filetype::SYMBOLIC_LINK
    } else if ty.is_block_device() {
        filetype::BLOCK_DEVICE
    } else if ty.is_char_device() {
        filetype::CHARACTER_DEVICE
    } else if ty.is_socket() {
        filetype::SOCKET_STREAM
    } else {
        filetype::UNKNOWN
    }
}

/// Seconds and nanoseconds since the epoch as a WASI timestamp (0 before
/// the epoch, saturating far after it).
fn timestamp(secs: i64, nsecs: i64) -> u64 {
    if secs < 0 {
        return 0;
    }
    (secs as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(nsecs.clamp(0, 999_999_999) as u64)
}

/// `filestat` of host metadata.
pub(crate) fn filestat_of(meta: &Metadata) -> crate::abi::Filestat {
    crate::abi::Filestat {
        dev: meta.dev(),
        ino: meta.ino(),
        filetype: filetype_of(&meta.file_type()),
        nlink: meta.nlink(),
        size: meta.len(),
        atim: timestamp(meta.atime(), meta.atime_nsec()),
        mtim: timestamp(meta.mtime(), meta.mtime_nsec()),
        ctim: timestamp(meta.ctime(), meta.ctime_nsec()),
    }
}

/// The metadata of an open host file.
pub(crate) fn file_metadata(file: &std::fs::File) -> Result<Metadata, Errno> {
    Ok(Metadata::from_file(file)?)
}

/// What `path_open` opened.
pub(crate) enum Opened {
    File(std::fs::File),
    Dir(Dir),
}

/// How `path_open` opens a path on the host.
pub(crate) struct OpenRequest {
    pub(crate) follow: bool,
    pub(crate) oflags: u16,
    pub(crate) append: bool,
    pub(crate) read: bool,
    pub(crate) write: bool,
}

/// Opens `path` inside `dir`.
pub(crate) fn open(dir: &Dir, path: &Path, req: &OpenRequest) -> Result<Opened, Errno> {
    if req.oflags & oflags::DIRECTORY != 0 {
        if req.oflags & (oflags::CREAT | oflags::TRUNC) != 0 {
            return Err(Errno::Inval);
        }
        let opened = if req.follow {
            dir.open_dir(path)?
        } else {
            dir.open_dir_nofollow(path)?
        };
        return Ok(Opened::Dir(opened));
    }
    let mut options = OpenOptions::new();
    options.read(req.read).write(req.write).append(req.append);
    if req.oflags & oflags::CREAT != 0 {
        if req.oflags & oflags::EXCL != 0 {
            options.create_new(true);
        } else {
            options.create(true);
        }
    }
    if req.oflags & oflags::TRUNC != 0 {
        options.truncate(true);
    }
    options.follow(if req.follow {
        FollowSymlinks::Yes
    } else {
        FollowSymlinks::No
    });
    options.maybe_dir(!req.write);
    let file = dir.open_with(path, &options)?.into_std();
    if file.metadata()?.is_dir() {
        return Ok(Opened::Dir(Dir::from_std_file(file)));
    }
    Ok(Opened::File(file))
}

/// The entries of `dir`, with `.` and `..` first.
pub(crate) fn listing(dir: &Dir) -> Result<Vec<DirEntry>, Errno> {
    let own_ino = dir.dir_metadata()?.ino();
    // The parent's inode number is read on the host side only so that
    // `..` has a non-zero one (wasi-libc would otherwise try to stat `..`,
    // which the sandbox refuses at a preopen's root).
    let parent_ino = rustix::fs::statat(dir, "..", rustix::fs::AtFlags::SYMLINK_NOFOLLOW)
        .map(|stat| stat.st_ino)
        .unwrap_or(own_ino);
    let mut entries = vec![
        DirEntry {
            name: b".".to_vec(),
            ino: own_ino,
            filetype: filetype::DIRECTORY,
        },
        DirEntry {
            name: b"..".to_vec(),
            ino: parent_ino,
            filetype: filetype::DIRECTORY,
        },
    ];
    for entry in dir.entries()? {
        let entry = entry?;
        let name = entry.file_name();
        let filetype = entry
            .file_type()
            .map(|ty| filetype_of(&ty))
            .unwrap_or(filetype::UNKNOWN);
        entries.push(DirEntry {
            name: OsStr::as_bytes(&name).to_vec(),
            ino: rustix::fs::DirEntryExt::ino(&entry),
            filetype,
        });
    }
    Ok(entries)
}

/// A timestamp change requested by `*_filestat_set_times`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeChange {
    Keep,
    Now,
    At(u64),
}

/// Decodes the access and modification changes of `fst_flags`.
pub(crate) fn time_changes(atim: u64, mtim: u64, flags: u16) -> Result<[TimeChange; 2], Errno> {
    if flags & !fstflags::ALL != 0 {
        return Err(Errno::Inval);
    }
    let one = |set: u16, now: u16, value: u64| match (flags & set != 0, flags & now != 0) {
        (true, true) => Err(Errno::Inval),
        (true, false) => Ok(TimeChange::At(value)),
        (false, true) => Ok(TimeChange::Now),
        (false, false) => Ok(TimeChange::Keep),
    };
    Ok([
        one(fstflags::ATIM, fstflags::ATIM_NOW, atim)?,
        one(fstflags::MTIM, fstflags::MTIM_NOW, mtim)?,
    ])
}

/// Applies time changes to an open file.
pub(crate) fn set_file_times(file: &std::fs::File, changes: [TimeChange; 2]) -> Result<(), Errno> {
    Ok(rustix::fs::futimens(file, &timestamps(changes))?)
}

/// Applies time changes to an open directory. cap-std opens directories
/// with `O_PATH` on Linux, which `futimens` refuses (`EBADF`), so the
/// directory is named as `.` relative to itself.
pub(crate) fn set_dir_times(dir: &Dir, changes: [TimeChange; 2]) -> Result<(), Errno> {
    use rustix::fs::{AtFlags, utimensat};
    Ok(utimensat(dir, ".", &timestamps(changes), AtFlags::empty())?)
}

/// Flushes an open directory to disk. Like `futimens`, `fsync` refuses an
/// `O_PATH` descriptor, so this opens the directory itself (`.`) for
/// reading first.
pub(crate) fn sync_dir(dir: &Dir) -> Result<(), Errno> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let readable = rustix::fs::openat(dir, ".", flags, Mode::empty())?;
    Ok(rustix::fs::fsync(readable)?)
}

/// The `utimensat` timestamps of time changes.
fn timestamps(changes: [TimeChange; 2]) -> rustix::fs::Timestamps {
    let spec = |change: TimeChange| match change {
        TimeChange::Keep => rustix::fs::Timespec {
            tv_sec: 0,
            tv_nsec: rustix::fs::UTIME_OMIT,
        },
        TimeChange::Now => rustix::fs::Timespec {
            tv_sec: 0,
            tv_nsec: rustix::fs::UTIME_NOW,
        },
        TimeChange::At(ns) => rustix::fs::Timespec {
            tv_sec: (ns / 1_000_000_000) as i64,
            tv_nsec: (ns % 1_000_000_000) as _,
        },
    };
    rustix::fs::Timestamps {
        last_access: spec(changes[0]),
        last_modification: spec(changes[1]),
    }
}

/// Applies time changes to `path` inside `dir`.
pub(crate) fn set_path_times(
    dir: &Dir,
    path: &Path,
    follow: bool,
    changes: [TimeChange; 2],
) -> Result<(), Errno> {
    let spec = |change: TimeChange| match change {
        TimeChange::Keep => None,
        TimeChange::Now => Some(cap_fs_ext::SystemTimeSpec::SymbolicNow),
        TimeChange::At(ns) => Some(cap_fs_ext::SystemTimeSpec::Absolute(
            cap_std::time::SystemTime::from_std(SystemTime::UNIX_EPOCH + Duration::from_nanos(ns)),
        )),
    };
    let (atime, mtime) = (spec(changes[0]), spec(changes[1]));
    if follow {
        dir.set_times(path, atime, mtime)?;
    } else {
        dir.set_symlink_times(path, atime, mtime)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_paths_must_be_relative_and_nul_free() {
        assert_eq!(guest_path("/etc/passwd"), Err(Errno::Notcapable));
        assert_eq!(guest_path("a\0b"), Err(Errno::Ilseq));
        assert!(guest_path("a/../b").is_ok());
    }

    #[test]
    fn time_flags_are_validated() {
        assert_eq!(
            time_changes(1, 2, fstflags::ATIM | fstflags::MTIM_NOW),
            Ok([TimeChange::At(1), TimeChange::Now])
        );
        assert_eq!(
            time_changes(1, 2, fstflags::ATIM | fstflags::ATIM_NOW),
            Err(Errno::Inval)
        );
        assert_eq!(time_changes(0, 0, 1 << 7), Err(Errno::Inval));
        assert_eq!(timestamp(-5, 0), 0);
        assert_eq!(timestamp(1, 5), 1_000_000_005);
    }
}
