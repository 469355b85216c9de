//! The [`VMBuiltins`] table every instance's vmctx points at: the
//! operations running code cannot do by itself because they allocate.
//!
//! Both builtins receive only the vmctx and an index. The slot in the vmctx
//! holds the address of a `VMMemoryDefinition`/`VMTableDefinition`, which is
//! the first field of the owning `#[repr(C)]` object in the store, so the
//! object — with its limits and storage — is found by a cast.
//!
//! Growth consults the store's [`ResourceLimiter`](crate::ResourceLimiter),
//! if one is installed. The store is found from the vmctx too: its
//! `VMStoreContext::store_data` points at the store's `StoreInner<T>`, whose
//! first field (`repr(C)`) is the `StoreOpaque`. A limiter error makes the
//! instruction trap: the error is stored as the store's pending unwind
//! reason and the builtin returns [`VMBuiltins::GROW_TRAPPED`]; a panic in
//! the limiter is caught and resumed on the embedder's side, as host
//! functions' panics are.

use super::memory::MemoryObject;
use super::table::TableObject;
use crate::ResourceLimiter;
use crate::store::StoreOpaque;
use kiln_vm::{UnwindReason, VMBuiltins, VMContext};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The builtins of every Kiln instance.
pub(crate) static BUILTINS: VMBuiltins =
    VMBuiltins::new(memory_grow, table_grow, tier_up, new_epoch);

/// The epoch deadline was reached ([`kiln_vm::NewEpochFn`]): runs the
/// store's deadline callback (see `store/hooks.rs`). Native code passes its
/// frame pointer and function index, which are linked into the store's
/// activation chain while the callback runs, so that the frames on the
/// stack can be listed meanwhile. A panic in the callback is parked and
/// resumed on the embedder's side, as a host function's is.
///
/// # Safety
/// `vmctx` is a live instance vmctx running on its store's thread; running
/// code holds no reference into the store while it calls a builtin; a
/// non-zero `fp` is the frame pointer of the calling native function.
unsafe extern "C" fn new_epoch(vmctx: *mut VMContext, func_index: u32, fp: usize) -> bool {
    // SAFETY: per the contract. The activation record lives on this frame
    // and is unlinked before it returns.
    unsafe {
        let store = store_of(vmctx);
        let vm = (*vmctx).store;
        let mut activation = kiln_vm::VMActivation {
            prev: (*vm).activations,
            kind: kiln_vm::VMActivation::NATIVE,
            data: fp,
            func_index: func_index as usize,
            vmctx,
        };
        if fp != 0 {
            (*vm).activations = &raw mut activation;
        }
        let outcome = if store.is_null() {
            Err(UnwindReason::Trap(kiln_vm::TrapCode::Interrupt))
        } else {
            match catch_unwind(AssertUnwindSafe(|| crate::store::run_epoch_hook(store))) {
                Ok(outcome) => outcome,
                Err(payload) => {
                    (*store).pending_panic = Some(payload);
                    Err(UnwindReason::Host(anyhow::anyhow!(
                        "epoch deadline callback panicked"
                    )))
                }
            }
        };
        if fp != 0 {
            (*vm).activations = activation.prev;
        }
        match outcome {
            Ok(()) => true,
            Err(reason) => {
                (*vm).backtrace.clear();
                (*vm).pending = Some(reason);
                false
            }
        }
    }
}

/// Tier-up ([`kiln_vm::TierUpFn`]): the tiered state of `vmctx`'s module
/// decides (see `module/tier.rs`). A panic in there leaves the function
/// interpreted.
///
/// # Safety
/// `vmctx` is a live instance vmctx running on its store's thread.
unsafe extern "C" fn tier_up(
    vmctx: *mut VMContext,
    func_index: u32,
    loop_index: u32,
) -> Option<kiln_vm::VMArrayCallFn> {
    // SAFETY: per the contract the store is live; its instance list is not
    // being modified while its code runs, and the instance index in the
    // header is this instance's.
    unsafe {
        let store = store_of(vmctx);
        if store.is_null() {
            return None;
        }
        let index = (*vmctx).instance_index as usize;
        let instances = &(*store).instances;
        let tier = instances.get(index)?.module.tier()?.clone();
        std::panic::catch_unwind(AssertUnwindSafe(|| {
            crate::module::tier::tier_up(vmctx, &tier, func_index, loop_index)
        }))
        .ok()
        .flatten()
    }
}

