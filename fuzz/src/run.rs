//! One seed through both tiers: compile, instantiate, call every export,
//! compare everything after every step.

use crate::generate::{STREAM_ARGS, arguments, generate};
use crate::observe::{Outcome, Side, compare_state, guard, list};
use crate::rng::Rng;
use crate::{Options, Tiers};
use kiln::{Engine, ExternType, Instance, Module, Store, Val, ValType};
use std::collections::BTreeMap;

/// What became of a seed's module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    /// wasm-smith gave up on the seed's input (the message).
    NotGenerated(String),
    /// Both tiers refused it in `Module::new` (the interpreter's message):
    /// wasm-smith made something Kiln does not support, i.e. the generator
    /// is configured wrongly or Kiln's validator is.
    Rejected(String),
    /// Both tiers compiled it (and it was run, unless the tiers disagreed
    /// on compiling it).
    Compiled,
}

/// The result of one seed.
#[derive(Clone, Debug)]
pub struct SeedReport {
    /// The seed.
    pub seed: u64,
    /// Which variants of the tiers ran it (see [`Tiers::pair`]).
    pub tiers: &'static str,
    /// Size of the module binary.
    pub module_bytes: usize,
    /// What became of the module.
    pub fate: Fate,
    /// Instances created (one, plus one per restart after a stack overflow).
    pub instances: u64,
    /// Instantiations that trapped (in a segment or the start function)
    /// identically in both tiers.
    pub instantiation_traps: u64,
    /// Calls made (each in both tiers).
    pub calls: u64,
    /// Traps both tiers agreed on, by trap code, instantiation included.
    pub traps: BTreeMap<String, u64>,
    /// Calls and instantiations that overflowed the stack in either tier:
    /// inconclusive, and the instance is replaced by a fresh one.
    pub inconclusive: u64,
    /// Functions the native tier could not compile and left to the
    /// interpreter (these are then compared against themselves).
    pub native_fallbacks: usize,
    /// The first difference between the tiers, if any: what was done and
    /// what each tier did.
    pub divergence: Option<String>,
}

impl SeedReport {
    fn new(seed: u64) -> SeedReport {
        SeedReport {
            seed,
            tiers: "",
            module_bytes: 0,
            fate: Fate::Compiled,
            instances: 0,
            instantiation_traps: 0,
            calls: 0,
            traps: BTreeMap::new(),
            inconclusive: 0,
            native_fallbacks: 0,
            divergence: None,
        }
    }

    fn count_trap(&mut self, outcome: &Outcome) {
        if let Some(code) = outcome.trap() {
            *self.traps.entry(format!("{code:?}")).or_default() += 1;
        }
    }
}

/// Compiles `bytes` with `engine`, a panic becoming `Err(Err(message))`.
fn compile(engine: &Engine, bytes: &[u8]) -> Result<Module, String> {
    match guard(|| Module::new(engine, bytes)) {
        Ok(Ok(module)) => Ok(module),
        Ok(Err(err)) => Err(format!("failed: {err:#}")),
        Err(panic) => Err(format!("PANICKED: {panic}")),
    }
}

/// Instantiates `module` in a fresh store with `fuel`.
fn instantiate(
    engine: &Engine,
    module: &Module,
    fuel: u64,
) -> (Store<()>, Result<Instance, Outcome>) {
    let mut store = Store::new(engine, ());
    let result = guard(|| {
        store.set_fuel(fuel)?;
        Instance::new(&mut store, module, &[])
    });
    let result = match result {
        Ok(Ok(instance)) => Ok(instance),
        Ok(Err(err)) => Err(Outcome::of_error(&err)),
        Err(panic) => Err(Outcome::Panicked(panic)),
    };
    (store, result)
}

fn describe_instantiation(result: &Result<Instance, Outcome>) -> String {
    match result {
        Ok(_) => "instantiated".to_string(),
        Err(outcome) => outcome.to_string(),
    }
}

/// Runs `seed` under both tiers of `tiers` and compares them. With `trace`,
/// prints every step to stderr (for reproducing one seed).
pub fn run_seed(seed: u64, tiers: &Tiers, opts: &Options, trace: bool) -> SeedReport {
    match generate(seed, opts) {
        Ok(bytes) => run_module(seed, &bytes, tiers, opts, trace),
        Err(err) => {
            let mut report = SeedReport::new(seed);
            report.fate = Fate::NotGenerated(err.to_string());
            report
        }
    }
}

/// Runs `module` (binary or text) as seed `seed` would run its own module:
/// the seed picks the engines and the arguments. This is how a module is
/// reduced by hand or by [`crate::reduce`].
pub fn run_module(
    seed: u64,
    module: &[u8],
    tiers: &Tiers,
    opts: &Options,
    trace: bool,
) -> SeedReport {
    let mut report = SeedReport::new(seed);
    if let Err(panic) = guard(|| run(&mut report, module, tiers, opts, trace)) {
        report.divergence = Some(format!("the tester panicked: {panic}"));
    }
    if let Some(divergence) = &mut report.divergence {
        *divergence = format!("[{}] {divergence}", report.tiers);
    }
    report
}

