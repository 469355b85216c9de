//! The `kiln` command-line tool.
//!
//! `kiln run` runs a WebAssembly module: a WASI program (its `_start`, with
//! WASI preview 1 from `kiln-wasi`) or any exported function
//! (`--invoke`); `kiln compile` precompiles a module into a `.cwasm` file
//! for `kiln run --allow-precompiled`; `kiln wast` runs `.wast` spec scripts through
//! [`kiln::wast`]. Options use wasmtime's spellings. This file parses the
//! command line; `run.rs` holds what `kiln run` does.

mod run;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Kiln: a WebAssembly runtime.
#[derive(Parser)]
#[command(name = "kiln", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a WebAssembly module: a WASI command's `_start`, or the
    /// function named by `--invoke`.
    ///
    /// Everything after FILE is passed to the program as its arguments
    /// (after `argv[0]`, which is FILE). With `--invoke`, the arguments
    /// are also the function's parameters, converted by their types
    /// (integers: decimal or 0x hex; floats: decimal, nan, inf), and its
    /// results are printed one per line. For compatibility with earlier
    /// Kiln versions, `--invoke NAME` may also directly follow FILE.
    #[command(
        arg_required_else_help = true,
        override_usage = "kiln run [OPTIONS] <FILE> [ARGS]..."
    )]
    Run(run::RunOptions),
    /// Compile a module ahead of time into a `.cwasm` file that `kiln run
    /// --allow-precompiled` (or `Module::deserialize`) loads without
    /// validating or compiling it again. The engine options must match the
    /// ones it is run with.
    Compile {
        #[command(flatten)]
        engine: EngineOptions,
        /// Compile for an engine that consumes fuel (as `kiln run --fuel`
        /// does).
        #[arg(long)]
        fuel: bool,
        /// Where to write the result (default: FILE with the extension
        /// `.cwasm`).
        #[arg(short, long, value_name = "OUTPUT")]
        output: Option<PathBuf>,
        /// The module (a `.wasm` binary or `.wat` text file).
        file: PathBuf,
    },
    /// Run `.wast` spec scripts and print a pass/fail report.
    Wast {
        #[command(flatten)]
        engine: EngineOptions,
        /// The scripts to run.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// `--strategy`: which tier runs the module's functions
/// (`kiln::Strategy`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum StrategyArg {
    /// Kiln's default: tiered where the native tier is built.
    #[default]
    Auto,
    /// Start interpreted; move hot functions and loops to native code.
    Tiered,
    /// Compile every function to native code with Cranelift first.
    Cranelift,
    /// Interpret every function.
    Interpreter,
}

/// The engine options `kiln run` and `kiln wast` share.
#[derive(clap::Args, Debug, Clone)]
pub struct EngineOptions {
    /// Which tier runs the module's functions.
    #[arg(long, value_enum, default_value_t = StrategyArg::Auto)]
    pub strategy: StrategyArg,
    /// With tiered execution, the work (roughly: instructions run) after
    /// which a function is compiled to native code.
    #[arg(long, value_name = "N")]
    pub tier_up_budget: Option<u64>,
}

impl EngineOptions {
    /// Applies the options to `config`.
    pub fn configure(&self, config: &mut kiln::Config) {
        config.strategy(self.strategy.strategy());
        if let Some(budget) = self.tier_up_budget {
            config.tier_up_budget(budget);
        }
    }
}

