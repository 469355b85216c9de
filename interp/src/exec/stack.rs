//! The interpreter's stacks: the value stack holding every live frame's
//! slots, and the frame stack holding each suspended caller's return state.

use crate::bytecode::{CompiledFunc, Inst};
use crate::vm::VMContext;

/// Fewest value slots allocated when the value stack first grows.
const MIN_VALUE_SLOTS: usize = 1024;

/// What a caller needs to resume once its callee returns.
///
/// Pushed by every interpreter-to-interpreter call; the running function's
/// own state lives in the loop's locals, not here.
#[derive(Copy, Clone, Debug)]
pub(super) struct Frame {
    /// The caller's bytecode.
    pub(super) func: *const CompiledFunc,
    /// The caller's call instruction (execution resumes after it).
    pub(super) ip: *const Inst,
    /// Absolute index of the caller's slot 0 on the value stack.
    pub(super) base: usize,
    /// The caller's instance.
    pub(super) vmctx: *mut VMContext,
}

/// How many value slots one frame record is charged against the stack limit.
const FRAME_SLOTS: usize = size_of::<Frame>().div_ceil(size_of::<u64>());

/// The interpreter's value and frame stacks for one store.
///
/// The value stack is a `Vec<u64>` whose length is the number of slots
/// allocated so far (all initialised); it grows on demand, doubling, while
/// the slots in use plus the frame records (each charged as a few slots)
/// stay within `max_wasm_stack` bytes. Host → wasm → host → wasm re-entry
/// nests a new activation on the same stacks above the slots in use.
#[derive(Debug, Default)]
pub struct InterpStack {
    /// Slot storage; `values.len()` slots are allocated and initialised.
    pub(super) values: Vec<u64>,
    /// Suspended callers of every live activation, innermost last.
    pub(super) frames: Vec<Frame>,
    /// Limit in slots (`max_wasm_stack / 8`) on slots in use plus frame records.
    limit: usize,
    /// First free slot: where a newly entered activation puts its frame.
    /// Raised to the top of the running frame while a host function runs.
    pub(super) top: usize,
}

/// A store's [`InterpStack`], owned at a stable address: what a
/// `VMStoreContext`'s opaque `interp` pointer points at (see
/// [`StoreStacks::as_vm`]). Freed when dropped, so the store drops it
/// after its `VMStoreContext` is no longer used.
#[derive(Debug)]
pub struct StoreStacks {
    ptr: core::ptr::NonNull<InterpStack>,
}

// SAFETY: owned data, moved with its store.
unsafe impl Send for StoreStacks {}
// SAFETY: shared access hands out only the raw pointer.
unsafe impl Sync for StoreStacks {}

impl StoreStacks {
    /// Stacks that may grow to `max_wasm_stack` bytes in all.
    pub fn new(max_wasm_stack: usize) -> StoreStacks {
        let stack = Box::new(InterpStack::new(max_wasm_stack));
        StoreStacks {
            // SAFETY: `Box::into_raw` never returns null.
            ptr: unsafe { core::ptr::NonNull::new_unchecked(Box::into_raw(stack)) },
        }
    }

    /// The pointer to store in `VMStoreContext::interp` (provenance over
    /// the whole `InterpStack`).
    pub fn as_vm(&self) -> *mut crate::vm::VMInterpStack {
        self.ptr.as_ptr().cast()
    }

    /// The stacks, for inspection while no activation runs.
    ///
    /// # Safety
    /// No activation of the store is running.
    pub unsafe fn get(&self) -> &InterpStack {
        // SAFETY: forwarded to the caller: nothing mutates the stacks.
        unsafe { self.ptr.as_ref() }
    }

    /// The stacks, mutably, while no activation runs.
    ///
    /// # Safety
    /// No activation of the store is running and no other reference to the
    /// stacks is live.
    pub unsafe fn get_mut(&mut self) -> &mut InterpStack {
        // SAFETY: forwarded to the caller.
        unsafe { self.ptr.as_mut() }
    }
}

impl Drop for StoreStacks {
    fn drop(&mut self) {
        // SAFETY: created by `Box::into_raw` in `new`, freed once.
        drop(unsafe { Box::from_raw(self.ptr.as_ptr()) });
    }
}

impl InterpStack {
    /// Stacks that may grow to `max_wasm_stack` bytes in all. Nothing is
    /// allocated until the first call.
    pub fn new(max_wasm_stack: usize) -> Self {
        InterpStack {
            values: Vec::new(),
            frames: Vec::new(),
            limit: max_wasm_stack / size_of::<u64>(),
            top: 0,
        }
    }

