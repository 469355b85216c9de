//! The raw ABI shared by every tier: the one place that defines how compiled
//! or interpreted code sees an instance.
//!
//! Everything a function can touch — memories, tables, globals, other
//! functions, the store's interpreter stack and pending trap — is reachable
//! from one `*mut VMContext` with a fixed layout described by [`VMOffsets`].
//! The interpreter reads it through the accessors here; the native tier will
//! read the same bytes with plain loads at the offsets `VMOffsets` computes.
//!
//! Calls between any two functions (interpreted, host, or native) go through
//! a [`VMFuncRef`]'s `array_call` entry: arguments and results are passed in a
//! caller-provided buffer of 16-byte [`ValRaw`] slots. The interpreter also
//! recognises its own entry point there and takes a direct fast path.

mod func_ref;
mod offsets;
mod store_context;
mod trap;
mod val_raw;
mod vmctx;

pub use func_ref::{VMArrayCallFn, VMFuncRef, VMInterpFunc, VMSharedTypeIndex, VMWasmCallFunction};
pub use offsets::{FUNC_REFS_OFFSET, ModuleCounts, VMCTX_ALIGN, VMOffsets};
pub use store_context::{FrameInfo, UnwindReason, VMStoreContext};
pub use trap::TrapCode;
pub use val_raw::ValRaw;
pub use vmctx::{
    VMBuiltins, VMCONTEXT_MAGIC, VMContext, VMDataSegment, VMElemSegment, VMGlobalDefinition,
    VMMemoryDefinition, VMOpaqueContext, VMTableDefinition,
};

/// Size in bytes of one WebAssembly linear-memory page.
pub const WASM_PAGE_SIZE: u64 = 65_536;
