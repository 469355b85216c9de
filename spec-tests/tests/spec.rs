//! The spec suite must pass completely: every directive of `wasm-v1` and
//! `wasm-v2`, with an empty skip list, in both compilation modes (lazy, the
//! default, and eager, where validation and translation are one pass).

use kiln::CompilationMode;

#[test]
fn spec_suite_passes() {
    passes_in(CompilationMode::Lazy);
}

#[test]
fn spec_suite_passes_in_eager_mode() {
    passes_in(CompilationMode::Eager);
}

fn passes_in(mode: CompilationMode) {
    let results = kiln_spec_tests::run_spec_suite_in(mode);
    // The report lists every failure before the totals, so a failing run
    // shows exactly which directives broke.
    kiln::wast::print_report(&results);
    let totals = kiln::wast::Totals::of(&results);
    assert!(totals.passed > 0, "no directive ran");
    assert_eq!(totals.skipped, 0, "the skip list must stay empty");
    assert_eq!(
        totals.failed, 0,
        "{} spec directives failed (listed above)",
        totals.failed
    );
}
