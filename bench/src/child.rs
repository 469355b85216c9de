//! The measuring side: one child process per (engine, workload).
//!
//! Running each engine in its own process keeps them from disturbing one
//! another (allocator state, wasmtime's signal handlers and code memory) and
//! makes the process's peak resident set size a per-engine memory figure.
//! The child prints tab-separated records on stdout; `main` parses them.
//!
//! Records:
//!
//! ```text
//! K   kernel result consistent(0|1) median_ns min_ns samples
//! KE  kernel message
//! C   median_ns min_ns samples          (Module::new)
//! CE  message
//! I   median_ns min_ns samples          (instantiation)
//! IE  message
//! H   kind ns_per_call                  (kind: host-to-wasm, wasm-to-host, wasm-to-wasm)
//! HE  message
//! N   mode median_ns min_ns samples requests_per_sample
//!                                       (ns per request; mode: linker, pre, pre-pooling)
//! NE  mode message
//! M   baseline_kib peak_kib
//! KT  kernel TIER                       (Kiln's native tier, per kernel module,
//!                                       after the timed calls)
//! T   TIER                              (Kiln's native tier, start-up module;
//!                                       compile_ns: median over the samples)
//! Z   code_bytes                        (compiled code of a start-up module)
//! TK  kernel n result median_ns min_ns samples
//!                                       (total time: Module::new + instantiation
//!                                       + one call of run(n))
//! TKE kernel n message
//! TKT kernel n TIER                     (after the last total-time sample)
//! TM  file what result median_ns min_ns samples
//!                                       (total time of a start-up module; what:
//!                                       `call` or `instantiate`)
//! TME file message
//! TMT file TIER
//! P   exit total_median_ns total_min_ns samples compile_median_ns
//!                                       (a WASI program, Module::new to the end
//!                                       of `_start`)
//! PO  consistent(0|1) stdout_last_line stderr_last_line
//! PE  message
//! PT  TIER                              (after the last run)
//! ```
//!
//! `TIER` is `native fallbacks code_bytes compile_ns osr_compiled
//! osr_entries moved_calls first_fallback`; `first_fallback` is empty when
//! every function compiled natively, else `function N: reason` of the first
//! that did not.

use crate::engines::{self, EngineId, Loop, Runtime, Visitor};
use crate::instantiate::{self, Mode, Target};
use crate::kernels::{self, Kernel};
use crate::measure::{Sampling, Stats, proc_status_kib, sample};
use anyhow::{Context, Result, bail, ensure};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Host-call loop iterations per sample.
pub const HOST_CALLS: i32 = 1_000_000;

/// The shortest an instantiation-throughput sample may take: requests per
/// sample double from one until a batch takes this long.
pub const INSTANTIATE_BATCH: Duration = Duration::from_millis(20);

/// The most requests in one instantiation-throughput sample.
const MAX_BATCH: u32 = 1 << 20;

/// What a child measures.
pub enum Job {
    /// Run these kernels.
    Kernels(Vec<Kernel>),
    /// `Module::new` and instantiation of the module at this path.
    Startup(std::path::PathBuf),
    /// The host-call loops.
    HostCalls,
    /// Instantiation throughput of a module in every [`Mode`].
    Instantiate(Target),
    /// Total time (fresh `Module::new`, instantiation, one call) of these
    /// workloads.
    Total(Vec<TotalWork>),
    /// A WASI program, run end to end: the module, the directory
    /// preopened as `/`, and its arguments (`argv[0]` first).
    Program(PathBuf, PathBuf, Vec<String>),
}

/// One workload of the total-time section.
#[derive(Clone, Debug)]
pub enum TotalWork {
    /// A kernel's `run(n)`.
    Kernel(Kernel, i32),
    /// A start-up module: its path, the export to call and its arguments.
    Module(PathBuf, String, Vec<i32>),
}

impl TotalWork {
    /// The child's command-line form: `kernel:NAME:N` or
    /// `module:PATH:EXPORT:ARG,ARG`.
    pub fn to_arg(&self) -> String {
        match self {
            TotalWork::Kernel(k, n) => format!("kernel:{}:{n}", k.name),
            TotalWork::Module(path, export, args) => {
                let args: Vec<String> = args.iter().map(i32::to_string).collect();
                format!(
                    "module:{}:{export}:{}",
                    path.to_string_lossy(),
                    args.join(",")
                )
            }
        }
    }

