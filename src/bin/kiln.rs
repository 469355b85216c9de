//! The `kiln` command-line tool.
//!
//! A thin shell over the library: it parses the command line with `clap` and
//! hands off to [`kiln::wast`], which holds the logic (argument conversion,
//! result formatting, the script runner and its report) so that it is shared
//! with the spec-test crate and unit-tested there.

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
    /// Instantiate a module (no imports) and call one of its functions.
    Run {
        /// The module: a `.wasm` binary or a `.wat` text file.
        file: PathBuf,
        /// The exported function to call (default: `_start`).
        #[arg(long, value_name = "NAME")]
        invoke: Option<String>,
        /// Arguments, converted by the function's parameter types
        /// (integers: decimal or 0x hex; floats: decimal, nan, inf).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Run `.wast` spec scripts and print a pass/fail report.
    Wast {
        /// The scripts to run.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Run { file, invoke, args } => {
            match kiln::wast::run_wasm_file(&file, invoke.as_deref(), &args) {
                Ok(results) => {
                    for result in results {
                        println!("{result}");
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Wast { files } => {
            let results = kiln::wast::run_wast_files(&files);
            kiln::wast::print_report(&results);
            if kiln::wast::Totals::of(&results).failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
