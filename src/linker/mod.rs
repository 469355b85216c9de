//! `Linker`: resolves a module's imports by name.
//!
//! `Instance::new` takes imports positionally; a linker keeps a namespace of
//! `module::name` definitions and builds that list for each module it
//! instantiates. Definitions are either items already in a store (a memory,
//! another instance's exports) or host functions, which are kept
//! store-independent: one linker can instantiate modules in any number of
//! stores of its engine, and each store gets its own copy of each host
//! function the first time it needs it (later uses reuse that copy).
//!
//! [`Linker::instantiate_pre`] type-checks a module's imports once and
//! returns an [`InstancePre`] that instantiates without checking again;
//! [`Linker::module`] defines a whole module following the WASI Commands
//! and Reactors convention (see `commands.rs`).

mod commands;
mod definition;
mod error;

pub use error::UnknownImportError;

use crate::func::HostFunc;
use crate::{
    AsContext, AsContextMut, Caller, Engine, Extern, ExternType, Func, FuncType, Global, HeapType,
    ImportType, Instance, InstancePre, IntoFunc, Memory, Module, Ref, Result, Table, Trap, Val,
    ValRaw,
};
use anyhow::{Context as _, anyhow, bail};
pub(crate) use definition::Definition;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// A namespace of definitions used to instantiate modules: imports are
/// resolved by their two-level `module::name`.
///
/// Names cannot be defined twice unless [shadowing](Linker::allow_shadowing)
/// is allowed. Host functions defined with [`func_wrap`](Linker::func_wrap),
/// [`func_new`](Linker::func_new) and
/// [`func_new_unchecked`](Linker::func_new_unchecked) belong to no store, so
/// a linker holding only those can instantiate into any store of its
/// engine; items defined with [`define`](Linker::define),
/// [`instance`](Linker::instance) or [`module`](Linker::module) belong to one
/// store, and instantiating with them in another fails. `T` is the data type
/// of the stores the linker works with.
///
/// ```
/// # fn main() -> kiln::Result<()> {
/// use kiln::{Caller, Engine, Linker, Module, Store};
/// let engine = Engine::default();
/// let mut linker = Linker::new(&engine);
/// linker.func_wrap("host", "add", |mut caller: Caller<'_, u32>, x: i32| {
///     *caller.data_mut() += x as u32;
/// })?;
/// let module = Module::new(&engine, r#"(module (import "host" "add" (func $add (param i32)))
///     (func (export "run") i32.const 5 call $add))"#)?;
/// for _ in 0..3 {
///     let mut store = Store::new(&engine, 0u32);
///     let instance = linker.instantiate(&mut store, &module)?;
///     instance.get_typed_func::<(), ()>(&mut store, "run")?.call(&mut store, ())?;
///     assert_eq!(*store.data(), 5);
/// }
/// # Ok(())
/// # }
/// ```
pub struct Linker<T: 'static> {
    engine: Engine,
    /// module name → item name → definition.
    map: HashMap<String, HashMap<String, Definition<T>>>,
    /// Single-level names ([`Linker::define_name`]).
    single: HashMap<String, Definition<T>>,
    allow_shadowing: bool,
    allow_unknown_exports: bool,
}

