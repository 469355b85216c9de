//! Host functions at the ABI level: a `VMFuncRef` whose `array_call` is
//! [`host_trampoline`] and whose `vmctx` is a [`HostFuncCtx`].
//!
//! The trampoline is the boundary between `extern "C"` code (the
//! interpreter, later native code) and the embedder's Rust closure. It
//! rebuilds a [`Caller`] from the context's store pointer and the calling
//! instance, runs the closure under `catch_unwind` so that a panic never
//! unwinds through foreign frames, and reports failure the ABI way: the
//! reason in the store's `VMStoreContext::pending`, `false` returned. A
//! panic payload is parked in the store and resumed by the embedder-side
//! `Func::call` that started the outermost call.

use crate::func::HostFn;
use crate::store::{StoreContextMut, StoreInner, run_call_hook};
use crate::{CallHook, Caller, Func};
use kiln_vm::{UnwindReason, VMContext, VMFuncRef, VMOpaqueContext, VMSharedTypeIndex, ValRaw};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;
use std::sync::Arc;

use super::stable_box::ErasedBox;

/// The `vmctx` of a host function's `VMFuncRef` (which it contains).
#[repr(C)]
pub(crate) struct HostFuncCtx<T: 'static> {
    /// The function's record; its `vmctx` points at this struct.
    func_ref: VMFuncRef,
    /// The store the function belongs to.
    store: NonNull<StoreInner<T>>,
    /// The closure, at the raw-slot level.
    func: Arc<HostFn<T>>,
}

/// Creates a host function of type `type_index` in `store`.
pub(crate) fn create_host_func<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    type_index: VMSharedTypeIndex,
    func: Arc<HostFn<T>>,
) -> Func {
    let ctx = HostFuncCtx {
        func_ref: VMFuncRef {
            array_call: host_trampoline::<T>,
            wasm_call: None,
            type_index,
            vmctx: std::ptr::null_mut(),
        },
        store: store.inner_ptr(),
        func,
    };
    let (owner, ptr) = ErasedBox::new(ctx);
    // SAFETY: `ptr` is the context just allocated; nothing else refers to it
    // yet. Pointing `vmctx` at the context itself is what the trampoline
    // expects.
    let func_ref = unsafe {
        (*ptr.as_ptr()).func_ref.vmctx = ptr.as_ptr().cast::<VMOpaqueContext>();
        NonNull::new_unchecked(std::ptr::addr_of_mut!((*ptr.as_ptr()).func_ref))
    };
    let opaque = store.opaque_mut();
    opaque.host_funcs.push(owner);
    Func::from_vm(opaque.id, func_ref)
}

/// The `array_call` entry of every host function of a store with data `T`.
///
/// # Safety
/// `callee_vmctx` is the `vmctx` of a `VMFuncRef` made by
/// [`create_host_func`] (so a live `HostFuncCtx<T>`), `caller_vmctx` is
/// null or an instance of the same store, and `args` points to `capacity`
/// slots as the array-call ABI requires.
unsafe extern "C" fn host_trampoline<T: 'static>(
    callee_vmctx: *mut VMOpaqueContext,
    caller_vmctx: *mut VMContext,
    args: *mut ValRaw,
    capacity: usize,
) -> bool {
    // SAFETY: per the contract the context is a live `HostFuncCtx<T>`, owned
    // by the store, which outlives this call.
    let ctx = unsafe { &*callee_vmctx.cast::<HostFuncCtx<T>>() };
    let store = ctx.store;
    let caller_instance = if caller_vmctx.is_null() {
        None
    } else {
        // SAFETY: a non-null caller is a live instance vmctx of this store.
        Some(unsafe { (*caller_vmctx).instance_index })
    };
    let args: &mut [ValRaw] = if capacity == 0 {
        &mut []
    } else {
        // SAFETY: the caller provides `capacity` valid slots, not otherwise
        // accessed while the host function runs.
        unsafe { std::slice::from_raw_parts_mut(args, capacity) }
    };
    // Borrowed, not cloned (an `Arc` clone is two atomic operations per
    // call): the context lives in its own allocation, owned by the store
    // through a raw pointer (`ErasedBox`), never moved, and freed only when
    // the store drops — which cannot happen while one of its functions runs.
    // The `&mut` store access the closure gets does not cover it.
    let func = &*ctx.func;

    let outcome = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the store is live; while the host function runs, the code
        // that called it holds no reference into the store, so the caller's
        // context has exclusive access to it.
        let cx = unsafe { StoreContextMut::from_raw(store) };
        let opaque = cx.opaque_raw();
        // SAFETY: no reference into the store is held while a hook runs.
        unsafe { run_call_hook(opaque, CallHook::CallingHost)? };
        let result = func(Caller::new(cx, caller_instance), args);
        // SAFETY: as above; the host function has returned.
        unsafe { run_call_hook(opaque, CallHook::ReturningFromHost)? };
        result
    }));

    let reason = match outcome {
        Ok(Ok(())) => return true,
        Ok(Err(error)) => UnwindReason::Host(error),
        Err(payload) => {
            // SAFETY: the host function has returned; no other access to
            // the store is live.
            unsafe { (*store.as_ptr()).opaque.pending_panic = Some(payload) };
            UnwindReason::Host(anyhow::anyhow!("host function panicked"))
        }
    };
    // SAFETY: as above.
    unsafe {
        let vm = &mut (*store.as_ptr()).opaque.vm;
        vm.backtrace.clear();
        vm.pending = Some(reason);
    }
    false
}
