//! `Config`: the settings an [`Engine`](crate::Engine) is created with.
//!
//! Everything here is fixed once the engine exists, because modules compiled
//! by the engine depend on it: which WebAssembly features the validator
//! accepts, how much stack a store may use, and whether functions are
//! translated to bytecode up front or on their first call.

use anyhow::{Result, bail};
use wasmparser::WasmFeatures;

/// When function bodies are translated to Kiln bytecode.
///
/// Either way every body is fully validated by [`Module::new`](crate::Module::new),
/// so a module that compiles never fails later because of invalid code.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum CompilationMode {
    /// Validate every body at `Module::new`; translate each body the first
    /// time the function is called. Fastest start-up, and functions that are
    /// never called cost only their validation.
    #[default]
    Lazy,
    /// Validate and translate every body at `Module::new`, in one pass per
    /// function. Useful when latency of the first call matters more than
    /// start-up time.
    Eager,
}

/// Global configuration for an [`Engine`](crate::Engine).
///
/// Methods follow wasmtime's builder style: each returns `&mut Self` so
/// settings can be chained. Invalid combinations are reported by
/// [`Engine::new`](crate::Engine::new), not here.
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) multi_value: bool,
    pub(crate) bulk_memory: bool,
    pub(crate) reference_types: bool,
    pub(crate) simd: bool,
    pub(crate) max_wasm_stack: usize,
    pub(crate) compilation_mode: CompilationMode,
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

impl Config {
    /// The default configuration: the WebAssembly 2.0 feature set without
    /// SIMD, a 512 KiB WebAssembly stack, lazy translation.
    pub fn new() -> Config {
        Config {
            multi_value: true,
            bulk_memory: true,
            reference_types: true,
            simd: false,
            max_wasm_stack: 512 * 1024,
            compilation_mode: CompilationMode::Lazy,
        }
    }

    /// Enables or disables the multi-value proposal (functions and blocks
    /// with several results). On by default.
    pub fn wasm_multi_value(&mut self, enable: bool) -> &mut Self {
        self.multi_value = enable;
        self
    }

    /// Enables or disables the bulk-memory proposal (`memory.copy`,
    /// passive segments, ...). On by default; reference types require it.
    pub fn wasm_bulk_memory(&mut self, enable: bool) -> &mut Self {
        self.bulk_memory = enable;
        self
    }

    /// Enables or disables the reference-types proposal (`externref`,
    /// multiple tables, `table.*` instructions). On by default.
    pub fn wasm_reference_types(&mut self, enable: bool) -> &mut Self {
        self.reference_types = enable;
        self
    }

    /// Enables or disables the SIMD proposal. Kiln does not implement SIMD
    /// yet: it is off by default and enabling it makes
    /// [`Engine::new`](crate::Engine::new) fail.
    pub fn wasm_simd(&mut self, enable: bool) -> &mut Self {
        self.simd = enable;
        self
    }

    /// The most bytes of stack WebAssembly code in one store may use (the
    /// interpreter's value and frame stacks together). Exceeding it traps
    /// with [`Trap::StackOverflow`](crate::Trap::StackOverflow). Default
    /// 512 KiB.
    pub fn max_wasm_stack(&mut self, size: usize) -> &mut Self {
        self.max_wasm_stack = size;
        self
    }

    /// When function bodies are translated; see [`CompilationMode`].
    pub fn compilation_mode(&mut self, mode: CompilationMode) -> &mut Self {
        self.compilation_mode = mode;
        self
    }

    /// Checks the combination of settings.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.simd {
            bail!("the WebAssembly SIMD proposal is not supported by Kiln");
        }
        if self.reference_types && !self.bulk_memory {
            bail!("feature 'reference_types' requires 'bulk_memory' to be enabled");
        }
        Ok(())
    }

    /// The feature set the validator accepts.
    pub(crate) fn features(&self) -> WasmFeatures {
        let mut features = WasmFeatures::WASM2;
        features.set(WasmFeatures::SIMD, self.simd);
        features.set(WasmFeatures::MULTI_VALUE, self.multi_value);
        features.set(WasmFeatures::BULK_MEMORY, self.bulk_memory);
        features.set(WasmFeatures::REFERENCE_TYPES, self.reference_types);
        features
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_wasm2_without_simd() {
        let config = Config::new();
        config.validate().unwrap();
        let features = config.features();
        assert!(!features.contains(WasmFeatures::SIMD));
        assert!(features.contains(WasmFeatures::REFERENCE_TYPES));
        assert!(features.contains(WasmFeatures::MULTI_VALUE));
        assert_eq!(config.max_wasm_stack, 512 * 1024);
        assert_eq!(config.compilation_mode, CompilationMode::Lazy);
    }

    #[test]
    fn simd_and_inconsistent_features_are_rejected() {
        assert!(Config::new().wasm_simd(true).validate().is_err());
        assert!(Config::new().wasm_bulk_memory(false).validate().is_err());
        let mut config = Config::new();
        config.wasm_bulk_memory(false).wasm_reference_types(false);
        config.validate().unwrap();
        assert!(!config.features().contains(WasmFeatures::BULK_MEMORY));
    }
}
