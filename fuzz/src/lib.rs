//! `kiln-fuzz`: Kiln's differential tester.
//!
//! Kiln has two tiers that must be indistinguishable from the host: the
//! interpreter (`Strategy::Interpreter`) and native code from Cranelift
//! (`Strategy::Cranelift`). This crate generates WebAssembly modules from
//! seeds with [wasm-smith](https://docs.rs/wasm-smith), runs each one in
//! both tiers side by side, and reports every difference:
//!
//! * `Module::new` must succeed in both or fail in both;
//! * instantiation (data and element segments, the start function) must
//!   give the same result: success, or the same trap code with the same
//!   backtrace (function indices, innermost first);
//! * every exported function is called ([`Options::calls_per_func`]
//!   rounds, each call with deterministic arguments from the seed: edge
//!   integers, NaNs with payloads, infinities, conversion boundaries, small
//!   numbers, random bits, null references), and each call must return the
//!   same results (floats compared by bits, function references by which
//!   export they are) or trap with the same code and backtrace;
//! * after instantiation and after every call, the fuel left, every
//!   exported memory (size and every byte), global (value) and table (size
//!   and every element) must be equal.
//!
//! Every call and instantiation runs with fuel ([`Options::fuel`]), so a
//! module that loops forever stops at the same point in both tiers and the
//! fuel left is compared too. Deep recursion traps with
//! `Trap::StackOverflow` at a depth that legitimately differs between the
//! tiers (their frames differ in size), so a stack overflow in either tier
//! makes that call *inconclusive*: it is counted, the function is not called
//! again, and the rest of the calls go to fresh instances. A panic inside
//! Kiln is reported like a divergence, whichever tier it is in.
//!
//! The engines vary with the seed so more of each tier is covered: the
//! interpreter translates lazily for even seeds and eagerly for odd ones;
//! Cranelift optimises (`OptLevel::Speed`) except for every third seed
//! (`OptLevel::None`); and every fourth seed compares the interpreter with
//! tiered execution (`Strategy::Tiered`, compiling on the spot) at a budget
//! picked by the seed (0, 7, 50 or 400), so that functions and running
//! loops move to native code in the middle of the calls. A seed names one
//! module forever, for a given wasm-smith version and [`Options`].
//!
//! # Running it
//!
//! `cargo test -p kiln-fuzz` runs 2,000 seeds with [`Options::ci`] (CI
//! runs it with the workspace). Longer runs use the binary, in release:
//!
//! ```text
//! cargo run --release -p kiln-fuzz -- --seeds 0..100000           # all cores, summary at the end
//! cargo run --release -p kiln-fuzz -- --seeds 0..100000 --jobs 1  # one core (the machine is shared)
//! cargo run --release -p kiln-fuzz -- --seed 1234 --trace         # one seed, every call printed
//! cargo run --release -p kiln-fuzz -- --seed 1234 --dump m.wasm  # the module's binary
//! cargo run --release -p kiln-fuzz --features wat -- --seed 1234 --wat     # ... and text
//! cargo run --release -p kiln-fuzz --features wat -- --seed 1234 --reduce  # a smaller module that still diverges
//! ```
//!
//! The `wat` feature (`wasmprinter`) prints modules as text; it is off by
//! default because it turns on wasmparser's `simd` feature, which would
//! change the wasmparser every workspace crate is built with.
//!
//! The summary counts modules, calls, traps by code, inconclusive calls and
//! native-tier fallbacks, and lists every divergence with its seed; the
//! process exits with status 1 if there was any. Progress goes to stderr
//! every 1,000 seeds. In release, on two cores, it runs about 300 seeds
//! (2,000 calls) a second, so 100,000 seeds take six minutes; Cranelift's
//! compilation is most of the time. A seed range is deterministic, so a
//! long run can be split into ranges run separately (or on several
//! machines) and the results added.
//!
//! A divergent seed is reproduced with `--seed N --trace` (every call of
//! both tiers), and `--reduce` deletes what it can of the module's text
//! while it still diverges ([`reduce`]); `--module FILE` runs an edited
//! module the way its seed runs its own. `--canonicalize-nans` has
//! wasm-smith canonicalize NaN results, to look past NaN-bit differences
//! for other divergences.

