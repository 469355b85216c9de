//! `Linker`: resolves a module's imports by name.
//!
//! `Instance::new` takes imports positionally; a linker keeps a namespace of
//! `module::name` definitions and builds that list for each module it
//! instantiates. Definitions are either items already in a store (a memory,
//! another instance's exports) or host functions, which are kept
//! store-independent and placed into the store each time they are needed.
//!
//! This is the core of wasmtime's `Linker`; the namespace and definition
//! kinds are structured so that the rest (shadowing policies, `module`,
//! `define_unknown_imports_as_traps`, ...) can be added without changing
//! what exists.

use crate::func::HostFunc;
use crate::{
    AsContext, AsContextMut, Caller, Engine, Extern, FuncType, Instance, IntoFunc, Module, Result,
    Val,
};
use anyhow::{anyhow, bail};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// A namespace of definitions used to instantiate modules.
pub struct Linker<T: 'static> {
    engine: Engine,
    /// module name → item name → definition.
    map: HashMap<String, HashMap<String, Definition<T>>>,
    allow_shadowing: bool,
}

/// What a name is defined as.
enum Definition<T: 'static> {
    /// An item owned by a particular store.
    Extern(Extern),
    /// A host function, instantiated into each store that uses it.
    HostFunc(Arc<HostFunc<T>>),
}

impl<T: 'static> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Extern(e) => Definition::Extern(*e),
            Definition::HostFunc(f) => Definition::HostFunc(f.clone()),
        }
    }
}

impl<T: 'static> Linker<T> {
    /// An empty linker for modules and stores of `engine`.
    pub fn new(engine: &Engine) -> Linker<T> {
        Linker {
            engine: engine.clone(),
            map: HashMap::new(),
            allow_shadowing: false,
        }
    }

    /// The linker's engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether defining a name twice replaces the first definition (`true`)
    /// or is an error (`false`, the default).
    pub fn allow_shadowing(&mut self, allow: bool) -> &mut Self {
        self.allow_shadowing = allow;
        self
    }

    /// Defines `module::name` as `item`, which belongs to `store`.
    pub fn define(
        &mut self,
        store: impl AsContext<Data = T>,
        module: &str,
        name: &str,
        item: impl Into<Extern>,
    ) -> Result<&mut Self> {
        let item = item.into();
        let store = store.as_context();
        if !Engine::same(store.engine(), &self.engine) {
            bail!("cross-`Engine` definitions are not supported");
        }
        store.opaque().check(item.store_id(), "item")?;
        self.insert(module, name, Definition::Extern(item))?;
        Ok(self)
    }

    /// Defines `module::name` as a host function implemented by a Rust
    /// closure (see [`Func::wrap`](crate::Func::wrap)).
    pub fn func_wrap<Params, Args>(
        &mut self,
        module: &str,
        name: &str,
        func: impl IntoFunc<T, Params, Args>,
    ) -> Result<&mut Self> {
        let func = func.into_host_func(&self.engine);
        self.insert(module, name, Definition::HostFunc(Arc::new(func)))?;
        Ok(self)
    }

    /// Defines `module::name` as a host function of type `ty` working on
    /// `Val`s (see [`Func::new`](crate::Func::new)).
    pub fn func_new(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<&mut Self> {
        let func = HostFunc::new_dynamic(ty.in_engine(&self.engine), func);
        self.insert(module, name, Definition::HostFunc(Arc::new(func)))?;
        Ok(self)
    }

    /// Defines every export of `instance` under `module_name`.
    pub fn instance(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module_name: &str,
        instance: Instance,
    ) -> Result<&mut Self> {
        let exports: Vec<(String, Extern)> = instance
            .exports(&mut store)
            .map(|export| (export.name().to_string(), export.into_extern()))
            .collect();
        if exports.is_empty() {
            // Distinguish "no exports" from "instance of another store".
            instance.data(store.as_context().opaque())?;
        }
        for (name, item) in exports {
            self.define(&store, module_name, &name, item)?;
        }
        Ok(self)
    }

    /// Instantiates `module` in `store`, resolving each import by name.
    ///
    /// Fails with ``unknown import: `module::name` has not been defined`` if
    /// a name is missing, and otherwise as [`Instance::new`] does.
    pub fn instantiate(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &Module,
    ) -> Result<Instance> {
        if !Engine::same(module.engine(), &self.engine) {
            bail!("cross-`Engine` instantiation is not currently supported");
        }
        let mut imports = Vec::with_capacity(module.imports().len());
        for import in module.imports() {
            let item = self
                .get(&mut store, import.module(), import.name())
                .ok_or_else(|| {
                    anyhow!(
                        "unknown import: `{}::{}` has not been defined",
                        import.module(),
                        import.name()
                    )
                })?;
            imports.push(item);
        }
        Instance::new(store, module, &imports)
    }

    /// The definition of `module::name`, placed in `store` if it is a host
    /// function. `None` if the name is not defined.
    pub fn get(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        name: &str,
    ) -> Option<Extern> {
        match self.map.get(module)?.get(name)? {
            Definition::Extern(item) => Some(*item),
            Definition::HostFunc(func) => {
                Some(Extern::Func(func.to_func(&mut store.as_context_mut())))
            }
        }
    }

    fn insert(&mut self, module: &str, name: &str, definition: Definition<T>) -> Result<()> {
        let names = self.map.entry(module.to_string()).or_default();
        if !self.allow_shadowing && names.contains_key(name) {
            bail!("import of `{module}::{name}` defined twice");
        }
        names.insert(name.to_string(), definition);
        Ok(())
    }
}

