//! Heap objects at a fixed address that running code reaches through raw
//! pointers.
//!
//! Memories, tables, host globals and host-function contexts are owned by
//! the store but also pointed to from instance vmctxs and `VMFuncRef`s,
//! and written through those pointers while the interpreter runs. Keeping
//! them in a `Box` would assert unique ownership every time the box is
//! moved or borrowed, which such aliasing contradicts; these wrappers own
//! the allocation through a raw pointer instead, so the only references
//! ever created are the short-lived ones the runtime makes itself.

use std::ptr::NonNull;

/// An owned heap value at a stable address.
pub(crate) struct StableBox<T> {
    ptr: NonNull<T>,
}

// SAFETY: a `StableBox<T>` owns its `T` exactly as a `Box<T>` does; the raw
// pointer only changes how it is accessed, not who may access it.
unsafe impl<T: Send> Send for StableBox<T> {}
// SAFETY: as above; shared access only hands out `&T`.
unsafe impl<T: Sync> Sync for StableBox<T> {}

impl<T> StableBox<T> {
    /// Moves `value` to the heap.
    pub(crate) fn new(value: T) -> StableBox<T> {
        StableBox {
            ptr: NonNull::from(Box::leak(Box::new(value))),
        }
    }

    /// The value's address, valid until the box is dropped.
    pub(crate) fn as_ptr(&self) -> *mut T {
        self.ptr.as_ptr()
    }

    /// Shared access.
    pub(crate) fn get(&self) -> &T {
        // SAFETY: the pointer is live until drop; mutation only happens
        // through `get_mut` (excluded by this borrow) or while running code
        // that cannot overlap a borrow of the store.
        unsafe { self.ptr.as_ref() }
    }

    /// Exclusive access.
    pub(crate) fn get_mut(&mut self) -> &mut T {
        // SAFETY: as for `get`, and `&mut self` excludes other borrows.
        unsafe { self.ptr.as_mut() }
    }
}

impl<T> Drop for StableBox<T> {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `Box::leak` and is dropped once.
        drop(unsafe { Box::from_raw(self.ptr.as_ptr()) });
    }
}

/// A [`StableBox`] whose type is forgotten: the store keeps host-function
/// contexts (generic over the store's data type) alive this way.
pub(crate) struct ErasedBox {
    ptr: NonNull<()>,
    drop_fn: unsafe fn(NonNull<()>),
}

impl ErasedBox {
    /// Moves `value` to the heap, returning the owner and its address.
    pub(crate) fn new<T: 'static>(value: T) -> (ErasedBox, NonNull<T>) {
        unsafe fn drop_as<T>(ptr: NonNull<()>) {
            // SAFETY: `ptr` came from `Box::leak` of a `Box<T>` (see `new`)
            // and is dropped once.
            drop(unsafe { Box::from_raw(ptr.cast::<T>().as_ptr()) });
        }
        let ptr = NonNull::from(Box::leak(Box::new(value)));
        (
            ErasedBox {
                ptr: ptr.cast(),
                drop_fn: drop_as::<T>,
            },
            ptr,
        )
    }
}

impl Drop for ErasedBox {
    fn drop(&mut self) {
        // SAFETY: `drop_fn` matches the type `ptr` was created with.
        unsafe { (self.drop_fn)(self.ptr) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn owns_and_drops_its_value() {
        let counter = Arc::new(());
        let mut boxed = StableBox::new(counter.clone());
        let address = boxed.as_ptr();
        assert_eq!(Arc::strong_count(boxed.get()), 2);
        let _ = boxed.get_mut();
        assert_eq!(address, boxed.as_ptr());
        drop(boxed);
        assert_eq!(Arc::strong_count(&counter), 1);

        let (erased, ptr) = ErasedBox::new(counter.clone());
        // SAFETY: `erased` is alive.
        assert!(Arc::ptr_eq(unsafe { ptr.as_ref() }, &counter));
        drop(erased);
        assert_eq!(Arc::strong_count(&counter), 1);
    }
}
