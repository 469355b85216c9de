//! The bulk memory and table operations, defined once for every tier.
//!
//! `memory.fill`, `memory.copy`, `memory.init`, `data.drop`, `table.fill`,
//! `table.copy`, `table.init` and `elem.drop` have fiddly edge cases that
//! every tier must get identically right: the whole range is checked before
//! a single byte or element moves (so an out-of-bounds operation writes
//! nothing), a zero-length operation still traps when its start is past the
//! end, copies may overlap, and a dropped segment behaves as an empty one.
//! The interpreter calls these functions directly; native code reaches them
//! through the [`VMBuiltins`](crate::VMBuiltins) table.

use crate::{TrapCode, VMDataSegment, VMElemSegment, VMTableDefinition};

/// The start of `start .. start + len` as an index, if the range lies within
/// `size` units; the check every bulk operation and every table access
/// makes. (`u64` arithmetic: neither operand can overflow it.)
#[inline(always)]
pub fn range(size: usize, start: u32, len: u32) -> Option<usize> {
    if start as u64 + len as u64 <= size as u64 {
        Some(start as usize)
    } else {
        None
    }
}

/// A byte range of linear memory, or `MemoryOutOfBounds`.
#[inline(always)]
fn memory_range(size: usize, start: u32, len: u32) -> Result<usize, TrapCode> {
    range(size, start, len).ok_or(TrapCode::MemoryOutOfBounds)
}

/// An element range of a table or element segment, or `TableOutOfBounds`.
#[inline(always)]
pub fn table_range(size: usize, start: u32, len: u32) -> Result<usize, TrapCode> {
    range(size, start, len).ok_or(TrapCode::TableOutOfBounds)
}

/// `memory.fill`: `len` bytes at `dst` of the memory at `base` (`size`
/// bytes) become `value`.
///
/// # Safety
/// `base` points to `size` writable bytes.
#[inline(always)]
pub unsafe fn memory_fill(
    base: *mut u8,
    size: usize,
    dst: u32,
    value: u8,
    len: u32,
) -> Result<(), TrapCode> {
    let at = memory_range(size, dst, len)?;
    // SAFETY: the range was checked against the memory's size.
    unsafe { core::ptr::write_bytes(base.add(at), value, len as usize) };
    Ok(())
}

/// `memory.copy`: `len` bytes from `src` of one memory to `dst` of another
/// (or the same: the ranges may overlap).
///
/// # Safety
/// Each base points to its size in bytes, writable for the destination.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub unsafe fn memory_copy(
    dst_base: *mut u8,
    dst_size: usize,
    src_base: *const u8,
    src_size: usize,
    dst: u32,
    src: u32,
    len: u32,
) -> Result<(), TrapCode> {
    let to = memory_range(dst_size, dst, len)?;
    let from = memory_range(src_size, src, len)?;
    // SAFETY: both ranges were checked; `copy` allows overlap.
    unsafe { core::ptr::copy(src_base.add(from), dst_base.add(to), len as usize) };
    Ok(())
}

/// `memory.init`: `len` bytes from `src` of data segment `segment` to `dst`
/// of the memory.
///
/// # Safety
/// `base` points to `size` writable bytes; `segment` describes `len`
/// readable bytes (0 once dropped), never inside linear memory.
#[inline(always)]
pub unsafe fn memory_init(
    base: *mut u8,
    size: usize,
    segment: *const VMDataSegment,
    dst: u32,
    src: u32,
    len: u32,
) -> Result<(), TrapCode> {
    // SAFETY: the caller guarantees the segment descriptor is readable.
    let (seg_ptr, seg_len) = unsafe { ((*segment).ptr, (*segment).len) };
    let to = memory_range(size, dst, len)?;
    let from = memory_range(seg_len, src, len)?;
    if len > 0 {
        // SAFETY: both ranges were checked; a zero-length copy is skipped so
        // a dropped segment's null pointer is never used.
        unsafe { core::ptr::copy_nonoverlapping(seg_ptr.add(from), base.add(to), len as usize) };
    }
    Ok(())
}

/// `data.drop`: the segment behaves as empty from now on.
///
/// # Safety
/// `segment` is a live, writable descriptor.
#[inline(always)]
pub unsafe fn data_drop(segment: *mut VMDataSegment) {
    // SAFETY: forwarded to the caller.
    unsafe { (*segment).len = 0 }
}

/// `table.fill`: `len` elements at `dst` become `value`.
///
/// # Safety
/// `table` is a live table definition.
#[inline(always)]
pub unsafe fn table_fill(
    table: *mut VMTableDefinition,
    dst: u32,
    value: u64,
    len: u32,
) -> Result<(), TrapCode> {
    // SAFETY: the caller guarantees the definition; the range was checked
    // against its current size.
    unsafe {
        let start = table_range((*table).current_elements, dst, len)?;
        let base = (*table).base;
        for i in start..start + len as usize {
            base.add(i).write(value);
        }
    }
    Ok(())
}

