//! `Config`: the settings an [`Engine`](crate::Engine) is created with.
//!
//! Everything here is fixed once the engine exists, because modules compiled
//! by the engine depend on it: which WebAssembly features the validator
//! accepts, how much stack a store may use, and whether functions are
//! translated to bytecode up front or on their first call, which tier runs
//! them ([`Strategy`]), and how instances are allocated.

mod features;
mod getters;
mod knobs;

pub use knobs::WasmBacktraceDetails;

use crate::InstanceAllocationStrategy;
use anyhow::{Result, bail};
use features::Proposals;
use knobs::Knobs;
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

/// Which tier runs a module's functions (wasmtime's `Strategy`, with
/// Kiln's interpreter in place of Winch).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Strategy {
    /// Kiln's choice: [`Strategy::Tiered`] wherever the native tier is
    /// built, [`Strategy::Interpreter`] elsewhere.
    #[default]
    Auto,
    /// Start every function in the interpreter right after validation and
    /// move the ones that do enough work to native code: a function whose
    /// work budget (`Config::tier_up_budget`, counted over every instance
    /// of its module) runs out is compiled by Cranelift on a background
    /// thread; every store switches to the native code at that function's
    /// next call, and a call that is running a hot loop moves into it at the
    /// loop's header (on-stack replacement). Needs the native tier, as
    /// [`Strategy::Cranelift`] does.
    Tiered,
    /// Compile every function to native code with Cranelift in
    /// `Module::new` (in parallel with [`Config::parallel_compilation`]).
    /// Needs Kiln's `jit` feature on x86-64 or aarch64 Linux or macOS:
    /// elsewhere `Engine::new` fails. A function the native tier cannot
    /// translate stays interpreted (see `Module::tier_stats`).
    Cranelift,
    /// Interpret every function: no code generation, no executable memory.
    Interpreter,
}

/// The default of [`Config::tier_up_budget`].
const DEFAULT_TIER_UP_BUDGET: u64 = 100_000;

/// How hard Cranelift optimises native code (wasmtime's `OptLevel`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OptLevel {
    /// No optimisation: fastest compilation.
    None,
    /// Optimise for speed (the default).
    #[default]
    Speed,
    /// Optimise for speed and size.
    SpeedAndSize,
}

/// Global configuration for an [`Engine`](crate::Engine).
///
/// Methods follow wasmtime's builder style: each returns `&mut Self` so
/// settings can be chained. Invalid combinations are reported by
/// [`Engine::new`](crate::Engine::new), not here.
#[derive(Clone, Debug)]
pub struct Config {
    /// The `wasm_*` proposal toggles (see `features.rs`).
    pub(crate) proposals: Proposals,
    /// Backtrace, debugging, memory and code-generation settings (see
    /// `knobs.rs`).
    pub(crate) knobs: Knobs,
    pub(crate) max_wasm_stack: usize,
    pub(crate) consume_fuel: bool,
    pub(crate) epoch_interruption: bool,
    pub(crate) compilation_mode: CompilationMode,
    pub(crate) allocation_strategy: InstanceAllocationStrategy,
    pub(crate) strategy: Strategy,
    pub(crate) opt_level: OptLevel,
    pub(crate) parallel_compilation: bool,
    pub(crate) interpreted_functions: Option<InterpretedFunctions>,
    pub(crate) tier_up_budget: u64,
    pub(crate) tier_up_synchronously: bool,
}

/// See [`Config::interpret_functions`].
#[derive(Clone)]
pub(crate) struct InterpretedFunctions(std::sync::Arc<dyn Fn(u32) -> bool + Send + Sync>);

impl std::ops::Deref for InterpretedFunctions {
    type Target = dyn Fn(u32) -> bool + Send + Sync;
    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl std::fmt::Debug for InterpretedFunctions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InterpretedFunctions(..)")
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

impl Config {
    /// The default configuration: the WebAssembly 2.0 feature set without
    /// SIMD, a 512 KiB WebAssembly stack, lazy translation, backtraces of
    /// up to 20 frames.
    pub fn new() -> Config {
        Config {
            proposals: Proposals::default(),
            knobs: Knobs::default(),
            max_wasm_stack: 512 * 1024,
            consume_fuel: false,
            epoch_interruption: false,
            compilation_mode: CompilationMode::Lazy,
            allocation_strategy: InstanceAllocationStrategy::OnDemand,
            strategy: Strategy::Auto,
            opt_level: OptLevel::Speed,
            parallel_compilation: true,
            interpreted_functions: None,
            tier_up_budget: DEFAULT_TIER_UP_BUDGET,
            tier_up_synchronously: false,
        }
    }

