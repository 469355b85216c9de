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
mod link;
mod memory;
pub mod p0;
pub mod p1;
mod poll;
mod preview1;
mod snapshot;
mod stdio;
mod table;

pub use ctx::{DirPerms, FilePerms, WasiCtx, WasiCtxBuilder};
pub use errno::Errno;
pub use stdio::{MemoryInputPipe, MemoryOutputPipe};

use kiln::Linker;
use snapshot::Snapshot;
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

/// Defines every `wasi_snapshot_preview1` function in `linker`. `get`
/// finds the [`WasiCtx`] in the store's data, typically
/// `|state| &mut state.wasi`. (The wasmtime-wasi spelling is
/// [`p1::add_to_linker_sync`], over a [`p1::WasiP1Ctx`].)
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: impl Fn(&mut T) -> &mut WasiCtx + Send + Sync + Copy + 'static,
) -> anyhow::Result<()> {
    link::define_functions(linker, Snapshot::Preview1, get)
}

/// Defines every function of the older `wasi_unstable` module (WASI
/// snapshot 0, what programs built by toolchains from before 2020 import)
/// in `linker`, working on the same [`WasiCtx`] as [`add_to_linker`]'s, so
/// a module may import both. Where snapshot 0 lays a structure out
/// differently (`filestat`, clock subscriptions) or numbers `whence`
/// differently, the guest gets snapshot 0's layout; it has no
/// `sock_accept`. (The wasmtime-wasi spelling is [`p0::add_to_linker_sync`].)
pub fn add_wasi_unstable_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: impl Fn(&mut T) -> &mut WasiCtx + Send + Sync + Copy + 'static,
) -> anyhow::Result<()> {
    link::define_functions(linker, Snapshot::Unstable, get)
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
