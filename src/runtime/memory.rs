//! `MemoryObject`: the storage behind a linear memory.
//!
//! Kiln checks bounds explicitly on every access instead of relying on
//! guard pages, so a memory is just a zero-initialised heap allocation: no
//! virtual-memory reservation, no signal handlers, the same behaviour on
//! every platform. Growing past the allocation reallocates (geometrically,
//! so repeated `memory.grow` is amortised linear) and updates the
//! [`VMMemoryDefinition`] that instances point at — which is why running
//! code must reload `base` after anything that can grow memory.
//!
//! The object is `#[repr(C)]` with the definition as its first field: the
//! `memory.grow` builtin only receives the definition's address (from the
//! vmctx) and casts it back to the owning object.

use crate::types::MemoryType;
use anyhow::{Result, bail};
use kiln_interp::vm::{VMMemoryDefinition, WASM_PAGE_SIZE};
use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::ptr::NonNull;

/// The most pages a 32-bit memory can have (4 GiB).
pub(crate) const MAX_PAGES: u64 = 65_536;

/// Alignment of memory allocations (enough for any scalar access).
const ALIGN: usize = 16;

/// A linear memory's bytes and limits.
#[repr(C)]
pub(crate) struct MemoryObject {
    /// Must stay the first field (see the module docs).
    pub(crate) def: VMMemoryDefinition,
    /// Bytes allocated at `def.base`. Bytes in `current_length..capacity`
    /// are zero: they were allocated zeroed and running code never writes
    /// beyond `current_length`, which never shrinks.
    capacity: usize,
    /// The declared type.
    ty: MemoryType,
}

// SAFETY: the object owns its allocation; the raw pointer in `def` is only a
// view of it.
unsafe impl Send for MemoryObject {}
// SAFETY: shared access only reads.
unsafe impl Sync for MemoryObject {}

impl MemoryObject {
    /// A memory of type `ty`, `ty.minimum()` pages large.
    pub(crate) fn new(ty: &MemoryType) -> Result<MemoryObject> {
        if ty.minimum() > MAX_PAGES {
            bail!(
                "memory minimum size of {} pages exceeds memory limits",
                ty.minimum()
            );
        }
        let mut memory = MemoryObject {
            def: VMMemoryDefinition {
                base: NonNull::dangling().as_ptr(),
                current_length: 0,
            },
            capacity: 0,
            ty: ty.clone(),
        };
        if memory.grow(ty.minimum()).is_none() {
            bail!("failed to allocate a memory of {} pages", ty.minimum());
        }
        Ok(memory)
    }

    /// The declared type.
    pub(crate) fn ty(&self) -> &MemoryType {
        &self.ty
    }

    /// Current size in pages.
    pub(crate) fn pages(&self) -> u64 {
        self.def.current_length as u64 / WASM_PAGE_SIZE
    }

    /// Current size in bytes.
    pub(crate) fn byte_len(&self) -> usize {
        self.def.current_length
    }

    /// The largest size in pages this memory may grow to.
    fn max_pages(&self) -> u64 {
        self.ty.maximum().unwrap_or(MAX_PAGES).min(MAX_PAGES)
    }

    /// Grows by `delta` pages, returning the old size in pages, or `None`
    /// (leaving the memory unchanged) if that exceeds the maximum or the
    /// allocation fails.
    pub(crate) fn grow(&mut self, delta: u64) -> Option<u64> {
        let old_pages = self.pages();
        let new_pages = old_pages.checked_add(delta)?;
        if new_pages > self.max_pages() {
            return None;
        }
        let new_len = usize::try_from(new_pages.checked_mul(WASM_PAGE_SIZE)?).ok()?;
        if new_len > self.capacity {
            self.reallocate(new_len)?;
        }
        self.def.current_length = new_len;
        Some(old_pages)
    }

