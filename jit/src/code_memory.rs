//! Executable memory for a module's machine code.
//!
//! One anonymous mapping per module: mapped read+write, the code copied in,
//! then switched to read+execute with `mprotect` — never writable and
//! executable at once — and unmapped when the module is dropped. On
//! aarch64 the instruction cache is made coherent with the written bytes
//! before the code can run.

use anyhow::{Context as _, Result, bail};
use core::ptr::NonNull;

/// A read+execute copy of some machine code, freed on drop.
#[derive(Debug)]
pub struct CodeMemory {
    ptr: NonNull<u8>,
    len: usize,
    /// Bytes of code copied in (`len` is whole pages).
    code_len: usize,
}

// SAFETY: the mapping is immutable once built and owned by this value.
unsafe impl Send for CodeMemory {}
// SAFETY: as above: shared access only reads (executes) it.
unsafe impl Sync for CodeMemory {}

impl CodeMemory {
    /// Maps `code` read+execute.
    pub fn new(code: &[u8]) -> Result<CodeMemory> {
        let page = rustix::param::page_size();
        let len = code.len().max(1).div_ceil(page) * page;
        // SAFETY: a fresh anonymous private mapping aliases nothing.
        let ptr = unsafe {
            rustix::mm::mmap_anonymous(
                core::ptr::null_mut(),
                len,
                rustix::mm::ProtFlags::READ | rustix::mm::ProtFlags::WRITE,
                rustix::mm::MapFlags::PRIVATE,
            )
        }
        .context("cannot map memory for native code")?;
        let Some(ptr) = NonNull::new(ptr.cast::<u8>()) else {
            bail!("the kernel mapped native code at address 0");
        };
        let memory = CodeMemory {
            ptr,
            len,
            code_len: code.len(),
        };
        // SAFETY: the mapping is `len >= code.len()` writable bytes we own.
        unsafe { core::ptr::copy_nonoverlapping(code.as_ptr(), ptr.as_ptr(), code.len()) };
        // SAFETY: the range is exactly our mapping; nothing else uses it.
        unsafe {
            rustix::mm::mprotect(
                ptr.as_ptr().cast(),
                len,
                rustix::mm::MprotectFlags::READ | rustix::mm::MprotectFlags::EXEC,
            )
        }
        .context("cannot make native code executable")?;
        flush_icache(ptr.as_ptr(), code.len());
        Ok(memory)
    }

    /// The address of byte `offset` of the code.
    pub fn at(&self, offset: usize) -> *const u8 {
        debug_assert!(offset < self.len);
        self.ptr.as_ptr().wrapping_add(offset).cast_const()
    }

    /// The offset of address `addr` in the code, if it is in it (for
    /// finding which function a return address belongs to).
    pub fn offset_of(&self, addr: usize) -> Option<usize> {
        let offset = addr.checked_sub(self.ptr.as_ptr() as usize)?;
        (offset < self.code_len).then_some(offset)
    }

    /// The code, as copied in (for serialising it).
    pub fn code(&self) -> &[u8] {
        // SAFETY: the mapping is readable and holds `code_len` initialised
        // bytes for as long as `self` lives.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.code_len) }
    }

    /// The mapped size in bytes (whole pages).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the mapping is empty (never: at least one page is mapped).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for CodeMemory {
    fn drop(&mut self) {
        // SAFETY: the mapping was made in `new` with this length and is
        // unmapped once; its code can no longer run (the module owning it
        // outlives every instance).
        let _ = unsafe { rustix::mm::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

/// Makes the instruction cache see freshly written code. x86-64 keeps its
/// caches coherent; aarch64 needs each line cleaned to the point of
/// unification and invalidated in the instruction cache.
#[allow(unused_variables)]
fn flush_icache(start: *mut u8, len: usize) {
    #[cfg(target_arch = "aarch64")]
    {
        // The smallest line sizes any aarch64 core reports; cleaning with
        // a smaller stride than the real line is merely redundant.
        const LINE: usize = 64;
        let begin = start as usize & !(LINE - 1);
        let end = start as usize + len;
        // SAFETY: cache maintenance by virtual address on our own mapping;
        // the barriers order it before the code can run.
        unsafe {
            let mut line = begin;
            while line < end {
                core::arch::asm!("dc cvau, {0}", in(reg) line, options(nostack));
                line += LINE;
            }
            core::arch::asm!("dsb ish", options(nostack));
            let mut line = begin;
            while line < end {
                core::arch::asm!("ic ivau, {0}", in(reg) line, options(nostack));
                line += LINE;
            }
            core::arch::asm!("dsb ish", "isb", options(nostack));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_is_copied_and_pages_are_whole() {
        let code = [0xc3u8; 10];
        let memory = CodeMemory::new(&code).unwrap();
        assert!(memory.len() >= 10 && memory.len().is_multiple_of(rustix::param::page_size()));
        // SAFETY: the mapping is readable and holds the copied bytes.
        let copied = unsafe { core::slice::from_raw_parts(memory.at(0), 10) };
        assert_eq!(copied, code);
    }
}
