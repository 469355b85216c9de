//! `MemoryObject`: the storage behind a linear memory.
//!
//! Kiln checks bounds explicitly on every access instead of relying on
//! guard pages, so a memory is just a zero-initialised allocation, a
//! [`MemoryBuffer`]: an anonymous mapping on unix (lazily zeroed pages) or a
//! heap block for small or densely initialised memories and on other
//! targets — no guard regions, no signal handlers, the same behaviour on
//! every platform. Growing past the allocation resizes it (geometrically,
//! so repeated `memory.grow` is amortised linear; a mapping grows with
//! `mremap` on Linux) and updates the [`VMMemoryDefinition`] that instances
//! point at — which is why running code must reload `base` after anything
//! that can grow memory. With the pooling allocator the allocation comes
//! from (and returns to) a pool slot, which also caps the memory's size.
//!
//! The object is `#[repr(C)]` with the definition as its first field: the
//! `memory.grow` builtin only receives the definition's address (from the
//! vmctx) and casts it back to the owning object.

use super::memory_buffer::{MemoryBuffer, MemoryInitHint};
use super::pooling::Lease;
use crate::ResourceLimiter;
use crate::types::MemoryType;
use anyhow::{Result, anyhow, bail};
use kiln_vm::{VMMemoryDefinition, WASM_PAGE_SIZE};

/// The most pages a 32-bit memory can have (4 GiB).
pub(crate) const MAX_PAGES: u64 = 65_536;

/// Where a memory's bytes come from.
pub(crate) enum MemoryStorage {
    /// A fresh allocation, freed with the memory.
    OnDemand,
    /// A pooling-allocator slot: its kept (all-zero) buffer, the slot's
    /// byte limit, and the lease that takes the buffer back.
    Pooled {
        buffer: MemoryBuffer,
        max_bytes: u64,
        lease: Lease<MemoryBuffer>,
    },
}

/// A linear memory's bytes and limits.
#[repr(C)]
pub(crate) struct MemoryObject {
    /// Must stay the first field (see the module docs).
    pub(crate) def: VMMemoryDefinition,
    /// The allocation at `def.base`. Bytes in `current_length..capacity`
    /// are zero: they were allocated zeroed and running code never writes
    /// beyond `current_length`, which never shrinks.
    buffer: MemoryBuffer,
    /// The declared type.
    ty: MemoryType,
    /// The allocator's limit in bytes (pooling), if any.
    allocator_max: Option<u64>,
    /// The pool slot the buffer returns to when the memory is dropped.
    lease: Option<Lease<MemoryBuffer>>,
    /// What instantiation writes into the memory (decides where the buffer
    /// comes from and how a pooled one is reset).
    hint: MemoryInitHint,
}

// SAFETY: the object owns its allocation; the raw pointer in `def` is only a
// view of it.
unsafe impl Send for MemoryObject {}
// SAFETY: shared access only reads.
unsafe impl Sync for MemoryObject {}

/// What a growth attempt came to.
pub(crate) type GrowResult = Result<Option<u64>>;

impl MemoryObject {
    /// A memory of type `ty`, `ty.minimum()` pages large, allocated on
    /// demand.
    pub(crate) fn new(ty: &MemoryType) -> Result<MemoryObject> {
        MemoryObject::with_storage(ty, MemoryStorage::OnDemand, MemoryInitHint::default())
    }

