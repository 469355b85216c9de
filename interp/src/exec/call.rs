//! Calls and returns.
//!
//! A call to another interpreted function (recognised by its `array_call`
//! being [`interp_array_call`]) pushes the caller's [`Frame`] and moves the
//! activation to the callee — no Rust recursion, no allocation once the
//! stacks have grown: the handlers simply continue at the callee's first
//! instruction. Any other callee (a host function, later native code) is
//! called through its `array_call` with the arguments in a `ValRaw`
//! buffer; while it runs, the stack's `top` marks the caller's frame as
//! live so a re-entrant activation nests above it.
//!
//! The running function's identity (instance, bytecode, index, base) lives
//! in the activation's [`Ctx`]; the hot state a handler continues with is
//! returned as a [`Resume`]. Nothing here takes the address of a handler's
//! local, so the handler's final dispatch stays a sibling call.
//!
//! # Fast and slow paths
//!
//! Finding an interpreted callee's bytecode takes a chain of a dozen
//! dependent loads (function reference, `VMInterpFunc`, instance, module,
//! the lazily translated function), and translating it on first use,
//! growing the stacks or calling out may call into other code. A handler
//! that may call anything has to save registers and spill around the call
//! on every path. So the `Call` and `CallIndirect` handlers only take the
//! fast path, [`enter_cached`]: the callee is in the activation's small
//! callee cache (an entry per function index of a `call` or element index
//! of a `call_indirect`, holding the `VMFuncRef` it was filled for, which
//! must match, and whose `array_call` is still checked, so a re-pointed
//! reference or a retargeted table element is noticed), the stacks have room
//! without growing, and the frame is small enough to set up inline. Anything
//! else goes to [`call_slow`], a handler in its own right that the fast
//! handlers jump to, which does the general [`call`] and fills the cache.

use super::dispatch::{Ret, fail, handler_fn, next_with};
use super::memory::Mem;
use super::regs::{Regs, SMALL};
use super::stack::Frame;
use super::{Ctx, Fault, interp_array_call, interp_module, raise, stacks, table};
use crate::bytecode::{CompiledFunc, Inst, Op, Slot};
use crate::vm::{
    TrapCode, UnwindReason, VMArrayCallFn, VMContext, VMFuncRef, VMInterpFunc, VMStoreContext,
    ValRaw,
};

/// Entries in an activation's callee cache.
pub(super) const CALLEE_CACHE: usize = 4;

/// Arguments and results of a call out (to the host or native code) up to
/// this many travel in a buffer on the native stack.
const OUT_INLINE: usize = 8;

/// An interpreted function an activation has called, with a small frame
/// (see [`Regs::init_small_frame`]): everything entering it needs, found
/// once by the slow path.
#[derive(Copy, Clone, Debug)]
pub(super) struct Callee {
    /// The function's reference (the cache key); null in an empty entry.
    fr: *const VMFuncRef,
    /// Its bytecode.
    func: *const CompiledFunc,
    /// Its first instruction: the entry carries it so that the callee's
    /// instruction pointer is one load from the cache, not two.
    code: *const Inst,
    /// Its instance.
    instance: *mut VMContext,
}

impl Callee {
    /// An entry that matches no function.
    pub(super) const EMPTY: Callee = Callee {
        fr: core::ptr::null(),
        func: core::ptr::null(),
        code: core::ptr::null(),
        instance: core::ptr::null_mut(),
    };
}

/// The cache entry for a call: direct-mapped by `key`, the function index
/// of a `call` or the table element index of a `call_indirect`. Either is
/// at hand before the function reference is (which takes one load more, or
/// three through a table), so the entry — and in it the callee's first
/// instruction — loads without waiting for the reference, which is only
/// compared with the entry's. That matters because every operand load of
/// the callee's first instructions waits for its instruction pointer.
#[inline(always)]
pub(super) fn cache_slot(key: u32) -> usize {
    key as usize % CALLEE_CACHE
}

