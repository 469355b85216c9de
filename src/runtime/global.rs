//! `GlobalRecord`: the store's entry for a global.
//!
//! A global's value lives in a [`VMGlobalDefinition`]: inside the defining
//! instance's vmctx for globals a module defines, in a heap slot owned by
//! the record for globals the host creates. Importing instances point at the
//! same definition, so every reader sees every write.

use super::stable_box::StableBox;
use crate::types::GlobalType;
use kiln_vm::{VMGlobalDefinition, ValRaw};
use std::ptr::NonNull;

/// A global known to the store.
pub(crate) struct GlobalRecord {
    /// The global's type.
    pub(crate) ty: GlobalType,
    /// Where the value lives.
    def: NonNull<VMGlobalDefinition>,
    /// The storage, for host-created globals.
    _owned: Option<StableBox<VMGlobalDefinition>>,
}

impl GlobalRecord {
    /// A host-created global holding `value`.
    pub(crate) fn new_owned(ty: GlobalType, value: ValRaw) -> GlobalRecord {
        let owned = StableBox::new(VMGlobalDefinition { value });
        // SAFETY: `StableBox::as_ptr` is never null.
        let def = unsafe { NonNull::new_unchecked(owned.as_ptr()) };
        GlobalRecord {
            ty,
            def,
            _owned: Some(owned),
        }
    }

    /// A global whose storage is owned elsewhere in the store (an
    /// instance's vmctx), which outlives the record.
    pub(crate) fn new_borrowed(ty: GlobalType, def: NonNull<VMGlobalDefinition>) -> GlobalRecord {
        GlobalRecord {
            ty,
            def,
            _owned: None,
        }
    }

    /// The definition running code reads and writes.
    pub(crate) fn def_ptr(&self) -> *mut VMGlobalDefinition {
        self.def.as_ptr()
    }

    /// The current value, raw.
    pub(crate) fn get_raw(&self) -> ValRaw {
        // SAFETY: the definition is owned by this store and outlives the
        // record; no running code can write concurrently (it needs `&mut`
        // access to the store, excluded by this borrow).
        unsafe { (*self.def.as_ptr()).value }
    }

    /// Overwrites the value.
    pub(crate) fn set_raw(&mut self, value: ValRaw) {
        // SAFETY: as in `get_raw`, and `&mut self` makes the access exclusive.
        unsafe { (*self.def.as_ptr()).value = value }
    }
}
