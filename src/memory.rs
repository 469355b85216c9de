//! `Memory`: a handle to a linear memory.
//!
//! The bytes live in a [`MemoryObject`] owned by the store; running code
//! reaches them through the memory's definition, the host through this
//! handle. Access from the host is plain slice access — bounds are the
//! slice's — and growing may move the bytes, so slices obtained before a
//! `grow` (or before a call into WebAssembly, which may grow) cannot be
//! used afterwards; the borrow checker enforces that since both need the
//! store.

use crate::runtime::memory::MemoryObject;
use crate::runtime::stable_box::StableBox;
use crate::store::{StoreId, StoreOpaque};
use crate::{AsContext, AsContextMut, MemoryType, StoreContext, StoreContextMut};
use anyhow::{Result, bail};
use std::fmt;

/// A WebAssembly linear memory, owned by a store.
///
/// The host sees its bytes as a slice ([`Memory::data`],
/// [`Memory::data_mut`]) or copies them with bounds-checked
/// [`Memory::read`] and [`Memory::write`]; WebAssembly and the host see
/// each other's writes at once.
///
/// ```
/// # fn main() -> kiln::Result<()> {
/// use kiln::{Engine, Instance, Module, Store};
///
/// let engine = Engine::default();
/// let module = Module::new(&engine, r#"
///     (module
///       (memory (export "mem") 1 3)
///       (func (export "sum") (param i32 i32) (result i32)  ;; bytes [ptr, ptr + len)
///         (local $total i32)
///         (block $done
///           (loop $next
///             (br_if $done (i32.eqz (local.get 1)))
///             (local.set $total (i32.add (local.get $total) (i32.load8_u (local.get 0))))
///             (local.set 0 (i32.add (local.get 0) (i32.const 1)))
///             (local.set 1 (i32.sub (local.get 1) (i32.const 1)))
///             (br $next)))
///         (local.get $total)))
/// "#)?;
/// let mut store = Store::new(&engine, ());
/// let instance = Instance::new(&mut store, &module, &[])?;
/// let memory = instance.get_memory(&mut store, "mem").unwrap();
/// memory.write(&mut store, 1000, &[1, 2, 3, 4])?;
/// let sum = instance.get_typed_func::<(i32, i32), i32>(&mut store, "sum")?;
/// assert_eq!(sum.call(&mut store, (1000, 4))?, 10);
///
/// assert_eq!(memory.size(&store), 1); // in 64 KiB pages
/// assert_eq!(memory.grow(&mut store, 2)?, 1); // returns the old size
/// assert!(memory.grow(&mut store, 1).is_err()); // the maximum is 3 pages
/// // Accesses past the end fail instead of panicking.
/// let end = memory.data_size(&store);
/// assert!(memory.read(&store, end - 2, &mut [0; 4]).is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Copy, Clone, Debug)]
pub struct Memory {
    store: StoreId,
    index: u32,
}

/// The error of [`Memory::read`] and [`Memory::write`].
#[derive(Copy, Clone, Debug)]
pub struct MemoryAccessError {
    wrong_store: bool,
}

impl fmt::Display for MemoryAccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.wrong_store {
            f.write_str("memory used with the wrong store: cross-`Store` values are not supported")
        } else {
            f.write_str("out of bounds memory access")
        }
    }
}

impl std::error::Error for MemoryAccessError {}

impl Memory {
    /// Creates a memory of type `ty` (`ty.minimum()` zeroed pages) in
    /// `store`.
    pub fn new(mut store: impl AsContextMut, ty: MemoryType) -> Result<Memory> {
        Memory::create(store.as_context_mut().opaque_mut(), &ty)
    }

    /// The memory's type (its declared limits).
    ///
    /// # Panics
    /// If the memory belongs to another store (wasmtime's signature has no
    /// room for an error).
    pub fn ty(&self, store: impl AsContext) -> MemoryType {
        self.expect_object(store.as_context().opaque()).ty().clone()
    }

    /// Current size in pages.
    ///
    /// # Panics
    /// If the memory belongs to another store.
    pub fn size(&self, store: impl AsContext) -> u64 {
        self.expect_object(store.as_context().opaque()).pages()
    }

