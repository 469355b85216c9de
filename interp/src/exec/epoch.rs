//! `CheckEpoch`: the epoch deadline, checked at function entries and loop
//! headers.
//!
//! The check itself is a load and a compare in the handler. Reaching the
//! deadline calls the runtime ([`VMBuiltins::new_epoch`](crate::vm::VMBuiltins)),
//! which runs the store's deadline callback: arbitrary host code that may
//! grow memories or call back into WebAssembly, so the slow path leaves the
//! running frame as a call out does (its slots below the stack's top, its
//! instruction in the context for backtraces) and continues with the frame
//! and memory 0 reloaded.

use super::dispatch::{Ret, fail, handler_fn, next_with};
use super::memory::Mem;
use super::regs::Regs;
use super::{Ctx, Fault, stacks};
use crate::bytecode::Inst;
use crate::vm::VMStoreContext;

/// Whether the engine's epoch has reached the store's deadline.
///
/// # Safety
/// `store` is the running activation's live store context, whose
/// `epoch_ptr` points at its engine's epoch counter.
#[inline(always)]
pub(super) unsafe fn reached(store: *mut VMStoreContext) -> bool {
    // SAFETY: the caller guarantees both pointers; the counter is atomic,
    // so other threads may advance it concurrently.
    unsafe {
        let epoch = (*(*store).epoch_ptr).load(core::sync::atomic::Ordering::Relaxed);
        epoch >= (*store).epoch_deadline
    }
}

handler_fn! {
    /// The slow path of `CheckEpoch`, taken when the deadline is reached:
    /// asks the runtime what to do, then continues after the check with a
    /// fresh view of the frame and memory 0, or stops with the reason the
    /// runtime recorded.
    ///
    /// # Safety
    /// As for any handler; the instruction at `ip` is a `CheckEpoch` of the
    /// running function.
    #[cold]
    fn epoch_slow(
        ip: *const Inst,
        regs: *mut u64,
        mem: *mut u8,
        mem_len: usize,
        ctx: *mut Ctx,
        acc: u64,
        fa: f32,
        da: f64,
    ) -> Ret {
        let _ = (regs, mem, mem_len);
        // SAFETY: the executor's invariants hold for the instruction at
        // `ip`; after the runtime call the frame and memory are re-derived
        // from the (possibly moved or grown) stacks and instance.
        unsafe {
            if new_epoch(ctx, ip) {
                let c = &*ctx;
                let regs = Regs::new(c.values.add(c.base));
                next_with(ip.add(1), regs, Mem::load(c.vmctx), ctx, acc, fa, da)
            } else {
                fail(ctx, ip, Fault::Pending)
            }
        }
    }
}

/// Calls the runtime's epoch entry for the running function at `ip`;
/// `false` if it recorded a reason to stop.
///
/// # Safety
/// `ctx` is the running activation and `ip` its current instruction.
#[inline(never)]
unsafe fn new_epoch(ctx: *mut Ctx, ip: *const Inst) -> bool {
    // SAFETY: as for a call out (`call::call_out`): the frame's slots stay
    // below the stack's top while the runtime runs, nothing borrowed from
    // the store is held across the call, and the cached stack pointers are
    // refreshed afterwards.
    unsafe {
        let (store, vmctx, base, frame_size) = {
            let c = &*ctx;
            (c.store, c.vmctx, c.base, (*c.func).frame_size as usize)
        };
        let stack = &mut *stacks(store);
        let saved_top = stack.top;
        stack.top = base + frame_size;
        (*ctx).ip = ip;
        let new_epoch = (*(*vmctx).builtins).new_epoch;
        let ok = new_epoch(vmctx, (*(*ctx).func).func_index, 0);
        (*stacks(store)).top = saved_top;
        (*ctx).refresh_stacks();
        ok
    }
}
