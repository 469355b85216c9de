//! Turns [`Results`] into the Markdown report, the chart and the stdout
//! summary.

use crate::engines::{EngineId, Interrupts};
use crate::instantiate::{self, Mode};
use crate::measure::{MachineInfo, Sampling, Stats};
use crate::{KernelRun, Options, Policies, RequestRate, Results, RunLength, TierInfo, chart};
use anyhow::Result;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

/// The engines ratios are given against, when they ran.
const BASELINES: [EngineId; 2] = [EngineId::WasmiEager, EngineId::WasmtimeCranelift];

/// The native tier's execution-time target: the geometric mean of
/// `kiln-cranelift`'s kernel times over `wasmtime-cranelift`'s at most this.
const EXECUTION_TARGET: f64 = 1.25;

/// The native tier's compile-time target: `Module::new` of `kiln-cranelift`
/// over `wasmtime-cranelift`'s, same module and cores, at most this.
const COMPILE_TARGET: f64 = 1.0;

/// Tiered execution's counting-overhead target: `kiln-tiered-cold` kernel
/// time over `kiln`'s at most this, per kernel and as a geometric mean.
const COUNTING_TARGET: f64 = 1.05;

/// Tiered execution's total-time target at every run length: `kiln-tiered`
/// over the better of `kiln` and `kiln-cranelift`, at most this.
const TIERED_TARGET: f64 = 1.2;

/// Tiered execution's long-run target: `kiln-tiered` total time over
/// `wasmtime-cranelift`'s (its compile time included), at most this.
const TIERED_WASMTIME_TARGET: f64 = 1.3;

/// A kernel run that counts: it ran, and agreed with native code.
fn valid<'a>(
    results: &'a Results,
    engine: EngineId,
    kernel: &'static str,
) -> Option<&'a KernelRun> {
    let run = results.kernels.get(&(engine, kernel))?.as_ref().ok()?;
    let native = results
        .kernels
        .get(&(EngineId::Native, kernel))?
        .as_ref()
        .ok()?;
    (run.result == native.result && run.consistent).then_some(run)
}

fn kernel_time(results: &Results, engine: EngineId, kernel: &'static str) -> Option<f64> {
    valid(results, engine, kernel).map(|r| r.stats.median.as_secs_f64())
}

fn ratio(
    results: &Results,
    engine: EngineId,
    baseline: EngineId,
    kernel: &'static str,
) -> Option<f64> {
    Some(kernel_time(results, engine, kernel)? / kernel_time(results, baseline, kernel)?)
}

/// The geometric mean of the ratios over the kernels where both ran, with
/// how many that was.
fn geomean(
    results: &Results,
    options: &Options,
    engine: EngineId,
    baseline: EngineId,
) -> Option<(f64, usize)> {
    let logs: Vec<f64> = options
        .kernels
        .iter()
        .filter_map(|k| ratio(results, engine, baseline, k.name))
        .map(f64::ln)
        .collect();
    (!logs.is_empty()).then(|| {
        (
            (logs.iter().sum::<f64>() / logs.len() as f64).exp(),
            logs.len(),
        )
    })
}

/// Three significant digits, no exponent.
fn sig3(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a >= 0.1 {
        format!("{v:.3}")
    } else {
        format!("{v:.4}")
    }
}

fn ms(d: Duration) -> String {
    sig3(d.as_secs_f64() * 1e3)
}