/// Whether `fr` is run by this interpreter.
///
/// # Safety
/// `fr` points at a live `VMFuncRef`.
#[inline(always)]
unsafe fn is_interpreted(fr: *const VMFuncRef) -> bool {
    // SAFETY: forwarded to the caller.
    unsafe { (*fr).array_call as usize == interp_array_call as VMArrayCallFn as usize }
}

/// The fast path of a call: if `fr` is in entry `slot` of the activation's
/// callee cache (see [`cache_slot`]), still interpreted, and its frame fits
/// on the stacks as they are, enters it and returns where to resume; `None`
/// to take [`call_slow`]. Makes no calls (see the module docs).
///
/// # Safety
/// As for [`call`].
#[inline(always)]
pub(super) unsafe fn enter_cached(
    ctx: *mut Ctx,
    ip: *const Inst,
    mem: Mem,
    fr: *const VMFuncRef,
    base: Slot,
    slot: usize,
) -> Option<Resume> {
    // SAFETY: a cache entry describes a live interpreted function of the
    // store with a small frame (filled by `enter` during this activation;
    // instances outlive activations), and `fr` still being interpreted
    // means the entry's `VMInterpFunc`-derived fields are still right.
    // `fits` guarantees `frame_size` allocated slots from the new base (so
    // `Regs` and `init_small_frame` are in bounds) and room for the frame
    // record.
    unsafe {
        let c = &mut *ctx;
        let e = c.callees[slot];
        if e.fr != fr || !is_interpreted(fr) {
            return None;
        }
        let f = &*e.func;
        let new_base = c.base + base as usize;
        let stack = &mut *c.stack;
        if !stack.fits(new_base + f.frame_size as usize) {
            return None;
        }
        let caller = Frame {
            func: c.func,
            ip,
            base: c.base,
            vmctx: c.vmctx,
        };
        c.top = stack.push_frame_in_place(caller)?;
        let regs = Regs::new(c.values.add(new_base));
        regs.init_small_frame(f);
        let mem = if e.instance != c.vmctx {
            c.vmctx = e.instance;
            Mem::load(e.instance)
        } else {
            mem
        };
        c.func = e.func;
        c.base = new_base;
        Some(Resume {
            ip: e.code,
            regs,
            mem,
        })
    }
}

handler_fn! {
    /// The slow path of `Call` and `CallIndirect` (see the module docs): a
    /// handler for either, which their handlers jump to when the fast path
    /// does not apply. Performs the general call out of line
    /// ([`general_call`]), which leaves where to resume in the context: a
    /// handler that lent the address of one of its locals to a callee could
    /// not end in a sibling call.
    ///
    /// # Safety
    /// As for any handler; the instruction at `ip` is a `Call` or a
    /// `CallIndirect`.
    #[cold]
    fn call_slow(
        ip: *const Inst,
        regs: *mut u64,
        mem: *mut u8,
        mem_len: usize,
        ctx: *mut Ctx,
        acc: u64,
        fa: f32,
        da: f64,
    ) -> Ret {
        // SAFETY: the executor's invariants (see `handlers.rs`) hold for the
        // call instruction at `ip`; on success `general_call` has stored a
        // state satisfying them in `resume`.
        unsafe {
            let m = Mem {
                base: mem,
                len: mem_len,
            };
            match general_call(ctx, ip, Regs::new(regs), m) {
                Ok(()) => {
                    let to = (*ctx).resume;
                    next_with(to.ip, to.regs, to.mem, ctx, acc, fa, da)
                }
                Err(fault) => fail(ctx, ip, fault),
            }
        }
    }
}

