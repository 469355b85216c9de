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
use crate::vm::{TrapCode, VMBuiltins, VMContext, VMFuncRef, VMTableDefinition, bulk};

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
    unsafe { VMContext::table(vmctx, table) }
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

/// `table.fill` ([`bulk::table_fill`]).
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
    // SAFETY: forwarded to the caller.
    unsafe {
        bulk::table_fill(
            def(vmctx, table),
            r.get_u32(dst),
            r.get(value),
            r.get_u32(len),
        )
    }
}

/// `table.copy` ([`bulk::table_copy`]).
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
    // SAFETY: forwarded to the caller.
    unsafe {
        let (d, s) = (def(vmctx, dst_table), def(vmctx, src_table));
        bulk::table_copy(d, s, r.get_u32(dst), r.get_u32(src), r.get_u32(len))
    }
}

/// `table.init` from element segment `elem` ([`bulk::table_init`]).
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
    // SAFETY: forwarded to the caller; the segment descriptor is reached
    // through the block's raw pointer.
    unsafe {
        let seg = VMContext::elem_segment(vmctx, elem);
        bulk::table_init(
            def(vmctx, table),
            seg,
            r.get_u32(dst),
            r.get_u32(src),
            r.get_u32(len),
        )
    }
}

/// `elem.drop` ([`bulk::elem_drop`]).
///
/// # Safety
/// `vmctx` is live and `elem` is one of its element segments.
#[inline(always)]
pub(super) unsafe fn elem_drop(vmctx: *mut VMContext, elem: u32) {
    // SAFETY: forwarded to the caller.
    unsafe { bulk::elem_drop(VMContext::elem_segment(vmctx, elem)) }
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
        if (*f).type_index != VMContext::type_id(vmctx, type_index) {
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
