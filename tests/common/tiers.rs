//! Helpers for the tests that run the same WebAssembly under both tiers
//! (`Strategy::Interpreter` and `Strategy::Cranelift`) and compare what
//! the embedder observes: results, trap codes, backtraces, fuel, side
//! effects.
//!
//! Include it with `#[path = "common/tiers.rs"] mod tiers;` (like
//! `watchdog.rs`, it is not part of `common/mod.rs`).
//!
//! Strategy is per engine and `Instance::new` refuses modules of another
//! engine, so one store runs one tier — or, with the hidden
//! `Config::interpret_functions`, native code with chosen functions left to
//! the interpreter, so that calls, returns and traps cross between the
//! tiers inside one module. Every scenario is run once per [`Tier`], each
//! time in a fresh engine and store, and the outcomes are compared.

#![allow(dead_code)]

use kiln::{Config, Engine, Module, Strategy, Trap, Val, WasmBacktrace};
use std::fmt::Debug;

/// A way of running a module: which tier runs its functions.
///
/// Every test in these files goes through [`Tier::configure`] and
/// [`check_tier`], so every scenario runs in every way listed here.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Tier {
    /// `Strategy::Interpreter`: no native code.
    Interpreter,
    /// `Strategy::Cranelift`: every function native.
    Cranelift,
    /// Native code, with every function of even index (imports included)
    /// interpreted.
    MixedEven,
    /// Native code, with every function of odd index interpreted.
    MixedOdd,
    /// Tiered execution with a tiny budget, compiling on the spot: functions
    /// move to native code in the middle of the scenario (at calls, and
    /// running calls at loop headers).
    Tiered,
}

impl Tier {
    /// The engine strategy.
    pub fn strategy(self) -> Strategy {
        match self {
            Tier::Interpreter => Strategy::Interpreter,
            Tier::Cranelift | Tier::MixedEven | Tier::MixedOdd => Strategy::Cranelift,
            Tier::Tiered => Strategy::Tiered,
        }
    }

    /// For a mixed tier, whether function `index` is left interpreted.
    pub fn interprets(self, index: u32) -> bool {
        match self {
            Tier::Interpreter | Tier::Tiered => true,
            Tier::Cranelift => false,
            Tier::MixedEven => index.is_multiple_of(2),
            Tier::MixedOdd => !index.is_multiple_of(2),
        }
    }

    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Interpreter => "interpreter",
            Tier::Cranelift => "cranelift",
            Tier::MixedEven => "mixed (even functions interpreted)",
            Tier::MixedOdd => "mixed (odd functions interpreted)",
            Tier::Tiered => "tiered",
        }
    }

    /// Makes `config` run this tier.
    pub fn configure(self, config: &mut Config) {
        config.strategy(self.strategy());
        if matches!(self, Tier::MixedEven | Tier::MixedOdd) {
            config.interpret_functions(move |index| self.interprets(index));
        }
        if self == Tier::Tiered {
            config
                .tier_up_budget(TIERED_BUDGET)
                .tier_up_synchronously(true);
        }
    }
}

/// [`Tier::Tiered`]'s budget: a few calls or loop iterations.
pub const TIERED_BUDGET: u64 = 30;

/// The tiers every scenario runs under; the interpreter first, as the
/// reference.
pub const TIERS: [Tier; 5] = [
    Tier::Interpreter,
    Tier::Cranelift,
    Tier::MixedEven,
    Tier::MixedOdd,
    Tier::Tiered,
];

/// A short name for messages.
pub fn tier_name(tier: Tier) -> &'static str {
    tier.name()
}

/// A configuration running `tier`, otherwise the default.
pub fn config(tier: Tier) -> Config {
    let mut config = Config::new();
    tier.configure(&mut config);
    config
}

/// An engine for `tier`, with `tweak` applied to its configuration.
pub fn engine_with(tier: Tier, tweak: impl FnOnce(&mut Config)) -> Engine {
    let mut config = config(tier);
    tweak(&mut config);
    Engine::new(&config).expect("engine")
}

/// An engine for `tier` with the default configuration otherwise.
pub fn engine(tier: Tier) -> Engine {
    engine_with(tier, |_| {})
}

/// Compiles `wat` for `engine` (made for `tier`) and checks which tier
/// runs it: under Cranelift every defined function must be native code (no
/// fallback, so the test really exercises the native tier); under the
/// interpreter there is no native code at all.
pub fn module(tier: Tier, engine: &Engine, wat: &str) -> Module {
    let module = Module::new(engine, wat).expect("module");
    check_tier(tier, &module);
    module
}

