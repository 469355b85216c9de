//! `Table`: a handle to a table of references.
//!
//! The elements live in a [`TableObject`] owned by the store as raw 64-bit
//! reference slots; this handle converts between those and [`Ref`] values,
//! checking that references belong to the table's store and match its
//! element type.

use crate::runtime::stable_box::StableBox;
use crate::runtime::table::TableObject;
use crate::store::{StoreId, StoreOpaque};
use crate::{AsContext, AsContextMut, Ref, TableType};
use anyhow::{Result, bail};

/// A WebAssembly table, owned by a store.
#[derive(Copy, Clone, Debug)]
pub struct Table {
    store: StoreId,
    index: u32,
}

impl Table {
    /// Creates a table of type `ty` in `store`, its `ty.minimum()` elements
    /// set to `init`.
    pub fn new(mut store: impl AsContextMut, ty: TableType, init: Ref) -> Result<Table> {
        let mut store = store.as_context_mut();
        let store = store.opaque_mut();
        let init = element_raw(store, ty.element(), &init)?;
        Table::create(store, &ty, init)
    }

    /// The table's type (its declared limits).
    ///
    /// # Panics
    /// If the table belongs to another store (wasmtime's signature has no
    /// room for an error).
    pub fn ty(&self, store: impl AsContext) -> TableType {
        self.expect_object(store.as_context().opaque()).ty().clone()
    }

    /// Current number of elements.
    ///
    /// # Panics
    /// If the table belongs to another store.
    pub fn size(&self, store: impl AsContext) -> u64 {
        self.expect_object(store.as_context().opaque()).size()
    }

    /// Element `index`, or `None` if out of bounds (or if the table belongs
    /// to another store).
    pub fn get(&self, mut store: impl AsContextMut, index: u64) -> Option<Ref> {
        let store = store.as_context_mut();
        let table = self.object(store.opaque()).ok()?;
        let raw = *table.elements().get(usize::try_from(index).ok()?)?;
        Some(Ref::from_raw(self.store, raw, table.ty().element()))
    }

    /// Sets element `index` to `value`.
    pub fn set(&self, mut store: impl AsContextMut, index: u64, value: Ref) -> Result<()> {
        let mut store = store.as_context_mut();
        let store = store.opaque_mut();
        let raw = element_raw(store, self.object(store)?.ty().element(), &value)?;
        let table = store.tables[self.index as usize].get_mut();
        let slot = usize::try_from(index)
            .ok()
            .and_then(|i| table.elements_mut().get_mut(i));
        match slot {
            Some(slot) => *slot = raw,
            None => bail!("table element index {index} out of bounds"),
        }
        Ok(())
    }

