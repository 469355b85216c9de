//! `Module`: validated WebAssembly code, ready to be instantiated.
//!
//! Creating a module does all the work that does not depend on a store:
//! decoding, full validation (so instantiation and calls never meet invalid
//! code), registering its function types in the engine, and — in
//! [`CompilationMode::Eager`](crate::CompilationMode::Eager) — translating
//! every function to bytecode. A module is immutable afterwards and cheap to
//! clone, so one module can be instantiated in many stores, on many threads.

mod export_index;
mod info;
pub(crate) mod native;
pub(crate) mod parse;
pub(crate) mod serialize;
cfg_if::cfg_if! {
    if #[cfg(all(
        feature = "jit",
        any(target_arch = "x86_64", target_arch = "aarch64"),
        any(target_os = "linux", target_os = "macos")
    ))] {
        pub(crate) mod tier;
    } else {
        #[path = "tier_stub.rs"]
        pub(crate) mod tier;
    }
}
mod plan;

pub use export_index::ModuleExport;
pub(crate) use info::{ConstExpr, EntityIndex, ModuleInfo};
pub use native::TierStats;
pub(crate) use plan::{ElemInit, ElemItems, Offset, SegmentPlan};

use crate::types::{ExportType, ExternType, FuncType, ImportType};
use crate::{CompilationMode, Engine};
use anyhow::{Context, Result, bail};
use kiln_interp::InterpModule;
use kiln_vm::{VMOffsets, VMSharedTypeIndex};
use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::ptr::NonNull;
use std::sync::{Arc, OnceLock};

/// A compiled WebAssembly module.
///
/// `Module::new` validates the binary (or text) once; the module can then
/// be instantiated any number of times, in any store of its engine, and
/// cloned cheaply. Its imports and exports can be inspected without
/// instantiating it:
///
/// ```
/// # fn main() -> kiln::Result<()> {
/// use kiln::{Engine, ExternType, Module};
///
/// let engine = Engine::default();
/// let module = Module::new(&engine, r#"
///     (module $calc
///       (import "env" "scale" (global i32))
///       (memory (export "heap") 2)
///       (func (export "square") (param i64) (result i64)
///         local.get 0 local.get 0 i64.mul))
/// "#)?;
/// assert_eq!(module.name(), Some("calc"));
/// let import = module.imports().next().unwrap();
/// assert_eq!((import.module(), import.name()), ("env", "scale"));
/// let exports: Vec<&str> = module.exports().map(|e| e.name()).collect();
/// assert_eq!(exports, ["heap", "square"]);
/// match module.get_export("heap") {
///     Some(ExternType::Memory(memory)) => assert_eq!(memory.minimum(), 2),
///     other => panic!("unexpected {other:?}"),
/// }
/// // Bytes that are not WebAssembly are an error, not a panic.
/// assert!(Module::new(&engine, b"\0asm garbage").is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Module {
    inner: Arc<ModuleInner>,
}

struct ModuleInner {
    /// Unique among the modules of this process (see `export_index.rs`).
    id: u64,
    engine: Engine,
    info: ModuleInfo,
    /// The type section, registered in the engine.
    types: Box<[FuncType]>,
    /// The engine-wide index of each module type (what `type_ids` holds).
    type_ids: Box<[VMSharedTypeIndex]>,
    offsets: VMOffsets,
    /// What instantiation does with the segments, decided once, on the
    /// first instantiation (so that `Module::new` stays a validation pass:
    /// merging a large module's data segments costs as much as parsing
    /// them again).
    plan: OnceLock<SegmentPlan>,
    code: Arc<InterpModule>,
    /// The native code of the defined functions, with `Strategy::Cranelift`.
    native: Option<native::NativeCode>,
    /// What has moved to native code, with `Strategy::Tiered`.
    tier: Option<Arc<tier::TierState>>,
    /// The binary (also owned by `code`): data segments point into it.
    bytes: Arc<[u8]>,
}

