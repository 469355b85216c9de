//! `VMBuiltins`: the operations running code asks of the runtime.

use crate::VMContext;

/// Operations running code asks of the runtime, because they allocate or
/// consult the embedder's limits. A static table the store provides; every
/// instance's vmctx points at it.
#[repr(C)]
#[derive(Debug)]
pub struct VMBuiltins {
    /// `memory.grow`: grows memory `memory` of `vmctx` by `delta` pages.
    /// Returns the old size in pages, [`VMBuiltins::GROW_FAILED`], or
    /// [`VMBuiltins::GROW_TRAPPED`] with the reason in the store's `pending`.
    pub memory_grow: unsafe extern "C" fn(vmctx: *mut VMContext, memory: u32, delta: u64) -> u64,
    /// `table.grow`: grows table `table` of `vmctx` by `delta` elements set
    /// to `init`. Returns as `memory_grow` does, in elements.
    pub table_grow:
        unsafe extern "C" fn(vmctx: *mut VMContext, table: u32, delta: u64, init: u64) -> u64,
}

impl VMBuiltins {
    /// Growth refused: the instruction returns -1.
    pub const GROW_FAILED: u64 = u64::MAX;
    /// Growth refused with a trap (`StoreLimits::trap_on_grow_failure`).
    pub const GROW_TRAPPED: u64 = u64::MAX - 1;
}
