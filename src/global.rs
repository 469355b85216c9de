//! `Global`: a handle to a global variable.
//!
//! Globals defined by a module live in the instance's vmctx; globals the
//! host creates live in a slot owned by the store. Either way the store's
//! [`GlobalRecord`] knows the type and where the value is, and every
//! importer shares the same storage.

use crate::runtime::global::GlobalRecord;
use crate::store::{StoreId, StoreOpaque};
use crate::{AsContext, AsContextMut, GlobalType, Mutability, Val};
use anyhow::{Result, bail};

/// A WebAssembly global, owned by a store.
#[derive(Copy, Clone, Debug)]
pub struct Global {
    store: StoreId,
    index: u32,
}

impl Global {
    /// Creates a global of type `ty` holding `value` in `store`.
    pub fn new(mut store: impl AsContextMut, ty: GlobalType, value: Val) -> Result<Global> {
        let mut store = store.as_context_mut();
        let store = store.opaque_mut();
        let raw = checked_raw(store, &ty, &value)?;
        Global::from_record(store, GlobalRecord::new_owned(ty, raw))
    }

    /// The global's type.
    ///
    /// # Panics
    /// If the global belongs to another store (wasmtime's signature has no
    /// room for an error).
    pub fn ty(&self, store: impl AsContext) -> GlobalType {
        self.expect_record(store.as_context().opaque()).ty.clone()
    }

    /// The global's current value.
    ///
    /// # Panics
    /// If the global belongs to another store.
    pub fn get(&self, mut store: impl AsContextMut) -> Val {
        let store = store.as_context_mut();
        let record = self.expect_record(store.opaque());
        // A record's type is one Kiln can represent (checked when created).
        Val::from_vm_raw(self.store, record.get_raw(), *record.ty.content()).unwrap_or(Val::I32(0))
    }

    /// Sets the global to `value`. Fails if the global is immutable, the
    /// value has another type, or it is a reference from another store.
    pub fn set(&self, mut store: impl AsContextMut, value: Val) -> Result<()> {
        let mut store = store.as_context_mut();
        let store = store.opaque_mut();
        let ty = self.record(store)?.ty.clone();
        if ty.mutability() == Mutability::Const {
            bail!("immutable global cannot be set");
        }
        let raw = checked_raw(store, &ty, &value)?;
        store.globals[self.index as usize].set_raw(raw);
        Ok(())
    }

    /// Adds `record` to `store`.
    pub(crate) fn from_record(store: &mut StoreOpaque, record: GlobalRecord) -> Result<Global> {
        let index = StoreOpaque::next_index(store.globals.len(), "globals")?;
        store.globals.push(record);
        Ok(Global {
            store: store.id,
            index,
        })
    }

    /// The global's record, checking the store.
    pub(crate) fn record<'a>(&self, store: &'a StoreOpaque) -> Result<&'a GlobalRecord> {
        store.check(self.store, "global")?;
        Ok(&store.globals[self.index as usize])
    }

    #[track_caller]
    fn expect_record<'a>(&self, store: &'a StoreOpaque) -> &'a GlobalRecord {
        store.assert_owns(self.store, "global");
        &store.globals[self.index as usize]
    }

    /// The id of the owning store.
    pub(crate) fn store_id(&self) -> StoreId {
        self.store
    }
}

/// `value` as the raw contents of a global of type `ty` in `store`.
fn checked_raw(store: &StoreOpaque, ty: &GlobalType, value: &Val) -> Result<kiln_vm::ValRaw> {
    if ty.content().is_v128() {
        bail!("v128 globals are not supported");
    }
    let raw = value.to_vm_raw(store.id)?;
    if !value.ty_unchecked().matches(ty.content()) {
        bail!(
            "global of type `{}` cannot be set to a value of type `{}`",
            ty.content(),
            value.ty_unchecked()
        );
    }
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Engine, Store, ValType};

    #[test]
    fn get_set_and_mutability() {
        let engine = Engine::default();
        let mut store = Store::new(&engine, ());
        let var = Global::new(
            &mut store,
            GlobalType::new(ValType::I64, Mutability::Var),
            Val::I64(1),
        )
        .unwrap();
        assert_eq!(var.get(&mut store).unwrap_i64(), 1);
        var.set(&mut store, Val::I64(-9)).unwrap();
        assert_eq!(var.get(&mut store).unwrap_i64(), -9);
        let err = var.set(&mut store, Val::I32(0)).unwrap_err();
        assert!(err.to_string().contains("cannot be set"), "{err}");

        let constant = Global::new(
            &mut store,
            GlobalType::new(ValType::F32, Mutability::Const),
            1.5f32.into(),
        )
        .unwrap();
        assert_eq!(constant.get(&mut store).unwrap_f32(), 1.5);
        let err = constant.set(&mut store, 2.0f32.into()).unwrap_err();
        assert!(err.to_string().contains("immutable"), "{err}");
        assert!(
            Global::new(
                &mut store,
                GlobalType::new(ValType::I32, Mutability::Const),
                Val::I64(0)
            )
            .is_err()
        );
        assert_eq!(
            constant.ty(&store),
            GlobalType::new(ValType::F32, Mutability::Const)
        );

        let mut other = Store::new(&engine, ());
        assert!(var.set(&mut other, Val::I64(0)).is_err());
    }
}
