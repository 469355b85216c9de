//! `Mmap`: an owned anonymous, private, read-write mapping (unix only).
//!
//! The kernel hands out an anonymous mapping's pages zero-filled on first
//! touch, so a mapping costs address space and a system call up front and
//! physical memory only for the pages actually used: a 20 MiB linear memory
//! of which a module initialises a few pages never has the rest zeroed.
//! Resizing keeps the contents (on Linux with `mremap`, which moves page
//! table entries instead of bytes), and [`Mmap::discard`] gives pages back
//! to the kernel, after which they read as zero again — how a pooled memory
//! slot is reset for its next tenant without writing every byte.

use rustix::mm::{MapFlags, ProtFlags, mmap_anonymous, munmap};
use std::ffi::c_void;
use std::ptr::NonNull;
use std::sync::OnceLock;

/// The host's page size.
pub(crate) fn page_size() -> usize {
    static PAGE_SIZE: OnceLock<usize> = OnceLock::new();
    *PAGE_SIZE.get_or_init(rustix::param::page_size)
}

/// `len` rounded up to a whole number of pages, or `None` on overflow.
pub(crate) fn round_up_to_page(len: usize) -> Option<usize> {
    let page = page_size();
    len.checked_add(page - 1).map(|len| len & !(page - 1))
}

/// An anonymous private mapping of `len` readable and writable bytes, all
/// zero unless written, unmapped when dropped.
pub(crate) struct Mmap {
    ptr: NonNull<u8>,
    /// Always a non-zero multiple of the page size.
    len: usize,
}

// SAFETY: the mapping is exclusively owned, like a `Box<[u8]>`.
unsafe impl Send for Mmap {}
// SAFETY: shared access hands out only the address.
unsafe impl Sync for Mmap {}

