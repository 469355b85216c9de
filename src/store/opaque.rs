//! `StoreOpaque`: the part of a store that does not depend on the
//! embedder's data type, and `StoreId`, which tags every handle.
//!
//! Almost all of the runtime works on `StoreOpaque` so that it is compiled
//! once rather than once per `T`; only host-function trampolines need the
//! typed `StoreInner<T>`.

use crate::limits::{DEFAULT_INSTANCE_LIMIT, DEFAULT_MEMORY_LIMIT, DEFAULT_TABLE_LIMIT};
use crate::runtime::global::GlobalRecord;
use crate::runtime::instance::InstanceData;
use crate::runtime::memory::MemoryObject;
use crate::runtime::stable_box::{ErasedBox, StableBox};
use crate::runtime::stack_budget;
use crate::runtime::table::TableObject;
use crate::{Engine, Func, ResourceLimiter};
use anyhow::{Result, bail};
use kiln_interp::exec::StoreStacks;
use kiln_vm::VMStoreContext;
use std::any::Any;
use std::collections::HashMap;
use std::num::NonZeroU64;
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The installed [`ResourceLimiter`] accessor, with the data type erased:
/// given the store's `StoreInner<T>` (the `VMStoreContext::store_data`
/// pointer) it returns the limiter inside the store's data.
pub(crate) type LimiterHook = Box<dyn FnMut(*mut ()) -> NonNull<dyn ResourceLimiter> + Send + Sync>;

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
    /// The interpreter's stacks, which `vm.interp` points at; declared after
    /// `vm` so they outlive every use of it.
    pub(crate) _interp_stacks: StoreStacks,
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
    /// Linker host functions already placed in this store, keyed by the
    /// address of their shared definition (kept alive here, so the address
    /// cannot be reused by another definition while the entry exists).
    pub(crate) host_func_cache: HashMap<usize, (Arc<dyn Any + Send + Sync>, Func)>,
    /// The embedder's resource limiter (`Store::limiter`).
    pub(crate) limiter: Option<LimiterHook>,
    /// The epoch deadline callback (`Store::epoch_deadline_callback`).
    pub(crate) epoch_hook: Option<super::hooks::EpochHook>,
    /// The call hook (`Store::call_hook`).
    pub(crate) call_hook: Option<super::hooks::CallHookFn>,
    /// Instances created so far, and the most allowed.
    pub(crate) instance_count: usize,
    pub(crate) instance_limit: usize,
    /// Memories defined by instances so far, and the most allowed.
    pub(crate) memory_count: usize,
    pub(crate) memory_limit: usize,
    /// Tables defined by instances so far, and the most allowed.
    pub(crate) table_count: usize,
    pub(crate) table_limit: usize,
}

impl StoreOpaque {
    /// An empty store in `engine`.
    pub(crate) fn new(engine: &Engine) -> StoreOpaque {
        let max_wasm_stack = engine.config().max_wasm_stack;
        let interp_stacks = StoreStacks::new(stack_budget::interpreter(max_wasm_stack));
        StoreOpaque {
            id: StoreId::allocate(),
            engine: engine.clone(),
            vm: {
                let mut vm = VMStoreContext::new(
                    stack_budget::native(max_wasm_stack),
                    interp_stacks.as_vm(),
                );
                vm.epoch_ptr = engine.epoch_ptr();
                // As in wasmtime: with epochs on, the deadline starts at 0
                // (already reached) until the embedder sets one.
                if engine.config().epoch_interruption {
                    vm.epoch_deadline = 0;
                }
                vm
            },
            _interp_stacks: interp_stacks,
            instances: Vec::new(),
            memories: Vec::new(),
            tables: Vec::new(),
            globals: Vec::new(),
            externrefs: Vec::new(),
            host_funcs: Vec::new(),
            pending_panic: None,
            host_func_cache: HashMap::new(),
            limiter: None,
            epoch_hook: None,
            call_hook: None,
            instance_count: 0,
            instance_limit: DEFAULT_INSTANCE_LIMIT,
            memory_count: 0,
            memory_limit: DEFAULT_MEMORY_LIMIT,
            table_count: 0,
            table_limit: DEFAULT_TABLE_LIMIT,
        }
    }

    /// The installed resource limiter, if any.
    ///
    /// The pointer is into the store's data `T`, which no part of
    /// `StoreOpaque` overlaps; it is valid until the store's data is next
    /// accessed by anything else (the embedder, a host function).
    pub(crate) fn limiter_ptr(&mut self) -> Option<NonNull<dyn ResourceLimiter>> {
        let data = self.vm.store_data;
        if data.is_null() {
            return None;
        }
        let hook = self.limiter.as_mut()?;
        Some(hook(data))
    }

    /// Runs `f` with the installed resource limiter, if any.
    pub(crate) fn with_limiter<R>(
        &mut self,
        f: impl FnOnce(Option<&mut dyn ResourceLimiter>) -> R,
    ) -> R {
        let limiter = self.limiter_ptr();
        // SAFETY: per `limiter_ptr`, the limiter lives in the store's data,
        // which nothing accesses while `f` runs (`f` cannot reach the store:
        // `self` is borrowed for the call).
        f(limiter.map(|ptr| unsafe { &mut *ptr.as_ptr() }))
    }

    /// Counts a new instance defining `memories` memories and `tables`
    /// tables against the store's limits; fails (counting nothing) if any
    /// would be exceeded.
    pub(crate) fn bump_resource_counts(&mut self, memories: usize, tables: usize) -> Result<()> {
        let checks = [
            (self.instance_count, 1, self.instance_limit, "instance"),
            (self.memory_count, memories, self.memory_limit, "memory"),
            (self.table_count, tables, self.table_limit, "table"),
        ];
        for (count, more, limit, what) in checks {
            let new = count.saturating_add(more);
            if more > 0 && new > limit {
                bail!("resource limit exceeded: {what} count too high at {new}");
            }
        }
        self.instance_count += 1;
        self.memory_count += memories;
        self.table_count += tables;
        Ok(())
    }

    /// Fails unless a handle tagged `owner` belongs to this store.
    pub(crate) fn check(&self, owner: StoreId, what: &str) -> Result<()> {
        if owner != self.id {
            bail!("{what} used with the wrong store: cross-`Store` values are not supported");
        }
        Ok(())
    }

    /// Panics unless a handle tagged `owner` belongs to this store. Used
    /// only where wasmtime's signature leaves no way to return an error.
    #[track_caller]
    pub(crate) fn assert_owns(&self, owner: StoreId, what: &str) {
        assert!(
            owner == self.id,
            "{what} used with the wrong store: cross-`Store` values are not supported"
        );
    }

    /// The next index of a store-owned list, checked to fit a handle.
    pub(crate) fn next_index(len: usize, what: &str) -> Result<u32> {
        u32::try_from(len).map_err(|_| anyhow::anyhow!("too many {what} in one store"))
    }
}

// SAFETY: `StoreOpaque` exclusively owns everything it points to (vmctx
// blocks, memories, tables, host-function contexts); the raw pointers
// between those objects never leave the store. Host closures, externref
// objects, cached definitions and the limiter hook are `Send + Sync`. So moving a whole store to another thread is
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