    fn parse(arg: &str) -> Result<TotalWork> {
        if let Some(rest) = arg.strip_prefix("kernel:") {
            let (name, n) = rest.rsplit_once(':').context("kernel:NAME:N")?;
            let kernel = kernels::all()
                .into_iter()
                .find(|k| k.name == name)
                .with_context(|| format!("unknown kernel {name}"))?;
            return Ok(TotalWork::Kernel(kernel, n.parse()?));
        }
        if let Some(rest) = arg.strip_prefix("module:") {
            let (rest, args) = rest.rsplit_once(':').context("module:PATH:EXPORT:ARGS")?;
            let (path, export) = rest.rsplit_once(':').context("module:PATH:EXPORT:ARGS")?;
            let args = args
                .split(',')
                .filter(|a| !a.is_empty())
                .map(str::parse)
                .collect::<Result<Vec<i32>, _>>()?;
            return Ok(TotalWork::Module(path.into(), export.to_string(), args));
        }
        bail!("unknown total-time workload {arg}")
    }
}

/// Parses the child's command line (after `--child`) and runs it.
pub fn main(args: &[String]) -> Result<()> {
    let [engine, job, min, max, budget_ms, rest @ ..] = args else {
        bail!("usage: --child ENGINE JOB MIN MAX BUDGET_MS [ARGS...]");
    };
    let engine = EngineId::from_name(engine).with_context(|| format!("unknown engine {engine}"))?;
    let policy = Sampling {
        min: min.parse()?,
        max: max.parse()?,
        budget: Duration::from_millis(budget_ms.parse()?),
    };
    let job = match job.as_str() {
        "kernels" => {
            let all = kernels::all();
            let selected = rest
                .iter()
                .map(|name| {
                    all.iter()
                        .find(|k| k.name == name)
                        .copied()
                        .with_context(|| format!("unknown kernel {name}"))
                })
                .collect::<Result<Vec<_>>>()?;
            Job::Kernels(selected)
        }
        "startup" => {
            let [path] = rest else {
                bail!("startup needs one module path")
            };
            Job::Startup(path.into())
        }
        "hostcalls" => Job::HostCalls,
        "instantiate" => match rest {
            [small] if small == "small" => Job::Instantiate(Target::Small),
            [file, path] if file == "file" => Job::Instantiate(Target::File(path.into())),
            _ => bail!("instantiate needs `small` or `file PATH`"),
        },
        "total" => Job::Total(
            rest.iter()
                .map(|a| TotalWork::parse(a))
                .collect::<Result<_>>()?,
        ),
        "program" => match rest {
            [wasm, dir, args @ ..] => Job::Program(wasm.into(), dir.into(), args.to_vec()),
            _ => bail!("program needs WASM DIR ARGS..."),
        },
        other => bail!("unknown job {other}"),
    };
    run(engine, job, policy)
}

fn run(engine: EngineId, job: Job, policy: Sampling) -> Result<()> {
    let bytes = match &job {
        Job::Startup(path) => {
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?
        }
        _ => Vec::new(),
    };
    let baseline = proc_status_kib("VmRSS");
    let startup_job = matches!(job, Job::Startup(_));
    match (engine, job) {
        (_, Job::Instantiate(target)) => {
            if !engine.measures_instantiation() {
                bail!("{engine} is not measured for instantiation throughput");
            }
            // No memory record: the batches of instances say nothing about
            // what one costs.
            return instantiations(engine, &target, policy);
        }
        (EngineId::Native, Job::Kernels(list)) => native_kernels(&list, policy),
        (EngineId::Wasmparser, Job::Startup(_)) => {
            match sample(policy, || {
                let start = Instant::now();
                engines::wasmparser_validate(&bytes)?;
                Ok(start.elapsed())
            }) {
                Ok(stats) => record_stats("C", stats),
                Err(e) => record("CE", &[&message(&e)]),
            }
        }
        (EngineId::Native | EngineId::Wasmparser, _) => {
            bail!("{engine} only measures one workload")
        }
        (_, job) => engines::with_runtime(
            engine,
            WasmJob {
                job,
                policy,
                bytes: &bytes,
                baseline,
            },
        )?,
    }
    if !matches!(engine, EngineId::Native | EngineId::Wasmparser) && startup_job {
        // Recorded by `startup` after the first compilation.
        return Ok(());
    }
    record_memory(baseline);
    Ok(())
}

