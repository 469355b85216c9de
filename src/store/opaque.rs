//! `StoreOpaque`: the part of a store that does not depend on the
//! embedder's data type, and `StoreId`, which tags every handle.
//!
//! Almost all of the runtime works on `StoreOpaque` so that it is compiled
//! once rather than once per `T`; only host-function trampolines need the
//! typed `StoreInner<T>`.

use crate::Engine;
use crate::runtime::global::GlobalRecord;
use crate::runtime::instance::InstanceData;
use crate::runtime::memory::MemoryObject;
use crate::runtime::stable_box::{ErasedBox, StableBox};
use crate::runtime::table::TableObject;
use anyhow::{Result, bail};
use kiln_interp::vm::VMStoreContext;
use std::any::Any;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

/// The unique identity of a store. Handles carry it so that using one with
/// another store is detected. Ids are never reused within a process.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct StoreId(NonZeroU64);

impl StoreId {
    /// A fresh id.
    fn allocate() -> StoreId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        // 2^64 stores cannot be created, so the counter never wraps to 0.
        StoreId(NonZeroU64::new(id).unwrap_or(NonZeroU64::MIN))
    }
}

/// Everything a store owns, except the embedder's data.
pub(crate) struct StoreOpaque {
    /// This store's identity.
    pub(crate) id: StoreId,
    /// The engine the store was created in.
    pub(crate) engine: Engine,
    /// The state running code reads and writes (stacks, pending trap...).
    /// The store lives in a stable heap allocation, so instances can point
    /// at this field.
    pub(crate) vm: VMStoreContext,
    /// Instances, by `Instance` index.
    pub(crate) instances: Vec<InstanceData>,
    /// Memories, by `Memory` index (host-created and instance-defined).
    pub(crate) memories: Vec<StableBox<MemoryObject>>,
    /// Tables, by `Table` index.
    pub(crate) tables: Vec<StableBox<TableObject>>,
    /// Globals, by `Global` index.
    pub(crate) globals: Vec<GlobalRecord>,
    /// Host objects referenced by `externref` values; handle = index + 1.
    pub(crate) externrefs: Vec<Box<dyn Any + Send + Sync>>,
    /// Host-function contexts (their `VMFuncRef`s live inside).
    pub(crate) host_funcs: Vec<ErasedBox>,
    /// A panic raised by a host function, to be resumed once control is
    /// back in the embedder's `Func::call`.
    pub(crate) pending_panic: Option<Box<dyn Any + Send>>,
}

impl StoreOpaque {
    /// An empty store in `engine`.
    pub(crate) fn new(engine: &Engine) -> StoreOpaque {
        StoreOpaque {
            id: StoreId::allocate(),
            engine: engine.clone(),
            vm: VMStoreContext::new(engine.config().max_wasm_stack),
            instances: Vec::new(),
            memories: Vec::new(),
            tables: Vec::new(),
            globals: Vec::new(),
            externrefs: Vec::new(),
            host_funcs: Vec::new(),
            pending_panic: None,
        }
    }

    /// Fails unless a handle tagged `owner` belongs to this store.
    pub(crate) fn check(&self, owner: StoreId, what: &str) -> Result<()> {
        if owner != self.id {
            bail!("{what} used with the wrong store: it belongs to another `Store`");
        }
        Ok(())
    }

    /// Panics unless a handle tagged `owner` belongs to this store. Used
    /// only where wasmtime's signature leaves no way to return an error.
    #[track_caller]
    pub(crate) fn assert_owns(&self, owner: StoreId, what: &str) {
        assert!(
            owner == self.id,
            "{what} used with the wrong store: it belongs to another `Store`"
        );
    }

    /// The next index of a store-owned list, checked to fit a handle.
    pub(crate) fn next_index(len: usize, what: &str) -> Result<u32> {
        u32::try_from(len).map_err(|_| anyhow::anyhow!("too many {what} in one store"))
    }
}

// SAFETY: `StoreOpaque` exclusively owns everything it points to (vmctx
// blocks, memories, tables, host-function contexts); the raw pointers
// between those objects never leave the store. Host closures and externref
// objects are `Send + Sync`. So moving a whole store to another thread is
// as safe as moving a `Vec` of owned values.
unsafe impl Send for StoreOpaque {}
// SAFETY: through `&StoreOpaque` nothing is mutated (running code needs
// `&mut`), so sharing it between threads only allows concurrent reads.
unsafe impl Sync for StoreOpaque {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_checked() {
        let engine = Engine::default();
        let a = StoreOpaque::new(&engine);
        let b = StoreOpaque::new(&engine);
        assert_ne!(a.id, b.id);
        a.check(a.id, "memory").unwrap();
        let err = a.check(b.id, "memory").unwrap_err().to_string();
        assert!(err.contains("wrong store"), "{err}");
    }
}
