//! The native tier as modules and engines see it: compiling a module with
//! Cranelift (`kiln-jit`) when the engine's strategy asks for it, and the
//! entries its functions' `VMFuncRef`s get.
//!
//! Without the `jit` feature, or on a target the native tier does not
//! support, the types here are uninhabited and [`AVAILABLE`] is false:
//! `Engine::new` refuses `Strategy::Cranelift`, no Cranelift code is linked
//! and no executable memory is ever mapped.

use super::ModuleInfo;
use super::serialize::NativeParts;
use crate::Config;
use anyhow::Result;
use kiln_interp::ModuleTypes;
use kiln_vm::{VMArrayCallFn, VMWasmCallFunction};
use std::ptr::NonNull;
use std::time::Duration;

/// What the native tier did with a module (`Module::tier_stats`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TierStats {
    /// Defined functions running as native code.
    pub native: usize,
    /// Defined functions the native tier could not compile, which run in
    /// the interpreter instead: `(function index, reason)`. Empty for every
    /// module Kiln's tests and the spec suite compile.
    pub fallbacks: Vec<(u32, String)>,
    /// Time `Module::new` spent compiling to native code.
    pub compile_time: Duration,
    /// Bytes of native code.
    pub code_bytes: usize,
    /// With tiered execution: loop headers an on-stack-replacement entry was
    /// compiled for.
    pub osr_compiled: usize,
    /// With tiered execution: running calls moved into native code at a
    /// loop header.
    pub osr_entries: u64,
    /// With tiered execution: calls that started in the interpreter and
    /// moved to native code at the function's entry — the first call of
    /// each instance after its code was ready; later calls go native
    /// directly.
    pub moved_calls: u64,
}

/// For each defined function, whether anything but native code can call it:
/// exported, named by an element segment (tables, `ref.func`) or the start
/// function. Only those need an `array_call` trampoline.
#[cfg_attr(not(feature = "jit"), allow(dead_code))]
fn escaping(info: &ModuleInfo) -> Vec<bool> {
    let imported = info.num_imported_funcs;
    let mut escaping = vec![false; info.funcs.len() - imported as usize];
    let mut mark = |func: u32| {
        if let Some(def) = func.checked_sub(imported)
            && let Some(slot) = escaping.get_mut(def as usize)
        {
            *slot = true;
        }
    };
    for export in &info.exports {
        if let super::EntityIndex::Func(func) = export.index {
            mark(func);
        }
    }
    if let Some(start) = info.start {
        mark(start);
    }
    for segment in &info.elems {
        for item in segment.items.iter() {
            if let super::ConstExpr::RefFunc(func) = item {
                mark(*func);
            }
        }
    }
    for init in &info.global_inits {
        if let super::ConstExpr::RefFunc(func) = init {
            mark(*func);
        }
    }
    escaping
}

