//! Control and data movement that needs more than one line in the loop:
//! `br_table` target selection and `select`.

use super::regs::Regs;
use crate::bytecode::{Inst, Link, Op, Slot};

/// Where a taken branch at `ip` lands. Assembled code counts `offset` in
/// bytes (see [`Op::branch_offset`]), so this is one add on the chain every
/// operand load after the branch waits on.
///
/// # Safety
/// `offset` is the branch's, so the target lies inside the function.
#[inline(always)]
pub(super) unsafe fn target(ip: *const Inst, offset: i32) -> *const Inst {
    // SAFETY: forwarded to the caller.
    unsafe { ip.byte_offset(offset as isize) }
}

/// A conditional branch at `ip`: its [`target`] if `taken`, else the
/// instruction `next` places on (past any leftover it absorbed).
///
/// # Safety
/// As for [`target`]; `ip + next` is inside the function.
#[inline(always)]
pub(super) unsafe fn branch(ip: *const Inst, taken: bool, offset: i32, next: usize) -> *const Inst {
    // SAFETY: forwarded to the caller.
    unsafe {
        if taken {
            target(ip, offset)
        } else {
            ip.add(next)
        }
    }
}

/// The instruction `br_table` continues at, and its handler's link: entry
/// `min(index, len)` of the `len + 1` [`Op::Br`] entries following it,
/// resolved to that entry's target; `index` is the selector's value.
///
/// # Safety
/// `ip` points at a `BrTable` (or `BrTableAcc`) with `len` in its operands,
/// followed by `len + 1` entries (the translator's contract).
#[inline(always)]
pub(super) unsafe fn br_table(
    ip: *const Inst,
    index: u32,
    len: u32,
) -> (*const Inst, Option<Link>) {
    // SAFETY: the caller guarantees the entries exist; a `Br` entry's offset
    // lands inside the function.
    unsafe {
        // A predicted branch rather than a `min` (a `cmov`): the selector's
        // value then goes straight into the entry's address, one step
        // shorter on the chain a dispatch loop's next instruction waits on.
        let i = if index < len {
            index
        } else {
            core::hint::cold_path();
            len
        } as usize;
        let entry = ip.add(1 + i);
        match (*entry).op {
            Op::Br { offset, to } => (target(entry, offset), Some(to)),
            // Not produced by the translator; executing the entry itself is
            // still well defined.
            _ => (entry, None),
        }
    }
}

/// A loop latch's step: `var += step` (wrapping `i32`); returns the new
/// value.
///
/// # Safety
/// `var` is in the frame.
#[inline(always)]
pub(super) unsafe fn step<const S: bool, const I: bool>(
    r: Regs<S, I>,
    var: Slot,
    step: i16,
) -> u32 {
    // SAFETY: forwarded to the caller.
    unsafe {
        let v = r.get_u32(var).wrapping_add(step as i32 as u32);
        r.set(var, u64::from(v));
        v
    }
}

/// `select`: `dst = if cond != 0 { if_true } else { if_false }`. Returns
/// the bits written.
///
/// # Safety
/// The slots are in the frame.
#[inline(always)]
pub(super) unsafe fn select<const S: bool, const I: bool>(
    r: Regs<S, I>,
    dst: Slot,
    cond: Slot,
    if_true: Slot,
    if_false: Slot,
) -> u64 {
    // SAFETY: forwarded to the caller.
    unsafe {
        let src = if r.get_u32(cond) != 0 {
            if_true
        } else {
            if_false
        };
        let v = r.get(src);
        r.set(dst, v);
        v
    }
}

/// `ConsumeFuel`: charges a region's `amount` to the store, trapping with
/// `OutOfFuel` once the fuel is exhausted (it stays negative; the embedder
/// sees 0 left).
///
/// # Safety
/// `store` is the running activation's live store context.
#[inline(always)]
pub(super) unsafe fn consume_fuel(
    store: *mut crate::vm::VMStoreContext,
    amount: u32,
) -> Result<(), crate::vm::TrapCode> {
    // SAFETY: the caller guarantees a live store; nothing else accesses its
    // fuel while this activation runs.
    unsafe {
        let fuel = (*store).fuel - i64::from(amount);
        (*store).fuel = fuel;
        if fuel < 0 {
            return Err(crate::vm::TrapCode::OutOfFuel);
        }
    }
    Ok(())
}
