//! `kiln-wasi`: WASI preview 1 (`wasi_snapshot_preview1`) for Kiln.
//!
//! In Kiln's pipeline this crate sits beside the embedding API, not inside
//! it: it is a set of host functions defined in a [`kiln::Linker`] by one
//! call, [`add_to_linker`], which a module's `wasi_snapshot_preview1`
//! imports then resolve against. The state they work on, a [`WasiCtx`]
//! (arguments, environment, the descriptor table), lives in the store's
//! data, where the closure passed to `add_to_linker` finds it; the guest's
//! memory is reached through the calling instance's `memory` export. The
//! `kiln run` command (crate `kiln-cli`) is its main user.
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! use kiln::{Engine, Linker, Module, Store};
//! use kiln_wasi::{I32Exit, WasiCtx, WasiCtxBuilder};
//!
//! struct State { wasi: WasiCtx }
//!
//! let engine = Engine::default();
//! let module = Module::new(&engine, std::fs::read("hello.wasm")?)?;
//! let mut linker = Linker::new(&engine);
//! kiln_wasi::add_to_linker(&mut linker, |state: &mut State| &mut state.wasi)?;
//! let wasi = WasiCtxBuilder::new().arg("hello.wasm").inherit_stdio().build();
//! let mut store = Store::new(&engine, State { wasi });
//! let instance = linker.instantiate(&mut store, &module)?;
//! let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
//! match start.call(&mut store, ()) {
//!     Ok(()) => {}
//!     Err(e) => match e.downcast_ref::<I32Exit>() {
//!         Some(exit) => println!("exited with {}", exit.0),
//!         None => return Err(e),
//!     },
//! }
//! # Ok(())
//! # }
//! ```
//!
//! **What the guest sees** is only what the [`WasiCtxBuilder`] gave it.
//! Paths are resolved by [cap-std](https://docs.rs/cap-std) inside the
//! directory descriptor they are relative to; `..` past it, absolute
//! paths and symbolic links leading out fail with `ENOTCAPABLE`. WASI
//! rights are enforced: a read-only preopen passes on no right to create,
//! change or write anything, and its files are opened read-only on the
//! host.
//!
//! **Errors in guest input** (pointers or lengths outside memory, invalid
//! UTF-8 in paths, unknown flag bits) are returned as the WASI `errno`
//! (`EFAULT`, `EILSEQ`, `EINVAL`), never as a host panic. The only failures
//! that stop the guest are `proc_exit` (an [`I32Exit`] error carrying the
//! exit code, for the embedder to downcast) and a call from a module that
//! exports no memory.
//!
//! **Not implemented**, with the reason:
//!
//! * `sock_accept`, `sock_recv`, `sock_send`, `sock_shutdown`: Kiln has no
//!   way to give a guest a socket (no listening-socket preopens), so these
//!   return `EBADF` for a closed descriptor and `ENOTSOCK` for any other.
//! * `proc_raise` returns `ENOSYS`: signals do not exist in WASI (the
//!   function was removed after preview 1) and raising one in the host
//!   process would let the guest kill its embedder.
//! * Partial: `fd_advise` accepts and ignores its hint (advice is optional
//!   by definition); `path_link` with `SYMLINK_FOLLOW` on the source is
//!   `EINVAL` (what POSIX `link()` asks for is the default, no-follow);
//!   `fd_allocate` extends the file's size rather than reserving blocks;
//!   `poll_oneoff` treats files as always ready and supports clock
//!   subscriptions on the realtime and monotonic clocks (the CPU-time
//!   clocks give the event `EINVAL`).
//!
//! Host support: Unix (Linux, macOS and the BSDs), through cap-std and
//! rustix.

pub mod abi;
mod ctx;
mod errno;
mod fs;
mod memory;
mod poll;
mod preview1;
mod stdio;
mod table;

pub use ctx::{DirPerms, FilePerms, WasiCtx, WasiCtxBuilder};
pub use errno::Errno;
pub use stdio::{MemoryInputPipe, MemoryOutputPipe};

use anyhow::bail;
use kiln::{Caller, Extern, Linker};
use memory::GuestMemory;
use std::fmt;

