//! The pooling instance allocator: per-engine pools of bounded, reusable
//! slots for instance vmctx blocks, linear memories and tables.
//!
//! A pool of one kind is a counter of slots handed out plus a stack of
//! released slots. Taking a slot pops the most recently released one (its
//! storage is the most likely to still be cached) or, if none is free and
//! fewer than `limit` slots exist, makes a fresh one; otherwise it fails with
//! [`PoolConcurrencyLimitError`]. A slot's storage — a zeroed buffer, or a
//! table's element vector — is created the first time the slot is used and
//! travels with the slot: the object using it (vmctx block, memory, table)
//! owns it while live and hands it back, reset, through its [`Lease`] when
//! it is dropped. Reset means zeroed for memories and vmctx blocks, so a
//! slot's next tenant never sees the previous tenant's bytes.
//!
//! Vmctx blocks and table vectors are heap allocations; a memory slot keeps
//! a [`MemoryBuffer`] — an anonymous mapping on unix, reset by zeroing the
//! prefix its module's data segments write and discarding the rest of its
//! pages (`madvise`), so the cost of a reset follows what the tenant's
//! module initialises, not how large the memory is.

use super::memory_buffer::MemoryBuffer;
use crate::Module;
use crate::allocation::{PoolConcurrencyLimitError, PoolingAllocationConfig};
use anyhow::{Result, anyhow, bail};
use kiln_vm::{VMContext, VMOffsets, WASM_PAGE_SIZE};
use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::ops::Range;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex, PoisonError};

/// Alignment of every [`ZeroedBuffer`] (enough for any scalar access and
/// for a vmctx block).
pub(crate) const BUFFER_ALIGN: usize = 16;

/// An owned heap buffer whose bytes are all zero unless its user wrote
/// them; memories and vmctx blocks live in one.
pub(crate) struct ZeroedBuffer {
    ptr: NonNull<u8>,
    capacity: usize,
}

// SAFETY: the buffer exclusively owns its allocation, like a `Box<[u8]>`.
unsafe impl Send for ZeroedBuffer {}
// SAFETY: shared access hands out only the address.
unsafe impl Sync for ZeroedBuffer {}

impl ZeroedBuffer {
    /// A buffer of no bytes (a dangling, non-null address).
    pub(crate) fn empty() -> ZeroedBuffer {
        ZeroedBuffer {
            ptr: NonNull::dangling(),
            capacity: 0,
        }
    }

    /// A zeroed buffer of `capacity` bytes, or `None` if the allocation
    /// fails.
    pub(crate) fn zeroed(capacity: usize) -> Option<ZeroedBuffer> {
        if capacity == 0 {
            return Some(ZeroedBuffer::empty());
        }
        let layout = Layout::from_size_align(capacity, BUFFER_ALIGN).ok()?;
        // SAFETY: `layout` has a non-zero size.
        let ptr = NonNull::new(unsafe { alloc_zeroed(layout) })?;
        Some(ZeroedBuffer { ptr, capacity })
    }

    /// The first byte's address (dangling when the capacity is 0).
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Bytes allocated.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Makes the capacity at least `needed` (preferably `preferred`),
    /// keeping the first `keep` bytes; new bytes are zero. `None` (leaving
    /// the buffer unchanged) if no allocation of at least `needed` bytes
    /// succeeds.
    pub(crate) fn reserve(&mut self, keep: usize, needed: usize, preferred: usize) -> Option<()> {
        if needed <= self.capacity {
            return Some(());
        }
        let preferred = preferred.max(needed);
        let new = match ZeroedBuffer::zeroed(preferred) {
            Some(new) => new,
            None if preferred > needed => ZeroedBuffer::zeroed(needed)?,
            None => return None,
        };
        let keep = keep.min(self.capacity);
        // SAFETY: both buffers are live, distinct allocations; the old one
        // holds at least `keep` bytes and the new one at least `needed >
        // capacity >= keep`.
        unsafe { std::ptr::copy_nonoverlapping(self.ptr.as_ptr(), new.ptr.as_ptr(), keep) };
        *self = new;
        Some(())
    }