#![forbid(unsafe_code)]

mod generate;
mod observe;
mod reduce;
mod rng;
mod run;

pub use generate::{arguments, generate, smith_config};
pub use observe::{Outcome, Value};
pub use reduce::reduce;

/// `module` as WebAssembly text (with the `wat` feature; without it, an
/// error saying how to get it).
pub fn to_text(module: &[u8]) -> Result<String, String> {
    #[cfg(feature = "wat")]
    {
        wasmprinter::print_bytes(module).map_err(|e| format!("wasmprinter: {e}"))
    }
    #[cfg(not(feature = "wat"))]
    {
        let _ = module;
        Err("printing a module as text needs the `wat` feature: \
             cargo run --release -p kiln-fuzz --features wat -- ..."
            .to_string())
    }
}
pub use rng::Rng;
pub use run::{Fate, SeedReport, run_module, run_seed};

use kiln::{CompilationMode, Config, Engine, OptLevel, Strategy};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How big the generated modules are and how they are run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Fuel given to every instantiation and every call.
    pub fuel: u64,
    /// `Config::max_wasm_stack` of both tiers.
    pub max_wasm_stack: usize,
    /// The most input bytes wasm-smith gets per module (each seed draws a
    /// length between a quarter of this and this); it bounds module size.
    pub input_len: usize,
    /// The most functions per module (each seed draws between 1 and this).
    pub max_funcs: usize,
    /// wasm-smith's `max_instructions` per function body.
    pub max_instructions: usize,
    /// The largest memory, in 64 KiB pages (initial and maximum).
    pub max_memory_pages: u64,
    /// How many times each exported function is called (round-robin over
    /// the exports, in export order).
    pub calls_per_func: usize,
    /// The most instances per seed: one, plus fresh ones after stack
    /// overflows.
    pub max_instances: usize,
    /// Have wasm-smith canonicalize every NaN a float operator produces
    /// (off by default: the tiers must agree on NaN bits). On, a run finds
    /// the divergences that are not about NaN bits, which a NaN difference
    /// found first in the same call would otherwise hide.
    pub canonicalize_nans: bool,
}

impl Default for Options {
    /// Long runs: moderately large modules, generous fuel.
    fn default() -> Options {
        Options {
            fuel: 100_000,
            max_wasm_stack: 256 * 1024,
            input_len: 8192,
            max_funcs: 20,
            max_instructions: 200,
            max_memory_pages: 16,
            calls_per_func: 2,
            max_instances: 4,
            canonicalize_nans: false,
        }
    }
}

impl Options {
    /// The test's options (`tests/differential.rs`): somewhat fewer
    /// functions, smaller memories and less fuel than the default, and three
    /// calls per function; 2,000 seeds take seconds in the test profile.
    pub fn ci() -> Options {
        Options {
            fuel: 50_000,
            max_wasm_stack: 128 * 1024,
            input_len: 8192,
            max_funcs: 16,
            max_instructions: 200,
            max_memory_pages: 8,
            calls_per_func: 3,
            max_instances: 3,
            canonicalize_nans: false,
        }
    }
}

/// The engines under comparison: two interpreters (lazy and eager
/// translation) and two native tiers (optimising and not), all metering
/// fuel with the same stack limit.
pub struct Tiers {
    interp_lazy: Engine,
    interp_eager: Engine,
    native_speed: Engine,
    native_none: Engine,
    /// Tiered execution at the budgets of [`TIERED_BUDGETS`].
    tiered: Vec<Engine>,
}

/// The tier-up budgets tiered seeds run with.
pub const TIERED_BUDGETS: [u64; 4] = [0, 7, 50, 400];