fn run(report: &mut SeedReport, bytes: &[u8], tiers: &Tiers, opts: &Options, trace: bool) {
    let seed = report.seed;
    report.module_bytes = bytes.len();
    let (interp_engine, native_engine, label) = tiers.pair(seed);
    report.tiers = label;

    // Module::new: both compile, or both refuse.
    let (interp_module, native_module) =
        match (compile(interp_engine, bytes), compile(native_engine, bytes)) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(a), Err(b)) if !a.starts_with("PANICKED") && !b.starts_with("PANICKED") => {
                report.fate = Fate::Rejected(a);
                return;
            }
            (a, b) => {
                let show = |r: &Result<Module, String>| match r {
                    Ok(_) => "compiled".to_string(),
                    Err(e) => e.clone(),
                };
                report.divergence = Some(format!(
                    "Module::new: interpreter {}; cranelift {}",
                    show(&a),
                    show(&b)
                ));
                return;
            }
        };
    report.native_fallbacks = native_module
        .tier_stats()
        .map_or(0, |stats| stats.fallbacks.len());
    if let (true, Some(stats)) = (trace, native_module.tier_stats()) {
        for (index, why) in &stats.fallbacks {
            eprintln!("native tier left function {index} to the interpreter: {why}");
        }
    }

    // The calls: every exported function, `calls_per_func` rounds, each
    // call with its own deterministic arguments.
    let funcs: Vec<(String, Vec<ValType>)> = interp_module
        .exports()
        .filter_map(|export| match export.ty() {
            ExternType::Func(ty) => Some((export.name().to_string(), ty.params().collect())),
            _ => None,
        })
        .collect();
    let mut rng = Rng::stream(seed, STREAM_ARGS);
    let mut plan: Vec<(usize, Vec<Val>)> = Vec::new();
    for _ in 0..opts.calls_per_func {
        for (index, (_, params)) in funcs.iter().enumerate() {
            plan.push((index, arguments(&mut rng, params)));
        }
    }

    let mut next = 0;
    let mut overflowed = vec![false; funcs.len()];
    'instance: while report.instances < opts.max_instances as u64 {
        report.instances += 1;
        let instance_no = report.instances;
        let (interp_store, interp_instance) = instantiate(interp_engine, &interp_module, opts.fuel);
        let (native_store, native_instance) = instantiate(native_engine, &native_module, opts.fuel);
        if trace {
            eprintln!(
                "instance #{instance_no}: interpreter {}; cranelift {}",
                describe_instantiation(&interp_instance),
                describe_instantiation(&native_instance)
            );
        }
        let (interp_instance, native_instance) = match (interp_instance, native_instance) {
            (Ok(a), Ok(b)) => (a, b),
            (a, b) => {
                let overflow = [&a, &b]
                    .iter()
                    .any(|r| r.as_ref().err().is_some_and(Outcome::overflowed));
                if overflow {
                    report.inconclusive += 1;
                    return;
                }
                if let (Err(oa), Err(ob)) = (&a, &b)
                    && oa == ob
                    && !matches!(oa, Outcome::Panicked(_))
                {
                    report.instantiation_traps += 1;
                    report.count_trap(oa);
                    let fuel = (interp_store.get_fuel().ok(), native_store.get_fuel().ok());
                    if fuel.0 != fuel.1 {
                        report.divergence = Some(format!(
                            "instantiation #{instance_no} ({oa}): fuel left: interpreter {:?}, cranelift {:?}",
                            fuel.0, fuel.1
                        ));
                    }
                    return;
                }
                report.divergence = Some(format!(
                    "instantiation #{instance_no}: interpreter {}; cranelift {}",
                    describe_instantiation(&a),
                    describe_instantiation(&b)
                ));
                return;
            }
        };
        let mut a = Side::new("interpreter", interp_store, interp_instance);
        let mut b = Side::new("cranelift", native_store, native_instance);
        if let Err(difference) = compare_state(&mut a, &mut b) {
            report.divergence = Some(format!("after instantiation #{instance_no}: {difference}"));
            return;
        }

        while next < plan.len() {
            let (index, args) = &plan[next];
            let call_no = next;
            next += 1;
            if overflowed[*index] {
                continue;
            }
            let name = &funcs[*index].0;
            let oa = a.call(name, args, opts.fuel);
            let ob = b.call(name, args, opts.fuel);
            report.calls += 1;
            let arg_values: Vec<_> = args.iter().map(|v| a.value(v)).collect();
            let what = format!(
                "call #{call_no} (instance #{instance_no}) of export {name:?} with [{}]",
                list(&arg_values)
            );
            if trace {
                eprintln!(
                    "{what}: interpreter {oa} (fuel left {:?}); cranelift {ob} (fuel left {:?})",
                    a.fuel(),
                    b.fuel()
                );
            }
            if oa.overflowed() || ob.overflowed() {
                report.inconclusive += 1;
                overflowed[*index] = true;
                continue 'instance;
            }
            if oa != ob {
                report.divergence = Some(format!("{what}: interpreter {oa}; cranelift {ob}"));
                return;
            }
            if let Outcome::Panicked(_) = oa {
                report.divergence = Some(format!("{what}: both tiers {oa}"));
                return;
            }
            report.count_trap(&oa);
            if let Err(difference) = compare_state(&mut a, &mut b) {
                report.divergence = Some(format!("{what} ({oa}): afterwards, {difference}"));
                return;
            }
        }
        return;
    }
}
