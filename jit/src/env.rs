//! `ModuleEnv`: what translation needs to know about a module besides the
//! body it translates.

use kiln_vm::{ModuleCounts, VMOffsets};
use wasmparser::{FuncType, ValType};

/// A global's type.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct GlobalInfo {
    /// The value type.
    pub ty: ValType,
    /// Whether `global.set` may change it.
    pub mutable: bool,
}

/// The module-level facts a function body is translated against, filled in
/// by the runtime from its parsed module.
#[derive(Debug, Clone, Default)]
pub struct ModuleEnv {
    /// The type section (Wasm 2.0 has only function types).
    pub types: Vec<FuncType>,
    /// The type index of every function, imports first.
    pub funcs: Vec<u32>,
    /// Every global's type, imports first.
    pub globals: Vec<GlobalInfo>,
    /// Every memory's minimum size in bytes, imports first: a memory never
    /// shrinks, so bounds checks may rely on it.
    pub memory_minimums: Vec<u64>,
    /// For each defined function, whether anything but native code can call
    /// it — it is exported, in an element segment (so in a table or named by
    /// `ref.func`), or the start function — and so needs an `array_call`
    /// trampoline. Missing entries count as escaping.
    pub escaping: Vec<bool>,
    /// Entity counts: what the vmctx layout depends on.
    pub counts: ModuleCounts,
    /// Meter fuel (`Config::consume_fuel`), with the cost model of
    /// [`kiln_vm::fuel`].
    pub consume_fuel: bool,
    /// Check the epoch deadline at function entries and loop headers.
    pub epoch_interruption: bool,
}

impl ModuleEnv {
    /// The vmctx layout of the module's instances.
    pub fn offsets(&self) -> VMOffsets {
        VMOffsets::new(self.counts)
    }

    /// The signature of function `func_index` (imports first).
    pub fn func_type(&self, func_index: u32) -> &FuncType {
        &self.types[self.funcs[func_index as usize] as usize]
    }

    /// Number of imported functions.
    pub fn num_imported_funcs(&self) -> u32 {
        self.counts.imported_funcs
    }
}
