//! `VMContext`: an instance as seen from running code.

use super::{
    FUNC_REFS_OFFSET, TrapCode, VMFuncRef, VMInterpFunc, VMOffsets, VMSharedTypeIndex,
    VMStoreContext, ValRaw,
};

/// `b"kiln"`: the first word of every instance vmctx.
pub const VMCONTEXT_MAGIC: u32 = u32::from_le_bytes(*b"kiln");

/// Opaque callee context passed to an `array_call` (see [`super::VMArrayCallFn`]).
#[repr(C)]
pub struct VMOpaqueContext {
    _private: [u8; 0],
}

/// A linear memory's current extent. Owned by the memory object in the store
/// (stable address); instances hold pointers to it. `base` and
/// `current_length` change when the memory grows, so code must reload them
/// after anything that can grow memory (a call, `memory.grow`).
#[repr(C)]
#[derive(Debug)]
pub struct VMMemoryDefinition {
    /// Start of the memory's bytes (dangling but non-null when empty).
    pub base: *mut u8,
    /// Size in bytes.
    pub current_length: usize,
}

/// A table's current extent. Each element is one 64-bit slot: a
/// `*const VMFuncRef` for funcref tables, an externref handle otherwise,
/// 0 for null. Owned by the table object in the store.
#[repr(C)]
#[derive(Debug)]
pub struct VMTableDefinition {
    /// Start of the elements.
    pub base: *mut u64,
    /// Number of elements.
    pub current_elements: usize,
}

/// Storage of one global: a 16-byte slot holding the value's bits.
#[repr(C)]
#[derive(Debug, Default)]
pub struct VMGlobalDefinition {
    /// The global's value.
    pub value: ValRaw,
}

/// A data segment's bytes as `memory.init` sees them; `len` is 0 once dropped.
#[repr(C)]
#[derive(Debug)]
pub struct VMDataSegment {
    /// First byte.
    pub ptr: *const u8,
    /// Byte count (0 after `data.drop` or after an active segment is applied).
    pub len: usize,
}

/// An element segment's evaluated references as `table.init` sees them;
/// `len` is 0 once dropped.
#[repr(C)]
#[derive(Debug)]
pub struct VMElemSegment {
    /// First element (a 64-bit reference slot, as in tables).
    pub ptr: *const u64,
    /// Element count.
    pub len: usize,
}

/// Operations running code asks of the runtime, because they allocate or
/// consult the embedder's limits. A static table the store provides.
#[repr(C)]
#[derive(Debug)]
pub struct VMBuiltins {
    /// `memory.grow`: grows memory `memory` of `vmctx` by `delta` pages.
    /// Returns the old size in pages, [`VMBuiltins::GROW_FAILED`], or
    /// [`VMBuiltins::GROW_TRAPPED`] with the reason in the store's `pending`.
    pub memory_grow: unsafe extern "C" fn(vmctx: *mut VMContext, memory: u32, delta: u64) -> u64,
    /// `table.grow`: grows table `table` of `vmctx` by `delta` elements set
    /// to `init`. Returns as `memory_grow` does, in elements.
    pub table_grow:
        unsafe extern "C" fn(vmctx: *mut VMContext, table: u32, delta: u64, init: u64) -> u64,
}

impl VMBuiltins {
    /// Growth refused: the instruction returns -1.
    pub const GROW_FAILED: u64 = u64::MAX;
    /// Growth refused with a trap (`StoreLimits::trap_on_grow_failure`).
    pub const GROW_TRAPPED: u64 = u64::MAX - 1;
}

/// The header of an instance's vmctx. The regions described by
/// [`VMOffsets`] follow it in the same allocation.
#[repr(C)]
#[derive(Debug)]
pub struct VMContext {
    /// Always [`VMCONTEXT_MAGIC`].
    pub magic: u32,
    /// Index of the instance in its store.
    pub instance_index: u32,
    /// The store this instance lives in.
    pub store: *mut VMStoreContext,
    /// The runtime's builtin operations.
    pub builtins: *const VMBuiltins,
    /// The module's bytecode, translated lazily.
    pub code: *const crate::InterpModule,
    /// Layout of the regions after this header.
    pub offsets: VMOffsets,
}

// Accessors used by the interpreter. Each is `unsafe`: the caller guarantees
// `self` heads a vmctx allocation laid out by `self.offsets` and that the
// index is in range (validation guarantees that for translated code).
impl VMContext {
    #[inline(always)]
    unsafe fn region<T>(&self, offset: u32, index: u32) -> *mut T {
        let base = self as *const VMContext as *mut u8;
        // SAFETY: the caller guarantees the region exists and `index` is in it.
        unsafe { base.add(offset as usize).cast::<T>().add(index as usize) }
    }

    /// The `VMFuncRef` of function `index` (imported or defined).
    ///
    /// # Safety
    /// `index < counts.funcs` and the vmctx is fully initialised.
    #[inline(always)]
    pub unsafe fn func_ref(&self, index: u32) -> *const VMFuncRef {
        // SAFETY: forwarded to the caller.
        unsafe { *self.region::<*const VMFuncRef>(FUNC_REFS_OFFSET, index) }
    }

