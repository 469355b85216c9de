//! `kiln-bench`: Kiln (its interpreter and its Cranelift tier) side by side
//! with wasmi, wasmtime (Cranelift, Winch, Pulley), bare `wasmparser`
//! validation and native code.
//!
//! ```text
//! cargo run --release --manifest-path bench/Cargo.toml [-- OPTIONS] [KERNEL...]
//! ```
//!
//! The harness measures compute kernels, the overhead of fuel and epoch
//! checks and of tiered execution's counting on them, start-up of large
//! real-world modules, instantiation throughput (instances per second, Kiln
//! against wasmtime), host/wasm call overhead, total times (fresh
//! `Module::new` + instantiation + one call, short and long runs) and a real
//! WASI program end to end — each engine in its own child process (the
//! same binary, re-run with `--child`), and writes a Markdown report plus
//! an SVG chart. See `--help` and `docs/benchmarks.md`.

mod chart;
mod child;
mod engines;
mod instantiate;
mod kernels;
mod measure;
mod programs;
mod report;

use anyhow::{Context, Result, bail};
use engines::EngineId;
use kernels::Kernel;
use measure::{MachineInfo, Sampling, Stats};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const USAGE: &str = "\
kiln-bench: Kiln vs wasmi, wasmtime and native code

USAGE:
    cargo run --release --manifest-path bench/Cargo.toml -- [OPTIONS] [KERNEL...]

ARGS:
    KERNEL...            run only these kernels (implies --sections kernels unless
                         --sections is given)

OPTIONS:
    --quick              fewer samples (a smoke run, not for publishing; 15-20 min
                         on 2 cores against 45-60 min for the full run)
    --engines A,B,...    only these engines (native and wasmparser, the references,
                         always run). The fuel and epoch variants (kiln-fuel,
                         kiln-epoch, wasmtime-cranelift-fuel, wasmtime-cranelift-epoch)
                         and kiln-tiered-cold run only the kernels, for the
                         overhead tables; instantiate measures only kiln and
                         wasmtime-cranelift; total and program only kiln,
                         kiln-cranelift, kiln-tiered and wasmtime-cranelift
    --sections S,...     any of kernels,startup,instantiate,hostcalls,total,program
                         (default: all)
    --modules DIR        start-up modules, also the large modules of instantiate
                         and total (default: bench/modules, filled by
                         bench/fetch-modules.sh)
    --programs DIR       the real program and its workload (default:
                         bench/programs; the program is fetched by
                         bench/fetch-modules.sh)
    --out FILE           the Markdown report; the chart goes next to it as
                         <stem>-kernels.svg. Default: docs/benchmarks.md for a full
                         run, bench/target/partial/benchmarks.md for a run narrowed
                         by --quick, --engines, --sections or KERNEL
    --list               list the engines and kernels
    -h, --help           this text
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = if args.first().map(String::as_str) == Some("--child") {
        child::main(&args[1..])
    } else {
        parent(&args)
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kiln-bench: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Which workloads to run.
#[derive(Copy, Clone, Debug)]
pub struct Sections {
    /// The compute kernels.
    pub kernels: bool,
    /// `Module::new` and instantiation of large modules.
    pub startup: bool,
    /// Instantiation throughput (a fresh store per instance).
    pub instantiate: bool,
    /// Host/wasm call overhead.
    pub hostcalls: bool,
    /// Total time of fresh `Module::new` + instantiation + one call, short
    /// and long runs.
    pub total: bool,
    /// A real WASI program end to end.
    pub program: bool,
}

/// The parsed command line.
pub struct Options {
    /// Fewer samples.
    pub quick: bool,
    /// The wasm engines to run (the references are added separately), not
    /// including the fuel and epoch variants.
    pub engines: Vec<EngineId>,
    /// The fuel and epoch variants to run: kernels only, reported only in
    /// their own section.
    pub variants: Vec<EngineId>,
    /// The kernels to run.
    pub kernels: Vec<Kernel>,
    /// The workloads to run.
    pub sections: Sections,
    /// Where the start-up modules are.
    pub modules_dir: PathBuf,
    /// Where the real program and its workload are.
    pub programs_dir: PathBuf,
    /// The Markdown report's path.
    pub out: PathBuf,
    /// Whether the run was narrowed in any way.
    pub partial: bool,
    /// The command line as given, for the report.
    pub command_line: String,
}

fn bench_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn parse_options(args: &[String]) -> Result<Option<Options>> {
    let all_kernels = kernels::all();
    let mut quick = false;
    let mut engines = None;
    let mut sections = None;
    let mut modules_dir = bench_dir().join("modules");
    let mut programs_dir = bench_dir().join("programs");
    let mut out = None;
    let mut selected = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .with_context(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(None);
            }
            "--list" => {
                println!("engines:");
                for e in EngineId::ALL {
                    println!("  {:<24} {}", e.name(), e.describe());
                }
                println!("kernels:");
                for k in &all_kernels {
                    println!("  {:<20} n = {:<10} {}", k.name, k.n, k.what);
                }
                return Ok(None);
            }
            "--quick" => quick = true,
            "--engines" => {
                let list = value("--engines")?;
                let mut chosen = Vec::new();
                for name in list.split(',').filter(|s| !s.is_empty()) {
                    let Some(engine) = EngineId::from_name(name) else {
                        let names: Vec<_> = EngineId::ALL.iter().map(|e| e.name()).collect();
                        bail!("unknown engine {name:?}; known: {}", names.join(", "));
                    };
                    chosen.push(engine);
                }
                engines = Some(chosen);
            }
            "--sections" => {
                let list = value("--sections")?;
                let mut s = Sections {
                    kernels: false,
                    startup: false,
                    instantiate: false,
                    hostcalls: false,
                    total: false,
                    program: false,
                };
                for name in list.split(',').filter(|s| !s.is_empty()) {
                    match name {
                        "kernels" => s.kernels = true,
                        "startup" => s.startup = true,
                        "instantiate" => s.instantiate = true,
                        "hostcalls" => s.hostcalls = true,
                        "total" => s.total = true,
                        "program" => s.program = true,
                        _ => bail!(
                            "unknown section {name:?}; known: kernels, startup, instantiate, \
                             hostcalls, total, program"
                        ),
                    }
                }
                sections = Some(s);
            }
            "--modules" => modules_dir = PathBuf::from(value("--modules")?),
            "--programs" => programs_dir = PathBuf::from(value("--programs")?),
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            flag if flag.starts_with('-') => bail!("unknown option {flag:?} (see --help)"),
            name => {
                let Some(kernel) = all_kernels.iter().find(|k| k.name == name) else {
                    let names: Vec<_> = all_kernels.iter().map(|k| k.name).collect();
                    bail!("unknown kernel {name:?}; known: {}", names.join(", "));
                };
                selected.push(*kernel);
            }
        }
    }
    let filtered = !selected.is_empty();
    let partial = quick || engines.is_some() || sections.is_some() || filtered;
    let sections = sections.unwrap_or(Sections {
        kernels: true,
        startup: !filtered,
        instantiate: !filtered,
        hostcalls: !filtered,
        total: !filtered,
        program: !filtered,
    });
    let (variants, engines): (Vec<EngineId>, Vec<EngineId>) = engines
        .unwrap_or_else(|| EngineId::ALL.to_vec())
        .into_iter()
        .filter(|e| e.runs_wasm())
        .partition(|e| e.variant_of().is_some());
    let out = out.unwrap_or_else(|| {
        if partial {
            bench_dir().join("target/partial/benchmarks.md")
        } else {
            bench_dir().join("../docs/benchmarks.md")
        }
    });
    let mut command_line = String::from("cargo run --release --manifest-path bench/Cargo.toml");
    if !args.is_empty() {
        command_line.push_str(" -- ");
        command_line.push_str(&args.join(" "));
    }
    Ok(Some(Options {
        quick,
        engines,
        variants,
        kernels: if filtered { selected } else { all_kernels },
        sections,
        modules_dir,
        programs_dir,
        out,
        partial,
        command_line,
    }))
}

