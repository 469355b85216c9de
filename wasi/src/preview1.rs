//! The `wasi_snapshot_preview1` functions, as methods of [`WasiCtx`].
//!
//! Each method takes the guest's memory and the function's arguments
//! (pointers as `u32`) and returns `Ok` or the `errno` for the guest. They
//! check every result pointer before doing anything with side effects, so
//! a bad pointer never leaves a half-done operation (an opened file, a
//! consumed read) behind. `proc_exit` is not here: it is not an errno but
//! the end of the program, handled by the linker glue.

use crate::abi::{self, Fdstat, Filestat, clockid, fdflags, lookupflags, rights, size};
use crate::fs::{self, OpenRequest, Opened};
use crate::memory::GuestMemory;
use crate::snapshot::Snapshot;
use crate::table::{Descriptor, DirObject, FileObject, Object};
use crate::{Errno, WasiCtx};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;

/// The result of a WASI function.
pub(crate) type Result<T = ()> = std::result::Result<T, Errno>;

/// Sizes of a NUL-terminated string list: (count, total bytes).
fn list_sizes(list: &[Vec<u8>]) -> Result<(u32, u32)> {
    let count = u32::try_from(list.len()).map_err(|_| Errno::Overflow)?;
    let mut total = 0u32;
    for item in list {
        let len = u32::try_from(item.len() + 1).map_err(|_| Errno::Overflow)?;
        total = total.checked_add(len).ok_or(Errno::Overflow)?;
    }
    Ok((count, total))
}

/// Writes a string list the `args_get`/`environ_get` way: pointers at
/// `ptrs`, NUL-terminated strings packed at `buf`.
fn write_list(mem: &mut GuestMemory<'_>, list: &[Vec<u8>], ptrs: u32, buf: u32) -> Result {
    let (count, total) = list_sizes(list)?;
    mem.array_range(ptrs, count, 4)?;
    mem.range(buf, total)?;
    // Both ranges were checked, so every address below fits in a `u32`
    // (the arithmetic is done in `u64` so that a buffer ending exactly at
    // 4 GiB cannot overflow).
    let mut offset = u64::from(buf);
    for (i, item) in (0u64..).zip(list) {
        let slot = u32::try_from(u64::from(ptrs) + 4 * i).map_err(|_| Errno::Fault)?;
        let start = u32::try_from(offset).map_err(|_| Errno::Fault)?;
        mem.write_u32(slot, start)?;
        let mut bytes = item.clone();
        bytes.push(0);
        mem.write(start, &bytes)?;
        offset += bytes.len() as u64;
    }
    Ok(())
}

/// The current time of a clock, in nanoseconds.
pub(crate) fn clock_now(id: u32) -> Result<u64> {
    let ts = rustix::time::clock_gettime(clock_of(id)?);
    Ok(timespec_ns(ts))
}

fn clock_of(id: u32) -> Result<rustix::time::ClockId> {
    use rustix::time::ClockId;
    Ok(match id {
        clockid::REALTIME => ClockId::Realtime,
        clockid::MONOTONIC => ClockId::Monotonic,
        clockid::PROCESS_CPUTIME_ID => ClockId::ProcessCPUTime,
        clockid::THREAD_CPUTIME_ID => ClockId::ThreadCPUTime,
        _ => return Err(Errno::Inval),
    })
}

fn timespec_ns(ts: rustix::time::Timespec) -> u64 {
    if ts.tv_sec < 0 {
        return 0;
    }
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec.clamp(0, 999_999_999) as u64)
}

/// The rights a guest asks for when opening through a directory are cut
/// to what the directory passes on and to what applies to what was opened
/// (`path_open` refuses outright a request to write where no write right is
/// passed on, so a write-mode open in a read-only preopen fails at `open`,
/// not at the first write).
fn opened_rights(dir: &Descriptor, requested: u64, is_dir: bool) -> u64 {
    let applicable = if is_dir {
        rights::DIR_ALL
    } else {
        rights::FILE_ALL
    };
    requested & dir.rights_inheriting & applicable
}

impl WasiCtx {
    // ----- arguments and environment -----------------------------------

    pub(crate) fn args_get(&self, mem: &mut GuestMemory<'_>, argv: u32, buf: u32) -> Result {
        write_list(mem, &self.args, argv, buf)
    }