    /// Zeroes the first `len` bytes (at most the capacity).
    pub(crate) fn zero_prefix(&mut self, len: usize) {
        let len = len.min(self.capacity);
        // SAFETY: `len` bytes from `ptr` are inside the allocation (or
        // `len` is 0 and the dangling pointer is non-null and aligned).
        unsafe { std::ptr::write_bytes(self.ptr.as_ptr(), 0, len) };
    }
}

impl Drop for ZeroedBuffer {
    fn drop(&mut self) {
        if self.capacity == 0 {
            return;
        }
        if let Ok(layout) = Layout::from_size_align(self.capacity, BUFFER_ALIGN) {
            // SAFETY: allocated in `zeroed` with this layout, freed once.
            unsafe { dealloc(self.ptr.as_ptr(), layout) }
        }
    }
}

/// The slots of one kind.
pub(crate) struct SlotPool<S> {
    /// For errors: "core instances", "memories", "tables".
    kind: &'static str,
    /// Most slots live at once.
    limit: u32,
    /// Most released slots that keep their storage.
    max_warm: u32,
    state: Mutex<SlotState<S>>,
}

struct SlotState<S> {
    /// Released slots with the storage they kept, most recent last.
    free: Vec<(u32, Option<S>)>,
    /// Slots ever created (indices `0..created`).
    created: u32,
    /// Entries of `free` that hold storage.
    warm: u32,
}

impl<S> SlotPool<S> {
    fn new(kind: &'static str, limit: u32, max_warm: u32) -> SlotPool<S> {
        SlotPool {
            kind,
            limit,
            max_warm,
            state: Mutex::new(SlotState {
                free: Vec::new(),
                created: 0,
                warm: 0,
            }),
        }
    }

    /// Takes a slot: its lease and whatever storage it kept.
    fn acquire(self: &Arc<Self>) -> Result<(Lease<S>, Option<S>), PoolConcurrencyLimitError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (index, storage) = match state.free.pop() {
            Some((index, storage)) => {
                if storage.is_some() {
                    state.warm -= 1;
                }
                (index, storage)
            }
            None if state.created < self.limit => {
                state.created += 1;
                (state.created - 1, None)
            }
            None => {
                return Err(PoolConcurrencyLimitError::new(
                    self.limit as usize,
                    self.kind,
                ));
            }
        };
        let lease = Lease {
            pool: self.clone(),
            index,
            released: false,
        };
        Ok((lease, storage))
    }

    /// Returns slot `index` with its (reset) storage.
    fn put(&self, index: u32, storage: Option<S>) {
        let mut discarded = None;
        {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            let storage = match storage {
                Some(storage) if state.warm < self.max_warm => {
                    state.warm += 1;
                    Some(storage)
                }
                other => {
                    discarded = other;
                    None
                }
            };
            state.free.push((index, storage));
        }
        // Freed outside the lock.
        drop(discarded);
    }

    /// Slots currently taken.
    #[cfg(test)]
    fn live(&self) -> u32 {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.created - state.free.len() as u32
    }
}

/// A taken slot. Dropping it returns the slot without storage;
/// [`Lease::release`] returns it with its reset storage for reuse.
pub(crate) struct Lease<S> {
    pool: Arc<SlotPool<S>>,
    index: u32,
    released: bool,
}

impl<S> Lease<S> {
    /// Returns the slot with `storage`, which the caller has reset.
    pub(crate) fn release(mut self, storage: Option<S>) {
        self.released = true;
        self.pool.put(self.index, storage);
    }
}

impl<S> Drop for Lease<S> {
    fn drop(&mut self) {
        if !self.released {
            self.pool.put(self.index, None);
        }
    }
}

/// The pools of one engine.
pub(crate) struct PoolingAllocator {
    config: PoolingAllocationConfig,
    instances: Arc<SlotPool<ZeroedBuffer>>,
    memories: Arc<SlotPool<MemoryBuffer>>,
    tables: Arc<SlotPool<Vec<u64>>>,
}

