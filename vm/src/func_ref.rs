//! `VMFuncRef`: how every function — interpreted, host or native — is called.

use crate::{VMContext, VMOpaqueContext, ValRaw};

/// The array-call entry point every function has.
///
/// * `callee_vmctx` is the `vmctx` field of the callee's [`VMFuncRef`]: a
///   [`VMInterpFunc`] for interpreted functions, a host-function context for
///   host functions, an instance [`VMContext`] for native code.
/// * `caller_vmctx` is the calling instance, or null when the host calls.
/// * `args_and_results` points to `capacity` slots, `capacity >=
///   max(params, results)`; parameters are read from the front and results
///   written back to the front.
///
/// Returns `true` on success. On `false` the callee has stored the reason in
/// its store's [`VMStoreContext::pending`](crate::VMStoreContext) (and the
/// frames in `backtrace`); the caller propagates it without touching it.
pub type VMArrayCallFn = unsafe extern "C" fn(
    callee_vmctx: *mut VMOpaqueContext,
    caller_vmctx: *mut VMContext,
    args_and_results: *mut ValRaw,
    capacity: usize,
) -> bool;

/// Opaque marker for a native-calling-convention function body (the JIT's
/// `wasm_call` entry). The interpreter never calls through it.
#[repr(C)]
pub struct VMWasmCallFunction {
    _private: [u8; 0],
}

/// An engine-wide identifier of a function signature.
///
/// Two functions have the same type exactly when their type indices are equal
/// (Wasm 2.0 has no function subtyping), which is what `call_indirect` checks.
#[repr(transparent)]
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VMSharedTypeIndex(pub u32);

/// A callable function as every tier sees it. Its address is the value of a
/// `funcref` (null is the null reference).
///
/// Tier-up patches `array_call`, `wasm_call` and `vmctx` in place, so every
/// later call through this record goes native.
#[repr(C)]
#[derive(Debug)]
pub struct VMFuncRef {
    /// Entry taking arguments and results in a `ValRaw` buffer.
    pub array_call: VMArrayCallFn,
    /// Native-calling-convention entry, when the function has native code.
    pub wasm_call: Option<core::ptr::NonNull<VMWasmCallFunction>>,
    /// The function's signature, engine-wide.
    pub type_index: VMSharedTypeIndex,
    /// The context `array_call` expects as its first argument.
    pub vmctx: *mut VMOpaqueContext,
}

impl VMFuncRef {
    /// Byte offset of `array_call`.
    pub const OFFSET_ARRAY_CALL: usize = core::mem::offset_of!(VMFuncRef, array_call);
    /// Byte offset of `wasm_call`.
    pub const OFFSET_WASM_CALL: usize = core::mem::offset_of!(VMFuncRef, wasm_call);
    /// Byte offset of `type_index`.
    pub const OFFSET_TYPE_INDEX: usize = core::mem::offset_of!(VMFuncRef, type_index);
    /// Byte offset of `vmctx`.
    pub const OFFSET_VMCTX: usize = core::mem::offset_of!(VMFuncRef, vmctx);
}

/// The `vmctx` of an interpreted function's [`VMFuncRef`]: which function of
/// which instance to run. One per defined function, inside the instance's
/// vmctx allocation.
#[repr(C)]
#[derive(Debug)]
pub struct VMInterpFunc {
    /// The instance the function belongs to.
    pub instance: *mut VMContext,
    /// The function's index in that module's function index space
    /// (imports first).
    pub func_index: u32,
}

/// The `array_call` of a native function that only native code can call
/// (it is not exported, not in any table or element segment, not the start
/// function), which therefore has no trampoline. Never called; should it be,
/// it fails the call with an error instead of misbehaving.
///
/// # Safety
/// `callee_vmctx` is the function's live instance vmctx.
pub unsafe extern "C" fn no_array_call(
    callee_vmctx: *mut VMOpaqueContext,
    _caller_vmctx: *mut VMContext,
    _args_and_results: *mut crate::ValRaw,
    _capacity: usize,
) -> bool {
    // SAFETY: per the contract, the instance and its store are live.
    unsafe {
        let store = (*callee_vmctx.cast::<VMContext>()).store;
        (*store).backtrace.clear();
        (*store).pending = Some(crate::UnwindReason::Host(anyhow::anyhow!(
            "internal error: a native function without an array-call entry was called from outside native code"
        )));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_four_words() {
        assert_eq!(core::mem::size_of::<VMFuncRef>(), 32);
        assert_eq!(VMFuncRef::OFFSET_ARRAY_CALL, 0);
        assert_eq!(VMFuncRef::OFFSET_WASM_CALL, 8);
        assert_eq!(VMFuncRef::OFFSET_TYPE_INDEX, 16);
        assert_eq!(VMFuncRef::OFFSET_VMCTX, 24);
    }
}
