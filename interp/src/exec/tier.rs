//! Tier-up: the interpreter side of tiered execution.
//!
//! With tiered execution the translator puts a `TierUp` at each function's
//! entry and a `TierUpLoop` at each loop header; both take the size of the
//! code that follows from the function's work budget (shared by every
//! instance of the module, see [`TierBudget`](crate::bytecode::TierBudget)).
//! When the budget runs out they ask the runtime
//! ([`VMBuiltins::tier_up`](crate::vm::VMBuiltins)), which queues the
//! function's compilation and, once its native code is ready, patches the
//! calling instance's `VMFuncRef` so that every later call goes native.
//! The running call moves too: at the entry, the interpreted frame calls the
//! native code with its own arguments and returns its results; at a loop
//! header, it calls an on-stack-replacement entry with its locals and
//! operand stack and returns what the native code returns.
//!
//! Both happen before the region's epoch check and fuel charge, which the
//! native code then makes itself: fuel and epochs behave exactly as if the
//! whole call had been native (or interpreted).

use super::call::{self, Sig};
use super::dispatch::{Ret, fail, handler_fn, next, next_with, stop};
use super::memory::Mem;
use super::regs::Regs;
use super::{Ctx, Fault};
use crate::bytecode::{Inst, Op};
use crate::vm::{VMBuiltins, VMContext, ValRaw};

/// What a tier-up check decided.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Decision {
    /// No native code yet: go on interpreting.
    Interpret,
    /// The call ran natively and returned to an interpreted caller:
    /// continue where `Ctx::resume` says.
    Resume,
    /// The call ran natively and was the activation's entry function: the
    /// activation is over (its results are in slots `0..results`).
    Stop,
}

handler_fn! {
    /// The slow path of `TierUp` and `TierUpLoop`, taken when the running
    /// function's budget is spent.
    ///
    /// # Safety
    /// As for any handler; the instruction at `ip` is a `TierUp` or a
    /// `TierUpLoop` of the running function.
    #[cold]
    fn tier_up_slow(
        ip: *const Inst,
        regs: *mut u64,
        mem: *mut u8,
        mem_len: usize,
        ctx: *mut Ctx,
        acc: u64,
        fa: f32,
        da: f64,
    ) -> Ret {
        // SAFETY: the executor's invariants hold for the instruction at
        // `ip`; on `Resume`, `decide` stored a state satisfying them in
        // `resume`.
        unsafe {
            match decide(ctx, ip, Regs::new(regs)) {
                Ok(Decision::Interpret) => {
                    next(ip.add(1), Regs::new(regs), mem, mem_len, ctx, acc, fa, da)
                }
                Ok(Decision::Resume) => {
                    let to = (*ctx).resume;
                    next_with(to.ip, to.regs, to.mem, ctx, acc, fa, da)
                }
                Ok(Decision::Stop) => stop(),
                Err(fault) => fail(ctx, ip, fault),
            }
        }
    }
}

/// Asks the runtime for native code for the running function (at its entry
/// or at the loop header `ip` is at) and, if there is some, runs the rest of
/// the call there and returns from the interpreted frame.
///
/// # Safety
/// As for [`tier_up_slow`]; `r` is the running frame.
#[inline(never)]
unsafe fn decide(ctx: *mut Ctx, ip: *const Inst, r: Regs) -> Result<Decision, Fault> {
    // SAFETY: the context describes the running function of a live
    // instance; the slots read are the frame's (locals and, at a loop
    // header, the operand stack the instruction describes), and after a
    // call out the frame is re-derived from the (possibly moved) stacks.
    unsafe {
        let c = &mut *ctx;
        let f = &*c.func;
        let vmctx = c.vmctx;
        let loop_at = match (*ip).op {
            Op::TierUpLoop {
                loop_index,
                stack,
                height,
                ..
            } => Some((loop_index, stack, height)),
            _ => None,
        };
        let loop_index = loop_at.map_or(VMBuiltins::FUNCTION_ENTRY, |(i, _, _)| i);
        let tier_up = (*(*vmctx).builtins).tier_up;
        let Some(entry) = tier_up(vmctx, f.func_index, loop_index) else {
            f.tier_budget.rearm();
            return Ok(Decision::Interpret);
        };
        let outcome = match loop_at {
            // At the entry, the function's record now leads to its native
            // code: call it like any other non-interpreted callee, with the
            // frame's own parameters.
            None => {
                let def = f.func_index - (*vmctx).offsets.counts.imported_funcs;
                let fr = VMContext::defined_func_ref(vmctx, def);
                call::call_out(ctx, core::ptr::null(), r, fr, 0, Sig::Func(f.func_index))
            }
            // At a loop header, the OSR entry takes the frame's locals and
            // operand stack.
            Some((_, stack, height)) => {
                let locals = f.num_locals as usize;
                let results = f.num_results as usize;
                let len = (locals + height as usize).max(results).max(1);
                let mut buffer = vec![ValRaw::zero(); len];
                for (i, v) in buffer.iter_mut().take(locals).enumerate() {
                    *v = ValRaw::from_bits(r.ptr(i).read());
                }
                for h in 0..height as usize {
                    buffer[locals + h] = ValRaw::from_bits(r.ptr(stack as usize + h).read());
                }
                call::call_entry(ctx, entry, buffer)
            }
        };
        c.refresh_stacks();
        match outcome {
            // The native code recorded its frame for this function already.
            Err(Fault::Pending) => return Err(Fault::Replaced),
            Err(fault) => return Err(fault),
            Ok(()) => {}
        }
        // The results are in slots `0..results`: return as `Return` does.
        match call::ret(ctx, Mem::load(vmctx)) {
            Some(to) => {
                (*ctx).resume = to;
                Ok(Decision::Resume)
            }
            None => Ok(Decision::Stop),
        }
    }
}