    /// A memory of type `ty`, `ty.minimum()` pages large, in `storage`;
    /// `hint` says what instantiation is about to write into it.
    pub(crate) fn with_storage(
        ty: &MemoryType,
        storage: MemoryStorage,
        hint: MemoryInitHint,
    ) -> Result<MemoryObject> {
        if ty.minimum() > MAX_PAGES {
            bail!(
                "memory minimum size of {} pages exceeds memory limits",
                ty.minimum()
            );
        }
        let (buffer, allocator_max, lease) = match storage {
            MemoryStorage::OnDemand => (MemoryBuffer::empty(), None, None),
            MemoryStorage::Pooled {
                buffer,
                max_bytes,
                lease,
            } => (buffer, Some(max_bytes), Some(lease)),
        };
        let mut memory = MemoryObject {
            def: VMMemoryDefinition {
                base: buffer.as_ptr(),
                current_length: 0,
            },
            buffer,
            ty: ty.clone(),
            allocator_max,
            lease,
            hint,
        };
        // The initial allocation is exactly the initial size (a pooled
        // buffer kept from an earlier tenant may be larger).
        let initial = ty.minimum() * WASM_PAGE_SIZE;
        if let Ok(initial) = usize::try_from(initial)
            && ty.minimum() <= memory.max_pages()
            && memory.buffer.capacity() < initial
            && let Some(buffer) = MemoryBuffer::zeroed(initial, hint.prefers_heap(initial))
        {
            memory.buffer = buffer;
            memory.def.base = memory.buffer.as_ptr();
        }
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

    /// The largest size in pages this memory may grow to: its declared
    /// maximum, 4 GiB and the allocator's limit, whichever is smallest.
    fn max_pages(&self) -> u64 {
        let mut max = self.ty.maximum().unwrap_or(MAX_PAGES).min(MAX_PAGES);
        if let Some(bytes) = self.allocator_max {
            max = max.min(bytes / WASM_PAGE_SIZE);
        }
        max
    }

    /// The maximum reported to a resource limiter, in bytes: the declared
    /// maximum and the allocator's limit, if either exists.
    pub(crate) fn limiter_maximum(ty: &MemoryType, allocator_max: Option<u64>) -> Option<usize> {
        let declared = ty
            .maximum()
            .map(|pages| pages.min(MAX_PAGES).saturating_mul(WASM_PAGE_SIZE));
        let max = match (declared, allocator_max) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        Some(usize::try_from(max).unwrap_or(usize::MAX))
    }

    /// Grows by `delta` pages, returning the old size in pages, or `None`
    /// (leaving the memory unchanged) if that exceeds the maximum or the
    /// allocation fails. Does not consult any resource limiter.
    pub(crate) fn grow(&mut self, delta: u64) -> Option<u64> {
        self.grow_to(delta).ok()
    }

    /// Grows by `delta` pages under `limiter`, as `memory.grow` does:
    /// `Ok(Some(old_pages))` on success, `Ok(None)` if refused (by the
    /// limiter or the memory's limits), `Err` if the limiter turned the
    /// refusal into a trap.
    pub(crate) fn grow_limited(
        &mut self,
        delta: u64,
        limiter: Option<&mut dyn ResourceLimiter>,
    ) -> GrowResult {
        let old_pages = self.pages();
        let Some(limiter) = limiter else {
            return Ok(self.grow(delta));
        };
        if delta == 0 {
            return Ok(Some(old_pages));
        }
        let desired = old_pages
            .checked_add(delta)
            .and_then(|pages| pages.checked_mul(WASM_PAGE_SIZE))
            .and_then(|bytes| usize::try_from(bytes).ok());
        let Some(desired) = desired else {
            // Not representable: the limiter is not asked, the growth fails.
            limiter.memory_grow_failed(anyhow!("memory size overflows the address space"))?;
            return Ok(None);
        };
        let maximum = MemoryObject::limiter_maximum(&self.ty, self.allocator_max);
        if !limiter.memory_growing(self.byte_len(), desired, maximum)? {
            return Ok(None);
        }
        match self.grow_to(delta) {
            Ok(old) => Ok(Some(old)),
            Err(error) => {
                limiter.memory_grow_failed(error)?;
                Ok(None)
            }
        }
    }

    /// Grows by `delta` pages, or says why it cannot.
    fn grow_to(&mut self, delta: u64) -> Result<u64> {
        let old_pages = self.pages();
        let new_pages = old_pages
            .checked_add(delta)
            .filter(|&pages| pages <= self.max_pages())
            .ok_or_else(|| anyhow!("Memory maximum size exceeded"))?;
        let new_len = new_pages
            .checked_mul(WASM_PAGE_SIZE)
            .and_then(|bytes| usize::try_from(bytes).ok())
            .ok_or_else(|| anyhow!("memory size overflows the address space"))?;
        if new_len > self.buffer.capacity() {
            let limit = usize::try_from(self.max_pages() * WASM_PAGE_SIZE).unwrap_or(usize::MAX);
            // Geometric growth keeps repeated `memory.grow` amortised linear.
            let preferred = self.buffer.capacity().saturating_mul(2).min(limit);
            self.buffer
                .reserve(self.def.current_length, new_len, preferred)
                .ok_or_else(|| anyhow!("failed to allocate {new_len} bytes of linear memory"))?;
            self.def.base = self.buffer.as_ptr();
        }
        self.def.current_length = new_len;
        Ok(old_pages)
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
        if let Some(lease) = self.lease.take() {
            // Reset for the next tenant: everything past `current_length`
            // is already zero.
            self.buffer
                .reset(self.def.current_length, self.hint.keep_resident());
            let buffer = std::mem::replace(&mut self.buffer, MemoryBuffer::empty());
            lease.release(Some(buffer));
        }
    }
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
    fn large_memories_are_mapped_unless_their_data_fills_them() {
        let ty = MemoryType::new(64, None);
        let sparse = MemoryObject::new(&ty).unwrap();
        assert_eq!(sparse.buffer.is_mapped(), cfg!(unix));
        assert_eq!(sparse.buffer.capacity(), 64 << 16);
        let hint = MemoryInitHint {
            touched: 40 << 16,
            extent: 60 << 16,
        };
        let mut dense = MemoryObject::with_storage(&ty, MemoryStorage::OnDemand, hint).unwrap();
        assert!(!dense.buffer.is_mapped());
        dense.data_mut()[(64 << 16) - 1] = 3;
        // Growing moves it to a mapping, keeping the contents.
        assert_eq!(dense.grow(1), Some(64));
        assert_eq!(dense.buffer.is_mapped(), cfg!(unix));
        assert_eq!(dense.data()[(64 << 16) - 1], 3);
        assert!(dense.data()[64 << 16..].iter().all(|&b| b == 0));
        let small = MemoryObject::new(&MemoryType::new(1, None)).unwrap();
        assert!(!small.buffer.is_mapped());
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
