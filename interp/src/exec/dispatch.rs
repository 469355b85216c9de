//! Dispatch: how control passes from one instruction's handler to the next.
//!
//! Every [`Op`](crate::bytecode::Op) variant has its own handler function (`handlers.rs`), all
//! with one signature, [`Handler`], that carries the hot state in argument
//! registers: the instruction pointer, the frame's slots, memory 0's base
//! and length (so a bounds check is a compare of two registers, with no
//! load), a pointer to the activation's [`Ctx`] for everything colder, and
//! the integer accumulator (see [`crate::bytecode`]) — the six integer
//! argument registers — plus the `f32` and `f64` accumulators in two float
//! registers.
//!
//! The code is *direct-threaded*: each [`Inst`] carries its handler's
//! address next to its `Op` ([`assemble`](super::assemble) pairs them, from the `HANDLERS`
//! table indexed by the `Op`'s tag, once per function), so a handler
//! continues with a single load of the next instruction's handler rather
//! than a load of its tag followed by a load from the table. A branch
//! ([`Op::Br`](crate::bytecode::Op::Br), a `br_table` entry) also carries its target's handler
//! ([`Link`]), so it does not even wait for the target's address.
//!
//! Two backends connect the handlers, chosen at build time by `build.rs`:
//!
//! * **tail** (`cfg(kiln_tail_calls)`): a handler ends by calling the next
//!   instruction's handler and returning its result: `return h(ip, ...)`.
//!   Caller and callee have the same signature and nothing of the caller is
//!   live after the call, so LLVM turns it into a sibling call, a `jmp`:
//!   each instruction ends in its own indirect jump (which the branch
//!   predictor learns per instruction, unlike the single jump of a `match`
//!   loop), the hot state never leaves registers, and the native stack does
//!   not grow. Only the exits — the entry function returning, a trap, a
//!   failed call — actually return, once, up to [`run`].
//! * **loop** (otherwise): LLVM performs sibling-call optimisation only when
//!   it optimises, and only on targets where it is dependable; without it,
//!   the tail backend would push a native frame per instruction executed.
//!   So unoptimised builds (and other targets) use a loop instead: a handler
//!   returns the next state (`Next`) and [`run`] calls the next handler.
//!   Same handlers, same semantics, no stack growth, slower.
//!
//! Handlers never `return` anything but [`next`]'s or [`stop`]'s result, so
//! they are written once and work with either backend.
//!
//! The accumulators cost nothing to carry: an instruction that sets one
//! computes its result into the argument register anyway before storing it,
//! and the others pass the registers on untouched (their values are then
//! meaningless, and no instruction reads them: the translator only lets an
//! instruction read an accumulator right after one that set it).

use super::memory::Mem;
use super::regs::Regs;
use super::{Ctx, Fault};
use crate::bytecode::{Inst, Link};

