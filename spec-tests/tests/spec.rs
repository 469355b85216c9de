//! The spec suite must pass completely: every directive of `wasm-v1` and
//! `wasm-v2`, with an empty skip list, in every tier — the interpreter
//! translating lazily (the default) and eagerly (validation and
//! translation in one pass), and native code compiled by Cranelift, where
//! no function may be left to the interpreter. Every tier runs the same
//! number of directives.

use kiln_spec_tests::Tier;

#[test]
fn spec_suite_passes() {
    passes_in(Tier::Lazy);
}

#[test]
fn spec_suite_passes_in_eager_mode() {
    passes_in(Tier::Eager);
}

#[test]
fn spec_suite_passes_as_native_code() {
    let totals = passes_in(Tier::Cranelift);
    assert!(
        totals.native_functions > 1000,
        "only {} functions ran natively",
        totals.native_functions
    );
    assert_eq!(
        totals.native_fallbacks, 0,
        "functions were left to the interpreter (listed above)"
    );
}

fn passes_in(tier: Tier) -> kiln::wast::Totals {
    let results = kiln_spec_tests::run_spec_suite_in(tier);
    // The report lists every failure before the totals, so a failing run
    // shows exactly which directives broke.
    kiln::wast::print_report(&results);
    let totals = kiln::wast::Totals::of(&results);
    assert_eq!(totals.skipped, 0, "the skip list must stay empty");
    assert_eq!(
        totals.failed,
        0,
        "{} spec directives failed in the {} tier (listed above)",
        totals.failed,
        tier.name()
    );
    assert_eq!(
        totals.passed,
        kiln_spec_tests::directive_count(),
        "the {} tier did not run every directive",
        tier.name()
    );
    if matches!(tier, Tier::Lazy | Tier::Eager) {
        assert_eq!(totals.native_functions + totals.native_fallbacks, 0);
    }
    totals
}

#[test]
fn spec_suite_passes_while_tiering_up() {
    let totals = passes_in(Tier::Tiered);
    // The budget is small enough that native code runs, and running calls
    // move into it through on-stack replacement, during the suite.
    assert!(
        totals.native_functions > 500,
        "only {} functions moved to native code",
        totals.native_functions
    );
    assert!(
        totals.osr_entries > 10,
        "only {} OSR entries",
        totals.osr_entries
    );
    assert_eq!(totals.native_fallbacks, 0, "listed above");
}