    /// How much stack WebAssembly code in one store may use, in bytes of
    /// wasmtime's native frames; deeper recursion traps with
    /// [`Trap::StackOverflow`](crate::Trap::StackOverflow). Default 512 KiB.
    ///
    /// Kiln's frames are larger than wasmtime's for the same code, so that
    /// whatever fits under wasmtime fits under Kiln too, interpreted frames
    /// may use 8 times this many bytes (on the interpreter's own stacks)
    /// and native frames 2 times (below the first entry into wasm, as far
    /// as the thread's stack allows).
    pub fn max_wasm_stack(&mut self, size: usize) -> &mut Self {
        self.max_wasm_stack = size;
        self
    }

    /// When function bodies are translated; see [`CompilationMode`].
    pub fn compilation_mode(&mut self, mode: CompilationMode) -> &mut Self {
        self.compilation_mode = mode;
        self
    }

    /// How instances, and the memories and tables they define, are
    /// allocated: [`InstanceAllocationStrategy::OnDemand`] (the default) or
    /// [`InstanceAllocationStrategy::Pooling`] with its limits. Accepts a
    /// [`PoolingAllocationConfig`](crate::PoolingAllocationConfig) directly.
    ///
    /// The pool belongs to the engine created from this configuration and
    /// is shared by all of its stores.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// use kiln::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};
    /// let mut config = Config::new();
    /// config.allocation_strategy(PoolingAllocationConfig::default());
    /// let pooled = Engine::new(&config)?;
    /// config.allocation_strategy(InstanceAllocationStrategy::OnDemand);
    /// let on_demand = Engine::new(&config)?;
    /// # let _ = (pooled, on_demand);
    /// # Ok(())
    /// # }
    /// ```
    pub fn allocation_strategy(
        &mut self,
        strategy: impl Into<InstanceAllocationStrategy>,
    ) -> &mut Self {
        self.allocation_strategy = strategy.into();
        self
    }

    /// Makes WebAssembly code consume fuel, and trap with
    /// [`Trap::OutOfFuel`](crate::Trap::OutOfFuel) when the store's fuel
    /// runs out (see [`Store::set_fuel`](crate::Store::set_fuel)).
    ///
    /// Cost model: one unit of fuel per WebAssembly instruction, except
    /// `nop`, `drop`, `block`, `loop`, `end` and `else`, which are free.
    /// Fuel is charged once at the start of each straight-line region of
    /// code (the function entry and every point a branch can reach) for all
    /// of the region's instructions, so the interpreter's hot path pays one
    /// subtraction per region rather than one per instruction; a region left
    /// early by a branch or trap still paid for all of it. Stores start with
    /// no fuel, as in wasmtime.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// let mut config = kiln::Config::new();
    /// config.consume_fuel(true);
    /// let engine = kiln::Engine::new(&config)?;
    /// let mut store = kiln::Store::new(&engine, ());
    /// store.set_fuel(10_000)?;
    /// assert_eq!(store.get_fuel()?, 10_000);
    /// # Ok(())
    /// # }
    /// ```
    pub fn consume_fuel(&mut self, enable: bool) -> &mut Self {
        self.consume_fuel = enable;
        self
    }

    /// Lets the engine interrupt running WebAssembly at epoch deadlines (see
    /// [`Engine::increment_epoch`](crate::Engine::increment_epoch) and
    /// [`Store::set_epoch_deadline`](crate::Store::set_epoch_deadline)):
    /// code checks the epoch at every function entry and loop iteration and
    /// traps with [`Trap::Interrupt`](crate::Trap::Interrupt) once the
    /// store's deadline is reached. As in wasmtime, a store's deadline starts
    /// at 0, so set one before running code.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// let mut config = kiln::Config::new();
    /// config.epoch_interruption(true);
    /// let engine = kiln::Engine::new(&config)?;
    /// let mut store = kiln::Store::new(&engine, ());
    /// store.set_epoch_deadline(1); // trap after the next increment_epoch()
    /// # Ok(())
    /// # }
    /// ```
    pub fn epoch_interruption(&mut self, enable: bool) -> &mut Self {
        self.epoch_interruption = enable;
        self
    }

