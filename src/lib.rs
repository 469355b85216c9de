//! Kiln: a WebAssembly runtime that starts instantly in an interpreter.
//!
//! This crate is Kiln's embedding API. It deliberately mirrors the core,
//! synchronous subset of [wasmtime]'s API — same type names, same method
//! names and signatures — so that code written against one runs against the
//! other, and so that embedders do not have to learn a new vocabulary:
//!
//! ```text
//! Engine  ── shared, thread-safe configuration + the engine-wide type registry
//!   └─ Module    ── validated (and lazily translated) code, shareable between stores
//! Store<T> ── every runtime object (instances, memories, tables, globals,
//!   │         host functions, externrefs) plus the embedder's `T`
//!   └─ Instance / Func / Memory / Table / Global ── `Copy` handles into a store
//! ```
//!
//! Handles are plain indices tagged with the id of the store that owns them,
//! so using one with the wrong store is reported as an error (or, for the few
//! wasmtime signatures that cannot return one, a clear panic) instead of
//! undefined behaviour.
//!
//! Underneath, a private `runtime` layer builds each instance in the raw
//! layout that `kiln_vm` defines (one allocation per instance, fixed
//! offsets), and every call goes through a `VMFuncRef`'s `array_call` entry,
//! whether the callee is interpreted, a host closure, or (later) native code.
//!
//! ```
//! # fn main() -> kiln::Result<()> {
//! use kiln::{Engine, Instance, Module, Store};
//! let engine = Engine::default();
//! let module = Module::new(&engine, r#"(module (func (export "answer") (result i32) i32.const 42))"#)?;
//! let mut store = Store::new(&engine, ());
//! let instance = Instance::new(&mut store, &module, &[])?;
//! let answer = instance.get_typed_func::<(), i32>(&mut store, "answer")?;
//! # let _ = answer;
//! # Ok(())
//! # }
//! ```
//!
//! [wasmtime]: https://docs.rs/wasmtime

mod allocation;
mod caller;
mod config;
mod engine;
mod externals;
mod externref;
mod frame_symbol;
mod func;
mod global;
mod instance;
mod instance_pre;
mod limits;
mod linker;
mod memory;
mod module;
mod runtime;
mod store;
mod table;
mod trap;
mod types;
mod values;

#[cfg(feature = "wast")]
pub mod wast;

pub use anyhow::{Error, Result, bail, ensure, format_err};
pub use kiln_vm::ValRaw;
/// The wasmparser crate Kiln validates modules with, re-exported as
/// wasmtime does (its types, such as [`WasmFeatures`], appear in Kiln's
/// API).
pub use wasmparser;
pub use wasmparser::WasmFeatures;

/// Error handling, as in wasmtime's `error` module: Kiln's errors are
/// [`anyhow`] errors, so this re-exports anyhow's error type, its
/// `Result`, the `Context` extension trait and the `bail!`, `ensure!` and
/// `format_err!` macros.
pub mod error {
    pub use anyhow::{Context, Error, Result, bail, ensure, format_err};
}

pub use allocation::{
    InstanceAllocationStrategy, PoolConcurrencyLimitError, PoolingAllocationConfig,
};
pub use caller::Caller;
pub use config::{CompilationMode, Config, OptLevel, Strategy, WasmBacktraceDetails};
pub use engine::{Engine, EngineWeak, Precompiled};
pub use externals::{Export, Extern};
pub use externref::ExternRef;
pub use frame_symbol::FrameSymbol;
pub use func::{Func, IntoFunc, TypedFunc, WasmParams, WasmResults, WasmRet, WasmTy};
pub use global::Global;
pub use instance::Instance;
pub use instance_pre::InstancePre;
pub use limits::{
    DEFAULT_INSTANCE_LIMIT, DEFAULT_MEMORY_LIMIT, DEFAULT_TABLE_LIMIT, ResourceLimiter,
    StoreLimits, StoreLimitsBuilder,
};
pub use linker::{Linker, UnknownImportError};
pub use memory::{Memory, MemoryAccessError};
pub use module::{Module, ModuleExport, TierStats};
pub use store::{
    AsContext, AsContextMut, CallHook, Store, StoreContext, StoreContextMut, UpdateDeadline,
};
pub use table::Table;
pub use trap::{FrameInfo, Trap, WasmBacktrace};
pub use types::{
    ExportType, ExternType, FuncType, GlobalType, HeapType, ImportType, MemoryType, Mutability,
    RefType, TableType, ValType,
};
pub use values::{Ref, Val};

/// Implementation details that must be nameable from public trait
/// signatures (the sealed `IntoFunc`/`WasmTy` machinery). Not part of the
/// API.
#[doc(hidden)]
pub mod __private {
    pub use crate::func::HostFunc;
    pub use crate::store::StoreId;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}

    #[test]
    fn handles_and_shared_types_are_thread_safe() {
        send_sync::<Engine>();
        send_sync::<Module>();
        send_sync::<Linker<()>>();
        send_sync::<Func>();
        send_sync::<Memory>();
        send_sync::<Table>();
        send_sync::<Global>();
        send_sync::<Instance>();
        send_sync::<ExternRef>();
        send_sync::<Val>();
        send_sync::<FuncType>();
        send::<Store<()>>();
    }
}