/// `table.copy`: `len` elements from `src` of one table to `dst` of another
/// (or the same: the ranges may overlap).
///
/// # Safety
/// Both are live table definitions.
#[inline(always)]
pub unsafe fn table_copy(
    dst_table: *mut VMTableDefinition,
    src_table: *const VMTableDefinition,
    dst: u32,
    src: u32,
    len: u32,
) -> Result<(), TrapCode> {
    // SAFETY: the caller guarantees the definitions; both ranges were
    // checked; `copy` allows overlap.
    unsafe {
        let to = table_range((*dst_table).current_elements, dst, len)?;
        let from = table_range((*src_table).current_elements, src, len)?;
        if len > 0 {
            core::ptr::copy(
                (*src_table).base.add(from),
                (*dst_table).base.add(to),
                len as usize,
            );
        }
    }
    Ok(())
}

/// `table.init`: `len` elements from `src` of element segment `segment` to
/// `dst` of the table.
///
/// # Safety
/// `table` is a live table definition, `segment` a live descriptor of
/// `len` elements (0 once dropped).
#[inline(always)]
pub unsafe fn table_init(
    table: *mut VMTableDefinition,
    segment: *const VMElemSegment,
    dst: u32,
    src: u32,
    len: u32,
) -> Result<(), TrapCode> {
    // SAFETY: the caller guarantees both; both ranges were checked and a
    // zero-length copy never touches a dropped segment's pointer.
    unsafe {
        let to = table_range((*table).current_elements, dst, len)?;
        let from = table_range((*segment).len, src, len)?;
        if len > 0 {
            core::ptr::copy_nonoverlapping(
                (*segment).ptr.add(from),
                (*table).base.add(to),
                len as usize,
            );
        }
    }
    Ok(())
}

/// `elem.drop`: the segment behaves as empty from now on.
///
/// # Safety
/// `segment` is a live, writable descriptor.
#[inline(always)]
pub unsafe fn elem_drop(segment: *mut VMElemSegment) {
    // SAFETY: forwarded to the caller.
    unsafe { (*segment).len = 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_the_spec() {
        assert_eq!(range(4, 4, 0), Some(4));
        assert_eq!(range(4, 5, 0), None);
        assert_eq!(range(4, 2, 2), Some(2));
        assert_eq!(range(4, u32::MAX, u32::MAX), None);
        assert_eq!(table_range(4, 5, 0), Err(TrapCode::TableOutOfBounds));
    }

    #[test]
    fn out_of_bounds_operations_write_nothing() {
        let mut bytes = [1u8; 8];
        // SAFETY: `bytes` is 8 writable bytes.
        unsafe {
            let base = bytes.as_mut_ptr();
            assert_eq!(
                memory_fill(base, 8, 4, 9, 5),
                Err(TrapCode::MemoryOutOfBounds)
            );
            assert_eq!(
                memory_copy(base, 8, base, 8, 0, 4, 5),
                Err(TrapCode::MemoryOutOfBounds)
            );
            assert_eq!(
                memory_fill(base, 8, 9, 0, 0),
                Err(TrapCode::MemoryOutOfBounds)
            );
            assert_eq!(memory_fill(base, 8, 8, 0, 0), Ok(()));
        }
        assert_eq!(bytes, [1; 8]);
    }

    #[test]
    fn overlapping_copies_and_dropped_segments() {
        let mut bytes = [0, 1, 2, 3, 4, 5, 6, 7u8];
        let data = [9u8, 9, 9];
        let mut seg = VMDataSegment {
            ptr: data.as_ptr(),
            len: 3,
        };
        // SAFETY: `bytes` is 8 writable bytes, `seg` describes `data`.
        unsafe {
            let base = bytes.as_mut_ptr();
            memory_copy(base, 8, base, 8, 2, 0, 4).unwrap();
            assert_eq!(bytes, [0, 1, 0, 1, 2, 3, 6, 7]);
            let base = bytes.as_mut_ptr();
            memory_init(base, 8, &seg, 6, 1, 2).unwrap();
            assert_eq!(bytes[6..], [9, 9]);
            data_drop(&mut seg);
            let base = bytes.as_mut_ptr();
            assert_eq!(memory_init(base, 8, &seg, 0, 0, 0), Ok(()));
            assert_eq!(
                memory_init(base, 8, &seg, 0, 0, 1),
                Err(TrapCode::MemoryOutOfBounds)
            );
        }
    }
}
