//! Linear memory: the cached view of memory 0 the loop keeps in locals, and
//! `memory.size`, `memory.grow`, `memory.fill`, `memory.copy`,
//! `memory.init` and `data.drop`.
//!
//! Every access is bounds-checked explicitly against the current length;
//! bulk operations check the whole range before touching a byte, so they
//! trap (and write nothing) even when the length is 0 but the start is past
//! the end.

use super::Fault;
use super::regs::{Regs, trap};
use crate::bytecode::Slot;
use crate::vm::{TrapCode, VMBuiltins, VMContext, WASM_PAGE_SIZE, bulk};
use core::ptr::NonNull;

/// Memory 0's base and length, cached in the loop's locals.
///
/// Valid until something can grow or replace the memory: a call, a return,
/// `memory.grow`. The loop reloads it after each of those.
#[derive(Copy, Clone, Debug)]
pub(super) struct Mem {
    /// First byte (dangling but non-null when the memory is empty or absent).
    pub(super) base: *mut u8,
    /// Length in bytes (0 when the instance has no memory).
    pub(super) len: usize,
}

impl Mem {
    /// The current extent of `vmctx`'s memory 0.
    ///
    /// # Safety
    /// `vmctx` is a live, fully initialised instance vmctx.
    #[inline(always)]
    pub(super) unsafe fn load(vmctx: *mut VMContext) -> Mem {
        // SAFETY: the caller guarantees `vmctx` is live; when the module has
        // a memory, its `memories[0]` points at the store-owned definition.
        unsafe {
            if (*vmctx).offsets.counts.memories == 0 {
                return Mem {
                    base: NonNull::dangling().as_ptr(),
                    len: 0,
                };
            }
            let def = VMContext::memory(vmctx, 0);
            Mem {
                base: (*def).base,
                len: (*def).current_length,
            }
        }
    }

    /// Byte offset of an access of `size` bytes at `addr + offset`, or
    /// `MemoryOutOfBounds` if any byte is past the end.
    #[inline(always)]
    pub(super) fn check(self, addr: u32, offset: u32, size: u64) -> Result<usize, TrapCode> {
        // Cannot overflow: at most 2^33 + 8.
        let at = addr as u64 + offset as u64;
        if at + size <= self.len as u64 {
            // Fits in usize: it is at most `self.len`.
            Ok(at as usize)
        } else {
            trap(TrapCode::MemoryOutOfBounds)
        }
    }
}

/// `memory.size`: the memory's length in pages.
///
/// # Safety
/// `vmctx` is live, `memory` is one of its memories, `dst` is in the frame.
#[inline(always)]
pub(super) unsafe fn memory_size(vmctx: *mut VMContext, r: Regs, dst: Slot, memory: u32) {
    // SAFETY: the caller guarantees the memory index and slot are valid.
    unsafe {
        let len = (*VMContext::memory(vmctx, memory)).current_length as u64;
        r.put(dst, (len / WASM_PAGE_SIZE) as u32);
    }
}

/// `memory.grow` through the runtime's builtin: the old size in pages, or
/// -1 if refused; `Fault::Pending` if the builtin trapped (it has already
/// set the store's pending reason). The caller reloads its view of memory
/// 0 afterwards (it is not returned: a `Mem` would be returned through
/// memory, and a handler lending the address of a local loses its tail
/// call).
///
/// # Safety
/// `vmctx` is live, `memory` is one of its memories, the slots are in the frame.
#[inline(never)]
pub(super) unsafe fn memory_grow(
    vmctx: *mut VMContext,
    r: Regs,
    dst: Slot,
    delta: Slot,
    memory: u32,
) -> Result<(), Fault> {
    // SAFETY: the caller guarantees vmctx, the memory index and the slots;
    // `builtins` is the store's static table.
    unsafe {
        let delta = r.get_u32(delta) as u64;
        let old = ((*(*vmctx).builtins).memory_grow)(vmctx, memory, delta);
        match old {
            VMBuiltins::GROW_TRAPPED => return Err(Fault::Pending),
            VMBuiltins::GROW_FAILED => r.put(dst, -1i32),
            pages => r.put(dst, pages as u32),
        }
        Ok(())
    }
}

/// `memory.fill` on memory 0 ([`bulk::memory_fill`]).
///
/// # Safety
/// `m` is the current view of memory 0; the slots are in the frame.
#[inline(always)]
pub(super) unsafe fn memory_fill(
    m: Mem,
    r: Regs,
    dst: Slot,
    value: Slot,
    len: Slot,
) -> Result<(), TrapCode> {
    // SAFETY: the slots are in the frame (caller); `m` describes memory 0's
    // current bytes.
    unsafe {
        let (dst, value, len) = (r.get_u32(dst), r.get_u32(value) as u8, r.get_u32(len));
        bulk::memory_fill(m.base, m.len, dst, value, len)
    }
}

/// `memory.copy` within memory 0 ([`bulk::memory_copy`]).
///
/// # Safety
/// `m` is the current view of memory 0; the slots are in the frame.
#[inline(always)]
pub(super) unsafe fn memory_copy(
    m: Mem,
    r: Regs,
    dst: Slot,
    src: Slot,
    len: Slot,
) -> Result<(), TrapCode> {
    // SAFETY: the slots are in the frame (caller); `m` describes memory 0's
    // current bytes.
    unsafe {
        let (dst, src, len) = (r.get_u32(dst), r.get_u32(src), r.get_u32(len));
        bulk::memory_copy(m.base, m.len, m.base, m.len, dst, src, len)
    }
}

/// `memory.init` from data segment `data` into memory 0
/// ([`bulk::memory_init`]).
///
/// # Safety
/// `vmctx` is live with `data` one of its data segments, `m` is the current
/// view of its memory 0, the slots are in the frame.
#[inline(always)]
pub(super) unsafe fn memory_init(
    vmctx: *mut VMContext,
    m: Mem,
    r: Regs,
    data: u32,
    dst: Slot,
    src: Slot,
    len: Slot,
) -> Result<(), TrapCode> {
    // SAFETY: the caller guarantees the segment index and slots; the
    // segment descriptor is reached through the block's raw pointer.
    unsafe {
        let seg = VMContext::data_segment(vmctx, data);
        let (dst, src, len) = (r.get_u32(dst), r.get_u32(src), r.get_u32(len));
        bulk::memory_init(m.base, m.len, seg, dst, src, len)
    }
}

/// `data.drop`: the segment's length becomes 0.
///
/// # Safety
/// `vmctx` is live and `data` is one of its data segments.
#[inline(always)]
pub(super) unsafe fn data_drop(vmctx: *mut VMContext, data: u32) {
    // SAFETY: forwarded to the caller; the descriptor's pointer comes from
    // the block's raw pointer, whose provenance covers it.
    unsafe { bulk::data_drop(VMContext::data_segment(vmctx, data)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_checks_are_exact() {
        let mut bytes = [0u8; 16];
        let m = Mem {
            base: bytes.as_mut_ptr(),
            len: bytes.len(),
        };
        assert_eq!(m.check(12, 0, 4), Ok(12));
        assert_eq!(m.check(12, 1, 4), Err(TrapCode::MemoryOutOfBounds));
        assert_eq!(
            m.check(u32::MAX, u32::MAX, 1),
            Err(TrapCode::MemoryOutOfBounds)
        );
        assert_eq!(m.check(16, 0, 0), Ok(16));
        assert_eq!(m.check(17, 0, 0), Err(TrapCode::MemoryOutOfBounds));
    }
}
