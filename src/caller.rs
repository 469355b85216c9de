//! `Caller`: what a host function receives about its call.
//!
//! It gives the host function the store (so it can read and change the
//! embedder's data and call back into WebAssembly) and the instance that
//! called it, whose exports — typically its memory — it can look up.

use crate::store::StoreId;
use crate::{AsContext, AsContextMut, Engine, Extern, StoreContext, StoreContextMut};

/// The context of a host function call.
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