fn times(v: f64) -> String {
    format!("{}×", sig3(v))
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

fn sampling_text(p: Sampling) -> String {
    if p.max <= p.min || p.budget.is_zero() {
        format!("median of {}", p.min)
    } else {
        format!(
            "median of at least {} (up to {}, while under {} s)",
            p.min,
            p.max,
            p.budget.as_secs_f64()
        )
    }
}

/// The engines that ran in this run, in report order (references first).
fn engines_run(options: &Options, with: EngineId) -> Vec<EngineId> {
    let mut engines = vec![with];
    engines.extend(options.engines.iter().copied());
    engines
}

/// Draws the kernel chart (ratios against wasmi-eager). Returns `false`
/// when wasmi-eager did not run, so there is nothing to draw.
pub fn write_chart(path: &Path, options: &Options, results: &Results) -> Result<bool> {
    let baseline = EngineId::WasmiEager;
    if !options.engines.contains(&baseline) {
        return Ok(false);
    }
    let kernels: Vec<&str> = options.kernels.iter().map(|k| k.name).collect();
    let series: Vec<chart::Series> = engines_run(options, EngineId::Native)
        .into_iter()
        .filter(|&e| e != baseline)
        .map(|e| chart::Series {
            name: e.name().to_string(),
            ratios: kernels
                .iter()
                .map(|k| ratio(results, e, baseline, k))
                .collect(),
        })
        .collect();
    let title = format!("Kernel execution time relative to {baseline}");
    chart::kernel_ratios(path, &title, baseline.name(), &kernels, &series)?;
    Ok(true)
}

fn table_row(out: &mut String, cells: &[String]) {
    out.push('|');
    for cell in cells {
        out.push(' ');
        out.push_str(&cell.replace('|', "\\|"));
        out.push_str(" |");
    }
    out.push('\n');
}

fn table_head(out: &mut String, cells: &[String], right_from: usize) {
    table_row(out, cells);
    out.push('|');
    for i in 0..cells.len() {
        out.push_str(if i >= right_from { "---:|" } else { "---|" });
    }
    out.push('\n');
}

fn strings<const N: usize>(cells: [&str; N]) -> Vec<String> {
    cells.iter().map(|s| s.to_string()).collect()
}

/// Formats a kernel cell: the median in ms, or why there is none.
fn kernel_cell(results: &Results, engine: EngineId, kernel: &'static str) -> String {
    match results.kernels.get(&(engine, kernel)) {
        None => "–".into(),
        Some(Err(_)) => "failed".into(),
        Some(Ok(run)) => match valid(results, engine, kernel) {
            Some(_) => ms(run.stats.median),
            None => "**wrong result**".into(),
        },
    }
}

/// The full Markdown report.
pub fn markdown(
    options: &Options,
    info: &MachineInfo,
    policies: &Policies,
    results: &Results,
    chart: Option<&std::path::PathBuf>,
) -> String {
    let mut out = String::new();
    let o = &mut out;
    o.push_str("# Kiln benchmarks\n\n");
    let _ = writeln!(
        o,
        "Generated by `kiln-bench` (`bench/`, see `bench/README.md`); do not edit by hand, rerun it \
         (from the repository root, after `bench/fetch-modules.sh`):\n\n```sh\n{}\n```\n",
        options.command_line
    );
    if options.partial {
        o.push_str(
            "> **Partial run** (narrowed by `--quick`, `--engines`, `--sections` or a kernel filter): \
             not for publishing.\n\n",
        );
    }
    table_head(o, &strings(["", ""]), 9);
    for (k, v) in [
        ("Date", info.date.clone()),
        (
            "CPU",
            format!("{} ({} logical cores)", info.cpu, info.cores),
        ),
        ("OS", info.os.clone()),
        ("Kiln", info.kiln.clone()),
        ("rustc", info.rustc.to_string()),
        ("Kernels built by", info.clang.to_string()),
        (
            "Peers",
            format!(
                "wasmtime {}, wasmi {}, wasmparser {}",
                env!("KILN_BENCH_WASMTIME_VERSION"),
                env!("KILN_BENCH_WASMI_VERSION"),
                env!("KILN_BENCH_WASMPARSER_VERSION")
            ),
        ),
        (
            "Load average (1 min) at start / end (end includes the harness)",
            format!("{} / {}", results.load_before, results.load_after),
        ),
        (
            "Wall time of the run",
            format!("{:.0} s", results.wall.as_secs_f64()),
        ),
    ] {
        table_row(o, &[format!("**{k}**"), v]);
    }
    o.push_str("\n## Engines\n\n");
    for e in EngineId::ALL {
        if !e.runs_wasm() || options.engines.contains(&e) || options.variants.contains(&e) {
            let _ = writeln!(o, "* `{}`: {}", e.name(), e.describe());
        }
    }
    o.push_str(
        "\nEvery engine uses its default configuration apart from the mode named; Kiln's engines set \
         their `Strategy` explicitly. wasmtime is built with `parallel-compilation`, so its \
         `Module::new` uses all cores, and so does `kiln-cranelift`'s; Kiln's interpreter, wasmi and \
         wasmparser compile on one thread.\n",
    );

    o.push_str("\n## Method\n\n");
    let _ = writeln!(
        o,
        "* Each engine runs in its own child process (the harness re-executes itself), one process per \
         engine and workload, sequentially.\n\
         * **Kernels**: the C files in `bench/kernels/`, compiled by `clang --target=wasm32 -O2 -nostdlib \
         -mbulk-memory` for the engines and by `clang -O2` for `native`. Per kernel, the module is compiled \
         and instantiated once; one warm-up call of `run(n)` (which includes any lazy translation) is \
         followed by timed calls on the **same instance** through `TypedFunc::call`: {} in all, taken \
         in {} rounds (each round runs every engine once over all kernels, in a rotated order; the \
         figure is the median of an engine's per-round medians), so that a slow stretch of a shared \
         machine does not land on one engine only. Every call's result \
         is checked against the native result; a difference is reported as an engine bug.\n\
         * **Start-up**: `Module::new` on the module's bytes ({}), and instantiation in a fresh store whose \
         imports are all stubs (functions that trap, zero globals, fresh memories and tables of the imported \
         types) ({}; creating the store and stubs is not timed). MB/s is module size (10⁶ bytes) over the \
         median `Module::new` time.\n\
         * **Fuel and epoch overhead**: the kernels again, on Kiln and wasmtime-cranelift with fuel \
         or epoch checks enabled (their `-fuel` and `-epoch` variants), in the same way; reported only \
         as time ratios against the same engine without checks.\n\
         * **Instantiation throughput**: per request, a fresh `Store`, one instantiation, the store \
         dropped; batches of requests of at least {} ms, {} per mode, after one warm-up request. Kiln \
         and wasmtime-cranelift only.\n\
         * **Host calls**: {} calls of an `(i32) -> i32` function per sample, {}.\n\
         * **Peak memory**: the child's peak resident set size (`VmHWM`) minus its resident set size just \
         before measuring (which includes the harness binary and, for start-up, the module's bytes).",
        sampling_text(policies.kernels),
        if options.quick {
            1
        } else {
            crate::KERNEL_ROUNDS
        },
        sampling_text(policies.startup),
        sampling_text(policies.startup),
        crate::child::INSTANTIATE_BATCH.as_millis(),
        sampling_text(policies.instantiate),
        crate::child::HOST_CALLS,
        sampling_text(policies.hostcalls),
    );

    if options.sections.kernels {
        kernel_sections(o, options, results, chart);
        native_tier_kernels(o, options, results);
        tiered_kernels(o, options, results);
        if options.variants.contains(&EngineId::KilnTieredCold) {
            counting_section(o, options, results);
        }
        if options
            .variants
            .iter()
            .any(|v| v.interrupts() != Interrupts::None)
        {
            overhead_section(o, options, results);
        }
    }
    if options.sections.startup {
        startup_sections(o, options, results);
        native_tier_compile(o, options, info, results);
    }
    if options.sections.instantiate {
        instantiate_section(o, options, results);
    }
    if options.sections.hostcalls {
        host_section(o, options, results);
    }
    if options.sections.total {
        total_sections(o, options, results);
    }
    if options.sections.program {
        program_section(o, options, results);
    }
    memory_section(o, options, results);

    o.push_str("\n## Problems\n\n");
    if results.problems.is_empty() {
        o.push_str(
            "None: every engine ran every workload, and every kernel result matched native code.\n",
        );
    } else {
        for p in &results.problems {
            let _ = writeln!(o, "* {p}");
        }
    }
    out
}

fn kernel_sections(
    o: &mut String,
    options: &Options,
    results: &Results,
    chart: Option<&std::path::PathBuf>,
) {
    let engines = engines_run(options, EngineId::Native);
    o.push_str(
        "\n## Kernel execution time\n\nMedian time of one `run(n)` call, in milliseconds.\n\n",
    );
    let mut head = strings(["kernel", "exercises", "n"]);
    head.extend(engines.iter().map(|e| format!("`{e}`")));
    table_head(o, &head, 2);
    for k in &options.kernels {
        let mut row = vec![format!("`{}`", k.name), k.what.to_string(), k.n.to_string()];
        row.extend(engines.iter().map(|&e| kernel_cell(results, e, k.name)));
        table_row(o, &row);
    }

    o.push_str("\n### Summary: geometric mean of the per-kernel time ratios\n\n");
    o.push_str(
        "Lower is faster; `2×` means twice the time of the engine in the column's title.\n\n",
    );
    let bases: Vec<EngineId> = std::iter::once(EngineId::Native)
        .chain(
            BASELINES
                .into_iter()
                .filter(|b| options.engines.contains(b)),
        )
        .collect();
    let mut head = strings(["engine"]);
    head.extend(bases.iter().map(|b| format!("vs `{b}`")));
    table_head(o, &head, 1);
    for &e in &engines {
        let mut row = vec![format!("`{e}`")];
        row.extend(
            bases
                .iter()
                .map(|&b| match geomean(results, options, e, b) {
                    Some((g, n)) if n == options.kernels.len() => times(g),
                    Some((g, n)) => format!("{} ({n} kernels)", times(g)),
                    None => "–".into(),
                }),
        );
        table_row(o, &row);
    }

    for baseline in BASELINES {
        if !options.engines.contains(&baseline) {
            continue;
        }
        let _ = writeln!(
            o,
            "\n### Relative to `{baseline}`\n\nPer-kernel time ratio; lower is faster.\n"
        );
        let others: Vec<EngineId> = engines.iter().copied().filter(|&e| e != baseline).collect();
        let mut head = strings(["kernel"]);
        head.extend(others.iter().map(|e| format!("`{e}`")));
        table_head(o, &head, 1);
        for k in &options.kernels {
            let mut row = vec![format!("`{}`", k.name)];
            row.extend(others.iter().map(|&e| {
                ratio(results, e, baseline, k.name)
                    .map(times)
                    .unwrap_or_else(|| "–".into())
            }));
            table_row(o, &row);
        }
        let mut row = vec!["**geometric mean**".to_string()];
        row.extend(others.iter().map(|&e| {
            geomean(results, options, e, baseline)
                .map(|(g, _)| format!("**{}**", times(g)))
                .unwrap_or_else(|| "–".into())
        }));
        table_row(o, &row);
        if baseline == EngineId::WasmiEager
            && let Some(path) = chart
        {
            let name = path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            let _ = writeln!(o, "\n![Per-kernel time relative to {baseline}]({name})");
        }
    }
}

/// A ratio cell: the ratio, or "–" when either side is missing.
fn ratio_cell(v: Option<f64>) -> String {
    v.map(times).unwrap_or_else(|| "–".into())
}

/// Whether a ratio meets a target (at most `target`), in words.
fn verdict(value: f64, target: f64) -> &'static str {
    if value <= target {
        "met"
    } else {
        "**not met**"
    }
}

/// How many functions the native tier compiled for `workload`, and how
/// many fell back to the interpreter when any did.
fn functions_cell(results: &Results, engine: EngineId, workload: &str) -> String {
    match results.tiers.get(&(engine, workload.to_string())) {
        None => "–".into(),
        Some(t) if t.fallbacks == 0 => t.native.to_string(),
        Some(t) => format!("{} (**{} fell back**)", t.native, t.fallbacks),
    }
}

/// The native tier's machine code for `workload` (`TierStats::code_bytes`).
fn tier_code_cell(results: &Results, engine: EngineId, workload: &str) -> String {
    match results.tiers.get(&(engine, workload.to_string())) {
        None => "–".into(),
        Some(t) => size_text(t.code_bytes as u64),
    }
}

/// The compiled code of `workload` on `engine` and on `peer`: "a / b".
fn code_cell(results: &Results, engine: EngineId, peer: EngineId, workload: &str) -> String {
    let size = |e| {
        results
            .code_bytes
            .get(&(e, workload.to_string()))
            .map_or_else(|| "–".to_string(), |&b| size_text(b))
    };
    format!("{} / {}", size(engine), size(peer))
}

/// The native tier against wasmtime's Cranelift (and Kiln's interpreter)
/// on the kernels, with the execution-time target, when `kiln-cranelift`
/// ran.
fn native_tier_kernels(o: &mut String, options: &Options, results: &Results) {
    let native_tier = EngineId::KilnCranelift;
    if !options.engines.contains(&native_tier) {
        return;
    }
    let (peer, interp) = (EngineId::WasmtimeCranelift, EngineId::Kiln);
    let _ = writeln!(
        o,
        "\n### Kiln's native tier against wasmtime's Cranelift\n\n\
         `{native_tier}` (`Strategy::Cranelift`) per kernel: its median time in milliseconds, its \
         time over `{peer}`'s (the target: a geometric mean of at most {}), over native code's, \
         and how many times faster it is than Kiln's interpreter (`{interp}` time over \
         `{native_tier}` time); then the machine code of the kernel's module \
         (`TierStats::code_bytes`: function bodies and array-call trampolines) and how many \
         functions were compiled natively (a function left to the interpreter would also be \
         listed under Problems).\n",
        times(EXECUTION_TARGET)
    );
    table_head(
        o,
        &[
            "kernel".to_string(),
            format!("`{native_tier}` ms"),
            format!("`{peer}` ms"),
            format!("`{native_tier}` / `{peer}`"),
            format!("`{native_tier}` / `native`"),
            format!("`{interp}` / `{native_tier}`"),
            "code".to_string(),
            "native functions".to_string(),
        ],
        1,
    );
    for k in &options.kernels {
        table_row(
            o,
            &[
                format!("`{}`", k.name),
                kernel_cell(results, native_tier, k.name),
                kernel_cell(results, peer, k.name),
                ratio_cell(ratio(results, native_tier, peer, k.name)),
                ratio_cell(ratio(results, native_tier, EngineId::Native, k.name)),
                ratio_cell(ratio(results, interp, native_tier, k.name)),
                tier_code_cell(results, native_tier, k.name),
                functions_cell(results, native_tier, k.name),
            ],
        );
    }
    let geo = |e, b| {
        geomean(results, options, e, b)
            .map(|(g, _)| format!("**{}**", times(g)))
            .unwrap_or_else(|| "–".into())
    };
    table_row(
        o,
        &[
            "**geometric mean**".to_string(),
            String::new(),
            String::new(),
            geo(native_tier, peer),
            geo(native_tier, EngineId::Native),
            geo(interp, native_tier),
            String::new(),
            String::new(),
        ],
    );
    match geomean(results, options, native_tier, peer) {
        Some((g, n)) => {
            let _ = writeln!(
                o,
                "\nExecution-time target, `{native_tier}` ≤ {} `{peer}` (geometric mean over {n} \
                 kernels): {} ({}).",
                times(EXECUTION_TARGET),
                verdict(g, EXECUTION_TARGET),
                times(g)
            );
        }
        None => {
            let _ = writeln!(
                o,
                "\nExecution-time target: not measured (`{peer}` did not run, or no kernel ran on \
                 both)."
            );
        }
    }
}

