//! `StoreContext`, `StoreContextMut` and the `AsContext` traits: how API
//! functions accept "anything that gives access to a store" — a `Store`, a
//! `&mut Store`, a `Caller` inside a host function, or a context.

use super::{Store, StoreInner, StoreOpaque};
use crate::Engine;
use std::marker::PhantomData;
use std::ptr::NonNull;

/// Shared access to a store, borrowed for `'a`.
pub struct StoreContext<'a, T: 'static>(pub(crate) &'a StoreInner<T>);

/// Exclusive access to a store, borrowed for `'a`.
///
/// Internally a raw pointer rather than a `&mut`: calls into WebAssembly
/// made through it let running code (and re-entrant host functions) write
/// to the store, which a live `&mut` would forbid.
pub struct StoreContextMut<'a, T: 'static> {
    ptr: NonNull<StoreInner<T>>,
    _borrow: PhantomData<&'a mut StoreInner<T>>,
}

impl<'a, T: 'static> StoreContext<'a, T> {
    /// The embedder's data.
    pub fn data(&self) -> &'a T {
        &self.0.data
    }

    /// The store's engine.
    pub fn engine(&self) -> &'a Engine {
        &self.0.opaque.engine
    }

    /// The untyped store contents.
    pub(crate) fn opaque(&self) -> &'a StoreOpaque {
        &self.0.opaque
    }
}

impl<'a, T: 'static> StoreContextMut<'a, T> {
    /// A context for the store at `ptr`.
    ///
    /// # Safety
    /// `ptr` is a live store's contents, and for `'a` nothing else accesses
    /// them except through this context (or code it calls).
    pub(crate) unsafe fn from_raw(ptr: NonNull<StoreInner<T>>) -> Self {
        StoreContextMut {
            ptr,
            _borrow: PhantomData,
        }
    }

    /// The embedder's data.
    pub fn data(&self) -> &T {
        &self.inner().data
    }

    /// The embedder's data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.inner_mut().data
    }

    /// The store's engine.
    pub fn engine(&self) -> &Engine {
        &self.inner().opaque.engine
    }

    fn inner(&self) -> &StoreInner<T> {
        // SAFETY: per `from_raw`, the store is live and this context has
        // exclusive access to it for `'a`; `&self` makes this borrow shared.
        unsafe { self.ptr.as_ref() }
    }

    fn inner_mut(&mut self) -> &mut StoreInner<T> {
        // SAFETY: as in `inner`; `&mut self` makes this borrow exclusive.
        unsafe { self.ptr.as_mut() }
    }

    /// The untyped store contents.
    pub(crate) fn opaque(&self) -> &StoreOpaque {
        &self.inner().opaque
    }

    /// The untyped store contents, mutably.
    pub(crate) fn opaque_mut(&mut self) -> &mut StoreOpaque {
        &mut self.inner_mut().opaque
    }

    /// The untyped store contents for the whole borrow `'a`.
    pub(crate) fn into_opaque_mut(self) -> &'a mut StoreOpaque {
        // SAFETY: as in `inner_mut`; consuming `self` hands its exclusive
        // borrow on.
        unsafe { &mut (*self.ptr.as_ptr()).opaque }
    }

    /// The embedder's data for the whole borrow `'a`.
    pub(crate) fn into_data_mut(self) -> &'a mut T {
        // SAFETY: as in `into_opaque_mut`, for the `data` field only.
        unsafe { &mut (*self.ptr.as_ptr()).data }
    }

    /// A raw pointer to the untyped contents, for calls into WebAssembly:
    /// the callee may reach the store again, so no reference may be held
    /// across such a call.
    pub(crate) fn opaque_ptr(&mut self) -> NonNull<StoreOpaque> {
        // SAFETY: the pointer is live (see `inner`); `addr_of_mut!` creates
        // no intermediate reference.
        unsafe { NonNull::new_unchecked(std::ptr::addr_of_mut!((*self.ptr.as_ptr()).opaque)) }
    }

    /// The untyped contents as a raw pointer, without requiring `&mut`
    /// (for running hooks around a call that consumes the context).
    pub(crate) fn opaque_raw(&self) -> *mut StoreOpaque {
        // SAFETY: the pointer is live (see `inner`); no reference is made.
        unsafe { std::ptr::addr_of_mut!((*self.ptr.as_ptr()).opaque) }
    }

    /// The typed store pointer, for host-function contexts.
    pub(crate) fn inner_ptr(&self) -> NonNull<StoreInner<T>> {
        self.ptr
    }
}

/// Types that give shared access to a store: [`Store`], [`StoreContext`],
/// [`StoreContextMut`], [`Caller`](crate::Caller), and references to them.
pub trait AsContext {
    /// The store's data type.
    type Data: 'static;

    /// Borrows the store.
    fn as_context(&self) -> StoreContext<'_, Self::Data>;
}

/// Types that give exclusive access to a store.
pub trait AsContextMut: AsContext {
    /// Borrows the store mutably.
    fn as_context_mut(&mut self) -> StoreContextMut<'_, Self::Data>;
}

impl<T: 'static> AsContext for Store<T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.inner_ref())
    }
}

impl<T: 'static> AsContextMut for Store<T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        // SAFETY: the store is live and `&mut self` grants exclusive access
        // for the context's lifetime.
        unsafe { StoreContextMut::from_raw(self.inner) }
    }
}

impl<T: 'static> AsContext for StoreContext<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0)
    }
}

impl<T: 'static> AsContext for StoreContextMut<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.inner())
    }
}

impl<T: 'static> AsContextMut for StoreContextMut<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        // SAFETY: a reborrow of this context's exclusive access, limited to
        // the `&mut self` borrow.
        unsafe { StoreContextMut::from_raw(self.ptr) }
    }
}

impl<C: AsContext + ?Sized> AsContext for &C {
    type Data = C::Data;
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        C::as_context(*self)
    }
}

impl<C: AsContext + ?Sized> AsContext for &mut C {
    type Data = C::Data;
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        C::as_context(*self)
    }
}

impl<C: AsContextMut + ?Sized> AsContextMut for &mut C {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, C::Data> {
        C::as_context_mut(*self)
    }
}

impl<'a, C: AsContext + ?Sized> From<&'a C> for StoreContext<'a, C::Data> {
    fn from(c: &'a C) -> Self {
        c.as_context()
    }
}

impl<'a, C: AsContextMut + ?Sized> From<&'a mut C> for StoreContext<'a, C::Data> {
    fn from(c: &'a mut C) -> Self {
        let c: &'a C = c;
        c.as_context()
    }
}

impl<'a, C: AsContextMut + ?Sized> From<&'a mut C> for StoreContextMut<'a, C::Data> {
    fn from(c: &'a mut C) -> Self {
        c.as_context_mut()
    }
}

impl<'a, T: 'static> From<StoreContextMut<'a, T>> for StoreContext<'a, T> {
    fn from(c: StoreContextMut<'a, T>) -> Self {
        // SAFETY: the context's exclusive borrow for `'a` is downgraded to a
        // shared one; the pointer is live for `'a`.
        StoreContext(unsafe { &*c.ptr.as_ptr() })
    }
}
