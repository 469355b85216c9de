//! Tables: `table.get`, `table.set`, `table.size`, `table.grow`,
//! `table.fill`, `table.copy`, `table.init`, `elem.drop`, and the element
//! lookup of `call_indirect`.
//!
//! Elements are 64-bit reference slots (a `*const VMFuncRef` or an
//! externref handle, 0 = null). Bulk operations check their whole ranges
//! first and trap with `TableOutOfBounds` before writing anything.

use super::Fault;
use super::regs::{Regs, trap};
use crate::bytecode::Slot;
use crate::vm::{TrapCode, VMBuiltins, VMContext, VMFuncRef, VMTableDefinition};

/// Index of the range `start .. start + len` of a table with `size`
/// elements, or `TableOutOfBounds`.
#[inline(always)]
fn range(size: usize, start: u32, len: u32) -> Result<usize, TrapCode> {
    if start as u64 + len as u64 <= size as u64 {
        Ok(start as usize)
    } else {
        trap(TrapCode::TableOutOfBounds)
    }
}

/// Table `table` of `vmctx`.
///
/// # Safety
/// `vmctx` is live and `table` is one of its tables.
#[inline(always)]
unsafe fn def(vmctx: *mut VMContext, table: u32) -> *mut VMTableDefinition {
    // SAFETY: forwarded to the caller.
    unsafe { (*vmctx).table(table) }
}

/// `table.get`.
///
/// # Safety
/// `vmctx` is live, `table` is one of its tables, the slots are in the frame.
#[inline(always)]
pub(super) unsafe fn table_get(
    vmctx: *mut VMContext,
    r: Regs,
    dst: Slot,
    index: Slot,
    table: u32,
) -> Result<(), TrapCode> {
    // SAFETY: the caller guarantees the table and slots; the element index
    // was checked against the table's current size.
    unsafe {
        let t = def(vmctx, table);
        let i = range((*t).current_elements, r.get_u32(index), 1)?;
        r.set(dst, (*t).base.add(i).read());
    }
    Ok(())
}

/// `table.set`.
///
/// # Safety
/// `vmctx` is live, `table` is one of its tables, the slots are in the frame.
#[inline(always)]
pub(super) unsafe fn table_set(
    vmctx: *mut VMContext,
    r: Regs,
    index: Slot,
    value: Slot,
    table: u32,
) -> Result<(), TrapCode> {
    // SAFETY: as for `table_get`.
    unsafe {
        let t = def(vmctx, table);
        let i = range((*t).current_elements, r.get_u32(index), 1)?;
        (*t).base.add(i).write(r.get(value));
    }
    Ok(())
}

/// `table.size`.
///
/// # Safety
/// `vmctx` is live, `table` is one of its tables, `dst` is in the frame.
#[inline(always)]
pub(super) unsafe fn table_size(vmctx: *mut VMContext, r: Regs, dst: Slot, table: u32) {
    // SAFETY: forwarded to the caller.
    unsafe { r.put(dst, (*def(vmctx, table)).current_elements as u32) }
}

/// `table.grow` through the runtime's builtin: the old size, or -1 if
/// refused; `Fault::Pending` if the builtin trapped.
///
/// # Safety
/// `vmctx` is live, `table` is one of its tables, the slots are in the frame.
#[inline(never)]
pub(super) unsafe fn table_grow(
    vmctx: *mut VMContext,
    r: Regs,
    dst: Slot,
    init: Slot,
    delta: Slot,
    table: u32,
) -> Result<(), Fault> {
    // SAFETY: the caller guarantees vmctx, the table and the slots;
    // `builtins` is the store's static table.
    unsafe {
        let delta = r.get_u32(delta) as u64;
        let old = ((*(*vmctx).builtins).table_grow)(vmctx, table, delta, r.get(init));
        match old {
            VMBuiltins::GROW_TRAPPED => return Err(Fault::Pending),
            VMBuiltins::GROW_FAILED => r.put(dst, -1i32),
            size => r.put(dst, size as u32),
        }
    }
    Ok(())
}

