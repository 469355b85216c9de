//! The engines under test behind one small trait, [`Runtime`].
//!
//! Every engine gets the same treatment: compile bytes into a module,
//! instantiate it with every import satisfied by a stub (a function that
//! traps, a zero global, a fresh memory or table of the imported type), call
//! an exported `(i32) -> i32` function through the engine's typed-function
//! API, and run the host-call loops.

use anyhow::{Context, Result, anyhow, bail};
use std::fmt;
use std::path::Path;

/// Every engine configuration the harness knows, in report order.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum EngineId {
    /// The kernels compiled natively by clang: the speed limit.
    Native,
    /// `wasmparser`'s validator alone: the start-up floor.
    Wasmparser,
    /// Kiln, lazy translation (its default).
    Kiln,
    /// Kiln, eager translation.
    KilnEager,
    /// Kiln's native tier: every function compiled by Cranelift in
    /// `Module::new`.
    KilnCranelift,
    /// Kiln's tiered execution (`Strategy::Tiered`, what `Strategy::Auto`
    /// means): the interpreter first, hot functions and loops moved to
    /// native code compiled on the engine's background thread.
    KilnTiered,
    /// wasmi, eager compilation.
    WasmiEager,
    /// wasmi, eager validation and lazy translation.
    WasmiLazy,
    /// wasmtime with its optimising compiler, Cranelift.
    WasmtimeCranelift,
    /// wasmtime with its baseline compiler, Winch.
    WasmtimeWinch,
    /// wasmtime with its portable interpreter, Pulley.
    WasmtimePulley,
    /// [`Kiln`](EngineId::Kiln) consuming fuel (kernels only).
    KilnFuel,
    /// [`Kiln`](EngineId::Kiln) with epoch interruption (kernels only).
    KilnEpoch,
    /// [`WasmtimeCranelift`](EngineId::WasmtimeCranelift) consuming fuel
    /// (kernels only).
    WasmtimeCraneliftFuel,
    /// [`WasmtimeCranelift`](EngineId::WasmtimeCranelift) with epoch
    /// interruption (kernels only).
    WasmtimeCraneliftEpoch,
    /// [`KilnTiered`](EngineId::KilnTiered) with a budget that never runs
    /// out: the interpreter counting work for a compiler that never runs
    /// (kernels only; the counting overhead against [`Kiln`](EngineId::Kiln)).
    KilnTieredCold,
}

/// What an engine checks to be able to interrupt running code: nothing
/// (every engine's default), fuel or an epoch deadline.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Interrupts {
    /// Neither fuel nor epochs.
    None,
    /// `Config::consume_fuel(true)`; every store gets [`FUEL`] units.
    Fuel,
    /// `Config::epoch_interruption(true)`; every store's deadline is
    /// [`EPOCH_DEADLINE`] ticks away and the epoch never advances.
    Epoch,
}

/// The fuel a store of a fuel-consuming engine starts with: far more than
/// any kernel can use, so it never runs out.
pub const FUEL: u64 = u64::MAX / 2;

/// The epoch deadline (in ticks from now) of a store of an engine with
/// epoch interruption: never reached, as nothing increments the epoch.
pub const EPOCH_DEADLINE: u64 = u64::MAX / 2;

impl EngineId {
    /// Every engine, in report order.
    pub const ALL: [EngineId; 16] = [
        EngineId::Native,
        EngineId::Wasmparser,
        EngineId::Kiln,
        EngineId::KilnEager,
        EngineId::KilnCranelift,
        EngineId::KilnTiered,
        EngineId::WasmiEager,
        EngineId::WasmiLazy,
        EngineId::WasmtimeCranelift,
        EngineId::WasmtimeWinch,
        EngineId::WasmtimePulley,
        EngineId::KilnFuel,
        EngineId::KilnEpoch,
        EngineId::WasmtimeCraneliftFuel,
        EngineId::WasmtimeCraneliftEpoch,
        EngineId::KilnTieredCold,
    ];

