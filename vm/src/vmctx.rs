//! `VMContext`: an instance as seen from running code.

use crate::{
    FUNC_REFS_OFFSET, TrapCode, VMBuiltins, VMCTX_ALIGN, VMFuncRef, VMInterpFunc, VMOffsets,
    VMSharedTypeIndex, VMStoreContext, ValRaw,
};
use anyhow::{Result, anyhow};
use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::ptr::NonNull;

/// `b"kiln"`: the first word of every instance vmctx.
pub const VMCONTEXT_MAGIC: u32 = u32::from_le_bytes(*b"kiln");

/// Opaque callee context passed to an `array_call` (see [`crate::VMArrayCallFn`]).
#[repr(C)]
pub struct VMOpaqueContext {
    _private: [u8; 0],
}

/// Opaque per-module data of the interpreter (`kiln_interp::InterpModule`),
/// which [`VMContext::interp_module`] points at. Only the interpreter looks
/// inside; the ABI and the other tiers treat it as an address.
#[repr(C)]
pub struct VMInterpModule {
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

/// The header of an instance's vmctx. The regions described by
/// [`VMOffsets`] follow it in the same allocation.
///
/// Native code reads the header at the `OFFSET_*` constants and the regions
/// at the offsets [`VMOffsets`] computes (the same for every instance of a
/// module). Rust code reaches the regions only through the associated
/// functions below, which take the raw `*mut VMContext` of the whole block:
/// a pointer derived from a `&VMContext` would only have provenance over the
/// header, and reading or writing a region through it is undefined
/// behaviour.
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
    /// The interpreter's data for the module (its bytecode, translated
    /// lazily), opaque to everything but the interpreter.
    pub interp_module: *const VMInterpModule,
    /// Layout of the regions after this header.
    pub offsets: VMOffsets,
}