impl PoolingAllocator {
    /// Empty pools with `config`'s limits.
    pub(crate) fn new(config: &PoolingAllocationConfig) -> PoolingAllocator {
        let warm = config.max_unused_warm_slots;
        PoolingAllocator {
            config: config.clone(),
            instances: Arc::new(SlotPool::new(
                "core instances",
                config.total_core_instances,
                warm,
            )),
            memories: Arc::new(SlotPool::new("memories", config.total_memories, warm)),
            tables: Arc::new(SlotPool::new("tables", config.total_tables, warm)),
        }
    }

    /// The most bytes a pooled memory may have.
    pub(crate) fn max_memory_bytes(&self) -> u64 {
        self.config.max_memory_size as u64
    }

    /// The most elements a pooled table may have.
    pub(crate) fn max_table_elements(&self) -> u64 {
        self.config.table_elements as u64
    }

    /// Fails if an instance of `module` can never be allocated from these
    /// pools, saying which limit it exceeds.
    pub(crate) fn validate(&self, module: &Module) -> Result<()> {
        let info = module.info();
        let config = &self.config;
        let defined_memories = &info.memories[info.num_imported_memories as usize..];
        let defined_tables = &info.tables[info.num_imported_tables as usize..];
        if defined_memories.len() > config.max_memories_per_module as usize {
            bail!(
                "defined memories count of {} exceeds the per-instance limit of {}",
                defined_memories.len(),
                config.max_memories_per_module
            );
        }
        if defined_tables.len() > config.max_tables_per_module as usize {
            bail!(
                "defined tables count of {} exceeds the per-instance limit of {}",
                defined_tables.len(),
                config.max_tables_per_module
            );
        }
        for (i, ty) in defined_memories.iter().enumerate() {
            let bytes = ty.minimum().saturating_mul(WASM_PAGE_SIZE);
            if bytes > self.max_memory_bytes() {
                bail!(
                    "memory index {} has a minimum byte size of {bytes} which exceeds the limit of {} bytes",
                    i + info.num_imported_memories as usize,
                    config.max_memory_size
                );
            }
        }
        for (i, ty) in defined_tables.iter().enumerate() {
            if ty.minimum() > self.max_table_elements() {
                bail!(
                    "table index {} has a minimum element size of {} which exceeds the limit of {}",
                    i + info.num_imported_tables as usize,
                    ty.minimum(),
                    config.table_elements
                );
            }
        }
        let size = vmctx_size(module.offsets());
        if size > config.max_core_instance_size {
            bail!(
                "instance allocation for this module requires {size} bytes which exceeds the configured maximum of {} bytes",
                config.max_core_instance_size
            );
        }
        Ok(())
    }

    /// Takes an instance slot and sets up a zeroed vmctx block laid out by
    /// `offsets` in it.
    pub(crate) fn allocate_vmctx(&self, offsets: &VMOffsets) -> Result<PooledVmctx> {
        let (lease, buffer) = self.instances.acquire()?;
        let used = vmctx_size(offsets);
        let mut buffer = buffer.unwrap_or_else(ZeroedBuffer::empty);
        // The kept buffer is all zero (reset on release); only its size may
        // be too small.
        buffer
            .reserve(0, used, used)
            .ok_or_else(|| anyhow!("failed to allocate an instance context of {used} bytes"))?;
        Ok(PooledVmctx {
            buffer,
            used,
            untouched: 0..0,
            lease: Some(lease),
        })
    }

    /// Takes a memory slot: its lease and kept (all-zero) buffer.
    pub(crate) fn allocate_memory(&self) -> Result<(Lease<MemoryBuffer>, MemoryBuffer)> {
        let (lease, buffer) = self.memories.acquire()?;
        Ok((lease, buffer.unwrap_or_else(MemoryBuffer::empty)))
    }

    /// Takes a table slot: its lease and kept (empty) element vector.
    pub(crate) fn allocate_table(&self) -> Result<(Lease<Vec<u64>>, Vec<u64>)> {
        let (lease, elements) = self.tables.acquire()?;
        Ok((lease, elements.unwrap_or_default()))
    }
}

