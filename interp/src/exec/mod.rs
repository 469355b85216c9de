//! The executor: runs Kiln bytecode.
//!
//! Every interpreted function is entered from outside through
//! [`interp_array_call`], its `VMFuncRef::array_call`. Each such entry is an
//! *activation*: one run of the handlers from the entry function's first
//! instruction until it returns or something faults.
//!
//! # Threaded dispatch
//!
//! Each [`Op`] variant has its own handler function (`handlers.rs`), and
//! all handlers share one signature that keeps the hot state in argument
//! registers: the instruction pointer, the frame's slots, memory 0's base,
//! a pointer to the activation's `Ctx` (store, running instance and
//! function, frame base, memory 0's length; what calls, returns, traps and
//! bounds checks need), the handler table's address, and the three
//! accumulators in which an instruction hands its result to the next one
//! (see [`crate::bytecode`]). A handler performs its instruction and passes
//! control to the handler of the next one, found by the instruction's tag
//! in a static table. In optimised builds it does so with a tail call, so
//! each instruction ends in its own indirect `jmp` — no central loop whose
//! single indirect jump every instruction funnels through, and no
//! loop-carried state for the compiler to spill. `dispatch.rs` explains
//! that backend and the portable loop that replaces it where sibling calls
//! cannot be relied on (the choice is made by `build.rs`).
//!
//! A handler must never lend the address of one of its locals to a
//! function it calls (not even as a hidden return slot): LLVM then cannot
//! turn its final call into a jump, and every execution of that
//! instruction would leave a native frame behind. So helpers a handler
//! calls out of line return scalars or leave their results in the `Ctx`,
//! and the tests run every instruction millions of times checking that
//! the native stack does not move (`tests/dispatch.rs`).
//!
//! # Calls and traps
//!
//! Calls between interpreted functions stay in the activation: the caller's
//! return state is pushed on the store's frame stack and the callee's frame
//! is laid over the caller's argument slots on the value stack (see
//! [`crate::bytecode`]). Deep wasm recursion therefore uses the value stack,
//! bounded by `max_wasm_stack`, and never the native stack; exhausting it is
//! [`TrapCode::StackOverflow`]. Calls to host (or native) functions go
//! through their `array_call`; if they call back into wasm, the new
//! activation nests on the same stacks above the caller's frame.
//!
//! Traps are values: an instruction that traps stores a `Fault` and its
//! own address in the `Ctx` and stops the handler chain; the activation
//! then records its live frames in the store's backtrace and its reason in
//! `pending`, restores the stacks, and the entry returns `false`.
//!
//! Instruction families live in their own files: `arith` (integers),
//! `float` (floats and conversions), `control`, `call`,
//! `load_store`, `memory`, `table`, `global`; `regs` is the slot
//! access they share and `stack` the stacks. `handlers` turns their
//! operations into one handler per instruction, and `dispatch` chains the
//! handlers.

mod arith;
mod assemble;
mod call;
mod control;
mod dispatch;
mod epoch;
mod float;
mod global;
mod handlers;
mod load_store;
mod memory;
mod regs;
mod stack;
mod table;
#[cfg(test)]
mod tests;
mod tier;

pub use assemble::assemble;
#[cfg(test)]
pub(crate) use assemble::takes_immediate;
pub use stack::{InterpStack, StoreStacks};

use crate::InterpModule;
use crate::bytecode::{CompiledFunc, Inst};
use crate::vm::{
    FrameInfo, TrapCode, UnwindReason, VMActivation, VMContext, VMInterpFunc, VMOpaqueContext,
    VMStoreContext, ValRaw,
};
use memory::Mem;
use regs::Regs;

/// Why an activation stopped before its entry function returned.
#[derive(Copy, Clone, Debug)]
enum Fault {
    /// An instruction trapped: this becomes the store's pending reason.
    Trap(TrapCode),
    /// A callee or builtin already stored the pending reason.
    Pending,
    /// The running function's own native code (tier-up) failed: the reason
    /// is pending and its frame already in the backtrace, so the
    /// interpreted frame it replaced is not recorded again.
    Replaced,
}