    /// The size of one of the memory's pages in bytes (always 64 KiB: Kiln
    /// supports no custom page sizes).
    ///
    /// # Panics
    /// If the memory belongs to another store.
    pub fn page_size(&self, store: impl AsContext) -> u64 {
        self.expect_object(store.as_context().opaque())
            .ty()
            .page_size()
    }

    /// The base-2 logarithm of [`Memory::page_size`].
    ///
    /// # Panics
    /// If the memory belongs to another store.
    pub fn page_size_log2(&self, store: impl AsContext) -> u8 {
        self.page_size(store).trailing_zeros() as u8
    }

    /// Current size in bytes.
    ///
    /// # Panics
    /// If the memory belongs to another store.
    pub fn data_size(&self, store: impl AsContext) -> usize {
        self.expect_object(store.as_context().opaque()).byte_len()
    }

    /// The memory's bytes.
    ///
    /// # Panics
    /// If the memory belongs to another store.
    pub fn data<'a, T: 'static>(&self, store: impl Into<StoreContext<'a, T>>) -> &'a [u8] {
        self.expect_object(store.into().opaque()).data()
    }

    /// The memory's bytes, writable.
    ///
    /// # Panics
    /// If the memory belongs to another store.
    pub fn data_mut<'a, T: 'static>(
        &self,
        store: impl Into<StoreContextMut<'a, T>>,
    ) -> &'a mut [u8] {
        let store = store.into().into_opaque_mut();
        store.assert_owns(self.store, "memory");
        store.memories[self.index as usize].get_mut().data_mut()
    }

    /// The memory's bytes and the store's data, both writable (they are
    /// disjoint, so host functions can use both at once).
    ///
    /// # Panics
    /// If the memory belongs to another store.
    pub fn data_and_store_mut<'a, T: 'static>(
        &self,
        store: impl Into<StoreContextMut<'a, T>>,
    ) -> (&'a mut [u8], &'a mut T) {
        let store = store.into();
        store.opaque().assert_owns(self.store, "memory");
        let object = store.opaque().memories[self.index as usize].as_ptr();
        let data = store.into_data_mut();
        // SAFETY: the memory's bytes are a separate heap allocation owned by
        // the memory object, disjoint from the store's data `T`; the store
        // is borrowed exclusively for `'a`.
        let bytes = unsafe { (*object).data_mut() };
        (bytes, data)
    }

    /// The address of the memory's first byte. Invalidated by growth.
    ///
    /// # Panics
    /// If the memory belongs to another store.
    pub fn data_ptr(&self, store: impl AsContext) -> *mut u8 {
        self.expect_object(store.as_context().opaque()).def.base
    }