    pub(crate) fn args_sizes_get(&self, mem: &mut GuestMemory<'_>, argc: u32, size: u32) -> Result {
        let (count, total) = list_sizes(&self.args)?;
        mem.check_writable(argc, 4)?;
        mem.check_writable(size, 4)?;
        mem.write_u32(argc, count)?;
        mem.write_u32(size, total)
    }

    pub(crate) fn environ_get(&self, mem: &mut GuestMemory<'_>, environ: u32, buf: u32) -> Result {
        write_list(mem, &self.env, environ, buf)
    }

    pub(crate) fn environ_sizes_get(
        &self,
        mem: &mut GuestMemory<'_>,
        count: u32,
        size: u32,
    ) -> Result {
        let (n, total) = list_sizes(&self.env)?;
        mem.check_writable(count, 4)?;
        mem.check_writable(size, 4)?;
        mem.write_u32(count, n)?;
        mem.write_u32(size, total)
    }

    // ----- clocks and random -------------------------------------------

    pub(crate) fn clock_res_get(&self, mem: &mut GuestMemory<'_>, id: u32, out: u32) -> Result {
        let res = timespec_ns(rustix::time::clock_getres(clock_of(id)?)).max(1);
        mem.write_u64(out, res)
    }

    pub(crate) fn clock_time_get(
        &self,
        mem: &mut GuestMemory<'_>,
        id: u32,
        _precision: u64,
        out: u32,
    ) -> Result {
        let now = clock_now(id)?;
        mem.write_u64(out, now)
    }

    pub(crate) fn random_get(&self, mem: &mut GuestMemory<'_>, buf: u32, len: u32) -> Result {
        let dest = mem.slice_mut(buf, len)?;
        getrandom::fill(dest).map_err(|_| Errno::Io)
    }

    pub(crate) fn sched_yield(&self) -> Result {
        std::thread::yield_now();
        Ok(())
    }

    // ----- descriptors ---------------------------------------------------

    pub(crate) fn fd_advise(&self, fd: u32, offset: u64, len: u64, advice: u8) -> Result {
        let desc = self.table.get(fd)?;
        desc.require(rights::FD_ADVISE)?;
        if advice > abi::ADVICE_MAX {
            return Err(Errno::Inval);
        }
        offset.checked_add(len).ok_or(Errno::Inval)?;
        match &desc.object {
            // Advice is only a hint; accepting it and doing nothing is a
            // valid implementation.
            Object::File(_) => Ok(()),
            Object::Dir(_) => Err(Errno::Isdir),
            Object::Input(_) | Object::Output(_) => Err(Errno::Spipe),
        }
    }

    pub(crate) fn fd_allocate(&self, fd: u32, offset: u64, len: u64) -> Result {
        let desc = self.table.get(fd)?;
        desc.require(rights::FD_ALLOCATE)?;
        let end = offset.checked_add(len).ok_or(Errno::Fbig)?;
        if end > i64::MAX as u64 {
            return Err(Errno::Fbig);
        }
        match &desc.object {
            Object::File(f) => {
                if f.file.metadata()?.len() < end {
                    f.file.set_len(end)?;
                }
                Ok(())
            }
            Object::Dir(_) => Err(Errno::Isdir),
            Object::Input(_) | Object::Output(_) => Err(Errno::Spipe),
        }
    }

    pub(crate) fn fd_close(&mut self, fd: u32) -> Result {
        self.table.remove(fd).map(drop)
    }

    pub(crate) fn fd_datasync(&self, fd: u32) -> Result {
        let desc = self.table.get(fd)?;
        desc.require(rights::FD_DATASYNC)?;
        match &desc.object {
            Object::File(f) => Ok(f.file.sync_data()?),
            Object::Dir(d) => fs::sync_dir(&d.dir),
            Object::Input(_) | Object::Output(_) => Err(Errno::Inval),
        }
    }

    pub(crate) fn fd_sync(&self, fd: u32) -> Result {
        let desc = self.table.get(fd)?;
        desc.require(rights::FD_SYNC)?;
        match &desc.object {
            Object::File(f) => Ok(f.file.sync_all()?),
            Object::Dir(d) => fs::sync_dir(&d.dir),
            Object::Input(_) | Object::Output(_) => Err(Errno::Inval),
        }
    }