    /// Slot of the `func_refs` region for function `index`.
    ///
    /// # Safety
    /// `index < counts.funcs`.
    #[inline(always)]
    pub unsafe fn func_ref_slot(&self, index: u32) -> *mut *const VMFuncRef {
        // SAFETY: forwarded to the caller.
        unsafe { self.region(FUNC_REFS_OFFSET, index) }
    }

    /// The definition of memory `index`.
    ///
    /// # Safety
    /// `index < counts.memories`.
    #[inline(always)]
    pub unsafe fn memory(&self, index: u32) -> *mut VMMemoryDefinition {
        // SAFETY: forwarded to the caller.
        unsafe { *self.region::<*mut VMMemoryDefinition>(self.offsets.memories, index) }
    }

    /// Slot of the `memories` region for memory `index`.
    ///
    /// # Safety
    /// `index < counts.memories`.
    #[inline(always)]
    pub unsafe fn memory_slot(&self, index: u32) -> *mut *mut VMMemoryDefinition {
        // SAFETY: forwarded to the caller.
        unsafe { self.region(self.offsets.memories, index) }
    }

    /// The definition of table `index`.
    ///
    /// # Safety
    /// `index < counts.tables`.
    #[inline(always)]
    pub unsafe fn table(&self, index: u32) -> *mut VMTableDefinition {
        // SAFETY: forwarded to the caller.
        unsafe { *self.region::<*mut VMTableDefinition>(self.offsets.tables, index) }
    }

    /// Slot of the `tables` region for table `index`.
    ///
    /// # Safety
    /// `index < counts.tables`.
    #[inline(always)]
    pub unsafe fn table_slot(&self, index: u32) -> *mut *mut VMTableDefinition {
        // SAFETY: forwarded to the caller.
        unsafe { self.region(self.offsets.tables, index) }
    }

    /// The storage of global `index`.
    ///
    /// # Safety
    /// `index < counts.globals`.
    #[inline(always)]
    pub unsafe fn global(&self, index: u32) -> *mut VMGlobalDefinition {
        // SAFETY: forwarded to the caller.
        unsafe { *self.region::<*mut VMGlobalDefinition>(self.offsets.globals, index) }
    }

    /// Slot of the `globals` region for global `index`.
    ///
    /// # Safety
    /// `index < counts.globals`.
    #[inline(always)]
    pub unsafe fn global_slot(&self, index: u32) -> *mut *mut VMGlobalDefinition {
        // SAFETY: forwarded to the caller.
        unsafe { self.region(self.offsets.globals, index) }
    }

    /// Engine-wide id of module type `index`.
    ///
    /// # Safety
    /// `index < counts.types`.
    #[inline(always)]
    pub unsafe fn type_id(&self, index: u32) -> VMSharedTypeIndex {
        // SAFETY: forwarded to the caller.
        unsafe { *self.region::<VMSharedTypeIndex>(self.offsets.type_ids, index) }
    }

    /// Slot of the `type_ids` region for type `index`.
    ///
    /// # Safety
    /// `index < counts.types`.
    #[inline(always)]
    pub unsafe fn type_id_slot(&self, index: u32) -> *mut VMSharedTypeIndex {
        // SAFETY: forwarded to the caller.
        unsafe { self.region(self.offsets.type_ids, index) }
    }

    /// The `VMFuncRef` record of defined function `def_index` (0 = first
    /// non-imported function).
    ///
    /// # Safety
    /// `def_index < counts.funcs - counts.imported_funcs`.
    #[inline(always)]
    pub unsafe fn defined_func_ref(&self, def_index: u32) -> *mut VMFuncRef {
        // SAFETY: forwarded to the caller.
        unsafe { self.region(self.offsets.defined_func_refs, def_index) }
    }

    /// The interpreter context of defined function `def_index`.
    ///
    /// # Safety
    /// `def_index < counts.funcs - counts.imported_funcs`.
    #[inline(always)]
    pub unsafe fn interp_func(&self, def_index: u32) -> *mut VMInterpFunc {
        // SAFETY: forwarded to the caller.
        unsafe { self.region(self.offsets.interp_funcs, def_index) }
    }

    /// Storage of defined global `def_index`.
    ///
    /// # Safety
    /// `def_index < counts.globals - counts.imported_globals`.
    #[inline(always)]
    pub unsafe fn defined_global(&self, def_index: u32) -> *mut VMGlobalDefinition {
        // SAFETY: forwarded to the caller.
        unsafe { self.region(self.offsets.defined_globals, def_index) }
    }

    /// Data segment `index`.
    ///
    /// # Safety
    /// `index < counts.data`.
    #[inline(always)]
    pub unsafe fn data_segment(&self, index: u32) -> *mut VMDataSegment {
        // SAFETY: forwarded to the caller.
        unsafe { self.region(self.offsets.data_segments, index) }
    }

    /// Element segment `index`.
    ///
    /// # Safety
    /// `index < counts.elems`.
    #[inline(always)]
    pub unsafe fn elem_segment(&self, index: u32) -> *mut VMElemSegment {
        // SAFETY: forwarded to the caller.
        unsafe { self.region(self.offsets.elem_segments, index) }
    }

    /// Records `reason` as the store's pending unwind reason.
    ///
    /// # Safety
    /// `self.store` is valid.
    pub unsafe fn set_trap(&self, code: TrapCode) {
        // SAFETY: forwarded to the caller.
        unsafe { (*self.store).pending = Some(super::UnwindReason::Trap(code)) };
    }
}
