//! `ModuleExport`: an export found by name once, then fetched from any
//! instance of its module without another name lookup.

use super::Module;
use super::info::EntityIndex;
use crate::{AsContextMut, Caller, Extern, Instance};
use std::sync::atomic::{AtomicU64, Ordering};

/// The next module id (see [`next_module_id`]).
static NEXT_MODULE_ID: AtomicU64 = AtomicU64::new(0);

/// A process-wide unique id for a newly compiled module, so that a
/// [`ModuleExport`] is never taken for an export of another module, even
/// one that later lives at the same address.
pub(super) fn next_module_id() -> u64 {
    NEXT_MODULE_ID.fetch_add(1, Ordering::Relaxed)
}

/// Which export of which module: made by [`Module::get_export_index`] and
/// used with [`Instance::get_module_export`] or
/// [`Caller::get_module_export`] on instances of that module.
#[derive(Copy, Clone, Debug)]
pub struct ModuleExport {
    /// The id of the module the export belongs to.
    module: u64,
    /// What the export refers to in that module's index spaces.
    index: EntityIndex,
}

impl Module {
    /// The export named `name` as a [`ModuleExport`], or `None` if the
    /// module has no such export. Looking it up on an instance later costs
    /// no name lookup.
    pub fn get_export_index(&self, name: &str) -> Option<ModuleExport> {
        let export = self.inner.info.export(name)?;
        Some(ModuleExport {
            module: self.inner.id,
            index: export.index,
        })
    }
}

impl Instance {
    /// The export `export` of this instance; `None` if `export` belongs to
    /// another module than the one this instance was made from, or if the
    /// instance does not belong to `store`.
    pub fn get_module_export(
        &self,
        mut store: impl AsContextMut,
        export: &ModuleExport,
    ) -> Option<Extern> {
        let store = store.as_context_mut();
        let store = store.opaque();
        let data = self.data(store).ok()?;
        if data.module.inner.id != export.module {
            return None;
        }
        data.get(store.id, export.index)
    }
}

impl<T: 'static> Caller<'_, T> {
    /// The export `export` of the calling instance; `None` if the host
    /// itself called, or if `export` belongs to another module than the
    /// caller's.
    pub fn get_module_export(&mut self, export: &ModuleExport) -> Option<Extern> {
        let index = self.caller_index()?;
        let store = self.store_opaque();
        let data = store.instances.get(index as usize)?;
        if data.module.inner.id != export.module {
            return None;
        }
        data.get(store.id, export.index)
    }
}
