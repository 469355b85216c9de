//! `MemoryBuffer`: the allocation behind a linear memory, and the policy
//! for where it comes from and how it is zeroed again.
//!
//! On unix a memory normally lives in an anonymous mapping ([`Mmap`]):
//! its pages are zero-filled by the kernel on first touch, so creating a
//! large memory costs a system call instead of a `memset` of every byte,
//! growth past the mapping is an `mremap` (no copy on Linux), and resetting
//! a pooled memory gives the pages back with `madvise` instead of writing
//! them.
//!
//! Lazily zeroed pages are not free, though: each first touch is a page
//! fault, which costs far more than zeroing the page in place (several
//! times more on bare metal, ten times or more under virtualisation). So
//! two kinds of memory use the heap ([`ZeroedBuffer`]) instead, whose
//! freed blocks the allocator recycles while they are still resident:
//!
//! * small ones (at most [`HEAP_MEMORY_MAX`]), where a `memset` is cheaper
//!   than the system calls a mapping needs;
//! * *dense* ones, of which the module's data segments fill at least half
//!   at instantiation anyway ([`MemoryInitHint`]): faulting in every page
//!   would cost more than zeroing them.
//!
//! A heap memory that grows beyond [`HEAP_MEMORY_MAX`] moves to a mapping.
//! Likewise a pooled memory is reset by zeroing in place the prefix its
//! module's data segments write (the next tenant — usually an instance of
//! the same module — writes those pages again at once) and discarding the
//! pages beyond it. Other targets always use the heap.

use super::pooling::ZeroedBuffer;

#[cfg(unix)]
use super::mmap::{Mmap, round_up_to_page};

/// The largest memory that starts on the heap regardless of its contents
/// (unix; elsewhere every memory is on the heap).
pub(crate) const HEAP_MEMORY_MAX: usize = 256 << 10;

/// The prefix of a pooled memory that is always zeroed in place rather than
/// discarded on reset: one WebAssembly page.
pub(crate) const KEEP_RESIDENT_MIN: usize = 64 << 10;

/// What instantiation writes into a new memory, known from the module's
/// data segments with constant offsets (see
/// [`SegmentPlan`](crate::module::SegmentPlan)).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct MemoryInitHint {
    /// Bytes in the distinct host pages the segments write.
    pub(crate) touched: usize,
    /// The end of the last host page the segments write.
    pub(crate) extent: usize,
}

impl MemoryInitHint {
    /// Whether a memory of `initial` bytes is better allocated eagerly (on
    /// the heap, zeroed in place) than lazily (mapped): small, or at least
    /// half written by its data segments.
    pub(crate) fn prefers_heap(&self, initial: usize) -> bool {
        initial <= HEAP_MEMORY_MAX || self.touched >= initial / 2
    }

    /// The prefix of a pooled memory to zero in place on reset.
    pub(crate) fn keep_resident(&self) -> usize {
        self.extent.max(KEEP_RESIDENT_MIN)
    }
}

/// A zero-initialised allocation holding a linear memory's bytes.
pub(crate) enum MemoryBuffer {
    /// On the heap.
    Heap(ZeroedBuffer),
    /// An anonymous mapping.
    #[cfg(unix)]
    Mapped(Mmap),
}

impl MemoryBuffer {
    /// A buffer of no bytes.
    pub(crate) fn empty() -> MemoryBuffer {
        MemoryBuffer::Heap(ZeroedBuffer::empty())
    }

    /// A zeroed buffer of at least `capacity` bytes, on the heap if
    /// `heap` (or on targets without mappings) and mapped otherwise (or on
    /// the heap if the kernel refuses the mapping); `None` if the
    /// allocation fails.
    pub(crate) fn zeroed(capacity: usize, heap: bool) -> Option<MemoryBuffer> {
        #[cfg(unix)]
        if !heap && let Some(map) = Mmap::new(capacity) {
            return Some(MemoryBuffer::Mapped(map));
        }
        let _ = heap;
        ZeroedBuffer::zeroed(capacity).map(MemoryBuffer::Heap)
    }

