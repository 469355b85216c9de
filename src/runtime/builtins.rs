//! The [`VMBuiltins`] table every instance's vmctx points at: the
//! operations running code cannot do by itself because they allocate.
//!
//! Both builtins receive only the vmctx and an index. The slot in the vmctx
//! holds the address of a `VMMemoryDefinition`/`VMTableDefinition`, which is
//! the first field of the owning `#[repr(C)]` object in the store, so the
//! object — with its limits and storage — is found by a cast.

use super::memory::MemoryObject;
use super::table::TableObject;
use super::vmctx;
use kiln_interp::vm::{VMBuiltins, VMContext};

/// The builtins of every Kiln instance.
pub(crate) static BUILTINS: VMBuiltins = VMBuiltins {
    memory_grow,
    table_grow,
};

/// `memory.grow`: old size in pages, or [`VMBuiltins::GROW_FAILED`].
///
/// # Safety
/// `vmctx` is a live instance and `memory` one of its memory indices (the
/// interpreter only passes validated indices).
unsafe extern "C" fn memory_grow(vmctx: *mut VMContext, memory: u32, delta: u64) -> u64 {
    // SAFETY: per the contract above the slot holds the definition of a
    // memory object owned by the instance's store, which outlives the call;
    // the definition is that object's first field.
    let object = unsafe { (*vmctx::memory_slot(vmctx, memory)).cast::<MemoryObject>() };
    // SAFETY: running code holds no reference into the memory object while
    // it calls a builtin, so this exclusive access does not alias.
    let grown = unsafe { (*object).grow(delta) };
    grown.unwrap_or(VMBuiltins::GROW_FAILED)
}

/// `table.grow`: old size in elements, or [`VMBuiltins::GROW_FAILED`].
///
/// # Safety
/// As for [`memory_grow`], with a table index.
unsafe extern "C" fn table_grow(vmctx: *mut VMContext, table: u32, delta: u64, init: u64) -> u64 {
    // SAFETY: as in `memory_grow`, for the table object.
    let object = unsafe { (*vmctx::table_slot(vmctx, table)).cast::<TableObject>() };
    // SAFETY: as in `memory_grow`.
    let grown = unsafe { (*object).grow(delta, init) };
    grown.unwrap_or(VMBuiltins::GROW_FAILED)
}