/// Sampling policies for each workload.
pub struct Policies {
    /// Kernel runs.
    pub kernels: Sampling,
    /// `Module::new` and instantiation.
    pub startup: Sampling,
    /// Batches of instantiation requests.
    pub instantiate: Sampling,
    /// Host-call loops of one million calls.
    pub hostcalls: Sampling,
    /// Total time of a kernel (shared by the rounds, like `kernels`).
    pub total_kernels: Sampling,
    /// Total time of a start-up module.
    pub total_modules: Sampling,
    /// Runs of the real program.
    pub program: Sampling,
}

impl Policies {
    fn new(quick: bool) -> Policies {
        let secs = Duration::from_secs;
        if quick {
            let three = Sampling {
                min: 3,
                max: 3,
                budget: Duration::ZERO,
            };
            Policies {
                kernels: three,
                startup: Sampling {
                    min: 2,
                    max: 2,
                    ..three
                },
                instantiate: three,
                hostcalls: three,
                total_kernels: three,
                total_modules: Sampling {
                    min: 1,
                    max: 1,
                    ..three
                },
                program: Sampling {
                    min: 1,
                    max: 1,
                    ..three
                },
            }
        } else {
            Policies {
                kernels: Sampling {
                    min: 7,
                    max: 21,
                    budget: secs(2),
                },
                startup: Sampling {
                    min: 5,
                    max: 30,
                    budget: secs(3),
                },
                instantiate: Sampling {
                    min: 7,
                    max: 25,
                    budget: secs(1),
                },
                hostcalls: Sampling {
                    min: 5,
                    max: 15,
                    budget: secs(2),
                },
                total_kernels: Sampling {
                    min: 9,
                    max: 30,
                    budget: secs(1),
                },
                total_modules: Sampling {
                    min: 3,
                    max: 10,
                    budget: secs(3),
                },
                program: Sampling {
                    min: 3,
                    max: 5,
                    budget: secs(10),
                },
            }
        }
    }
}

/// One kernel's measurement on one engine.
#[derive(Clone, Debug)]
pub struct KernelRun {
    /// What `run(n)` returned.
    pub result: i32,
    /// Whether every timed call returned the same.
    pub consistent: bool,
    /// Timing of `run(n)`.
    pub stats: Stats,
}

/// A start-up measurement of one module on one engine.
#[derive(Clone, Debug, Default)]
pub struct StartupRun {
    /// `Module::new` (or validation, for wasmparser).
    pub compile: Option<Result<Stats, String>>,
    /// Instantiation with stub imports.
    pub instantiate: Option<Result<Stats, String>>,
}

/// Host-call costs of one engine, nanoseconds per call.
#[derive(Clone, Debug, Default)]
pub struct HostRun {
    /// The host calling an exported wasm function through `TypedFunc::call`.
    pub host_to_wasm: Option<f64>,
    /// Wasm calling an imported host function in a loop.
    pub wasm_to_host: Option<f64>,
    /// Wasm calling a wasm function in the same loop (the reference).
    pub wasm_to_wasm: Option<f64>,
    /// Why the measurement stopped, if it did.
    pub error: Option<String>,
}

/// A start-up module.
#[derive(Clone, Debug)]
pub struct ModuleInfo {
    /// The file name.
    pub file: String,
    /// The full path.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// Functions defined in the module.
    pub functions: u32,
    /// Imports.
    pub imports: u32,
    /// Where the module came from (from `sources.tsv`).
    pub source: Option<String>,
    /// Why the module was not measured, if it was not.
    pub skipped: Option<String>,
}

/// Instantiation throughput of one engine in one mode.
#[derive(Copy, Clone, Debug)]
pub struct RequestRate {
    /// Time per request (store, instantiation, store dropped), over the
    /// samples.
    pub stats: Stats,
}

impl RequestRate {
    /// Requests per second at the median time per request.
    pub fn per_second(&self) -> f64 {
        let secs = self.stats.median.as_secs_f64();
        if secs > 0.0 {
            1.0 / secs
        } else {
            f64::INFINITY
        }
    }
}

/// A module of the instantiation-throughput section.
#[derive(Clone, Debug)]
pub struct InstantiateModule {
    /// `small` for the built-in module, else the file name.
    pub name: String,
    /// What the child instantiates.
    pub target: instantiate::Target,
    /// Size in bytes.
    pub size: u64,
    /// What the pool limits are derived from.
    pub shape: instantiate::Shape,
    /// Why the module was not measured, if it was not.
    pub skipped: Option<String>,
}

/// What Kiln's native tier did with one module (its `Module::tier_stats`,
/// as the child reported it).
#[derive(Clone, Debug)]
pub struct TierInfo {
    /// Defined functions compiled to native code.
    pub native: usize,
    /// Defined functions left to the interpreter.
    pub fallbacks: usize,
    /// Bytes of native code.
    pub code_bytes: usize,
    /// The part of `Module::new` spent compiling to native code (with
    /// tiered execution: the background compile time so far).
    pub compile: Duration,
    /// With tiered execution: loops an on-stack-replacement entry was
    /// compiled for.
    pub osr_compiled: usize,
    /// With tiered execution: running calls moved to native code at a loop
    /// header.
    pub osr_entries: u64,
    /// With tiered execution: calls moved to native code at their entry.
    pub moved_calls: u64,
    /// `function N: reason` of the first fallback, if any.
    pub first_fallback: Option<String>,
}

