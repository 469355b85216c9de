//! The glue between a [`Linker`] and the implementation: one
//! `func_wrap` per WASI function, for either import module
//! (`wasi_snapshot_preview1` or `wasi_unstable`, see [`Snapshot`]).

use crate::memory::GuestMemory;
use crate::snapshot::Snapshot;
use crate::{Errno, I32Exit, WasiCtx};
use anyhow::bail;
use kiln::{Caller, Extern, Linker};

/// Runs `f` on the WASI context and the calling instance's memory, and
/// turns its result into the errno the guest receives.
fn with_memory<T: 'static>(
    caller: &mut Caller<'_, T>,
    get: impl Fn(&mut T) -> &mut WasiCtx,
    f: impl FnOnce(&mut WasiCtx, &mut GuestMemory<'_>) -> Result<(), Errno>,
) -> anyhow::Result<i32> {
    let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
        bail!("WASI functions need the calling module to export its memory as `memory`");
    };
    let (bytes, data) = memory.data_and_store_mut(caller);
    let mut mem = GuestMemory::new(bytes);
    Ok(errno_of(f(get(data), &mut mem)))
}

/// Runs `f` on the WASI context alone (for functions without pointers).
fn with_ctx<T: 'static>(
    caller: &mut Caller<'_, T>,
    get: impl Fn(&mut T) -> &mut WasiCtx,
    f: impl FnOnce(&mut WasiCtx) -> Result<(), Errno>,
) -> anyhow::Result<i32> {
    Ok(errno_of(f(get(caller.data_mut()))))
}

fn errno_of(result: Result<(), Errno>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(e) => i32::from(e as u16),
    }
}

/// Narrows a flags argument to its declared width (`EINVAL` if bits are set
/// above it).
fn flags16(value: u32) -> Result<u16, Errno> {
    u16::try_from(value).map_err(|_| Errno::Inval)
}

/// Narrows an enum argument declared as `u8` (`EINVAL` if out of range).
fn enum8(value: u32) -> Result<u8, Errno> {
    u8::try_from(value).map_err(|_| Errno::Inval)
}

/// Defines one preview 1 function: `mem` functions reach the guest's
/// memory, `ctx` functions only the context.
macro_rules! define {
    ($linker:ident, $module:ident, $get:ident, mem $name:literal, |$ctx:ident, $mem:ident $(, $arg:ident : $ty:ty)*| $body:expr) => {
        $linker.func_wrap(
            $module,
            $name,
            move |mut caller: Caller<'_, T>, $($arg: $ty),*| -> anyhow::Result<i32> {
                with_memory(&mut caller, $get, |$ctx, $mem| $body)
            },
        )?;
    };
    ($linker:ident, $module:ident, $get:ident, ctx $name:literal, |$ctx:ident $(, $arg:ident : $ty:ty)*| $body:expr) => {
        $linker.func_wrap(
            $module,
            $name,
            move |mut caller: Caller<'_, T>, $($arg: $ty),*| -> anyhow::Result<i32> {
                with_ctx(&mut caller, $get, |$ctx| $body)
            },
        )?;
    };
}