/// The call instruction at `ip`, done in general: resolves its callee
/// again (what its handler did, without side effects) and performs
/// [`call`]. Stores where to resume in `ctx.resume`.
///
/// # Safety
/// As for [`call`]; the instruction at `ip` is a `Call` or a
/// `CallIndirect` of the running function.
#[inline(never)]
unsafe fn general_call(ctx: *mut Ctx, ip: *const Inst, r: Regs, m: Mem) -> Result<(), Fault> {
    // SAFETY: forwarded to the caller; the callee and table indices in the
    // instruction are valid for the running instance (validation).
    unsafe {
        let (fr, base, sig, slot) = match (*ip).op {
            Op::Call { func, base } => {
                let fr = VMContext::func_ref((*ctx).vmctx, func);
                (fr, base, Sig::Func(func), cache_slot(func))
            }
            Op::CallIndirect {
                type_index,
                table,
                index,
                base,
            } => {
                let fr = table::indirect_target((*ctx).vmctx, r, type_index, table, index)?;
                (
                    fr,
                    base,
                    Sig::Type(type_index),
                    cache_slot(r.get_u32(index)),
                )
            }
            _ => core::hint::unreachable_unchecked(),
        };
        (*ctx).resume = call(ctx, ip, r, m, fr, base, sig, slot)?;
        Ok(())
    }
}

/// Where the signature of a non-interpreted callee comes from (only needed
/// to size the argument buffer).
#[derive(Copy, Clone, Debug)]
pub(super) enum Sig {
    /// `call`: the type of function `func` of the caller's module.
    Func(u32),
    /// `call_indirect`: module type `type_index` of the caller's module.
    Type(u32),
}

/// Where execution continues after a call or return.
#[derive(Copy, Clone, Debug)]
pub(super) struct Resume {
    /// The next instruction.
    pub(super) ip: *const Inst,
    /// The frame it runs in.
    pub(super) regs: Regs,
    /// Memory 0 of the frame's instance, freshly loaded.
    pub(super) mem: Mem,
}

/// Calls `fr` with its arguments at the caller's slot `base`. For an
/// interpreted callee execution continues at its first instruction; for
/// any other the call completes here, the results land at `base..` and
/// execution continues after the call. An interpreted callee with a small
/// frame is cached in entry `slot` for [`enter_cached`].
///
/// # Safety
/// `ctx` is the running activation, `ip` its call instruction, `regs` and
/// `mem` its frame and memory view; `fr` is a live function of the store
/// whose parameters are in the caller's slots `base..` (validation
/// guarantees the types match).
#[inline(always)]
#[allow(
    clippy::too_many_arguments,
    reason = "what a call instruction resolves to, passed on as it is"
)]
pub(super) unsafe fn call(
    ctx: *mut Ctx,
    ip: *const Inst,
    regs: Regs,
    mem: Mem,
    fr: *const VMFuncRef,
    base: Slot,
    sig: Sig,
    slot: usize,
) -> Result<Resume, Fault> {
    // SAFETY: forwarded to the caller; a `VMFuncRef` whose entry is
    // `interp_array_call` has a `VMInterpFunc` as its vmctx. After a call
    // out, the caller's slots are re-derived (the value stack may have been
    // reallocated by a re-entrant activation) and its memory reloaded (the
    // callee may have grown it).
    unsafe {
        if is_interpreted(fr) {
            enter(ctx, ip, mem, fr, base, slot)
        } else {
            let out = call_out(ctx, ip, regs, fr, base, sig);
            let c = &mut *ctx;
            // A nested activation may have grown (moved) the stacks, even
            // if the call then failed.
            c.refresh_stacks();
            out?;
            Ok(Resume {
                ip: ip.add(1),
                regs: Regs::new(c.values.add(c.base)),
                mem: Mem::load(c.vmctx),
            })
        }
    }
}