    /// Moves the bytes to a zeroed allocation of at least `needed` bytes.
    fn reallocate(&mut self, needed: usize) -> Option<()> {
        let old_layout = if self.capacity > 0 {
            Some(layout(self.capacity)?)
        } else {
            None
        };
        let limit = usize::try_from(self.max_pages() * WASM_PAGE_SIZE).unwrap_or(usize::MAX);
        let preferred = self.capacity.saturating_mul(2).min(limit).max(needed);
        let (ptr, capacity) = match allocate_zeroed(preferred) {
            Some(ptr) => (ptr, preferred),
            None if preferred > needed => (allocate_zeroed(needed)?, needed),
            None => return None,
        };
        if let Some(old_layout) = old_layout {
            // SAFETY: the old allocation (made with `old_layout`) holds
            // `current_length <= capacity` initialised bytes, the new one at
            // least `needed > current_length`; they are distinct allocations.
            unsafe {
                std::ptr::copy_nonoverlapping(self.def.base, ptr.as_ptr(), self.def.current_length);
                dealloc(self.def.base, old_layout);
            }
        }
        self.def.base = ptr.as_ptr();
        self.capacity = capacity;
        Some(())
    }

    /// The memory's bytes.
    pub(crate) fn data(&self) -> &[u8] {
        // SAFETY: `base` is valid for `current_length` initialised bytes (or
        // dangling and non-null when the length is 0).
        unsafe { std::slice::from_raw_parts(self.def.base, self.def.current_length) }
    }

    /// The memory's bytes, writable.
    pub(crate) fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `data`; `&mut self` makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.def.base, self.def.current_length) }
    }

    /// The address of the definition that instances point at.
    pub(crate) fn def_ptr(this: *mut MemoryObject) -> *mut VMMemoryDefinition {
        // `def` is the first field of a `repr(C)` struct.
        this.cast()
    }
}

impl Drop for MemoryObject {
    fn drop(&mut self) {
        if self.capacity > 0
            && let Some(layout) = layout(self.capacity)
        {
            // SAFETY: `base` was allocated with this layout by `reallocate`.
            unsafe { dealloc(self.def.base, layout) }
        }
    }
}

fn layout(size: usize) -> Option<Layout> {
    Layout::from_size_align(size, ALIGN).ok()
}

fn allocate_zeroed(size: usize) -> Option<NonNull<u8>> {
    let layout = layout(size)?;
    // SAFETY: `size` is non-zero (callers only allocate to grow past a
    // capacity, so `size > 0`).
    NonNull::new(unsafe { alloc_zeroed(layout) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_within_limits_and_keeps_contents() {
        let mut memory = MemoryObject::new(&MemoryType::new(1, Some(4))).unwrap();
        assert_eq!(memory.pages(), 1);
        memory.data_mut()[100] = 7;
        assert_eq!(memory.grow(2), Some(1));
        assert_eq!(memory.pages(), 3);
        assert_eq!(memory.data()[100], 7);
        assert!(memory.data()[65_536..].iter().all(|&b| b == 0));
        assert_eq!(memory.grow(2), None);
        assert_eq!(memory.pages(), 3);
        assert_eq!(memory.grow(0), Some(3));
        assert_eq!(memory.grow(1), Some(3));
        assert_eq!(memory.byte_len(), 4 * 65_536);
    }

    #[test]
    fn empty_memories_and_the_4gib_limit() {
        let mut memory = MemoryObject::new(&MemoryType::new(0, None)).unwrap();
        assert_eq!(memory.data().len(), 0);
        assert_eq!(memory.grow(MAX_PAGES + 1), None);
        assert_eq!(memory.grow(u64::MAX), None);
        assert_eq!(memory.grow(1), Some(0));
        assert!(MemoryObject::new(&MemoryType::new(70_000, None)).is_err());
    }

    #[test]
    fn the_definition_is_the_first_field() {
        let mut memory = MemoryObject::new(&MemoryType::new(1, None)).unwrap();
        let this: *mut MemoryObject = &mut memory;
        assert_eq!(
            MemoryObject::def_ptr(this) as usize,
            &memory.def as *const _ as usize
        );
    }
}