/// Defines every function of `snap`'s import module in `linker`; `get`
/// finds the [`WasiCtx`] in the store's data.
pub(crate) fn define_functions<T: 'static>(
    linker: &mut Linker<T>,
    snap: Snapshot,
    get: impl Fn(&mut T) -> &mut WasiCtx + Send + Sync + Copy + 'static,
) -> anyhow::Result<()> {
    let module = snap.module();
    define!(linker, module, get, mem "args_get", |ctx, mem, argv: u32, buf: u32| ctx.args_get(mem, argv, buf));
    define!(linker, module, get, mem "args_sizes_get", |ctx, mem, argc: u32, size: u32| {
        ctx.args_sizes_get(mem, argc, size)
    });
    define!(linker, module, get, mem "environ_get", |ctx, mem, environ: u32, buf: u32| {
        ctx.environ_get(mem, environ, buf)
    });
    define!(linker, module, get, mem "environ_sizes_get", |ctx, mem, count: u32, size: u32| {
        ctx.environ_sizes_get(mem, count, size)
    });
    define!(linker, module, get, mem "clock_res_get", |ctx, mem, id: u32, out: u32| {
        ctx.clock_res_get(mem, id, out)
    });
    define!(linker, module, get, mem "clock_time_get", |ctx, mem, id: u32, precision: u64, out: u32| {
        ctx.clock_time_get(mem, id, precision, out)
    });
    define!(linker, module, get, ctx "fd_advise", |ctx, fd: u32, offset: u64, len: u64, advice: u32| {
        ctx.fd_advise(fd, offset, len, enum8(advice)?)
    });
    define!(linker, module, get, ctx "fd_allocate", |ctx, fd: u32, offset: u64, len: u64| {
        ctx.fd_allocate(fd, offset, len)
    });
    define!(linker, module, get, ctx "fd_close", |ctx, fd: u32| ctx.fd_close(fd));
    define!(linker, module, get, ctx "fd_datasync", |ctx, fd: u32| ctx.fd_datasync(fd));
    define!(linker, module, get, mem "fd_fdstat_get", |ctx, mem, fd: u32, out: u32| {
        ctx.fd_fdstat_get(mem, fd, out, snap)
    });
    define!(linker, module, get, ctx "fd_fdstat_set_flags", |ctx, fd: u32, flags: u32| {
        ctx.fd_fdstat_set_flags(fd, flags16(flags)?)
    });
    define!(linker, module, get, ctx "fd_fdstat_set_rights", |ctx, fd: u32, base: u64, inheriting: u64| {
        ctx.fd_fdstat_set_rights(fd, base, inheriting)
    });
    define!(linker, module, get, mem "fd_filestat_get", |ctx, mem, fd: u32, out: u32| {
        ctx.fd_filestat_get(mem, fd, out, snap)
    });
    define!(linker, module, get, ctx "fd_filestat_set_size", |ctx, fd: u32, size: u64| {
        ctx.fd_filestat_set_size(fd, size)
    });
    define!(linker, module, get, ctx "fd_filestat_set_times", |ctx, fd: u32, atim: u64, mtim: u64, flags: u32| {
        ctx.fd_filestat_set_times(fd, atim, mtim, flags16(flags)?)
    });
    define!(linker, module, get, mem "fd_pread", |ctx, mem, fd: u32, iovs: u32, len: u32, offset: u64, nread: u32| {
        ctx.fd_pread(mem, fd, iovs, len, offset, nread)
    });
    define!(linker, module, get, mem "fd_prestat_get", |ctx, mem, fd: u32, out: u32| {
        ctx.fd_prestat_get(mem, fd, out)
    });
    define!(linker, module, get, mem "fd_prestat_dir_name", |ctx, mem, fd: u32, path: u32, len: u32| {
        ctx.fd_prestat_dir_name(mem, fd, path, len)
    });
    define!(linker, module, get, mem "fd_pwrite", |ctx, mem, fd: u32, iovs: u32, len: u32, offset: u64, nwritten: u32| {
        ctx.fd_pwrite(mem, fd, iovs, len, offset, nwritten)
    });
    define!(linker, module, get, mem "fd_read", |ctx, mem, fd: u32, iovs: u32, len: u32, nread: u32| {
        ctx.fd_read(mem, fd, iovs, len, nread)
    });
    define!(linker, module, get, mem "fd_readdir", |ctx, mem, fd: u32, buf: u32, len: u32, cookie: u64, used: u32| {
        ctx.fd_readdir(mem, fd, buf, len, cookie, used)
    });
    define!(linker, module, get, ctx "fd_renumber", |ctx, from: u32, to: u32| ctx.fd_renumber(from, to));
    define!(linker, module, get, mem "fd_seek", |ctx, mem, fd: u32, offset: i64, whence: u32, out: u32| {
        ctx.fd_seek(mem, fd, offset, snap.whence(enum8(whence)?), out)
    });
    define!(linker, module, get, ctx "fd_sync", |ctx, fd: u32| ctx.fd_sync(fd));
    define!(linker, module, get, mem "fd_tell", |ctx, mem, fd: u32, out: u32| ctx.fd_tell(mem, fd, out));
    define!(linker, module, get, mem "fd_write", |ctx, mem, fd: u32, iovs: u32, len: u32, nwritten: u32| {
        ctx.fd_write(mem, fd, iovs, len, nwritten)
    });
    define!(linker, module, get, mem "path_create_directory", |ctx, mem, fd: u32, path: u32, len: u32| {
        ctx.path_create_directory(mem, fd, path, len)
    });
    define!(linker, module, get, mem "path_filestat_get", |ctx, mem, fd: u32, flags: u32, path: u32, len: u32, out: u32| {
        ctx.path_filestat_get(mem, fd, flags, path, len, out, snap)
    });
    define!(linker, module, get, mem "path_filestat_set_times", |ctx, mem, fd: u32, flags: u32, path: u32, len: u32, atim: u64, mtim: u64, fst: u32| {
        ctx.path_filestat_set_times(mem, fd, flags, path, len, atim, mtim, flags16(fst)?)
    });
    define!(linker, module, get, mem "path_link", |ctx, mem, old_fd: u32, old_flags: u32, old_path: u32, old_len: u32, new_fd: u32, new_path: u32, new_len: u32| {
        ctx.path_link(mem, old_fd, old_flags, old_path, old_len, new_fd, new_path, new_len)
    });
    define!(linker, module, get, mem "path_open", |ctx, mem, fd: u32, dirflags: u32, path: u32, len: u32, oflags: u32, base: u64, inheriting: u64, fdflags: u32, out: u32| {
        ctx.path_open(mem, fd, dirflags, path, len, flags16(oflags)?, base, inheriting, flags16(fdflags)?, out)
    });
    define!(linker, module, get, mem "path_readlink", |ctx, mem, fd: u32, path: u32, len: u32, buf: u32, buf_len: u32, used: u32| {
        ctx.path_readlink(mem, fd, path, len, buf, buf_len, used)
    });
    define!(linker, module, get, mem "path_remove_directory", |ctx, mem, fd: u32, path: u32, len: u32| {
        ctx.path_remove_directory(mem, fd, path, len)
    });
    define!(linker, module, get, mem "path_rename", |ctx, mem, fd: u32, old_path: u32, old_len: u32, new_fd: u32, new_path: u32, new_len: u32| {
        ctx.path_rename(mem, fd, old_path, old_len, new_fd, new_path, new_len)
    });
    define!(linker, module, get, mem "path_symlink", |ctx, mem, old_path: u32, old_len: u32, fd: u32, new_path: u32, new_len: u32| {
        ctx.path_symlink(mem, old_path, old_len, fd, new_path, new_len)
    });
    define!(linker, module, get, mem "path_unlink_file", |ctx, mem, fd: u32, path: u32, len: u32| {
        ctx.path_unlink_file(mem, fd, path, len)
    });
    define!(linker, module, get, mem "poll_oneoff", |ctx, mem, subs: u32, events: u32, n: u32, nevents: u32| {
        ctx.poll_oneoff(mem, subs, events, n, nevents, snap)
    });
    linker.func_wrap(module, "proc_exit", |code: i32| -> anyhow::Result<()> {
        Err(I32Exit(code).into())
    })?;
    define!(linker, module, get, ctx "proc_raise", |_ctx, _signal: u32| Err(Errno::Nosys));
    define!(linker, module, get, ctx "sched_yield", |ctx| ctx.sched_yield());
    define!(linker, module, get, mem "random_get", |ctx, mem, buf: u32, len: u32| ctx.random_get(mem, buf, len));
    if snap == Snapshot::Preview1 {
        define!(linker, module, get, ctx "sock_accept", |ctx, fd: u32, _flags: u32, _out: u32| ctx.not_a_socket(fd));
    }
    define!(linker, module, get, ctx "sock_recv", |ctx, fd: u32, _data: u32, _len: u32, _flags: u32, _size: u32, _oflags: u32| {
        ctx.not_a_socket(fd)
    });
    define!(linker, module, get, ctx "sock_send", |ctx, fd: u32, _data: u32, _len: u32, _flags: u32, _size: u32| {
        ctx.not_a_socket(fd)
    });
    define!(linker, module, get, ctx "sock_shutdown", |ctx, fd: u32, _how: u32| ctx.not_a_socket(fd));
    Ok(())
}
