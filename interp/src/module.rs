//! `InterpModule`: a module's function bodies and their bytecode, translated
//! on first call (the default) or up front.

use crate::bytecode::CompiledFunc;
use core::ops::Range;
use std::sync::{Arc, OnceLock};

/// What the translator needs to know about a module besides a body: the
/// types of functions and blocks.
#[derive(Debug, Default)]
pub struct ModuleTypes {
    /// The type section (Wasm 2.0 has only function types).
    pub types: Vec<wasmparser::FuncType>,
    /// The type index of every function, imports first.
    pub funcs: Vec<u32>,
    /// How many of `funcs` are imports.
    pub num_imported_funcs: u32,
    /// Emit fuel metering (`Op::ConsumeFuel`).
    pub consume_fuel: bool,
    /// Emit epoch checks (`Op::CheckEpoch`).
    pub epoch_interruption: bool,
    /// With tiered execution, each function's tier-up work budget: emit
    /// `Op::TierUp`/`Op::TierUpLoop` counting against it.
    pub tier_up_budget: Option<u64>,
}

impl ModuleTypes {
    /// The signature of function `func_index` (module index space).
    pub fn func_type(&self, func_index: u32) -> &wasmparser::FuncType {
        &self.types[self.funcs[func_index as usize] as usize]
    }
}

/// One function's bytecode, or the translation error, once translated.
type LazyFunc = OnceLock<Result<Arc<CompiledFunc>, String>>;

/// A module's code as the interpreter sees it.
#[derive(Debug)]
pub struct InterpModule {
    types: Arc<ModuleTypes>,
    /// The module's bytes; function bodies are ranges of it.
    source: Arc<[u8]>,
    /// Byte range of each defined function's body (locals and code).
    bodies: Box<[Range<usize>]>,
    /// Bytecode of each defined function, once translated.
    compiled: Box<[LazyFunc]>,
}

impl InterpModule {
    /// A module whose defined function `i` has its body at `bodies[i]` in
    /// `source`. The bodies must already have been validated.
    pub fn new(types: Arc<ModuleTypes>, source: Arc<[u8]>, bodies: Box<[Range<usize>]>) -> Self {
        let compiled = bodies.iter().map(|_| OnceLock::new()).collect();
        InterpModule {
            types,
            source,
            bodies,
            compiled,
        }
    }

    /// The module's types.
    pub fn types(&self) -> &Arc<ModuleTypes> {
        &self.types
    }

    /// Number of defined (non-imported) functions.
    pub fn num_defined_funcs(&self) -> usize {
        self.bodies.len()
    }

    /// Installs bytecode translated ahead of time (eager compilation).
    /// Ignored if the function was already translated.
    pub fn set_compiled(&self, def_index: u32, func: CompiledFunc) {
        let _ = self.compiled[def_index as usize].set(Ok(Arc::new(func)));
    }

    /// Whether defined function `def_index` has been translated yet.
    pub fn is_compiled(&self, def_index: u32) -> bool {
        self.compiled[def_index as usize].get().is_some()
    }

    /// The bytecode of defined function `def_index`, translating it now if
    /// this is its first use. Fails only on implementation limits (a frame
    /// over `u16::MAX` slots), since the body was validated before.
    pub fn compiled(&self, def_index: u32) -> anyhow::Result<&CompiledFunc> {
        let slot = &self.compiled[def_index as usize];
        let result = slot.get_or_init(|| {
            let range = self.bodies[def_index as usize].clone();
            let reader =
                wasmparser::BinaryReader::new(&self.source[range.clone()], range.start as u64);
            let body = wasmparser::FunctionBody::new(reader);
            let func_index = self.types.num_imported_funcs + def_index;
            crate::translate::translate_function(&self.types, func_index, &body, None)
                .map(Arc::new)
                .map_err(|e| format!("{e:#}"))
        });
        match result {
            Ok(f) => Ok(f),
            Err(msg) => Err(anyhow::anyhow!(
                "failed to translate function {def_index}: {msg}"
            )),
        }
    }
}
