//! The executor: runs Kiln bytecode.
//!
//! (Stub — being written.)

use crate::vm::{VMContext, VMOpaqueContext, ValRaw};

/// The interpreter's value and frame stacks for one store.
#[derive(Debug, Default)]
pub struct InterpStack {
    max_bytes: usize,
}

impl InterpStack {
    /// Stacks that may grow to `max_wasm_stack` bytes in all.
    pub fn new(max_wasm_stack: usize) -> Self {
        InterpStack { max_bytes: max_wasm_stack }
    }
}

/// The `array_call` entry of every interpreted function: `callee_vmctx` is
/// its [`crate::vm::VMInterpFunc`].
///
/// # Safety
/// As for [`crate::vm::VMArrayCallFn`].
pub unsafe extern "C" fn interp_array_call(
    callee_vmctx: *mut VMOpaqueContext,
    caller_vmctx: *mut VMContext,
    args_and_results: *mut ValRaw,
    capacity: usize,
) -> bool {
    let _ = (callee_vmctx, caller_vmctx, args_and_results, capacity);
    false
}