    /// The name used on the command line and in the report.
    pub fn name(self) -> &'static str {
        match self {
            EngineId::Native => "native",
            EngineId::Wasmparser => "wasmparser",
            EngineId::Kiln => "kiln",
            EngineId::KilnEager => "kiln-eager",
            EngineId::KilnCranelift => "kiln-cranelift",
            EngineId::KilnTiered => "kiln-tiered",
            EngineId::KilnTieredCold => "kiln-tiered-cold",
            EngineId::WasmiEager => "wasmi-eager",
            EngineId::WasmiLazy => "wasmi-lazy",
            EngineId::WasmtimeCranelift => "wasmtime-cranelift",
            EngineId::WasmtimeWinch => "wasmtime-winch",
            EngineId::WasmtimePulley => "wasmtime-pulley",
            EngineId::KilnFuel => "kiln-fuel",
            EngineId::KilnEpoch => "kiln-epoch",
            EngineId::WasmtimeCraneliftFuel => "wasmtime-cranelift-fuel",
            EngineId::WasmtimeCraneliftEpoch => "wasmtime-cranelift-epoch",
        }
    }

    /// Looks an engine up by [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<EngineId> {
        EngineId::ALL.into_iter().find(|e| e.name() == name)
    }

    /// A one-line description for the report.
    pub fn describe(self) -> &'static str {
        match self {
            EngineId::Native => "the C kernels compiled natively with `clang -O2` (speed limit)",
            EngineId::Wasmparser => {
                "`wasmparser::Validator::validate_all` with Kiln's feature set (start-up floor)"
            }
            EngineId::Kiln => {
                "Kiln's interpreter (`Strategy::Interpreter`), `CompilationMode::Lazy` (default): \
                 validate all, translate on first call"
            }
            EngineId::KilnEager => {
                "Kiln's interpreter (`Strategy::Interpreter`), `CompilationMode::Eager`: validate \
                 and translate everything up front"
            }
            EngineId::KilnCranelift => {
                "Kiln's native tier (`Strategy::Cranelift`): every function compiled by Cranelift \
                 (`kiln-jit`) in `Module::new`, in parallel on all cores (`Config::parallel_compilation`, \
                 default on)"
            }
            EngineId::KilnTiered => {
                "Kiln's tiered execution (`Strategy::Tiered`, what `Strategy::Auto` means), default \
                 `tier_up_budget` (100,000) and background compilation: functions start in the \
                 interpreter (lazy translation) and move to Cranelift code once their budget is spent, \
                 running loops through on-stack replacement"
            }
            EngineId::KilnTieredCold => {
                "`kiln-tiered` with `tier_up_budget(u64::MAX)`: the interpreter runs the tier-up \
                 counting instructions but the compiler never runs (kernels only)"
            }
            EngineId::WasmiEager => "wasmi, `CompilationMode::Eager`",
            EngineId::WasmiLazy => {
                "wasmi, `CompilationMode::LazyTranslation` (its default): validate all, translate on first call"
            }
            EngineId::WasmtimeCranelift => "wasmtime, Cranelift (optimising JIT)",
            EngineId::WasmtimeWinch => "wasmtime, Winch (baseline JIT)",
            EngineId::WasmtimePulley => "wasmtime, Pulley (portable interpreter, `pulley64`)",
            EngineId::KilnFuel => {
                "`kiln` with `Config::consume_fuel(true)`, stores given `u64::MAX / 2` fuel (kernels only)"
            }
            EngineId::KilnEpoch => {
                "`kiln` with `Config::epoch_interruption(true)`, store deadlines `u64::MAX / 2` ticks away (kernels only)"
            }
            EngineId::WasmtimeCraneliftFuel => {
                "`wasmtime-cranelift` with `Config::consume_fuel(true)`, stores given `u64::MAX / 2` fuel (kernels only)"
            }
            EngineId::WasmtimeCraneliftEpoch => {
                "`wasmtime-cranelift` with `Config::epoch_interruption(true)`, store deadlines `u64::MAX / 2` ticks away (kernels only)"
            }
        }
    }

    /// For the kernels-only variants: the engine they add their checks
    /// to, and which checks (none for `kiln-tiered-cold`, which adds the
    /// tier-up counting to `kiln`). `None` for every other engine.
    pub fn variant_of(self) -> Option<(EngineId, Interrupts)> {
        match self {
            EngineId::KilnTieredCold => Some((EngineId::Kiln, Interrupts::None)),
            EngineId::KilnFuel => Some((EngineId::Kiln, Interrupts::Fuel)),
            EngineId::KilnEpoch => Some((EngineId::Kiln, Interrupts::Epoch)),
            EngineId::WasmtimeCraneliftFuel => {
                Some((EngineId::WasmtimeCranelift, Interrupts::Fuel))
            }
            EngineId::WasmtimeCraneliftEpoch => {
                Some((EngineId::WasmtimeCranelift, Interrupts::Epoch))
            }
            _ => None,
        }
    }

    /// The interruption checks this engine enables: those of its variant,
    /// or none.
    pub fn interrupts(self) -> Interrupts {
        self.variant_of()
            .map_or(Interrupts::None, |(_, interrupts)| interrupts)
    }

    /// Whether the instantiation-throughput section measures this engine
    /// (Kiln against wasmtime with Cranelift).
    pub fn measures_instantiation(self) -> bool {
        matches!(self, EngineId::Kiln | EngineId::WasmtimeCranelift)
    }

    /// Whether the total-time and real-program sections measure this
    /// engine: Kiln's interpreter, native tier and tiered execution against
    /// wasmtime with Cranelift.
    pub fn measures_totals(self) -> bool {
        matches!(
            self,
            EngineId::Kiln
                | EngineId::KilnCranelift
                | EngineId::KilnTiered
                | EngineId::WasmtimeCranelift
        )
    }

    /// Whether this engine runs WebAssembly (and so the instantiation,
    /// kernel and host-call workloads apply to it).
    pub fn runs_wasm(self) -> bool {
        !matches!(self, EngineId::Native | EngineId::Wasmparser)
    }
}