/// Records the peak resident memory so far against `baseline`.
fn record_memory(baseline: Option<u64>) {
    if let (Some(baseline), Some(peak)) = (baseline, proc_status_kib("VmHWM")) {
        record("M", &[&baseline.to_string(), &peak.to_string()]);
    }
}

/// Prints one record.
fn record(tag: &str, fields: &[&str]) {
    let mut line = tag.to_string();
    for field in fields {
        line.push('\t');
        line.push_str(&field.replace(['\t', '\n', '\r'], " "));
    }
    println!("{line}");
}

fn record_stats(tag: &str, stats: Stats) {
    record(
        tag,
        &[
            &stats.median.as_nanos().to_string(),
            &stats.min.as_nanos().to_string(),
            &stats.count.to_string(),
        ],
    );
}

/// Prints what Kiln's native tier did with a module: `tag`, the `leading`
/// fields, then those of [`kiln::TierStats`] (see the module docs).
fn record_tier(tag: &str, leading: &[&str], tier: &kiln::TierStats) {
    let first_fallback = tier
        .fallbacks
        .first()
        .map(|(index, why)| format!("function {index}: {why}"))
        .unwrap_or_default();
    let fields = [
        tier.native.to_string(),
        tier.fallbacks.len().to_string(),
        tier.code_bytes.to_string(),
        tier.compile_time.as_nanos().to_string(),
        tier.osr_compiled.to_string(),
        tier.osr_entries.to_string(),
        tier.moved_calls.to_string(),
        first_fallback,
    ];
    let mut all: Vec<&str> = leading.to_vec();
    all.extend(fields.iter().map(String::as_str));
    record(tag, &all);
}

/// An error with its causes on one line.
fn message(e: &anyhow::Error) -> String {
    format!("{e:#}")
}

fn record_kernel(kernel: &Kernel, outcome: Result<(i32, bool, Stats)>) {
    match outcome {
        Ok((result, consistent, stats)) => record(
            "K",
            &[
                kernel.name,
                &result.to_string(),
                if consistent { "1" } else { "0" },
                &stats.median.as_nanos().to_string(),
                &stats.min.as_nanos().to_string(),
                &stats.count.to_string(),
            ],
        ),
        Err(e) => record("KE", &[kernel.name, &message(&e)]),
    }
}

/// Times `call` after one warm-up call, checking every result against the
/// warm-up's.
fn time_calls(
    policy: Sampling,
    mut call: impl FnMut() -> Result<i32>,
) -> Result<(i32, bool, Stats)> {
    let first = call()?;
    let mut consistent = true;
    let stats = sample(policy, || {
        let start = Instant::now();
        let result = call()?;
        let elapsed = start.elapsed();
        consistent &= result == first;
        Ok(elapsed)
    })?;
    Ok((first, consistent, stats))
}

fn native_kernels(list: &[Kernel], policy: Sampling) {
    for kernel in list {
        let outcome = time_calls(policy, || {
            Ok(std::hint::black_box(kernel.run_native(kernel.n)))
        });
        record_kernel(kernel, outcome);
    }
}

struct WasmJob<'a> {
    job: Job,
    policy: Sampling,
    bytes: &'a [u8],
    /// Resident memory before measuring, KiB.
    baseline: Option<u64>,
}