impl From<TrapCode> for Fault {
    #[inline(always)]
    fn from(code: TrapCode) -> Self {
        Fault::Trap(code)
    }
}

/// An activation's state that is not hot enough for a register: what calls,
/// returns, traps, entity accesses and bounds checks need. Lives in `interp_array_call`'s
/// frame; handlers reach it through a pointer argument.
#[repr(C)]
#[derive(Debug)]
struct Ctx {
    /// The store running the activation.
    store: *mut VMStoreContext,
    /// The store's interpreter stacks (`(*store).interp`, cached: a call or
    /// return reaches them with one load, as when they were inline).
    stack: *mut InterpStack,
    /// The running function's instance.
    vmctx: *mut VMContext,
    /// The running function's bytecode.
    func: *const CompiledFunc,
    /// Absolute index of the running frame's slot 0 on the value stack.
    base: usize,
    /// The frame-stack depth when the activation started: frames above it
    /// are the running function's interpreted callers.
    entry_frames: usize,
    /// The innermost of those callers' records, the one `Return` pops
    /// (`InterpStack::frames[len - 1]`), or null while the running function
    /// is the activation's entry function. `Return` reads it from here,
    /// one load, instead of through the store and the stack's length: the
    /// caller's instruction pointer, which every operand load after the
    /// return waits on, comes from that record. Refreshed wherever the
    /// frame stack may have moved (a push that grew it, a call out during
    /// which a nested activation did).
    top: *const stack::Frame,
    /// The value stack's storage (`InterpStack::values`), where every
    /// frame's slots are: a call or return finds the new frame's slots one
    /// load from here rather than two through the store. Refreshed wherever
    /// the value stack may have moved (a call that grew it, a call out
    /// during which a nested activation did).
    values: *mut u64,
    /// Set when the activation stops early: why.
    fault: Option<Fault>,
    /// Set with `fault`: the instruction that faulted. Also set while the
    /// running function calls out of the interpreter (to a host or native
    /// function, or to the runtime's epoch entry): the call instruction, so
    /// that the frames on the stack can be listed meanwhile
    /// ([`activation_frames`]); null while the running function's own
    /// native code runs in its place (tier-up), which lists that frame.
    ip: *const Inst,
    /// Interpreted functions this activation has called (see `call.rs`).
    callees: [call::Callee; call::CALLEE_CACHE],
    /// Where the general path of a call left execution to resume.
    resume: call::Resume,
}

impl Ctx {
    /// Re-reads [`Ctx::top`] and [`Ctx::values`] from the store's stacks,
    /// after anything that may have grown (moved) them.
    ///
    /// # Safety
    /// `store` is live and its frame stack holds at least `entry_frames`
    /// records.
    unsafe fn refresh_stacks(&mut self) {
        // SAFETY: forwarded to the caller.
        let stack = unsafe { &mut *self.stack };
        self.top = stack.top_frame(self.entry_frames);
        self.values = stack.values.as_mut_ptr();
    }
}

/// The interpreter stacks of `store` (its opaque `interp` pointer).
///
/// # Safety
/// `store` is live and its `interp` points at the store's stacks (see
/// [`StoreStacks`]).
#[inline(always)]
unsafe fn stacks(store: *mut VMStoreContext) -> *mut InterpStack {
    // SAFETY: forwarded to the caller.
    unsafe { (*store).interp.cast::<InterpStack>() }
}

/// The interpreter module of instance `vmctx` (its opaque `interp_module`
/// pointer).
///
/// # Safety
/// `vmctx` is a live, initialised instance whose `interp_module` points at
/// its module's [`InterpModule`].
#[inline(always)]
unsafe fn interp_module(vmctx: *mut VMContext) -> *const InterpModule {
    // SAFETY: forwarded to the caller.
    unsafe { (*vmctx).interp_module.cast::<InterpModule>() }
}