impl Module {
    /// Compiles a module from the binary format or the text format (WAT).
    ///
    /// Fails with the parser's or validator's message (including the byte
    /// offset) if the module is malformed or invalid.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let bytes = bytes.as_ref();
        if serialize::is_serialized(bytes) {
            bail!("this is a serialised module: load it with `Module::deserialize`");
        }
        let bytes = wat::parse_bytes(bytes)?;
        Module::from_binary(engine, &bytes)
    }

    /// Compiles a module from the binary format only.
    pub fn from_binary(engine: &Engine, binary: &[u8]) -> Result<Module> {
        Module::build(engine, binary, None)
    }

    /// Compiles the module in the file at `file` (binary or text format),
    /// with the file name in errors.
    pub fn from_file(engine: &Engine, file: impl AsRef<Path>) -> Result<Module> {
        let path = file.as_ref();
        let bytes =
            std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))?;
        Module::new(engine, &bytes).with_context(|| format!("failed to compile {}", path.display()))
    }

    /// The module in the file at `path`, which is either WebAssembly
    /// (compiled as by [`Module::from_file`]) or a module serialised by
    /// Kiln (loaded as by [`Module::deserialize_file`]).
    ///
    /// # Safety
    ///
    /// As for [`Module::deserialize_file`]: a serialised module is trusted,
    /// so it must have been written by [`Module::serialize`] (or
    /// [`Engine::precompile_module`]) and not changed since.
    pub unsafe fn from_trusted_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module> {
        let path = path.as_ref();
        if Engine::detect_precompiled_file(path)?.is_some() {
            // SAFETY: the caller vouches for the file, as `deserialize_file`
            // requires.
            unsafe { Module::deserialize_file(engine, path) }
        } else {
            Module::from_file(engine, path)
        }
    }

    /// The module in a form [`Module::deserialize`] loads faster than
    /// `Module::new` compiles it: the binary, whose function bodies need
    /// no validation again, and with [`Strategy::Cranelift`](crate::Strategy)
    /// its machine code, which is mapped instead of compiled. (With tiered
    /// execution the module is saved as it was loaded, without the
    /// functions compiled since.) See [`Engine::precompile_module`] to do
    /// it without keeping the module.
    pub fn serialize(&self) -> Result<Vec<u8>> {
        let artifact = serialize::Artifact {
            wasm: self.inner.bytes.to_vec(),
            native: self.inner.native.as_ref().map(native::NativeCode::to_parts),
        };
        Ok(serialize::write(
            &self.inner.engine.compatibility(),
            &artifact,
        ))
    }

    /// Loads a module written by [`Module::serialize`] or
    /// [`Engine::precompile_module`].
    ///
    /// Fails with a clear error if `bytes` are not a serialised module, were
    /// written by another Kiln version or for an engine with another
    /// configuration (WebAssembly features, strategy and, with native code,
    /// target, CPU features, fuel, epochs, optimisation level) or are
    /// damaged.
    ///
    /// # Safety
    ///
    /// The contents are trusted: function bodies are not validated and
    /// native code is run as it is. Only pass bytes that Kiln serialised
    /// (and that nobody could have tampered with since).
    pub unsafe fn deserialize(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let artifact = serialize::read(&engine.compatibility(), bytes.as_ref())?;
        Module::build(engine, &artifact.wasm, Some(artifact.native))
    }

    /// [`Module::deserialize`] on the contents of the memory at `memory`
    /// (which Kiln copies: the memory need not outlive the call).
    ///
    /// # Safety
    ///
    /// As for [`Module::deserialize`]; `memory` is also valid for reads of
    /// its length for the duration of the call.
    pub unsafe fn deserialize_raw(engine: &Engine, memory: NonNull<[u8]>) -> Result<Module> {
        // SAFETY: the caller guarantees that `memory` is readable.
        let bytes = unsafe { memory.as_ref() };
        // SAFETY: forwarded to the caller.
        unsafe { Module::deserialize(engine, bytes) }
    }

    /// [`Module::deserialize`] on the contents of the file at `path`.
    ///
    /// # Safety
    ///
    /// As for [`Module::deserialize`].
    pub unsafe fn deserialize_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module> {
        let path = path.as_ref();
        let bytes =
            std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))?;
        // SAFETY: forwarded to the caller.
        unsafe { Module::deserialize(engine, bytes) }
            .with_context(|| format!("failed to load {}", path.display()))
    }

    /// [`Module::deserialize`] on the contents of `file`.
    ///
    /// # Safety
    ///
    /// As for [`Module::deserialize`].
    pub unsafe fn deserialize_open_file(engine: &Engine, mut file: File) -> Result<Module> {
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .context("failed to read the serialised module")?;
        // SAFETY: forwarded to the caller.
        unsafe { Module::deserialize(engine, bytes) }
    }

    /// Creates a module from its binary. `loaded` is the native code of a
    /// deserialised module (`Some(None)` if it has none): then the binary
    /// was validated when it was first compiled, and its function bodies
    /// are not validated again nor compiled.
    fn build(
        engine: &Engine,
        binary: &[u8],
        loaded: Option<Option<serialize::NativeParts>>,
    ) -> Result<Module> {
        let mode = engine.config().compilation_mode;
        let trusted = loaded.is_some();
        let parsed = parse::parse_with(
            binary,
            engine.features(),
            mode,
            engine.instrument(),
            trusted,
        )?;
        let bytes: Arc<[u8]> = Arc::from(binary);
        let info = parsed.info;

        let types: Box<[FuncType]> = info
            .sigs
            .iter()
            .map(|sig| {
                FuncType::from_sig(
                    engine,
                    crate::types::registry::FuncSig {
                        params: sig.params.clone(),
                        results: sig.results.clone(),
                    },
                )
            })
            .collect();
        let type_ids = types.iter().map(FuncType::type_index).collect();
        let offsets = VMOffsets::new(info.counts()?);

        let native = match (engine.native_compiler(), loaded) {
            (Some(compiler), None) => {
                Some(compiler.compile(engine.config(), &info, &parsed.types, &bytes)?)
            }
            (Some(_), Some(None)) => {
                bail!("the serialised module has no native code, and this engine needs it")
            }
            (None, Some(Some(_))) => {
                bail!("the serialised module holds native code, and this engine interprets")
            }
            (_, Some(Some(parts))) => {
                if parts.funcs.len() != info.bodies.len() || parts.adapters.len() != info.sigs.len()
                {
                    bail!("the serialised module's native code does not match its functions");
                }
                // SAFETY: `Module::deserialize`'s caller vouches that these
                // bytes are what `serialize` wrote, and the header matched
                // this engine's target and code-generation settings.
                Some(unsafe { native::NativeCode::from_parts(parts)? })
            }
            (None, _) => None,
        };
        let tier = match engine.tier_up() {
            Some((compiler, queue)) => Some(Arc::new(tier::TierState::new(
                engine.config(),
                compiler,
                queue,
                &info,
                &parsed.types,
                bytes.clone(),
            )?)),
            None => None,
        };
        let code = InterpModule::new(parsed.types, bytes.clone(), info.bodies.clone().into());
        if mode == CompilationMode::Eager {
            for (def_index, func) in parsed.compiled.into_iter().enumerate() {
                code.set_compiled(def_index as u32, func);
            }
        }

        Ok(Module {
            inner: Arc::new(ModuleInner {
                id: export_index::next_module_id(),
                engine: engine.clone(),
                info,
                types,
                type_ids,
                offsets,
                plan: OnceLock::new(),
                code: Arc::new(code),
                native,
                tier,
                bytes,
            }),
        })
    }

    /// Checks that `binary` is a valid module for `engine` without keeping
    /// anything.
    pub fn validate(engine: &Engine, binary: &[u8]) -> Result<()> {
        parse::parse(
            binary,
            engine.features(),
            CompilationMode::Lazy,
            Default::default(),
        )?;
        Ok(())
    }

    /// The module's name from its `name` section, if it has one.
    pub fn name(&self) -> Option<&str> {
        self.inner.info.name.as_deref()
    }

    /// The engine the module was compiled for.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Whether `a` and `b` are the same module (clones of one another), not
    /// merely modules with the same contents.
    pub fn same(a: &Module, b: &Module) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }

    /// Prepares the copy-on-write images memories would start from. Kiln
    /// writes data segments into each new memory at instantiation and has
    /// no such images, so there is nothing to prepare: always `Ok`.
    pub fn initialize_copy_on_write_image(&self) -> Result<()> {
        Ok(())
    }

    /// The module's imports, in order (the order `Instance::new` expects).
    pub fn imports(&self) -> impl ExactSizeIterator<Item = ImportType<'_>> + '_ {
        self.inner.info.imports.iter().map(|import| {
            ImportType::new(&import.module, &import.name, self.entity_type(import.index))
        })
    }

    /// The module's exports, in order.
    pub fn exports(&self) -> impl ExactSizeIterator<Item = ExportType<'_>> + '_ {
        self.inner
            .info
            .exports
            .iter()
            .map(|export| ExportType::new(&export.name, self.entity_type(export.index)))
    }

    /// The type of the export named `name`, if there is one.
    pub fn get_export(&self, name: &str) -> Option<ExternType> {
        let export = self.inner.info.export(name)?;
        Some(self.entity_type(export.index))
    }

    /// The type of an entity of this module.
    pub(crate) fn entity_type(&self, index: EntityIndex) -> ExternType {
        let info = &self.inner.info;
        match index {
            EntityIndex::Func(i) => {
                ExternType::Func(self.inner.types[info.funcs[i as usize] as usize].clone())
            }
            EntityIndex::Table(i) => ExternType::Table(info.tables[i as usize].clone()),
            EntityIndex::Memory(i) => ExternType::Memory(info.memories[i as usize].clone()),
            EntityIndex::Global(i) => ExternType::Global(info.globals[i as usize].clone()),
        }
    }

    /// What instantiation needs to know.
    pub(crate) fn info(&self) -> &ModuleInfo {
        &self.inner.info
    }

    /// The engine-wide index of each module type.
    pub(crate) fn type_ids(&self) -> &[VMSharedTypeIndex] {
        &self.inner.type_ids
    }

    /// The vmctx layout of this module's instances.
    pub(crate) fn offsets(&self) -> &VMOffsets {
        &self.inner.offsets
    }

    /// What instantiation does with the module's segments (worked out on
    /// the first call).
    pub(crate) fn plan(&self) -> &SegmentPlan {
        self.inner
            .plan
            .get_or_init(|| SegmentPlan::new(&self.inner.info, &self.inner.bytes))
    }

    /// The interpreter's view of the code.
    pub(crate) fn code(&self) -> &Arc<InterpModule> {
        &self.inner.code
    }

    /// The native entries (`array_call`, `wasm_call`) of defined function
    /// `def_index`, if it runs natively.
    pub(crate) fn native_entries(
        &self,
        def_index: u32,
    ) -> Option<(
        kiln_vm::VMArrayCallFn,
        std::ptr::NonNull<kiln_vm::VMWasmCallFunction>,
    )> {
        self.inner.native.as_ref()?.entries(def_index)
    }

    /// The adapter this module's native code calls non-native functions of
    /// module type `type_index` through, if the module has native code.
    pub(crate) fn native_type_adapter(
        &self,
        type_index: u32,
    ) -> Option<std::ptr::NonNull<kiln_vm::VMWasmCallFunction>> {
        self.inner.native.as_ref()?.type_adapter(type_index)
    }

    /// Which tier runs this module's functions: how many defined functions
    /// are native code (all of them up front with
    /// [`Strategy::Cranelift`](crate::Strategy); so far, with
    /// `Strategy::Tiered`), which ones the native tier could not compile and
    /// left to the interpreter, with why, the compile time spent, and with
    /// tiered execution how many running calls moved into native code at a
    /// loop header. `None` when the engine does not compile to native code.
    /// (A Kiln extension; wasmtime has no interpreter to fall back to.)
    pub fn tier_stats(&self) -> Option<TierStats> {
        let imported = self.inner.info.num_imported_funcs;
        if let Some(tier) = &self.inner.tier {
            return Some(tier.stats(imported));
        }
        let native = self.inner.native.as_ref()?;
        Some(native.stats(imported))
    }

    /// The function (index in the module's space) whose native code holds
    /// code address `addr`, a return address found on the stack; `None` if
    /// no native function body of this module does.
    pub(crate) fn native_func_at(&self, addr: usize) -> Option<u32> {
        let def = match (&self.inner.tier, &self.inner.native) {
            (Some(tier), _) => tier.func_at(addr)?,
            (None, Some(native)) => native.func_at(addr)?,
            (None, None) => return None,
        };
        Some(self.inner.info.num_imported_funcs + def)
    }

    /// The tiered state, with `Strategy::Tiered`.
    pub(crate) fn tier(&self) -> Option<&Arc<tier::TierState>> {
        self.inner.tier.as_ref()
    }

    /// The module binary.
    pub(crate) fn bytes(&self) -> &Arc<[u8]> {
        &self.inner.bytes
    }
}

