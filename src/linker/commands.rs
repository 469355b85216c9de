//! [`Linker::module`]: the WASI convention of Commands and Reactors.
//!
//! A Command (a module exporting `_start`) is a program: each call to one of
//! its exports runs in a fresh instance, created from an [`InstancePre`]
//! made once when the module is defined. A Reactor is a library: one
//! instance, initialised by its `_initialize` export, whose exports are
//! then defined like any instance's.
//!
//! [`InstancePre`]: crate::InstancePre

use super::Linker;
use super::definition::Definition;
use crate::{Extern, ExternType, Func, Module, Result, StoreContextMut};
use anyhow::{Context as _, anyhow, bail};

/// Non-function exports toolchains add to Commands, which are tolerated
/// (and not defined in the linker).
const TOLERATED_COMMAND_EXPORTS: &[(&str, &str)] = &[
    ("memory", "memory"),
    ("table", "table"),
    ("__indirect_function_table", "table"),
    ("__data_end", "global"),
    ("__heap_base", "global"),
    ("__dso_handle", "global"),
    ("__rtti_base", "global"),
];

/// Which convention a module follows.
pub(super) enum ModuleKind {
    /// Exports `_start`: an instance per call.
    Command,
    /// Everything else: one instance, initialised by `_initialize` if
    /// exported.
    Reactor,
}

impl ModuleKind {
    /// The kind of `module`, or why it is neither.
    pub(super) fn categorize(module: &Module) -> Result<ModuleKind> {
        match (
            module.get_export("_start"),
            module.get_export("_initialize"),
        ) {
            (Some(_), Some(_)) => bail!("Program cannot be both a Command and a Reactor"),
            (Some(start), None) => match start {
                ExternType::Func(_) => Ok(ModuleKind::Command),
                _ => bail!("`_start` must be a function"),
            },
            (None, Some(initialize)) => match initialize {
                ExternType::Func(_) => Ok(ModuleKind::Reactor),
                _ => bail!("`_initialize` must be a function"),
            },
            (None, None) => Ok(ModuleKind::Reactor),
        }
    }
}

impl<T: 'static> Linker<T> {
    /// Defines the function exports of the Command `module` under
    /// `module_name`, each instantiating the module afresh per call.
    pub(super) fn command(
        &mut self,
        store: &mut StoreContextMut<'_, T>,
        module_name: &str,
        module: &Module,
    ) -> Result<()> {
        // Check every export before defining anything.
        for export in module.exports() {
            let ty = export.ty();
            let tolerated = TOLERATED_COMMAND_EXPORTS
                .iter()
                .any(|&(name, kind)| name == export.name() && kind == ty.kind_name());
            if ty.func().is_none() && !tolerated && !self.allow_unknown_exports {
                bail!("command export '{}' is not a function", export.name());
            }
        }
        let pre = self.instantiate_pre(module)?;
        for export in module.exports() {
            let ExternType::Func(ty) = export.ty() else {
                continue;
            };
            let pre = pre.clone();
            let export_name = export.name().to_string();
            let func = Func::new(&mut *store, ty, move |mut caller, params, results| {
                let instance = pre.instantiate(&mut caller)?;
                let func = instance
                    .get_func(&mut caller, &export_name)
                    .ok_or_else(|| anyhow!("command export `{export_name}` is missing"))?;
                func.call(&mut caller, params, results)
            });
            let definition = Definition::new(store.opaque(), Extern::Func(func))?;
            self.insert(module_name, export.name(), definition)?;
        }
        Ok(())
    }

    /// Instantiates the Reactor `module` once, runs its `_initialize`, and
    /// defines its exports under `module_name`.
    pub(super) fn reactor(
        &mut self,
        store: &mut StoreContextMut<'_, T>,
        module_name: &str,
        module: &Module,
    ) -> Result<()> {
        let instance = self.instantiate(&mut *store, module)?;
        if let Some(Extern::Func(initialize)) = instance.get_export(&mut *store, "_initialize") {
            initialize
                .typed::<(), ()>(&*store)
                .and_then(|initialize| initialize.call(&mut *store, ()))
                .context("calling the Reactor initialization function")?;
        }
        self.instance(store, module_name, instance)?;
        Ok(())
    }
}