    /// The first byte's address (dangling when the capacity is 0).
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        match self {
            MemoryBuffer::Heap(buffer) => buffer.as_ptr(),
            #[cfg(unix)]
            MemoryBuffer::Mapped(map) => map.as_ptr(),
        }
    }

    /// Bytes allocated.
    pub(crate) fn capacity(&self) -> usize {
        match self {
            MemoryBuffer::Heap(buffer) => buffer.capacity(),
            #[cfg(unix)]
            MemoryBuffer::Mapped(map) => map.len(),
        }
    }

    /// Whether the bytes are mapped (rather than on the heap).
    #[cfg(test)]
    pub(crate) fn is_mapped(&self) -> bool {
        !matches!(self, MemoryBuffer::Heap(_))
    }

    /// Makes the capacity at least `needed` (preferably `preferred`),
    /// keeping the first `keep` bytes; new bytes are zero. `None` (leaving
    /// the buffer unchanged) if no allocation of at least `needed` bytes
    /// succeeds. The buffer may move.
    pub(crate) fn reserve(&mut self, keep: usize, needed: usize, preferred: usize) -> Option<()> {
        if needed <= self.capacity() {
            return Some(());
        }
        let preferred = preferred.max(needed);
        match self {
            #[cfg(unix)]
            MemoryBuffer::Mapped(map) => map.grow(preferred).or_else(|| map.grow(needed)),
            #[cfg(unix)]
            MemoryBuffer::Heap(buffer) if needed > HEAP_MEMORY_MAX => {
                // Too large for the heap from now on: move to a mapping (or
                // stay if the kernel refuses one).
                let Some(new) = Mmap::new(preferred).or_else(|| Mmap::new(needed)) else {
                    return buffer.reserve(keep, needed, preferred);
                };
                let keep = keep.min(self.capacity());
                // SAFETY: two distinct live allocations; the old one holds at
                // least `keep` bytes and the new one at least `needed >
                // capacity >= keep`.
                unsafe { std::ptr::copy_nonoverlapping(self.as_ptr(), new.as_ptr(), keep) };
                *self = MemoryBuffer::Mapped(new);
                Some(())
            }
            MemoryBuffer::Heap(buffer) => buffer.reserve(keep, needed, preferred),
        }
    }

    /// Zeroes the first `used` bytes (everything beyond is zero already).
    /// A mapping zeroes the first `keep_resident` bytes in place and gives
    /// the pages of the rest back to the kernel.
    pub(crate) fn reset(&mut self, used: usize, keep_resident: usize) {
        match self {
            MemoryBuffer::Heap(buffer) => {
                let _ = keep_resident;
                buffer.zero_prefix(used);
            }
            #[cfg(unix)]
            MemoryBuffer::Mapped(map) => {
                let used = used.min(map.len());
                let keep = round_up_to_page(keep_resident)
                    .unwrap_or(usize::MAX)
                    .min(used);
                // SAFETY: `keep <= used <= len` bytes of the writable mapping.
                unsafe { std::ptr::write_bytes(map.as_ptr(), 0, keep) };
                map.discard(keep, used);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(buffer: &MemoryBuffer) -> &[u8] {
        // SAFETY: the whole capacity is initialised (zeroed) memory.
        unsafe { std::slice::from_raw_parts(buffer.as_ptr(), buffer.capacity()) }
    }

    fn fill(buffer: &mut MemoryBuffer, len: usize, value: u8) {
        assert!(len <= buffer.capacity());
        // SAFETY: in bounds.
        unsafe { buffer.as_ptr().write_bytes(value, len) };
    }

    #[test]
    fn small_and_dense_memories_prefer_the_heap() {
        let none = MemoryInitHint::default();
        assert!(none.prefers_heap(0));
        assert!(none.prefers_heap(HEAP_MEMORY_MAX));
        assert!(!none.prefers_heap(HEAP_MEMORY_MAX + (64 << 10)));
        let dense = MemoryInitHint {
            touched: 3 << 20,
            extent: 5 << 20,
        };
        assert!(dense.prefers_heap(5 << 20));
        assert!(!dense.prefers_heap(21 << 20));
        assert_eq!(none.keep_resident(), KEEP_RESIDENT_MIN);
        assert_eq!(dense.keep_resident(), 5 << 20);
    }

    #[test]
    fn buffers_grow_keeping_their_prefix() {
        for heap in [true, false] {
            let mut buffer = MemoryBuffer::zeroed(64 << 10, heap).unwrap();
            assert!(buffer.capacity() >= 64 << 10);
            fill(&mut buffer, 100, 7);
            buffer.reserve(100, 128 << 10, 128 << 10).unwrap();
            assert!(buffer.capacity() >= 128 << 10);
            assert!(bytes(&buffer)[..100].iter().all(|&b| b == 7));
            assert!(bytes(&buffer)[100..].iter().all(|&b| b == 0));
            // Past the heap limit, every buffer is a mapping (on unix).
            buffer.reserve(100, 2 * HEAP_MEMORY_MAX, 0).unwrap();
            assert_eq!(buffer.is_mapped(), cfg!(unix));
            assert!(bytes(&buffer)[..100].iter().all(|&b| b == 7));
            assert!(bytes(&buffer)[100..].iter().all(|&b| b == 0));
        }
        assert_eq!(MemoryBuffer::empty().capacity(), 0);
    }

    #[test]
    fn resets_zero_everything_used() {
        for (heap, keep) in [(true, 0), (false, 0), (false, 64 << 10), (false, 1 << 30)] {
            let mut buffer = MemoryBuffer::zeroed(1 << 20, heap).unwrap();
            fill(&mut buffer, 1 << 20, 0xA5);
            buffer.reset(1 << 20, keep);
            assert!(bytes(&buffer).iter().all(|&b| b == 0), "{heap} {keep}");
            // Still usable afterwards.
            fill(&mut buffer, 10, 1);
            assert_eq!(bytes(&buffer)[9], 1);
        }
    }
}
