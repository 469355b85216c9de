//! What a linker name is defined as, and checking a definition against an
//! import.
//!
//! A definition is either an item owned by a store (with its type, taken
//! when it was defined so imports can be type-checked without the store) or
//! a store-independent host function. Host functions are placed in a store
//! the first time that store needs them and cached there (keyed by the
//! shared definition), so instantiating many modules, or calling
//! [`Linker::get`](crate::Linker::get) repeatedly, reuses one function per
//! store instead of creating a copy each time.

use crate::func::HostFunc;
use crate::store::{StoreContextMut, StoreOpaque};
use crate::types::matching::{kind_mismatch, match_func, match_global, match_memory, match_table};
use crate::{Extern, ExternType, FuncType, GlobalType, MemoryType, TableType};
use anyhow::Result;
use std::any::Any;
use std::sync::Arc;

/// A linker definition.
pub(crate) enum Definition<T: 'static> {
    /// An item owned by a particular store, with its type when defined.
    Extern(Extern, DefinitionType),
    /// A host function, placed into each store that uses it.
    HostFunc(Arc<HostFunc<T>>),
}

impl<T: 'static> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Extern(item, ty) => Definition::Extern(*item, ty.clone()),
            Definition::HostFunc(func) => Definition::HostFunc(func.clone()),
        }
    }
}

/// The type of a store-owned definition. Tables and memories also record
/// their current size, which import matching compares against.
#[derive(Clone, Debug)]
pub(crate) enum DefinitionType {
    Func(FuncType),
    Global(GlobalType),
    Table(TableType, u64),
    Memory(MemoryType, u64),
}

impl DefinitionType {
    /// The type of `item`, which must belong to `store`.
    fn of(store: &StoreOpaque, item: &Extern) -> Result<DefinitionType> {
        Ok(match item {
            Extern::Func(f) => DefinitionType::Func(f.load_ty(store)?),
            Extern::Global(g) => DefinitionType::Global(g.record(store)?.ty.clone()),
            Extern::Table(t) => {
                let table = t.object(store)?;
                DefinitionType::Table(table.ty().clone(), table.size())
            }
            Extern::Memory(m) => {
                let memory = m.object(store)?;
                DefinitionType::Memory(memory.ty().clone(), memory.pages())
            }
        })
    }

    /// As an `ExternType` (for error messages).
    fn extern_type(&self) -> ExternType {
        match self {
            DefinitionType::Func(ty) => ty.clone().into(),
            DefinitionType::Global(ty) => ty.clone().into(),
            DefinitionType::Table(ty, _) => ty.clone().into(),
            DefinitionType::Memory(ty, _) => ty.clone().into(),
        }
    }
}

impl<T: 'static> Definition<T> {
    /// A definition of `item`, checking that it belongs to `store`.
    pub(crate) fn new(store: &StoreOpaque, item: Extern) -> Result<Definition<T>> {
        store.check(item.store_id(), "item")?;
        let ty = DefinitionType::of(store, &item)?;
        Ok(Definition::Extern(item, ty))
    }

    /// Refreshes the recorded size of a table or memory of `store`.
    pub(crate) fn update_size(&mut self, store: &StoreOpaque) {
        if let Definition::Extern(item, ty) = self
            && item.store_id() == store.id
            && let Ok(current) = DefinitionType::of(store, item)
        {
            *ty = current;
        }
    }

    /// Fails (with the reason) unless this definition can satisfy an import
    /// of type `expected`.
    pub(crate) fn check(&self, expected: &ExternType) -> Result<()> {
        let host_ty;
        let actual = match self {
            Definition::Extern(_, ty) => ty,
            Definition::HostFunc(func) => {
                host_ty = DefinitionType::Func(func.ty().clone());
                &host_ty
            }
        };
        match (expected, actual) {
            (ExternType::Func(want), DefinitionType::Func(have)) => match_func(want, have),
            (ExternType::Global(want), DefinitionType::Global(have)) => match_global(want, have),
            (ExternType::Table(want), DefinitionType::Table(have, size)) => {
                match_table(want, have, *size)
            }
            (ExternType::Memory(want), DefinitionType::Memory(have, pages)) => {
                match_memory(want, have, *pages)
            }
            _ => Err(kind_mismatch(expected, &actual.extern_type())),
        }
    }

    /// The definition as an item of `store`: host functions are placed in
    /// the store once and reused afterwards.
    pub(crate) fn to_extern(&self, store: &mut StoreContextMut<'_, T>) -> Extern {
        match self {
            Definition::Extern(item, _) => *item,
            Definition::HostFunc(func) => {
                // The cache keeps the definition alive, so while an entry
                // exists its address identifies this definition only.
                let key = Arc::as_ptr(func) as *const () as usize;
                if let Some((_, cached)) = store.opaque().host_func_cache.get(&key) {
                    return Extern::Func(*cached);
                }
                let placed = func.to_func(store);
                let keep: Arc<dyn Any + Send + Sync> = func.clone();
                store
                    .opaque_mut()
                    .host_func_cache
                    .insert(key, (keep, placed));
                Extern::Func(placed)
            }
        }
    }
}
