//! The `kiln` command-line tool.
//!
//! `kiln run` runs a WebAssembly module: a WASI program (its `_start`, with
//! WASI preview 1 from `kiln-wasi`) or any exported function
//! (`--invoke`); `kiln FILE ARGS...` without a subcommand is the same as
//! `kiln run FILE ARGS...`. `kiln compile` precompiles a module into a
//! `.cwasm` file for `kiln run --allow-precompiled`; `kiln wast` runs
//! `.wast` spec scripts through [`kiln::wast`]. Options use wasmtime's
//! spellings, including its option groups `-W`, `-S`, `-C` and `-O`
//! (`options/`). This file parses the command line; `run.rs`,
//! `compile.rs` and `wast.rs` hold what the subcommands do.

mod compile;
mod engine;
mod options;
mod report;
mod run;
mod wast;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use engine::EngineOptions;

/// Kiln: a WebAssembly runtime.
#[derive(Parser)]
#[command(
    name = "kiln",
    version,
    about,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    arg_required_else_help = true,
    override_usage = "kiln [OPTIONS] <FILE> [ARGS]...\n       kiln <COMMAND>",
    after_help = "Without a subcommand, `kiln [OPTIONS] FILE [ARGS]...` runs FILE as \
                  `kiln run` does.\nExamples:\n  kiln hello.wasm arg1 arg2\n  \
                  kiln --dir . -W timeout=10s prog.wasm\n  \
                  kiln --invoke fib examples/fib.wat 20"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: run::RunOptions,
}

#[derive(Subcommand)]
enum Command {
    /// Run a WebAssembly module: a WASI command's `_start`, or the
    /// function named by `--invoke`.
    ///
    /// FILE is the module; every argument after it is the program's (its
    /// `argv` after `argv[0]`, which is FILE's name without directories or
    /// `--argv0`), so Kiln's options go before FILE. With `--invoke`, the
    /// arguments are the function's parameters, converted by their types
    /// (integers: decimal or 0x hex; floats: decimal, nan, inf), and its
    /// results are printed one per line. For compatibility with earlier
    /// Kiln versions, `--invoke NAME` may also directly follow FILE.
    ///
    /// Exit status: the program's own (`proc_exit(n)` exits with n, a
    /// returning `_start` with 0); 134 after a trap, as wasmtime (the
    /// status of an abort); 1 after any other error. A trap's wasm
    /// backtrace shows at most its first 20 and last 20 frames.
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
        /// or `-W fuel=N` does).
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
    ///
    /// A module that fails to compile or instantiate is reported once,
    /// with the reason; the directives that needed it count as failed
    /// without a line each.
    Wast {
        #[command(flatten)]
        engine: EngineOptions,
        /// The scripts to run.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => run::main(cli.run),
        Some(Command::Run(options)) => run::main(options),
        Some(Command::Compile {
            engine,
            fuel,
            output,
            file,
        }) => report::exit_status(compile::compile(&engine, fuel, output, &file)),
        Some(Command::Wast { engine, files }) => wast::main(&engine, &files),
    }
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

    fn run_options(args: &[&str]) -> run::RunOptions {
        match Cli::try_parse_from(args).unwrap() {
            Cli {
                command: Some(Command::Run(options)),
                ..
            } => options,
            Cli { command: None, run } => run,
            _ => panic!("{args:?} is not a run"),
        }
    }

    #[test]
    fn the_command_line_parses_in_both_orders() {
        let options = run_options(&["kiln", "run", "--invoke", "fib", "fib.wat", "20"]);
        assert_eq!(options.invoke.as_deref(), Some("fib"));
        assert_eq!(options.module_and_args, ["fib.wat", "20"]);

        let options = run_options(&[
            "kiln", "run", "--dir", ".::/", "--env", "A=1", "p.wasm", "--env", "x",
        ]);
        assert_eq!(options.dirs, [".::/"]);
        assert_eq!(options.envs, ["A=1"]);
        assert_eq!(options.module_and_args, ["p.wasm", "--env", "x"]);
    }

    #[test]
    fn run_is_the_default_subcommand() {
        let options = run_options(&["kiln", "-W", "fuel=5", "--argv0", "x", "p.wasm", "-W", "y"]);
        assert_eq!(options.argv0.as_deref(), Some("x"));
        assert_eq!(options.engine.wasm.len(), 1);
        assert_eq!(options.module_and_args, ["p.wasm", "-W", "y"]);
    }

    #[test]
    fn an_unknown_option_before_the_file_is_a_usage_error() {
        for args in [
            &["kiln", "run", "--frobnicate", "p.wasm"][..],
            &["kiln", "--frobnicate", "p.wasm"],
            &["kiln", "run", "-Q", "p.wasm"],
        ] {
            let err = Cli::try_parse_from(args).err().expect("an error");
            assert_eq!(err.exit_code(), 2, "{args:?}");
            assert!(err.to_string().contains("unexpected argument"), "{err}");
        }
    }
}
