//! `VMOffsets`: where each region of an instance's vmctx lives.

use crate::{VMContext, VMDataSegment, VMElemSegment, VMFuncRef, VMGlobalDefinition, VMInterpFunc};
use core::mem::size_of;

/// How many entities of each kind a module has: all `VMOffsets` depends on.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct ModuleCounts {
    /// Types in the module's type section.
    pub types: u32,
    /// Functions, imported and defined.
    pub funcs: u32,
    /// Imported functions (the first `imported_funcs` function indices).
    pub imported_funcs: u32,
    /// Tables, imported and defined.
    pub tables: u32,
    /// Memories, imported and defined.
    pub memories: u32,
    /// Globals, imported and defined.
    pub globals: u32,
    /// Imported globals.
    pub imported_globals: u32,
    /// Data segments.
    pub data: u32,
    /// Element segments.
    pub elems: u32,
}

/// Byte offsets of the regions that follow the [`VMContext`] header, in order:
///
/// | region | element | count |
/// |---|---|---|
/// | `func_refs` | `*const VMFuncRef` | all functions (imports point at the exporter's record) |
/// | `memories` | `*mut VMMemoryDefinition` | all memories |
/// | `tables` | `*mut VMTableDefinition` | all tables |
/// | `globals` | `*mut VMGlobalDefinition` | all globals (imports point at the exporter's) |
/// | `type_ids` | `VMSharedTypeIndex` (u32) | module types |
/// | `type_adapters` | `*const VMWasmCallFunction` | module types (native code's calls to non-native callees, see below) |
/// | `defined_func_refs` | `VMFuncRef` | defined functions |
/// | `interp_funcs` | `VMInterpFunc` | defined functions |
/// | `defined_globals` | `VMGlobalDefinition` | defined globals |
/// | `data_segments` | `VMDataSegment` | data segments |
/// | `elem_segments` | `VMElemSegment` | element segments |
///
/// Every region starts 16-byte aligned; `func_refs` always at
/// [`FUNC_REFS_OFFSET`]. The whole block is `size` bytes, aligned to 16.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct VMOffsets {
    /// The counts the offsets were computed from.
    pub counts: ModuleCounts,
    /// Offset of `func_refs`.
    pub func_refs: u32,
    /// Offset of `memories`.
    pub memories: u32,
    /// Offset of `tables`.
    pub tables: u32,
    /// Offset of `globals`.
    pub globals: u32,
    /// Offset of `type_ids`.
    pub type_ids: u32,
    /// Offset of `type_adapters`: for each module type, native code that
    /// calls a function of that type through its `array_call` entry while
    /// taking its arguments and results like a `wasm_call` body, whose
    /// first argument is the callee's `VMFuncRef` (null without native
    /// code). Native call sites call a callee's `wasm_call` when it has
    /// one and this adapter otherwise, with one call instruction.
    pub type_adapters: u32,
    /// Offset of `defined_func_refs`.
    pub defined_func_refs: u32,
    /// Offset of `interp_funcs`.
    pub interp_funcs: u32,
    /// Offset of `defined_globals`.
    pub defined_globals: u32,
    /// Offset of `data_segments`.
    pub data_segments: u32,
    /// Offset of `elem_segments`.
    pub elem_segments: u32,
    /// Total size of the vmctx allocation in bytes.
    pub size: u32,
}

/// Alignment of a vmctx allocation and of each region in it.
pub const VMCTX_ALIGN: usize = 16;

const fn align16(n: usize) -> usize {
    (n + 15) & !15
}

/// Offset of the `func_refs` region, the first after the header, in every
/// vmctx whatever the module: a call finds its callee's reference with one
/// load from the vmctx instead of first loading the region's offset.
pub const FUNC_REFS_OFFSET: u32 = align16(size_of::<VMContext>()) as u32;

impl VMOffsets {
    /// Computes the layout for a module with `counts`.
    pub fn new(counts: ModuleCounts) -> VMOffsets {
        let defined_funcs = (counts.funcs - counts.imported_funcs) as usize;
        let defined_globals = (counts.globals - counts.imported_globals) as usize;
        let ptr = size_of::<usize>();
        let mut at = FUNC_REFS_OFFSET as usize;
        let mut region = |bytes: usize| {
            let start = at;
            at = align16(at + bytes);
            u32::try_from(start).expect("vmctx larger than 4 GiB")
        };
        let func_refs = region(counts.funcs as usize * ptr);
        let memories = region(counts.memories as usize * ptr);
        let tables = region(counts.tables as usize * ptr);
        let globals = region(counts.globals as usize * ptr);
        let type_ids = region(counts.types as usize * size_of::<u32>());
        let type_adapters = region(counts.types as usize * ptr);
        let defined_func_refs = region(defined_funcs * size_of::<VMFuncRef>());
        let interp_funcs = region(defined_funcs * size_of::<VMInterpFunc>());
        let defined_globals = region(defined_globals * size_of::<VMGlobalDefinition>());
        let data_segments = region(counts.data as usize * size_of::<VMDataSegment>());
        let elem_segments = region(counts.elems as usize * size_of::<VMElemSegment>());
        let size = region(0);
        VMOffsets {
            counts,
            func_refs,
            memories,
            tables,
            globals,
            type_ids,
            type_adapters,
            defined_func_refs,
            interp_funcs,
            defined_globals,
            data_segments,
            elem_segments,
            size,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_ordered_aligned_and_sized() {
        let counts = ModuleCounts {
            types: 3,
            funcs: 5,
            imported_funcs: 2,
            tables: 1,
            memories: 1,
            globals: 4,
            imported_globals: 1,
            data: 2,
            elems: 1,
        };
        let o = VMOffsets::new(counts);
        let starts = [
            o.func_refs,
            o.memories,
            o.tables,
            o.globals,
            o.type_ids,
            o.type_adapters,
            o.defined_func_refs,
            o.interp_funcs,
            o.defined_globals,
            o.data_segments,
            o.elem_segments,
            o.size,
        ];
        assert!(starts.windows(2).all(|w| w[0] <= w[1]));
        assert!(
            starts
                .iter()
                .all(|s| (*s as usize).is_multiple_of(VMCTX_ALIGN))
        );
        assert_eq!(o.memories - o.func_refs, 48); // 5 pointers, padded to 16
        // Whatever the counts, `func_refs` is where the executor looks.
        assert_eq!(o.func_refs, FUNC_REFS_OFFSET);
        assert_eq!(
            VMOffsets::new(ModuleCounts::default()).func_refs,
            FUNC_REFS_OFFSET
        );
        assert_eq!(o.interp_funcs - o.defined_func_refs, 3 * 32);
        assert_eq!(o.data_segments - o.defined_globals, 3 * 16);
    }
}