    /// Grows the memory by `delta` pages, returning the previous size in
    /// pages. Fails (leaving the memory unchanged) beyond its maximum, the
    /// 4 GiB limit, the pooling allocator's limit, or available memory, or
    /// if the store's [`ResourceLimiter`](crate::ResourceLimiter) refuses.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64) -> Result<u64> {
        let mut store = store.as_context_mut();
        let store = store.opaque_mut();
        store.check(self.store, "memory")?;
        let limiter = store.limiter_ptr();
        // SAFETY: the limiter lives in the store's data, which nothing else
        // accesses during this call and which the memory object does not
        // overlap.
        let limiter = limiter.map(|ptr| unsafe { &mut *ptr.as_ptr() });
        let object = store.memories[self.index as usize].get_mut();
        match object.grow_limited(delta, limiter)? {
            Some(old) => Ok(old),
            None => bail!("failed to grow memory by `{delta}`"),
        }
    }

    /// Copies `buffer.len()` bytes starting at `offset` into `buffer`.
    pub fn read(
        &self,
        store: impl AsContext,
        offset: usize,
        buffer: &mut [u8],
    ) -> Result<(), MemoryAccessError> {
        let store = store.as_context();
        let data = self
            .object(store.opaque())
            .map_err(|_| MemoryAccessError { wrong_store: true })?;
        let end = offset.checked_add(buffer.len());
        let src = end.and_then(|end| data.data().get(offset..end));
        buffer.copy_from_slice(src.ok_or(MemoryAccessError { wrong_store: false })?);
        Ok(())
    }

    /// Copies `buffer` into the memory starting at `offset`.
    pub fn write(
        &self,
        mut store: impl AsContextMut,
        offset: usize,
        buffer: &[u8],
    ) -> Result<(), MemoryAccessError> {
        let mut store = store.as_context_mut();
        let store = store.opaque_mut();
        if store.check(self.store, "memory").is_err() {
            return Err(MemoryAccessError { wrong_store: true });
        }
        let data = store.memories[self.index as usize].get_mut().data_mut();
        let end = offset.checked_add(buffer.len());
        let dst = end.and_then(|end| data.get_mut(offset..end));
        dst.ok_or(MemoryAccessError { wrong_store: false })?
            .copy_from_slice(buffer);
        Ok(())
    }

    /// Creates a memory object in `store`.
    pub(crate) fn create(store: &mut StoreOpaque, ty: &MemoryType) -> Result<Memory> {
        let index = StoreOpaque::next_index(store.memories.len(), "memories")?;
        store.memories.push(StableBox::new(MemoryObject::new(ty)?));
        Ok(Memory {
            store: store.id,
            index,
        })
    }

    /// Adds an already created memory object to `store`.
    pub(crate) fn from_object(store: &mut StoreOpaque, object: MemoryObject) -> Result<Memory> {
        let index = StoreOpaque::next_index(store.memories.len(), "memories")?;
        store.memories.push(StableBox::new(object));
        Ok(Memory {
            store: store.id,
            index,
        })
    }

    /// The memory's object, checking the store.
    pub(crate) fn object<'a>(&self, store: &'a StoreOpaque) -> Result<&'a MemoryObject> {
        store.check(self.store, "memory")?;
        Ok(store.memories[self.index as usize].get())
    }

    /// The memory's object address, checking the store.
    pub(crate) fn object_ptr(&self, store: &StoreOpaque) -> Result<*mut MemoryObject> {
        store.check(self.store, "memory")?;
        Ok(store.memories[self.index as usize].as_ptr())
    }

    #[track_caller]
    fn expect_object<'a>(&self, store: &'a StoreOpaque) -> &'a MemoryObject {
        store.assert_owns(self.store, "memory");
        store.memories[self.index as usize].get()
    }

    /// The id of the owning store.
    pub(crate) fn store_id(&self) -> StoreId {
        self.store
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Engine, Store};

    #[test]
    fn host_access_and_growth() {
        let engine = Engine::default();
        let mut store = Store::new(&engine, 5u32);
        let memory = Memory::new(&mut store, MemoryType::new(1, Some(3))).unwrap();
        assert_eq!(memory.size(&store), 1);
        assert_eq!(memory.data_size(&store), 65_536);
        memory.write(&mut store, 10, b"kiln").unwrap();
        let mut buf = [0; 4];
        memory.read(&store, 10, &mut buf).unwrap();
        assert_eq!(&buf, b"kiln");
        assert_eq!(&memory.data(&store)[10..14], b"kiln");
        assert!(memory.read(&store, 65_534, &mut buf).is_err());
        assert!(memory.write(&mut store, usize::MAX, b"x").is_err());

        assert_eq!(memory.grow(&mut store, 2).unwrap(), 1);
        assert!(memory.grow(&mut store, 1).is_err());
        assert_eq!(memory.size(&store), 3);
        assert_eq!(&memory.data(&store)[10..14], b"kiln");

        let (bytes, data) = memory.data_and_store_mut(&mut store);
        bytes[0] = 1;
        *data += 1;
        assert_eq!(memory.data_mut(&mut store)[0], 1);
        assert_eq!(*store.data(), 6);
        assert_eq!(memory.ty(&store), MemoryType::new(1, Some(3)));
    }

    #[test]
    fn wrong_store_is_an_error() {
        let engine = Engine::default();
        let mut a = Store::new(&engine, ());
        let mut b = Store::new(&engine, ());
        let memory = Memory::new(&mut a, MemoryType::new(1, None)).unwrap();
        assert!(memory.grow(&mut b, 1).is_err());
        let mut buf = [0; 1];
        let err = memory.read(&b, 0, &mut buf).unwrap_err();
        assert!(err.to_string().contains("wrong store"));
        assert!(memory.write(&mut b, 0, &buf).is_err());
        assert!(Memory::new(&mut a, MemoryType::new(65_537, None)).is_err());
    }
}