/// The store running instance `vmctx` (null if it was not made by
/// `Store::new`, which never happens for instances).
///
/// # Safety
/// `vmctx` is a live instance vmctx.
unsafe fn store_of(vmctx: *mut VMContext) -> *mut StoreOpaque {
    // SAFETY: per the contract the header's store pointer is the store's
    // live `VMStoreContext`. Its `store_data`, when set (always, for stores
    // made by `Store::new`), is the store's `StoreInner<T>`, which is
    // `repr(C)` with the `StoreOpaque` first.
    unsafe { (*(*vmctx).store).store_data.cast::<StoreOpaque>() }
}

/// Runs one growth under the store's resource limiter and turns the outcome
/// into the builtin's return value. A limiter error becomes the pending
/// unwind reason (a trap); a panic in the limiter is parked in the store,
/// like a host function's, and resumed once control is back in the
/// embedder's call, so it never unwinds through running code.
///
/// # Safety
/// `vmctx` is a live instance vmctx; nothing holds a reference into its
/// store; `grow` touches nothing of the store but the object it grows.
unsafe fn grow_with_limiter(
    vmctx: *mut VMContext,
    grow: impl FnOnce(Option<&mut dyn ResourceLimiter>) -> anyhow::Result<Option<u64>>,
) -> u64 {
    // SAFETY: per the contract; the limiter lives in the store's data, which
    // is disjoint from the `StoreOpaque` and from the grown object.
    let store = unsafe { store_of(vmctx) };
    let limiter = if store.is_null() {
        None
    } else {
        // SAFETY: as above.
        unsafe { (*store).limiter_ptr() }
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: as above: the limiter is not otherwise accessed.
        grow(limiter.map(|ptr| unsafe { &mut *ptr.as_ptr() }))
    }));
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(payload) => {
            if !store.is_null() {
                // SAFETY: the store is live and, with the closure done, not
                // otherwise accessed.
                unsafe { (*store).pending_panic = Some(payload) };
            }
            Err(anyhow::anyhow!("resource limiter panicked"))
        }
    };
    match outcome {
        Ok(Some(old)) => old,
        Ok(None) => VMBuiltins::GROW_FAILED,
        Err(error) => {
            // SAFETY: per the contract the store context is live; running
            // code holds no reference into it while a builtin runs.
            unsafe {
                let vm = (*vmctx).store;
                (*vm).backtrace.clear();
                (*vm).pending = Some(UnwindReason::Host(error));
            }
            VMBuiltins::GROW_TRAPPED
        }
    }
}

/// `memory.grow`: old size in pages, [`VMBuiltins::GROW_FAILED`], or
/// [`VMBuiltins::GROW_TRAPPED`].
///
/// # Safety
/// `vmctx` is a live instance and `memory` one of its memory indices (the
/// interpreter only passes validated indices).
unsafe extern "C" fn memory_grow(vmctx: *mut VMContext, memory: u32, delta: u64) -> u64 {
    // SAFETY: per the contract above the slot holds the definition of a
    // memory object owned by the instance's store, which outlives the call;
    // the definition is that object's first field. Running code holds no
    // reference into the store or the memory object while it calls a
    // builtin, so the exclusive access does not alias.
    unsafe {
        let object = (*VMContext::memory_slot(vmctx, memory)).cast::<MemoryObject>();
        grow_with_limiter(vmctx, |limiter| (*object).grow_limited(delta, limiter))
    }
}

/// `table.grow`: old size in elements, [`VMBuiltins::GROW_FAILED`], or
/// [`VMBuiltins::GROW_TRAPPED`].
///
/// # Safety
/// As for [`memory_grow`], with a table index.
unsafe extern "C" fn table_grow(vmctx: *mut VMContext, table: u32, delta: u64, init: u64) -> u64 {
    // SAFETY: as in `memory_grow`, for the table object.
    unsafe {
        let object = (*VMContext::table_slot(vmctx, table)).cast::<TableObject>();
        grow_with_limiter(vmctx, |limiter| {
            (*object).grow_limited(delta, init, limiter)
        })
    }
}
