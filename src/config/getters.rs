//! wasmtime's `Engine::get_*` accessors: what an engine was configured
//! with, defaults filled in — and, for the settings Kiln accepts without
//! acting on them, what Kiln actually does.

use super::{OptLevel, Strategy};
use crate::{Engine, PoolingAllocationConfig};
use wasmparser::WasmFeatures;

impl Engine {
    /// The WebAssembly proposals this engine's validator accepts.
    pub fn get_wasm_features(&self) -> WasmFeatures {
        self.features()
    }

    /// Whether WebAssembly code consumes fuel ([`crate::Config::consume_fuel`]).
    pub fn get_consume_fuel(&self) -> bool {
        self.config().consume_fuel
    }

    /// Whether code checks epoch deadlines
    /// ([`crate::Config::epoch_interruption`]).
    pub fn get_epoch_interruption(&self) -> bool {
        self.config().epoch_interruption
    }

    /// The WebAssembly stack limit in bytes ([`crate::Config::max_wasm_stack`]).
    pub fn get_max_wasm_stack(&self) -> usize {
        self.config().max_wasm_stack
    }

    /// Whether modules are compiled on several threads
    /// ([`crate::Config::parallel_compilation`]).
    pub fn get_parallel_compilation(&self) -> bool {
        self.config().parallel_compilation
    }

    /// The tier that runs functions, with [`Strategy::Auto`] resolved to
    /// what it means in this build. Always `Some` (Kiln always has its
    /// interpreter; wasmtime says `None` without a compiler).
    pub fn get_strategy(&self) -> Option<Strategy> {
        Some(self.config().effective_strategy())
    }

    /// Cranelift's optimisation level, if this engine compiles native code
    /// ([`crate::Config::cranelift_opt_level`]).
    pub fn get_cranelift_opt_level(&self) -> Option<OptLevel> {
        let config = self.config();
        config.compiles_native().then_some(config.opt_level)
    }

    /// Whether Cranelift's IR verifier runs, if this engine compiles native
    /// code ([`crate::Config::cranelift_debug_verifier`]).
    pub fn get_cranelift_debug_verifier(&self) -> Option<bool> {
        let config = self.config();
        config
            .compiles_native()
            .then(|| config.cranelift_verifier())
    }

    /// Whether NaN results are canonicalised, if this engine compiles native
    /// code: always `Some(false)` there, since Kiln refuses `true`.
    pub fn get_cranelift_nan_canonicalization(&self) -> Option<bool> {
        let config = self.config();
        config.compiles_native().then_some(false)
    }

    /// The pooling allocator's limits, if the engine pools instances.
    pub fn get_pooling_config(&self) -> Option<&PoolingAllocationConfig> {
        match &self.config().allocation_strategy {
            crate::InstanceAllocationStrategy::Pooling(config) => Some(config),
            crate::InstanceAllocationStrategy::OnDemand => None,
        }
    }

    /// The most frames a backtrace keeps; 0 when traps carry none
    /// ([`crate::Config::wasm_backtrace_max_frames`]).
    pub fn get_wasm_backtrace_max_frames(&self) -> usize {
        self.config()
            .knobs
            .backtrace_max_frames
            .map_or(0, |n| n.get())
    }

    /// Whether backtrace frames carry module offsets
    /// ([`crate::Config::generate_address_map`]).
    pub fn get_generate_address_map(&self) -> bool {
        self.config().knobs.generate_address_map
    }

    /// Whether native code has DWARF debug information: always false
    /// (Kiln refuses [`crate::Config::debug_info`]`(true)`).
    pub fn get_debug_info(&self) -> bool {
        self.config().knobs.debug_info
    }

    /// Whether memories may move when they grow: always true in Kiln.
    pub fn get_memory_may_move(&self) -> bool {
        self.config().knobs.memory_may_move
    }

    /// The address space reserved per memory: always 0, Kiln reserves none
    /// whatever [`crate::Config::memory_reservation`] says.
    pub fn get_memory_reservation(&self) -> u64 {
        0
    }

    /// The extra address space reserved on growth: always 0 in Kiln.
    pub fn get_memory_reservation_for_growth(&self) -> u64 {
        0
    }

    /// The guard region after each memory: always 0, Kiln maps none
    /// whatever [`crate::Config::memory_guard_size`] says.
    pub fn get_memory_guard_size(&self) -> u64 {
        0
    }

    /// Whether a guard region precedes each memory: always false in Kiln.
    pub fn get_guard_before_linear_memory(&self) -> bool {
        false
    }

    /// Whether memories start from copy-on-write images: always false in
    /// Kiln.
    pub fn get_memory_init_cow(&self) -> bool {
        false
    }

    /// Whether traps are caught by signal handlers: always false, Kiln
    /// installs none.
    pub fn get_signals_based_traps(&self) -> bool {
        false
    }

    /// Whether native code has unwind tables: always `Some(false)` where
    /// Kiln compiles native code, `None` otherwise.
    pub fn get_native_unwind_info(&self) -> Option<bool> {
        let config = self.config();
        config.compiles_native().then_some(false)
    }

    /// Whether branch hints are used: always false in Kiln.
    pub fn get_wasm_branch_hinting(&self) -> bool {
        false
    }

    /// Whether relaxed SIMD is deterministic: always false, Kiln does not
    /// run relaxed SIMD.
    pub fn get_relaxed_simd_deterministic(&self) -> bool {
        false
    }
}
