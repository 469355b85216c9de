//! `Caller`: what a host function receives about its call.
//!
//! It gives the host function the store (so it can read and change the
//! embedder's data and call back into WebAssembly) and the instance that
//! called it, whose exports — typically its memory — it can look up.

use crate::store::StoreId;
use crate::{AsContext, AsContextMut, Engine, Extern, StoreContext, StoreContextMut};

/// The context of a host function call: the store's data and the calling
/// instance's exports.
///
/// ```
/// # fn main() -> kiln::Result<()> {
/// use kiln::{Caller, Engine, Linker, Module, Store};
///
/// let engine = Engine::default();
/// let mut linker = Linker::new(&engine);
/// // Reads a string out of the calling instance's memory into the store's data.
/// linker.func_wrap("host", "say", |mut caller: Caller<'_, Vec<String>>, ptr: u32, len: u32| {
///     let memory = caller.get_export("memory").and_then(|e| e.into_memory()).unwrap();
///     let bytes = memory.data(&caller)[ptr as usize..][..len as usize].to_vec();
///     caller.data_mut().push(String::from_utf8(bytes)?);
///     kiln::Result::<()>::Ok(())
/// })?;
/// let module = Module::new(&engine, r#"
///     (module
///       (import "host" "say" (func $say (param i32 i32)))
///       (memory (export "memory") 1)
///       (data (i32.const 8) "hi there")
///       (func (export "run") (call $say (i32.const 8) (i32.const 8))))
/// "#)?;
/// let mut store = Store::new(&engine, Vec::new());
/// let instance = linker.instantiate(&mut store, &module)?;
/// instance.get_typed_func::<(), ()>(&mut store, "run")?.call(&mut store, ())?;
/// assert_eq!(store.data(), &["hi there"]);
/// # Ok(())
/// # }
/// ```
pub struct Caller<'a, T: 'static> {
    store: StoreContextMut<'a, T>,
    /// The calling instance's index in the store, if WebAssembly called.
    caller: Option<u32>,
}

impl<'a, T: 'static> Caller<'a, T> {
    pub(crate) fn new(store: StoreContextMut<'a, T>, caller: Option<u32>) -> Self {
        Caller { store, caller }
    }

    /// The store's data.
    pub fn data(&self) -> &T {
        self.store.data()
    }

    /// The store's data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        self.store.data_mut()
    }

    /// The store's engine.
    pub fn engine(&self) -> &Engine {
        self.store.engine()
    }

    /// The calling instance's export named `name`. `None` if there is no
    /// such export, or if the function was called by the host rather than
    /// by WebAssembly.
    pub fn get_export(&mut self, name: &str) -> Option<Extern> {
        let store = self.store.opaque();
        store
            .instances
            .get(self.caller? as usize)?
            .export(store.id, name)
    }

    /// The calling instance's index in the store, if WebAssembly called.
    pub(crate) fn caller_index(&self) -> Option<u32> {
        self.caller
    }

    /// The store's untyped part.
    pub(crate) fn store_opaque(&self) -> &crate::store::StoreOpaque {
        self.store.opaque()
    }

    /// The fuel the store has left (see
    /// [`Store::get_fuel`](crate::Store::get_fuel)). Fails if the engine
    /// does not consume fuel.
    pub fn get_fuel(&self) -> anyhow::Result<u64> {
        self.store.get_fuel()
    }

    /// Sets the fuel the store has left (see
    /// [`Store::set_fuel`](crate::Store::set_fuel)); running WebAssembly
    /// continues with it when the host function returns. Fails if the
    /// engine does not consume fuel.
    pub fn set_fuel(&mut self, fuel: u64) -> anyhow::Result<()> {
        self.store.set_fuel(fuel)
    }

    /// The id of the store.
    pub(crate) fn store_id(&self) -> StoreId {
        self.store.opaque().id
    }
}

impl<T: 'static> AsContext for Caller<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        self.store.as_context()
    }
}

impl<T: 'static> AsContextMut for Caller<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        self.store.as_context_mut()
    }
}