/// The `array_call` entry of every interpreted function: `callee_vmctx` is
/// its [`VMInterpFunc`].
///
/// Runs the function to completion in a new activation on the store's
/// stacks: reads the parameters from the front of `args_and_results`,
/// writes the results there and returns `true`; or, if it traps (or a
/// callee fails), leaves the reason in the store's `pending`, appends this
/// activation's frames to its `backtrace` and returns `false`. Each call
/// counts as one host → wasm entry against
/// [`VMStoreContext::MAX_ENTRY_DEPTH`].
///
/// # Safety
/// As for [`crate::vm::VMArrayCallFn`]: `callee_vmctx` is the
/// `VMInterpFunc` of a defined function of a live, fully initialised
/// instance, and `args_and_results` points to `capacity` slots holding the
/// function's parameters.
pub unsafe extern "C" fn interp_array_call(
    callee_vmctx: *mut VMOpaqueContext,
    caller_vmctx: *mut VMContext,
    args_and_results: *mut ValRaw,
    capacity: usize,
) -> bool {
    let _ = caller_vmctx;
    // SAFETY: the caller upholds the array-call contract above: the callee
    // context, its instance, store and module are live, and the buffer holds
    // `capacity` slots (checked against the signature below). `reserve`
    // allocates `frame_size` slots from `start`, which is all `Regs` needs.
    unsafe {
        let callee = callee_vmctx as *const VMInterpFunc;
        let vmctx = (*callee).instance;
        let func_index = (*callee).func_index;
        let store = (*vmctx).store;
        if (*store).entry_depth >= VMStoreContext::MAX_ENTRY_DEPTH {
            return raise(store, UnwindReason::Trap(TrapCode::StackOverflow));
        }
        let def_index = func_index.wrapping_sub((*vmctx).offsets.counts.imported_funcs);
        let func: *const CompiledFunc = match (*interp_module(vmctx)).compiled(def_index) {
            Ok(f) => f,
            Err(e) => return raise(store, UnwindReason::Host(e)),
        };
        let f = &*func;
        let (params, results) = (f.num_params as usize, f.num_results as usize);
        if capacity < params.max(results) {
            let msg = anyhow::anyhow!(
                "array call with {capacity} slots to a function with {params} parameters and {results} results"
            );
            return raise(store, UnwindReason::Host(msg));
        }

        let stack = &mut *stacks(store);
        let start = stack.top;
        let entry_frames = stack.frames.len();
        if !stack.reserve(start + f.frame_size as usize) {
            return raise(store, UnwindReason::Trap(TrapCode::StackOverflow));
        }
        let regs = Regs::new(stack.values.as_mut_ptr().add(start));
        for i in 0..params {
            regs.ptr(i).write((*args_and_results.add(i)).bits());
        }
        regs.init_frame(f);

        let mem = Mem::load(vmctx);
        let mut ctx = Ctx {
            store,
            stack: stacks(store),
            vmctx,
            func,
            base: start,
            entry_frames,
            top: core::ptr::null(),
            values: stack.values.as_mut_ptr(),
            fault: None,
            ip: core::ptr::null(),
            callees: [call::Callee::EMPTY; call::CALLEE_CACHE],
            resume: call::Resume {
                ip: core::ptr::null(),
                regs,
                mem,
            },
        };
        // The context is reached through this one pointer from here on
        // (the handlers, and `activation_frames` through the record).
        let ctx_ptr: *mut Ctx = &raw mut ctx;
        let mut activation = VMActivation {
            prev: (*store).activations,
            kind: VMActivation::INTERP,
            data: ctx_ptr as usize,
            func_index: 0,
            vmctx: core::ptr::null_mut(),
        };
        (*store).activations = &raw mut activation;
        (*store).entry_depth += 1;
        dispatch::run(f.code.as_ptr(), regs, mem, ctx_ptr);
        (*store).entry_depth -= 1;
        (*store).activations = activation.prev;
        let ctx = &*ctx_ptr;
        let ok = match ctx.fault {
            None => true,
            Some(fault) => {
                unwind(ctx, fault);
                false
            }
        };
        (*stacks(store)).top = start;
        if ok {
            let regs = Regs::new((*stacks(store)).values.as_mut_ptr().add(start));
            for i in 0..results {
                args_and_results
                    .add(i)
                    .write(ValRaw::from_bits(regs.ptr(i).read()));
            }
        }
        ok
    }
}