impl fmt::Display for EngineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which loop of the host-call module to run.
#[derive(Copy, Clone, Debug)]
pub enum Loop {
    /// `loop_host`: wasm calls the imported host function `n` times.
    Host,
    /// `loop_wasm`: wasm calls a wasm function `n` times (the reference).
    Wasm,
}

impl Loop {
    fn export(self) -> &'static str {
        match self {
            Loop::Host => "loop_host",
            Loop::Wasm => "loop_wasm",
        }
    }
}

/// The host-call module: `host.inc` is the imported function, `inc` the
/// exported one, both `(i32) -> i32` returning their argument plus one.
pub const HOST_CALL_WAT: &str = r#"
(module
  (import "host" "inc" (func $host_inc (param i32) (result i32)))
  (func $wasm_inc (param i32) (result i32)
    (i32.add (local.get 0) (i32.const 1)))
  (func (export "inc") (param i32) (result i32)
    (i32.add (local.get 0) (i32.const 1)))
  (func (export "loop_host") (param $n i32) (result i32)
    (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (call $host_inc (local.get $acc)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $acc))
  (func (export "loop_wasm") (param $n i32) (result i32)
    (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (call $wasm_inc (local.get $acc)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $acc)))
"#;

/// What the harness needs from an engine. Timing happens outside, around
/// exactly one of these calls.
pub trait Runtime {
    /// A compiled module.
    type Module;
    /// A fresh store plus a linker defining every import as a stub.
    type Ready;
    /// An instance of a kernel with its `run` export, ready to call.
    type Kernel;
    /// An instance of the host-call module.
    type Calls;

    /// `Module::new`: validate (and, depending on the mode, translate).
    fn compile(&self, wasm: &[u8]) -> Result<Self::Module>;
    /// Creates a store and stubs for every import of `module`.
    fn prepare(&self, module: &Self::Module) -> Result<Self::Ready>;
    /// Instantiates `module` in `ready` (runs the start function, if any).
    fn instantiate(&self, module: &Self::Module, ready: &mut Self::Ready) -> Result<()>;
    /// Instantiates a kernel module and looks up `run: (i32) -> i32`.
    fn kernel(&self, module: &Self::Module) -> Result<Self::Kernel>;
    /// Calls the kernel's `run(n)`.
    fn call(&self, kernel: &mut Self::Kernel, n: i32) -> Result<i32>;
    /// Instantiates the host-call module with `host.inc` defined.
    fn host_calls(&self, module: &Self::Module) -> Result<Self::Calls>;
    /// Runs one of the wasm-side loops for `n` iterations.
    fn wasm_loop(&self, calls: &mut Self::Calls, which: Loop, n: i32) -> Result<i32>;
    /// Calls the exported `inc` `n` times from the host.
    fn host_loop(&self, calls: &mut Self::Calls, n: i32) -> Result<i32>;
    /// What Kiln's native tier did with `module`; `None` for every other
    /// engine and configuration.
    fn tier_stats(&self, _module: &Self::Module) -> Option<kiln::TierStats> {
        None
    }
    /// Bytes of machine code (or bytecode, for Pulley) `module` was
    /// compiled to, for the engines that say; `None` for the others.
    fn code_size(&self, _module: &Self::Module) -> Option<usize> {
        None
    }
    /// Instantiates `module` in `ready` and calls its export `name` with
    /// `args` (all `i32`); returns its first result, if any, as an `i64`.
    fn instantiate_and_call(
        &self,
        _module: &Self::Module,
        _ready: &mut Self::Ready,
        _name: &str,
        _args: &[i32],
    ) -> Result<Option<i64>> {
        bail!("not measured on this engine")
    }
    /// Runs a WASI command's `_start` with `args` (`args[0]` is the
    /// program's name) and host directory `dir` preopened as `/` (read
    /// only), stdout and stderr captured. Times from `Module::new` to the
    /// end of `_start`; see [`WasiRun`].
    fn wasi_command(&self, _wasm: &[u8], _args: &[String], _dir: &Path) -> Result<WasiRun> {
        bail!("WASI is not measured on this engine")
    }
}

/// One run of a WASI command.
pub struct WasiRun {
    /// Its exit code (`proc_exit`, or 0 when `_start` returned).
    pub exit: i32,
    /// What it wrote to stdout.
    pub stdout: Vec<u8>,
    /// What it wrote to stderr.
    pub stderr: Vec<u8>,
    /// `Module::new`.
    pub compile: std::time::Duration,
    /// From before `Module::new` to the end of `_start`, WASI context and
    /// linker set-up included.
    pub total: std::time::Duration,
    /// Kiln's tier statistics after the run (`None` for other engines).
    pub tier: Option<kiln::TierStats>,
}

/// The first result of a call as an `i64`, for the integer types.
fn first_int<V>(results: &[V], as_int: impl Fn(&V) -> Option<i64>) -> Option<i64> {
    results.first().and_then(as_int)
}

/// Something to do with a runtime, whichever it is.
pub trait Visitor {
    /// What the visit produces.
    type Output;
    /// Does the work with `runtime`.
    fn visit<R: Runtime>(self, runtime: &R) -> Result<Self::Output>;
}

/// Creates the runtime for `id` and hands it to `visitor`. Fails for the
/// two pseudo-engines, which do not run WebAssembly.
pub fn with_runtime<V: Visitor>(id: EngineId, visitor: V) -> Result<V::Output> {
    let interrupts = id.interrupts();
    match id {
        EngineId::Native | EngineId::Wasmparser => bail!("{id} does not run WebAssembly"),
        EngineId::Kiln | EngineId::KilnFuel | EngineId::KilnEpoch => {
            visitor.visit(&Kiln::new(KilnKind::Lazy, interrupts)?)
        }
        EngineId::KilnEager => visitor.visit(&Kiln::new(KilnKind::Eager, interrupts)?),
        EngineId::KilnCranelift => visitor.visit(&Kiln::new(KilnKind::Cranelift, interrupts)?),
        EngineId::KilnTiered => visitor.visit(&Kiln::new(KilnKind::Tiered(None), interrupts)?),
        EngineId::KilnTieredCold => {
            visitor.visit(&Kiln::new(KilnKind::Tiered(Some(u64::MAX)), interrupts)?)
        }
        EngineId::WasmiEager => visitor.visit(&Wasmi::new(wasmi::CompilationMode::Eager)),
        EngineId::WasmiLazy => visitor.visit(&Wasmi::new(wasmi::CompilationMode::LazyTranslation)),
        EngineId::WasmtimeCranelift
        | EngineId::WasmtimeCraneliftFuel
        | EngineId::WasmtimeCraneliftEpoch => {
            visitor.visit(&Wasmtime::new(WasmtimeKind::Cranelift, interrupts)?)
        }
        EngineId::WasmtimeWinch => visitor.visit(&Wasmtime::new(WasmtimeKind::Winch, interrupts)?),
        EngineId::WasmtimePulley => {
            visitor.visit(&Wasmtime::new(WasmtimeKind::Pulley, interrupts)?)
        }
    }
}

/// The feature set Kiln validates against (WebAssembly 2.0 without SIMD),
/// for the bare-`wasmparser` floor.
pub fn kiln_features() -> wasmparser::WasmFeatures {
    let mut features = wasmparser::WasmFeatures::WASM2;
    features.remove(wasmparser::WasmFeatures::SIMD);
    features.remove(wasmparser::WasmFeatures::RELAXED_SIMD);
    features
}

/// The start-up floor: parse and validate, nothing else.
pub fn wasmparser_validate(wasm: &[u8]) -> Result<()> {
    wasmparser::Validator::new_with_features(kiln_features()).validate_all(wasm)?;
    Ok(())
}

/// What a stub import's trap says.
pub fn stub_message(module: &str, name: &str) -> String {
    format!("stub import {module}::{name} called")
}

// ---------------------------------------------------------------------------
// Kiln

/// The Kiln configurations.
#[derive(Copy, Clone, Debug)]
pub enum KilnKind {
    /// The interpreter, translating each function on its first call.
    Lazy,
    /// The interpreter, translating every function in `Module::new`.
    Eager,
    /// The native tier: Cranelift compiles every function in `Module::new`,
    /// on all cores.
    Cranelift,
    /// Tiered execution, lazy translation, background compilation; the
    /// tier-up budget if not the default.
    Tiered(Option<u64>),
}

impl KilnKind {
    /// Sets the tier (always explicitly, so the interpreter engines keep
    /// measuring the interpreter whatever `Strategy::Auto` comes to mean)
    /// and the compilation mode.
    fn configure(self, config: &mut kiln::Config) {
        match self {
            KilnKind::Lazy => {
                config.strategy(kiln::Strategy::Interpreter);
                config.compilation_mode(kiln::CompilationMode::Lazy);
            }
            KilnKind::Eager => {
                config.strategy(kiln::Strategy::Interpreter);
                config.compilation_mode(kiln::CompilationMode::Eager);
            }
            KilnKind::Cranelift => {
                config.strategy(kiln::Strategy::Cranelift);
                // The default, stated: wasmtime compiles on all cores too.
                config.parallel_compilation(true);
            }
            KilnKind::Tiered(budget) => {
                config.strategy(kiln::Strategy::Tiered);
                config.compilation_mode(kiln::CompilationMode::Lazy);
                if let Some(budget) = budget {
                    config.tier_up_budget(budget);
                }
            }
        }
    }
}

/// Kiln in one configuration.
pub struct Kiln {
    engine: kiln::Engine,
    interrupts: Interrupts,
}

impl Kiln {
    /// An engine with the default configuration apart from what `kind`
    /// sets, and the checks `interrupts` asks for.
    pub fn new(kind: KilnKind, interrupts: Interrupts) -> Result<Kiln> {
        let mut config = kiln::Config::new();
        kind.configure(&mut config);
        config.consume_fuel(interrupts == Interrupts::Fuel);
        config.epoch_interruption(interrupts == Interrupts::Epoch);
        Ok(Kiln {
            engine: kiln::Engine::new(&config)?,
            interrupts,
        })
    }

    /// A fresh store, with fuel or an epoch deadline that never runs out
    /// if the engine checks them.
    fn store(&self) -> Result<kiln::Store<()>> {
        let mut store = kiln::Store::new(&self.engine, ());
        match self.interrupts {
            Interrupts::None => {}
            Interrupts::Fuel => store.set_fuel(FUEL).context("setting the fuel")?,
            Interrupts::Epoch => store.set_epoch_deadline(EPOCH_DEADLINE),
        }
        Ok(store)
    }
}

impl Runtime for Kiln {
    type Module = kiln::Module;
    type Ready = (kiln::Store<()>, kiln::Linker<()>);
    type Kernel = (kiln::Store<()>, kiln::TypedFunc<i32, i32>);
    type Calls = (kiln::Store<()>, kiln::Instance);

    fn compile(&self, wasm: &[u8]) -> Result<kiln::Module> {
        kiln::Module::new(&self.engine, wasm)
    }

    fn prepare(&self, module: &kiln::Module) -> Result<Self::Ready> {
        use kiln::{ExternType, Global, Memory, Table, Val, ValType};
        let mut store = self.store()?;
        let mut linker = kiln::Linker::new(&self.engine);
        linker.allow_shadowing(true);
        for import in module.imports() {
            let (m, n) = (import.module(), import.name());
            match import.ty() {
                ExternType::Func(ty) => {
                    let message = stub_message(m, n);
                    linker.func_new(m, n, ty, move |_, _, _| Err(anyhow!("{message}")))?;
                }
                ExternType::Global(ty) => {
                    let value = Val::default_for_ty(ty.content())
                        .with_context(|| format!("no default value for global {m}::{n}"))?;
                    let global = Global::new(&mut store, ty, value)?;
                    linker.define(&store, m, n, global)?;
                }
                ExternType::Table(ty) => {
                    let init = Val::default_for_ty(&ValType::Ref(*ty.element()))
                        .and_then(Val::ref_)
                        .with_context(|| format!("no null value for table {m}::{n}"))?;
                    let table = Table::new(&mut store, ty, init)?;
                    linker.define(&store, m, n, table)?;
                }
                ExternType::Memory(ty) => {
                    let memory = Memory::new(&mut store, ty)?;
                    linker.define(&store, m, n, memory)?;
                }
            }
        }
        Ok((store, linker))
    }

    fn instantiate(&self, module: &kiln::Module, (store, linker): &mut Self::Ready) -> Result<()> {
        linker.instantiate(store, module)?;
        Ok(())
    }

    fn kernel(&self, module: &kiln::Module) -> Result<Self::Kernel> {
        let mut store = self.store()?;
        let instance = kiln::Instance::new(&mut store, module, &[])?;
        let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
        Ok((store, run))
    }

    fn call(&self, (store, run): &mut Self::Kernel, n: i32) -> Result<i32> {
        run.call(store, n)
    }

    fn host_calls(&self, module: &kiln::Module) -> Result<Self::Calls> {
        let mut store = self.store()?;
        let mut linker = kiln::Linker::new(&self.engine);
        linker.func_wrap("host", "inc", |x: i32| x.wrapping_add(1))?;
        let instance = linker.instantiate(&mut store, module)?;
        Ok((store, instance))
    }

    fn wasm_loop(&self, (store, instance): &mut Self::Calls, which: Loop, n: i32) -> Result<i32> {
        let f = instance.get_typed_func::<i32, i32>(&mut *store, which.export())?;
        f.call(store, n)
    }

    fn host_loop(&self, (store, instance): &mut Self::Calls, n: i32) -> Result<i32> {
        let f = instance.get_typed_func::<i32, i32>(&mut *store, "inc")?;
        let mut acc = 0;
        for _ in 0..n {
            acc = f.call(&mut *store, acc)?;
        }
        Ok(acc)
    }

    fn tier_stats(&self, module: &kiln::Module) -> Option<kiln::TierStats> {
        module.tier_stats()
    }

    fn code_size(&self, module: &kiln::Module) -> Option<usize> {
        module.tier_stats().map(|t| t.code_bytes)
    }

    fn instantiate_and_call(
        &self,
        module: &kiln::Module,
        (store, linker): &mut Self::Ready,
        name: &str,
        args: &[i32],
    ) -> Result<Option<i64>> {
        use kiln::Val;
        let instance = linker.instantiate(&mut *store, module)?;
        let func = instance
            .get_func(&mut *store, name)
            .with_context(|| format!("no exported function {name}"))?;
        let params: Vec<Val> = args.iter().map(|&a| Val::I32(a)).collect();
        let mut results = vec![Val::I32(0); func.ty(&*store).results().len()];
        func.call(&mut *store, &params, &mut results)?;
        Ok(first_int(&results, |v| match v {
            Val::I32(x) => Some(i64::from(*x)),
            Val::I64(x) => Some(*x),
            _ => None,
        }))
    }

    fn wasi_command(&self, wasm: &[u8], args: &[String], dir: &Path) -> Result<WasiRun> {
        use kiln_wasi::{DirPerms, FilePerms, I32Exit, MemoryOutputPipe, WasiCtxBuilder};
        let start = std::time::Instant::now();
        let module = kiln::Module::new(&self.engine, wasm)?;
        let compile = start.elapsed();
        let stdout = MemoryOutputPipe::new(1 << 20);
        let stderr = MemoryOutputPipe::new(1 << 20);
        let wasi = WasiCtxBuilder::new()
            .args(args)
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .preopened_dir(dir, "/", DirPerms::READ, FilePerms::READ)?
            .build();
        let mut store = kiln::Store::new(&self.engine, wasi);
        let mut linker = kiln::Linker::new(&self.engine);
        kiln_wasi::add_to_linker(&mut linker, |wasi: &mut kiln_wasi::WasiCtx| wasi)?;
        let instance = linker.instantiate(&mut store, &module)?;
        let run = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
        let exit = match run.call(&mut store, ()) {
            Ok(()) => 0,
            Err(e) => match e.downcast_ref::<I32Exit>() {
                Some(I32Exit(code)) => *code,
                None => return Err(e),
            },
        };
        let total = start.elapsed();
        Ok(WasiRun {
            exit,
            stdout: stdout.contents().to_vec(),
            stderr: stderr.contents().to_vec(),
            compile,
            total,
            tier: module.tier_stats(),
        })
    }
}

// ---------------------------------------------------------------------------
// wasmi

/// wasmi in one compilation mode.
pub struct Wasmi {
    engine: wasmi::Engine,
}

impl Wasmi {
    /// An engine with the default configuration and `mode`.
    pub fn new(mode: wasmi::CompilationMode) -> Wasmi {
        let mut config = wasmi::Config::default();
        config.compilation_mode(mode);
        Wasmi {
            engine: wasmi::Engine::new(&config),
        }
    }
}

impl Runtime for Wasmi {
    type Module = wasmi::Module;
    type Ready = (wasmi::Store<()>, wasmi::Linker<()>);
    type Kernel = (wasmi::Store<()>, wasmi::TypedFunc<i32, i32>);
    type Calls = (wasmi::Store<()>, wasmi::Instance);

    fn compile(&self, wasm: &[u8]) -> Result<wasmi::Module> {
        Ok(wasmi::Module::new(&self.engine, wasm)?)
    }

    fn prepare(&self, module: &wasmi::Module) -> Result<Self::Ready> {
        use wasmi::{ExternType, Global, Memory, Ref, Table, Val};
        let mut store = wasmi::Store::new(&self.engine, ());
        let mut linker = wasmi::Linker::new(&self.engine);
        linker.allow_shadowing(true);
        for import in module.imports() {
            let (m, n) = (import.module(), import.name());
            match import.ty() {
                ExternType::Func(ty) => {
                    let message = stub_message(m, n);
                    linker.func_new(m, n, ty.clone(), move |_, _, _| {
                        Err(wasmi::Error::new(message.clone()))
                    })?;
                }
                ExternType::Global(ty) => {
                    let global = Global::new(
                        &mut store,
                        Val::default_for_ty(ty.content()),
                        ty.mutability(),
                    );
                    linker.define(m, n, global)?;
                }
                ExternType::Table(ty) => {
                    let table = Table::new(&mut store, *ty, Ref::null(ty.element()))?;
                    linker.define(m, n, table)?;
                }
                ExternType::Memory(ty) => {
                    let memory = Memory::new(&mut store, *ty)?;
                    linker.define(m, n, memory)?;
                }
            }
        }
        Ok((store, linker))
    }

    fn instantiate(&self, module: &wasmi::Module, (store, linker): &mut Self::Ready) -> Result<()> {
        linker.instantiate_and_start(store, module)?;
        Ok(())
    }

    fn kernel(&self, module: &wasmi::Module) -> Result<Self::Kernel> {
        let mut store = wasmi::Store::new(&self.engine, ());
        let instance =
            wasmi::Linker::<()>::new(&self.engine).instantiate_and_start(&mut store, module)?;
        let run = instance.get_typed_func::<i32, i32>(&store, "run")?;
        Ok((store, run))
    }

    fn call(&self, (store, run): &mut Self::Kernel, n: i32) -> Result<i32> {
        Ok(run.call(store, n)?)
    }

    fn host_calls(&self, module: &wasmi::Module) -> Result<Self::Calls> {
        let mut store = wasmi::Store::new(&self.engine, ());
        let mut linker = wasmi::Linker::new(&self.engine);
        linker.func_wrap("host", "inc", |x: i32| x.wrapping_add(1))?;
        let instance = linker.instantiate_and_start(&mut store, module)?;
        Ok((store, instance))
    }

    fn wasm_loop(&self, (store, instance): &mut Self::Calls, which: Loop, n: i32) -> Result<i32> {
        let f = instance.get_typed_func::<i32, i32>(&*store, which.export())?;
        Ok(f.call(store, n)?)
    }

    fn host_loop(&self, (store, instance): &mut Self::Calls, n: i32) -> Result<i32> {
        let f = instance.get_typed_func::<i32, i32>(&*store, "inc")?;
        let mut acc = 0;
        for _ in 0..n {
            acc = f.call(&mut *store, acc)?;
        }
        Ok(acc)
    }
}

// ---------------------------------------------------------------------------
// wasmtime

/// The three wasmtime configurations.
#[derive(Copy, Clone, Debug)]
pub enum WasmtimeKind {
    /// Cranelift, the optimising compiler (wasmtime's default).
    Cranelift,
    /// Winch, the baseline compiler.
    Winch,
    /// Pulley, the portable interpreter (Cranelift compiles to its bytecode).
    Pulley,
}

/// wasmtime in one configuration.
pub struct Wasmtime {
    engine: wasmtime::Engine,
    interrupts: Interrupts,
}

impl Wasmtime {
    /// An engine with the default configuration, the given back end, and
    /// the checks `interrupts` asks for.
    pub fn new(kind: WasmtimeKind, interrupts: Interrupts) -> Result<Wasmtime> {
        let mut config = wasmtime::Config::new();
        config.consume_fuel(interrupts == Interrupts::Fuel);
        config.epoch_interruption(interrupts == Interrupts::Epoch);
        match kind {
            WasmtimeKind::Cranelift => {
                config.strategy(wasmtime::Strategy::Cranelift);
            }
            WasmtimeKind::Winch => {
                config.strategy(wasmtime::Strategy::Winch);
            }
            WasmtimeKind::Pulley => {
                config.target("pulley64")?;
            }
        }
        Ok(Wasmtime {
            engine: wasmtime::Engine::new(&config)?,
            interrupts,
        })
    }

    /// A fresh store, with fuel or an epoch deadline that never runs out
    /// if the engine checks them.
    fn store(&self) -> Result<wasmtime::Store<()>> {
        let mut store = wasmtime::Store::new(&self.engine, ());
        match self.interrupts {
            Interrupts::None => {}
            Interrupts::Fuel => store
                .set_fuel(FUEL)
                .map_err(anyhow::Error::from)
                .context("setting the fuel")?,
            Interrupts::Epoch => store.set_epoch_deadline(EPOCH_DEADLINE),
        }
        Ok(store)
    }
}

impl Runtime for Wasmtime {
    type Module = wasmtime::Module;
    type Ready = (wasmtime::Store<()>, wasmtime::Linker<()>);
    type Kernel = (wasmtime::Store<()>, wasmtime::TypedFunc<i32, i32>);
    type Calls = (wasmtime::Store<()>, wasmtime::Instance);

    fn compile(&self, wasm: &[u8]) -> Result<wasmtime::Module> {
        Ok(wasmtime::Module::new(&self.engine, wasm)?)
    }

    fn prepare(&self, module: &wasmtime::Module) -> Result<Self::Ready> {
        use wasmtime::{ExternType, Global, Memory, Ref, Table, Val};
        let mut store = self.store()?;
        let mut linker = wasmtime::Linker::new(&self.engine);
        linker.allow_shadowing(true);
        for import in module.imports() {
            let (m, n) = (import.module(), import.name());
            match import.ty() {
                ExternType::Func(ty) => {
                    let message = stub_message(m, n);
                    linker.func_new(m, n, ty, move |_, _, _| {
                        Err(wasmtime::Error::msg(message.clone()))
                    })?;
                }
                ExternType::Global(ty) => {
                    let value = Val::default_for_ty(ty.content())
                        .with_context(|| format!("no default value for global {m}::{n}"))?;
                    let global = Global::new(&mut store, ty, value)?;
                    linker.define(&store, m, n, global)?;
                }
                ExternType::Table(ty) => {
                    let init = Ref::null(ty.element().heap_type());
                    let table = Table::new(&mut store, ty, init)?;
                    linker.define(&store, m, n, table)?;
                }
                ExternType::Memory(ty) => {
                    if ty.is_shared() {
                        bail!("shared memory import {m}::{n} is not supported by the harness");
                    }
                    let memory = Memory::new(&mut store, ty)?;
                    linker.define(&store, m, n, memory)?;
                }
                ExternType::Tag(_) => bail!("tag import {m}::{n} is not supported by the harness"),
            }
        }
        Ok((store, linker))
    }

    fn instantiate(
        &self,
        module: &wasmtime::Module,
        (store, linker): &mut Self::Ready,
    ) -> Result<()> {
        linker.instantiate(store, module)?;
        Ok(())
    }

    fn kernel(&self, module: &wasmtime::Module) -> Result<Self::Kernel> {
        let mut store = self.store()?;
        let instance = wasmtime::Instance::new(&mut store, module, &[])?;
        let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
        Ok((store, run))
    }

    fn call(&self, (store, run): &mut Self::Kernel, n: i32) -> Result<i32> {
        Ok(run.call(store, n)?)
    }

    fn host_calls(&self, module: &wasmtime::Module) -> Result<Self::Calls> {
        let mut store = self.store()?;
        let mut linker = wasmtime::Linker::new(&self.engine);
        linker.func_wrap("host", "inc", |x: i32| x.wrapping_add(1))?;
        let instance = linker.instantiate(&mut store, module)?;
        Ok((store, instance))
    }

    fn wasm_loop(&self, (store, instance): &mut Self::Calls, which: Loop, n: i32) -> Result<i32> {
        let f = instance.get_typed_func::<i32, i32>(&mut *store, which.export())?;
        Ok(f.call(store, n)?)
    }

    fn host_loop(&self, (store, instance): &mut Self::Calls, n: i32) -> Result<i32> {
        let f = instance.get_typed_func::<i32, i32>(&mut *store, "inc")?;
        let mut acc = 0;
        for _ in 0..n {
            acc = f.call(&mut *store, acc)?;
        }
        Ok(acc)
    }

    /// The module's `.text` section: every function and trampoline.
    fn code_size(&self, module: &wasmtime::Module) -> Option<usize> {
        Some(module.text().len())
    }

    fn instantiate_and_call(
        &self,
        module: &wasmtime::Module,
        (store, linker): &mut Self::Ready,
        name: &str,
        args: &[i32],
    ) -> Result<Option<i64>> {
        use wasmtime::Val;
        let instance = linker.instantiate(&mut *store, module)?;
        let func = instance
            .get_func(&mut *store, name)
            .with_context(|| format!("no exported function {name}"))?;
        let params: Vec<Val> = args.iter().map(|&a| Val::I32(a)).collect();
        let mut results = vec![Val::I32(0); func.ty(&*store).results().len()];
        func.call(&mut *store, &params, &mut results)?;
        Ok(first_int(&results, |v| match v {
            Val::I32(x) => Some(i64::from(*x)),
            Val::I64(x) => Some(*x),
            _ => None,
        }))
    }

    fn wasi_command(&self, wasm: &[u8], args: &[String], dir: &Path) -> Result<WasiRun> {
        use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
        use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder, p1};
        let start = std::time::Instant::now();
        let module = wasmtime::Module::new(&self.engine, wasm)?;
        let compile = start.elapsed();
        let stdout = MemoryOutputPipe::new(1 << 20);
        let stderr = MemoryOutputPipe::new(1 << 20);
        let wasi = WasiCtxBuilder::new()
            .args(args)
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .preopened_dir(dir, "/", FsPerms::ReadOnly)?
            .build_p1();
        let mut store = wasmtime::Store::new(&self.engine, wasi);
        let mut linker = wasmtime::Linker::new(&self.engine);
        p1::add_to_linker_sync(&mut linker, |wasi: &mut p1::WasiP1Ctx| wasi)?;
        let instance = linker.instantiate(&mut store, &module)?;
        let run = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
        let exit = match run.call(&mut store, ()) {
            Ok(()) => 0,
            Err(e) => match e.downcast_ref::<I32Exit>() {
                Some(I32Exit(code)) => *code,
                None => return Err(e.into()),
            },
        };
        let total = start.elapsed();
        Ok(WasiRun {
            exit,
            stdout: stdout.contents().to_vec(),
            stderr: stderr.contents().to_vec(),
            compile,
            total,
            tier: None,
        })
    }
}