impl Mmap {
    /// A fresh zero-filled mapping of at least `len` bytes (rounded up to
    /// whole pages), or `None` if `len` is 0 or the kernel refuses.
    pub(crate) fn new(len: usize) -> Option<Mmap> {
        let len = round_up_to_page(len).filter(|&len| len > 0)?;
        // SAFETY: a fresh mapping at an address of the kernel's choosing
        // aliases nothing.
        let ptr = unsafe {
            mmap_anonymous(
                std::ptr::null_mut(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::PRIVATE,
            )
        }
        .ok()?;
        Some(Mmap {
            ptr: NonNull::new(ptr.cast())?,
            len,
        })
    }

    /// The first byte's address.
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Bytes mapped (a multiple of the page size).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Makes the mapping at least `new_len` bytes long, keeping its
    /// contents; the new bytes are zero. The mapping may move. `None`
    /// (leaving the mapping unchanged) if the kernel refuses.
    pub(crate) fn grow(&mut self, new_len: usize) -> Option<()> {
        let new_len = round_up_to_page(new_len)?;
        if new_len <= self.len {
            return Some(());
        }
        #[cfg(target_os = "linux")]
        {
            use rustix::mm::{MremapFlags, mremap};
            // SAFETY: the old range is this mapping, which no reference
            // borrows (`&mut self`), and the owner reloads the address
            // after growing. The kernel extends or moves the mapping with
            // its pages; the added pages are zero-filled.
            let ptr = unsafe {
                mremap(
                    self.ptr.as_ptr().cast(),
                    self.len,
                    new_len,
                    MremapFlags::MAYMOVE,
                )
            }
            .ok()?;
            self.ptr = NonNull::new(ptr.cast())?;
            self.len = new_len;
            Some(())
        }
        #[cfg(not(target_os = "linux"))]
        {
            let new = Mmap::new(new_len)?;
            // SAFETY: two distinct live mappings; the new one is larger.
            unsafe { std::ptr::copy_nonoverlapping(self.as_ptr(), new.as_ptr(), self.len) };
            *self = new;
            Some(())
        }
    }

    /// Makes bytes `start..end` zero again, giving their whole pages back
    /// to the kernel (the next touch maps a fresh zero page). `end` is
    /// rounded up to a page boundary and both ends are clamped to the
    /// mapping; bytes before the first page boundary at or after `start`
    /// are zeroed in place.
    pub(crate) fn discard(&mut self, start: usize, end: usize) {
        let end = round_up_to_page(end).unwrap_or(usize::MAX).min(self.len);
        if start >= end {
            return;
        }
        let aligned = round_up_to_page(start).unwrap_or(end).min(end);
        // SAFETY: `start <= aligned <= end <= len`: inside the writable
        // mapping, which no reference borrows (`&mut self`).
        unsafe { std::ptr::write_bytes(self.as_ptr().add(start), 0, aligned - start) };
        let (start, len) = (aligned, end - aligned);
        if len == 0 {
            return;
        }
        // SAFETY: `start..end` lies inside the mapping and is page-aligned
        // at both ends; no reference borrows it (`&mut self`).
        let addr: *mut c_void = unsafe { self.as_ptr().add(start) }.cast();
        // SAFETY: as above; on Linux `MADV_DONTNEED` drops the pages of a
        // private anonymous mapping, which then read as zero.
        #[cfg(target_os = "linux")]
        let discarded =
            unsafe { rustix::mm::madvise(addr, len, rustix::mm::Advice::LinuxDontNeed).is_ok() };
        // Elsewhere `MADV_DONTNEED` is only a hint; mapping fresh anonymous
        // pages over the range is what guarantees zeroes.
        // SAFETY: as above; `FIXED` replaces exactly that range of our own
        // mapping.
        #[cfg(not(target_os = "linux"))]
        let discarded = unsafe {
            mmap_anonymous(
                addr,
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::PRIVATE | MapFlags::FIXED,
            )
            .is_ok()
        };
        if !discarded {
            // The kernel refused: zero the bytes by hand instead, so a reset
            // never leaves old data behind.
            // SAFETY: the range is inside the mapping and writable.
            unsafe { std::ptr::write_bytes(addr.cast::<u8>(), 0, len) };
        }
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        // SAFETY: the mapping was created by `Mmap::new`/`grow` with exactly
        // this address and length, is unmapped once, and nothing borrows it.
        // A failure would only leak address space.
        let _ = unsafe { munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(map: &Mmap) -> &[u8] {
        // SAFETY: the whole mapping is readable.
        unsafe { std::slice::from_raw_parts(map.as_ptr(), map.len()) }
    }

    fn write(map: &mut Mmap, at: usize, value: u8) {
        assert!(at < map.len());
        // SAFETY: in bounds of the writable mapping.
        unsafe { map.as_ptr().add(at).write(value) };
    }

    #[test]
    fn mappings_are_page_sized_and_zeroed() {
        let page = page_size();
        assert!(page.is_power_of_two());
        assert!(Mmap::new(0).is_none());
        let map = Mmap::new(1).unwrap();
        assert_eq!(map.len(), page);
        assert_eq!(map.as_ptr() as usize % page, 0);
        assert!(bytes(&map).iter().all(|&b| b == 0));
        assert_eq!(round_up_to_page(page + 1), Some(2 * page));
        assert_eq!(round_up_to_page(usize::MAX), None);
    }

    #[test]
    fn growing_keeps_the_contents_and_adds_zeroes() {
        let page = page_size();
        let mut map = Mmap::new(2 * page).unwrap();
        write(&mut map, 0, 1);
        write(&mut map, 2 * page - 1, 2);
        map.grow(page).unwrap();
        assert_eq!(map.len(), 2 * page);
        map.grow(64 * page + 3).unwrap();
        assert_eq!(map.len(), 65 * page);
        let data = bytes(&map);
        assert_eq!((data[0], data[2 * page - 1]), (1, 2));
        assert!(data[1..2 * page - 1].iter().all(|&b| b == 0));
        assert!(data[2 * page..].iter().all(|&b| b == 0));
    }

    #[test]
    fn discarded_pages_read_as_zero() {
        let page = page_size();
        let mut map = Mmap::new(8 * page).unwrap();
        for at in [0, page, 3 * page + 5, 8 * page - 1] {
            write(&mut map, at, 0xA5);
        }
        map.discard(page, 4 * page);
        let data = bytes(&map);
        assert_eq!(data[0], 0xA5);
        assert!(data[page..4 * page].iter().all(|&b| b == 0));
        assert_eq!(data[8 * page - 1], 0xA5);
        // An unaligned start is zeroed up to the next page by hand.
        write(&mut map, 5 * page + 9, 1);
        write(&mut map, 5 * page + 10, 1);
        map.discard(5 * page + 10, 6 * page);
        assert_eq!(bytes(&map)[5 * page + 9], 1);
        assert!(bytes(&map)[5 * page + 10..6 * page].iter().all(|&b| b == 0));
        // Unaligned and out-of-range ends are rounded and clamped.
        map.discard(0, usize::MAX - page);
        assert!(bytes(&map).iter().all(|&b| b == 0));
        map.discard(8 * page, 9 * page);
        // Pages stay usable after a discard.
        write(&mut map, page, 9);
        assert_eq!(bytes(&map)[page], 9);
    }
}