impl TierInfo {
    /// Parses the fields of a `T` record (after the tag, and after the
    /// kernel name of a `KT` record).
    fn parse(fields: &[String]) -> Option<TierInfo> {
        let [
            native,
            fallbacks,
            code_bytes,
            compile_ns,
            osr_compiled,
            osr_entries,
            moved_calls,
            rest @ ..,
        ] = fields
        else {
            return None;
        };
        Some(TierInfo {
            native: native.parse().ok()?,
            fallbacks: fallbacks.parse().ok()?,
            code_bytes: code_bytes.parse().ok()?,
            compile: Duration::from_nanos(compile_ns.parse().ok()?),
            osr_compiled: osr_compiled.parse().ok()?,
            osr_entries: osr_entries.parse().ok()?,
            moved_calls: moved_calls.parse().ok()?,
            first_fallback: rest.first().filter(|f| !f.is_empty()).cloned(),
        })
    }

    /// The problem to report when some functions were not compiled
    /// natively (their time is then partly the interpreter's).
    fn problem(&self, engine: EngineId, workload: &str) -> Option<String> {
        (self.fallbacks > 0).then(|| {
            format!(
                "{workload}: {engine}: {} of {} functions fell back to the interpreter (first: {})",
                self.fallbacks,
                self.native + self.fallbacks,
                self.first_fallback.as_deref().unwrap_or("no reason given")
            )
        })
    }
}

/// Peak resident memory of one child, KiB.
#[derive(Copy, Clone, Debug)]
pub struct Memory {
    /// `VmRSS` when the child started measuring.
    pub baseline_kib: u64,
    /// `VmHWM` when it finished.
    pub peak_kib: u64,
}

/// Everything one run measured.
#[derive(Default)]
pub struct Results {
    /// Kernel runs by (engine, kernel).
    pub kernels: HashMap<(EngineId, &'static str), Result<KernelRun, String>>,
    /// Start-up runs by (engine, module file).
    pub startup: HashMap<(EngineId, String), StartupRun>,
    /// Host-call runs by engine.
    pub host: HashMap<EngineId, HostRun>,
    /// Instantiation throughput by (engine, module name, mode).
    pub instantiate: HashMap<(EngineId, String, instantiate::Mode), Result<RequestRate, String>>,
    /// The modules of the instantiation-throughput section.
    pub instantiate_modules: Vec<InstantiateModule>,
    /// Peak memory by (engine, workload), where the workload is "kernels",
    /// "hostcalls" or a module file name.
    pub memory: HashMap<(EngineId, String), Memory>,
    /// What Kiln's native tier did, by (engine, workload), where the
    /// workload is a kernel name or a start-up module file name.
    pub tiers: HashMap<(EngineId, String), TierInfo>,
    /// Bytes of compiled code of a start-up module by (engine, module
    /// file), for the engines that report it (Kiln's native tier,
    /// wasmtime).
    pub code_bytes: HashMap<(EngineId, String), u64>,
    /// The start-up modules found.
    pub modules: Vec<ModuleInfo>,
    /// Engine failures and mismatches, for the report's problem list.
    pub problems: Vec<String>,
    /// How many kernel runs gave a result other than the native build's, or
    /// none (each is also in `problems`); any makes the run exit non-zero.
    pub mismatches: usize,
    /// Wall time of the whole run.
    pub wall: Duration,
    /// The 1-minute load average when the run started (other work on the
    /// machine skews every number).
    pub load_before: String,
    /// The 1-minute load average when it ended.
    pub load_after: String,
    /// Total times of the kernels by (engine, kernel, run length).
    pub totals: HashMap<(EngineId, &'static str, RunLength), Result<KernelRun, String>>,
    /// What Kiln's tiers did in the total-time runs (after the last
    /// sample), by (engine, workload): `KERNEL@short`, `KERNEL@long`, a
    /// start-up module's file name, or `program`.
    pub total_tiers: HashMap<(EngineId, String), TierInfo>,
    /// Total times of the start-up modules by (engine, module file).
    pub module_totals: HashMap<(EngineId, String), Result<ModuleTotal, String>>,
    /// The real program's runs by engine.
    pub program: HashMap<EngineId, Result<ProgramRun, String>>,
    /// The real program, if it was found.
    pub program_info: Option<programs::ProgramInfo>,
}

/// Which `n` a total-time run used.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum RunLength {
    /// The kernel's short `n` (Kiln's interpreter takes ~1–5 ms).
    Short,
    /// The kernel's usual `n`.
    Long,
}

impl RunLength {
    /// Both, in report order.
    pub const ALL: [RunLength; 2] = [RunLength::Short, RunLength::Long];

    /// The `n` of `kernel` for this length.
    pub fn n(self, kernel: &Kernel) -> i32 {
        match self {
            RunLength::Short => kernel.short_n,
            RunLength::Long => kernel.n,
        }
    }

    /// A word for the report.
    pub fn name(self) -> &'static str {
        match self {
            RunLength::Short => "short",
            RunLength::Long => "long",
        }
    }
}

/// A start-up module's total time on one engine.
#[derive(Clone, Debug)]
pub struct ModuleTotal {
    /// Whether the export was called (else: `Module::new` + instantiation).
    pub called: bool,
    /// What the call returned.
    pub result: String,
    /// Timing.
    pub stats: Stats,
}

/// The real program on one engine.
#[derive(Clone, Debug)]
pub struct ProgramRun {
    /// Its exit code.
    pub exit: i32,
    /// Every run printed the same and exited the same.
    pub consistent: bool,
    /// The last line of its stdout.
    pub stdout: String,
    /// The last line of its stderr.
    pub stderr: String,
    /// Module::new to the end of `_start`.
    pub total: Stats,
    /// The median `Module::new`.
    pub compile: Duration,
}

/// What a child printed, and how it ended.
struct ChildRun {
    records: Vec<Vec<String>>,
    failure: Option<String>,
}

/// Longest a child may run before it is stopped.
const CHILD_TIMEOUT: Duration = Duration::from_secs(30 * 60);

