//! Control and data movement that needs more than one line in the loop:
//! `br_table` target selection and `select`.

use super::regs::Regs;
use crate::bytecode::{Op, Slot};

/// The instruction `br_table` continues at: entry `min(index, len)` of the
/// `len + 1` [`Op::Br`] entries following it, resolved to that entry's target.
///
/// # Safety
/// `ip` points at a `BrTable` with `len` in its operands, followed by
/// `len + 1` entries (the translator's contract); `index` is in the frame.
#[inline(always)]
pub(super) unsafe fn br_table(ip: *const Op, r: Regs, index: Slot, len: u32) -> *const Op {
    // SAFETY: the caller guarantees the entries exist and the slot is in the
    // frame; a `Br` entry's offset lands inside the function.
    unsafe {
        let i = r.get_u32(index).min(len) as usize;
        let entry = ip.add(1 + i);
        match *entry {
            Op::Br { offset } => entry.offset(offset as isize),
            // Not produced by the translator; executing the entry itself is
            // still well defined.
            _ => entry,
        }
    }
}

/// `select`: `dst = if cond != 0 { if_true } else { if_false }`.
///
/// # Safety
/// The slots are in the frame.
#[inline(always)]
pub(super) unsafe fn select(r: Regs, dst: Slot, cond: Slot, if_true: Slot, if_false: Slot) {
    // SAFETY: forwarded to the caller.
    unsafe {
        let src = if r.get_u32(cond) != 0 {
            if_true
        } else {
            if_false
        };
        r.set(dst, r.get(src));
    }
}