cfg_if::cfg_if! {
    if #[cfg(all(
        feature = "jit",
        any(target_arch = "x86_64", target_arch = "aarch64"),
        any(target_os = "linux", target_os = "macos")
    ))] {
        /// Whether this build has the native tier.
        pub(crate) const AVAILABLE: bool = true;

        /// Cranelift, configured once per engine.
        #[derive(Debug)]
        pub(crate) struct NativeCompiler(kiln_jit::Compiler);

        /// A module's native code (kept alive by the module, hence by every
        /// instance using it).
        #[derive(Debug)]
        pub(crate) struct NativeCode(kiln_jit::CompiledModule);

        impl NativeCompiler {
            /// The compiler `config` asks for, if any.
            pub(crate) fn new(config: &Config) -> Result<Option<NativeCompiler>> {
                if !config.compiles_native() {
                    return Ok(None);
                }
                let level = match config.opt_level {
                    crate::OptLevel::None => kiln_jit::OptLevel::None,
                    crate::OptLevel::Speed => kiln_jit::OptLevel::Speed,
                    crate::OptLevel::SpeedAndSize => kiln_jit::OptLevel::SpeedAndSize,
                };
                let verify = config.cranelift_verifier();
                Ok(Some(NativeCompiler(kiln_jit::Compiler::with_verifier(
                    level, verify,
                )?)))
            }

            /// What the native tier needs to know about a validated module.
            pub(crate) fn module_env(
                config: &Config,
                info: &ModuleInfo,
                types: &ModuleTypes,
            ) -> Result<kiln_jit::ModuleEnv> {
                let globals = info
                    .globals
                    .iter()
                    .map(|g| kiln_jit::GlobalInfo {
                        // The native tier needs only the representation:
                        // every reference is one 64-bit word.
                        ty: match g.content() {
                            crate::ValType::I32 => wasmparser::ValType::I32,
                            crate::ValType::I64 => wasmparser::ValType::I64,
                            crate::ValType::F32 => wasmparser::ValType::F32,
                            crate::ValType::F64 => wasmparser::ValType::F64,
                            crate::ValType::V128 => wasmparser::ValType::V128,
                            crate::ValType::Ref(_) => wasmparser::ValType::FUNCREF,
                        },
                        mutable: g.mutability() == crate::Mutability::Var,
                    })
                    .collect();
                let memory_minimums = info
                    .memories
                    .iter()
                    .map(|m| m.minimum().saturating_mul(kiln_vm::WASM_PAGE_SIZE))
                    .collect();
                Ok(kiln_jit::ModuleEnv {
                    escaping: escaping(info),
                    types: types.types.clone(),
                    funcs: types.funcs.clone(),
                    globals,
                    memory_minimums,
                    counts: info.counts()?,
                    consume_fuel: config.consume_fuel,
                    epoch_interruption: config.epoch_interruption,
                })
            }

            /// The compiler (for tiered execution's own compilations).
            pub(crate) fn compiler(&self) -> &kiln_jit::Compiler {
                &self.0
            }

            /// What its code depends on besides the module (for serialised
            /// modules).
            pub(crate) fn fingerprint(&self) -> String {
                self.0.fingerprint()
            }

            /// Compiles every defined function of a validated module.
            pub(crate) fn compile(
                &self,
                config: &Config,
                info: &ModuleInfo,
                types: &ModuleTypes,
                bytes: &[u8],
            ) -> Result<NativeCode> {
                let env = Self::module_env(config, info, types)?;
                let threads = if config.parallel_compilation {
                    std::thread::available_parallelism().map_or(1, |n| n.get())
                } else {
                    1
                };
                let interpret = |func_index: u32| {
                    config
                        .interpreted_functions
                        .as_ref()
                        .is_some_and(|f| f(func_index))
                };
                let code = self
                    .0
                    .compile_module(&env, bytes, &info.bodies, threads, &interpret)?;
                Ok(NativeCode(code))
            }
        }

        impl NativeCode {
            /// The code taken apart, for serialising.
            pub(crate) fn to_parts(&self) -> NativeParts {
                let parts = self.0.to_parts();
                NativeParts {
                    image: parts.image,
                    funcs: parts.funcs,
                    adapters: parts.adapters,
                    fallbacks: parts.fallbacks,
                }
            }

            /// Serialised code mapped again.
            ///
            /// # Safety
            /// As for [`kiln_jit::CompiledModule::from_parts`]: the code
            /// came from [`NativeCode::to_parts`] of the same Kiln, machine
            /// and configuration.
            pub(crate) unsafe fn from_parts(parts: NativeParts) -> Result<NativeCode> {
                let parts = kiln_jit::ModuleParts {
                    image: parts.image,
                    funcs: parts.funcs,
                    adapters: parts.adapters,
                    fallbacks: parts.fallbacks,
                };
                // SAFETY: forwarded to the caller.
                Ok(NativeCode(unsafe { kiln_jit::CompiledModule::from_parts(parts)? }))
            }

            /// The `array_call` and `wasm_call` entries of defined function
            /// `def_index`, if it was compiled (a function only native code
            /// can call has no array entry: `kiln_vm::no_array_call`).
            pub(crate) fn entries(
                &self,
                def_index: u32,
            ) -> Option<(VMArrayCallFn, NonNull<VMWasmCallFunction>)> {
                let wasm_call = self.0.wasm_call(def_index)?;
                let array_call = self
                    .0
                    .array_call(def_index)
                    .unwrap_or(kiln_vm::no_array_call);
                Some((array_call, wasm_call))
            }

            /// The adapter native code calls non-native functions of module
            /// type `type_index` through.
            pub(crate) fn type_adapter(
                &self,
                type_index: u32,
            ) -> Option<NonNull<VMWasmCallFunction>> {
                self.0.type_adapter(type_index)
            }

            /// The defined function whose body holds code address `addr`.
            pub(crate) fn func_at(&self, addr: usize) -> Option<u32> {
                self.0.func_at(addr)
            }

            /// What the compilation did, with function indices in the
            /// module's index space.
            pub(crate) fn stats(&self, num_imported_funcs: u32) -> TierStats {
                let stats = self.0.stats();
                TierStats {
                    native: stats.compiled,
                    fallbacks: self
                        .0
                        .fallbacks()
                        .iter()
                        .map(|(def, why)| (num_imported_funcs + def, why.clone()))
                        .collect(),
                    compile_time: stats.time,
                    code_bytes: stats.code_bytes,
                    osr_compiled: 0,
                    osr_entries: 0,
                    moved_calls: 0,
                }
            }
        }
    } else {
        /// Whether this build has the native tier.
        pub(crate) const AVAILABLE: bool = false;

        /// Never exists in this build.
        #[derive(Debug)]
        pub(crate) enum NativeCompiler {}

        /// Never exists in this build.
        #[derive(Debug)]
        pub(crate) enum NativeCode {}

        impl NativeCompiler {
            /// No compiler: `Config::validate` refuses `Strategy::Cranelift`.
            pub(crate) fn new(_config: &Config) -> Result<Option<NativeCompiler>> {
                Ok(None)
            }

            pub(crate) fn compile(
                &self,
                _config: &Config,
                _info: &ModuleInfo,
                _types: &ModuleTypes,
                _bytes: &[u8],
            ) -> Result<NativeCode> {
                match *self {}
            }

            pub(crate) fn fingerprint(&self) -> String {
                match *self {}
            }
        }

        impl NativeCode {
            pub(crate) fn to_parts(&self) -> NativeParts {
                match *self {}
            }

            /// Refused: this build cannot run native code.
            ///
            /// # Safety
            /// None needed; kept `unsafe` like the native tier's.
            pub(crate) unsafe fn from_parts(_parts: NativeParts) -> Result<NativeCode> {
                anyhow::bail!(
                    "the serialised module holds native code, and this build of Kiln has no native tier"
                )
            }

            pub(crate) fn entries(
                &self,
                _def_index: u32,
            ) -> Option<(VMArrayCallFn, NonNull<VMWasmCallFunction>)> {
                match *self {}
            }

            pub(crate) fn stats(&self, _num_imported_funcs: u32) -> TierStats {
                match *self {}
            }

            pub(crate) fn type_adapter(
                &self,
                _type_index: u32,
            ) -> Option<NonNull<VMWasmCallFunction>> {
                match *self {}
            }

            pub(crate) fn func_at(&self, _addr: usize) -> Option<u32> {
                match *self {}
            }
        }
    }
}