fn run_child(engine: EngineId, job: &str, policy: Sampling, extra: &[String]) -> Result<ChildRun> {
    let exe = std::env::current_exe().context("cannot find the harness binary")?;
    let started = Instant::now();
    eprint!("  {job:<11} {:<24} ", engine.name());
    let mut child = Command::new(exe)
        .arg("--child")
        .arg(engine.name())
        .arg(job)
        .arg(policy.min.to_string())
        .arg(policy.max.to_string())
        .arg(policy.budget.as_millis().to_string())
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot start a child process")?;
    let mut stdout = child.stdout.take().context("no child stdout")?;
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let mut failure = None;
    loop {
        if let Some(status) = child.try_wait()? {
            if !status.success() {
                failure = Some(format!(
                    "child process for {engine} ({job}) ended with {status}"
                ));
            }
            break;
        }
        if started.elapsed() > CHILD_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            failure = Some(format!(
                "child process for {engine} ({job}) timed out after {} s",
                CHILD_TIMEOUT.as_secs()
            ));
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let text = reader.join().unwrap_or_default();
    eprintln!(
        "{:6.1} s{}",
        started.elapsed().as_secs_f64(),
        if failure.is_some() { "  FAILED" } else { "" }
    );
    let records = text
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect();
    Ok(ChildRun { records, failure })
}

fn parse_stats(fields: &[String]) -> Option<Stats> {
    let [median, min, count, ..] = fields else {
        return None;
    };
    Some(Stats {
        median: Duration::from_nanos(median.parse().ok()?),
        min: Duration::from_nanos(min.parse().ok()?),
        count: count.parse().ok()?,
    })
}

fn parse_memory(records: &[Vec<String>]) -> Option<Memory> {
    records.iter().find_map(|r| match r.as_slice() {
        [tag, baseline, peak] if tag == "M" => Some(Memory {
            baseline_kib: baseline.parse().ok()?,
            peak_kib: peak.parse().ok()?,
        }),
        _ => None,
    })
}

fn parent(args: &[String]) -> Result<()> {
    let Some(options) = parse_options(args)? else {
        return Ok(());
    };
    let policies = Policies::new(options.quick);
    let info = MachineInfo::gather();
    let started = Instant::now();
    let mut results = Results {
        load_before: measure::load_average(),
        ..Results::default()
    };
    if results
        .load_before
        .parse::<f64>()
        .is_ok_and(|load| load > 0.5)
    {
        eprintln!(
            "warning: the machine is busy (load average {}): numbers will be noisy",
            results.load_before
        );
    }
    eprintln!(
        "kiln-bench on {} ({} cores){}",
        info.cpu,
        info.cores,
        if options.quick { ", quick" } else { "" }
    );

    if options.sections.kernels {
        run_kernels(&options, &policies, &mut results)?;
    }
    if options.sections.startup {
        run_startup(&options, &policies, &mut results)?;
    }
    if options.sections.instantiate {
        run_instantiate(&options, &policies, &mut results)?;
    }
    if options.sections.hostcalls {
        run_hostcalls(&options, &policies, &mut results)?;
    }
    if options.sections.total {
        run_totals(&options, &policies, &mut results)?;
    }
    if options.sections.program {
        run_program(&options, &policies, &mut results)?;
    }
    results.wall = started.elapsed();
    results.load_after = measure::load_average();

    let svg_path = chart_path(&options.out);
    if let Some(dir) = options.out.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let chart_written = if options.sections.kernels {
        match report::write_chart(&svg_path, &options, &results) {
            Ok(written) => written,
            Err(e) => {
                results
                    .problems
                    .push(format!("the chart could not be drawn: {e:#}"));
                false
            }
        }
    } else {
        false
    };
    let markdown = report::markdown(
        &options,
        &info,
        &policies,
        &results,
        chart_written.then_some(&svg_path),
    );
    std::fs::write(&options.out, markdown)
        .with_context(|| format!("cannot write {}", options.out.display()))?;
    print!("{}", report::summary(&options, &results));
    println!("report: {}", display_path(&options.out));
    if chart_written {
        println!("chart:  {}", display_path(&svg_path));
    }
    if results.mismatches > 0 {
        bail!(
            "{} kernel run(s) did not return the native build's result (listed in the \
             report): an engine computed a wrong answer or failed",
            results.mismatches
        );
    }
    Ok(())
}

/// `docs/benchmarks.md` → `docs/benchmarks-kernels.svg`.
fn chart_path(out: &Path) -> PathBuf {
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "benchmarks".into());
    out.with_file_name(format!("{stem}-kernels.svg"))
}

