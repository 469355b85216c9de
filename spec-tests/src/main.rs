//! `cargo run -p kiln-spec-tests`: runs the spec suite and prints the report
//! (failures, a line per file, skips, then `N passed, N failed`). Exits with
//! status 1 if any directive failed.

use std::process::ExitCode;

fn main() -> ExitCode {
    let results = kiln_spec_tests::run_spec_suite();
    kiln::wast::print_report(&results);
    if kiln::wast::Totals::of(&results).failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