    /// Grows the table by `delta` elements set to `init`, returning the
    /// previous size. Fails (leaving the table unchanged) beyond its maximum,
    /// Kiln's limit of ten million elements or the pooling allocator's
    /// limit, or if the store's [`ResourceLimiter`](crate::ResourceLimiter)
    /// refuses.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64, init: Ref) -> Result<u64> {
        let mut store = store.as_context_mut();
        let store = store.opaque_mut();
        let init = element_raw(store, self.object(store)?.ty().element(), &init)?;
        let limiter = store.limiter_ptr();
        // SAFETY: the limiter lives in the store's data, which nothing else
        // accesses during this call and which the table object does not
        // overlap.
        let limiter = limiter.map(|ptr| unsafe { &mut *ptr.as_ptr() });
        let object = store.tables[self.index as usize].get_mut();
        match object.grow_limited(delta, init, limiter)? {
            Some(old) => Ok(old),
            None => bail!("failed to grow table by `{delta}`"),
        }
    }

    /// Sets `len` elements starting at `dst` to `value`.
    pub fn fill(&self, mut store: impl AsContextMut, dst: u64, value: Ref, len: u64) -> Result<()> {
        let mut store = store.as_context_mut();
        let store = store.opaque_mut();
        let raw = element_raw(store, self.object(store)?.ty().element(), &value)?;
        let table = store.tables[self.index as usize].get_mut();
        let range = usize::try_from(dst).ok().zip(usize::try_from(len).ok());
        let slots =
            range.and_then(|(dst, len)| table.elements_mut().get_mut(dst..dst.checked_add(len)?));
        match slots {
            Some(slots) => slots.fill(raw),
            None => bail!("table fill of {len} elements at {dst} out of bounds"),
        }
        Ok(())
    }

    /// Copies `len` elements of `src_table` starting at `src_index` to
    /// `dst_table` starting at `dst_index`, which may be the same table with
    /// overlapping ranges. Fails, copying nothing, if either range is out of
    /// bounds, if the source's elements do not fit the destination's
    /// element type, or if a table belongs to another store.
    pub fn copy(
        mut store: impl AsContextMut,
        dst_table: &Table,
        dst_index: u64,
        src_table: &Table,
        src_index: u64,
        len: u64,
    ) -> Result<()> {
        let mut store = store.as_context_mut();
        let store = store.opaque_mut();
        let src_ty = *src_table.object(store)?.ty().element();
        let dst_ty = *dst_table.object(store)?.ty().element();
        if !src_ty.matches(&dst_ty) {
            bail!(
                "type mismatch: source table's element type `{src_ty}` does not match \
                 destination table's element type `{dst_ty}`"
            );
        }
        let range = |start: u64, size: u64| {
            let start = usize::try_from(start).ok()?;
            let end = start.checked_add(usize::try_from(len).ok()?)?;
            (end as u64 <= size).then_some(start..end)
        };
        let src_size = src_table.object(store)?.size();
        let dst_size = dst_table.object(store)?.size();
        let (Some(src), Some(dst)) = (range(src_index, src_size), range(dst_index, dst_size))
        else {
            bail!(
                "table copy of {len} elements from {src_index} (table size {src_size}) to \
                 {dst_index} (table size {dst_size}) out of bounds"
            );
        };
        if src_table.index == dst_table.index {
            let table = store.tables[dst_table.index as usize].get_mut();
            table.elements_mut().copy_within(src, dst.start);
        } else {
            let values = store.tables[src_table.index as usize].get().elements()[src].to_vec();
            let table = store.tables[dst_table.index as usize].get_mut();
            table.elements_mut()[dst].copy_from_slice(&values);
        }
        Ok(())
    }

    /// Creates a table object in `store`.
    pub(crate) fn create(store: &mut StoreOpaque, ty: &TableType, init: u64) -> Result<Table> {
        let index = StoreOpaque::next_index(store.tables.len(), "tables")?;
        store
            .tables
            .push(StableBox::new(TableObject::new(ty, init)?));
        Ok(Table {
            store: store.id,
            index,
        })
    }

    /// Adds an already created table object to `store`.
    pub(crate) fn from_object(store: &mut StoreOpaque, object: TableObject) -> Result<Table> {
        let index = StoreOpaque::next_index(store.tables.len(), "tables")?;
        store.tables.push(StableBox::new(object));
        Ok(Table {
            store: store.id,
            index,
        })
    }

    /// The table's object, checking the store.
    pub(crate) fn object<'a>(&self, store: &'a StoreOpaque) -> Result<&'a TableObject> {
        store.check(self.store, "table")?;
        Ok(store.tables[self.index as usize].get())
    }

    /// The table's object address, checking the store.
    pub(crate) fn object_ptr(&self, store: &StoreOpaque) -> Result<*mut TableObject> {
        store.check(self.store, "table")?;
        Ok(store.tables[self.index as usize].as_ptr())
    }

    #[track_caller]
    fn expect_object<'a>(&self, store: &'a StoreOpaque) -> &'a TableObject {
        store.assert_owns(self.store, "table");
        store.tables[self.index as usize].get()
    }

    /// The id of the owning store.
    pub(crate) fn store_id(&self) -> StoreId {
        self.store
    }
}

/// `value` as a raw element of a table of `element` references in `store`.
fn element_raw(store: &StoreOpaque, element: &crate::RefType, value: &Ref) -> Result<u64> {
    let raw = value.to_raw(store.id)?;
    if !value.ty_unchecked().matches(element) {
        bail!(
            "type mismatch: value of type `{}` does not match table element type `{element}`",
            value.ty_unchecked()
        );
    }
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Engine, ExternRef, Func, RefType, Store};

    #[test]
    fn get_set_grow_fill() {
        let engine = Engine::default();
        let mut store = Store::new(&engine, ());
        let table = Table::new(
            &mut store,
            TableType::new(RefType::FUNCREF, 2, Some(4)),
            Ref::Func(None),
        )
        .unwrap();
        let f = Func::wrap(&mut store, || {});
        assert_eq!(table.size(&store), 2);
        assert!(table.get(&mut store, 0).unwrap().is_null());
        assert!(table.get(&mut store, 2).is_none());
        table.set(&mut store, 1, f.into()).unwrap();
        assert!(table.get(&mut store, 1).unwrap().unwrap_func().is_some());
        assert!(table.set(&mut store, 2, Ref::Func(None)).is_err());

        let r = ExternRef::new(&mut store, 1u8).unwrap();
        let err = table.set(&mut store, 0, r.into()).unwrap_err();
        assert!(err.to_string().contains("type mismatch"), "{err}");

        assert_eq!(table.grow(&mut store, 2, f.into()).unwrap(), 2);
        assert!(table.grow(&mut store, 1, Ref::Func(None)).is_err());
        assert!(table.get(&mut store, 3).unwrap().is_non_null());
        table.fill(&mut store, 0, Ref::Func(None), 4).unwrap();
        assert!(table.get(&mut store, 3).unwrap().is_null());
        assert!(table.fill(&mut store, 3, Ref::Func(None), 2).is_err());
        assert_eq!(table.ty(&store).maximum(), Some(4));
    }

    #[test]
    fn references_from_another_store_are_rejected() {
        let engine = Engine::default();
        let mut a = Store::new(&engine, ());
        let mut b = Store::new(&engine, ());
        let table = Table::new(
            &mut a,
            TableType::new(RefType::FUNCREF, 1, None),
            Ref::Func(None),
        )
        .unwrap();
        let foreign = Func::wrap(&mut b, || {});
        assert!(table.set(&mut a, 0, foreign.into()).is_err());
        assert!(table.get(&mut b, 0).is_none());
        assert!(table.grow(&mut b, 1, Ref::Func(None)).is_err());
    }
}