    pub(crate) fn fd_fdstat_get(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        out: u32,
        snap: Snapshot,
    ) -> Result {
        let desc = self.table.get(fd)?;
        let stat = Fdstat {
            filetype: desc.filetype(),
            flags: desc.flags,
            rights_base: snap.rights(desc.rights_base),
            rights_inheriting: snap.rights(desc.rights_inheriting),
        };
        mem.write(out, &stat.to_bytes())
    }

    pub(crate) fn fd_fdstat_set_flags(&mut self, fd: u32, flags: u16) -> Result {
        let desc = self.table.get_mut(fd)?;
        desc.require(rights::FD_FDSTAT_SET_FLAGS)?;
        if flags & !fdflags::ALL != 0 {
            return Err(Errno::Inval);
        }
        if let Object::File(f) = &desc.object {
            use rustix::fs::OFlags;
            let mut host = rustix::fs::fcntl_getfl(&f.file)?;
            host.set(OFlags::APPEND, flags & fdflags::APPEND != 0);
            host.set(OFlags::NONBLOCK, flags & fdflags::NONBLOCK != 0);
            rustix::fs::fcntl_setfl(&f.file, host)?;
        }
        desc.flags = flags;
        Ok(())
    }

    pub(crate) fn fd_fdstat_set_rights(&mut self, fd: u32, base: u64, inheriting: u64) -> Result {
        let desc = self.table.get_mut(fd)?;
        if base & !desc.rights_base != 0 || inheriting & !desc.rights_inheriting != 0 {
            return Err(Errno::Notcapable);
        }
        desc.rights_base = base;
        desc.rights_inheriting = inheriting;
        Ok(())
    }

    pub(crate) fn fd_filestat_get(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        out: u32,
        snap: Snapshot,
    ) -> Result {
        mem.check_writable(out, snap.filestat_size())?;
        let desc = self.table.get(fd)?;
        desc.require(rights::FD_FILESTAT_GET)?;
        let stat = match &desc.object {
            Object::File(f) => fs::filestat_of(&fs::file_metadata(&f.file)?),
            Object::Dir(d) => fs::filestat_of(&d.dir.dir_metadata()?),
            Object::Input(_) | Object::Output(_) => Filestat {
                filetype: desc.filetype(),
                ..Filestat::default()
            },
        };
        snap.write_filestat(mem, out, &stat)
    }

    pub(crate) fn fd_filestat_set_size(&self, fd: u32, size: u64) -> Result {
        let desc = self.table.get(fd)?;
        desc.require(rights::FD_FILESTAT_SET_SIZE)?;
        if size > i64::MAX as u64 {
            return Err(Errno::Fbig);
        }
        match &desc.object {
            Object::File(f) => Ok(f.file.set_len(size)?),
            Object::Dir(_) => Err(Errno::Isdir),
            Object::Input(_) | Object::Output(_) => Err(Errno::Inval),
        }
    }

    pub(crate) fn fd_filestat_set_times(
        &self,
        fd: u32,
        atim: u64,
        mtim: u64,
        flags: u16,
    ) -> Result {
        let desc = self.table.get(fd)?;
        desc.require(rights::FD_FILESTAT_SET_TIMES)?;
        let changes = fs::time_changes(atim, mtim, flags)?;
        match &desc.object {
            Object::File(f) => fs::set_file_times(&f.file, changes),
            Object::Dir(d) => fs::set_dir_times(&d.dir, changes),
            Object::Input(_) | Object::Output(_) => Err(Errno::Inval),
        }
    }

    pub(crate) fn fd_pread(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        offset: u64,
        nread: u32,
    ) -> Result {
        let iovecs = mem.iovecs(iovs, iovs_len)?;
        mem.check_writable(nread, 4)?;
        let desc = self.table.get(fd)?;
        desc.require(rights::FD_READ | rights::FD_SEEK)?;
        let file = match &desc.object {
            Object::File(f) => &f.file,
            Object::Dir(_) => return Err(Errno::Isdir),
            Object::Input(_) | Object::Output(_) => return Err(Errno::Spipe),
        };
        let mut total = 0u64;
        for (ptr, len) in iovecs {
            let buf = mem.slice_mut(ptr, len)?;
            let at = offset.checked_add(total).ok_or(Errno::Inval)?;
            let n = file.read_at(buf, at)?;
            total += n as u64;
            if n < buf.len() {
                break;
            }
        }
        mem.write_u32(nread, clamp_u32(total))
    }