/// Enters an interpreted callee in general: translates it if needed, grows
/// the stacks if needed, pushes the caller's frame, moves the activation to
/// the callee, and caches the callee in entry `slot` for [`enter_cached`].
///
/// # Safety
/// As for [`call`]; `fr` is an interpreted function (its vmctx a live
/// `VMInterpFunc` of an instance in the same store).
#[inline(always)]
unsafe fn enter(
    ctx: *mut Ctx,
    ip: *const Inst,
    mem: Mem,
    fr: *const VMFuncRef,
    base: Slot,
    slot: usize,
) -> Result<Resume, Fault> {
    // SAFETY: `callee` names a defined function of a live instance (caller);
    // its `InterpModule` outlives the instance, so the `CompiledFunc` stays
    // at its address. `reserve` makes `frame_size` slots from the new base
    // allocated, which is what `Regs` needs; the caller's arguments at
    // `base..` are inside the caller's frame, hence below the new top.
    unsafe {
        let c = &mut *ctx;
        let callee = (*fr).vmctx as *const VMInterpFunc;
        let inst = (*callee).instance;
        let func_index = (*callee).func_index;
        let def_index = func_index.wrapping_sub((*inst).offsets.counts.imported_funcs);
        let func: *const CompiledFunc = match (*interp_module(inst)).compiled(def_index) {
            Ok(f) => f,
            Err(e) => return Err(translation_failed(c.store, e)),
        };
        let f = &*func;
        // Only small frames are set up inline, so only they are cached.
        if (f.num_locals - f.num_params) as usize <= SMALL && f.consts.len() <= SMALL {
            c.callees[slot] = Callee {
                fr,
                func,
                code: f.code.as_ptr(),
                instance: inst,
            };
        }
        let new_base = c.base + base as usize;
        let stack = &mut *c.stack;
        if !stack.reserve(new_base + f.frame_size as usize) {
            return Err(Fault::Trap(TrapCode::StackOverflow));
        }
        stack.frames.push(Frame {
            func: c.func,
            ip,
            base: c.base,
            vmctx: c.vmctx,
        });
        c.refresh_stacks();
        let regs = Regs::new(c.values.add(new_base));
        regs.init_frame(f);
        let mem = if inst != c.vmctx {
            c.vmctx = inst;
            Mem::load(inst)
        } else {
            mem
        };
        c.func = func;
        c.base = new_base;
        Ok(Resume {
            ip: f.code.as_ptr(),
            regs,
            mem,
        })
    }
}

/// Calls `entry` (an `array_call`-shaped entry of the running function's
/// instance, like an on-stack-replacement entry) with `buffer`, and copies
/// the results it returns to the running frame's slots `0..results`.
///
/// # Safety
/// The context is the running activation; `entry` takes the instance's
/// vmctx and a buffer laid out as its caller and the running function agree.
#[inline(never)]
pub(super) unsafe fn call_entry(
    ctx: *mut Ctx,
    entry: crate::vm::VMArrayCallFn,
    mut buffer: Vec<ValRaw>,
) -> Result<(), Fault> {
    // SAFETY: as for `call_out`: nothing borrowed from the store is held
    // across the call, and the frame's slots are re-derived after it.
    unsafe {
        let c = &*ctx;
        let (store, vmctx, frame_base) = (c.store, c.vmctx, c.base);
        let f = &*c.func;
        let stack = &mut *stacks(store);
        let saved_top = stack.top;
        stack.top = frame_base + f.frame_size as usize;
        let capacity = buffer.len();
        // The entry's native frame stands for the running function.
        (*ctx).ip = core::ptr::null();
        let ok = entry(vmctx.cast(), vmctx, buffer.as_mut_ptr(), capacity);
        (*stacks(store)).top = saved_top;
        if !ok {
            return Err(Fault::Pending);
        }
        let regs = Regs::new((*stacks(store)).values.as_mut_ptr().add(frame_base));
        for (i, v) in buffer.iter().take(f.num_results as usize).enumerate() {
            regs.ptr(i).write(v.bits());
        }
        Ok(())
    }
}