/// The median `Module::new` time of `engine` on a start-up module.
fn compile_time(results: &Results, engine: EngineId, file: &str) -> Option<Duration> {
    match results
        .startup
        .get(&(engine, file.to_string()))?
        .compile
        .as_ref()?
    {
        Ok(stats) => Some(stats.median),
        Err(_) => None,
    }
}

/// `Module::new` time of `engine` over `baseline`'s on a start-up module.
fn compile_ratio(
    results: &Results,
    engine: EngineId,
    baseline: EngineId,
    file: &str,
) -> Option<f64> {
    Some(
        compile_time(results, engine, file)?.as_secs_f64()
            / compile_time(results, baseline, file)?.as_secs_f64(),
    )
}

/// The geometric mean of [`compile_ratio`] over the measured modules, with
/// how many modules it covers.
fn compile_geomean(
    results: &Results,
    engine: EngineId,
    baseline: EngineId,
) -> Option<(f64, usize)> {
    let logs: Vec<f64> = results
        .modules
        .iter()
        .filter(|m| m.skipped.is_none())
        .filter_map(|m| compile_ratio(results, engine, baseline, &m.file))
        .map(f64::ln)
        .collect();
    (!logs.is_empty()).then(|| {
        (
            (logs.iter().sum::<f64>() / logs.len() as f64).exp(),
            logs.len(),
        )
    })
}

/// The native tier's `Module::new` against wasmtime's compilers on the
/// start-up modules, with the compile-time target, when `kiln-cranelift`
/// ran.
fn native_tier_compile(o: &mut String, options: &Options, info: &MachineInfo, results: &Results) {
    let native_tier = EngineId::KilnCranelift;
    let measured: Vec<_> = results
        .modules
        .iter()
        .filter(|m| m.skipped.is_none())
        .collect();
    if !options.engines.contains(&native_tier) || measured.is_empty() {
        return;
    }
    let (peer, winch) = (EngineId::WasmtimeCranelift, EngineId::WasmtimeWinch);
    let _ = writeln!(
        o,
        "\n### Compile time: Kiln's native tier against wasmtime\n\n\
         `Module::new` median time in milliseconds, every function compiled to native code, on the \
         same machine with the same {} cores: `{native_tier}` and wasmtime both compile functions \
         in parallel on all of them. *Cranelift* is the part of `{native_tier}`'s `Module::new` spent \
         compiling to native code (`TierStats::compile_time`, median over the same compilations); \
         the rest is parsing and validation. The ratios are of `Module::new` times (the target: at \
         most {} `{peer}`'s, module by module). *Code* is the machine code each produced: Kiln's \
         `TierStats::code_bytes` (function bodies and array-call trampolines), wasmtime's \
         `Module::text` (its text section: function bodies and trampolines, padded to a page).\n",
        info.cores,
        times(COMPILE_TARGET)
    );
    table_head(
        o,
        &[
            "module".to_string(),
            format!("`{native_tier}` ms"),
            "of which Cranelift".to_string(),
            format!("`{peer}` ms"),
            format!("`{native_tier}` / `{peer}`"),
            format!("`{winch}` ms"),
            format!("`{native_tier}` / `{winch}`"),
            format!("code, `{native_tier}` / `{peer}`"),
            "native functions".to_string(),
        ],
        1,
    );
    let time_cell = |e, file: &str| match compile_time(results, e, file) {
        Some(d) => ms(d),
        None if results.startup.contains_key(&(e, file.to_string())) => "failed".into(),
        None => "–".into(),
    };
    for m in &measured {
        let cranelift = results
            .tiers
            .get(&(native_tier, m.file.clone()))
            .map(|t| ms(t.compile))
            .unwrap_or_else(|| "–".into());
        table_row(
            o,
            &[
                format!("`{}`", m.file),
                time_cell(native_tier, &m.file),
                cranelift,
                time_cell(peer, &m.file),
                ratio_cell(compile_ratio(results, native_tier, peer, &m.file)),
                time_cell(winch, &m.file),
                ratio_cell(compile_ratio(results, native_tier, winch, &m.file)),
                code_cell(results, native_tier, peer, &m.file),
                functions_cell(results, native_tier, &m.file),
            ],
        );
    }
    let geo = |b| {
        compile_geomean(results, native_tier, b)
            .map(|(g, _)| format!("**{}**", times(g)))
            .unwrap_or_else(|| "–".into())
    };
    let blank = String::new;
    table_row(
        o,
        &[
            "**geometric mean**".to_string(),
            blank(),
            blank(),
            blank(),
            geo(peer),
            blank(),
            geo(winch),
            blank(),
            blank(),
        ],
    );
    let met = measured
        .iter()
        .filter_map(|m| compile_ratio(results, native_tier, peer, &m.file))
        .map(|r| r <= COMPILE_TARGET)
        .collect::<Vec<bool>>();
    if met.is_empty() {
        let _ = writeln!(
            o,
            "\nCompile-time target: not measured (`{peer}` did not run, or failed)."
        );
    } else {
        let ok = met.iter().filter(|&&m| m).count();
        let _ = writeln!(
            o,
            "\nCompile-time target, `{native_tier}` no slower than `{peer}`: {} on {ok} of {} modules.",
            if ok == met.len() {
                "met"
            } else {
                "**not met**"
            },
            met.len()
        );
    }
}

/// Column heading of a variant's ratio against its base engine.
fn variant_heading(variant: EngineId) -> String {
    match variant.variant_of() {
        Some((base, _)) => format!("`{variant}` / `{base}`"),
        None => format!("`{variant}`"),
    }
}

/// A variant's time ratio against its base engine on `kernel`.
fn variant_ratio(results: &Results, variant: EngineId, kernel: &'static str) -> Option<f64> {
    let (base, _) = variant.variant_of()?;
    ratio(results, variant, base, kernel)
}

/// A variant's geometric-mean time ratio against its base engine, with
/// how many kernels it covers.
fn variant_geomean(
    results: &Results,
    options: &Options,
    variant: EngineId,
) -> Option<(f64, usize)> {
    let (base, _) = variant.variant_of()?;
    geomean(results, options, variant, base)
}

fn overhead_section(o: &mut String, options: &Options, results: &Results) {
    o.push_str(
        "\n## Fuel and epoch overhead\n\n\
         Kernel time with the engine's interruption checks enabled, divided by the same engine's time \
         without them (the kernel table above), per kernel; `1.10×` means 10% slower. **Fuel**: \
         `Config::consume_fuel(true)`, every store given `u64::MAX / 2` units, which never run out. \
         **Epochs**: `Config::epoch_interruption(true)`, every store's deadline `u64::MAX / 2` ticks \
         away, the epoch never incremented. Measured like the other kernel runs, in their own child \
         processes; the results are checked against native code too. The ratios of two separate runs \
         carry the noise of both: a few percent either way is noise.\n\n",
    );
    let missing: Vec<String> = interrupt_variants(options)
        .iter()
        .filter_map(|v| v.variant_of())
        .map(|(base, _)| base)
        .filter(|base| !options.engines.contains(base))
        .map(|base| format!("`{base}`"))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !missing.is_empty() {
        let _ = writeln!(
            o,
            "No ratios without {} in `--engines`.\n",
            missing.join(" and ")
        );
    }
    let variants: Vec<EngineId> = interrupt_variants(options);
    let mut head = strings(["kernel"]);
    head.extend(variants.iter().map(|&v| variant_heading(v)));
    table_head(o, &head, 1);
    for k in &options.kernels {
        let mut row = vec![format!("`{}`", k.name)];
        row.extend(variants.iter().map(|&v| {
            variant_ratio(results, v, k.name)
                .map(times)
                .unwrap_or_else(|| "–".into())
        }));
        table_row(o, &row);
    }
    let mut row = vec!["**geometric mean**".to_string()];
    row.extend(
        variants
            .iter()
            .map(|&v| match variant_geomean(results, options, v) {
                Some((g, n)) if n == options.kernels.len() => format!("**{}**", times(g)),
                Some((g, n)) => format!("**{}** ({n} kernels)", times(g)),
                None => "–".into(),
            }),
    );
    table_row(o, &row);
}