impl fmt::Debug for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Module")
            .field("name", &self.name())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ValType;

    #[test]
    fn lists_imports_and_exports_with_types() {
        let engine = Engine::default();
        let module = Module::new(
            &engine,
            r#"(module
                (import "env" "log" (func (param i32)))
                (import "env" "mem" (memory 1 2))
                (global (export "answer") i32 (i32.const 42))
                (func (export "run") (result i64) i64.const 1))"#,
        )
        .unwrap();
        let imports: Vec<_> = module.imports().collect();
        assert_eq!(imports.len(), 2);
        assert_eq!((imports[0].module(), imports[0].name()), ("env", "log"));
        assert_eq!(
            imports[0].ty().unwrap_func().params().collect::<Vec<_>>(),
            [ValType::I32]
        );
        assert_eq!(imports[1].ty().unwrap_memory().maximum(), Some(2));

        let exports: Vec<_> = module
            .exports()
            .map(|e| (e.name(), e.ty().kind_name()))
            .collect();
        assert_eq!(exports, [("answer", "global"), ("run", "func")]);
        let run = module.get_export("run").unwrap();
        assert_eq!(
            run.unwrap_func().results().collect::<Vec<_>>(),
            [ValType::I64]
        );
    }

    #[test]
    fn accepts_binary_and_rejects_garbage() {
        let engine = Engine::default();
        let binary = wat::parse_str("(module)").unwrap();
        Module::from_binary(&engine, &binary).unwrap();
        Module::validate(&engine, &binary).unwrap();
        assert!(Module::new(&engine, b"\0asm\x02\0\0\0").is_err());
        assert!(Module::new(&engine, "(module (func (result i32)))").is_err());
        assert!(Module::from_binary(&engine, b"(module)").is_err());
    }

    #[test]
    fn module_types_are_registered_in_the_engine() {
        let engine = Engine::default();
        let module = Module::new(
            &engine,
            "(module (type (func (param i32))) (type (func (param i32))))",
        )
        .unwrap();
        assert_eq!(module.type_ids()[0], module.type_ids()[1]);
        let ty = FuncType::new(&engine, [ValType::I32], []);
        assert_eq!(ty.type_index(), module.type_ids()[0]);
    }
}