    /// Which tier runs functions (default [`Strategy::Auto`]).
    pub fn strategy(&mut self, strategy: Strategy) -> &mut Self {
        self.strategy = strategy;
        self
    }

    /// How hard Cranelift optimises (default [`OptLevel::Speed`]).
    pub fn cranelift_opt_level(&mut self, level: OptLevel) -> &mut Self {
        self.opt_level = level;
        self
    }

    /// Whether `Module::new` compiles functions on all cores (default
    /// true). Only the native tier compiles; the interpreter translates
    /// each function lazily.
    pub fn parallel_compilation(&mut self, parallel: bool) -> &mut Self {
        self.parallel_compilation = parallel;
        self
    }

    /// With [`Strategy::Cranelift`], leaves every function whose index
    /// (imports first) `interpret` selects to the interpreter, in every
    /// module of the engine; they are listed as fallbacks in
    /// `Module::tier_stats`. For testing how the tiers call each other
    /// (tiered execution will mix them by itself); not part of wasmtime's
    /// API.
    #[doc(hidden)]
    pub fn interpret_functions(
        &mut self,
        interpret: impl Fn(u32) -> bool + Send + Sync + 'static,
    ) -> &mut Self {
        self.interpreted_functions = Some(InterpretedFunctions(std::sync::Arc::new(interpret)));
        self
    }

    /// With tiered execution, how much work a function does in the
    /// interpreter before it is compiled to native code: roughly the number
    /// of WebAssembly instructions it runs, counted at its entry and at every
    /// loop iteration (the size of the code up to the next branch target),
    /// over every instance of its module. Default: 100,000, a few
    /// milliseconds of interpretation. 0 compiles a function at its first
    /// call.
    pub fn tier_up_budget(&mut self, budget: u64) -> &mut Self {
        self.tier_up_budget = budget;
        self
    }

    /// With tiered execution, compile a function (or an on-stack-replacement
    /// entry) on the thread that used up its budget, right away, instead of
    /// on the engine's background thread — so that when code moves to native
    /// is deterministic, for tests. Default: off.
    pub fn tier_up_synchronously(&mut self, synchronous: bool) -> &mut Self {
        self.tier_up_synchronously = synchronous;
        self
    }

    /// The strategy `Auto` stands for in this build.
    pub(crate) fn effective_strategy(&self) -> Strategy {
        match self.strategy {
            Strategy::Auto if crate::module::native::AVAILABLE => Strategy::Tiered,
            Strategy::Auto => Strategy::Interpreter,
            other => other,
        }
    }

    /// Whether this configuration compiles every function up front.
    pub(crate) fn native(&self) -> bool {
        self.effective_strategy() == Strategy::Cranelift
    }

    /// Whether this configuration tiers up.
    pub(crate) fn tiered(&self) -> bool {
        self.effective_strategy() == Strategy::Tiered
    }

    /// Whether this configuration makes native code at all (Cranelift, or
    /// tiered).
    pub(crate) fn compiles_native(&self) -> bool {
        matches!(
            self.effective_strategy(),
            Strategy::Cranelift | Strategy::Tiered
        )
    }

    /// Checks the combination of settings.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.compiles_native() && !crate::module::native::AVAILABLE {
            bail!(
                "Strategy::{:?} needs Kiln's native tier, which this build does not have \
                 (the `jit` feature is off, or the target is not x86-64 or aarch64 Linux or macOS)",
                self.strategy
            );
        }
        self.proposals.validate()?;
        self.knobs.validate()
    }

    /// The feature set the validator accepts.
    pub(crate) fn features(&self) -> WasmFeatures {
        self.proposals.features()
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
    fn cranelift_needs_the_native_tier() {
        let mut config = Config::new();
        config.strategy(Strategy::Cranelift);
        let result = crate::Engine::new(&config);
        if crate::module::native::AVAILABLE {
            result.unwrap();
        } else {
            let err = result.unwrap_err().to_string();
            assert!(
                err.contains("Strategy::Cranelift needs Kiln's native tier"),
                "{err}"
            );
        }
        // The interpreter is always there.
        config.strategy(Strategy::Interpreter);
        crate::Engine::new(&config).unwrap();
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