    pub(crate) fn fd_pwrite(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        offset: u64,
        nwritten: u32,
    ) -> Result {
        let iovecs = mem.iovecs(iovs, iovs_len)?;
        mem.check_writable(nwritten, 4)?;
        let desc = self.table.get(fd)?;
        desc.require(rights::FD_WRITE | rights::FD_SEEK)?;
        let file = match &desc.object {
            Object::File(f) => &f.file,
            Object::Dir(_) => return Err(Errno::Isdir),
            Object::Input(_) | Object::Output(_) => return Err(Errno::Spipe),
        };
        let mut total = 0u64;
        for (ptr, len) in iovecs {
            let at = offset.checked_add(total).ok_or(Errno::Inval)?;
            file.write_all_at(mem.slice(ptr, len)?, at)?;
            total += u64::from(len);
        }
        sync_if_requested(desc, file)?;
        mem.write_u32(nwritten, clamp_u32(total))
    }

    pub(crate) fn fd_prestat_get(&self, mem: &mut GuestMemory<'_>, fd: u32, out: u32) -> Result {
        let desc = self.table.get(fd)?;
        let name = desc.preopen.as_ref().ok_or(Errno::Badf)?;
        let len = u32::try_from(name.len()).map_err(|_| Errno::Nametoolong)?;
        let mut bytes = [0u8; size::PRESTAT as usize];
        bytes[0] = abi::PREOPENTYPE_DIR;
        bytes[4..8].copy_from_slice(&len.to_le_bytes());
        mem.write(out, &bytes)
    }

    pub(crate) fn fd_prestat_dir_name(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        path: u32,
        path_len: u32,
    ) -> Result {
        let desc = self.table.get(fd)?;
        let name = desc.preopen.as_ref().ok_or(Errno::Badf)?;
        if (path_len as usize) < name.len() {
            return Err(Errno::Nametoolong);
        }
        mem.write(path, name.as_bytes())
    }

    pub(crate) fn fd_read(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        nread: u32,
    ) -> Result {
        let iovecs = mem.iovecs(iovs, iovs_len)?;
        mem.check_writable(nread, 4)?;
        let desc = self.table.get(fd)?;
        desc.require(rights::FD_READ)?;
        let mut total = 0u64;
        for (ptr, len) in iovecs {
            let buf = mem.slice_mut(ptr, len)?;
            let n = match &desc.object {
                Object::File(f) => (&f.file).read(buf)?,
                Object::Input(stream) => stream.read(buf)?,
                Object::Dir(_) => return Err(Errno::Isdir),
                Object::Output(_) => return Err(Errno::Badf),
            };
            total += n as u64;
            if n < buf.len() {
                break;
            }
        }
        mem.write_u32(nread, clamp_u32(total))
    }

    pub(crate) fn fd_readdir(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        buf: u32,
        buf_len: u32,
        cookie: u64,
        bufused: u32,
    ) -> Result {
        mem.check_writable(buf, buf_len)?;
        mem.check_writable(bufused, 4)?;
        let desc = self.table.get_mut(fd)?;
        desc.require(rights::FD_READDIR)?;
        let Object::Dir(DirObject { dir, listing }) = &mut desc.object else {
            return Err(Errno::Notdir);
        };
        if cookie == 0 || listing.is_none() {
            *listing = Some(fs::listing(dir)?);
        }
        let entries = listing.as_deref().unwrap_or_default();
        let start = usize::try_from(cookie).unwrap_or(usize::MAX);
        let limit = buf_len as usize;
        let mut out = Vec::new();
        for (index, entry) in entries.iter().enumerate().skip(start) {
            if out.len() >= limit {
                break;
            }
            let mut header = [0u8; size::DIRENT as usize];
            header[0..8].copy_from_slice(&(index as u64 + 1).to_le_bytes());
            header[8..16].copy_from_slice(&entry.ino.to_le_bytes());
            header[16..20].copy_from_slice(&(entry.name.len() as u32).to_le_bytes());
            header[20] = entry.filetype;
            out.extend_from_slice(&header);
            out.extend_from_slice(&entry.name);
        }
        out.truncate(limit);
        mem.write(buf, &out)?;
        mem.write_u32(bufused, out.len() as u32)
    }