/// Generates the raw accessors of the vmctx regions.
macro_rules! regions {
    ($($(#[$doc:meta])* $name:ident: $offset:expr => $ty:ty;)*) => {$(
        $(#[$doc])*
        ///
        /// # Safety
        /// `vmctx` is the base of a vmctx block (provenance over all of
        /// it) whose header is initialised, and `index` is within the
        /// region's count.
        #[inline(always)]
        pub unsafe fn $name(vmctx: *mut VMContext, index: u32) -> *mut $ty {
            // SAFETY: forwarded to the caller: the region lies inside the
            // block `vmctx` has provenance over.
            unsafe {
                let offset = $offset(vmctx) as usize;
                vmctx.cast::<u8>().add(offset).cast::<$ty>().add(index as usize)
            }
        }
    )*};
}

impl VMContext {
    /// Byte offset of `magic`.
    pub const OFFSET_MAGIC: u32 = core::mem::offset_of!(VMContext, magic) as u32;
    /// Byte offset of `store`.
    pub const OFFSET_STORE: u32 = core::mem::offset_of!(VMContext, store) as u32;
    /// Byte offset of `builtins`.
    pub const OFFSET_BUILTINS: u32 = core::mem::offset_of!(VMContext, builtins) as u32;
    /// Byte offset of `interp_module`.
    pub const OFFSET_INTERP_MODULE: u32 = core::mem::offset_of!(VMContext, interp_module) as u32;
    /// Byte offset of `offsets`.
    pub const OFFSET_OFFSETS: u32 = core::mem::offset_of!(VMContext, offsets) as u32;

    regions! {
        /// Slot of the `func_refs` region for function `index` (imported or
        /// defined): a pointer to its [`VMFuncRef`].
        func_ref_slot: |_| FUNC_REFS_OFFSET => *const VMFuncRef;
        /// Slot of the `memories` region for memory `index`.
        memory_slot: |v: *mut VMContext| (*v).offsets.memories => *mut VMMemoryDefinition;
        /// Slot of the `tables` region for table `index`.
        table_slot: |v: *mut VMContext| (*v).offsets.tables => *mut VMTableDefinition;
        /// Slot of the `globals` region for global `index`.
        global_slot: |v: *mut VMContext| (*v).offsets.globals => *mut VMGlobalDefinition;
        /// Slot of the `type_ids` region for module type `index`.
        type_id_slot: |v: *mut VMContext| (*v).offsets.type_ids => VMSharedTypeIndex;
        /// Slot of the `type_adapters` region for module type `index`.
        type_adapter_slot: |v: *mut VMContext| (*v).offsets.type_adapters => *const crate::VMWasmCallFunction;
        /// The [`VMFuncRef`] record of defined function `index` (0 = first
        /// non-imported function).
        defined_func_ref: |v: *mut VMContext| (*v).offsets.defined_func_refs => VMFuncRef;
        /// The interpreter context of defined function `index`.
        interp_func: |v: *mut VMContext| (*v).offsets.interp_funcs => VMInterpFunc;
        /// Storage of defined global `index`.
        defined_global: |v: *mut VMContext| (*v).offsets.defined_globals => VMGlobalDefinition;
        /// Data segment `index`.
        data_segment: |v: *mut VMContext| (*v).offsets.data_segments => VMDataSegment;
        /// Element segment `index`.
        elem_segment: |v: *mut VMContext| (*v).offsets.elem_segments => VMElemSegment;
    }

    /// The `VMFuncRef` of function `index` (imported or defined).
    ///
    /// # Safety
    /// As for [`VMContext::func_ref_slot`], and the slot is initialised.
    #[inline(always)]
    pub unsafe fn func_ref(vmctx: *mut VMContext, index: u32) -> *const VMFuncRef {
        // SAFETY: forwarded to the caller.
        unsafe { *Self::func_ref_slot(vmctx, index) }
    }

    /// The definition of memory `index`.
    ///
    /// # Safety
    /// As for [`VMContext::memory_slot`], and the slot is initialised.
    #[inline(always)]
    pub unsafe fn memory(vmctx: *mut VMContext, index: u32) -> *mut VMMemoryDefinition {
        // SAFETY: forwarded to the caller.
        unsafe { *Self::memory_slot(vmctx, index) }
    }

    /// The definition of table `index`.
    ///
    /// # Safety
    /// As for [`VMContext::table_slot`], and the slot is initialised.
    #[inline(always)]
    pub unsafe fn table(vmctx: *mut VMContext, index: u32) -> *mut VMTableDefinition {
        // SAFETY: forwarded to the caller.
        unsafe { *Self::table_slot(vmctx, index) }
    }

    /// The storage of global `index`.
    ///
    /// # Safety
    /// As for [`VMContext::global_slot`], and the slot is initialised.
    #[inline(always)]
    pub unsafe fn global(vmctx: *mut VMContext, index: u32) -> *mut VMGlobalDefinition {
        // SAFETY: forwarded to the caller.
        unsafe { *Self::global_slot(vmctx, index) }
    }

    /// Engine-wide id of module type `index`.
    ///
    /// # Safety
    /// As for [`VMContext::type_id_slot`], and the slot is initialised.
    #[inline(always)]
    pub unsafe fn type_id(vmctx: *mut VMContext, index: u32) -> VMSharedTypeIndex {
        // SAFETY: forwarded to the caller.
        unsafe { *Self::type_id_slot(vmctx, index) }
    }

    /// Records `code` as the store's pending unwind reason.
    ///
    /// # Safety
    /// `vmctx` is initialised and its store is live and not borrowed.
    pub unsafe fn set_trap(vmctx: *mut VMContext, code: TrapCode) {
        // SAFETY: forwarded to the caller.
        unsafe { (*(*vmctx).store).pending = Some(crate::UnwindReason::Trap(code)) };
    }
}

/// Owns one instance's vmctx block, allocated on demand (the pooling
/// allocator has its own slots): zeroed, 16-byte aligned, `offsets.size`
/// bytes. The runtime and the interpreter's test harness both build
/// instances in it, through [`VMContext`]'s accessors.
pub struct VMContextAllocation {
    ptr: NonNull<VMContext>,
    layout: Layout,
}

// SAFETY: the block is owned data (pointers into the same store's objects);
// moving the owner between threads moves the whole store.
unsafe impl Send for VMContextAllocation {}
// SAFETY: shared access hands out only the raw pointer.
unsafe impl Sync for VMContextAllocation {}

impl VMContextAllocation {
    /// Allocates a zeroed block laid out by `offsets`. The header is zero
    /// too; the caller writes it (see [`VMContext`]) before anything reads
    /// the regions.
    pub fn new(offsets: &VMOffsets) -> Result<VMContextAllocation> {
        let size = Self::size(offsets);
        let layout = Layout::from_size_align(size, VMCTX_ALIGN)
            .map_err(|_| anyhow!("instance context of {size} bytes is too large"))?;
        // SAFETY: `layout` has a non-zero size (at least the header).
        let ptr = unsafe { alloc_zeroed(layout) };
        let ptr = NonNull::new(ptr.cast::<VMContext>())
            .ok_or_else(|| anyhow!("failed to allocate an instance context of {size} bytes"))?;
        Ok(VMContextAllocation { ptr, layout })
    }

    /// Bytes of the block for `offsets` (never less than the header).
    pub fn size(offsets: &VMOffsets) -> usize {
        (offsets.size as usize).max(size_of::<VMContext>())
    }

    /// The block's address, with provenance over all of it.
    pub fn vmctx(&self) -> *mut VMContext {
        self.ptr.as_ptr()
    }
}

impl Drop for VMContextAllocation {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with `self.layout`, freed once.
        unsafe { dealloc(self.ptr.as_ptr().cast(), self.layout) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ModuleCounts;

    #[test]
    fn header_offsets_match_the_layout() {
        assert_eq!(VMContext::OFFSET_MAGIC, 0);
        assert_eq!(VMContext::OFFSET_STORE, 8);
        assert_eq!(VMContext::OFFSET_BUILTINS, 16);
        assert_eq!(VMContext::OFFSET_INTERP_MODULE, 24);
        assert_eq!(VMContext::OFFSET_OFFSETS, 32);
        assert!(FUNC_REFS_OFFSET as usize >= size_of::<VMContext>());
    }

    #[test]
    fn regions_are_inside_the_block_and_zeroed() {
        let counts = ModuleCounts {
            types: 2,
            funcs: 3,
            imported_funcs: 1,
            tables: 1,
            memories: 1,
            globals: 2,
            imported_globals: 1,
            data: 1,
            elems: 1,
        };
        let offsets = VMOffsets::new(counts);
        let block = VMContextAllocation::new(&offsets).unwrap();
        let vmctx = block.vmctx();
        // SAFETY: the header is zeroed memory we own; writing `offsets` makes
        // the accessors usable, and every index below is in range.
        unsafe {
            core::ptr::addr_of_mut!((*vmctx).offsets).write(offsets);
            let base = vmctx as usize;
            let end = base + offsets.size as usize;
            let last_elem = VMContext::elem_segment(vmctx, 0) as usize + size_of::<VMElemSegment>();
            assert!(last_elem <= end);
            assert_eq!(
                VMContext::func_ref_slot(vmctx, 2) as usize,
                base + offsets.func_refs as usize + 16
            );
            assert_eq!(
                VMContext::defined_func_ref(vmctx, 1) as usize,
                base + offsets.defined_func_refs as usize + 32
            );
            assert!(VMContext::global(vmctx, 1).is_null());
            assert_eq!((*VMContext::defined_global(vmctx, 0)).value.bits(), 0);
            *VMContext::type_id_slot(vmctx, 1) = VMSharedTypeIndex(7);
            assert_eq!(VMContext::type_id(vmctx, 1), VMSharedTypeIndex(7));
            assert!(VMContext::memory(vmctx, 0).is_null() && VMContext::table(vmctx, 0).is_null());
            assert_eq!((*VMContext::data_segment(vmctx, 0)).len, 0);
            assert!((*VMContext::interp_func(vmctx, 0)).instance.is_null());
            // A write through one accessor is seen through the raw block.
            (*VMContext::data_segment(vmctx, 0)).len = 5;
            let raw = vmctx
                .cast::<u8>()
                .add(offsets.data_segments as usize + size_of::<*const u8>())
                .cast::<usize>();
            assert_eq!(*raw, 5);
        }
    }
}
