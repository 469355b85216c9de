//! The vmctx allocation of an instance, and raw access to its regions.
//!
//! An instance's vmctx is one zeroed, 16-aligned block of
//! `VMOffsets::size` bytes: the [`VMContext`] header followed by the regions
//! `VMOffsets` places. The accessors here compute region addresses from the
//! block's base pointer (not from a `&VMContext`, whose provenance covers
//! only the header), which is how the runtime writes the regions while
//! building an instance and reads them afterwards.

use anyhow::{Result, anyhow};
use kiln_interp::vm::{
    VMContext, VMDataSegment, VMElemSegment, VMFuncRef, VMGlobalDefinition, VMInterpFunc,
    VMMemoryDefinition, VMOffsets, VMSharedTypeIndex, VMTableDefinition,
};
use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::ptr::NonNull;

/// Alignment of the block (and of every region in it).
const VMCTX_ALIGN: usize = 16;

/// Owns one instance's vmctx block.
pub(crate) struct VmctxAllocation {
    ptr: NonNull<VMContext>,
    layout: Layout,
}

// SAFETY: the block is owned data (pointers into the same store's objects);
// moving the owner between threads moves the whole store.
unsafe impl Send for VmctxAllocation {}
// SAFETY: shared access hands out only the raw pointer.
unsafe impl Sync for VmctxAllocation {}

impl VmctxAllocation {
    /// Allocates a zeroed block laid out by `offsets`. The header is zero
    /// too; the caller initialises everything before running code.
    pub(crate) fn new(offsets: &VMOffsets) -> Result<VmctxAllocation> {
        let size = (offsets.size as usize).max(size_of::<VMContext>());
        let layout = Layout::from_size_align(size, VMCTX_ALIGN)
            .map_err(|_| anyhow!("instance context of {size} bytes is too large"))?;
        // SAFETY: `layout` has a non-zero size (at least the header).
        let ptr = unsafe { alloc_zeroed(layout) };
        let ptr = NonNull::new(ptr.cast::<VMContext>())
            .ok_or_else(|| anyhow!("failed to allocate an instance context of {size} bytes"))?;
        Ok(VmctxAllocation { ptr, layout })
    }

    /// The block's address (with provenance over all of it).
    pub(crate) fn vmctx(&self) -> *mut VMContext {
        self.ptr.as_ptr()
    }
}

impl Drop for VmctxAllocation {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with `self.layout`, freed once.
        unsafe { dealloc(self.ptr.as_ptr().cast(), self.layout) }
    }
}

macro_rules! region_accessors {
    ($($(#[$doc:meta])* $name:ident: $offset:ident => $ty:ty;)*) => {$(
        $(#[$doc])*
        ///
        /// # Safety
        /// `vmctx` heads a block allocated for its `offsets` (header
        /// initialised) and `index` is within the region's count.
        #[inline]
        pub(crate) unsafe fn $name(vmctx: *mut VMContext, index: u32) -> *mut $ty {
            // SAFETY: the caller guarantees the header is readable and the
            // slot lies inside the block.
            unsafe {
                let offset = (*vmctx).offsets.$offset as usize;
                vmctx.cast::<u8>().add(offset).cast::<$ty>().add(index as usize)
            }
        }
    )*};
}

region_accessors! {
    /// The `func_refs` slot of function `index`.
    func_ref_slot: func_refs => *const VMFuncRef;
    /// The `memories` slot of memory `index`.
    memory_slot: memories => *mut VMMemoryDefinition;
    /// The `tables` slot of table `index`.
    table_slot: tables => *mut VMTableDefinition;
    /// The `globals` slot of global `index`.
    global_slot: globals => *mut VMGlobalDefinition;
    /// The `type_ids` entry of module type `index`.
    type_id_slot: type_ids => VMSharedTypeIndex;
    /// The `VMFuncRef` of defined function `index`.
    defined_func_ref: defined_func_refs => VMFuncRef;
    /// The `VMInterpFunc` of defined function `index`.
    interp_func: interp_funcs => VMInterpFunc;
    /// The storage of defined global `index`.
    defined_global: defined_globals => VMGlobalDefinition;
    /// Data segment `index`.
    data_segment: data_segments => VMDataSegment;
    /// Element segment `index`.
    elem_segment: elem_segments => VMElemSegment;
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_interp::vm::ModuleCounts;

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
        let block = VmctxAllocation::new(&offsets).unwrap();
        let vmctx = block.vmctx();
        // SAFETY: the header is zeroed memory we own; writing `offsets` makes
        // the accessors usable, and every index below is in range.
        unsafe {
            std::ptr::addr_of_mut!((*vmctx).offsets).write(offsets);
            let base = vmctx as usize;
            let end = base + offsets.size as usize;
            let last_elem = elem_segment(vmctx, 0) as usize + size_of::<VMElemSegment>();
            assert!(last_elem <= end);
            assert_eq!(
                func_ref_slot(vmctx, 2) as usize,
                base + offsets.func_refs as usize + 16
            );
            assert_eq!(
                defined_func_ref(vmctx, 1) as usize,
                base + offsets.defined_func_refs as usize + 32
            );
            assert!((*global_slot(vmctx, 1)).is_null());
            assert_eq!((*defined_global(vmctx, 0)).value.bits(), 0);
            (*type_id_slot(vmctx, 1)) = VMSharedTypeIndex(7);
            assert_eq!(*type_id_slot(vmctx, 1), VMSharedTypeIndex(7));
            assert!((*memory_slot(vmctx, 0)).is_null() && (*table_slot(vmctx, 0)).is_null());
            assert_eq!((*data_segment(vmctx, 0)).len, 0);
            assert!((*interp_func(vmctx, 0)).instance.is_null());
        }
    }
}