    pub(crate) fn fd_renumber(&mut self, from: u32, to: u32) -> Result {
        if !self.table.contains(from) || !self.table.contains(to) {
            return Err(Errno::Badf);
        }
        if from != to {
            let desc = self.table.remove(from)?;
            self.table.insert_at(to, desc);
        }
        Ok(())
    }

    pub(crate) fn fd_seek(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        offset: i64,
        whence: u8,
        newoffset: u32,
    ) -> Result {
        mem.check_writable(newoffset, 8)?;
        let desc = self.table.get(fd)?;
        let file = match &desc.object {
            Object::File(f) => &f.file,
            Object::Input(_) | Object::Output(_) => return Err(Errno::Spipe),
            Object::Dir(_) => return Err(Errno::Isdir),
        };
        let tell_only = offset == 0 && whence == abi::whence::CUR;
        if tell_only {
            if desc.require(rights::FD_TELL).is_err() {
                desc.require(rights::FD_SEEK)?;
            }
        } else {
            desc.require(rights::FD_SEEK)?;
        }
        let pos = match whence {
            abi::whence::SET => SeekFrom::Start(u64::try_from(offset).map_err(|_| Errno::Inval)?),
            abi::whence::CUR => SeekFrom::Current(offset),
            abi::whence::END => SeekFrom::End(offset),
            _ => return Err(Errno::Inval),
        };
        let new = (&*file).seek(pos)?;
        mem.write_u64(newoffset, new)
    }

    pub(crate) fn fd_tell(&self, mem: &mut GuestMemory<'_>, fd: u32, out: u32) -> Result {
        mem.check_writable(out, 8)?;
        let desc = self.table.get(fd)?;
        let file = match &desc.object {
            Object::File(f) => &f.file,
            Object::Input(_) | Object::Output(_) => return Err(Errno::Spipe),
            Object::Dir(_) => return Err(Errno::Isdir),
        };
        desc.require(rights::FD_TELL)?;
        let pos = (&*file).stream_position()?;
        mem.write_u64(out, pos)
    }

    pub(crate) fn fd_write(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        nwritten: u32,
    ) -> Result {
        let iovecs = mem.iovecs(iovs, iovs_len)?;
        mem.check_writable(nwritten, 4)?;
        let desc = self.table.get(fd)?;
        desc.require(rights::FD_WRITE)?;
        let mut total = 0u64;
        match &desc.object {
            Object::File(f) => {
                for &(ptr, len) in &iovecs {
                    (&f.file).write_all(mem.slice(ptr, len)?)?;
                    total += u64::from(len);
                }
                sync_if_requested(desc, &f.file)?;
            }
            Object::Output(stream) => {
                // One host write for the whole vector, so a line that
                // printf split over two iovecs is not torn.
                let mut data = Vec::new();
                for &(ptr, len) in &iovecs {
                    data.extend_from_slice(mem.slice(ptr, len)?);
                }
                total = stream.write(&data)? as u64;
            }
            Object::Dir(_) => return Err(Errno::Isdir),
            Object::Input(_) => return Err(Errno::Badf),
        }
        mem.write_u32(nwritten, clamp_u32(total))
    }

    // ----- paths ---------------------------------------------------------

