//! `Extern` and `Export`: items that instances import and export.

use crate::store::{StoreId, StoreOpaque};
use crate::{AsContext, ExternType, Func, Global, Memory, Table};
use anyhow::Result;

/// A function, global, table or memory: what can be imported or exported.
#[derive(Copy, Clone, Debug)]
pub enum Extern {
    /// A function.
    Func(Func),
    /// A global.
    Global(Global),
    /// A table.
    Table(Table),
    /// A memory.
    Memory(Memory),
}

macro_rules! extern_accessors {
    ($($variant:ident $ty:ident $into:ident;)*) => {$(
        /// The item, if it is of this kind.
        pub fn $into(self) -> Option<$ty> {
            match self {
                Extern::$variant(item) => Some(item),
                _ => None,
            }
        }
    )*};
}

impl Extern {
    extern_accessors! {
        Func Func into_func;
        Global Global into_global;
        Table Table into_table;
        Memory Memory into_memory;
    }

    /// The item's type.
    ///
    /// # Panics
    /// If the item belongs to another store (wasmtime's signature has no
    /// room for an error).
    pub fn ty(&self, store: impl AsContext) -> ExternType {
        let store = store.as_context();
        let store = store.opaque();
        store.assert_owns(self.store_id(), "extern");
        self.ty_in(store).expect("the store owns the item")
    }

    /// The item's type, checking the store.
    pub(crate) fn ty_in(&self, store: &StoreOpaque) -> Result<ExternType> {
        Ok(match self {
            Extern::Func(f) => ExternType::Func(f.load_ty(store)?),
            Extern::Global(g) => ExternType::Global(g.record(store)?.ty.clone()),
            Extern::Table(t) => ExternType::Table(t.object(store)?.ty().clone()),
            Extern::Memory(m) => ExternType::Memory(m.object(store)?.ty().clone()),
        })
    }

    /// The id of the owning store.
    pub(crate) fn store_id(&self) -> StoreId {
        match self {
            Extern::Func(f) => f.store_id(),
            Extern::Global(g) => g.store_id(),
            Extern::Table(t) => t.store_id(),
            Extern::Memory(m) => m.store_id(),
        }
    }
}

impl From<Func> for Extern {
    fn from(f: Func) -> Extern {
        Extern::Func(f)
    }
}

impl From<Global> for Extern {
    fn from(g: Global) -> Extern {
        Extern::Global(g)
    }
}

impl From<Table> for Extern {
    fn from(t: Table) -> Extern {
        Extern::Table(t)
    }
}

impl From<Memory> for Extern {
    fn from(m: Memory) -> Extern {
        Extern::Memory(m)
    }
}

/// A named export of an instance.
#[derive(Clone, Debug)]
pub struct Export<'instance> {
    name: &'instance str,
    definition: Extern,
}

impl<'instance> Export<'instance> {
    pub(crate) fn new(name: &'instance str, definition: Extern) -> Self {
        Export { name, definition }
    }

    /// The export's name.
    pub fn name(&self) -> &'instance str {
        self.name
    }

    /// The exported item's type.
    ///
    /// # Panics
    /// If the item belongs to another store.
    pub fn ty(&self, store: impl AsContext) -> ExternType {
        self.definition.ty(store)
    }

    /// The exported item.
    pub fn into_extern(self) -> Extern {
        self.definition
    }

    /// The exported function, if it is one.
    pub fn into_func(self) -> Option<Func> {
        self.definition.into_func()
    }

    /// The exported table, if it is one.
    pub fn into_table(self) -> Option<Table> {
        self.definition.into_table()
    }

    /// The exported memory, if it is one.
    pub fn into_memory(self) -> Option<Memory> {
        self.definition.into_memory()
    }

    /// The exported global, if it is one.
    pub fn into_global(self) -> Option<Global> {
        self.definition.into_global()
    }
}