fn display_path(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// How many rounds the kernel section runs: each round runs every engine
/// once over all the kernels, in a rotated order, and an engine's figure
/// for a kernel is the median of its per-round medians. On a shared
/// machine whose speed drifts over minutes, this keeps a slow stretch from
/// landing on one engine only.
pub const KERNEL_ROUNDS: usize = 3;

fn run_kernels(options: &Options, policies: &Policies, results: &mut Results) -> Result<()> {
    let rounds = if options.quick { 1 } else { KERNEL_ROUNDS };
    eprintln!("kernels ({}, {rounds} rounds):", options.kernels.len());
    let names: Vec<String> = options.kernels.iter().map(|k| k.name.to_string()).collect();
    // Each kernels-only variant runs right after the engine it varies, so
    // that the two are measured as close together in time as possible
    // (their ratio is what the overhead tables report).
    let mut engines = Vec::new();
    for base in std::iter::once(EngineId::Native).chain(options.engines.iter().copied()) {
        engines.push(base);
        engines.extend(
            options
                .variants
                .iter()
                .copied()
                .filter(|v| v.variant_of().is_some_and(|(b, _)| b == base)),
        );
    }
    let orphans: Vec<EngineId> = options
        .variants
        .iter()
        .copied()
        .filter(|v| !engines.contains(v))
        .collect();
    engines.extend(orphans);
    // Each round takes its share of the samples.
    let policy = Sampling {
        min: policies.kernels.min.div_ceil(rounds).max(1),
        max: policies.kernels.max.div_ceil(rounds).max(1),
        budget: policies.kernels.budget / rounds as u32,
    };
    let mut per_round: HashMap<(EngineId, &'static str), Vec<KernelRun>> = HashMap::new();
    for round in 0..rounds {
        let mut order = engines.clone();
        order.rotate_left(round % engines.len());
        for &engine in &order {
            let run = run_child(engine, "kernels", policy, &names)?;
            for record in &run.records {
                match record.as_slice() {
                    [tag, name, result, consistent, rest @ ..] if tag == "K" => {
                        let (Some(kernel), Ok(result), Some(stats)) = (
                            kernel_name(options, name),
                            result.parse(),
                            parse_stats(rest),
                        ) else {
                            continue;
                        };
                        per_round
                            .entry((engine, kernel))
                            .or_default()
                            .push(KernelRun {
                                result,
                                consistent: consistent == "1",
                                stats,
                            });
                    }
                    [tag, name, message] if tag == "KE" => {
                        if let Some(kernel) = kernel_name(options, name) {
                            results
                                .kernels
                                .entry((engine, kernel))
                                .or_insert_with(|| Err(message.clone()));
                        }
                    }
                    [tag, name, rest @ ..] if tag == "KT" && round == 0 => {
                        record_tier(results, engine, name, TierInfo::parse(rest));
                    }
                    _ => {}
                }
            }
            if round == 0
                && let Some(memory) = parse_memory(&run.records)
            {
                results.memory.insert((engine, "kernels".into()), memory);
            }
            if let Some(failure) = run.failure {
                for kernel in &options.kernels {
                    results
                        .kernels
                        .entry((engine, kernel.name))
                        .or_insert_with(|| Err(failure.clone()));
                }
                results.problems.push(failure);
            }
        }
    }
    for ((engine, kernel), runs) in per_round {
        if matches!(results.kernels.get(&(engine, kernel)), Some(Err(_))) {
            continue;
        }
        results
            .kernels
            .insert((engine, kernel), Ok(combine_rounds(runs)));
    }
    for &engine in &engines {
        for kernel in &options.kernels {
            results
                .kernels
                .entry((engine, kernel.name))
                .or_insert_with(|| Err("no result reported".into()));
        }
    }
    // Every engine must compute what the native build computes.
    for kernel in &options.kernels {
        let expected = match results.kernels.get(&(EngineId::Native, kernel.name)) {
            Some(Ok(run)) => run.result,
            _ => {
                results
                    .problems
                    .push(format!("{}: the native build did not run", kernel.name));
                continue;
            }
        };
        for engine in options.engines.iter().chain(&options.variants) {
            let problem = match results.kernels.get(&(*engine, kernel.name)) {
                Some(Ok(run)) if run.result != expected => format!(
                    "**MISMATCH** {}: {engine} returned {} but native code returns {expected} (an engine bug)",
                    kernel.name, run.result
                ),
                Some(Ok(run)) if !run.consistent => format!(
                    "**MISMATCH** {}: {engine} returned different results on repeated calls",
                    kernel.name
                ),
                Some(Err(e)) => format!("{}: {engine} failed: {e}", kernel.name),
                _ => continue,
            };
            results.mismatches += 1;
            results.problems.push(problem);
        }
    }
    Ok(())
}

/// One figure from an engine's per-round runs of a kernel: the median of
/// the rounds' medians, the fastest sample of all, every sample counted; the
/// result must be the same in every round.
fn combine_rounds(mut runs: Vec<KernelRun>) -> KernelRun {
    let result = runs[0].result;
    let consistent = runs.iter().all(|r| r.consistent && r.result == result);
    let min = runs.iter().map(|r| r.stats.min).min().unwrap_or_default();
    let count = runs.iter().map(|r| r.stats.count).sum();
    runs.sort_by_key(|r| r.stats.median);
    let n = runs.len();
    let median = if n % 2 == 1 {
        runs[n / 2].stats.median
    } else {
        (runs[n / 2 - 1].stats.median + runs[n / 2].stats.median) / 2
    };
    KernelRun {
        result,
        consistent,
        stats: Stats { median, min, count },
    }
}

/// Keeps what the native tier did with `workload`, and lists its fallbacks
/// as a problem.
fn record_tier(results: &mut Results, engine: EngineId, workload: &str, tier: Option<TierInfo>) {
    let Some(tier) = tier else {
        return;
    };
    if let Some(problem) = tier.problem(engine, workload) {
        results.problems.push(problem);
    }
    results.tiers.insert((engine, workload.to_string()), tier);
}

fn kernel_name(options: &Options, name: &str) -> Option<&'static str> {
    options
        .kernels
        .iter()
        .find(|k| k.name == name)
        .map(|k| k.name)
}

/// Reads `sources.tsv` (file, package, note) written by `fetch-modules.sh`.
fn read_sources(dir: &Path) -> HashMap<String, String> {
    let text = std::fs::read_to_string(dir.join("sources.tsv")).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let file = fields.next()?.trim();
            let rest: Vec<&str> = fields.map(str::trim).filter(|f| !f.is_empty()).collect();
            (!file.is_empty() && !rest.is_empty()).then(|| (file.to_string(), rest.join(", ")))
        })
        .collect()
}

/// Counts defined functions and imports; `None` if the module does not parse.
fn module_shape(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut functions = 0;
    let mut imports = 0;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.ok()? {
            wasmparser::Payload::FunctionSection(s) => functions = s.count(),
            wasmparser::Payload::ImportSection(s) => imports = s.count(),
            _ => {}
        }
    }
    Some((functions, imports))
}

fn find_modules(dir: &Path) -> Result<Vec<ModuleInfo>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let sources = read_sources(dir);
    let kiln_engine = kiln::Engine::default();
    let mut modules = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "wasm") {
            continue;
        }
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let (functions, imports) = module_shape(&bytes).unwrap_or((0, 0));
        let skipped = kiln::Module::validate(&kiln_engine, &bytes)
            .err()
            .map(|e| format!("fails validation under Kiln: {e:#}"));
        modules.push(ModuleInfo {
            source: sources.get(&file).cloned(),
            file,
            path,
            size: bytes.len() as u64,
            functions,
            imports,
            skipped,
        });
    }
    modules.sort_by_key(|m| std::cmp::Reverse(m.size));
    Ok(modules)
}