impl<T: 'static> Clone for Linker<T> {
    fn clone(&self) -> Self {
        Linker {
            engine: self.engine.clone(),
            map: self.map.clone(),
            allow_shadowing: self.allow_shadowing,
        }
    }
}

impl<T: 'static> fmt::Debug for Linker<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<String> = self
            .map
            .iter()
            .flat_map(|(module, names)| names.keys().map(move |name| format!("{module}::{name}")))
            .collect();
        names.sort();
        f.debug_struct("Linker")
            .field("definitions", &names)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Memory, MemoryType, Store, ValType};

    #[test]
    fn resolves_imports_by_name() {
        let engine = Engine::default();
        let mut store = Store::new(&engine, 0u32);
        let mut linker = Linker::new(&engine);
        linker
            .func_wrap("env", "bump", |mut caller: Caller<'_, u32>| {
                *caller.data_mut() += 1
            })
            .unwrap();
        let ty = FuncType::new(&engine, [ValType::I32], [ValType::I32]);
        linker
            .func_new("env", "double", ty, |_, args, results| {
                results[0] = Val::I32(args[0].unwrap_i32() * 2);
                Ok(())
            })
            .unwrap();
        let memory = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
        linker.define(&store, "env", "memory", memory).unwrap();

        let module = Module::new(
            &engine,
            r#"(module
                 (import "env" "bump" (func $bump))
                 (import "env" "double" (func $double (param i32) (result i32)))
                 (import "env" "memory" (memory 1))
                 (func (export "run") (result i32) call $bump i32.const 21 call $double))"#,
        )
        .unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let run = instance
            .get_typed_func::<(), i32>(&mut store, "run")
            .unwrap();
        assert_eq!(run.call(&mut store, ()).unwrap(), 42);
        assert_eq!(*store.data(), 1);
        assert!(
            linker
                .get(&mut store, "env", "memory")
                .unwrap()
                .into_memory()
                .is_some()
        );
        assert!(linker.get(&mut store, "env", "nope").is_none());

        // Re-export an instance under a new name and link against it.
        linker.instance(&mut store, "first", instance).unwrap();
        let user = Module::new(
            &engine,
            r#"(module (import "first" "run" (func (result i32))))"#,
        )
        .unwrap();
        linker.instantiate(&mut store, &user).unwrap();
    }

    #[test]
    fn redefinition_and_missing_imports_are_errors() {
        let engine = Engine::default();
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        linker.func_wrap("m", "f", || {}).unwrap();
        let err = linker.func_wrap("m", "f", || 1i32).err().unwrap();
        assert!(err.to_string().contains("defined twice"), "{err}");
        linker
            .allow_shadowing(true)
            .func_wrap("m", "f", || 1i32)
            .unwrap();

        let module = Module::new(&engine, r#"(module (import "m" "g" (func)))"#).unwrap();
        let err = linker.instantiate(&mut store, &module).err().unwrap();
        assert!(err.to_string().contains("unknown import: `m::g`"), "{err}");

        let mut other = Store::new(&engine, ());
        let foreign = Memory::new(&mut other, MemoryType::new(0, None)).unwrap();
        assert!(linker.define(&store, "m", "mem", foreign).is_err());
    }
}
