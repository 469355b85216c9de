//! `TableObject`: the storage behind a table.
//!
//! Elements are raw 64-bit reference slots — a `*const VMFuncRef` for
//! `funcref` tables, the store's externref handle for `externref` tables,
//! 0 for null — so running code reads and writes them without conversion.
//! Like [`MemoryObject`](super::memory::MemoryObject), the object is
//! `#[repr(C)]` with its [`VMTableDefinition`] first, so the `table.grow`
//! builtin can find it from the definition's address.

use crate::types::TableType;
use anyhow::{Result, bail};
use kiln_interp::vm::VMTableDefinition;

/// The most elements a table may hold. Far beyond what real programs use,
/// small enough that a runaway `table.grow` fails instead of exhausting
/// memory.
pub(crate) const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

/// A table's elements and limits.
#[repr(C)]
pub(crate) struct TableObject {
    /// Must stay the first field; mirrors `elements` (see `sync`).
    pub(crate) def: VMTableDefinition,
    elements: Vec<u64>,
    /// The declared type.
    ty: TableType,
}

// SAFETY: the object owns its elements; `def` is only a view of them.
unsafe impl Send for TableObject {}
// SAFETY: shared access only reads.
unsafe impl Sync for TableObject {}

impl TableObject {
    /// A table of type `ty` with `ty.minimum()` elements set to `init`.
    pub(crate) fn new(ty: &TableType, init: u64) -> Result<TableObject> {
        if ty.minimum() > MAX_TABLE_ELEMENTS {
            bail!(
                "table minimum size of {} elements exceeds table limits",
                ty.minimum()
            );
        }
        let mut table = TableObject {
            def: VMTableDefinition {
                base: std::ptr::NonNull::dangling().as_ptr(),
                current_elements: 0,
            },
            elements: Vec::new(),
            ty: ty.clone(),
        };
        if table.grow(ty.minimum(), init).is_none() {
            bail!("failed to allocate a table of {} elements", ty.minimum());
        }
        Ok(table)
    }

    /// The declared type.
    pub(crate) fn ty(&self) -> &TableType {
        &self.ty
    }

    /// Current number of elements.
    pub(crate) fn size(&self) -> u64 {
        self.elements.len() as u64
    }

    /// Grows by `delta` elements set to `init`, returning the old size, or
    /// `None` (leaving the table unchanged) past the maximum or on
    /// allocation failure.
    pub(crate) fn grow(&mut self, delta: u64, init: u64) -> Option<u64> {
        let old = self.size();
        let new = old.checked_add(delta)?;
        let max = self
            .ty
            .maximum()
            .unwrap_or(MAX_TABLE_ELEMENTS)
            .min(MAX_TABLE_ELEMENTS);
        if new > max {
            return None;
        }
        let delta = usize::try_from(delta).ok()?;
        self.elements.try_reserve_exact(delta).ok()?;
        self.elements.resize(self.elements.len() + delta, init);
        self.sync();
        Some(old)
    }

    /// The elements.
    pub(crate) fn elements(&self) -> &[u64] {
        &self.elements
    }

    /// The elements, writable.
    pub(crate) fn elements_mut(&mut self) -> &mut [u64] {
        &mut self.elements
    }

    /// The address of the definition that instances point at.
    pub(crate) fn def_ptr(this: *mut TableObject) -> *mut VMTableDefinition {
        // `def` is the first field of a `repr(C)` struct.
        this.cast()
    }

    /// Points the definition at the current elements.
    fn sync(&mut self) {
        self.def.base = self.elements.as_mut_ptr();
        self.def.current_elements = self.elements.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RefType;

    #[test]
    fn grows_within_limits_and_tracks_the_definition() {
        let mut table = TableObject::new(&TableType::new(RefType::FUNCREF, 2, Some(5)), 0).unwrap();
        assert_eq!(table.size(), 2);
        assert_eq!(table.grow(3, 9), Some(2));
        assert_eq!(table.elements(), &[0, 0, 9, 9, 9]);
        assert_eq!(table.def.current_elements, 5);
        assert_eq!(table.def.base as *const u64, table.elements().as_ptr());
        assert_eq!(table.grow(1, 0), None);
        table.elements_mut()[0] = 4;
        assert_eq!(table.elements()[0], 4);
    }

    #[test]
    fn unbounded_tables_stop_at_the_sanity_limit() {
        let mut table = TableObject::new(&TableType::new(RefType::EXTERNREF, 0, None), 0).unwrap();
        assert_eq!(table.grow(MAX_TABLE_ELEMENTS + 1, 0), None);
        assert_eq!(table.grow(u64::MAX, 0), None);
        assert!(TableObject::new(&TableType::new(RefType::FUNCREF, u32::MAX, None), 0).is_err());
    }
}