/// Bytes of the vmctx block for `offsets` (never less than the header).
pub(crate) fn vmctx_size(offsets: &VMOffsets) -> usize {
    (offsets.size as usize).max(size_of::<VMContext>())
}

/// A vmctx block in a pooled instance slot. Zeroed and returned to the pool
/// when dropped.
pub(crate) struct PooledVmctx {
    buffer: ZeroedBuffer,
    /// Bytes of the block in use (the rest of the buffer stays zero).
    used: usize,
    /// Bytes of the block nothing has written (still zero), which the
    /// reset skips.
    untouched: Range<usize>,
    lease: Option<Lease<ZeroedBuffer>>,
}

impl PooledVmctx {
    /// The block's address.
    pub(crate) fn vmctx(&self) -> *mut VMContext {
        self.buffer.as_ptr().cast()
    }

    /// Declares that bytes `range` of the block have not been written since
    /// it was taken and will not be until [`touch_all`](Self::touch_all)
    /// is called, so the reset need not zero them. For an empty or
    /// out-of-range `range`, nothing is skipped.
    pub(crate) fn set_untouched(&mut self, range: Range<usize>) {
        self.untouched = if range.start < range.end && range.end <= self.used {
            range
        } else {
            0..0
        };
    }

    /// Withdraws [`set_untouched`](Self::set_untouched): the whole block is
    /// zeroed on reset.
    pub(crate) fn touch_all(&mut self) {
        self.untouched = 0..0;
    }
}

impl Drop for PooledVmctx {
    fn drop(&mut self) {
        if self.untouched.is_empty() {
            self.buffer.zero_prefix(self.used);
        } else {
            let (start, end) = (self.untouched.start, self.untouched.end);
            self.buffer.zero_prefix(start);
            // SAFETY: `start < end <= used <= capacity` (checked in
            // `set_untouched`): the bytes `end..used` are inside the buffer.
            unsafe { std::ptr::write_bytes(self.buffer.as_ptr().add(end), 0, self.used - end) };
        }
        if let Some(lease) = self.lease.take() {
            let buffer = std::mem::replace(&mut self.buffer, ZeroedBuffer::empty());
            lease.release(Some(buffer));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_grow_keeping_their_prefix_and_zero_the_rest() {
        let mut buffer = ZeroedBuffer::zeroed(4).unwrap();
        // SAFETY: 4 bytes are allocated.
        unsafe { buffer.as_ptr().write_bytes(7, 4) };
        buffer.reserve(3, 16, 32).unwrap();
        assert_eq!(buffer.capacity(), 32);
        // SAFETY: 32 initialised bytes.
        let bytes = unsafe { std::slice::from_raw_parts(buffer.as_ptr(), 32) };
        assert_eq!(&bytes[..4], &[7, 7, 7, 0]);
        assert!(bytes[4..].iter().all(|&b| b == 0));
        buffer.zero_prefix(100);
        // SAFETY: as above.
        let bytes = unsafe { std::slice::from_raw_parts(buffer.as_ptr(), 32) };
        assert!(bytes.iter().all(|&b| b == 0));
        assert_eq!(ZeroedBuffer::empty().capacity(), 0);
    }

    #[test]
    fn slots_are_bounded_reused_and_keep_warm_storage() {
        let pool: Arc<SlotPool<u32>> = Arc::new(SlotPool::new("things", 2, 1));
        let (a, _) = pool.acquire().unwrap();
        let (b, _) = pool.acquire().unwrap();
        let err = pool.acquire().err().unwrap();
        assert_eq!(
            err.to_string(),
            "maximum concurrent limit of 2 for things reached"
        );
        assert_eq!(pool.live(), 2);
        let a_index = a.index;
        a.release(Some(11));
        // Over the warm limit: the storage is discarded.
        b.release(Some(22));
        assert_eq!(pool.live(), 0);
        let (b2, storage) = pool.acquire().unwrap();
        assert_eq!(storage, None);
        let (a2, storage) = pool.acquire().unwrap();
        assert_eq!((a2.index, storage), (a_index, Some(11)));
        drop(a2);
        drop(b2);
        assert_eq!(pool.live(), 0);
    }
}
