//! `cargo run -p kiln-spec-tests [-- --eager | --strategy cranelift]`: runs
//! the spec suite and prints the report (failures, a line per file, skips,
//! then `N passed, N failed`). `--eager` translates every function up front
//! instead of on first call; `--strategy cranelift` runs every function as
//! native code. Exits with status 1 if any directive failed.

use kiln_spec_tests::Tier;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut tier = Tier::Lazy;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--eager" => tier = Tier::Eager,
            "--strategy" => {
                i += 1;
                tier = match args.get(i).map(String::as_str) {
                    Some("interpreter") => Tier::Lazy,
                    Some("cranelift") => Tier::Cranelift,
                    Some("tiered") => Tier::Tiered,
                    other => {
                        eprintln!(
                            "--strategy takes `interpreter`, `cranelift` or `tiered`, not {other:?}"
                        );
                        return ExitCode::from(2);
                    }
                };
            }
            other => {
                eprintln!("unknown argument {other:?} (try --eager or --strategy cranelift)");
                return ExitCode::from(2);
            }
        }
        i += 1;
    }
    let results = kiln_spec_tests::run_spec_suite_in(tier);
    kiln::wast::print_report(&results);
    if kiln::wast::Totals::of(&results).failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
