//! `kiln run`: load a module, give it WASI, run it, report the outcome.
//!
//! Every module is linked against WASI preview 1 and, as wasmtime's CLI
//! does, the older `wasi_unstable` (a module that imports neither is
//! unaffected; `-S cli=n` leaves both out, `-S preview0=n` the older one). The guest inherits
//! stdin, stdout and stderr, receives FILE's name (or `--argv0`) and the
//! trailing arguments as `argv`, only the environment variables named by
//! `--env` (all of the host's with `-S inherit-env`), and only the
//! directories named by `--dir` (read-write). The process exits with the
//! guest's `proc_exit` code, 0 when `_start` returns, 134 after a trap and
//! 1 after any other error (see `report.rs`).

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use clap::Args;
use kiln::{
    Engine, Extern, Func, Instance, Linker, Module, Store, StoreLimits, Trap, Val, ValType,
};
use kiln_wasi::{DirPerms, FilePerms, I32Exit, WasiCtx, WasiCtxBuilder};

use crate::engine::EngineSettings;
use crate::options::{self, Settings, Wasi, Wasm};
use crate::report;

/// The options of `kiln run` (and of `kiln` without a subcommand).
#[derive(Args, Debug)]
pub struct RunOptions {
    #[command(flatten)]
    pub engine: crate::EngineOptions,
    /// WASI options (`cli`, `inherit-env`, ...); `-S help` lists them.
    #[arg(short = 'S', long = "wasi", value_name = "KEY[=VAL[,..]]")]
    pub wasi: Vec<Settings<Wasi>>,
    /// Give the program the host directory HOST, read-write, under the
    /// name GUEST (default: HOST as written). Repeatable.
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    pub dirs: Vec<String>,
    /// Set an environment variable for the program; `NAME` alone passes
    /// the host's value. Repeatable.
    #[arg(long = "env", value_name = "NAME[=VAL]")]
    pub envs: Vec<String>,
    /// Call this exported function instead of `_start` and print its
    /// results.
    #[arg(long, value_name = "NAME")]
    pub invoke: Option<String>,
    /// Instantiate the module at PATH first and make its exports
    /// importable under module name NAME. Repeatable.
    #[arg(long = "preload", value_name = "NAME=PATH")]
    pub preloads: Vec<String>,
    /// Run with N units of fuel (one per instruction, see
    /// `Config::consume_fuel`); running out traps with "all fuel consumed".
    /// The same as `-W fuel=N`.
    #[arg(long, value_name = "N")]
    pub fuel: Option<u64>,
    /// The program's `argv[0]` (default: FILE's name, without its
    /// directories).
    #[arg(long, value_name = "NAME")]
    pub argv0: Option<String>,
    /// Accept a module precompiled by `kiln compile` (a `.cwasm` file). Its
    /// contents are trusted (see `Module::deserialize`): only pass files
    /// Kiln wrote.
    #[arg(long)]
    pub allow_precompiled: bool,
    /// FILE: the module (a `.wasm` binary, `.wat` text, or with
    /// `--allow-precompiled` a `.cwasm` file); ARGS: everything after it,
    /// the program's arguments (or `--invoke`'s parameters).
    #[arg(
        value_name = "FILE> [ARGS",
        required = true,
        trailing_var_arg = true,
        num_args = 1..
    )]
    pub module_and_args: Vec<OsString>,
}

/// The store's data: the WASI context and the store's limits.
struct Host {
    wasi: WasiCtx,
    limits: StoreLimits,
}

