//! `cargo run -p kiln-spec-tests [-- --eager]`: runs the spec suite and
//! prints the report (failures, a line per file, skips, then `N passed, N
//! failed`). `--eager` translates every function up front instead of on
//! first call. Exits with status 1 if any directive failed.

use kiln::CompilationMode;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mode = if std::env::args().skip(1).any(|a| a == "--eager") {
        CompilationMode::Eager
    } else {
        CompilationMode::Lazy
    };
    let results = kiln_spec_tests::run_spec_suite_in(mode);
    kiln::wast::print_report(&results);
    if kiln::wast::Totals::of(&results).failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