fn startup_sections(o: &mut String, options: &Options, results: &Results) {
    o.push_str("\n## Start-up\n\n");
    if results.modules.is_empty() {
        o.push_str("No modules: run `bench/fetch-modules.sh` first.\n");
        return;
    }
    o.push_str(
        "Modules (fetched by `bench/fetch-modules.sh` into `bench/modules/`, not committed):\n\n",
    );
    table_head(
        o,
        &strings([
            "module",
            "from",
            "size (MB)",
            "functions",
            "imports",
            "measured",
        ]),
        2,
    );
    for m in &results.modules {
        table_row(
            o,
            &[
                format!("`{}`", m.file),
                m.source.clone().unwrap_or_else(|| "?".into()),
                format!("{:.2}", m.size as f64 / 1e6),
                m.functions.to_string(),
                m.imports.to_string(),
                match &m.skipped {
                    None => "yes".into(),
                    Some(why) => format!("no: {why}"),
                },
            ],
        );
    }
    let measured: Vec<_> = results
        .modules
        .iter()
        .filter(|m| m.skipped.is_none())
        .collect();
    if measured.is_empty() {
        return;
    }

    let engines = engines_run(options, EngineId::Wasmparser);
    o.push_str("\n### `Module::new`\n\nMedian time in milliseconds, and throughput in MB/s.\n\n");
    let mut head = strings(["module"]);
    head.extend(engines.iter().map(|e| format!("`{e}`")));
    table_head(o, &head, 1);
    for m in &measured {
        let mut row = vec![format!("`{}`", m.file)];
        row.extend(engines.iter().map(|&e| {
            match results
                .startup
                .get(&(e, m.file.clone()))
                .and_then(|s| s.compile.as_ref())
            {
                Some(Ok(stats)) => compile_cell(stats, m.size),
                Some(Err(_)) => "failed".into(),
                None => "–".into(),
            }
        }));
        table_row(o, &row);
    }

    o.push_str(
        "\n### Instantiation\n\nMedian time in milliseconds, imports satisfied by stubs.\n\n",
    );
    let engines: Vec<EngineId> = engines.into_iter().filter(|e| e.runs_wasm()).collect();
    let mut head = strings(["module"]);
    head.extend(engines.iter().map(|e| format!("`{e}`")));
    table_head(o, &head, 1);
    for m in &measured {
        let mut row = vec![format!("`{}`", m.file)];
        row.extend(engines.iter().map(|&e| {
            match results
                .startup
                .get(&(e, m.file.clone()))
                .and_then(|s| s.instantiate.as_ref())
            {
                Some(Ok(stats)) => ms(stats.median),
                Some(Err(_)) => "failed".into(),
                None => "–".into(),
            }
        }));
        table_row(o, &row);
    }
}

/// Requests per second with a k or M suffix.
fn per_second(v: f64) -> String {
    if !v.is_finite() {
        "∞".into()
    } else if v >= 1e6 {
        format!("{}M", sig3(v / 1e6))
    } else if v >= 1e3 {
        format!("{}k", sig3(v / 1e3))
    } else {
        sig3(v)
    }
}

/// Microseconds, three significant digits.
fn micros(d: Duration) -> String {
    sig3(d.as_secs_f64() * 1e6)
}

/// The engines the instantiation section measured, in report order.
fn instantiate_engines(options: &Options) -> Vec<EngineId> {
    options
        .engines
        .iter()
        .copied()
        .filter(|e| e.measures_instantiation())
        .collect()
}

/// One engine's throughput for one module and mode.
fn request_rate<'a>(
    results: &'a Results,
    engine: EngineId,
    module: &str,
    mode: Mode,
) -> Option<&'a Result<RequestRate, String>> {
    results.instantiate.get(&(engine, module.to_string(), mode))
}

/// Kiln's time per request over wasmtime's, when both were measured.
fn instantiate_ratio(results: &Results, module: &str, mode: Mode) -> Option<f64> {
    let time = |e| match request_rate(results, e, module, mode) {
        Some(Ok(rate)) => Some(rate.stats.median.as_secs_f64()),
        _ => None,
    };
    Some(time(EngineId::Kiln)? / time(EngineId::WasmtimeCranelift)?)
}

/// A size in bytes: B below a kilobyte, kB below a megabyte, else MB.
fn size_text(bytes: u64) -> String {
    if bytes < 1_000 {
        format!("{bytes} B")
    } else if bytes < 1_000_000 {
        format!("{} kB", sig3(bytes as f64 / 1e3))
    } else {
        format!("{} MB", sig3(bytes as f64 / 1e6))
    }
}

fn instantiate_section(o: &mut String, options: &Options, results: &Results) {
    let _ = writeln!(
        o,
        "\n## Instantiation throughput\n\n\
         Instances per second when every request does what a server does per request: create a fresh \
         `Store`, instantiate the module into it, drop the store (which returns pooled slots). All three \
         are timed; compiling the module, defining the imports and `Linker::instantiate_pre` are not. \
         The imports are stub functions defined once in a `Linker`.\n\n\
         * **{}**: `Linker::instantiate(&mut store, &module)` with on-demand allocation, so every \
         request also looks the imports up and type-checks them.\n\
         * **{}**: `InstancePre::instantiate(&mut store)` with on-demand allocation.\n\
         * **{}**: `InstancePre::instantiate(&mut store)` with the pooling allocator (`Config::allocation_strategy(Pooling(..))`), \
         the same limits for both engines: {} instance, memory and table slots; memories of up to {} GiB \
         (both engines' default, above any 32-bit module's initial memory); tables of max({}, the module's \
         initial table size) elements; as many memories and tables per module as it defines (at least \
         one); instances of up to {} MiB; every other setting at each engine's default.\n\n\
         `kiln` and `wasmtime-cranelift` are the configurations of the kernel tables (Kiln's defaults; \
         wasmtime's defaults with Cranelift, which include copy-on-write memory images). The time \
         ratio is Kiln's time per instance over wasmtime's: `2×` means Kiln creates half as many \
         instances per second.\n",
        Mode::Linker.name(),
        Mode::Pre.name(),
        Mode::PrePooling.name(),
        instantiate::POOL_SLOTS,
        instantiate::POOL_MEMORY_BYTES >> 30,
        instantiate::POOL_TABLE_ELEMENTS,
        instantiate::POOL_INSTANCE_BYTES >> 20,
    );
    table_head(
        o,
        &strings([
            "module",
            "size",
            "functions",
            "imports",
            "memory (initial)",
            "table (initial)",
            "data segments",
            "measured",
        ]),
        1,
    );
    for m in &results.instantiate_modules {
        let shape = &m.shape;
        let measured = match &m.skipped {
            None => "yes".into(),
            Some(why) => format!("no: {why}"),
        };
        if m.skipped.is_some() && m.size == 0 {
            let mut row = vec![format!("`{}`", m.name)];
            row.extend(std::iter::repeat_n("–".to_string(), 6));
            row.push(measured);
            table_row(o, &row);
            continue;
        }
        table_row(
            o,
            &[
                if m.name == "small" {
                    "small (built in)".into()
                } else {
                    format!("`{}`", m.name)
                },
                size_text(m.size),
                shape.functions.to_string(),
                shape.imports.to_string(),
                format!(
                    "{} × 64 KiB ({} MiB)",
                    shape.memory_pages,
                    sig3(shape.memory_pages as f64 / 16.0)
                ),
                format!("{} elements", shape.table_elements),
                format!("{} ({})", shape.data_segments, size_text(shape.data_bytes)),
                measured,
            ],
        );
    }
    let engines = instantiate_engines(options);
    if engines.is_empty() {
        o.push_str("\nNeither `kiln` nor `wasmtime-cranelift` was selected with `--engines`.\n");
        return;
    }
    let both = engines.len() == 2;
    let _ = writeln!(
        o,
        "\nInstances per second (median sample) and microseconds per instance{}.\n",
        if both {
            "; the ratio is of the times"
        } else {
            ""
        }
    );
    let mut head = strings(["module", "mode"]);
    for e in &engines {
        head.push(format!("`{e}` instances/s"));
        head.push(format!("`{e}` µs"));
    }
    if both {
        head.push("time `kiln` / `wasmtime-cranelift`".into());
    }
    table_head(o, &head, 2);
    for m in results
        .instantiate_modules
        .iter()
        .filter(|m| m.skipped.is_none())
    {
        for mode in Mode::ALL {
            let name = if m.name == "small" {
                "small".to_string()
            } else {
                format!("`{}`", m.name)
            };
            let mut row = vec![name, mode.describe().to_string()];
            for &e in &engines {
                match request_rate(results, e, &m.name, mode) {
                    Some(Ok(rate)) => {
                        row.push(per_second(rate.per_second()));
                        row.push(micros(rate.stats.median));
                    }
                    Some(Err(_)) => row.extend(["failed".to_string(), "failed".to_string()]),
                    None => row.extend(["–".to_string(), "–".to_string()]),
                }
            }
            if both {
                row.push(
                    instantiate_ratio(results, &m.name, mode)
                        .map(times)
                        .unwrap_or_else(|| "–".into()),
                );
            }
            table_row(o, &row);
        }
    }
}

