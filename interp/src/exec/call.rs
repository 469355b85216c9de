//! Calls and returns.
//!
//! A call to another interpreted function (recognised by its `array_call`
//! being [`interp_array_call`]) pushes the caller's [`Frame`] and switches
//! the loop's cursor to the callee — no Rust recursion, no allocation once
//! the stacks have grown. Any other callee (a host function, later native
//! code) is called through its `array_call` with the arguments in a
//! `ValRaw` buffer; while it runs, the stack's `top` marks the caller's
//! frame as live so a re-entrant activation nests above it.

use super::memory::Mem;
use super::regs::Regs;
use super::stack::Frame;
use super::{Cursor, Fault, interp_array_call, raise};
use crate::bytecode::{CompiledFunc, Slot};
use crate::vm::{
    TrapCode, UnwindReason, VMArrayCallFn, VMFuncRef, VMInterpFunc, VMStoreContext, ValRaw,
};
use smallvec::SmallVec;

/// Where the signature of a non-interpreted callee comes from (only needed
/// to size the argument buffer).
#[derive(Copy, Clone, Debug)]
pub(super) enum Sig {
    /// `call`: the type of function `func` of the caller's module.
    Func(u32),
    /// `call_indirect`: module type `type_index` of the caller's module.
    Type(u32),
}

/// Calls `fr` with its arguments at the caller's slot `base`. For an
/// interpreted callee the cursor moves to its first instruction; for any
/// other the call completes here, the results land at `base..` and the
/// cursor moves past the call.
///
/// # Safety
/// `store` is the running store, `cur` the running frame (at the call
/// instruction), `fr` a live function of the store whose parameters are in
/// the caller's slots `base..` (validation guarantees the types match).
#[inline(always)]
pub(super) unsafe fn call(
    store: *mut VMStoreContext,
    cur: &mut Cursor,
    fr: *const VMFuncRef,
    base: Slot,
    sig: Sig,
) -> Result<(), Fault> {
    // SAFETY: forwarded to the caller; a `VMFuncRef` whose entry is
    // `interp_array_call` has a `VMInterpFunc` as its vmctx.
    unsafe {
        if (*fr).array_call as usize == interp_array_call as VMArrayCallFn as usize {
            enter(store, cur, (*fr).vmctx as *const VMInterpFunc, base)
        } else {
            let (regs, mem) = call_out(store, *cur, fr, base, sig)?;
            cur.regs = regs;
            cur.mem = mem;
            cur.ip = cur.ip.add(1);
            Ok(())
        }
    }
}

/// The fast path: pushes the caller's frame and starts the interpreted
/// callee in the same loop.
///
/// # Safety
/// As for [`call`]; `callee` is a live `VMInterpFunc` of an instance in the
/// same store.
#[inline(always)]
unsafe fn enter(
    store: *mut VMStoreContext,
    cur: &mut Cursor,
    callee: *const VMInterpFunc,
    base: Slot,
) -> Result<(), Fault> {
    // SAFETY: `callee` names a defined function of a live instance (caller);
    // its `InterpModule` outlives the instance, so the `CompiledFunc` stays
    // at its address. `reserve` makes `frame_size` slots from the new base
    // allocated, which is what `Regs` needs; the caller's arguments at
    // `base..` are inside the caller's frame, hence below the new top.
    unsafe {
        let inst = (*callee).instance;
        let func_index = (*callee).func_index;
        let def_index = func_index.wrapping_sub((*inst).offsets.counts.imported_funcs);
        let func: *const CompiledFunc = match (*(*inst).code).compiled(def_index) {
            Ok(f) => f,
            Err(e) => return Err(translation_failed(store, e)),
        };
        let f = &*func;
        let new_base = cur.base + base as usize;
        let stack = &mut (*store).interp;
        if !stack.reserve(new_base + f.frame_size as usize) {
            return Err(Fault::Trap(TrapCode::StackOverflow));
        }
        stack.frames.push(Frame {
            func: cur.func,
            ip: cur.ip,
            base: cur.base,
            vmctx: cur.vmctx,
            func_index: cur.func_index,
        });
        let regs = Regs::new(stack.values.as_mut_ptr().add(new_base));
        regs.init_frame(f);
        if inst != cur.vmctx {
            cur.vmctx = inst;
            cur.mem = Mem::load(inst);
        }
        cur.func = func;
        cur.func_index = func_index;
        cur.ip = f.ops.as_ptr();
        cur.base = new_base;
        cur.regs = regs;
        Ok(())
    }
}

