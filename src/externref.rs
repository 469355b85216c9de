//! `ExternRef`: an opaque reference to a host object, as WebAssembly's
//! `externref` values.
//!
//! The object is owned by the store; WebAssembly code only ever sees a
//! 64-bit handle (its index in the store's list plus one, so that 0 is
//! null) and can pass it around, store it in tables and globals, and hand
//! it back to the host. Objects live until the store is dropped (Kiln has
//! no reference-counting or tracing collector for them yet).

use crate::store::StoreId;
use crate::store::StoreOpaque;
use crate::{AsContextMut, StoreContext};
use anyhow::{Result, anyhow};
use std::any::Any;

/// A reference to a host object owned by a store.
#[derive(Debug, Clone, Copy)]
pub struct ExternRef {
    store: StoreId,
    /// Index in the store's `externrefs`.
    index: u32,
}

impl ExternRef {
    /// Moves `value` into the store and returns a reference to it.
    pub fn new<T>(mut store: impl AsContextMut, value: T) -> Result<ExternRef>
    where
        T: Any + Send + Sync + 'static,
    {
        let mut store = store.as_context_mut();
        let store = store.opaque_mut();
        // Handles are `index + 1` and must fit in a `u32` index.
        let index = StoreOpaque::next_index(store.externrefs.len(), "externrefs")?;
        if index == u32::MAX {
            return Err(anyhow!("too many externrefs in one store"));
        }
        store.externrefs.push(Box::new(value));
        Ok(ExternRef {
            store: store.id,
            index,
        })
    }

    /// The host object this reference points to. (Always `Some` in Kiln:
    /// every `externref` is made by [`ExternRef::new`] with a host object;
    /// the `Option` is wasmtime's, whose GC proposal has others.) Fails if
    /// the reference belongs to another store.
    pub fn data<'a, T: 'static>(
        &self,
        store: impl Into<StoreContext<'a, T>>,
    ) -> Result<Option<&'a (dyn Any + Send + Sync)>> {
        let store = store.into().opaque();
        self.check_store(store.id)?;
        let object = store.externrefs.get(self.index as usize);
        Ok(Some(
            &**object.ok_or_else(|| anyhow!("invalid externref handle"))?,
        ))
    }

    /// The host object this reference points to, mutably (always `Some`,
    /// as for [`ExternRef::data`]). Fails if the reference belongs to
    /// another store.
    pub fn data_mut<'a, T: 'static>(
        &self,
        store: impl Into<crate::StoreContextMut<'a, T>>,
    ) -> Result<Option<&'a mut (dyn Any + Send + Sync)>> {
        let store = store.into().into_opaque_mut();
        self.check_store(store.id)?;
        let object = store.externrefs.get_mut(self.index as usize);
        Ok(Some(
            &mut **object.ok_or_else(|| anyhow!("invalid externref handle"))?,
        ))
    }

    /// Fails unless this reference belongs to store `store`.
    pub(crate) fn check_store(&self, store: StoreId) -> Result<()> {
        if self.store != store {
            return Err(anyhow!(
                "externref used with the wrong store: cross-`Store` values are not supported"
            ));
        }
        Ok(())
    }

    /// The raw handle running code sees (never 0).
    pub(crate) fn to_handle(self) -> u64 {
        u64::from(self.index) + 1
    }

    /// The reference for a raw handle of store `store` (0 is null).
    pub(crate) fn from_handle(store: StoreId, handle: u64) -> Option<ExternRef> {
        let index = u32::try_from(handle.checked_sub(1)?).ok()?;
        Some(ExternRef { store, index })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AsContext, Engine, Store};

    #[test]
    fn holds_host_data_and_rejects_other_stores() {
        let engine = Engine::default();
        let mut store = Store::new(&engine, ());
        let mut other = Store::new(&engine, ());
        let r = ExternRef::new(&mut store, 42u32).unwrap();
        assert_eq!(
            r.data(&store).unwrap().unwrap().downcast_ref::<u32>(),
            Some(&42)
        );
        *r.data_mut(&mut store)
            .unwrap()
            .unwrap()
            .downcast_mut::<u32>()
            .unwrap() = 7;
        assert_eq!(
            r.data(&store).unwrap().unwrap().downcast_ref::<u32>(),
            Some(&7)
        );
        assert!(r.data(&other).is_err());
        assert!(r.data_mut(&mut other).is_err());

        let id = store.as_context().opaque().id;
        let handle = r.to_handle();
        assert_ne!(handle, 0);
        let back = ExternRef::from_handle(id, handle).unwrap();
        assert_eq!(
            back.data(&store).unwrap().unwrap().downcast_ref::<u32>(),
            Some(&7)
        );
        assert!(ExternRef::from_handle(id, 0).is_none());
    }
}