fn compile_cell(stats: &Stats, size: u64) -> String {
    let secs = stats.median.as_secs_f64();
    let mbps = if secs > 0.0 {
        size as f64 / 1e6 / secs
    } else {
        f64::INFINITY
    };
    format!("{} ({} MB/s)", ms(stats.median), sig3(mbps))
}

fn host_section(o: &mut String, options: &Options, results: &Results) {
    let _ = writeln!(
        o,
        "\n## Host calls\n\nNanoseconds per call (median sample of {} calls).\n\n\
         * host → wasm: the host calls an exported `(i32) -> i32` through `TypedFunc::call` in a Rust loop.\n\
         * wasm → host: a wasm loop calls an imported host function `(i32) -> i32` (a `func_wrap` closure); \
         includes the loop's own few instructions.\n\
         * wasm → wasm: the same loop calling a wasm function instead, for reference.\n",
        crate::child::HOST_CALLS
    );
    table_head(
        o,
        &strings(["engine", "host → wasm", "wasm → host", "wasm → wasm"]),
        1,
    );
    for &e in &options.engines {
        let Some(h) = results.host.get(&e) else {
            continue;
        };
        let cell = |v: Option<f64>| {
            v.map(sig3).unwrap_or_else(|| {
                if h.error.is_some() {
                    "failed".into()
                } else {
                    "–".into()
                }
            })
        };
        table_row(
            o,
            &[
                format!("`{e}`"),
                cell(h.host_to_wasm),
                cell(h.wasm_to_host),
                cell(h.wasm_to_wasm),
            ],
        );
    }
}

fn memory_section(o: &mut String, options: &Options, results: &Results) {
    if results.memory.is_empty() {
        return;
    }
    let mut workloads: Vec<String> = Vec::new();
    if options.sections.kernels {
        workloads.push("kernels".into());
    }
    workloads.extend(
        results
            .modules
            .iter()
            .filter(|m| m.skipped.is_none())
            .map(|m| m.file.clone()),
    );
    if options.sections.hostcalls {
        workloads.push("hostcalls".into());
    }
    o.push_str(
        "\n## Peak memory\n\nPeak resident memory of the engine's child process above its resident memory \
         before measuring, in MiB (from `VmHWM` and `VmRSS` in `/proc/self/status`; the baseline, about 4 MiB \
         plus the module's bytes, is the harness binary itself). `kernels`: all kernels \
         compiled, instantiated and run one after the other; a module: one `Module::new` of it plus one \
         instantiation (taken before the timed repetitions, as some engines keep per-engine state that \
         repeated compilation grows).\n\n",
    );
    let mut head = strings(["engine"]);
    head.extend(workloads.iter().map(|w| format!("`{w}`")));
    table_head(o, &head, 1);
    let mut engines = vec![EngineId::Native, EngineId::Wasmparser];
    engines.extend(options.engines.iter().copied());
    for e in engines {
        let cells: Vec<String> = workloads
            .iter()
            .map(|w| match results.memory.get(&(e, w.clone())) {
                Some(m) => mib(m.peak_kib.saturating_sub(m.baseline_kib)),
                None => "–".into(),
            })
            .collect();
        if cells.iter().all(|c| c == "–") {
            continue;
        }
        let mut row = vec![format!("`{e}`")];
        row.extend(cells);
        table_row(o, &row);
    }
}

/// The compact summary printed to stdout.
pub fn summary(options: &Options, results: &Results) -> String {
    let mut out = String::new();
    let o = &mut out;
    if options.sections.kernels {
        let engines = engines_run(options, EngineId::Native);
        let width = 10;
        let _ = write!(
            o,
            "\nkernel time, ms (median); -e/-l = eager/lazy, wt = wasmtime, geo = geometric mean of ratios\n{:<16}",
            ""
        );
        for &e in &engines {
            let _ = write!(o, " {:>width$}", short(e));
        }
        o.push('\n');
        for k in &options.kernels {
            let _ = write!(o, "{:<16}", k.name);
            for &e in &engines {
                let cell = kernel_cell(results, e, k.name).replace("**", "");
                let _ = write!(o, " {cell:>width$}");
            }
            o.push('\n');
        }
        for b in std::iter::once(EngineId::Native).chain(BASELINES) {
            if b != EngineId::Native && !options.engines.contains(&b) {
                continue;
            }
            let _ = write!(
                o,
                "{:<16}",
                format!("geo vs {}", short(b).trim_end_matches("-e"))
            );
            for &e in &engines {
                let cell = geomean(results, options, e, b)
                    .map(|(g, _)| times(g))
                    .unwrap_or_else(|| "–".into());
                let _ = write!(o, " {cell:>width$}");
            }
            o.push('\n');
        }
        summary_native_tier(o, options, results);
        summary_counting(o, options, results);
        if !interrupt_variants(options).is_empty() {
            summary_overhead(o, options, results);
        }
    }
    if options.sections.startup && results.modules.iter().any(|m| m.skipped.is_none()) {
        let _ = writeln!(o, "\nModule::new, ms (MB/s) / instantiation, ms");
        for m in results.modules.iter().filter(|m| m.skipped.is_none()) {
            let _ = writeln!(o, "  {} ({:.2} MB)", m.file, m.size as f64 / 1e6);
            for e in engines_run(options, EngineId::Wasmparser) {
                let Some(s) = results.startup.get(&(e, m.file.clone())) else {
                    continue;
                };
                let compile = match &s.compile {
                    Some(Ok(stats)) => compile_cell(stats, m.size),
                    Some(Err(_)) => "failed".into(),
                    None => "–".into(),
                };
                let inst = match &s.instantiate {
                    Some(Ok(stats)) => ms(stats.median),
                    Some(Err(_)) => "failed".into(),
                    None => "–".into(),
                };
                let _ = writeln!(o, "    {:<20} {compile:>24} / {inst}", e.name());
            }
        }
    }
    if options.sections.startup {
        summary_native_compile(o, options, results);
    }
    if options.sections.instantiate {
        summary_instantiate(o, options, results);
    }
    if options.sections.total {
        summary_totals(o, options, results);
    }
    if options.sections.program {
        summary_program(o, results);
    }
    if options.sections.hostcalls {
        let _ = writeln!(
            o,
            "\nhost calls, ns/call      host→wasm  wasm→host  wasm→wasm"
        );
        for &e in &options.engines {
            let Some(h) = results.host.get(&e) else {
                continue;
            };
            let cell = |v: Option<f64>| v.map(sig3).unwrap_or_else(|| "–".into());
            let _ = writeln!(
                o,
                "  {:<20} {:>10} {:>10} {:>10}",
                e.name(),
                cell(h.host_to_wasm),
                cell(h.wasm_to_host),
                cell(h.wasm_to_wasm)
            );
        }
    }
    if !results.problems.is_empty() {
        let _ = writeln!(o, "\nproblems:");
        for p in &results.problems {
            let _ = writeln!(o, "  - {}", p.replace("**", ""));
        }
    }
    out.push('\n');
    out
}

/// The native tier's execution-time line of the summary.
fn summary_native_tier(o: &mut String, options: &Options, results: &Results) {
    let native_tier = EngineId::KilnCranelift;
    if !options.engines.contains(&native_tier) {
        return;
    }
    if let Some((g, n)) = geomean(results, options, native_tier, EngineId::WasmtimeCranelift) {
        let _ = writeln!(
            o,
            "\n{native_tier} / wasmtime-cranelift, geometric mean over {n} kernels: {} (target ≤ {}: {})",
            times(g),
            times(EXECUTION_TARGET),
            verdict(g, EXECUTION_TARGET).replace("**", "")
        );
    }
}

/// The native tier's compile-time lines of the summary.
fn summary_native_compile(o: &mut String, options: &Options, results: &Results) {
    let native_tier = EngineId::KilnCranelift;
    if !options.engines.contains(&native_tier) {
        return;
    }
    let _ = writeln!(
        o,
        "\nModule::new time {native_tier} / wasmtime-cranelift (target ≤ {})",
        times(COMPILE_TARGET)
    );
    for m in results.modules.iter().filter(|m| m.skipped.is_none()) {
        let cell = compile_ratio(results, native_tier, EngineId::WasmtimeCranelift, &m.file)
            .map(|r| {
                format!(
                    "{} ({})",
                    times(r),
                    verdict(r, COMPILE_TARGET).replace("**", "")
                )
            })
            .unwrap_or_else(|| "–".into());
        let _ = writeln!(o, "  {:<24} {cell}", m.file);
    }
}