impl Tiers {
    /// Creates the engines. Fails if this build has no native tier.
    pub fn new(opts: &Options) -> kiln::Result<Tiers> {
        let engine = |strategy, mode, opt| {
            let mut config = Config::new();
            config
                .strategy(strategy)
                .compilation_mode(mode)
                .cranelift_opt_level(opt)
                .consume_fuel(true)
                .max_wasm_stack(opts.max_wasm_stack)
                // Seeds run in parallel already (see `run_seeds`).
                .parallel_compilation(false);
            Engine::new(&config)
        };
        Ok(Tiers {
            interp_lazy: engine(
                Strategy::Interpreter,
                CompilationMode::Lazy,
                OptLevel::Speed,
            )?,
            interp_eager: engine(
                Strategy::Interpreter,
                CompilationMode::Eager,
                OptLevel::Speed,
            )?,
            native_speed: engine(Strategy::Cranelift, CompilationMode::Lazy, OptLevel::Speed)?,
            native_none: engine(Strategy::Cranelift, CompilationMode::Lazy, OptLevel::None)?,
            tiered: TIERED_BUDGETS
                .iter()
                .map(|&budget| {
                    let mut config = Config::new();
                    config
                        .strategy(Strategy::Tiered)
                        .tier_up_budget(budget)
                        .tier_up_synchronously(true)
                        .consume_fuel(true)
                        .max_wasm_stack(opts.max_wasm_stack);
                    Engine::new(&config)
                })
                .collect::<kiln::Result<_>>()?,
        })
    }

    /// The interpreter and native engines that run `seed`, and their label.
    pub fn pair(&self, seed: u64) -> (&Engine, &Engine, &'static str) {
        if seed % 4 == 3 {
            let which = (seed / 4) as usize % TIERED_BUDGETS.len();
            const LABELS: [&str; 4] = [
                "interpreter (eager) vs tiered (budget 0)",
                "interpreter (eager) vs tiered (budget 7)",
                "interpreter (eager) vs tiered (budget 50)",
                "interpreter (eager) vs tiered (budget 400)",
            ];
            return (&self.interp_eager, &self.tiered[which], LABELS[which]);
        }
        match (seed.is_multiple_of(2), seed % 3 != 2) {
            (true, true) => (
                &self.interp_lazy,
                &self.native_speed,
                "interpreter (lazy) vs cranelift (speed)",
            ),
            (true, false) => (
                &self.interp_lazy,
                &self.native_none,
                "interpreter (lazy) vs cranelift (none)",
            ),
            (false, true) => (
                &self.interp_eager,
                &self.native_speed,
                "interpreter (eager) vs cranelift (speed)",
            ),
            (false, false) => (
                &self.interp_eager,
                &self.native_none,
                "interpreter (eager) vs cranelift (none)",
            ),
        }
    }
}

/// One divergence: the seed and what differed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The seed (reproduce with `--seed N --trace`).
    pub seed: u64,
    /// What was done and what each tier did.
    pub description: String,
}

/// Totals over a range of seeds.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Seeds run.
    pub seeds: u64,
    /// Modules both tiers compiled.
    pub modules: u64,
    /// Bytes of all modules generated.
    pub module_bytes: u64,
    /// Seeds wasm-smith made no module for.
    pub not_generated: u64,
    /// Modules both tiers refused: seed and message (should be none).
    pub rejected: Vec<(u64, String)>,
    /// Instances created in each tier.
    pub instances: u64,
    /// Instantiations that trapped identically.
    pub instantiation_traps: u64,
    /// Calls made in each tier.
    pub calls: u64,
    /// Traps both tiers agreed on, by code (instantiation included).
    pub traps: BTreeMap<String, u64>,
    /// Calls and instantiations made inconclusive by a stack overflow.
    pub inconclusive: u64,
    /// Functions the native tier left to the interpreter.
    pub native_fallbacks: u64,
    /// Every divergence, by seed.
    pub divergences: Vec<Divergence>,
    /// Wall-clock time.
    pub elapsed: Duration,
}

impl Summary {
    /// Adds one seed's report.
    pub fn add(&mut self, report: SeedReport) {
        self.seeds += 1;
        self.module_bytes += report.module_bytes as u64;
        match report.fate {
            Fate::NotGenerated(_) => self.not_generated += 1,
            Fate::Rejected(msg) => self.rejected.push((report.seed, msg)),
            Fate::Compiled => self.modules += 1,
        }
        self.instances += report.instances;
        self.instantiation_traps += report.instantiation_traps;
        self.calls += report.calls;
        for (code, n) in report.traps {
            *self.traps.entry(code).or_default() += n;
        }
        self.inconclusive += report.inconclusive;
        self.native_fallbacks += report.native_fallbacks as u64;
        if let Some(description) = report.divergence {
            self.divergences.push(Divergence {
                seed: report.seed,
                description,
            });
        }
    }