/// The import module of every function [`add_to_linker`] defines.
pub const MODULE: &str = abi::MODULE;

/// The error a guest's `proc_exit(code)` ends its run with. The embedder
/// downcasts the call's error to it (`err.downcast_ref::<I32Exit>()`) and
/// treats it as the program's exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct I32Exit(pub i32);

impl fmt::Display for I32Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exited with i32 exit status {}", self.0)
    }
}

impl std::error::Error for I32Exit {}

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
    ($linker:ident, $get:ident, mem $name:literal, |$ctx:ident, $mem:ident $(, $arg:ident : $ty:ty)*| $body:expr) => {
        $linker.func_wrap(
            MODULE,
            $name,
            move |mut caller: Caller<'_, T>, $($arg: $ty),*| -> anyhow::Result<i32> {
                with_memory(&mut caller, $get, |$ctx, $mem| $body)
            },
        )?;
    };
    ($linker:ident, $get:ident, ctx $name:literal, |$ctx:ident $(, $arg:ident : $ty:ty)*| $body:expr) => {
        $linker.func_wrap(
            MODULE,
            $name,
            move |mut caller: Caller<'_, T>, $($arg: $ty),*| -> anyhow::Result<i32> {
                with_ctx(&mut caller, $get, |$ctx| $body)
            },
        )?;
    };
}