/// Defines a function with the handler calling convention: `extern
/// "sysv64"` on x86_64 (six integer argument registers on every OS, where
/// Windows' default has four), the C convention elsewhere (AArch64 has
/// eight). Both backends, and the cold exit helpers a handler may end
/// with, use it, so every handler's final call can be a sibling call.
macro_rules! handler_fn {
    ($(#[$attr:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        $(#[$attr])*
        #[cfg(target_arch = "x86_64")]
        pub(super) unsafe extern "sysv64" fn $name($($arg: $ty),*) -> $ret $body

        $(#[$attr])*
        #[cfg(not(target_arch = "x86_64"))]
        pub(super) unsafe extern "C" fn $name($($arg: $ty),*) -> $ret $body
    };
}
pub(super) use handler_fn;

/// A handler: executes the instruction at `ip` in the frame whose slot 0 is
/// at `regs`, with memory 0 at `mem` (`mem_len` bytes) and the
/// accumulators `acc`, `fa` and `da`, and continues with the following instructions (tail
/// backend) or returns the next state (loop backend).
///
/// # Safety
/// `ip` points at an instruction of the running function of `*ctx` whose
/// tag maps to this handler; `regs` and `mem` are the running frame's slots
/// and memory 0's base (the executor's invariants, see `handlers.rs`).
#[cfg(target_arch = "x86_64")]
pub(super) type Handler = unsafe extern "sysv64" fn(
    ip: *const Inst,
    regs: *mut u64,
    mem: *mut u8,
    mem_len: usize,
    ctx: *mut Ctx,
    acc: u64,
    fa: f32,
    da: f64,
) -> Ret;

/// A handler (see the x86_64 definition).
#[cfg(not(target_arch = "x86_64"))]
pub(super) type Handler = unsafe extern "C" fn(
    ip: *const Inst,
    regs: *mut u64,
    mem: *mut u8,
    mem_len: usize,
    ctx: *mut Ctx,
    acc: u64,
    fa: f32,
    da: f64,
) -> Ret;

/// The handler of the instruction at `ip`: the one [`assemble`] stored in
/// it.
///
/// # Safety
/// `ip` points at a valid `Inst`.
#[inline(always)]
unsafe fn handler(ip: *const Inst) -> Handler {
    // SAFETY: an `Inst`'s handler field is private to the crate and only
    // `assemble` sets it, to a handler of its op (`HANDLERS[tag]` or one of
    // its `VARIANTS`): a `Handler`.
    unsafe { core::mem::transmute::<usize, Handler>((*ip).handler) }
}

#[cfg(kiln_tail_calls)]
mod backend {
    use super::*;

    /// What a handler returns: nothing — by the time anything returns, the
    /// activation has stopped and the reason is in its [`Ctx`].
    pub(in crate::exec) type Ret = ();

    /// Continues at `ip` with the given frame, memory 0 base and
    /// accumulators: calls its handler in tail position.
    ///
    /// # Safety
    /// The state satisfies the executor's invariants for the instruction at
    /// `ip`.
    #[inline(always)]
    #[allow(
        clippy::too_many_arguments,
        reason = "the handler state, passed on in registers"
    )]
    pub(in crate::exec) unsafe fn next<const S: bool, const I: bool>(
        ip: *const Inst,
        r: Regs<S, I>,
        mem: *mut u8,
        mem_len: usize,
        ctx: *mut Ctx,
        acc: u64,
        fa: f32,
        da: f64,
    ) -> Ret {
        // SAFETY: forwarded to the caller.
        unsafe { handler(ip)(ip, r.as_ptr(), mem, mem_len, ctx, acc, fa, da) }
    }

    /// [`next`] with the handler of the instruction at `ip` already known
    /// (a linked branch, see [`Link`]): calls it without looking it up.
    ///
    /// # Safety
    /// As for [`next`], and `to` was linked to the instruction at `ip`.
    #[inline(always)]
    #[allow(
        clippy::too_many_arguments,
        reason = "the handler state, passed on in registers"
    )]
    pub(in crate::exec) unsafe fn next_linked<const S: bool, const I: bool>(
        to: Link,
        ip: *const Inst,
        r: Regs<S, I>,
        mem: *mut u8,
        mem_len: usize,
        ctx: *mut Ctx,
        acc: u64,
        fa: f32,
        da: f64,
    ) -> Ret {
        // SAFETY: a linked `Link` holds the handler `assemble` chose for
        // the instruction at `ip` (`link_branches`), i.e. a `Handler`; the
        // rest is forwarded to the caller.
        unsafe {
            let h = core::mem::transmute::<usize, Handler>(to.0);
            h(ip, r.as_ptr(), mem, mem_len, ctx, acc, fa, da)
        }
    }

    /// Stops the activation (the reason has been stored in its `Ctx`).
    #[inline(always)]
    pub(in crate::exec) fn stop() -> Ret {}

    /// Runs from `ip` until the activation stops.
    ///
    /// # Safety
    /// As for [`next`].
    #[inline(never)]
    pub(in crate::exec) unsafe fn run(ip: *const Inst, r: Regs, m: Mem, ctx: *mut Ctx) {
        // SAFETY: forwarded to the caller.
        unsafe { next(ip, r, m.base, m.len, ctx, 0, 0.0, 0.0) }
    }
}

#[cfg(not(kiln_tail_calls))]
mod backend {
    use super::*;

    /// The state the loop continues with; a null `ip` means the activation
    /// has stopped (the reason is in its [`Ctx`]).
    #[repr(C)]
    #[derive(Copy, Clone, Debug)]
    pub(in crate::exec) struct Next {
        /// The next instruction, or null.
        ip: *const Inst,
        /// The running frame's slots.
        regs: *mut u64,
        /// Memory 0's base.
        mem: *mut u8,
        /// Memory 0's length in bytes.
        mem_len: usize,
        /// The integer accumulator.
        acc: u64,
        /// The `f32` accumulator.
        fa: f32,
        /// The `f64` accumulator.
        da: f64,
    }