impl<T: 'static> Linker<T> {
    /// An empty linker for modules and stores of `engine`.
    ///
    /// ```
    /// let engine = kiln::Engine::default();
    /// let linker = kiln::Linker::<()>::new(&engine);
    /// assert!(kiln::Engine::same(linker.engine(), &engine));
    /// ```
    pub fn new(engine: &Engine) -> Linker<T> {
        Linker {
            engine: engine.clone(),
            map: HashMap::new(),
            single: HashMap::new(),
            allow_shadowing: false,
            allow_unknown_exports: false,
        }
    }

    /// The linker's engine.
    ///
    /// ```
    /// let engine = kiln::Engine::default();
    /// let linker = kiln::Linker::<()>::new(&engine);
    /// assert!(kiln::Engine::same(linker.engine(), &engine));
    /// ```
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether defining a name that is already defined replaces the earlier
    /// definition (`true`) or is an error (`false`, the default).
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// let mut linker = kiln::Linker::<()>::new(&kiln::Engine::default());
    /// linker.func_wrap("m", "f", || 1i32)?;
    /// assert!(linker.func_wrap("m", "f", || 2i32).is_err());
    /// linker.allow_shadowing(true);
    /// linker.func_wrap("m", "f", || 2i32)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn allow_shadowing(&mut self, allow: bool) -> &mut Self {
        self.allow_shadowing = allow;
        self
    }

    /// Whether [`Linker::module`] accepts a Command module that exports
    /// something other than functions and the few items toolchains are
    /// known to add (see [`Linker::module`]). Off by default.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// # let engine = kiln::Engine::default();
    /// let module = kiln::Module::new(&engine, r#"(module
    ///     (func (export "_start")) (global (export "counter") i32 (i32.const 0)))"#)?;
    /// let mut store = kiln::Store::new(&engine, ());
    /// let mut linker = kiln::Linker::new(&engine);
    /// assert!(linker.module(&mut store, "cmd", &module).is_err());
    /// linker.allow_unknown_exports(true);
    /// linker.module(&mut store, "cmd", &module)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn allow_unknown_exports(&mut self, allow: bool) -> &mut Self {
        self.allow_unknown_exports = allow;
        self
    }

    /// Defines every function import of `module` that is not defined yet as
    /// a function that traps when called: the call fails with
    /// [`Trap::UnknownImport`], caused by an [`UnknownImportError`] naming
    /// the import. Imports of other kinds are left undefined.
    ///
    /// The functions belong to no store. (In wasmtime the error is the
    /// `UnknownImportError` alone; Kiln adds the trap code.)
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// use kiln::{Engine, Linker, Module, Store, Trap, UnknownImportError};
    /// let engine = Engine::default();
    /// let module = Module::new(&engine, r#"(module (import "env" "missing" (func $m))
    ///     (func (export "run") call $m))"#)?;
    /// let mut linker = Linker::new(&engine);
    /// linker.define_unknown_imports_as_traps(&module)?;
    /// let mut store = Store::new(&engine, ());
    /// let instance = linker.instantiate(&mut store, &module)?;
    /// let err = instance.get_typed_func::<(), ()>(&mut store, "run")?.call(&mut store, ()).unwrap_err();
    /// assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::UnknownImport));
    /// assert_eq!(err.downcast_ref::<UnknownImportError>().unwrap().name(), "missing");
    /// # Ok(())
    /// # }
    /// ```
    pub fn define_unknown_imports_as_traps(&mut self, module: &Module) -> Result<()> {
        for import in module.imports() {
            if self.lookup(import.module(), import.name()).is_some() {
                continue;
            }
            let ExternType::Func(ty) = import.ty() else {
                continue;
            };
            let error = UnknownImportError::new(&import);
            let func = HostFunc::from_raw_fn(
                ty.in_engine(&self.engine),
                Arc::new(move |_: Caller<'_, T>, _: &mut [ValRaw]| -> Result<()> {
                    Err(anyhow::Error::new(error.clone()).context(Trap::UnknownImport))
                }),
            );
            self.insert(
                import.module(),
                import.name(),
                Definition::HostFunc(Arc::new(func)),
            )?;
        }
        Ok(())
    }

    /// Defines every import of `module` that is not defined yet as a default
    /// value: functions that ignore their arguments and return zeros (null
    /// for references); globals holding zero (or null), with the mutability
    /// the import asks for; memories and tables of the import's minimum
    /// size, zeroed (or null-filled), created in `store`.
    ///
    /// The functions belong to no store; the globals, memories and tables
    /// belong to `store`. Fails, naming the import, for a type with no
    /// default value (Kiln has none in WebAssembly 2.0, whose references
    /// are all nullable) or if creating a memory or table fails.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// use kiln::{Engine, Linker, Module, Store};
    /// let engine = Engine::default();
    /// let module = Module::new(&engine, r#"(module
    ///     (import "env" "f" (func $f (result i32)))
    ///     (import "env" "g" (global $g i64))
    ///     (import "env" "memory" (memory 1))
    ///     (func (export "run") (result i32) call $f))"#)?;
    /// let mut store = Store::new(&engine, ());
    /// let mut linker = Linker::new(&engine);
    /// linker.define_unknown_imports_as_default_values(&mut store, &module)?;
    /// let instance = linker.instantiate(&mut store, &module)?;
    /// assert_eq!(instance.get_typed_func::<(), i32>(&mut store, "run")?.call(&mut store, ())?, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn define_unknown_imports_as_default_values(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module: &Module,
    ) -> Result<()> {
        for import in module.imports() {
            if self.lookup(import.module(), import.name()).is_some() {
                continue;
            }
            let definition = self.default_value(&mut store, &import).with_context(|| {
                format!(
                    "no default value exists for `{}::{}` with type `{}`",
                    import.module(),
                    import.name(),
                    import.ty()
                )
            })?;
            self.insert(import.module(), import.name(), definition)?;
        }
        Ok(())
    }

    /// The default-value definition for `import`.
    fn default_value(
        &self,
        store: &mut impl AsContextMut<Data = T>,
        import: &ImportType<'_>,
    ) -> Result<Definition<T>> {
        let mut store = store.as_context_mut();
        let item: Extern = match import.ty() {
            ExternType::Func(ty) => {
                let results = ty.results().len();
                let func = HostFunc::from_raw_fn(
                    ty.in_engine(&self.engine),
                    Arc::new(
                        move |_: Caller<'_, T>, slots: &mut [ValRaw]| -> Result<()> {
                            // All-zero bits are zero, or null, in every type.
                            for slot in slots.iter_mut().take(results) {
                                *slot = ValRaw::zero();
                            }
                            Ok(())
                        },
                    ),
                );
                return Ok(Definition::HostFunc(Arc::new(func)));
            }
            ExternType::Global(ty) => {
                let value = Val::default_for_ty(ty.content())
                    .ok_or_else(|| anyhow!("no default value for `{}`", ty.content()))?;
                Global::new(&mut store, ty, value)?.into()
            }
            ExternType::Table(ty) => {
                if !ty.element().is_nullable() {
                    bail!("no default value for `{}`", ty.element());
                }
                let init = match ty.element().heap_type() {
                    HeapType::Func => Ref::Func(None),
                    HeapType::Extern => Ref::Extern(None),
                };
                Table::new(&mut store, ty, init)?.into()
            }
            ExternType::Memory(ty) => Memory::new(&mut store, ty)?.into(),
        };
        Definition::new(store.opaque(), item)
    }

    /// Defines `module::name` as `item`, which belongs to `store`.
    ///
    /// Fails if the name is already defined (and shadowing is off), if the
    /// item belongs to another store, or if the store belongs to another
    /// engine than the linker.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// use kiln::{Engine, Global, GlobalType, Linker, Module, Mutability, Store, Val, ValType};
    /// let engine = Engine::default();
    /// let mut store = Store::new(&engine, ());
    /// let offset = Global::new(&mut store, GlobalType::new(ValType::I32, Mutability::Const), Val::I32(8))?;
    /// let mut linker = Linker::new(&engine);
    /// linker.define(&store, "host", "offset", offset)?;
    /// let module = Module::new(&engine, r#"(module (import "host" "offset" (global i32))
    ///     (memory 1) (data (global.get 0) "hi"))"#)?;
    /// linker.instantiate(&mut store, &module)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn define(
        &mut self,
        store: impl AsContext<Data = T>,
        module: &str,
        name: &str,
        item: impl Into<Extern>,
    ) -> Result<&mut Self> {
        let definition = self.store_definition(&store, item.into())?;
        self.insert(module, name, definition)?;
        Ok(self)
    }

    /// Defines the single-level name `name` as `item`, which belongs to
    /// `store`.
    ///
    /// Single-level names come from the module-linking proposal; core
    /// WebAssembly imports always have two levels, so these definitions are
    /// never used to resolve them (nor listed by [`Linker::iter`]). Kept for
    /// wasmtime compatibility.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// use kiln::{Engine, Linker, Memory, MemoryType, Store};
    /// let engine = Engine::default();
    /// let mut store = Store::new(&engine, ());
    /// let memory = Memory::new(&mut store, MemoryType::new(1, None))?;
    /// let mut linker = Linker::new(&engine);
    /// linker.define_name(&store, "memory", memory)?;
    /// assert!(linker.define_name(&store, "memory", memory).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn define_name(
        &mut self,
        store: impl AsContext<Data = T>,
        name: &str,
        item: impl Into<Extern>,
    ) -> Result<&mut Self> {
        let definition = self.store_definition(&store, item.into())?;
        if !self.allow_shadowing && self.single.contains_key(name) {
            bail!("import of `{name}` defined twice");
        }
        self.single.insert(name.to_string(), definition);
        Ok(self)
    }

    /// Defines `module::name` as a host function of type `ty` working on
    /// `Val`s (see [`Func::new`]); it belongs to no store.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// use kiln::{Engine, FuncType, Linker, Module, Store, Val, ValType};
    /// let engine = Engine::default();
    /// let mut linker = Linker::<()>::new(&engine);
    /// let ty = FuncType::new(&engine, [ValType::I32], [ValType::I32]);
    /// linker.func_new("host", "double", ty, |_caller, params, results| {
    ///     results[0] = Val::I32(params[0].unwrap_i32() * 2);
    ///     Ok(())
    /// })?;
    /// let module = Module::new(&engine, r#"(module (import "host" "double" (func (param i32) (result i32))))"#)?;
    /// linker.instantiate(&mut Store::new(&engine, ()), &module)?;
    /// # Ok(())
    /// # }
    /// ```
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

    /// Defines `module::name` as a host function of type `ty` working
    /// directly on the raw argument buffer: parameters are read from the
    /// front of the slice and results written back to its front (its length
    /// is at least the larger of the two counts). It belongs to no store.
    ///
    /// # Safety
    ///
    /// `func` must write a value of the declared type into each result slot
    /// (for `funcref` / `externref` results: null, or a reference of the
    /// store the function is called in, as converted by Kiln); running code
    /// trusts those bits without checking them.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// use kiln::{Engine, FuncType, Linker, Module, Store, ValRaw, ValType};
    /// let engine = Engine::default();
    /// let mut linker = Linker::<()>::new(&engine);
    /// let ty = FuncType::new(&engine, [ValType::I32, ValType::I32], [ValType::I32]);
    /// // SAFETY: the closure writes an `i32` into the one result slot.
    /// unsafe {
    ///     linker.func_new_unchecked("host", "add", ty, |_caller, slots| {
    ///         let sum = slots[0].get_i32().wrapping_add(slots[1].get_i32());
    ///         slots[0] = ValRaw::i32(sum);
    ///         Ok(())
    ///     })?;
    /// }
    /// let module = Module::new(&engine, r#"(module (import "host" "add" (func $add (param i32 i32) (result i32)))
    ///     (func (export "run") (result i32) i32.const 40 i32.const 2 call $add))"#)?;
    /// let mut store = Store::new(&engine, ());
    /// let instance = linker.instantiate(&mut store, &module)?;
    /// assert_eq!(instance.get_typed_func::<(), i32>(&mut store, "run")?.call(&mut store, ())?, 42);
    /// # Ok(())
    /// # }
    /// ```
    pub unsafe fn func_new_unchecked(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &mut [ValRaw]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<&mut Self> {
        let func = HostFunc::from_raw_fn(ty.in_engine(&self.engine), Arc::new(func));
        self.insert(module, name, Definition::HostFunc(Arc::new(func)))?;
        Ok(self)
    }

    /// Defines `module::name` as a host function implemented by a Rust
    /// closure (see [`Func::wrap`]); it belongs to no store, so it can be
    /// instantiated into any number of stores.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// use kiln::{Caller, Engine, Linker, Module, Store};
    /// let engine = Engine::default();
    /// let mut linker = Linker::new(&engine);
    /// linker.func_wrap("host", "double", |x: i32| x * 2)?;
    /// linker.func_wrap("host", "count", |mut caller: Caller<'_, u32>| *caller.data_mut() += 1)?;
    /// let module = Module::new(&engine, r#"(module
    ///     (import "host" "double" (func (param i32) (result i32)))
    ///     (import "host" "count" (func)))"#)?;
    /// for _ in 0..3 {
    ///     linker.instantiate(&mut Store::new(&engine, 0), &module)?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
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

    /// Defines every export of `instance` under `module_name`.
    ///
    /// Fails if a name is already defined (and shadowing is off) or if the
    /// instance belongs to another store.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// use kiln::{Engine, Linker, Module, Store};
    /// let engine = Engine::default();
    /// let mut store = Store::new(&engine, ());
    /// let mut linker = Linker::new(&engine);
    /// let lib = Module::new(&engine, r#"(module (func (export "seven") (result i32) i32.const 7))"#)?;
    /// let lib = linker.instantiate(&mut store, &lib)?;
    /// linker.instance(&mut store, "lib", lib)?;
    /// let user = Module::new(&engine, r#"(module (import "lib" "seven" (func (result i32))))"#)?;
    /// linker.instantiate(&mut store, &user)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn instance(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module_name: &str,
        instance: Instance,
    ) -> Result<&mut Self> {
        let mut store = store.as_context_mut();
        // Fails for an instance of another store.
        instance.data(store.opaque())?;
        let exports: Vec<(String, Extern)> = instance
            .exports(&mut store)
            .map(|export| (export.name().to_string(), export.into_extern()))
            .collect();
        for (name, item) in exports {
            let definition = Definition::new(store.opaque(), item)?;
            self.insert(module_name, &name, definition)?;
        }
        Ok(self)
    }

    /// Defines `module_name` as `module`, following the WASI convention of
    /// Commands and Reactors.
    ///
    /// * A module exporting `_start` is a **Command**: each of its function
    ///   exports is defined as a function (of `store`) that, on every call,
    ///   creates a fresh instance of the module and calls that instance's
    ///   export, so no state survives from one call to the next. The
    ///   module's imports are resolved and type-checked once, now, so they
    ///   must already be defined. Besides functions, a Command may export
    ///   `memory`, `table` and `__indirect_function_table` (tables), and the
    ///   globals `__data_end`, `__heap_base`, `__dso_handle` and
    ///   `__rtti_base` (which toolchains add; they are not defined in the
    ///   linker); anything else is an error unless
    ///   [`allow_unknown_exports`](Linker::allow_unknown_exports) is on.
    /// * Any other module is a **Reactor**: it is instantiated once in
    ///   `store`, its `_initialize` export (if any) is called, and its
    ///   exports are defined under `module_name` as with
    ///   [`Linker::instance`].
    ///
    /// A module exporting both `_start` and `_initialize`, or either as a
    /// non-function, is an error.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// use kiln::{Engine, Linker, Module, Store};
    /// let engine = Engine::default();
    /// let mut store = Store::new(&engine, ());
    /// let mut linker = Linker::new(&engine);
    /// // A Command: every call gets a new instance, so the counter restarts.
    /// let command = Module::new(&engine, r#"(module
    ///     (global $n (mut i32) (i32.const 0))
    ///     (func (export "_start"))
    ///     (func (export "bump") (result i32)
    ///         global.get $n i32.const 1 i32.add global.set $n global.get $n))"#)?;
    /// linker.module(&mut store, "cmd", &command)?;
    /// let bump = linker.get(&mut store, "cmd", "bump").unwrap().into_func().unwrap();
    /// let bump = bump.typed::<(), i32>(&store)?;
    /// assert_eq!(bump.call(&mut store, ())?, 1);
    /// assert_eq!(bump.call(&mut store, ())?, 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn module(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module_name: &str,
        module: &Module,
    ) -> Result<&mut Self> {
        let mut store = store.as_context_mut();
        if !Engine::same(store.engine(), &self.engine) {
            bail!("cross-`Engine` instantiation is not currently supported");
        }
        if !Engine::same(module.engine(), &self.engine) {
            bail!("cross-`Engine` instantiation is not currently supported");
        }
        match commands::ModuleKind::categorize(module)? {
            commands::ModuleKind::Command => self.command(&mut store, module_name, module)?,
            commands::ModuleKind::Reactor => self.reactor(&mut store, module_name, module)?,
        }
        Ok(self)
    }

    /// Defines `as_module::as_name` as whatever `module::name` is defined
    /// as.
    ///
    /// Fails if `module::name` is not defined, or if `as_module::as_name` is
    /// (and shadowing is off).
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// let engine = kiln::Engine::default();
    /// let mut linker = kiln::Linker::<()>::new(&engine);
    /// linker.func_wrap("wasi_snapshot_preview1", "proc_exit", |_code: i32| {})?;
    /// linker.alias("wasi_snapshot_preview1", "proc_exit", "wasi_unstable", "proc_exit")?;
    /// let mut store = kiln::Store::new(&engine, ());
    /// assert!(linker.get(&mut store, "wasi_unstable", "proc_exit").is_ok());
    /// assert!(linker.alias("nope", "nope", "a", "b").is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn alias(
        &mut self,
        module: &str,
        name: &str,
        as_module: &str,
        as_name: &str,
    ) -> Result<&mut Self> {
        let Some(definition) = self.lookup(module, name).cloned() else {
            bail!("no item named `{module}::{name}` defined");
        };
        self.insert(as_module, as_name, definition)?;
        Ok(self)
    }

    /// Defines everything currently defined under `module` under
    /// `as_module` too.
    ///
    /// Fails if a name would be defined twice (and shadowing is off); the
    /// names aliased before that remain defined.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// let engine = kiln::Engine::default();
    /// let mut linker = kiln::Linker::<()>::new(&engine);
    /// linker.func_wrap("env", "a", || {})?.func_wrap("env", "b", || {})?;
    /// linker.alias_module("env", "env2")?;
    /// let mut store = kiln::Store::new(&engine, ());
    /// assert!(linker.get(&mut store, "env2", "a").is_ok());
    /// assert!(linker.get(&mut store, "env2", "b").is_ok());
    /// # Ok(())
    /// # }
    /// ```
    pub fn alias_module(&mut self, module: &str, as_module: &str) -> Result<()> {
        let items: Vec<(String, Definition<T>)> = match self.map.get(module) {
            Some(names) => names
                .iter()
                .map(|(name, definition)| (name.clone(), definition.clone()))
                .collect(),
            None => Vec::new(),
        };
        for (name, definition) in items {
            self.insert(as_module, &name, definition)?;
        }
        Ok(())
    }

    /// Instantiates `module` in `store`, resolving each import by name.
    ///
    /// Fails with an [`UnknownImportError`] if an import is not defined,
    /// with ``incompatible import type for `module::name` `` (and the
    /// reason) if a definition does not match its import, if a definition
    /// belongs to another store, and otherwise as [`Instance::new`] does.
    /// As in wasmtime, the current sizes of defined memories and tables are
    /// used for matching.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// use kiln::{Engine, Linker, Module, Store};
    /// let engine = Engine::default();
    /// let mut linker = Linker::new(&engine);
    /// linker.func_wrap("host", "double", |x: i32| x * 2)?;
    /// let module = Module::new(&engine, r#"(module (import "host" "double" (func $d (param i32) (result i32)))
    ///     (func (export "run") (result i32) i32.const 21 call $d))"#)?;
    /// let mut store = Store::new(&engine, ());
    /// let instance = linker.instantiate(&mut store, &module)?;
    /// assert_eq!(instance.get_typed_func::<(), i32>(&mut store, "run")?.call(&mut store, ())?, 42);
    /// # Ok(())
    /// # }
    /// ```
    pub fn instantiate(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &Module,
    ) -> Result<Instance> {
        let mut store = store.as_context_mut();
        let pre = self.pre(module, Some(store.opaque()))?;
        pre.instantiate(&mut store)
    }

    /// Resolves and type-checks the imports of `module` once, returning an
    /// [`InstancePre`] that instantiates it without checking again — in
    /// this store or any other of the engine, as long as every definition
    /// used is a host function (store-owned definitions tie it to their
    /// store).
    ///
    /// Fails with an [`UnknownImportError`] if an import is not defined, or
    /// with ``incompatible import type for `module::name` `` and the reason.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// use kiln::{Engine, Linker, Module, Store};
    /// let engine = Engine::default();
    /// let mut linker = Linker::new(&engine);
    /// linker.func_wrap("host", "double", |x: i32| x * 2)?;
    /// let module = Module::new(&engine, r#"(module (import "host" "double" (func (param i32) (result i32))))"#)?;
    /// let pre = linker.instantiate_pre(&module)?;
    /// for _ in 0..10 {
    ///     pre.instantiate(&mut Store::new(&engine, ()))?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn instantiate_pre(&self, module: &Module) -> Result<InstancePre<T>> {
        self.pre(module, None)
    }

    /// The definitions for `module`'s imports, checked; with `store`, the
    /// sizes of that store's memories and tables are refreshed first.
    fn pre(
        &self,
        module: &Module,
        store: Option<&crate::store::StoreOpaque>,
    ) -> Result<InstancePre<T>> {
        if !Engine::same(module.engine(), &self.engine) {
            bail!("cross-`Engine` instantiation is not currently supported");
        }
        let mut items = Vec::with_capacity(module.imports().len());
        for import in module.imports() {
            let mut definition = self
                .lookup(import.module(), import.name())
                .ok_or_else(|| UnknownImportError::new(&import))?
                .clone();
            if let Some(store) = store {
                definition.update_size(store);
            }
            definition.check(&import.ty()).with_context(|| {
                format!(
                    "incompatible import type for `{}::{}`",
                    import.module(),
                    import.name()
                )
            })?;
            items.push(definition);
        }
        Ok(InstancePre::new(module.clone(), items.into()))
    }

    /// Every definition, as `(module, name, item)`, in no particular
    /// order. Host functions are placed into `store` (once per store).
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// let engine = kiln::Engine::default();
    /// let mut linker = kiln::Linker::<()>::new(&engine);
    /// linker.func_wrap("a", "f", || {})?.func_wrap("b", "g", || 1i32)?;
    /// let mut store = kiln::Store::new(&engine, ());
    /// let mut names: Vec<String> = linker
    ///     .iter(&mut store)
    ///     .map(|(module, name, item)| {
    ///         assert!(item.into_func().is_some());
    ///         format!("{module}::{name}")
    ///     })
    ///     .collect();
    /// names.sort();
    /// assert_eq!(names, ["a::f", "b::g"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn iter<'a: 'p, 'p>(
        &'a self,
        mut store: impl AsContextMut<Data = T> + 'p,
    ) -> impl Iterator<Item = (&'a str, &'a str, Extern)> + 'p {
        self.map
            .iter()
            .flat_map(|(module, names)| {
                names
                    .iter()
                    .map(move |(name, definition)| (module.as_str(), name.as_str(), definition))
            })
            .map(move |(module, name, definition)| {
                let item = definition.to_extern(&mut store.as_context_mut());
                (module, name, item)
            })
    }

    /// The definition of `module::name`, or an error naming it if the
    /// linker has none (as in wasmtime 48); a host function is placed into
    /// `store` the first time (later calls return the same function).
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// let engine = kiln::Engine::default();
    /// let mut linker = kiln::Linker::<()>::new(&engine);
    /// linker.func_wrap("env", "f", || 3i32)?;
    /// let mut store = kiln::Store::new(&engine, ());
    /// let f = linker.get(&mut store, "env", "f").unwrap().into_func().unwrap();
    /// assert_eq!(f.typed::<(), i32>(&store)?.call(&mut store, ())?, 3);
    /// assert!(linker.get(&mut store, "env", "g").is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn get(
        &self,
        store: impl AsContextMut<Data = T>,
        module: &str,
        name: &str,
    ) -> Result<Extern> {
        self.find(store, module, name)
            .ok_or_else(|| anyhow!("missing definition for `{module}::{name}`"))
    }

    /// [`Linker::get`] without the error: for lookups that may miss.
    fn find(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        name: &str,
    ) -> Option<Extern> {
        let definition = self.lookup(module, name)?;
        Some(definition.to_extern(&mut store.as_context_mut()))
    }

    /// The definition that would satisfy `import` (looked up by its names;
    /// the type is not checked), if any.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// let engine = kiln::Engine::default();
    /// let mut linker = kiln::Linker::<()>::new(&engine);
    /// linker.func_wrap("env", "f", || {})?;
    /// let module = kiln::Module::new(&engine, r#"(module (import "env" "f" (func)) (import "env" "g" (func)))"#)?;
    /// let mut store = kiln::Store::new(&engine, ());
    /// let imports: Vec<_> = module.imports().collect();
    /// assert!(linker.get_by_import(&mut store, &imports[0]).is_some());
    /// assert!(linker.get_by_import(&mut store, &imports[1]).is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub fn get_by_import(
        &self,
        store: impl AsContextMut<Data = T>,
        import: &ImportType<'_>,
    ) -> Option<Extern> {
        self.find(store, import.module(), import.name())
    }

    /// The "default export" of `module`: the function defined as
    /// `module::""`, else `module::_start`, else a new function that does
    /// nothing. Fails if the name found is not a function.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// let engine = kiln::Engine::default();
    /// let mut linker = kiln::Linker::<u32>::new(&engine);
    /// linker.func_wrap("app", "_start", |mut caller: kiln::Caller<'_, u32>| *caller.data_mut() = 7)?;
    /// let mut store = kiln::Store::new(&engine, 0);
    /// linker.get_default(&mut store, "app")?.typed::<(), ()>(&store)?.call(&mut store, ())?;
    /// assert_eq!(*store.data(), 7);
    /// // Nothing defined: a no-op.
    /// linker.get_default(&mut store, "other")?.call(&mut store, &[], &mut [])?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn get_default(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
    ) -> Result<Func> {
        if let Some(item) = self.find(&mut store, module, "") {
            return item
                .into_func()
                .ok_or_else(|| anyhow!("default export in '{module}' is not a function"));
        }
        if let Some(item) = self.find(&mut store, module, "_start") {
            return item
                .into_func()
                .ok_or_else(|| anyhow!("`_start` in '{module}' is not a function"));
        }
        Ok(Func::wrap(store, || {}))
    }

    /// The definition of `module::name`.
    fn lookup(&self, module: &str, name: &str) -> Option<&Definition<T>> {
        self.map.get(module)?.get(name)
    }

    /// A definition of `item` from `store`, checking the engine and store.
    fn store_definition(
        &self,
        store: &impl AsContext<Data = T>,
        item: Extern,
    ) -> Result<Definition<T>> {
        let store = store.as_context();
        if !Engine::same(store.engine(), &self.engine) {
            bail!("cross-`Engine` definitions are not supported");
        }
        Definition::new(store.opaque(), item)
    }

    /// Adds `module::name`, honouring the shadowing setting.
    fn insert(&mut self, module: &str, name: &str, definition: Definition<T>) -> Result<()> {
        let names = match self.map.get_mut(module) {
            Some(names) => names,
            None => self.map.entry(module.to_string()).or_default(),
        };
        if !self.allow_shadowing && names.contains_key(name) {
            bail!("import of `{module}::{name}` defined twice");
        }
        names.insert(name.to_string(), definition);
        Ok(())
    }
}

impl<T: 'static> Default for Linker<T> {
    /// An empty linker for a default [`Engine`].
    ///
    /// ```
    /// let linker = kiln::Linker::<()>::default();
    /// # let _ = linker;
    /// ```
    fn default() -> Linker<T> {
        Linker::new(&Engine::default())
    }
}

impl<T: 'static> Clone for Linker<T> {
    /// A linker with the same definitions and settings; host functions are
    /// shared (and so share their per-store copies), whatever `T` is.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// struct NotClone;
    /// let mut linker = kiln::Linker::<NotClone>::new(&kiln::Engine::default());
    /// linker.func_wrap("env", "f", || {})?;
    /// let copy = linker.clone();
    /// assert!(format!("{copy:?}").contains("env::f"));
    /// # Ok(())
    /// # }
    /// ```
    fn clone(&self) -> Self {
        Linker {
            engine: self.engine.clone(),
            map: self.map.clone(),
            single: self.single.clone(),
            allow_shadowing: self.allow_shadowing,
            allow_unknown_exports: self.allow_unknown_exports,
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
            .field("allow_shadowing", &self.allow_shadowing)
            .field("allow_unknown_exports", &self.allow_unknown_exports)
            .finish()
    }
}

#[cfg(test)]
mod tests;
