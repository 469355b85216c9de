//! `Instance`: an instantiated module, and access to its exports.

use crate::runtime::instance::InstanceData;
use crate::runtime::instantiate::instantiate;
use crate::store::{StoreId, StoreOpaque};
use crate::{
    AsContextMut, Export, Extern, Func, Global, Memory, Module, StoreContext, StoreContextMut,
    Table, TypedFunc, WasmParams, WasmResults,
};
use anyhow::{Result, anyhow};

/// An instance of a module, owned by a store.
///
/// [`Instance::new`] takes the imports in the module's import order (a
/// [`Linker`](crate::Linker) resolves them by name instead), allocates the
/// instance's memories, tables and globals in the store, and runs the
/// start function. Exports are then looked up by name:
///
/// ```
/// # fn main() -> kiln::Result<()> {
/// use kiln::{Engine, Instance, Module, Store, Val};
///
/// let engine = Engine::default();
/// let module = Module::new(&engine, r#"
///     (module
///       (global $count (export "count") (mut i32) (i32.const 0))
///       (func $start (global.set $count (i32.const 100)))
///       (func (export "bump") (result i32)
///         (global.set $count (i32.add (global.get $count) (i32.const 1)))
///         (global.get $count))
///       (start $start))
/// "#)?;
/// let mut store = Store::new(&engine, ());
/// let instance = Instance::new(&mut store, &module, &[])?;
/// let count = instance.get_global(&mut store, "count").unwrap();
/// assert_eq!(count.get(&mut store).unwrap_i32(), 100); // the start function ran
/// let bump = instance.get_typed_func::<(), i32>(&mut store, "bump")?;
/// assert_eq!(bump.call(&mut store, ())?, 101);
/// count.set(&mut store, Val::I32(7))?;
/// assert_eq!(bump.call(&mut store, ())?, 8);
/// assert!(instance.get_func(&mut store, "missing").is_none());
/// // Each instance has its own state.
/// let other = Instance::new(&mut store, &module, &[])?;
/// let other_count = other.get_global(&mut store, "count").unwrap();
/// assert_eq!(other_count.get(&mut store).unwrap_i32(), 100);
/// # Ok(())
/// # }
/// ```
#[derive(Copy, Clone, Debug)]
pub struct Instance {
    store: StoreId,
    index: u32,
}

impl Instance {
    /// Instantiates `module` in `store` with `imports`, given in the order
    /// of [`Module::imports`].
    ///
    /// Fails if the imports do not match (``incompatible import type for
    /// `module::name` `` with the reason), if an import belongs to another
    /// store, if the instance cannot be allocated (the store's
    /// [`ResourceLimiter`](crate::ResourceLimiter) or instance count limits,
    /// or the pooling allocator's limits, see
    /// [`PoolingAllocationConfig`](crate::PoolingAllocationConfig)), or if
    /// initialisation traps: an active segment out of bounds, or a trap in
    /// the start function. Segments applied before the trap stay applied
    /// (their effects are visible through imported memories and tables).
    pub fn new(
        mut store: impl AsContextMut,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance> {
        let mut store = store.as_context_mut();
        // SAFETY: the pointer comes from a live context and no reference
        // into the store is held during the call.
        unsafe { instantiate(store.opaque_ptr(), module, imports) }
    }

    /// The instance's exports, in the module's order. Empty if the
    /// instance belongs to another store.
    pub fn exports<'a, T: 'static>(
        &'a self,
        store: impl Into<StoreContextMut<'a, T>>,
    ) -> impl ExactSizeIterator<Item = Export<'a>> + 'a {
        let store: &'a StoreOpaque = store.into().into_opaque_mut();
        let exports: Vec<Export<'a>> = match self.data(store) {
            Ok(data) => data
                .module
                .info()
                .exports
                .iter()
                .filter_map(|e| Some(Export::new(&e.name, data.get(store.id, e.index)?)))
                .collect(),
            Err(_) => Vec::new(),
        };
        exports.into_iter()
    }

    /// The export named `name`, if there is one (`None` as well if the
    /// instance belongs to another store).
    pub fn get_export(&self, mut store: impl AsContextMut, name: &str) -> Option<Extern> {
        let store = store.as_context_mut();
        let store = store.opaque();
        self.data(store).ok()?.export(store.id, name)
    }

    /// The exported function named `name`.
    pub fn get_func(&self, store: impl AsContextMut, name: &str) -> Option<Func> {
        self.get_export(store, name)?.into_func()
    }

    /// The exported function named `name`, with its signature checked
    /// against `Params` and `Results`.
    pub fn get_typed_func<Params, Results>(
        &self,
        mut store: impl AsContextMut,
        name: &str,
    ) -> Result<TypedFunc<Params, Results>>
    where
        Params: WasmParams,
        Results: WasmResults,
    {
        let func = self
            .get_func(&mut store, name)
            .ok_or_else(|| anyhow!("failed to find function export `{name}`"))?;
        func.typed(&store)
    }

    /// The exported memory named `name`.
    pub fn get_memory(&self, store: impl AsContextMut, name: &str) -> Option<Memory> {
        self.get_export(store, name)?.into_memory()
    }

    /// The exported table named `name`.
    pub fn get_table(&self, store: impl AsContextMut, name: &str) -> Option<Table> {
        self.get_export(store, name)?.into_table()
    }

    /// The exported global named `name`.
    pub fn get_global(&self, store: impl AsContextMut, name: &str) -> Option<Global> {
        self.get_export(store, name)?.into_global()
    }

    /// The module this is an instance of.
    ///
    /// # Panics
    /// If the instance belongs to another store (wasmtime's signature has
    /// no room for an error).
    pub fn module<'a, T: 'static>(&self, store: impl Into<StoreContext<'a, T>>) -> &'a Module {
        let store = store.into().opaque();
        store.assert_owns(self.store, "instance");
        &store.instances[self.index as usize].module
    }

    pub(crate) fn from_index(store: StoreId, index: u32) -> Instance {
        Instance { store, index }
    }

    /// The instance's index in its store.
    pub(crate) fn index(&self) -> u32 {
        self.index
    }

    /// The instance's record, checking the store.
    pub(crate) fn data<'a>(&self, store: &'a StoreOpaque) -> Result<&'a InstanceData> {
        store.check(self.store, "instance")?;
        Ok(&store.instances[self.index as usize])
    }
}