impl Visitor for WasmJob<'_> {
    type Output = ();

    fn visit<R: Runtime>(self, rt: &R) -> Result<()> {
        let policy = self.policy;
        match self.job {
            Job::Kernels(list) => {
                for kernel in &list {
                    let outcome = (|| {
                        let module = rt.compile(kernel.wasm).context("compiling")?;
                        let mut instance = rt.kernel(&module).context("instantiating")?;
                        let timed = time_calls(policy, || rt.call(&mut instance, kernel.n));
                        // After the calls: with tiered execution, what moved.
                        if let Some(tier) = rt.tier_stats(&module) {
                            record_tier("KT", &[kernel.name], &tier);
                        }
                        timed
                    })();
                    record_kernel(kernel, outcome);
                }
            }
            Job::Startup(_) => startup(rt, self.bytes, policy, self.baseline),
            Job::HostCalls => match host_calls(rt, policy) {
                Ok(()) => {}
                Err(e) => record("HE", &[&message(&e)]),
            },
            Job::Instantiate(_) => {
                bail!("instantiation throughput is measured by `instantiations`")
            }
            Job::Total(list) => {
                for work in &list {
                    total(rt, work, policy);
                }
            }
            Job::Program(wasm, dir, args) => {
                if let Err(e) = program(rt, &wasm, &dir, &args, policy) {
                    record("PE", &[&message(&e)]);
                }
            }
        }
        Ok(())
    }
}

/// Untimed pause after each total-time or program sample, so that work a
/// sample left behind (an on-stack-replacement entry still compiling on
/// Kiln's background thread for a module already dropped) does not run
/// during the next sample.
pub const SETTLE: Duration = Duration::from_millis(5);

/// Times fresh `Module::new` + instantiation + one call, per sample; the
/// module is dropped after each (untimed).
fn total<R: Runtime>(rt: &R, work: &TotalWork, policy: Sampling) {
    match work {
        TotalWork::Kernel(kernel, n) => {
            let n_text = n.to_string();
            let mut last_tier = None;
            let mut results = Vec::new();
            let outcome = sample(policy, || {
                let start = Instant::now();
                let module = rt.compile(kernel.wasm).context("compiling")?;
                let mut instance = rt.kernel(&module).context("instantiating")?;
                let result = rt.call(&mut instance, *n)?;
                let elapsed = start.elapsed();
                results.push(result);
                last_tier = rt.tier_stats(&module);
                drop(instance);
                drop(module);
                std::thread::sleep(SETTLE);
                Ok(elapsed)
            });
            match outcome {
                Ok(stats) => {
                    let first = results[0];
                    // A result that changes between samples is reported as
                    // the sentinel the parent cannot mistake for a kernel's.
                    let consistent = results.iter().all(|&r| r == first);
                    let expected = kernel.run_native(*n);
                    let shown = if consistent {
                        first.to_string()
                    } else {
                        "inconsistent".to_string()
                    };
                    record(
                        "TK",
                        &[
                            kernel.name,
                            &n_text,
                            &shown,
                            &expected.to_string(),
                            &stats.median.as_nanos().to_string(),
                            &stats.min.as_nanos().to_string(),
                            &stats.count.to_string(),
                        ],
                    );
                    if let Some(tier) = last_tier {
                        record_tier("TKT", &[kernel.name, &n_text], &tier);
                    }
                }
                Err(e) => record("TKE", &[kernel.name, &n_text, &message(&e)]),
            }
        }
        TotalWork::Module(path, export, args) => {
            let file = path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            let bytes = match std::fs::read(path) {
                Ok(bytes) => bytes,
                Err(e) => return record("TME", &[&file, &format!("cannot read it: {e}")]),
            };
            // No export: only Module::new + instantiation are timed.
            let call = !export.is_empty();
            let what = if call { "call" } else { "instantiate" };
            let mut last_tier = None;
            let mut result = None;
            let outcome = sample(policy, || {
                let start = Instant::now();
                let module = rt.compile(&bytes)?;
                let mut ready = rt.prepare(&module)?;
                if call {
                    result = rt
                        .instantiate_and_call(&module, &mut ready, export, args)
                        .with_context(|| format!("calling {export}"))?;
                } else {
                    rt.instantiate(&module, &mut ready)?;
                }
                let elapsed = start.elapsed();
                last_tier = rt.tier_stats(&module);
                drop(ready);
                drop(module);
                std::thread::sleep(SETTLE);
                Ok(elapsed)
            });
            match outcome {
                Ok(stats) => {
                    record(
                        "TM",
                        &[
                            &file,
                            what,
                            &result.map(|r| r.to_string()).unwrap_or_default(),
                            &stats.median.as_nanos().to_string(),
                            &stats.min.as_nanos().to_string(),
                            &stats.count.to_string(),
                        ],
                    );
                    if let Some(tier) = last_tier {
                        record_tier("TMT", &[&file], &tier);
                    }
                }
                Err(e) => record("TME", &[&file, &message(&e)]),
            }
        }
    }
}

