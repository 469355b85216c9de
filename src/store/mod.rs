//! `Store<T>`: the owner of all runtime objects, and the contexts through
//! which the API reaches it.
//!
//! Everything WebAssembly code can touch — instances, memories, tables,
//! globals, host functions, `externref` objects — lives in exactly one
//! store and is freed only when the store is dropped. Handles (`Func`,
//! `Memory`, ...) are `Copy` indices into it, tagged with the store's id.
//!
//! The store's contents live in one heap allocation at a stable address:
//! instances point at its `VMStoreContext`, and host-function trampolines
//! find the store (and the embedder's `T`) from a pointer. The allocation is
//! owned through a raw pointer, not a `Box`, and [`StoreContextMut`] is a
//! raw pointer too, because running code writes to the store through those
//! pointers while an API call that started it is still on the stack; no
//! long-lived `&mut` to the store's contents exists during such calls.

mod context;
mod hooks;
mod interrupts;
mod opaque;

pub use context::{AsContext, AsContextMut, StoreContext, StoreContextMut};
pub use hooks::{CallHook, UpdateDeadline};
pub(crate) use hooks::{run_call_hook, run_epoch_hook};
pub use opaque::StoreId;
pub(crate) use opaque::StoreOpaque;

use crate::{Engine, ResourceLimiter};
use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;

/// The typed store contents: the runtime objects plus the embedder's data.
///
/// `repr(C)` with `opaque` first, so the type-erased `store_data` pointer
/// that running code carries (see `VMStoreContext`) is also the address of
/// the `StoreOpaque`: the growth builtins reach the store that way.
#[repr(C)]
pub(crate) struct StoreInner<T: 'static> {
    pub(crate) opaque: StoreOpaque,
    pub(crate) data: T,
}

/// A collection of WebAssembly instances and host objects, plus a value of
/// type `T` that host functions can reach through [`Caller`](crate::Caller).
///
/// A store is not shared between threads while in use; create one per
/// unit of work (request, test, plugin instance). It is `Send` when `T` is.
pub struct Store<T: 'static> {
    inner: NonNull<StoreInner<T>>,
    _owns: PhantomData<StoreInner<T>>,
}

// SAFETY: the store exclusively owns its contents (see `StoreOpaque`'s
// impls); `T` crosses threads with it, hence the bound.
unsafe impl<T: Send> Send for Store<T> {}
// SAFETY: `&Store<T>` gives only shared, read-only access to the contents
// and to `T`.
unsafe impl<T: Sync> Sync for Store<T> {}

impl<T: 'static> Store<T> {
    /// An empty store in `engine`, holding `data`.
    pub fn new(engine: &Engine, data: T) -> Store<T> {
        let inner = Box::new(StoreInner {
            opaque: StoreOpaque::new(engine),
            data,
        });
        let inner = NonNull::from(Box::leak(inner));
        // SAFETY: just allocated and not yet shared.
        unsafe {
            (*inner.as_ptr()).opaque.vm.store_data = inner.as_ptr().cast();
        }
        Store {
            inner,
            _owns: PhantomData,
        }
    }

    /// [`Store::new`], returning a `Result` as wasmtime's allocation-aware
    /// constructor does. Kiln's never fails.
    pub fn try_new(engine: &Engine, data: T) -> anyhow::Result<Store<T>> {
        Ok(Store::new(engine, data))
    }

    /// The embedder's data.
    pub fn data(&self) -> &T {
        &self.inner_ref().data
    }

    /// The embedder's data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` gives exclusive access to the contents.
        unsafe { &mut (*self.inner.as_ptr()).data }
    }

    /// The engine the store belongs to.
    pub fn engine(&self) -> &Engine {
        &self.inner_ref().opaque.engine
    }

    /// Installs a [`ResourceLimiter`]: `limiter` projects it out of the
    /// store's data (so it can keep its accounting there), and is called
    /// every time the store allocates or grows a memory or table for
    /// WebAssembly.
    ///
    /// The limiter's [`instances`](ResourceLimiter::instances),
    /// [`memories`](ResourceLimiter::memories) and
    /// [`tables`](ResourceLimiter::tables) counts are read once, now. Without
    /// a limiter a store may create 10,000 of each.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// use kiln::{Engine, Instance, Module, Store, StoreLimits, StoreLimitsBuilder};
    /// struct State { limits: StoreLimits }
    /// let engine = Engine::default();
    /// let mut store = Store::new(&engine, State {
    ///     limits: StoreLimitsBuilder::new().instances(1).build(),
    /// });
    /// store.limiter(|state| &mut state.limits);
    /// let module = Module::new(&engine, "(module)")?;
    /// Instance::new(&mut store, &module, &[])?;
    /// let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    /// assert!(err.to_string().contains("instance count too high"), "{err}");
    /// # Ok(())
    /// # }
    /// ```
    pub fn limiter(
        &mut self,
        mut limiter: impl FnMut(&mut T) -> &mut (dyn ResourceLimiter) + Send + Sync + 'static,
    ) {
        let inner = self.inner.as_ptr();
        // SAFETY: `&mut self` gives exclusive access to the contents; the
        // borrow of the data ends before the opaque part is written.
        let (instances, memories, tables) = unsafe {
            let limits = limiter(&mut (*inner).data);
            (limits.instances(), limits.memories(), limits.tables())
        };
        let hook = move |store_data: *mut ()| -> NonNull<dyn ResourceLimiter> {
            // SAFETY: the hook is only called with this store's
            // `store_data`, which points at its live `StoreInner<T>`; the
            // reference to the data is turned into a pointer at once (see
            // `StoreOpaque::limiter_ptr`).
            let data: &'static mut T = unsafe { &mut (*store_data.cast::<StoreInner<T>>()).data };
            NonNull::from(limiter(data))
        };
        // SAFETY: as above.
        let opaque = unsafe { &mut (*inner).opaque };
        opaque.limiter = Some(Box::new(hook));
        opaque.instance_limit = instances;
        opaque.memory_limit = memories;
        opaque.table_limit = tables;
    }

    /// Drops the store and every object in it, returning the embedder's
    /// data.
    pub fn into_data(self) -> T {
        let this = ManuallyDrop::new(self);
        // SAFETY: `inner` came from `Box::leak` in `new`, and `ManuallyDrop`
        // keeps `Drop` from freeing it a second time.
        let inner = unsafe { Box::from_raw(this.inner.as_ptr()) };
        let StoreInner { opaque, data } = *inner;
        drop(opaque);
        data
    }

    fn inner_ref(&self) -> &StoreInner<T> {
        // SAFETY: the allocation is live for the store's lifetime; `&self`
        // excludes mutation.
        unsafe { self.inner.as_ref() }
    }
}

impl<T: 'static> Drop for Store<T> {
    fn drop(&mut self) {
        // SAFETY: `inner` came from `Box::leak` in `new` and is freed once.
        drop(unsafe { Box::from_raw(self.inner.as_ptr()) });
    }
}

impl<T: Default + 'static> Default for Store<T> {
    /// A store in a default [`Engine`], holding `T::default()`.
    fn default() -> Store<T> {
        Store::new(&Engine::default(), T::default())
    }
}

impl<T: fmt::Debug + 'static> fmt::Debug for Store<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.inner_ref();
        f.debug_struct("Store")
            .field("id", &inner.opaque.id)
            .field("data", &inner.data)
            .finish_non_exhaustive()
    }
}
