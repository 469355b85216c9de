//! Globals: `global.get` and `global.set` on the 16-byte definition every
//! global (imported or defined) is reached through.

use super::regs::Regs;
use crate::bytecode::Slot;
use crate::vm::{VMContext, ValRaw};

/// `global.get`: the low 64 bits of the global's value. Returns the bits
/// written.
///
/// # Safety
/// `vmctx` is live, `global` is one of its globals, `dst` is in the frame.
#[inline(always)]
pub(super) unsafe fn global_get<const S: bool, const I: bool>(
    vmctx: *mut VMContext,
    r: Regs<S, I>,
    dst: Slot,
    global: u32,
) -> u64 {
    // SAFETY: forwarded to the caller; `globals[global]` points at a live
    // definition owned by the store.
    unsafe {
        let v = (*VMContext::global(vmctx, global)).value.bits();
        r.set(dst, v);
        v
    }
}

/// `global.set`.
///
/// # Safety
/// `vmctx` is live, `global` is one of its globals, `src` is in the frame.
#[inline(always)]
pub(super) unsafe fn global_set(vmctx: *mut VMContext, r: Regs, src: Slot, global: u32) {
    // SAFETY: as for `global_get`; validation only allows mutable globals.
    unsafe { (*VMContext::global(vmctx, global)).value = ValRaw::from_bits(r.get(src)) }
}
