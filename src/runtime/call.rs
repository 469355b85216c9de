//! Calling a function from the host: the one path `Func::call`,
//! `TypedFunc::call` and start functions share.
//!
//! The arguments are already in a `ValRaw` buffer; this calls the
//! function's `array_call` entry and, if it reports failure, turns the
//! reason the callee left in the store into the embedder's error: a trap
//! becomes a [`Trap`](crate::Trap) error with a backtrace, a host error is
//! returned unchanged, and a host panic is resumed here — on the embedder's
//! side of every `extern "C"` frame.

use crate::CallHook;
use crate::store::{StoreOpaque, run_call_hook};
use crate::trap::trap_error;
use anyhow::Result;
use kiln_vm::{UnwindReason, VMFuncRef, ValRaw};
use std::ptr::NonNull;

/// Calls `func_ref` with `args` (parameters first; results written back to
/// the front).
///
/// # Safety
/// `store` is a live store that no reference is held into during the call;
/// `func_ref` is a function of that store; `args` holds at least
/// `max(params, results)` slots, the parameters correctly typed for it.
pub(crate) unsafe fn invoke(
    store: NonNull<StoreOpaque>,
    func_ref: NonNull<VMFuncRef>,
    args: &mut [ValRaw],
) -> Result<()> {
    // Never hand out a dangling buffer, even for a function without
    // parameters or results.
    let mut spare = ValRaw::zero();
    let (ptr, capacity) = if args.is_empty() {
        (&mut spare as *mut ValRaw, 1)
    } else {
        (args.as_mut_ptr(), args.len())
    };
    // SAFETY: the store is live and nothing holds a reference into it.
    unsafe { run_call_hook(store.as_ptr(), CallHook::CallingWasm)? };
    // The outermost entry sets the native stack limit (see
    // `stack_limit`); nested entries (from host functions) keep it.
    // SAFETY: the store is live; only its `VMStoreContext` fields are
    // touched, and no reference into the store is held.
    let outer = unsafe {
        let vm = &raw mut (*store.as_ptr()).vm;
        let outer = (*vm).stack_limit == 0;
        if outer {
            (*vm).stack_limit = super::stack_limit::entry_limit((*vm).max_wasm_stack);
        }
        outer
    };
    // SAFETY: per the contract, `func_ref` is live and the buffer fits its
    // signature; the host is the caller, so `caller_vmctx` is null.
    let ok = unsafe {
        let f = func_ref.as_ptr();
        ((*f).array_call)((*f).vmctx, std::ptr::null_mut(), ptr, capacity)
    };
    if outer {
        // SAFETY: as above; the call is over.
        unsafe { (*store.as_ptr()).vm.stack_limit = 0 };
    }
    let result = if ok {
        Ok(())
    } else {
        // SAFETY: the call is over, so nothing else accesses the store now.
        let store = unsafe { &mut *store.as_ptr() };
        let (reason, frames) = store.vm.take_pending();
        if let Some(payload) = store.pending_panic.take() {
            std::panic::resume_unwind(payload);
        }
        Err(match reason {
            UnwindReason::Trap(code) => {
                // A call nested in WebAssembly (from a host function): the
                // frames of the activations it is nested in belong to the
                // trap's backtrace too.
                let mut frames = frames;
                frames.extend(super::backtrace::live_frames(store));
                trap_error(store, code, &frames)
            }
            UnwindReason::Host(error) => error,
        })
    };
    // SAFETY: as for `CallingWasm`; the call is over.
    unsafe { run_call_hook(store.as_ptr(), CallHook::ReturningFromWasm)? };
    result
}
