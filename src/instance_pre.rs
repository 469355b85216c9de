//! `InstancePre`: a module whose imports a [`Linker`](crate::Linker) has
//! already resolved and type-checked, ready to be instantiated any number
//! of times.

use crate::linker::Definition;
use crate::runtime::instantiate::instantiate_prechecked;
use crate::{AsContextMut, Engine, Extern, Instance, Module, Result};
use anyhow::bail;
use smallvec::SmallVec;
use std::fmt;
use std::sync::Arc;

/// A module with its imports resolved and type-checked, made by
/// [`Linker::instantiate_pre`](crate::Linker::instantiate_pre).
///
/// [`instantiate`](InstancePre::instantiate) then only allocates and
/// initialises the instance: no name lookup, no type checks. Host functions
/// among the imports are placed into each store the first time it needs
/// them. Cloning is cheap (the definitions are shared) and does not require
/// `T: Clone`.
///
/// ```
/// # fn main() -> kiln::Result<()> {
/// use kiln::{Engine, Linker, Module, Store};
/// let engine = Engine::default();
/// let mut linker = Linker::new(&engine);
/// linker.func_wrap("host", "tick", |mut caller: kiln::Caller<'_, u32>| *caller.data_mut() += 1)?;
/// let module = Module::new(&engine, r#"(module (import "host" "tick" (func $t)) (start $t))"#)?;
/// let pre = linker.instantiate_pre(&module)?;
/// for _ in 0..3 {
///     let mut store = Store::new(&engine, 0u32);
///     pre.instantiate(&mut store)?;
///     assert_eq!(*store.data(), 1);
/// }
/// # Ok(())
/// # }
/// ```
pub struct InstancePre<T: 'static> {
    module: Module,
    /// One definition per import, in the module's import order, each
    /// already checked against its import's type.
    items: Arc<[Definition<T>]>,
}

impl<T: 'static> InstancePre<T> {
    /// The module with `items` for its imports, which the caller has
    /// checked against the module's import types.
    pub(crate) fn new(module: Module, items: Arc<[Definition<T>]>) -> InstancePre<T> {
        // Work out the segment plan now rather than in the first
        // `instantiate`.
        module.plan();
        InstancePre { module, items }
    }

    /// The module this instantiates.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// let engine = kiln::Engine::default();
    /// let module = kiln::Module::new(&engine, "(module $m)")?;
    /// let pre = kiln::Linker::<()>::new(&engine).instantiate_pre(&module)?;
    /// assert_eq!(pre.module().name(), Some("m"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// Instantiates the module in `store`: allocates the instance,
    /// initialises it (segments, then the start function) and returns it.
    ///
    /// Fails if `store` belongs to another engine than the module, if an
    /// import defined as a store-owned item belongs to another store (``cross-`Store`
    /// instantiation is not currently supported``), and otherwise as
    /// [`Instance::new`] does after its type checks (allocation limits, a
    /// trap during initialisation).
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// use kiln::{Engine, Linker, Module, Store};
    /// let engine = Engine::default();
    /// let module = Module::new(&engine, r#"(module (func (export "one") (result i32) i32.const 1))"#)?;
    /// let pre = Linker::<()>::new(&engine).instantiate_pre(&module)?;
    /// let mut store = Store::new(&engine, ());
    /// let instance = pre.instantiate(&mut store)?;
    /// assert_eq!(instance.get_typed_func::<(), i32>(&mut store, "one")?.call(&mut store, ())?, 1);
    /// // A store of another engine is refused.
    /// assert!(pre.instantiate(&mut Store::new(&Engine::default(), ())).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn instantiate(&self, mut store: impl AsContextMut<Data = T>) -> Result<Instance> {
        let mut store = store.as_context_mut();
        if !Engine::same(store.engine(), self.module.engine()) {
            bail!("cross-`Engine` instantiation is not currently supported");
        }
        let imports: SmallVec<[Extern; 8]> = self
            .items
            .iter()
            .map(|definition| definition.to_extern(&mut store))
            .collect();
        // SAFETY: the pointer comes from a live context and no reference
        // into the store is held during the call; the imports were checked
        // against the module's import types when this was made (and the
        // types and sizes they were checked with never shrink).
        unsafe { instantiate_prechecked(store.opaque_ptr(), &self.module, &imports) }
    }
}

impl<T: 'static> Clone for InstancePre<T> {
    fn clone(&self) -> Self {
        InstancePre {
            module: self.module.clone(),
            items: self.items.clone(),
        }
    }
}

impl<T: 'static> fmt::Debug for InstancePre<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstancePre")
            .field("module", &self.module)
            .field("imports", &self.items.len())
            .finish()
    }
}