    /// What a handler returns: the next state.
    pub(in crate::exec) type Ret = Next;

    /// Continues at `ip` with the given frame, memory 0 base and
    /// accumulators: returns them to the loop in [`run`].
    ///
    /// # Safety
    /// Safe in itself; `unsafe` to match the tail backend.
    #[inline(always)]
    #[allow(
        clippy::too_many_arguments,
        reason = "the handler state, passed on in registers"
    )]
    pub(in crate::exec) unsafe fn next<const S: bool, const I: bool>(
        ip: *const Inst,
        r: Regs<S, I>,
        mem: *mut u8,
        mem_len: usize,
        _ctx: *mut Ctx,
        acc: u64,
        fa: f32,
        da: f64,
    ) -> Ret {
        Next {
            ip,
            regs: r.as_ptr(),
            mem,
            mem_len,
            acc,
            fa,
            da,
        }
    }

    /// [`next`]: the loop looks the handler up itself, so the link is
    /// not needed.
    ///
    /// # Safety
    /// Safe in itself; `unsafe` to match the tail backend.
    #[inline(always)]
    #[allow(
        clippy::too_many_arguments,
        reason = "the handler state, passed on in registers"
    )]
    pub(in crate::exec) unsafe fn next_linked<const S: bool, const I: bool>(
        _to: Link,
        ip: *const Inst,
        r: Regs<S, I>,
        mem: *mut u8,
        mem_len: usize,
        ctx: *mut Ctx,
        acc: u64,
        fa: f32,
        da: f64,
    ) -> Ret {
        // SAFETY: safe in itself.
        unsafe { next(ip, r, mem, mem_len, ctx, acc, fa, da) }
    }

    /// Stops the activation (the reason has been stored in its `Ctx`).
    #[inline(always)]
    pub(in crate::exec) fn stop() -> Ret {
        Next {
            ip: core::ptr::null(),
            regs: core::ptr::null_mut(),
            mem: core::ptr::null_mut(),
            mem_len: 0,
            acc: 0,
            fa: 0.0,
            da: 0.0,
        }
    }

    /// Runs from `ip` until the activation stops: calls the handler of each
    /// instruction in turn.
    ///
    /// # Safety
    /// The state satisfies the executor's invariants for the instruction at
    /// `ip`.
    #[inline(never)]
    pub(in crate::exec) unsafe fn run(ip: *const Inst, r: Regs, m: Mem, ctx: *mut Ctx) {
        let mut s = Next {
            ip,
            regs: r.as_ptr(),
            mem: m.base,
            mem_len: m.len,
            acc: 0,
            fa: 0.0,
            da: 0.0,
        };
        while !s.ip.is_null() {
            // SAFETY: every handler returns either a state satisfying the
            // invariants for its `ip` or a null `ip`.
            s = unsafe { handler(s.ip)(s.ip, s.regs, s.mem, s.mem_len, ctx, s.acc, s.fa, s.da) };
        }
    }
}

pub(super) use backend::{Ret, next, next_linked, run, stop};

/// [`next`] with memory 0's view as a [`Mem`]: how execution continues
/// after a call, a return or `memory.grow`, which may have changed it.
///
/// # Safety
/// As for [`next`], `m` being memory 0's current extent.
#[inline(always)]
#[allow(
    clippy::too_many_arguments,
    reason = "the handler state, passed on in registers"
)]
pub(super) unsafe fn next_with<const S: bool, const I: bool>(
    ip: *const Inst,
    r: Regs<S, I>,
    m: Mem,
    ctx: *mut Ctx,
    acc: u64,
    fa: f32,
    da: f64,
) -> Ret {
    // SAFETY: forwarded to the caller.
    unsafe { next(ip, r, m.base, m.len, ctx, acc, fa, da) }
}

/// Stops the activation with `fault` raised by the instruction at `ip`.
/// Inlined: it is two stores and a return, no call (the paths leading here
/// are already marked cold).
///
/// # Safety
/// `ctx` is the running activation's context and `ip` its current
/// instruction.
#[inline(always)]
pub(super) unsafe fn fail(ctx: *mut Ctx, ip: *const Inst, fault: Fault) -> Ret {
    // SAFETY: the context is live for the whole activation and nothing else
    // borrows it while a handler runs.
    unsafe {
        (*ctx).ip = ip;
        (*ctx).fault = Some(fault);
    }
    stop()
}
