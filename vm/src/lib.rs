//! `kiln-vm`: the ABI every tier of Kiln shares, defined once.
//!
//! ```text
//! bytes → validate+translate → bytecode → execute ─┐
//!                                   tier-up → native ├─ both see an instance only through this crate
//! ```
//!
//! Everything a function can touch — memories, tables, globals, other
//! functions, the store's fuel, epoch deadline, stack limit and pending trap
//! — is reachable from one `*mut VMContext` with a fixed layout described by
//! [`VMOffsets`]. The interpreter (`kiln-interp`) reads it through the
//! accessors here; native code (`kiln-jit`) reads the same bytes with plain
//! loads at the `OFFSET_*` constants and the offsets `VMOffsets` computes;
//! the runtime (`kiln`) writes it. Neither tier depends on the other: what
//! only the interpreter looks inside (its per-module bytecode, its stacks)
//! is an opaque pointer here.
//!
//! Calls between any two functions (interpreted, host, or native) go through
//! a [`VMFuncRef`]'s `array_call` entry: arguments and results are passed in a
//! caller-provided buffer of 16-byte [`ValRaw`] slots.
//!
//! Semantics both tiers must agree on live here too, so that they cannot
//! drift apart: the trap codes ([`TrapCode`]), the fuel cost model
//! ([`fuel`]) and the bulk memory and table operations ([`bulk`]).

mod builtins;
pub mod bulk;
pub mod fuel;
mod func_ref;
mod offsets;
mod store_context;
mod trap;
mod val_raw;
mod vmctx;

pub use builtins::{MemoryGrowFn, NewEpochFn, TableGrowFn, TierUpFn, VMBuiltins};
pub use func_ref::{
    VMArrayCallFn, VMFuncRef, VMInterpFunc, VMSharedTypeIndex, VMWasmCallFunction, no_array_call,
};
pub use offsets::{FUNC_REFS_OFFSET, ModuleCounts, VMCTX_ALIGN, VMOffsets};
pub use store_context::{FrameInfo, UnwindReason, VMActivation, VMInterpStack, VMStoreContext};
pub use trap::TrapCode;
pub use val_raw::ValRaw;
pub use vmctx::{
    VMCONTEXT_MAGIC, VMContext, VMContextAllocation, VMDataSegment, VMElemSegment,
    VMGlobalDefinition, VMInterpModule, VMMemoryDefinition, VMOpaqueContext, VMTableDefinition,
};

/// Size in bytes of one WebAssembly linear-memory page.
pub const WASM_PAGE_SIZE: u64 = 65_536;