/// Calls a non-interpreted function through its `array_call`, copying the
/// arguments from and the results to the caller's slots `base..`. `ip` is
/// the call instruction, recorded in the context while the callee runs (see
/// [`Ctx::ip`]); null when the callee is the running function's own native
/// code.
///
/// (Argument buffers of up to [`OUT_INLINE`] values live on the native
/// stack.)
///
/// # Safety
/// As for [`call`].
#[inline(never)]
pub(super) unsafe fn call_out(
    ctx: *mut Ctx,
    ip: *const Inst,
    regs: Regs,
    fr: *const VMFuncRef,
    base: Slot,
    sig: Sig,
) -> Result<(), Fault> {
    // SAFETY: the caller guarantees the context, `fr` and the argument slots.
    // The argument and result slots `base..base + max(params, results)` are
    // in the caller's frame (validation and the translator's frame sizing).
    // Nothing borrowed from the store is held across the foreign call, and
    // slot pointers are re-derived after it.
    unsafe {
        let c = &*ctx;
        let (store, vmctx, frame_base) = (c.store, c.vmctx, c.base);
        let frame_size = (*c.func).frame_size as usize;
        let types = (*interp_module(vmctx)).types();
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
        let args = regs.ptr(base as usize);
        // On the native stack for the usual few values (filled in place: a
        // collected `SmallVec` was built and then moved, two copies of its
        // whole inline buffer per call), on the heap beyond.
        let mut inline = [ValRaw::zero(); OUT_INLINE];
        let mut heap = Vec::new();
        let buf: &mut [ValRaw] = if capacity <= OUT_INLINE {
            &mut inline[..capacity]
        } else {
            heap.resize(capacity, ValRaw::zero());
            &mut heap
        };
        for (i, v) in buf.iter_mut().take(params).enumerate() {
            *v = ValRaw::from_bits(args.add(i).read());
        }

        let stack = &mut *stacks(store);
        let saved_top = stack.top;
        stack.top = frame_base + frame_size;
        (*ctx).ip = ip;
        let ok = ((*fr).array_call)((*fr).vmctx, vmctx, buf.as_mut_ptr(), capacity);
        (*stacks(store)).top = saved_top;
        if !ok {
            return Err(Fault::Pending);
        }

        let regs = Regs::new((*stacks(store)).values.as_mut_ptr().add(frame_base));
        let results_at = regs.ptr(base as usize);
        for (i, v) in buf.iter().take(results).enumerate() {
            results_at.add(i).write(v.bits());
        }
        Ok(())
    }
}

/// `return`: pops the caller's frame back into the context and resumes it
/// after its call. `None` when the returning function is the activation's
/// entry function. `mem` is the returning function's view of its memory 0:
/// still the caller's when both belong to the same instance (the common
/// case), which saves reloading it from the instance.
///
/// # Safety
/// `ctx` is the running activation and `mem` its current memory view.
#[inline(always)]
pub(super) unsafe fn ret(ctx: *mut Ctx, mem: Mem) -> Option<Resume> {
    // SAFETY: frames above `entry_frames` were pushed by this activation's
    // calls, so they describe live callers whose slots are still allocated
    // (the value stack only grows while an activation runs), and their `ip`
    // is a call instruction, which is never a function's last. A non-null
    // `top` is the last of them (see `Ctx::top`), so the one below it is
    // the next, if the stack is still above `entry_frames` once it is popped.
    unsafe {
        let c = &mut *ctx;
        if c.top.is_null() {
            return None;
        }
        let f = *c.top;
        let stack = &mut *c.stack;
        let len = stack.frames.len() - 1;
        stack.frames.set_len(len);
        c.top = if len > c.entry_frames {
            c.top.sub(1)
        } else {
            core::ptr::null()
        };
        let mem = if f.vmctx == c.vmctx {
            mem
        } else {
            Mem::load(f.vmctx)
        };
        c.func = f.func;
        c.base = f.base;
        c.vmctx = f.vmctx;
        Some(Resume {
            ip: f.ip.add(1),
            regs: Regs::new(c.values.add(f.base)),
            mem,
        })
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