fn run_startup(options: &Options, policies: &Policies, results: &mut Results) -> Result<()> {
    results.modules = find_modules(&options.modules_dir)?;
    if results.modules.is_empty() {
        results.problems.push(format!(
            "no start-up modules in {}: run bench/fetch-modules.sh first",
            display_path(&options.modules_dir)
        ));
        return Ok(());
    }
    let mut engines = vec![EngineId::Wasmparser];
    engines.extend(options.engines.iter().copied());
    for module in results.modules.clone() {
        if let Some(why) = &module.skipped {
            eprintln!("start-up: skipping {}: {why}", module.file);
            results
                .problems
                .push(format!("start-up: {} skipped: {why}", module.file));
            continue;
        }
        eprintln!(
            "start-up: {} ({:.1} MB):",
            module.file,
            module.size as f64 / 1e6
        );
        let path = module.path.to_string_lossy().into_owned();
        for &engine in &engines {
            let run = run_child(
                engine,
                "startup",
                policies.startup,
                std::slice::from_ref(&path),
            )?;
            let mut startup = StartupRun::default();
            for record in &run.records {
                match record.as_slice() {
                    [tag, rest @ ..] if tag == "C" => startup.compile = parse_stats(rest).map(Ok),
                    [tag, message] if tag == "CE" => startup.compile = Some(Err(message.clone())),
                    [tag, rest @ ..] if tag == "I" => {
                        startup.instantiate = parse_stats(rest).map(Ok)
                    }
                    [tag, message] if tag == "IE" => {
                        startup.instantiate = Some(Err(message.clone()))
                    }
                    [tag, rest @ ..] if tag == "T" => {
                        record_tier(results, engine, &module.file, TierInfo::parse(rest));
                    }
                    [tag, bytes] if tag == "Z" => {
                        if let Ok(bytes) = bytes.parse() {
                            results
                                .code_bytes
                                .insert((engine, module.file.clone()), bytes);
                        }
                    }
                    _ => {}
                }
            }
            if let Some(failure) = &run.failure {
                if startup.compile.is_none() {
                    startup.compile = Some(Err(failure.clone()));
                }
                results
                    .problems
                    .push(format!("start-up {}: {failure}", module.file));
            }
            if let Some(Err(e)) = &startup.compile {
                results.problems.push(format!(
                    "start-up {}: {engine}: Module::new failed: {e}",
                    module.file
                ));
            }
            if let Some(Err(e)) = &startup.instantiate {
                results.problems.push(format!(
                    "start-up {}: {engine}: instantiation failed: {e}",
                    module.file
                ));
            }
            if let Some(memory) = parse_memory(&run.records) {
                results.memory.insert((engine, module.file.clone()), memory);
            }
            results
                .startup
                .insert((engine, module.file.clone()), startup);
        }
    }
    Ok(())
}

fn run_hostcalls(options: &Options, policies: &Policies, results: &mut Results) -> Result<()> {
    eprintln!("host calls ({} calls per sample):", child::HOST_CALLS);
    for &engine in &options.engines {
        let run = run_child(engine, "hostcalls", policies.hostcalls, &[])?;
        let mut host = HostRun::default();
        for record in &run.records {
            match record.as_slice() {
                [tag, kind, ns] if tag == "H" => {
                    let ns = ns.parse().ok();
                    match kind.as_str() {
                        "host-to-wasm" => host.host_to_wasm = ns,
                        "wasm-to-host" => host.wasm_to_host = ns,
                        "wasm-to-wasm" => host.wasm_to_wasm = ns,
                        _ => {}
                    }
                }
                [tag, message] if tag == "HE" => host.error = Some(message.clone()),
                _ => {}
            }
        }
        if host.error.is_none() {
            host.error = run.failure.clone();
        }
        if let Some(e) = &host.error {
            results.problems.push(format!("host calls: {engine}: {e}"));
        }
        if let Some(memory) = parse_memory(&run.records) {
            results.memory.insert((engine, "hostcalls".into()), memory);
        }
        results.host.insert(engine, host);
    }
    Ok(())
}

/// The modules of the instantiation-throughput section: the built-in small
/// module, then [`instantiate::LARGE_MODULES`] from the modules directory
/// (those missing or unreadable are kept, with why they are skipped).
fn instantiate_modules(dir: &Path) -> Result<Vec<InstantiateModule>> {
    let mut modules = Vec::new();
    let small = instantiate::Target::Small;
    let bytes = small.bytes()?;
    modules.push(InstantiateModule {
        name: "small".into(),
        target: small,
        size: bytes.len() as u64,
        shape: instantiate::Shape::of(&bytes)?,
        skipped: None,
    });
    for file in instantiate::LARGE_MODULES {
        let path = dir.join(file);
        let (size, shape, skipped) = match std::fs::read(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (
                0,
                instantiate::Shape::default(),
                Some(format!(
                    "not found in {}: run bench/fetch-modules.sh",
                    display_path(dir)
                )),
            ),
            Err(e) => (
                0,
                instantiate::Shape::default(),
                Some(format!("cannot read it: {e}")),
            ),
            Ok(bytes) => match instantiate::Shape::of(&bytes) {
                Ok(shape) => (bytes.len() as u64, shape, None),
                Err(e) => (
                    bytes.len() as u64,
                    instantiate::Shape::default(),
                    Some(format!("{e:#}")),
                ),
            },
        };
        modules.push(InstantiateModule {
            name: file.to_string(),
            target: instantiate::Target::File(path),
            size,
            shape,
            skipped,
        });
    }
    Ok(modules)
}

/// Parses an `N` or `NE` record of an instantiation child.
fn request_record(record: &[String]) -> Option<(instantiate::Mode, Result<RequestRate, String>)> {
    match record {
        [tag, mode, rest @ ..] if tag == "N" => Some((
            instantiate::Mode::from_name(mode)?,
            Ok(RequestRate {
                stats: parse_stats(rest)?,
            }),
        )),
        [tag, mode, message] if tag == "NE" => {
            Some((instantiate::Mode::from_name(mode)?, Err(message.clone())))
        }
        _ => None,
    }
}

fn run_instantiate(options: &Options, policies: &Policies, results: &mut Results) -> Result<()> {
    results.instantiate_modules = instantiate_modules(&options.modules_dir)?;
    let engines: Vec<EngineId> = options
        .engines
        .iter()
        .copied()
        .filter(|e| e.measures_instantiation())
        .collect();
    if engines.is_empty() {
        results.problems.push(
            "instantiation throughput: neither kiln nor wasmtime-cranelift was selected".into(),
        );
        return Ok(());
    }
    for module in results.instantiate_modules.clone() {
        if let Some(why) = &module.skipped {
            eprintln!("instantiate: skipping {}: {why}", module.name);
            results.problems.push(format!(
                "instantiation throughput: {} skipped: {why}",
                module.name
            ));
            continue;
        }
        eprintln!(
            "instantiate: {} ({:.2} MB):",
            module.name,
            module.size as f64 / 1e6
        );
        let args = match &module.target {
            instantiate::Target::Small => vec!["small".to_string()],
            instantiate::Target::File(path) => {
                vec!["file".to_string(), path.to_string_lossy().into_owned()]
            }
        };
        for &engine in &engines {
            let run = run_child(engine, "instantiate", policies.instantiate, &args)?;
            for (mode, outcome) in run.records.iter().filter_map(|r| request_record(r)) {
                if let Err(e) = &outcome {
                    results.problems.push(format!(
                        "instantiation throughput {} ({}): {engine} failed: {e}",
                        module.name,
                        mode.name()
                    ));
                }
                results
                    .instantiate
                    .insert((engine, module.name.clone(), mode), outcome);
            }
            for mode in instantiate::Mode::ALL {
                results
                    .instantiate
                    .entry((engine, module.name.clone(), mode))
                    .or_insert_with(|| {
                        Err(run
                            .failure
                            .clone()
                            .unwrap_or_else(|| "no result reported".into()))
                    });
            }
            if let Some(failure) = run.failure {
                results.problems.push(format!(
                    "instantiation throughput {}: {failure}",
                    module.name
                ));
            }
        }
    }
    Ok(())
}