/// Checks that `module` runs entirely in `tier` (see [`module`]); in a
/// mixed tier, exactly the chosen defined functions are interpreted.
pub fn check_tier(tier: Tier, module: &Module) {
    match tier {
        Tier::Cranelift | Tier::MixedEven | Tier::MixedOdd => {
            let stats = module.tier_stats().expect("Cranelift compiles modules");
            let imported = module.imports().filter(|i| i.ty().func().is_some()).count() as u32;
            let defined = stats.native as u32 + stats.fallbacks.len() as u32;
            let expected: Vec<u32> = (imported..imported + defined)
                .filter(|&index| tier.interprets(index))
                .collect();
            let interpreted: Vec<u32> = stats.fallbacks.iter().map(|f| f.0).collect();
            assert_eq!(
                interpreted, expected,
                "functions left to the interpreter: {:?}",
                stats.fallbacks
            );
        }
        Tier::Interpreter => {
            assert_eq!(
                module.tier_stats(),
                None,
                "the interpreter compiles nothing"
            )
        }
        Tier::Tiered => {
            // Nothing is native before the module has run.
            let stats = module.tier_stats().expect("tiered modules have statistics");
            assert_eq!((stats.native, stats.fallbacks.len()), (0, 0));
        }
    }
}

/// One backtrace frame as the embedder sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The module's name (name section).
    pub module: Option<String>,
    /// The function's index in its module.
    pub func_index: u32,
    /// The function's name (name section).
    pub name: Option<String>,
}

/// What a failed call returned, in comparable form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The trap code, if the error is a trap.
    pub trap: Option<Trap>,
    /// The wasm backtrace attached to the error, innermost first (empty if
    /// none).
    pub frames: Vec<Frame>,
    /// The root cause's message.
    pub message: String,
}

impl Failure {
    /// The frames' function names (`#index` for unnamed ones).
    pub fn names(&self) -> Vec<String> {
        self.frames
            .iter()
            .map(|f| match &f.name {
                Some(name) => name.clone(),
                None => format!("#{}", f.func_index),
            })
            .collect()
    }
}

/// The comparable summary of an error returned by a call.
pub fn failure(err: &kiln::Error) -> Failure {
    let frames = err
        .downcast_ref::<WasmBacktrace>()
        .map(|bt| {
            bt.frames()
                .iter()
                .map(|f| Frame {
                    module: f.module().name().map(str::to_owned),
                    func_index: f.func_index(),
                    name: f.func_name().map(str::to_owned),
                })
                .collect()
        })
        .unwrap_or_default();
    Failure {
        trap: err.downcast_ref::<Trap>().copied(),
        frames,
        message: err.root_cause().to_string(),
    }
}

/// A value in comparable form: numbers by their bits, references by
/// whether they are null.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bits {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    FuncRef(bool),
    ExternRef(bool),
}

impl From<&Val> for Bits {
    fn from(v: &Val) -> Bits {
        match v {
            Val::I32(x) => Bits::I32(*x),
            Val::I64(x) => Bits::I64(*x),
            Val::F32(x) => Bits::F32(*x),
            Val::F64(x) => Bits::F64(*x),
            Val::FuncRef(f) => Bits::FuncRef(f.is_some()),
            Val::ExternRef(e) => Bits::ExternRef(e.is_some()),
        }
    }
}

/// Values in comparable form.
pub fn bits(vals: &[Val]) -> Vec<Bits> {
    vals.iter().map(Bits::from).collect()
}

/// The outcome of a call: its results or how it failed.
pub type Outcome = Result<Vec<Bits>, Failure>;

/// The outcome of `result`, the results being `vals`.
pub fn outcome(result: kiln::Result<()>, vals: &[Val]) -> Outcome {
    match result {
        Ok(()) => Ok(bits(vals)),
        Err(err) => Err(failure(&err)),
    }
}

/// Runs `scenario` once per tier and checks that every tier observed the
/// same thing; returns that.
pub fn same_in_every_tier<R: PartialEq + Debug>(what: &str, scenario: impl Fn(Tier) -> R) -> R {
    let mut outcomes = TIERS.map(|tier| (tier, scenario(tier)));
    let [(_, reference), rest @ ..] = &mut outcomes;
    for (tier, other) in rest.iter() {
        assert_eq!(
            reference,
            other,
            "{what}: {} and {} disagree (left: interpreter)",
            tier_name(TIERS[0]),
            tier_name(*tier)
        );
    }
    let [(_, reference), ..] = outcomes;
    reference
}

/// Runs `work` on a new thread with `stack` bytes of native stack and
/// returns its result (a panic in `work` is passed on). For tests whose
/// native stack use must not depend on the test harness's thread size.
pub fn on_stack<R: Send + 'static>(stack: usize, work: impl FnOnce() -> R + Send + 'static) -> R {
    let thread = std::thread::Builder::new()
        .stack_size(stack)
        .spawn(work)
        .expect("spawn");
    match thread.join() {
        Ok(r) => r,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}