/// The fuel and epoch overhead lines of the summary.
fn summary_overhead(o: &mut String, options: &Options, results: &Results) {
    let _ = writeln!(
        o,
        "\nfuel/epoch overhead, geometric mean of time ratios against the engine without checks"
    );
    for v in interrupt_variants(options) {
        let cell = match variant_geomean(results, options, v) {
            Some((g, n)) if n == options.kernels.len() => times(g),
            Some((g, n)) => format!("{} ({n} kernels)", times(g)),
            None => "–".into(),
        };
        let _ = writeln!(o, "  {:<26} {cell}", v.name());
    }
}

/// The instantiation-throughput lines of the summary.
fn summary_instantiate(o: &mut String, options: &Options, results: &Results) {
    let engines = instantiate_engines(options);
    let measured: Vec<_> = results
        .instantiate_modules
        .iter()
        .filter(|m| m.skipped.is_none())
        .collect();
    if engines.is_empty() || measured.is_empty() {
        return;
    }
    let _ = write!(o, "\ninstances/s (µs each){:<11}", "");
    for &e in &engines {
        let _ = write!(o, " {:>20}", e.name());
    }
    let _ = writeln!(
        o,
        "{}",
        if engines.len() == 2 {
            "  kiln/wt time"
        } else {
            ""
        }
    );
    for m in measured {
        for mode in Mode::ALL {
            let _ = write!(o, "  {:<16}{:<14}", m.name, mode.name());
            for &e in &engines {
                let cell = match request_rate(results, e, &m.name, mode) {
                    Some(Ok(rate)) => format!(
                        "{} ({})",
                        per_second(rate.per_second()),
                        micros(rate.stats.median)
                    ),
                    Some(Err(_)) => "failed".into(),
                    None => "–".into(),
                };
                let _ = write!(o, " {cell:>20}");
            }
            if engines.len() == 2 {
                let ratio = instantiate_ratio(results, &m.name, mode)
                    .map(times)
                    .unwrap_or_else(|| "–".into());
                let _ = write!(o, "  {ratio:>12}");
            }
            o.push('\n');
        }
    }
}

/// Engine names narrow enough for a terminal table.
fn short(e: EngineId) -> &'static str {
    match e {
        EngineId::KilnEager => "kiln-e",
        EngineId::KilnCranelift => "kiln-cl",
        EngineId::KilnTiered => "kiln-tier",
        EngineId::WasmiEager => "wasmi-e",
        EngineId::WasmiLazy => "wasmi-l",
        EngineId::WasmtimeCranelift => "wt-clift",
        EngineId::WasmtimeWinch => "wt-winch",
        EngineId::WasmtimePulley => "wt-pulley",
        other => other.name(),
    }
}

/// The fuel and epoch variants that ran (not `kiln-tiered-cold`, which has
/// its own section).
fn interrupt_variants(options: &Options) -> Vec<EngineId> {
    options
        .variants
        .iter()
        .copied()
        .filter(|v| v.interrupts() != Interrupts::None)
        .collect()
}

/// Where a Kiln run ended up (`TierStats` after the run): functions with
/// native code, on-stack-replacement entries entered and compiled, calls
/// moved at a function's entry, and the time spent compiling.
fn moves_text(tier: &TierInfo) -> String {
    let mut text = format!(
        "{} native, OSR {} entered / {} compiled, {} moved, {} ms compiling",
        tier.native,
        tier.osr_entries,
        tier.osr_compiled,
        tier.moved_calls,
        ms(tier.compile),
    );
    if tier.fallbacks > 0 {
        let _ = write!(text, ", **{} fell back**", tier.fallbacks);
    }
    text
}

/// Whether a tiered run reached native code at all.
fn reached_native(tier: &TierInfo) -> bool {
    tier.native > 0 || tier.osr_entries > 0
}

/// A verdict cell: the ratio and met / not met.
fn target_cell(value: Option<f64>, target: f64) -> String {
    match value {
        Some(v) => format!("{} ({})", times(v), verdict(v, target)),
        None => "–".into(),
    }
}

/// The geometric mean of some ratios, or `None` when there are none.
fn geo_of(values: &[f64]) -> Option<f64> {
    (!values.is_empty())
        .then(|| (values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64).exp())
}

/// Steady-state kernel times of tiered execution, against the interpreter
/// and both native tiers, with where each kernel ran.
fn tiered_kernels(o: &mut String, options: &Options, results: &Results) {
    let tiered = EngineId::KilnTiered;
    if !options.engines.contains(&tiered) {
        return;
    }
    let (interp, native_tier, peer) = (
        EngineId::Kiln,
        EngineId::KilnCranelift,
        EngineId::WasmtimeCranelift,
    );
    let _ = writeln!(
        o,
        "\n### Tiered execution on the kernels (steady state)\n\n\
         `{tiered}` per kernel, measured like every engine above (the same instance, after one \
         warm-up call; the default budget, compilation on the background thread): its median time \
         in milliseconds and its time over `{interp}`'s, `{native_tier}`'s and `{peer}`'s. \
         *Where it ran* is the module's `TierStats` after the timed calls: functions with native \
         code; running calls moved into native code at a loop header (OSR entries entered) and \
         the OSR entries compiled (one per loop header whose budget ran out); calls moved at a \
         function's entry; the background thread's compile time. The *total* time of a fresh \
         module (its first call included) is in the total-time section below.\n"
    );
    table_head(
        o,
        &[
            "kernel".to_string(),
            format!("`{tiered}` ms"),
            format!("/ `{interp}`"),
            format!("/ `{native_tier}`"),
            format!("/ `{peer}`"),
            "where it ran".to_string(),
        ],
        1,
    );
    for k in &options.kernels {
        let tier = results.tiers.get(&(tiered, k.name.to_string()));
        table_row(
            o,
            &[
                format!("`{}`", k.name),
                kernel_cell(results, tiered, k.name),
                ratio_cell(ratio(results, tiered, interp, k.name)),
                ratio_cell(ratio(results, tiered, native_tier, k.name)),
                ratio_cell(ratio(results, tiered, peer, k.name)),
                tier.map(moves_text).unwrap_or_else(|| "–".into()),
            ],
        );
    }
    let geo = |b| {
        geomean(results, options, tiered, b)
            .map(|(g, _)| format!("**{}**", times(g)))
            .unwrap_or_else(|| "–".into())
    };
    table_row(
        o,
        &[
            "**geometric mean**".to_string(),
            String::new(),
            geo(interp),
            geo(native_tier),
            geo(peer),
            String::new(),
        ],
    );
}

/// The interpreter's counting overhead: `kiln-tiered-cold` against `kiln`.
fn counting_section(o: &mut String, options: &Options, results: &Results) {
    let (cold, interp) = (EngineId::KilnTieredCold, EngineId::Kiln);
    let _ = writeln!(
        o,
        "\n## Tiered execution: the interpreter's counting overhead\n\n\
         `{cold}` is `Strategy::Tiered` with `tier_up_budget(u64::MAX)`: the interpreter runs the \
         `TierUp`/`TierUpLoop` counting instructions at every function entry and loop header, but \
         the budget never runs out, so the compiler never runs. Its kernel times (measured like the \
         kernel table, in the same rounds) over `{interp}`'s (`Strategy::Interpreter`, which emits \
         no counting instructions) are what counting costs the code that has not moved yet. The \
         target: at most {} per kernel and as a geometric mean. The ratio of two separate runs \
         carries the noise of both (see the fuel and epoch table for the size of that noise); the \
         ratio of the fastest samples is given too. *Native functions* confirms that nothing was \
         compiled.\n",
        times(COUNTING_TARGET)
    );
    if !options.engines.contains(&interp) {
        let _ = writeln!(o, "No ratios: `{interp}` was not in `--engines`.");
        return;
    }
    table_head(
        o,
        &[
            "kernel".to_string(),
            format!("`{interp}` ms"),
            format!("`{cold}` ms"),
            format!("`{cold}` / `{interp}` (median)"),
            "(fastest)".to_string(),
            "native functions".to_string(),
        ],
        1,
    );
    let fastest = |k: &'static str| -> Option<f64> {
        let a = valid(results, cold, k)?.stats.min.as_secs_f64();
        let b = valid(results, interp, k)?.stats.min.as_secs_f64();
        Some(a / b)
    };
    let mut met = 0;
    let mut measured = 0;
    for k in &options.kernels {
        let r = ratio(results, cold, interp, k.name);
        if let Some(r) = r {
            measured += 1;
            met += usize::from(r <= COUNTING_TARGET);
        }
        table_row(
            o,
            &[
                format!("`{}`", k.name),
                kernel_cell(results, interp, k.name),
                kernel_cell(results, cold, k.name),
                target_cell(r, COUNTING_TARGET),
                ratio_cell(fastest(k.name)),
                results
                    .tiers
                    .get(&(cold, k.name.to_string()))
                    .map(|t| t.native.to_string())
                    .unwrap_or_else(|| "–".into()),
            ],
        );
    }
    let geo = geomean(results, options, cold, interp).map(|(g, _)| g);
    let fastest_geo = geo_of(
        &options
            .kernels
            .iter()
            .filter_map(|k| fastest(k.name))
            .collect::<Vec<_>>(),
    );
    table_row(
        o,
        &[
            "**geometric mean**".to_string(),
            String::new(),
            String::new(),
            format!("**{}**", target_cell(geo, COUNTING_TARGET)),
            ratio_cell(fastest_geo),
            String::new(),
        ],
    );
    let _ = writeln!(
        o,
        "\nCounting-overhead target, `{cold}` ≤ {} `{interp}`: geometric mean {}; per kernel {} \
         ({met} of {measured} kernels within it).",
        times(COUNTING_TARGET),
        match geo {
            Some(g) => format!("{} ({})", verdict(g, COUNTING_TARGET), times(g)),
            None => "not measured".into(),
        },
        if measured > 0 && met == measured {
            "met"
        } else {
            "**not met**"
        },
    );
}