    /// Number of value slots currently allocated (for diagnostics and tests).
    pub fn allocated_slots(&self) -> usize {
        self.values.len()
    }

    /// Makes slots `..new_top` available for a frame about to be entered
    /// (and a frame record for it), growing the value stack if needed.
    /// Returns `false` if that would exceed the stack limit.
    #[inline(always)]
    pub(super) fn reserve(&mut self, new_top: usize) -> bool {
        let used = new_top.saturating_add(self.frames.len().saturating_add(1) * FRAME_SLOTS);
        if used <= self.limit && new_top <= self.values.len() {
            true
        } else {
            self.reserve_slow(new_top, used)
        }
    }

    /// Like [`InterpStack::reserve`], but only checks: `true` if slots
    /// `..new_top` are already allocated and within the limit together
    /// with one more frame record. Never allocates (no call on the fast path
    /// of a handler).
    #[inline(always)]
    pub(super) fn fits(&self, new_top: usize) -> bool {
        let used = new_top.saturating_add(self.frames.len().saturating_add(1) * FRAME_SLOTS);
        used <= self.limit && new_top <= self.values.len()
    }

    /// Pushes `frame` if the frame stack has room for it without growing
    /// and returns where it now is; `None` (and nothing pushed) otherwise.
    ///
    /// The pointer derives from the whole buffer (`as_mut_ptr`), not from
    /// the one element: `Return` steps it down to the records below.
    #[inline(always)]
    pub(super) fn push_frame_in_place(&mut self, frame: Frame) -> Option<*const Frame> {
        let len = self.frames.len();
        if len == self.frames.capacity() {
            return None;
        }
        // SAFETY: `len < capacity`, so the element at `len` is inside the
        // allocation; once written it is initialised, and `set_len` covers
        // exactly the initialised prefix.
        unsafe {
            let at = self.frames.as_mut_ptr().add(len);
            at.write(frame);
            self.frames.set_len(len + 1);
            Some(at)
        }
    }

    /// The innermost frame record above the first `entry_frames`, or null
    /// if there is none (see `Ctx::top`). Derived from the whole buffer,
    /// like [`InterpStack::push_frame_in_place`]'s.
    #[inline]
    pub(super) fn top_frame(&self, entry_frames: usize) -> *const Frame {
        match self.frames.len() {
            // SAFETY: `len - 1 < len`: an initialised element.
            len if len > entry_frames => unsafe { self.frames.as_ptr().add(len - 1) },
            _ => core::ptr::null(),
        }
    }

    #[cold]
    #[inline(never)]
    fn reserve_slow(&mut self, new_top: usize, used: usize) -> bool {
        if used > self.limit {
            return false;
        }
        // Amortised growth: at least double, never past the limit (which
        // `new_top <= used <= limit` keeps above `new_top`).
        let target = new_top
            .max(self.values.len().saturating_mul(2))
            .max(MIN_VALUE_SLOTS)
            .min(self.limit);
        if target > self.values.len() {
            self.values.resize(target, 0);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_grows_amortised_up_to_the_limit() {
        let mut s = InterpStack::new(64 * 1024);
        assert_eq!(s.allocated_slots(), 0);
        assert!(s.reserve(10));
        assert_eq!(s.allocated_slots(), MIN_VALUE_SLOTS);
        assert!(s.reserve(MIN_VALUE_SLOTS + 1));
        assert_eq!(s.allocated_slots(), 2 * MIN_VALUE_SLOTS);
        // 8192 slots in all, one frame record is charged as FRAME_SLOTS.
        assert!(s.reserve(8192 - FRAME_SLOTS));
        assert_eq!(s.allocated_slots(), 8192 - FRAME_SLOTS);
        assert!(!s.reserve(8192 - FRAME_SLOTS + 1));
    }

    #[test]
    fn frame_records_count_against_the_limit() {
        let mut s = InterpStack::new(1024);
        let frame = Frame {
            func: core::ptr::null(),
            ip: core::ptr::null(),
            base: 0,
            vmctx: core::ptr::null_mut(),
        };
        let mut pushed = 0;
        while s.reserve(0) {
            s.frames.push(frame);
            pushed += 1;
        }
        assert_eq!(pushed, 1024 / 8 / FRAME_SLOTS);
    }

    #[test]
    fn zero_limit_refuses_everything() {
        let mut s = InterpStack::new(0);
        assert!(!s.reserve(0));
        assert!(s.values.is_empty());
    }
}