/// `table.fill`.
///
/// # Safety
/// `vmctx` is live, `table` is one of its tables, the slots are in the frame.
#[inline(always)]
pub(super) unsafe fn table_fill(
    vmctx: *mut VMContext,
    r: Regs,
    table: u32,
    dst: Slot,
    value: Slot,
    len: Slot,
) -> Result<(), TrapCode> {
    // SAFETY: the caller guarantees the table and slots; the range was
    // checked against the table's current size.
    unsafe {
        let t = def(vmctx, table);
        let n = r.get_u32(len) as usize;
        let start = range((*t).current_elements, r.get_u32(dst), n as u32)?;
        let v = r.get(value);
        for i in start..start + n {
            (*t).base.add(i).write(v);
        }
    }
    Ok(())
}

/// `table.copy` (the ranges may overlap when the tables are the same).
///
/// # Safety
/// `vmctx` is live, both tables are its tables, the slots are in the frame.
#[inline(always)]
pub(super) unsafe fn table_copy(
    vmctx: *mut VMContext,
    r: Regs,
    dst_table: u32,
    src_table: u32,
    dst: Slot,
    src: Slot,
    len: Slot,
) -> Result<(), TrapCode> {
    // SAFETY: the caller guarantees the tables and slots; both ranges were
    // checked; `ptr::copy` allows overlap; the count is non-zero, so the
    // base pointers are those of non-empty element arrays.
    unsafe {
        let (d, s) = (def(vmctx, dst_table), def(vmctx, src_table));
        let n = r.get_u32(len);
        let to = range((*d).current_elements, r.get_u32(dst), n)?;
        let from = range((*s).current_elements, r.get_u32(src), n)?;
        if n > 0 {
            core::ptr::copy((*s).base.add(from), (*d).base.add(to), n as usize);
        }
    }
    Ok(())
}

/// `table.init` from element segment `elem`.
///
/// # Safety
/// `vmctx` is live, `table` and `elem` are its table and element segment,
/// the slots are in the frame.
#[inline(always)]
pub(super) unsafe fn table_init(
    vmctx: *mut VMContext,
    r: Regs,
    table: u32,
    elem: u32,
    dst: Slot,
    src: Slot,
    len: Slot,
) -> Result<(), TrapCode> {
    // SAFETY: the caller guarantees the indices and slots; both ranges were
    // checked (the segment has `len` readable elements, 0 once dropped);
    // empty copies are skipped so null pointers are never used; segments
    // never alias tables.
    unsafe {
        let t = def(vmctx, table);
        let seg = (*vmctx).elem_segment(elem);
        let n = r.get_u32(len);
        let to = range((*t).current_elements, r.get_u32(dst), n)?;
        let from = range((*seg).len, r.get_u32(src), n)?;
        if n > 0 {
            core::ptr::copy_nonoverlapping((*seg).ptr.add(from), (*t).base.add(to), n as usize);
        }
    }
    Ok(())
}

/// `elem.drop`: the segment's length becomes 0.
///
/// # Safety
/// `vmctx` is live and `elem` is one of its element segments.
#[inline(always)]
pub(super) unsafe fn elem_drop(vmctx: *mut VMContext, elem: u32) {
    // SAFETY: forwarded to the caller.
    unsafe { (*(*vmctx).elem_segment(elem)).len = 0 }
}

/// The function `call_indirect` calls: element `index` of `table`, which
/// must be non-null and of module type `type_index`.
///
/// # Safety
/// `vmctx` is live, `table` is one of its (funcref) tables, `type_index` one
/// of its types, `index` is in the frame.
#[inline(always)]
pub(super) unsafe fn indirect_target(
    vmctx: *mut VMContext,
    r: Regs,
    type_index: u32,
    table: u32,
    index: Slot,
) -> Result<*const VMFuncRef, TrapCode> {
    // SAFETY: the caller guarantees the indices and slot; the element index
    // is checked; a non-null funcref element points at a live `VMFuncRef`.
    unsafe {
        let t = def(vmctx, table);
        let i = range((*t).current_elements, r.get_u32(index), 1)?;
        let f = (*t).base.add(i).read() as *const VMFuncRef;
        if f.is_null() {
            return trap(TrapCode::IndirectCallToNull);
        }
        if (*f).type_index != (*vmctx).type_id(type_index) {
            return trap(TrapCode::BadSignature);
        }
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_the_spec() {
        assert_eq!(range(4, 4, 0), Ok(4));
        assert_eq!(range(4, 5, 0), Err(TrapCode::TableOutOfBounds));
        assert_eq!(range(4, 2, 2), Ok(2));
        assert_eq!(
            range(4, u32::MAX, u32::MAX),
            Err(TrapCode::TableOutOfBounds)
        );
    }
}