fn summary_counting(o: &mut String, options: &Options, results: &Results) {
    let (cold, interp) = (EngineId::KilnTieredCold, EngineId::Kiln);
    if !options.variants.contains(&cold) {
        return;
    }
    if let Some((g, n)) = geomean(results, options, cold, interp) {
        let worst = options
            .kernels
            .iter()
            .filter_map(|k| Some((k.name, ratio(results, cold, interp, k.name)?)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let _ = writeln!(
            o,
            "\n{cold} / {interp} (counting overhead), geometric mean over {n} kernels: {} (target ≤ {}: {}){}",
            times(g),
            times(COUNTING_TARGET),
            verdict(g, COUNTING_TARGET).replace("**", ""),
            worst
                .map(|(k, r)| format!("; worst {k} {}", times(r)))
                .unwrap_or_default()
        );
    }
}

/// A kernel's median total time on `engine`, seconds, if it ran and was
/// right.
fn total_time(
    results: &Results,
    engine: EngineId,
    kernel: &'static str,
    length: RunLength,
) -> Option<f64> {
    match results.totals.get(&(engine, kernel, length))? {
        Ok(run) => Some(run.stats.median.as_secs_f64()),
        Err(_) => None,
    }
}

fn total_cell(
    results: &Results,
    engine: EngineId,
    kernel: &'static str,
    length: RunLength,
) -> String {
    match results.totals.get(&(engine, kernel, length)) {
        None => "–".into(),
        Some(Err(e)) if e.starts_with("wrong result") => "**wrong result**".into(),
        Some(Err(_)) => "failed".into(),
        Some(Ok(run)) => ms(run.stats.median),
    }
}

/// The better of Kiln's interpreter and native tier: (time, which).
fn best_kiln(time: impl Fn(EngineId) -> Option<f64>) -> Option<(f64, EngineId)> {
    [EngineId::Kiln, EngineId::KilnCranelift]
        .into_iter()
        .filter_map(|e| Some((time(e)?, e)))
        .min_by(|a, b| a.0.total_cmp(&b.0))
}

/// The per-length ratios of `kiln-tiered` against the better Kiln tier and
/// against wasmtime-cranelift, over the kernels where all ran.
struct LengthRatios {
    best: Vec<f64>,
    wasmtime: Vec<f64>,
}

fn length_ratios(options: &Options, results: &Results, length: RunLength) -> LengthRatios {
    let tiered = EngineId::KilnTiered;
    let mut out = LengthRatios {
        best: Vec::new(),
        wasmtime: Vec::new(),
    };
    for k in &options.kernels {
        let time = |e| total_time(results, e, k.name, length);
        let Some(t) = time(tiered) else { continue };
        if let Some((b, _)) = best_kiln(time) {
            out.best.push(t / b);
        }
        if let Some(w) = time(EngineId::WasmtimeCranelift) {
            out.wasmtime.push(t / w);
        }
    }
    out
}

/// "met (N of M within it)" for a list of ratios against a target: met
/// only when every one is within it.
fn count_met(values: &[f64], target: f64) -> String {
    if values.is_empty() {
        return "not measured".into();
    }
    let met = values.iter().filter(|&&v| v <= target).count();
    format!(
        "{} ({met} of {} within it)",
        if met == values.len() && !values.is_empty() {
            "met"
        } else {
            "**not met**"
        },
        values.len()
    )
}

fn total_sections(o: &mut String, options: &Options, results: &Results) {
    let engines: Vec<EngineId> = options
        .engines
        .iter()
        .copied()
        .filter(|e| e.measures_totals())
        .collect();
    let tiered = EngineId::KilnTiered;
    let _ = writeln!(
        o,
        "\n## Total time: short and long runs\n\n\
         What a program that loads a module and runs it once waits for: a fresh `Module::new`, \
         instantiation and one call of `run(n)`, timed together (the module is dropped between \
         samples, untimed, followed by a {} ms pause so that nothing compiling in the background for \
         the previous sample runs during the next). Each engine keeps one `Engine` for its samples, \
         as an application would. wasmtime's and `kiln-cranelift`'s compile times are included, and \
         `kiln-tiered` pays for whatever its background thread compiles while the call runs. \
         Measured in {} rounds like the kernels (every engine once per round, rotated). Every result \
         is checked against native code.\n\n\
         * **short**: each kernel's short `n`, where Kiln's interpreter takes about 1–5 ms in all (the \
         `kiln` column shows what it took). The kernels are small modules (one to five functions), so \
         `kiln-cranelift` compiles them in well under a millisecond and can win even here;\n\
         * **long**: the kernel table's `n`.\n\n\
         Targets for `{tiered}`: its total time at most {} the better of `kiln` and \
         `kiln-cranelift` (*best Kiln*) at every run length, and on long runs at most {} \
         `wasmtime-cranelift`'s. *Where it ran*: `TierStats` after the last sample.\n",
        crate::child::SETTLE.as_millis(),
        if options.quick {
            1
        } else {
            crate::KERNEL_ROUNDS
        },
        times(TIERED_TARGET),
        times(TIERED_WASMTIME_TARGET),
    );
    if engines.is_empty() {
        o.push_str("No engine of this section was selected.\n");
        return;
    }
    for length in RunLength::ALL {
        let _ = writeln!(
            o,
            "\n### {} runs\n\nMedian total time in milliseconds.\n",
            match length {
                RunLength::Short => "Short",
                RunLength::Long => "Long",
            }
        );
        let mut head = strings(["kernel", "n"]);
        head.extend(engines.iter().map(|e| format!("`{e}`")));
        head.push("best Kiln".into());
        head.push(format!("`{tiered}` / best Kiln"));
        head.push(format!("`{tiered}` / `wasmtime-cranelift`"));
        head.push("where it ran".into());
        table_head(o, &head, 1);
        for k in &options.kernels {
            let time = |e| total_time(results, e, k.name, length);
            let mut row = vec![format!("`{}`", k.name), length.n(k).to_string()];
            row.extend(
                engines
                    .iter()
                    .map(|&e| total_cell(results, e, k.name, length)),
            );
            let best = best_kiln(time);
            row.push(
                best.map(|(_, e)| format!("`{e}`"))
                    .unwrap_or_else(|| "–".into()),
            );
            row.push(target_cell(
                time(tiered).zip(best).map(|(t, (b, _))| t / b),
                TIERED_TARGET,
            ));
            let vs_wasmtime = time(tiered)
                .zip(time(EngineId::WasmtimeCranelift))
                .map(|(t, w)| t / w);
            row.push(match length {
                RunLength::Long => target_cell(vs_wasmtime, TIERED_WASMTIME_TARGET),
                RunLength::Short => ratio_cell(vs_wasmtime),
            });
            row.push(
                results
                    .total_tiers
                    .get(&(tiered, crate::total_key(k.name, length)))
                    .map(moves_text)
                    .unwrap_or_else(|| "–".into()),
            );
            table_row(o, &row);
        }
        let ratios = length_ratios(options, results, length);
        let mut row = vec!["**geometric mean**".to_string(), String::new()];
        row.extend(engines.iter().map(|_| String::new()));
        row.push(String::new());
        row.push(format!(
            "**{}**",
            geo_of(&ratios.best)
                .map(times)
                .unwrap_or_else(|| "–".into())
        ));
        row.push(format!(
            "**{}**",
            geo_of(&ratios.wasmtime)
                .map(times)
                .unwrap_or_else(|| "–".into())
        ));
        row.push(String::new());
        table_row(o, &row);
        let _ = writeln!(
            o,
            "\n{} runs, `{tiered}` ≤ {} best Kiln on every kernel: {}.{}",
            match length {
                RunLength::Short => "Short",
                RunLength::Long => "Long",
            },
            times(TIERED_TARGET),
            count_met(&ratios.best, TIERED_TARGET),
            match length {
                RunLength::Long => format!(
                    " `{tiered}` ≤ {} `wasmtime-cranelift` on every kernel: {}.",
                    times(TIERED_WASMTIME_TARGET),
                    count_met(&ratios.wasmtime, TIERED_WASMTIME_TARGET)
                ),
                RunLength::Short => String::new(),
            }
        );
    }

    // The start-up modules.
    let measured: Vec<_> = results
        .modules
        .iter()
        .filter(|m| m.skipped.is_none())
        .collect();
    if measured.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "\n### Start-up modules: `Module::new` + instantiation + first call\n\n\
         The large modules of the start-up section, each timed as a fresh `Module::new`, \
         instantiation with stub imports (functions that trap) and one call of an export that \
         reaches no import (none of these modules can run its real work without its JavaScript or \
         Go host, so the call is a small one: what an embedder calls first to pass data in). \
         Times in milliseconds ({}); the ratios as above.\n",
        sampling_text(crate::Policies::new(options.quick).total_modules),
    );
    let mut head = strings(["module", "call"]);
    head.extend(engines.iter().map(|e| format!("`{e}`")));
    head.push("best Kiln".into());
    head.push(format!("`{tiered}` / best Kiln"));
    head.push(format!("`{tiered}` / `wasmtime-cranelift`"));
    head.push("where it ran".into());
    table_head(o, &head, 2);
    let mut best_ratios = Vec::new();
    for m in &measured {
        let time = |e: EngineId| match results.module_totals.get(&(e, m.file.clone())) {
            Some(Ok(t)) => Some(t.stats.median.as_secs_f64()),
            _ => None,
        };
        let call = crate::module_call(&m.file)
            .map(|(_, _, what)| what.to_string())
            .unwrap_or_else(|| "none (instantiation only)".into());
        let mut row = vec![format!("`{}`", m.file), call];
        row.extend(engines.iter().map(
            |&e| match results.module_totals.get(&(e, m.file.clone())) {
                None => "–".into(),
                Some(Err(_)) => "failed".into(),
                Some(Ok(t)) if t.called => ms(t.stats.median),
                Some(Ok(t)) => format!("{} (no call)", ms(t.stats.median)),
            },
        ));
        let best = best_kiln(time);
        row.push(
            best.map(|(_, e)| format!("`{e}`"))
                .unwrap_or_else(|| "–".into()),
        );
        let vs_best = time(tiered).zip(best).map(|(t, (b, _))| t / b);
        best_ratios.extend(vs_best);
        row.push(target_cell(vs_best, TIERED_TARGET));
        row.push(ratio_cell(
            time(tiered)
                .zip(time(EngineId::WasmtimeCranelift))
                .map(|(t, w)| t / w),
        ));
        row.push(
            results
                .total_tiers
                .get(&(tiered, m.file.clone()))
                .map(moves_text)
                .unwrap_or_else(|| "–".into()),
        );
        table_row(o, &row);
    }
    let _ = writeln!(
        o,
        "\nStart-up + first call, `{tiered}` ≤ {} best Kiln on every module: {}.",
        times(TIERED_TARGET),
        count_met(&best_ratios, TIERED_TARGET)
    );
}

fn summary_totals(o: &mut String, options: &Options, results: &Results) {
    if !options.engines.contains(&EngineId::KilnTiered) {
        return;
    }
    let _ = writeln!(
        o,
        "\ntotal time (Module::new + instantiate + run(n)), kiln-tiered: geometric mean of ratios"
    );
    for length in RunLength::ALL {
        let r = length_ratios(options, results, length);
        let _ = writeln!(
            o,
            "  {:<6} / best Kiln {:>7} (≤ {} everywhere: {})  / wasmtime-cranelift {:>7}{}",
            length.name(),
            geo_of(&r.best).map(times).unwrap_or_else(|| "–".into()),
            times(TIERED_TARGET),
            count_met(&r.best, TIERED_TARGET).replace("**", ""),
            geo_of(&r.wasmtime).map(times).unwrap_or_else(|| "–".into()),
            match length {
                RunLength::Long => format!(
                    " (≤ {} everywhere: {})",
                    times(TIERED_WASMTIME_TARGET),
                    count_met(&r.wasmtime, TIERED_WASMTIME_TARGET).replace("**", "")
                ),
                RunLength::Short => String::new(),
            }
        );
    }
}

fn program_section(o: &mut String, options: &Options, results: &Results) {
    let Some(info) = &results.program_info else {
        return;
    };
    let tiered = EngineId::KilnTiered;
    let _ = writeln!(
        o,
        "\n## A real program: one long call\n\n\
         `{}` ({}, {} MB), a WASI command built with wasi-libc, fetched by \
         `bench/fetch-modules.sh` into `bench/programs/` (not committed). Workload \
         (`bench/programs/{}`, committed): {}. Run as `{}` with `bench/programs/` preopened \
         read-only as `/`, stdout and stderr captured, through each runtime's own WASI preview 1 \
         (`kiln-wasi`; `wasmtime-wasi` {} `p1`); nearly all of the work is one call, `_start`. \
         Each sample is the whole run in one process: `Module::new`, WASI set-up, instantiation and \
         `_start` to its `proc_exit` ({}). *Where it ran*: Kiln's `TierStats` after the last run.\n",
        info.file,
        info.source
            .as_deref()
            .unwrap_or("source unknown: sources.tsv missing"),
        sig3(info.size as f64 / 1e6),
        crate::programs::WORKLOAD,
        crate::programs::WORKLOAD_TEXT,
        info.args.join(" "),
        env!("KILN_BENCH_WASMTIME_VERSION"),
        sampling_text(crate::Policies::new(options.quick).program),
    );
    if let Some(why) = &info.skipped {
        let _ = writeln!(o, "Not measured: {why}.");
        return;
    }
    let time = |e| match results.program.get(&e) {
        Some(Ok(run)) if run.consistent && run.stdout == info.expected_stdout => {
            Some(run.total.median.as_secs_f64())
        }
        _ => None,
    };
    let peer = EngineId::WasmtimeCranelift;
    table_head(
        o,
        &[
            "engine".to_string(),
            "total s".to_string(),
            "of which `Module::new` s".to_string(),
            format!("/ `{peer}`"),
            "exit, last line of stdout".to_string(),
            "where it ran".to_string(),
        ],
        1,
    );
    for e in options
        .engines
        .iter()
        .copied()
        .filter(|e| e.measures_totals())
    {
        let row = match results.program.get(&e) {
            None => continue,
            Some(Err(err)) => vec![
                format!("`{e}`"),
                "failed".into(),
                "–".into(),
                "–".into(),
                err.clone(),
                "–".into(),
            ],
            Some(Ok(run)) => vec![
                format!("`{e}`"),
                sig3(run.total.median.as_secs_f64()),
                sig3(run.compile.as_secs_f64()),
                ratio_cell(time(e).zip(time(peer)).map(|(a, b)| a / b)),
                format!(
                    "{}, `{}`{}",
                    run.exit,
                    run.stdout,
                    if run.consistent {
                        ""
                    } else {
                        " (**differs between runs**)"
                    }
                ),
                results
                    .total_tiers
                    .get(&(e, "program".into()))
                    .map(|t| format!("{}; {} code", moves_text(t), size_text(t.code_bytes as u64)))
                    .unwrap_or_else(|| "–".into()),
            ],
        };
        table_row(o, &row);
    }
    let best = best_kiln(time);
    let mut lines = Vec::new();
    if let (Some(t), Some((b, which))) = (time(tiered), best) {
        lines.push(format!(
            "`{tiered}` / best Kiln (`{which}`): {}",
            target_cell(Some(t / b), TIERED_TARGET)
        ));
    }
    if let (Some(t), Some(w)) = (time(tiered), time(peer)) {
        lines.push(format!(
            "`{tiered}` / `{peer}`: {}",
            target_cell(Some(t / w), TIERED_WASMTIME_TARGET)
        ));
    }
    if let Some(t) = results.total_tiers.get(&(tiered, "program".into())) {
        lines.push(if reached_native(t) {
            format!(
                "`{tiered}` finished in native code ({} on-stack replacement{} into compiled loops)",
                t.osr_entries,
                if t.osr_entries == 1 { "" } else { "s" }
            )
        } else {
            format!("**`{tiered}` never reached native code**")
        });
    }
    if !lines.is_empty() {
        let _ = writeln!(o, "\n{}.", lines.join("; "));
    }
}

fn summary_program(o: &mut String, results: &Results) {
    let Some(info) = &results.program_info else {
        return;
    };
    if info.skipped.is_some() {
        return;
    }
    let _ = writeln!(
        o,
        "\nreal program: {} {} (total s, Module::new s, stdout)",
        info.file,
        info.args[1..].join(" ")
    );
    for e in EngineId::ALL {
        let Some(run) = results.program.get(&e) else {
            continue;
        };
        let cell = match run {
            Ok(run) => format!(
                "{:>8} {:>8}  {}{}",
                sig3(run.total.median.as_secs_f64()),
                sig3(run.compile.as_secs_f64()),
                run.stdout,
                results
                    .total_tiers
                    .get(&(e, "program".into()))
                    .map(|t| format!("  [{}]", moves_text(t).replace("**", "")))
                    .unwrap_or_default()
            ),
            Err(err) => format!("failed: {err}"),
        };
        let _ = writeln!(o, "  {:<20} {cell}", e.name());
    }
}
