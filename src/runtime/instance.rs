//! `InstanceData`: the store's record of an instance.
//!
//! The instance itself is its vmctx block; the record owns that block and
//! everything it points into that is not owned elsewhere (the module, whose
//! bytecode and data bytes the vmctx references, and the evaluated element
//! segments), plus the handles of the instance's memories, tables and
//! globals so that exporting one yields the same handle every time.

use super::pooling::PooledVmctx;
use crate::module::EntityIndex;
use crate::store::StoreId;
use crate::{Extern, Func, Global, Memory, Module, Table};
use kiln_vm::VMContextAllocation;
use kiln_vm::{VMContext, VMFuncRef};
use std::ops::Range;
use std::ptr::NonNull;

/// An instance's vmctx block, from wherever the engine allocates them.
pub(crate) enum VmctxBlock {
    /// Allocated for this instance, freed with it.
    OnDemand(VMContextAllocation),
    /// A pooling-allocator slot, zeroed and returned when dropped.
    Pooled(PooledVmctx),
}

impl VmctxBlock {
    /// The block's address (with provenance over all of it).
    pub(crate) fn vmctx(&self) -> *mut VMContext {
        match self {
            VmctxBlock::OnDemand(block) => block.vmctx(),
            VmctxBlock::Pooled(block) => block.vmctx(),
        }
    }

    /// Declares bytes `range` of the block untouched until
    /// [`touch_all`](Self::touch_all), so a pooled block's reset can skip
    /// them (see [`PooledVmctx::set_untouched`]).
    pub(crate) fn set_untouched(&mut self, range: Range<usize>) {
        if let VmctxBlock::Pooled(block) = self {
            block.set_untouched(range);
        }
    }

    /// Withdraws [`set_untouched`](Self::set_untouched).
    pub(crate) fn touch_all(&mut self) {
        if let VmctxBlock::Pooled(block) = self {
            block.touch_all();
        }
    }
}

/// An instance, as the store keeps it.
pub(crate) struct InstanceData {
    /// The instantiated module.
    pub(crate) module: Module,
    /// The vmctx block.
    pub(crate) vmctx: VmctxBlock,
    /// Every memory of the instance, imports first.
    pub(crate) memories: Box<[Memory]>,
    /// Every table, imports first.
    pub(crate) tables: Box<[Table]>,
    /// Every global, imports first.
    pub(crate) globals: Box<[Global]>,
    /// Storage of the evaluated element segments that are not dropped (the
    /// vmctx points here).
    pub(crate) elems: Vec<Box<[u64]>>,
}

impl InstanceData {
    /// The `VMFuncRef` of function `index`, if in range.
    pub(crate) fn func_ref(&self, index: u32) -> Option<NonNull<VMFuncRef>> {
        if index as usize >= self.module.info().funcs.len() {
            return None;
        }
        // SAFETY: the vmctx was fully initialised at instantiation and
        // `index` is within its function count.
        let ptr = unsafe { *VMContext::func_ref_slot(self.vmctx.vmctx(), index) };
        NonNull::new(ptr.cast_mut())
    }

    /// The item at `index` as an `Extern` of store `store`.
    pub(crate) fn get(&self, store: StoreId, index: EntityIndex) -> Option<Extern> {
        Some(match index {
            EntityIndex::Func(i) => Extern::Func(Func::from_vm(store, self.func_ref(i)?)),
            EntityIndex::Memory(i) => Extern::Memory(*self.memories.get(i as usize)?),
            EntityIndex::Table(i) => Extern::Table(*self.tables.get(i as usize)?),
            EntityIndex::Global(i) => Extern::Global(*self.globals.get(i as usize)?),
        })
    }

    /// The export named `name`.
    pub(crate) fn export(&self, store: StoreId, name: &str) -> Option<Extern> {
        let export = self.module.info().export(name)?;
        self.get(store, export.index)
    }
}