/// The last non-empty line of some output, for the report.
fn last_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// Runs a WASI program end to end per sample (`Module::new` to the end of
/// `_start`).
fn program<R: Runtime>(
    rt: &R,
    wasm: &Path,
    dir: &Path,
    args: &[String],
    policy: Sampling,
) -> Result<()> {
    let bytes = std::fs::read(wasm).with_context(|| format!("cannot read {}", wasm.display()))?;
    let mut compiles = Vec::new();
    let mut outputs: Vec<(i32, Vec<u8>, Vec<u8>)> = Vec::new();
    let mut last_tier = None;
    let stats = sample(policy, || {
        let run = rt.wasi_command(&bytes, args, dir)?;
        compiles.push(run.compile);
        outputs.push((run.exit, run.stdout, run.stderr));
        last_tier = run.tier;
        std::thread::sleep(SETTLE);
        Ok(run.total)
    })?;
    let (exit, stdout, stderr) = &outputs[0];
    let consistent = outputs.iter().all(|o| o == &outputs[0]);
    record(
        "P",
        &[
            &exit.to_string(),
            &stats.median.as_nanos().to_string(),
            &stats.min.as_nanos().to_string(),
            &stats.count.to_string(),
            &Stats::of(compiles).median.as_nanos().to_string(),
        ],
    );
    record(
        "PO",
        &[
            if consistent { "1" } else { "0" },
            &last_line(stdout),
            &last_line(stderr),
        ],
    );
    if let Some(tier) = last_tier {
        record_tier("PT", &[], &tier);
    }
    Ok(())
}

/// Times `Module::new` and instantiation. The peak memory is taken after
/// the first `Module::new` and one instantiation of its module, before any
/// repetition: some engines keep per-engine state that repeated compilation
/// grows, which is not what one start-up costs.
///
/// For Kiln's native tier, the `T` record's compile time is the median
/// over the same compilations as `Module::new`'s.
fn startup<R: Runtime>(rt: &R, bytes: &[u8], policy: Sampling, baseline: Option<u64>) {
    let mut first = true;
    let mut tier: Option<kiln::TierStats> = None;
    let mut tier_times = Vec::new();
    let compiled = sample(policy, || {
        let start = Instant::now();
        let module = rt.compile(bytes)?;
        let elapsed = start.elapsed();
        if let Some(stats) = rt.tier_stats(&module) {
            tier_times.push(stats.compile_time);
            tier.get_or_insert(stats);
        }
        if std::mem::take(&mut first) {
            if let Some(size) = rt.code_size(&module) {
                record("Z", &[&size.to_string()]);
            }
            if let Ok(mut ready) = rt.prepare(&module) {
                let _ = rt.instantiate(&module, &mut ready);
            }
            record_memory(baseline);
        }
        drop(module);
        Ok(elapsed)
    });
    if let Some(mut tier) = tier {
        tier.compile_time = Stats::of(tier_times).median;
        record_tier("T", &[], &tier);
    }
    match compiled {
        Ok(stats) => record_stats("C", stats),
        Err(e) => return record("CE", &[&message(&e)]),
    }
    let instantiated = (|| {
        let module = rt.compile(bytes)?;
        sample(policy, || {
            let mut ready = rt.prepare(&module).context("defining stub imports")?;
            let start = Instant::now();
            rt.instantiate(&module, &mut ready)?;
            let elapsed = start.elapsed();
            drop(ready);
            Ok(elapsed)
        })
    })();
    match instantiated {
        Ok(stats) => record_stats("I", stats),
        Err(e) => record("IE", &[&message(&e)]),
    }
}

