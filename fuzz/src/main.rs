//! `kiln-fuzz`: runs Kiln's differential tester (interpreter vs native
//! tier, see the library's docs) over a range of seeds, or one seed in
//! detail.
//!
//! ```text
//! cargo run --release -p kiln-fuzz -- --seeds 0..100000      # summary; exit 1 on any divergence
//! cargo run --release -p kiln-fuzz -- --seed 1234 --trace    # every call of one seed
//! cargo run --release -p kiln-fuzz --features wat -- --seed 1234 --dump m.wasm --wat
//! cargo run --release -p kiln-fuzz --features wat -- --seed 1234 --reduce   # a reduced module (text)
//! ```
//!
//! `--wat` and `--reduce` of a generated module print it as text, which
//! needs the `wat` feature (kept out of default builds: its printer turns
//! on a wasmparser feature that would rebuild every workspace crate).
//!
//! Long runs: the seeds are split across `--jobs` threads (default: every
//! core), a progress line goes to stderr every 1,000 seeds, and the summary
//! lists each divergence with its seed. Ranges are deterministic, so a long
//! run can be split (`--seeds 0..50000`, `--seeds 50000..100000`) and the
//! ranges run separately. `--ci` uses the CI test's options.

use kiln_fuzz::{Options, Tiers, generate, reduce, run_seeds};
use std::ops::Range;
use std::process::ExitCode;

const USAGE: &str = "\
usage: kiln-fuzz [--seeds A..B | --seed N [--trace] [--dump FILE] [--wat] [--reduce]] [OPTIONS]

  --seeds A..B        run seeds A (inclusive) to B (exclusive); default 0..1000
  --seed N            run one seed and print its report
  --trace             with --seed: print every instantiation and call of both tiers
  --dump FILE         with --seed: write the module binary to FILE
  --wat               with --seed: print the module as WebAssembly text (`--features wat`)
  --module FILE       with --seed: run FILE (binary or text) instead of the seed's module,
                      with the seed's engines and arguments (for reduced modules)
  --reduce            with --seed: delete lines of the module's text while it still
                      diverges (run as the seed runs it), and print what is left
                      (`--features wat`, unless --module gives a text module)
  --jobs N            worker threads (default: available cores)
  --ci                the CI test's options (fewer functions and less fuel, more calls)
  --fuel N            fuel per instantiation and per call
  --input-len N       most wasm-smith input bytes per module
  --max-funcs N       most functions per module
  --max-instructions N  wasm-smith's max_instructions per function
  --calls N           calls per exported function
  --canonicalize-nans have wasm-smith canonicalize NaNs (finds divergences other than NaN bits)
  --quiet             no progress lines
";

struct Args {
    seeds: Range<u64>,
    seed: Option<u64>,
    trace: bool,
    dump: Option<String>,
    wat: bool,
    reduce: bool,
    module: Option<String>,
    jobs: usize,
    quiet: bool,
    opts: Options,
}

fn parse_range(text: &str) -> Result<Range<u64>, String> {
    let (a, b) = text
        .split_once("..")
        .ok_or_else(|| format!("expected A..B, got {text:?}"))?;
    let a = a.parse().map_err(|e| format!("{a:?}: {e}"))?;
    let b = b.parse().map_err(|e| format!("{b:?}: {e}"))?;
    Ok(a..b)
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        seeds: 0..1000,
        seed: None,
        trace: false,
        dump: None,
        wat: false,
        reduce: false,
        module: None,
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        quiet: false,
        opts: Options::default(),
    };
    // `--ci` first, so other options override its values.
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.iter().any(|a| a == "--ci") {
        args.opts = Options::ci();
    }
    let mut it = argv.into_iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        fn num<T: std::str::FromStr>(name: &str, text: String) -> Result<T, String>
        where
            T::Err: std::fmt::Display,
        {
            text.parse().map_err(|e| format!("{name} {text:?}: {e}"))
        }
        match arg.as_str() {
            "--seeds" => args.seeds = parse_range(&value("--seeds")?)?,
            "--seed" => args.seed = Some(num("--seed", value("--seed")?)?),
            "--trace" => args.trace = true,
            "--dump" => args.dump = Some(value("--dump")?),
            "--wat" => args.wat = true,
            "--reduce" => args.reduce = true,
            "--module" => args.module = Some(value("--module")?),
            "--jobs" => args.jobs = num("--jobs", value("--jobs")?)?,
            "--ci" => {}
            "--quiet" => args.quiet = true,
            "--fuel" => args.opts.fuel = num("--fuel", value("--fuel")?)?,
            "--input-len" => args.opts.input_len = num("--input-len", value("--input-len")?)?,
            "--max-funcs" => args.opts.max_funcs = num("--max-funcs", value("--max-funcs")?)?,
            "--max-instructions" => {
                args.opts.max_instructions =
                    num("--max-instructions", value("--max-instructions")?)?
            }
            "--calls" => args.opts.calls_per_func = num("--calls", value("--calls")?)?,
            "--canonicalize-nans" => args.opts.canonicalize_nans = true,
            "--help" | "-h" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if args.seed.is_none()
        && (args.trace || args.dump.is_some() || args.wat || args.reduce || args.module.is_some())
    {
        return Err("--trace, --dump, --wat, --reduce and --module need --seed N".to_string());
    }
    Ok(args)
}