/// Calls a non-interpreted function through its `array_call`. Returns the
/// caller's slots and memory view, reloaded because the callee may have
/// re-entered the interpreter (growing the value stack) or grown memory.
///
/// # Safety
/// As for [`call`].
#[inline(never)]
unsafe fn call_out(
    store: *mut VMStoreContext,
    cur: Cursor,
    fr: *const VMFuncRef,
    base: Slot,
    sig: Sig,
) -> Result<(Regs, Mem), Fault> {
    // SAFETY: the caller guarantees the cursor, `fr` and the argument slots.
    // The argument and result slots `base..base + max(params, results)` are
    // in the caller's frame (validation and the translator's frame sizing).
    // Nothing borrowed from the store is held across the foreign call, and
    // slot pointers are re-derived after it.
    unsafe {
        let types = (*(*cur.vmctx).code).types();
        let ty = match sig {
            Sig::Func(f) => types
                .funcs
                .get(f as usize)
                .and_then(|t| types.types.get(*t as usize)),
            Sig::Type(t) => types.types.get(t as usize),
        };
        let Some(ty) = ty else {
            raise(
                store,
                UnwindReason::Host(anyhow::anyhow!("call to a function of unknown type")),
            );
            return Err(Fault::Pending);
        };
        let (params, results) = (ty.params().len(), ty.results().len());
        // Never an empty buffer, so callees need no special case for it.
        let capacity = params.max(results).max(1);
        let args = cur.regs.ptr(base as usize);
        let mut buf: SmallVec<[ValRaw; 8]> = (0..capacity)
            .map(|i| {
                if i < params {
                    ValRaw::from_bits(args.add(i).read())
                } else {
                    ValRaw::zero()
                }
            })
            .collect();

        let stack = &mut (*store).interp;
        let saved_top = stack.top;
        stack.top = cur.base + (*cur.func).frame_size as usize;
        let ok = ((*fr).array_call)((*fr).vmctx, cur.vmctx, buf.as_mut_ptr(), capacity);
        (*store).interp.top = saved_top;
        if !ok {
            return Err(Fault::Pending);
        }

        let regs = Regs::new((*store).interp.values.as_mut_ptr().add(cur.base));
        let results_at = regs.ptr(base as usize);
        for (i, v) in buf.iter().take(results).enumerate() {
            results_at.add(i).write(v.bits());
        }
        Ok((regs, Mem::load(cur.vmctx)))
    }
}

/// `return`: pops the caller's frame into the cursor. Returns `false` when
/// the returning function is the activation's entry function.
///
/// # Safety
/// `store` is the running store, `entry_frames` the frame-stack depth at
/// which the running activation started.
#[inline(always)]
pub(super) unsafe fn ret(
    store: *mut VMStoreContext,
    cur: &mut Cursor,
    entry_frames: usize,
) -> bool {
    // SAFETY: frames above `entry_frames` were pushed by this activation's
    // calls, so they describe live callers whose slots are still allocated
    // (the value stack only grows while an activation runs).
    unsafe {
        let stack = &mut (*store).interp;
        if stack.frames.len() <= entry_frames {
            return false;
        }
        let Some(f) = stack.frames.pop() else {
            return false;
        };
        cur.regs = Regs::new(stack.values.as_mut_ptr().add(f.base));
        cur.func = f.func;
        cur.func_index = f.func_index;
        cur.ip = f.ip.add(1);
        cur.base = f.base;
        cur.vmctx = f.vmctx;
        cur.mem = Mem::load(f.vmctx);
        true
    }
}

/// Records a lazy-translation failure as the pending host error.
///
/// # Safety
/// `store` is the running store.
#[cold]
#[inline(never)]
unsafe fn translation_failed(store: *mut VMStoreContext, e: anyhow::Error) -> Fault {
    // SAFETY: forwarded to the caller.
    unsafe { raise(store, UnwindReason::Host(e)) };
    Fault::Pending
}