/// Defines every `wasi_snapshot_preview1` function in `linker`. `get`
/// finds the [`WasiCtx`] in the store's data, typically
/// `|state| &mut state.wasi`.
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: impl Fn(&mut T) -> &mut WasiCtx + Send + Sync + Copy + 'static,
) -> anyhow::Result<()> {
    define!(linker, get, mem "args_get", |ctx, mem, argv: u32, buf: u32| ctx.args_get(mem, argv, buf));
    define!(linker, get, mem "args_sizes_get", |ctx, mem, argc: u32, size: u32| {
        ctx.args_sizes_get(mem, argc, size)
    });
    define!(linker, get, mem "environ_get", |ctx, mem, environ: u32, buf: u32| {
        ctx.environ_get(mem, environ, buf)
    });
    define!(linker, get, mem "environ_sizes_get", |ctx, mem, count: u32, size: u32| {
        ctx.environ_sizes_get(mem, count, size)
    });
    define!(linker, get, mem "clock_res_get", |ctx, mem, id: u32, out: u32| {
        ctx.clock_res_get(mem, id, out)
    });
    define!(linker, get, mem "clock_time_get", |ctx, mem, id: u32, precision: u64, out: u32| {
        ctx.clock_time_get(mem, id, precision, out)
    });
    define!(linker, get, ctx "fd_advise", |ctx, fd: u32, offset: u64, len: u64, advice: u32| {
        ctx.fd_advise(fd, offset, len, enum8(advice)?)
    });
    define!(linker, get, ctx "fd_allocate", |ctx, fd: u32, offset: u64, len: u64| {
        ctx.fd_allocate(fd, offset, len)
    });
    define!(linker, get, ctx "fd_close", |ctx, fd: u32| ctx.fd_close(fd));
    define!(linker, get, ctx "fd_datasync", |ctx, fd: u32| ctx.fd_datasync(fd));
    define!(linker, get, mem "fd_fdstat_get", |ctx, mem, fd: u32, out: u32| {
        ctx.fd_fdstat_get(mem, fd, out)
    });
    define!(linker, get, ctx "fd_fdstat_set_flags", |ctx, fd: u32, flags: u32| {
        ctx.fd_fdstat_set_flags(fd, flags16(flags)?)
    });
    define!(linker, get, ctx "fd_fdstat_set_rights", |ctx, fd: u32, base: u64, inheriting: u64| {
        ctx.fd_fdstat_set_rights(fd, base, inheriting)
    });
    define!(linker, get, mem "fd_filestat_get", |ctx, mem, fd: u32, out: u32| {
        ctx.fd_filestat_get(mem, fd, out)
    });
    define!(linker, get, ctx "fd_filestat_set_size", |ctx, fd: u32, size: u64| {
        ctx.fd_filestat_set_size(fd, size)
    });
    define!(linker, get, ctx "fd_filestat_set_times", |ctx, fd: u32, atim: u64, mtim: u64, flags: u32| {
        ctx.fd_filestat_set_times(fd, atim, mtim, flags16(flags)?)
    });
    define!(linker, get, mem "fd_pread", |ctx, mem, fd: u32, iovs: u32, len: u32, offset: u64, nread: u32| {
        ctx.fd_pread(mem, fd, iovs, len, offset, nread)
    });
    define!(linker, get, mem "fd_prestat_get", |ctx, mem, fd: u32, out: u32| {
        ctx.fd_prestat_get(mem, fd, out)
    });
    define!(linker, get, mem "fd_prestat_dir_name", |ctx, mem, fd: u32, path: u32, len: u32| {
        ctx.fd_prestat_dir_name(mem, fd, path, len)
    });
    define!(linker, get, mem "fd_pwrite", |ctx, mem, fd: u32, iovs: u32, len: u32, offset: u64, nwritten: u32| {
        ctx.fd_pwrite(mem, fd, iovs, len, offset, nwritten)
    });
    define!(linker, get, mem "fd_read", |ctx, mem, fd: u32, iovs: u32, len: u32, nread: u32| {
        ctx.fd_read(mem, fd, iovs, len, nread)
    });
    define!(linker, get, mem "fd_readdir", |ctx, mem, fd: u32, buf: u32, len: u32, cookie: u64, used: u32| {
        ctx.fd_readdir(mem, fd, buf, len, cookie, used)
    });
    define!(linker, get, ctx "fd_renumber", |ctx, from: u32, to: u32| ctx.fd_renumber(from, to));
    define!(linker, get, mem "fd_seek", |ctx, mem, fd: u32, offset: i64, whence: u32, out: u32| {
        ctx.fd_seek(mem, fd, offset, enum8(whence)?, out)
    });
    define!(linker, get, ctx "fd_sync", |ctx, fd: u32| ctx.fd_sync(fd));
    define!(linker, get, mem "fd_tell", |ctx, mem, fd: u32, out: u32| ctx.fd_tell(mem, fd, out));
    define!(linker, get, mem "fd_write", |ctx, mem, fd: u32, iovs: u32, len: u32, nwritten: u32| {
        ctx.fd_write(mem, fd, iovs, len, nwritten)
    });
    define!(linker, get, mem "path_create_directory", |ctx, mem, fd: u32, path: u32, len: u32| {
        ctx.path_create_directory(mem, fd, path, len)
    });
    define!(linker, get, mem "path_filestat_get", |ctx, mem, fd: u32, flags: u32, path: u32, len: u32, out: u32| {
        ctx.path_filestat_get(mem, fd, flags, path, len, out)
    });
    define!(linker, get, mem "path_filestat_set_times", |ctx, mem, fd: u32, flags: u32, path: u32, len: u32, atim: u64, mtim: u64, fst: u32| {
        ctx.path_filestat_set_times(mem, fd, flags, path, len, atim, mtim, flags16(fst)?)
    });
    define!(linker, get, mem "path_link", |ctx, mem, old_fd: u32, old_flags: u32, old_path: u32, old_len: u32, new_fd: u32, new_path: u32, new_len: u32| {
        ctx.path_link(mem, old_fd, old_flags, old_path, old_len, new_fd, new_path, new_len)
    });
    define!(linker, get, mem "path_open", |ctx, mem, fd: u32, dirflags: u32, path: u32, len: u32, oflags: u32, base: u64, inheriting: u64, fdflags: u32, out: u32| {
        ctx.path_open(mem, fd, dirflags, path, len, flags16(oflags)?, base, inheriting, flags16(fdflags)?, out)
    });
    define!(linker, get, mem "path_readlink", |ctx, mem, fd: u32, path: u32, len: u32, buf: u32, buf_len: u32, used: u32| {
        ctx.path_readlink(mem, fd, path, len, buf, buf_len, used)
    });
    define!(linker, get, mem "path_remove_directory", |ctx, mem, fd: u32, path: u32, len: u32| {
        ctx.path_remove_directory(mem, fd, path, len)
    });
    define!(linker, get, mem "path_rename", |ctx, mem, fd: u32, old_path: u32, old_len: u32, new_fd: u32, new_path: u32, new_len: u32| {
        ctx.path_rename(mem, fd, old_path, old_len, new_fd, new_path, new_len)
    });
    define!(linker, get, mem "path_symlink", |ctx, mem, old_path: u32, old_len: u32, fd: u32, new_path: u32, new_len: u32| {
        ctx.path_symlink(mem, old_path, old_len, fd, new_path, new_len)
    });
    define!(linker, get, mem "path_unlink_file", |ctx, mem, fd: u32, path: u32, len: u32| {
        ctx.path_unlink_file(mem, fd, path, len)
    });
    define!(linker, get, mem "poll_oneoff", |ctx, mem, subs: u32, events: u32, n: u32, nevents: u32| {
        ctx.poll_oneoff(mem, subs, events, n, nevents)
    });
    linker.func_wrap(MODULE, "proc_exit", |code: i32| -> anyhow::Result<()> {
        Err(I32Exit(code).into())
    })?;
    define!(linker, get, ctx "proc_raise", |_ctx, _signal: u32| Err(Errno::Nosys));
    define!(linker, get, ctx "sched_yield", |ctx| ctx.sched_yield());
    define!(linker, get, mem "random_get", |ctx, mem, buf: u32, len: u32| ctx.random_get(mem, buf, len));
    define!(linker, get, ctx "sock_accept", |ctx, fd: u32, _flags: u32, _out: u32| ctx.not_a_socket(fd));
    define!(linker, get, ctx "sock_recv", |ctx, fd: u32, _data: u32, _len: u32, _flags: u32, _size: u32, _oflags: u32| {
        ctx.not_a_socket(fd)
    });
    define!(linker, get, ctx "sock_send", |ctx, fd: u32, _data: u32, _len: u32, _flags: u32, _size: u32| {
        ctx.not_a_socket(fd)
    });
    define!(linker, get, ctx "sock_shutdown", |ctx, fd: u32, _how: u32| ctx.not_a_socket(fd));
    Ok(())
}

