//! `TableObject`: the storage behind a table.
//!
//! Elements are raw 64-bit reference slots — a `*const VMFuncRef` for
//! `funcref` tables, the store's externref handle for `externref` tables,
//! 0 for null — so running code reads and writes them without conversion.
//! Like [`MemoryObject`](super::memory::MemoryObject), the object is
//! `#[repr(C)]` with its [`VMTableDefinition`] first, so the `table.grow`
//! builtin can find it from the definition's address.

use super::pooling::Lease;
use crate::ResourceLimiter;
use crate::types::TableType;
use anyhow::{Result, anyhow, bail};
use kiln_vm::VMTableDefinition;

/// The most elements a table may hold. Far beyond what real programs use,
/// small enough that a runaway `table.grow` fails instead of exhausting
/// memory.
pub(crate) const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

/// Where a table's elements come from.
pub(crate) enum TableStorage {
    /// A fresh vector, freed with the table.
    OnDemand,
    /// A pooling-allocator slot: its kept (empty) vector, the slot's
    /// element limit, and the lease that takes the vector back.
    Pooled {
        elements: Vec<u64>,
        max_elements: u64,
        lease: Lease<Vec<u64>>,
    },
}

/// A table's elements and limits.
#[repr(C)]
pub(crate) struct TableObject {
    /// Must stay the first field; mirrors `elements` (see `sync`).
    pub(crate) def: VMTableDefinition,
    elements: Vec<u64>,
    /// The declared type.
    ty: TableType,
    /// The allocator's element limit (pooling), if any.
    allocator_max: Option<u64>,
    /// The pool slot the elements return to when the table is dropped.
    lease: Option<Lease<Vec<u64>>>,
}

// SAFETY: the object owns its elements; `def` is only a view of them.
unsafe impl Send for TableObject {}
// SAFETY: shared access only reads.
unsafe impl Sync for TableObject {}

impl TableObject {
    /// A table of type `ty` with `ty.minimum()` elements set to `init`,
    /// allocated on demand.
    pub(crate) fn new(ty: &TableType, init: u64) -> Result<TableObject> {
        TableObject::with_storage(ty, init, TableStorage::OnDemand)
    }

    /// A table of type `ty` with `ty.minimum()` elements set to `init`, in
    /// `storage`.
    pub(crate) fn with_storage(
        ty: &TableType,
        init: u64,
        storage: TableStorage,
    ) -> Result<TableObject> {
        if ty.minimum() > MAX_TABLE_ELEMENTS {
            bail!(
                "table minimum size of {} elements exceeds table limits",
                ty.minimum()
            );
        }
        let (mut elements, allocator_max, lease) = match storage {
            TableStorage::OnDemand => (Vec::new(), None, None),
            TableStorage::Pooled {
                elements,
                max_elements,
                lease,
            } => (elements, Some(max_elements), Some(lease)),
        };
        elements.clear();
        let mut table = TableObject {
            def: VMTableDefinition {
                base: std::ptr::NonNull::dangling().as_ptr(),
                current_elements: 0,
            },
            elements,
            ty: ty.clone(),
            allocator_max,
            lease,
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

    /// The largest number of elements: the declared maximum, Kiln's sanity
    /// limit and the allocator's limit, whichever is smallest.
    fn max_elements(&self) -> u64 {
        let mut max = self
            .ty
            .maximum()
            .unwrap_or(MAX_TABLE_ELEMENTS)
            .min(MAX_TABLE_ELEMENTS);
        if let Some(limit) = self.allocator_max {
            max = max.min(limit);
        }
        max
    }

    /// The maximum reported to a resource limiter: the declared maximum and
    /// the allocator's limit, if either exists.
    pub(crate) fn limiter_maximum(ty: &TableType, allocator_max: Option<u64>) -> Option<usize> {
        let max = match (ty.maximum(), allocator_max) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        Some(usize::try_from(max).unwrap_or(usize::MAX))
    }

    /// Grows by `delta` elements set to `init`, returning the old size, or
    /// `None` (leaving the table unchanged) past the maximum or on
    /// allocation failure. Does not consult any resource limiter.
    pub(crate) fn grow(&mut self, delta: u64, init: u64) -> Option<u64> {
        self.grow_to(delta, init).ok()
    }

    /// Grows by `delta` elements under `limiter`, as `table.grow` does:
    /// `Ok(Some(old_size))` on success, `Ok(None)` if refused, `Err` if the
    /// limiter turned the refusal into a trap.
    pub(crate) fn grow_limited(
        &mut self,
        delta: u64,
        init: u64,
        limiter: Option<&mut dyn ResourceLimiter>,
    ) -> Result<Option<u64>> {
        let old = self.size();
        let Some(limiter) = limiter else {
            return Ok(self.grow(delta, init));
        };
        if delta == 0 {
            return Ok(Some(old));
        }
        let desired = old
            .checked_add(delta)
            .and_then(|size| usize::try_from(size).ok());
        let Some(desired) = desired else {
            limiter.table_grow_failed(anyhow!("overflow calculating new table size"))?;
            return Ok(None);
        };
        let maximum = TableObject::limiter_maximum(&self.ty, self.allocator_max);
        if !limiter.table_growing(old as usize, desired, maximum)? {
            return Ok(None);
        }
        match self.grow_to(delta, init) {
            Ok(old) => Ok(Some(old)),
            Err(error) => {
                limiter.table_grow_failed(error)?;
                Ok(None)
            }
        }
    }

    /// Grows by `delta` elements set to `init`, or says why it cannot.
    fn grow_to(&mut self, delta: u64, init: u64) -> Result<u64> {
        let old = self.size();
        old.checked_add(delta)
            .filter(|&new| new <= self.max_elements())
            .ok_or_else(|| anyhow!("Table maximum size exceeded"))?;
        let delta = usize::try_from(delta).map_err(|_| anyhow!("Table maximum size exceeded"))?;
        self.elements
            .try_reserve_exact(delta)
            .map_err(|_| anyhow!("failed to allocate {delta} more table elements"))?;
        self.elements.resize(self.elements.len() + delta, init);
        self.sync();
        Ok(old)
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

impl Drop for TableObject {
    fn drop(&mut self) {
        if let Some(lease) = self.lease.take() {
            // Reset for the next tenant: no reference of this one survives.
            self.elements.fill(0);
            self.elements.clear();
            lease.release(Some(std::mem::take(&mut self.elements)));
        }
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
