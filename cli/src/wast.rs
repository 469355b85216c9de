//! `kiln wast`: run `.wast` spec scripts and print the report.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;

use crate::EngineOptions;

/// Runs the scripts on an engine the options describe; exits with 0 if
/// every directive passed, 1 otherwise.
pub fn main(options: &EngineOptions, files: &[PathBuf]) -> ExitCode {
    let engine = match engine(options) {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let results = kiln::wast::WastRunner::with_engine(engine).run_files(files);
    kiln::wast::print_report(&results);
    if kiln::wast::Totals::of(&results).failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The engine the scripts run on.
fn engine(options: &EngineOptions) -> anyhow::Result<kiln::Engine> {
    let settings = options.resolve()?;
    settings.refuse_run_only_keys("wast", &[])?;
    if settings.wasm.epoch_interruption == Some(true) {
        // The runner's stores never set a deadline: everything would trap.
        bail!("-W epoch-interruption only applies to `kiln run` and `kiln compile`");
    }
    kiln::Engine::new(&settings.config()?)
}