/// The start-up modules' exports the total-time section calls after
/// instantiating them (file, export, arguments, what it is): small calls
/// that reach no import, so that the trapping stub imports allow them.
pub const MODULE_CALLS: &[(&str, &str, &[i32], &str)] = &[
    (
        "sql-wasm.wasm",
        "Ia",
        &[16],
        "`Ia(16)`: `malloc(16)` (sql.js's `_malloc`, minified)",
    ),
    (
        "swc.wasm",
        "__wbindgen_export_0",
        &[16, 1],
        "`__wbindgen_export_0(16, 1)`: wasm-bindgen's allocator",
    ),
    (
        "lightningcss.wasm",
        "napi_wasm_malloc",
        &[16],
        "`napi_wasm_malloc(16)`",
    ),
    (
        "esbuild.wasm",
        "getsp",
        &[],
        "`getsp()`: Go's stack-pointer getter (`run` needs the JS host)",
    ),
];

/// The call the total-time section makes on a start-up module, if any.
pub fn module_call(file: &str) -> Option<(&'static str, &'static [i32], &'static str)> {
    MODULE_CALLS
        .iter()
        .find(|(f, ..)| *f == file)
        .map(|&(_, export, args, what)| (export, args, what))
}

/// `KERNEL@short` / `KERNEL@long`: the workload key of a kernel's total
/// time in [`Results::total_tiers`].
pub fn total_key(kernel: &str, length: RunLength) -> String {
    format!("{kernel}@{}", length.name())
}

/// The engines of the total-time and program sections that were selected.
fn total_engines(options: &Options) -> Vec<EngineId> {
    options
        .engines
        .iter()
        .copied()
        .filter(|e| e.measures_totals())
        .collect()
}