/// Measures requests per second on `target` in every [`Mode`]: one `N` or
/// `NE` record per mode. The on-demand modes share one compiled module, the
/// pooling mode has its own (its engine differs).
fn instantiations(engine: EngineId, target: &Target, policy: Sampling) -> Result<()> {
    let wasm = target.bytes()?;
    for pooled in [false, true] {
        let requests = match instantiate::requests(engine, pooled, &wasm) {
            Ok(requests) => requests,
            Err(e) => {
                for mode in Mode::ALL.into_iter().filter(|m| m.pooled() == pooled) {
                    record("NE", &[mode.name(), &message(&e)]);
                }
                continue;
            }
        };
        for (mode, mut request) in requests {
            match request_rate(&mut request, policy) {
                Ok((stats, batch)) => record(
                    "N",
                    &[
                        mode.name(),
                        &stats.median.as_nanos().to_string(),
                        &stats.min.as_nanos().to_string(),
                        &stats.count.to_string(),
                        &batch.to_string(),
                    ],
                ),
                Err(e) => record("NE", &[mode.name(), &message(&e)]),
            }
        }
    }
    Ok(())
}

/// Times `request` after one warm-up request: the time per request of
/// each sample (a batch of requests), and the batch size.
fn request_rate(request: &mut instantiate::Request, policy: Sampling) -> Result<(Stats, u32)> {
    request().context("the first instantiation")?;
    let batch = batch_size(request)?;
    let stats = sample(policy, || Ok(time_batch(request, batch)? / batch))?;
    Ok((stats, batch))
}

/// Requests per sample: doubled from one until a batch takes at least
/// [`INSTANTIATE_BATCH`], then raised to what the fastest request seen
/// would fit in that time (so one slow batch during the doubling does not
/// leave the samples short), at most [`MAX_BATCH`].
fn batch_size(request: &mut instantiate::Request) -> Result<u32> {
    let mut batch: u32 = 1;
    let mut fastest = Duration::MAX;
    loop {
        let elapsed = time_batch(request, batch)?;
        fastest = fastest.min(elapsed / batch);
        if elapsed >= INSTANTIATE_BATCH || batch >= MAX_BATCH {
            break;
        }
        batch = batch.saturating_mul(2);
    }
    let fits = INSTANTIATE_BATCH.as_nanos() / fastest.as_nanos().max(1);
    let fits = u32::try_from(fits).unwrap_or(u32::MAX);
    Ok(batch.max(fits).clamp(1, MAX_BATCH))
}

/// The time `batch` requests take.
fn time_batch(request: &mut instantiate::Request, batch: u32) -> Result<Duration> {
    let start = Instant::now();
    for _ in 0..batch {
        request()?;
    }
    Ok(start.elapsed())
}

fn host_calls<R: Runtime>(rt: &R, policy: Sampling) -> Result<()> {
    let wasm = wat::parse_str(engines::HOST_CALL_WAT)?;
    let module = rt.compile(&wasm)?;
    let mut calls = rt.host_calls(&module)?;
    let per_call = |stats: Stats| {
        format!(
            "{:.2}",
            stats.median.as_nanos() as f64 / f64::from(HOST_CALLS)
        )
    };

    let mut measure =
        |name: &str, f: &mut dyn FnMut(&mut R::Calls, i32) -> Result<i32>| -> Result<()> {
            // Warm-up (and lazy translation), then the timed runs.
            ensure!(f(&mut calls, 1000)? == 1000, "{name}: wrong result");
            let stats = sample(policy, || {
                let start = Instant::now();
                let result = f(&mut calls, HOST_CALLS)?;
                let elapsed = start.elapsed();
                ensure!(result == HOST_CALLS, "{name}: wrong result {result}");
                Ok(elapsed)
            })?;
            record("H", &[name, &per_call(stats)]);
            Ok(())
        };
    measure("host-to-wasm", &mut |c, n| rt.host_loop(c, n))?;
    measure("wasm-to-host", &mut |c, n| rt.wasm_loop(c, Loop::Host, n))?;
    measure("wasm-to-wasm", &mut |c, n| rt.wasm_loop(c, Loop::Wasm, n))?;
    Ok(())
}