impl StrategyArg {
    /// The engine strategy.
    pub fn strategy(self) -> kiln::Strategy {
        match self {
            StrategyArg::Auto => kiln::Strategy::Auto,
            StrategyArg::Tiered => kiln::Strategy::Tiered,
            StrategyArg::Cranelift => kiln::Strategy::Cranelift,
            StrategyArg::Interpreter => kiln::Strategy::Interpreter,
        }
    }
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Run(options) => run::main(options),
        Command::Compile {
            engine,
            fuel,
            output,
            file,
        } => match compile(&engine, fuel, output, &file) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::Wast { engine, files } => {
            let mut config = kiln::Config::new();
            engine.configure(&mut config);
            let engine = match kiln::Engine::new(&config) {
                Ok(engine) => engine,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    return ExitCode::FAILURE;
                }
            };
            let results = kiln::wast::WastRunner::with_engine(engine).run_files(&files);
            kiln::wast::print_report(&results);
            if kiln::wast::Totals::of(&results).failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// `kiln compile`: writes `file` precompiled for the engine the options
/// describe.
fn compile(
    options: &EngineOptions,
    fuel: bool,
    output: Option<PathBuf>,
    file: &std::path::Path,
) -> anyhow::Result<()> {
    use anyhow::Context;
    let mut config = kiln::Config::new();
    config.consume_fuel(fuel);
    options.configure(&mut config);
    let engine = kiln::Engine::new(&config)?;
    let bytes =
        std::fs::read(file).with_context(|| format!("failed to read {}", file.display()))?;
    let compiled = engine
        .precompile_module(&bytes)
        .with_context(|| format!("failed to compile {}", file.display()))?;
    let output = output.unwrap_or_else(|| file.with_extension("cwasm"));
    std::fs::write(&output, compiled)
        .with_context(|| format!("failed to write {}", output.display()))
}

/// Splits `FILE [ARGS...]` as clap collected it into the file and the
/// program's arguments, taking a leading `--invoke NAME` (or
/// `--invoke=NAME`) out of the arguments when `--invoke` was not given
/// before FILE — the older `kiln run FILE --invoke NAME ARGS` order.
fn split_module_and_args(
    mut items: Vec<OsString>,
    invoke: &mut Option<String>,
) -> Result<(PathBuf, Vec<OsString>), String> {
    if items.is_empty() {
        return Err("missing the module to run".to_string());
    }
    let file = PathBuf::from(items.remove(0));
    if invoke.is_none() {
        match items.first().and_then(|a| a.to_str()) {
            Some("--invoke") => {
                if items.len() < 2 {
                    return Err("`--invoke` needs a function name".to_string());
                }
                let name = items.remove(1);
                items.remove(0);
                *invoke = Some(
                    name.into_string()
                        .map_err(|_| "the function name is not UTF-8".to_string())?,
                );
            }
            Some(arg) if arg.starts_with("--invoke=") => {
                *invoke = Some(arg["--invoke=".len()..].to_string());
                items.remove(0);
            }
            _ => {}
        }
    }
    Ok((file, items))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(items: &[&str], invoke: Option<&str>) -> (String, Vec<String>, Option<String>) {
        let mut invoke = invoke.map(str::to_string);
        let (file, args) =
            split_module_and_args(items.iter().map(OsString::from).collect(), &mut invoke).unwrap();
        let args = args.into_iter().map(|a| a.into_string().unwrap()).collect();
        (file.display().to_string(), args, invoke)
    }

    #[test]
    fn invoke_may_follow_the_file() {
        assert_eq!(
            split(&["fib.wat", "--invoke", "fib", "20"], None),
            ("fib.wat".into(), vec!["20".into()], Some("fib".into()))
        );
        assert_eq!(
            split(&["fib.wat", "--invoke=fib", "20"], None),
            ("fib.wat".into(), vec!["20".into()], Some("fib".into()))
        );
        // Given before the file, a later `--invoke` is the program's.
        assert_eq!(
            split(&["prog.wasm", "--invoke", "x"], Some("main")),
            (
                "prog.wasm".into(),
                vec!["--invoke".into(), "x".into()],
                Some("main".into())
            )
        );
        // Other options after the file belong to the program.
        assert_eq!(
            split(&["prog.wasm", "--dir", "."], None),
            ("prog.wasm".into(), vec!["--dir".into(), ".".into()], None)
        );
    }

    #[test]
    fn the_command_line_parses_in_both_orders() {
        let cli = Cli::try_parse_from(["kiln", "run", "--invoke", "fib", "fib.wat", "20"]).unwrap();
        let Command::Run(options) = cli.command else {
            panic!("not run")
        };
        assert_eq!(options.invoke.as_deref(), Some("fib"));
        assert_eq!(options.module_and_args, ["fib.wat", "20"]);

        let cli = Cli::try_parse_from([
            "kiln", "run", "--dir", ".::/", "--env", "A=1", "p.wasm", "--env", "x",
        ])
        .unwrap();
        let Command::Run(options) = cli.command else {
            panic!("not run")
        };
        assert_eq!(options.dirs, [".::/"]);
        assert_eq!(options.envs, ["A=1"]);
        assert_eq!(options.module_and_args, ["p.wasm", "--env", "x"]);
    }
}