/// Runs `kiln run` and turns the outcome into the process's exit status.
pub fn main(mut options: RunOptions) -> ExitCode {
    let items = std::mem::take(&mut options.module_and_args);
    let (file, args) = match crate::split_module_and_args(items, &mut options.invoke) {
        Ok(split) => split,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match run(&options, &file, &args) {
        Ok(results) => {
            for result in results {
                println!("{result}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => match e.downcast_ref::<I32Exit>() {
            Some(&I32Exit(code)) => {
                use std::io::Write;
                let _ = std::io::stdout().flush();
                // The OS keeps the low 8 bits, as for a native `exit(code)`.
                std::process::exit(code)
            }
            None => {
                eprint!("{}", report::error_report(&e));
                report::status_of(&e)
            }
        },
    }
}

/// Reads a `.wasm` or `.wat` file and compiles it, or with
/// `allow_precompiled` loads a `.cwasm` file `kiln compile` wrote.
fn load_module(engine: &Engine, path: &Path, allow_precompiled: bool) -> anyhow::Result<Module> {
    let bytes =
        std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))?;
    if kiln::Engine::detect_precompiled(&bytes).is_some() {
        if !allow_precompiled {
            bail!(
                "{} is a precompiled module: running one needs `--allow-precompiled` \
                 (its contents are trusted, not validated)",
                path.display()
            );
        }
        // SAFETY: the user vouched for the file with `--allow-precompiled`;
        // `deserialize` still refuses files written by another Kiln or for
        // another configuration.
        return unsafe { Module::deserialize(engine, &bytes) }
            .with_context(|| format!("failed to load {}", path.display()));
    }
    // `wat::parse_bytes` passes binaries through unchanged; a text error
    // points at the file, line and column.
    let binary = wat::parse_bytes(&bytes).map_err(|mut e| {
        e.set_path(path);
        anyhow::Error::new(e).context(format!("failed to parse {}", path.display()))
    })?;
    Module::new(engine, &binary).with_context(|| format!("failed to compile {}", path.display()))
}

/// The program's `argv[0]`: `--argv0`, or FILE's last component (as
/// wasmtime, so that the host's directories do not leak to the guest).
fn argv0(options: &RunOptions, file: &Path) -> String {
    match &options.argv0 {
        Some(name) => name.clone(),
        None => file
            .file_name()
            .unwrap_or(file.as_os_str())
            .to_string_lossy()
            .into_owned(),
    }
}

/// Builds the guest's WASI context from the options.
fn wasi_context(
    options: &RunOptions,
    wasi: &Wasi,
    file: &Path,
    args: &[String],
) -> anyhow::Result<WasiCtx> {
    let mut builder = WasiCtxBuilder::new();
    builder.inherit_stdio();
    builder.arg(argv0(options, file));
    builder.args(args);
    if wasi.inherit_env == Some(true) {
        builder.inherit_env();
    }
    for var in &options.envs {
        match var.split_once('=') {
            Some((name, value)) => {
                builder.env(name, value);
            }
            None => {
                if let Ok(value) = std::env::var(var) {
                    builder.env(var, value);
                }
            }
        }
    }
    for dir in &options.dirs {
        let (host, guest) = dir.split_once("::").unwrap_or((dir, dir));
        builder
            .preopened_dir(host, guest, DirPerms::all(), FilePerms::all())
            .with_context(|| format!("--dir {dir}"))?;
    }
    Ok(builder.build())
}

/// The engine settings with `--fuel` folded into `-W fuel=`.
fn engine_settings(options: &RunOptions) -> anyhow::Result<EngineSettings> {
    let mut settings = options.engine.resolve()?;
    match (options.fuel, settings.wasm.fuel) {
        (Some(flag), Some(key)) if flag != key => {
            bail!("--fuel {flag} and -W fuel={key} disagree: give one")
        }
        (Some(flag), _) => settings.wasm.fuel = Some(flag),
        _ => {}
    }
    Ok(settings)
}

/// Runs the module as the options say and returns the formatted results
/// of the called function (none for a WASI command).
fn run(options: &RunOptions, file: &Path, args: &[OsString]) -> anyhow::Result<Vec<String>> {
    let args = args
        .iter()
        .map(|a| {
            a.to_str()
                .map(str::to_string)
                .ok_or_else(|| anyhow!("argument {a:?} is not UTF-8"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let settings = engine_settings(options)?;
    let wasi: Wasi = options::resolve(&options.wasi)?;
    let engine = Engine::new(&settings.config()?)?;
    let mut linker: Linker<Host> = Linker::new(&engine);
    if wasi.cli() {
        kiln_wasi::add_to_linker(&mut linker, |host: &mut Host| &mut host.wasi)?;
    }
    if wasi.preview0() {
        kiln_wasi::add_wasi_unstable_to_linker(&mut linker, |host: &mut Host| &mut host.wasi)?;
    }
    let host = Host {
        wasi: wasi_context(options, &wasi, file, &args)?,
        limits: settings.wasm.store_limits(),
    };
    let mut store = Store::new(&engine, host);
    let w = &settings.wasm;
    if w.max_memory_size.is_some()
        || w.max_table_elements.is_some()
        || w.max_instances.is_some()
        || w.max_tables.is_some()
        || w.max_memories.is_some()
        || w.trap_on_grow_failure.is_some()
    {
        store.limiter(|host| &mut host.limits);
    }
    if let Some(fuel) = w.fuel {
        store.set_fuel(fuel)?;
    }

    // Compile everything first, so that `timeout` bounds running only.
    let mut preloads = Vec::new();
    for preload in &options.preloads {
        let (name, path) = preload
            .split_once('=')
            .ok_or_else(|| anyhow!("--preload expects NAME=PATH, got `{preload}`"))?;
        let module = load_module(&engine, Path::new(path), options.allow_precompiled)?;
        preloads.push((name, path, module));
    }
    let modules = Modules {
        preloads,
        main: load_module(&engine, file, options.allow_precompiled)?,
    };

    if let Some(timeout) = w.timeout {
        start_timeout(&mut store, timeout);
    } else if w.epoch_interruption == Some(true) {
        // Nothing advances the epoch without `timeout`: never interrupt.
        store.set_epoch_deadline(u64::MAX);
    }
    let result = instantiate_and_run(options, w, &mut linker, &mut store, &modules, file, &args);
    match (result, w.timeout) {
        (Err(e), Some(timeout)) if e.downcast_ref::<Trap>() == Some(&Trap::Interrupt) => {
            Err(e.context(format!("timed out after {timeout:?}")))
        }
        (result, _) => result,
    }
}

/// Makes WebAssembly in `store` trap with [`Trap::Interrupt`] once
/// `timeout` has passed: the store's epoch deadline is the next tick, and
/// a thread ticks the engine's epoch after `timeout`.
fn start_timeout(store: &mut Store<Host>, timeout: Duration) {
    store.set_epoch_deadline(1);
    let engine = store.engine().clone();
    std::thread::spawn(move || {
        std::thread::sleep(timeout);
        engine.increment_epoch();
    });
}

/// The compiled modules of a run.
struct Modules<'a> {
    /// `--preload`s: (NAME, PATH, module).
    preloads: Vec<(&'a str, &'a str, Module)>,
    /// FILE's module.
    main: Module,
}

/// Instantiates the preloads (registering each under its name) and the
/// main module, then runs `--invoke`'s function or the command's `_start`.
fn instantiate_and_run(
    options: &RunOptions,
    wasm: &Wasm,
    linker: &mut Linker<Host>,
    store: &mut Store<Host>,
    modules: &Modules<'_>,
    file: &Path,
    args: &[String],
) -> anyhow::Result<Vec<String>> {
    let module = &modules.main;
    for (name, path, preload) in &modules.preloads {
        let instance = linker
            .instantiate(&mut *store, preload)
            .with_context(|| format!("failed to instantiate preloaded module {path}"))?;
        initialize_reactor(store, instance)?;
        linker.instance(&mut *store, name, instance)?;
    }
    if wasm.unknown_imports_trap == Some(true) {
        linker.define_unknown_imports_as_traps(module)?;
    }
    if wasm.unknown_imports_default == Some(true) {
        linker.define_unknown_imports_as_default_values(&mut *store, module)?;
    }
    let instance = linker
        .instantiate(&mut *store, module)
        .with_context(|| format!("failed to instantiate {}", file.display()))?;

    match options.invoke.as_deref() {
        Some(name) => {
            if name != "_initialize" {
                initialize_reactor(store, instance)?;
            }
            let func = exported_func(store, instance, name)?;
            call_with_args(store, func, name, args)
        }
        None => {
            if let Some(start) = instance.get_func(&mut *store, "_start") {
                call(store, start, "_start", &[])
            } else if let Some(init) = instance.get_func(&mut *store, "_initialize") {
                call(store, init, "_initialize", &[])
            } else {
                bail!(
                    "{} exports no `_start` function to run: pass --invoke NAME",
                    file.display()
                )
            }
        }
    }
}

/// Calls a reactor's `_initialize`, if it exports one.
fn initialize_reactor(store: &mut Store<Host>, instance: Instance) -> anyhow::Result<()> {
    if let Some(init) = instance.get_func(&mut *store, "_initialize") {
        call(store, init, "_initialize", &[])?;
    }
    Ok(())
}

/// The exported function `name`.
fn exported_func(store: &mut Store<Host>, instance: Instance, name: &str) -> anyhow::Result<Func> {
    match instance.get_export(&mut *store, name) {
        Some(Extern::Func(f)) => Ok(f),
        Some(_) => bail!("export `{name}` is not a function"),
        None => bail!("no exported function named `{name}`"),
    }
}

/// Calls `func` with `args` converted by its parameter types.
fn call_with_args(
    store: &mut Store<Host>,
    func: Func,
    name: &str,
    args: &[String],
) -> anyhow::Result<Vec<String>> {
    let params: Vec<ValType> = func.ty(&*store).params().collect();
    if params.len() != args.len() {
        bail!(
            "`{name}` takes {} arguments, {} given",
            params.len(),
            args.len()
        );
    }
    let args = params
        .iter()
        .zip(args)
        .map(|(ty, arg)| parse_arg(ty, arg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    call(store, func, name, &args)
}

/// Calls `func` and formats its results.
fn call(
    store: &mut Store<Host>,
    func: Func,
    name: &str,
    args: &[Val],
) -> anyhow::Result<Vec<String>> {
    let ty = func.ty(&*store);
    if ty.params().len() != args.len() {
        bail!(
            "`{name}` takes {} arguments: pass --invoke {name} with them",
            ty.params().len()
        );
    }
    let mut results = vec![Val::I32(0); ty.results().len()];
    match func.call(&mut *store, args, &mut results) {
        Ok(()) => Ok(results.iter().map(format_val).collect()),
        // An exit is the program's outcome, not a failure of `name`.
        Err(e) if e.is::<I32Exit>() => Err(e),
        Err(e) => Err(e.context(format!("failed to run `{name}`"))),
    }
}

/// Parses a command-line argument as a value of type `ty`.
///
/// Integers are decimal (optionally negative) or `0x` hexadecimal, taken as
/// the bit pattern (so `0xffffffff` is the `i32` -1). Floats accept what
/// Rust's float parser accepts, including `nan`, `inf` and `-inf`.
pub(crate) fn parse_arg(ty: &ValType, text: &str) -> anyhow::Result<Val> {
    let text = text.trim();
    let bad = || anyhow!("invalid {} argument `{text}`", type_name(ty));
    Ok(match ty {
        ValType::I32 => Val::I32(match hex_digits(text) {
            Some((negative, digits)) => {
                let v = u32::from_str_radix(digits, 16).map_err(|_| bad())?;
                (if negative { v.wrapping_neg() } else { v }) as i32
            }
            None => text
                .parse::<i32>()
                .or_else(|_| text.parse::<u32>().map(|v| v as i32))
                .map_err(|_| bad())?,
        }),
        ValType::I64 => Val::I64(match hex_digits(text) {
            Some((negative, digits)) => {
                let v = u64::from_str_radix(digits, 16).map_err(|_| bad())?;
                (if negative { v.wrapping_neg() } else { v }) as i64
            }
            None => text
                .parse::<i64>()
                .or_else(|_| text.parse::<u64>().map(|v| v as i64))
                .map_err(|_| bad())?,
        }),
        ValType::F32 => Val::F32(text.parse::<f32>().map_err(|_| bad())?.to_bits()),
        ValType::F64 => Val::F64(text.parse::<f64>().map_err(|_| bad())?.to_bits()),
        #[allow(unreachable_patterns)]
        _ => bail!(
            "parameters of type {} cannot be passed on the command line",
            type_name(ty)
        ),
    })
}

/// `0x1f` → `(false, "1f")`, `-0x1f` → `(true, "1f")`, decimal → `None`.
fn hex_digits(text: &str) -> Option<(bool, &str)> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    rest.strip_prefix("0x")
        .or_else(|| rest.strip_prefix("0X"))
        .map(|digits| (negative, digits))
}

/// A short name for a value type, for messages.
fn type_name(ty: &ValType) -> String {
    match ty {
        ValType::I32 => "i32".to_string(),
        ValType::I64 => "i64".to_string(),
        ValType::F32 => "f32".to_string(),
        ValType::F64 => "f64".to_string(),
        #[allow(unreachable_patterns)]
        other => format!("{other:?}"),
    }
}

/// Formats a result for the command line: integers in decimal, floats with
/// Rust's `{}` formatting of the float (`1.5`, `NaN`, `inf`), references as
/// `null`, `<funcref>` or `<externref>`.
pub(crate) fn format_val(val: &Val) -> String {
    match val {
        Val::I32(v) => v.to_string(),
        Val::I64(v) => v.to_string(),
        Val::F32(bits) => f32::from_bits(*bits).to_string(),
        Val::F64(bits) => f64::from_bits(*bits).to_string(),
        Val::FuncRef(None) | Val::ExternRef(None) => "null".to_string(),
        Val::FuncRef(Some(_)) => "<funcref>".to_string(),
        Val::ExternRef(Some(_)) => "<externref>".to_string(),
        #[allow(unreachable_patterns)]
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i32_of(text: &str) -> Option<i32> {
        match parse_arg(&ValType::I32, text).ok()? {
            Val::I32(v) => Some(v),
            _ => None,
        }
    }

    fn i64_of(text: &str) -> Option<i64> {
        match parse_arg(&ValType::I64, text).ok()? {
            Val::I64(v) => Some(v),
            _ => None,
        }
    }

    #[test]
    fn integers_parse_in_decimal_and_hex() {
        assert_eq!(i32_of("20"), Some(20));
        assert_eq!(i32_of("-7"), Some(-7));
        assert_eq!(i32_of("0x10"), Some(16));
        assert_eq!(i32_of("0xffffffff"), Some(-1));
        assert_eq!(i32_of("4294967295"), Some(-1));
        assert_eq!(i32_of("-0x1"), Some(-1));
        assert_eq!(i32_of("0x100000000"), None);
        assert_eq!(i32_of("twelve"), None);
        assert_eq!(i64_of("0x8000000000000000"), Some(i64::MIN));
        assert_eq!(i64_of("-9223372036854775808"), Some(i64::MIN));
    }

    #[test]
    fn floats_parse_including_nan_and_infinities() {
        let f32_bits = |t: &str| match parse_arg(&ValType::F32, t).unwrap() {
            Val::F32(b) => b,
            _ => unreachable!(),
        };
        let f64_bits = |t: &str| match parse_arg(&ValType::F64, t).unwrap() {
            Val::F64(b) => b,
            _ => unreachable!(),
        };
        assert_eq!(f32_bits("1.5"), 1.5f32.to_bits());
        assert!(f32::from_bits(f32_bits("nan")).is_nan());
        assert_eq!(f32_bits("inf"), f32::INFINITY.to_bits());
        assert_eq!(f64_bits("-inf"), f64::NEG_INFINITY.to_bits());
        assert_eq!(f64_bits("-0"), (-0.0f64).to_bits());
        assert!(parse_arg(&ValType::F64, "1.2.3").is_err());
    }

    #[test]
    fn results_format_like_rust() {
        assert_eq!(format_val(&Val::I32(-3)), "-3");
        assert_eq!(format_val(&Val::I64(6765)), "6765");
        assert_eq!(format_val(&Val::F32(2.5f32.to_bits())), "2.5");
        assert_eq!(format_val(&Val::F64(f64::NAN.to_bits())), "NaN");
        assert_eq!(format_val(&Val::F64(f64::INFINITY.to_bits())), "inf");
        assert_eq!(format_val(&Val::FuncRef(None)), "null");
    }
}