    /// Adds another summary's totals (elapsed times are not added).
    pub fn merge(&mut self, other: Summary) {
        self.seeds += other.seeds;
        self.modules += other.modules;
        self.module_bytes += other.module_bytes;
        self.not_generated += other.not_generated;
        self.rejected.extend(other.rejected);
        self.instances += other.instances;
        self.instantiation_traps += other.instantiation_traps;
        self.calls += other.calls;
        for (code, n) in other.traps {
            *self.traps.entry(code).or_default() += n;
        }
        self.inconclusive += other.inconclusive;
        self.native_fallbacks += other.native_fallbacks;
        self.divergences.extend(other.divergences);
        self.rejected.sort();
        self.divergences.sort_by_key(|d| d.seed);
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        writeln!(
            f,
            "seeds: {} in {:.1} s ({:.0} seeds/s, {:.0} calls/s)",
            self.seeds,
            secs,
            self.seeds as f64 / secs,
            self.calls as f64 / secs
        )?;
        writeln!(
            f,
            "modules: {} compiled by both tiers ({} KiB in all), {} not generated, {} rejected by both",
            self.modules,
            self.module_bytes / 1024,
            self.not_generated,
            self.rejected.len()
        )?;
        for (seed, msg) in self.rejected.iter().take(5) {
            writeln!(f, "  rejected: seed {seed}: {msg}")?;
        }
        writeln!(
            f,
            "instances: {} ({} trapped while instantiating)",
            self.instances, self.instantiation_traps
        )?;
        writeln!(f, "calls: {}", self.calls)?;
        let traps: u64 = self.traps.values().sum();
        writeln!(f, "traps: {traps}")?;
        for (code, n) in &self.traps {
            writeln!(f, "  {code}: {n}")?;
        }
        writeln!(
            f,
            "inconclusive (stack overflow in either tier): {}",
            self.inconclusive
        )?;
        writeln!(
            f,
            "functions the native tier left to the interpreter: {}",
            self.native_fallbacks
        )?;
        writeln!(f, "divergences: {}", self.divergences.len())?;
        for d in &self.divergences {
            writeln!(f, "  seed {}: {}", d.seed, d.description)?;
        }
        Ok(())
    }
}

/// Runs every seed of `seeds` on `jobs` threads and adds up the reports.
/// With `progress`, prints a line to stderr every 1,000 seeds. Fails only
/// if the engines cannot be created.
pub fn run_seeds(
    seeds: Range<u64>,
    opts: &Options,
    jobs: usize,
    progress: bool,
) -> kiln::Result<Summary> {
    let start = Instant::now();
    let next = AtomicU64::new(seeds.start);
    let done = AtomicU64::new(0);
    let diverged = AtomicU64::new(0);
    let total = Mutex::new(Summary::default());
    let tiers = Tiers::new(opts)?;
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            std::thread::Builder::new()
                // Native code and the interpreter get `max_wasm_stack`; the
                // host's frames around them get plenty.
                .stack_size(64 << 20)
                .spawn_scoped(scope, || {
                    let mut summary = Summary::default();
                    loop {
                        let seed = next.fetch_add(1, Ordering::Relaxed);
                        if seed >= seeds.end || seed < seeds.start {
                            break;
                        }
                        let report = run_seed(seed, &tiers, opts, false);
                        if report.divergence.is_some() {
                            diverged.fetch_add(1, Ordering::Relaxed);
                        }
                        summary.add(report);
                        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                        if progress && n.is_multiple_of(1000) {
                            eprintln!(
                                "{n} seeds, {} divergences, {:.0} s",
                                diverged.load(Ordering::Relaxed),
                                start.elapsed().as_secs_f64()
                            );
                        }
                    }
                    total.lock().unwrap().merge(summary);
                })
                .expect("spawning a worker thread");
        }
    });
    let mut summary = total.into_inner().unwrap();
    summary.elapsed = start.elapsed();
    Ok(summary)
}
