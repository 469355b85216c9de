//! WASI preview 1 (`wasi_snapshot_preview1`) under wasmtime-wasi's names, so
//! host code written against `wasmtime_wasi::p1` ports by renaming the
//! crate:
//!
//! ```
//! # fn main() -> anyhow::Result<()> {
//! use kiln::{Engine, Linker, Module, Store};
//! use kiln_wasi::WasiCtxBuilder;
//! use kiln_wasi::p1::{self, WasiP1Ctx};
//!
//! struct MyState {
//!     wasi: WasiP1Ctx,
//! }
//!
//! let engine = Engine::default();
//! let mut linker: Linker<MyState> = Linker::new(&engine);
//! p1::add_to_linker_sync(&mut linker, |state| &mut state.wasi)?;
//! let wasi = WasiCtxBuilder::new().arg("app.wasm").build_p1();
//! let mut store = Store::new(&engine, MyState { wasi });
//! let module = Module::new(&engine, r#"(module
//!     (import "wasi_snapshot_preview1" "sched_yield" (func (result i32)))
//!     (memory (export "memory") 1)
//!     (func (export "_start")))"#)?;
//! linker.instantiate(&mut store, &module)?;
//! # Ok(())
//! # }
//! ```
//!
//! A [`WasiP1Ctx`] is a [`WasiCtx`] by another name: the same builder makes
//! both (`build` or `build_p1`), and the functions behave the same through
//! either spelling. wasmtime-wasi's `add_to_linker_async` has no
//! counterpart, as Kiln has no async support.

use crate::WasiCtx;
use crate::link;
use crate::snapshot::Snapshot;
use kiln::Linker;
use std::fmt;

/// The WASI state of one guest, as wasmtime-wasi's preview 1 support names
/// it: made by [`WasiCtxBuilder::build_p1`](crate::WasiCtxBuilder::build_p1)
/// and kept in the store's data, where the closure given to
/// [`add_to_linker_sync`] (or [`crate::p0::add_to_linker_sync`]) finds it.
pub struct WasiP1Ctx {
    pub(crate) ctx: WasiCtx,
}

impl WasiP1Ctx {
    /// Wraps a context built with [`WasiCtxBuilder::build`](crate::WasiCtxBuilder::build).
    pub fn new(ctx: WasiCtx) -> WasiP1Ctx {
        WasiP1Ctx { ctx }
    }
}

impl From<WasiCtx> for WasiP1Ctx {
    fn from(ctx: WasiCtx) -> WasiP1Ctx {
        WasiP1Ctx::new(ctx)
    }
}

impl fmt::Debug for WasiP1Ctx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WasiP1Ctx").field(&self.ctx).finish()
    }
}

/// Defines every `wasi_snapshot_preview1` function in `linker`; `f` finds
/// the [`WasiP1Ctx`] in the store's data (`|state| &mut state.wasi`, or
/// `|cx| cx` when the data is the context itself). Fails if the linker
/// already defines one of the names and does not allow shadowing.
pub fn add_to_linker_sync<T: Send + 'static>(
    linker: &mut Linker<T>,
    f: impl Fn(&mut T) -> &mut WasiP1Ctx + Copy + Send + Sync + 'static,
) -> anyhow::Result<()> {
    link::define_functions(linker, Snapshot::Preview1, move |t: &mut T| &mut f(t).ctx)
}