fn one_seed(seed: u64, args: &Args) -> Result<bool, String> {
    let bytes = match &args.module {
        Some(path) => std::fs::read(path).map_err(|e| format!("{path}: {e}"))?,
        None => generate(seed, &args.opts).map_err(|e| format!("wasm-smith: {e}"))?,
    };
    if let Some(path) = &args.dump {
        std::fs::write(path, &bytes).map_err(|e| format!("{path}: {e}"))?;
        eprintln!("wrote {path} ({} bytes)", bytes.len());
    }
    if args.wat && args.module.is_none() {
        println!("{}", kiln_fuzz::to_text(&bytes)?);
    }
    let tiers = Tiers::new(&args.opts).map_err(|e| format!("{e:#}"))?;
    // Run on a thread with a large stack, as `run_seeds` does.
    let report = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn_scoped(scope, || {
                kiln_fuzz::run_module(seed, &bytes, &tiers, &args.opts, args.trace)
            })
            .expect("spawning a worker thread")
            .join()
            .expect("run_seed catches panics")
    });
    println!(
        "seed {seed} [{}]: {} bytes, {:?}, {} instances, {} calls, traps {:?}, {} inconclusive, {} native fallbacks",
        report.tiers,
        report.module_bytes,
        report.fate,
        report.instances,
        report.calls,
        report.traps,
        report.inconclusive,
        report.native_fallbacks
    );
    match &report.divergence {
        Some(d) => {
            println!("DIVERGENCE: {d}");
            if args.reduce {
                let text = match std::str::from_utf8(&bytes) {
                    Ok(text) if !bytes.starts_with(b"\0asm") => text.to_string(),
                    _ => kiln_fuzz::to_text(&bytes)?,
                };
                let reduced = std::thread::scope(|scope| {
                    std::thread::Builder::new()
                        .stack_size(64 << 20)
                        .spawn_scoped(scope, || reduce(seed, &text, &tiers, &args.opts, 50_000))
                        .expect("spawning a worker thread")
                        .join()
                        .expect("the reducer catches panics")
                });
                if let Some(reduced) = reduced {
                    let report =
                        kiln_fuzz::run_module(seed, reduced.as_bytes(), &tiers, &args.opts, false);
                    println!("reduced module:\n{reduced}");
                    if let Some(d) = report.divergence {
                        println!("its divergence: {d}");
                    }
                }
            }
            Ok(false)
        }
        None => {
            println!("no divergence");
            Ok(true)
        }
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("kiln-fuzz: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Some(seed) = args.seed {
        return match one_seed(seed, &args) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(msg) => {
                eprintln!("kiln-fuzz: {msg}");
                ExitCode::from(2)
            }
        };
    }
    let summary = match run_seeds(args.seeds.clone(), &args.opts, args.jobs, !args.quiet) {
        Ok(summary) => summary,
        Err(err) => {
            eprintln!("kiln-fuzz: {err:#}");
            return ExitCode::from(2);
        }
    };
    println!(
        "kiln-fuzz: seeds {}..{}, {} jobs, {:?}",
        args.seeds.start, args.seeds.end, args.jobs, args.opts
    );
    print!("{summary}");
    if summary.divergences.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