/// The names of the functions [`add_to_linker`] defines (every function of
/// `wasi_snapshot_preview1`).
pub const FUNCTIONS: &[&str] = &[
    "args_get",
    "args_sizes_get",
    "environ_get",
    "environ_sizes_get",
    "clock_res_get",
    "clock_time_get",
    "fd_advise",
    "fd_allocate",
    "fd_close",
    "fd_datasync",
    "fd_fdstat_get",
    "fd_fdstat_set_flags",
    "fd_fdstat_set_rights",
    "fd_filestat_get",
    "fd_filestat_set_size",
    "fd_filestat_set_times",
    "fd_pread",
    "fd_prestat_get",
    "fd_prestat_dir_name",
    "fd_pwrite",
    "fd_read",
    "fd_readdir",
    "fd_renumber",
    "fd_seek",
    "fd_sync",
    "fd_tell",
    "fd_write",
    "path_create_directory",
    "path_filestat_get",
    "path_filestat_set_times",
    "path_link",
    "path_open",
    "path_readlink",
    "path_remove_directory",
    "path_rename",
    "path_symlink",
    "path_unlink_file",
    "poll_oneoff",
    "proc_exit",
    "proc_raise",
    "sched_yield",
    "random_get",
    "sock_accept",
    "sock_recv",
    "sock_send",
    "sock_shutdown",
];

#[cfg(test)]
mod tests {
    #[test]
    fn the_context_can_move_between_threads() {
        fn send<T: Send>() {}
        send::<crate::WasiCtx>();
        send::<crate::WasiCtxBuilder>();
        send::<crate::MemoryOutputPipe>();
    }
}

// Every `rust` block of the workspace README is a complete program; this
// makes each a doctest of this crate (the one that depends on both `kiln`
// and `kiln-wasi`), so `cargo test --workspace` compiles and runs them.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