fn run_totals(options: &Options, policies: &Policies, results: &mut Results) -> Result<()> {
    let engines = total_engines(options);
    if engines.is_empty() {
        results.problems.push(
            "total time: none of kiln, kiln-cranelift, kiln-tiered, wasmtime-cranelift was selected"
                .into(),
        );
        return Ok(());
    }
    let rounds = if options.quick { 1 } else { KERNEL_ROUNDS };
    eprintln!(
        "total time, kernels ({} × short and long n, {rounds} rounds):",
        options.kernels.len()
    );
    let policy = Sampling {
        min: policies.total_kernels.min.div_ceil(rounds).max(1),
        max: policies.total_kernels.max.div_ceil(rounds).max(1),
        budget: policies.total_kernels.budget / rounds as u32,
    };
    // (kernel, length, the child's argument), in the order a child runs them.
    let mut work: Vec<(Kernel, RunLength, String)> = Vec::new();
    for length in RunLength::ALL {
        for kernel in &options.kernels {
            let arg = child::TotalWork::Kernel(*kernel, length.n(kernel)).to_arg();
            work.push((*kernel, length, arg));
        }
    }
    let mut per_round: HashMap<(EngineId, &'static str, RunLength), Vec<KernelRun>> =
        HashMap::new();
    for round in 0..rounds {
        let mut order = engines.clone();
        order.rotate_left(round % engines.len());
        for &engine in &order {
            // A child that dies (a crash in the engine) loses only the
            // workload it was running: the rest run again in a new child.
            let mut pending: &[(Kernel, RunLength, String)] = &work;
            while !pending.is_empty() {
                let args: Vec<String> = pending.iter().map(|(_, _, a)| a.clone()).collect();
                let run = run_child(engine, "total", policy, &args)?;
                let mut reported: Vec<(&str, String)> = Vec::new();
                for record in &run.records {
                    if let [tag, name, n, ..] = record.as_slice()
                        && (tag == "TK" || tag == "TKE")
                    {
                        reported.push((name.as_str(), n.clone()));
                    }
                    total_record(options, engine, record, results, &mut per_round);
                }
                let Some(failure) = run.failure else { break };
                let unreported = pending.iter().position(|(k, l, _)| {
                    !reported
                        .iter()
                        .any(|(name, n)| *name == k.name && *n == l.n(k).to_string())
                });
                let Some(at) = unreported else {
                    results
                        .problems
                        .push(format!("total time: {failure} after its last workload"));
                    break;
                };
                let (kernel, length, _) = &pending[at];
                results.problems.push(format!(
                    "total time {} (n = {}): {failure}; the kernels after it ran again in a new \
                     process",
                    kernel.name,
                    length.n(kernel)
                ));
                results
                    .totals
                    .insert((engine, kernel.name, *length), Err(failure));
                pending = &pending[at + 1..];
            }
        }
    }
    for (key, runs) in per_round {
        if matches!(results.totals.get(&key), Some(Err(_))) {
            continue;
        }
        results.totals.insert(key, Ok(combine_rounds(runs)));
    }

    // The start-up modules: one child per engine and module.
    if results.modules.is_empty() {
        results.modules = find_modules(&options.modules_dir)?;
    }
    let modules: Vec<ModuleInfo> = results
        .modules
        .iter()
        .filter(|m| m.skipped.is_none())
        .cloned()
        .collect();
    if modules.is_empty() {
        results.problems.push(format!(
            "total time: no start-up modules in {}: run bench/fetch-modules.sh first",
            display_path(&options.modules_dir)
        ));
        return Ok(());
    }
    for module in &modules {
        eprintln!(
            "total time, {} ({:.1} MB):",
            module.file,
            module.size as f64 / 1e6
        );
        let work = match module_call(&module.file) {
            Some((export, args, _)) => {
                child::TotalWork::Module(module.path.clone(), export.to_string(), args.to_vec())
            }
            None => child::TotalWork::Module(module.path.clone(), String::new(), Vec::new()),
        };
        for &engine in &engines {
            let run = run_child(engine, "total", policies.total_modules, &[work.to_arg()])?;
            let mut outcome = None;
            for record in &run.records {
                match record.as_slice() {
                    [tag, _file, what, result, rest @ ..] if tag == "TM" => {
                        if let Some(stats) = parse_stats(rest) {
                            outcome = Some(Ok(ModuleTotal {
                                called: what == "call",
                                result: result.clone(),
                                stats,
                            }));
                        }
                    }
                    [tag, _file, message] if tag == "TME" => {
                        results
                            .problems
                            .push(format!("total time {}: {engine}: {message}", module.file));
                        outcome.get_or_insert_with(|| Err(message.clone()));
                    }
                    [tag, _file, rest @ ..] if tag == "TMT" => {
                        if let Some(tier) = TierInfo::parse(rest) {
                            results
                                .total_tiers
                                .insert((engine, module.file.clone()), tier);
                        }
                    }
                    _ => {}
                }
            }
            if let Some(failure) = run.failure {
                results
                    .problems
                    .push(format!("total time {}: {failure}", module.file));
                outcome.get_or_insert(Err(failure));
            }
            results.module_totals.insert(
                (engine, module.file.clone()),
                outcome.unwrap_or_else(|| Err("no result reported".into())),
            );
        }
    }
    Ok(())
}

/// Takes one record of a kernels total-time child into `results`.
fn total_record(
    options: &Options,
    engine: EngineId,
    record: &[String],
    results: &mut Results,
    per_round: &mut HashMap<(EngineId, &'static str, RunLength), Vec<KernelRun>>,
) {
    let length_of = |kernel: &Kernel, n: &str| {
        RunLength::ALL
            .into_iter()
            .find(|l| l.n(kernel).to_string() == n)
    };
    match record {
        [tag, name, n, result, expected, rest @ ..] if tag == "TK" => {
            let Some(kernel) = options.kernels.iter().find(|k| k.name == name) else {
                return;
            };
            let (Some(length), Some(stats)) = (length_of(kernel, n), parse_stats(rest)) else {
                return;
            };
            let key = (engine, kernel.name, length);
            if result != expected {
                results.mismatches += 1;
                results.problems.push(format!(
                    "**MISMATCH** total time {} (n = {n}): {engine} returned {result} but \
                     native code returns {expected} (an engine bug)",
                    kernel.name
                ));
                results
                    .totals
                    .insert(key, Err(format!("wrong result {result}")));
                return;
            }
            per_round.entry(key).or_default().push(KernelRun {
                result: result.parse().unwrap_or_default(),
                consistent: true,
                stats,
            });
        }
        [tag, name, n, message] if tag == "TKE" => {
            let Some(kernel) = options.kernels.iter().find(|k| k.name == name) else {
                return;
            };
            let Some(length) = length_of(kernel, n) else {
                return;
            };
            results.problems.push(format!(
                "total time {} (n = {n}): {engine} failed: {message}",
                kernel.name
            ));
            results
                .totals
                .insert((engine, kernel.name, length), Err(message.clone()));
        }
        [tag, name, n, rest @ ..] if tag == "TKT" => {
            let Some(kernel) = options.kernels.iter().find(|k| k.name == name) else {
                return;
            };
            let (Some(length), Some(tier)) = (length_of(kernel, n), TierInfo::parse(rest)) else {
                return;
            };
            results
                .total_tiers
                .insert((engine, total_key(kernel.name, length)), tier);
        }
        _ => {}
    }
}

fn run_program(options: &Options, policies: &Policies, results: &mut Results) -> Result<()> {
    let info = programs::find(&options.programs_dir);
    let engines = total_engines(options);
    if let Some(why) = &info.skipped {
        results
            .problems
            .push(format!("real program: not measured: {why}"));
        results.program_info = Some(info);
        return Ok(());
    }
    eprintln!(
        "real program: {} {} ({:.2} MB):",
        info.file,
        info.args[1..].join(" "),
        info.size as f64 / 1e6
    );
    let mut extra = vec![
        info.path.to_string_lossy().into_owned(),
        info.dir.to_string_lossy().into_owned(),
    ];
    extra.extend(info.args.iter().cloned());
    for &engine in &engines {
        let run = run_child(engine, "program", policies.program, &extra)?;
        let mut outcome: Option<Result<ProgramRun, String>> = None;
        let mut output = None;
        for record in &run.records {
            match record.as_slice() {
                [tag, exit, median, min, count, compile] if tag == "P" => {
                    let (Ok(exit), Some(total), Ok(compile)) = (
                        exit.parse(),
                        parse_stats(&[median.clone(), min.clone(), count.clone()]),
                        compile.parse(),
                    ) else {
                        continue;
                    };
                    outcome = Some(Ok(ProgramRun {
                        exit,
                        consistent: true,
                        stdout: String::new(),
                        stderr: String::new(),
                        total,
                        compile: Duration::from_nanos(compile),
                    }));
                }
                [tag, consistent, stdout, stderr] if tag == "PO" => {
                    output = Some((consistent == "1", stdout.clone(), stderr.clone()));
                }
                [tag, message] if tag == "PE" => outcome = Some(Err(message.clone())),
                [tag, rest @ ..] if tag == "PT" => {
                    if let Some(tier) = TierInfo::parse(rest) {
                        if let Some(problem) = tier.problem(engine, &info.file) {
                            results.problems.push(problem);
                        }
                        results.total_tiers.insert((engine, "program".into()), tier);
                    }
                }
                _ => {}
            }
        }
        if let (Some(Ok(run)), Some((consistent, stdout, stderr))) = (&mut outcome, output) {
            run.consistent = consistent;
            run.stdout = stdout;
            run.stderr = stderr;
        }
        if let Some(failure) = run.failure {
            outcome.get_or_insert(Err(failure));
        }
        let outcome = outcome.unwrap_or_else(|| Err("no result reported".into()));
        match &outcome {
            Err(e) => results
                .problems
                .push(format!("real program: {engine} failed: {e}")),
            Ok(run) if !run.consistent || run.stdout != info.expected_stdout => {
                results.mismatches += 1;
                results.problems.push(format!(
                    "**MISMATCH** real program: {engine} printed {:?} (exit {}{}), expected {:?}",
                    run.stdout,
                    run.exit,
                    if run.consistent {
                        ""
                    } else {
                        ", and not the same on every run"
                    },
                    info.expected_stdout
                ));
            }
            Ok(_) => {}
        }
        results.program.insert(engine, outcome);
    }
    // Every engine must also end the same way: the exit code (Boolector's
    // is 20 for `unsat`) and the last line of stderr as well.
    let ended: Vec<(EngineId, i32, String)> = engines
        .iter()
        .filter_map(|e| match results.program.get(e) {
            Some(Ok(run)) => Some((*e, run.exit, run.stderr.clone())),
            _ => None,
        })
        .collect();
    if let Some((first, exit, stderr)) = ended.first() {
        for (e, other_exit, other_stderr) in &ended[1..] {
            if other_exit != exit || other_stderr != stderr {
                results.mismatches += 1;
                results.problems.push(format!(
                    "**MISMATCH** real program: {e} exited {other_exit} (stderr {other_stderr:?}) \
                     but {first} exited {exit} (stderr {stderr:?})"
                ));
            }
        }
    }
    results.program_info = Some(info);
    Ok(())
}