/// Records a fresh failure (not one a callee reported) as the store's
/// pending reason, discarding any stale backtrace. Returns `false`.
///
/// # Safety
/// `store` is a live store context not borrowed elsewhere.
#[cold]
#[inline(never)]
unsafe fn raise(store: *mut VMStoreContext, reason: UnwindReason) -> bool {
    // SAFETY: forwarded to the caller.
    let s = unsafe { &mut *store };
    s.backtrace.clear();
    s.pending = Some(reason);
    false
}

/// Ends a faulted activation: records the pending reason (for a trap raised
/// here), appends the activation's frames to the backtrace innermost first,
/// and pops its frame records.
///
/// # Safety
/// `ctx` is the stopped activation: its running function is the one that
/// faulted, at `ctx.ip`, and the frames above `entry_frames` are its
/// callers.
#[cold]
#[inline(never)]
unsafe fn unwind(ctx: &Ctx, fault: Fault) {
    // SAFETY: the store is live and not borrowed elsewhere while the
    // activation is stopped; each frame's `ip` points into its `func`'s code.
    unsafe {
        let s = &mut *ctx.store;
        if let Fault::Trap(code) = fault {
            s.backtrace.clear();
            s.pending = Some(UnwindReason::Trap(code));
        }
        if !matches!(fault, Fault::Replaced) {
            s.backtrace.push(frame_info(ctx.vmctx, ctx.func, ctx.ip));
        }
        let stack = &mut *ctx.stack;
        let callers = stack.frames.get(ctx.entry_frames..).unwrap_or(&[]);
        s.backtrace.extend(
            callers
                .iter()
                .rev()
                .map(|f| frame_info(f.vmctx, f.func, f.ip)),
        );
        stack.frames.truncate(ctx.entry_frames);
    }
}

/// Appends the frames of the interpreter activation whose
/// [`VMActivation::data`] is `activation` to `out`, innermost first: the
/// running function (unless its native code runs in its place) and its
/// interpreted callers. `end` is the length of the frame stack above which
/// the records belong to activations nested in this one (the stack's
/// length for the innermost interpreter activation); it is lowered to
/// where this activation's records start, for the next outer one.
///
/// # Safety
/// `activation` is the `data` of a live interpreter record of a store's
/// activation chain, read while that activation is calling out of the
/// interpreter (so its context is not being written), and `end` is as
/// described.
pub unsafe fn activation_frames(activation: usize, end: &mut usize, out: &mut Vec<FrameInfo>) {
    // SAFETY: per the contract the context is live and quiescent; its
    // frame records above `entry_frames` describe live callers whose `ip`
    // points into their code.
    unsafe {
        let ctx = &*(activation as *const Ctx);
        if !ctx.ip.is_null() {
            out.push(frame_info(ctx.vmctx, ctx.func, ctx.ip));
        }
        let stack = &*ctx.stack;
        let top = (*end).min(stack.frames.len());
        let callers = stack.frames.get(ctx.entry_frames..top).unwrap_or(&[]);
        out.extend(
            callers
                .iter()
                .rev()
                .map(|f| frame_info(f.vmctx, f.func, f.ip)),
        );
        *end = ctx.entry_frames.min(*end);
    }
}

/// The backtrace entry of a frame executing `ip` in `func`.
///
/// # Safety
/// `ip` points into `(*func).code`.
unsafe fn frame_info(
    vmctx: *mut VMContext,
    func: *const CompiledFunc,
    ip: *const Inst,
) -> FrameInfo {
    // SAFETY: forwarded to the caller.
    let (pc, func_index) = unsafe {
        (
            ip.offset_from_unsigned((*func).code.as_ptr()),
            (*func).func_index,
        )
    };
    FrameInfo {
        vmctx,
        func_index,
        pc: pc as u32,
    }
}