    /// The directory `fd` and the guest path at `ptr`, checking `required`
    /// rights.
    fn dir_and_path<'m>(
        &self,
        mem: &'m GuestMemory<'_>,
        fd: u32,
        required: u64,
        ptr: u32,
        len: u32,
    ) -> Result<(&Descriptor, &'m std::path::Path)> {
        let path = fs::guest_path(mem.str(ptr, len)?)?;
        let desc = self.table.get(fd)?;
        desc.dir()?;
        desc.require(required)?;
        Ok((desc, path))
    }

    pub(crate) fn path_create_directory(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        path: u32,
        path_len: u32,
    ) -> Result {
        let (desc, path) =
            self.dir_and_path(mem, fd, rights::PATH_CREATE_DIRECTORY, path, path_len)?;
        Ok(desc.dir()?.dir.create_dir(path)?)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn path_filestat_get(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        flags: u32,
        path: u32,
        path_len: u32,
        out: u32,
        snap: Snapshot,
    ) -> Result {
        mem.check_writable(out, snap.filestat_size())?;
        let stat = {
            let (desc, path) =
                self.dir_and_path(mem, fd, rights::PATH_FILESTAT_GET, path, path_len)?;
            let dir = &desc.dir()?.dir;
            let meta = if flags & lookupflags::SYMLINK_FOLLOW != 0 {
                dir.metadata(path)?
            } else {
                dir.symlink_metadata(path)?
            };
            fs::filestat_of(&meta)
        };
        snap.write_filestat(mem, out, &stat)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn path_filestat_set_times(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        flags: u32,
        path: u32,
        path_len: u32,
        atim: u64,
        mtim: u64,
        fst_flags: u16,
    ) -> Result {
        let (desc, path) =
            self.dir_and_path(mem, fd, rights::PATH_FILESTAT_SET_TIMES, path, path_len)?;
        let changes = fs::time_changes(atim, mtim, fst_flags)?;
        let follow = flags & lookupflags::SYMLINK_FOLLOW != 0;
        fs::set_path_times(&desc.dir()?.dir, path, follow, changes)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn path_link(
        &self,
        mem: &mut GuestMemory<'_>,
        old_fd: u32,
        old_flags: u32,
        old_path: u32,
        old_path_len: u32,
        new_fd: u32,
        new_path: u32,
        new_path_len: u32,
    ) -> Result {
        let (old, old_path) = self.dir_and_path(
            mem,
            old_fd,
            rights::PATH_LINK_SOURCE,
            old_path,
            old_path_len,
        )?;
        let (new, new_path) = self.dir_and_path(
            mem,
            new_fd,
            rights::PATH_LINK_TARGET,
            new_path,
            new_path_len,
        )?;
        // Following a symlink at the source would need resolving it inside
        // the sandbox first; no libc asks for it (`link()` does not).
        if old_flags & lookupflags::SYMLINK_FOLLOW != 0 {
            return Err(Errno::Inval);
        }
        Ok(old
            .dir()?
            .dir
            .hard_link(old_path, &new.dir()?.dir, new_path)?)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn path_open(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        dirflags: u32,
        path: u32,
        path_len: u32,
        oflags: u16,
        rights_base: u64,
        rights_inheriting: u64,
        fdflags: u16,
        fd_out: u32,
    ) -> Result {
        mem.check_writable(fd_out, 4)?;
        if oflags & !abi::oflags::ALL != 0 || fdflags & !abi::fdflags::ALL != 0 {
            return Err(Errno::Inval);
        }
        let descriptor = {
            let (dir, path) = self.dir_and_path(mem, fd, rights::PATH_OPEN, path, path_len)?;
            if oflags & abi::oflags::CREAT != 0 {
                dir.require(rights::PATH_CREATE_FILE)?;
            }
            if oflags & abi::oflags::TRUNC != 0 {
                dir.require(rights::PATH_FILESTAT_SET_SIZE)?;
            }
            let append = fdflags & abi::fdflags::APPEND != 0;
            let truncate_or_create = oflags & (abi::oflags::CREAT | abi::oflags::TRUNC) != 0;
            // Write rights do not apply to a directory, so they do not make
            // a directory open fail; anything else that will write needs
            // the host file opened for writing, which only a directory
            // passing on `fd_write` allows.
            let directory = oflags & abi::oflags::DIRECTORY != 0;
            let wants_write = rights_base & rights::NEED_HOST_WRITE != 0 || append;
            let write = !directory && (wants_write || truncate_or_create);
            if write && dir.rights_inheriting & rights::FD_WRITE == 0 {
                return Err(Errno::Notcapable);
            }
            let read = rights_base & (rights::FD_READ | rights::FD_READDIR) != 0 || !write;
            let request = OpenRequest {
                follow: dirflags & lookupflags::SYMLINK_FOLLOW != 0,
                oflags,
                append,
                read,
                write,
            };
            let opened = fs::open(&dir.dir()?.dir, path, &request)?;
            let inheriting = rights_inheriting & dir.rights_inheriting;
            match opened {
                Opened::Dir(d) => Descriptor {
                    object: Object::Dir(DirObject {
                        dir: d,
                        listing: None,
                    }),
                    rights_base: opened_rights(dir, rights_base, true),
                    rights_inheriting: inheriting,
                    flags: fdflags,
                    preopen: None,
                },
                Opened::File(file) => {
                    if fdflags & abi::fdflags::NONBLOCK != 0 {
                        let mut host = rustix::fs::fcntl_getfl(&file)?;
                        host.insert(rustix::fs::OFlags::NONBLOCK);
                        rustix::fs::fcntl_setfl(&file, host)?;
                    }
                    Descriptor {
                        object: Object::File(FileObject { file }),
                        rights_base: opened_rights(dir, rights_base, false),
                        rights_inheriting: inheriting,
                        flags: fdflags,
                        preopen: None,
                    }
                }
            }
        };
        let new_fd = self.table.push(descriptor)?;
        mem.write_u32(fd_out, new_fd)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn path_readlink(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        path: u32,
        path_len: u32,
        buf: u32,
        buf_len: u32,
        bufused: u32,
    ) -> Result {
        mem.check_writable(buf, buf_len)?;
        mem.check_writable(bufused, 4)?;
        let target = {
            let (desc, path) = self.dir_and_path(mem, fd, rights::PATH_READLINK, path, path_len)?;
            desc.dir()?.dir.read_link_contents(path)?
        };
        let bytes = std::os::unix::ffi::OsStrExt::as_bytes(target.as_os_str());
        let n = bytes.len().min(buf_len as usize);
        mem.write(buf, &bytes[..n])?;
        mem.write_u32(bufused, n as u32)
    }

    pub(crate) fn path_remove_directory(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        path: u32,
        path_len: u32,
    ) -> Result {
        let (desc, path) =
            self.dir_and_path(mem, fd, rights::PATH_REMOVE_DIRECTORY, path, path_len)?;
        Ok(desc.dir()?.dir.remove_dir(path)?)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn path_rename(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        old_path: u32,
        old_path_len: u32,
        new_fd: u32,
        new_path: u32,
        new_path_len: u32,
    ) -> Result {
        let (old, old_path) =
            self.dir_and_path(mem, fd, rights::PATH_RENAME_SOURCE, old_path, old_path_len)?;
        let (new, new_path) = self.dir_and_path(
            mem,
            new_fd,
            rights::PATH_RENAME_TARGET,
            new_path,
            new_path_len,
        )?;
        Ok(old.dir()?.dir.rename(old_path, &new.dir()?.dir, new_path)?)
    }

    pub(crate) fn path_symlink(
        &self,
        mem: &mut GuestMemory<'_>,
        old_path: u32,
        old_path_len: u32,
        fd: u32,
        new_path: u32,
        new_path_len: u32,
    ) -> Result {
        // The link's contents are not resolved now, but a link that points
        // outside the sandbox is refused up front: cap-std would refuse to
        // follow it anyway.
        let target = fs::guest_path(mem.str(old_path, old_path_len)?)?;
        let (desc, link) =
            self.dir_and_path(mem, fd, rights::PATH_SYMLINK, new_path, new_path_len)?;
        Ok(desc.dir()?.dir.symlink(target, link)?)
    }

    pub(crate) fn path_unlink_file(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        path: u32,
        path_len: u32,
    ) -> Result {
        let (desc, path) = self.dir_and_path(mem, fd, rights::PATH_UNLINK_FILE, path, path_len)?;
        Ok(desc.dir()?.dir.remove_file(path)?)
    }

    // ----- sockets and signals ---------------------------------------------

    /// Kiln never gives a guest a socket, so every socket call on an open
    /// descriptor fails with `ENOTSOCK` (and with `EBADF` on a closed one).
    pub(crate) fn not_a_socket(&self, fd: u32) -> Result {
        self.table.get(fd)?;
        Err(Errno::Notsock)
    }
}

/// Clamps a byte count to what a `size` result can hold.
fn clamp_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Applies the `dsync`/`sync` descriptor flags after a write.
fn sync_if_requested(desc: &Descriptor, file: &std::fs::File) -> Result {
    if desc.flags & (fdflags::SYNC | fdflags::RSYNC) != 0 {
        file.sync_all()?;
    } else if desc.flags & fdflags::DSYNC != 0 {
        file.sync_data()?;
    }
    Ok(())
}
