//! The older `wasi_unstable` module (WASI snapshot 0) under wasmtime-wasi's
//! names: programs built by WASI toolchains from before 2020 import it, and
//! wasmtime's CLI (like `kiln run`) links it beside preview 1.
//!
//! Snapshot 0 is preview 1 with a few layouts and numbers of its own, which
//! the guest gets here: `whence` is `cur = 0, end = 1, set = 2`; `filestat`
//! (from `fd_filestat_get` and `path_filestat_get`) has a 32-bit link count
//! and is 56 bytes; a clock subscription of `poll_oneoff` carries an
//! `identifier` before the clock id, making a subscription 56 bytes; and
//! there is no `sock_accept` (nor its right in `fdstat`). Every other
//! function and structure is the same, and both modules work on the same
//! [`WasiP1Ctx`], so a module may import from both.

use crate::link;
use crate::p1::WasiP1Ctx;
use crate::snapshot::Snapshot;
use kiln::Linker;

/// Defines every `wasi_unstable` function in `linker`; `f` finds the
/// [`WasiP1Ctx`] in the store's data, as for
/// [`p1::add_to_linker_sync`](crate::p1::add_to_linker_sync). (Kiln's own
/// spelling over a plain [`WasiCtx`](crate::WasiCtx) is
/// [`add_wasi_unstable_to_linker`](crate::add_wasi_unstable_to_linker).)
pub fn add_to_linker_sync<T: Send + 'static>(
    linker: &mut Linker<T>,
    f: impl Fn(&mut T) -> &mut WasiP1Ctx + Copy + Send + Sync + 'static,
) -> anyhow::Result<()> {
    link::define_functions(linker, Snapshot::Unstable, move |t: &mut T| &mut f(t).ctx)
}
