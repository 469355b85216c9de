//! The differential test CI runs: 2,000 seeds of wasm-smith modules, each
//! run by Kiln's interpreter and by its native tier with every result,
//! trap, fuel count, memory, global and table compared (see `kiln_fuzz`).
//! Fails with the seed and description of every divergence; reproduce one
//! with `cargo run --release -p kiln-fuzz -- --ci --seed N --trace`.

use kiln_fuzz::{Options, run_seeds};

/// Seeds `0..SEEDS`, always the same ones.
const SEEDS: u64 = 2000;

#[test]
fn interpreter_and_native_tier_agree_on_generated_modules() {
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let summary = run_seeds(0..SEEDS, &Options::ci(), jobs, false).expect("engines");
    println!("{summary}");
    assert_eq!(summary.seeds, SEEDS);
    // The generator is configured for exactly what Kiln supports: a module
    // both tiers refuse means the configuration (or Kiln's validator) is
    // wrong, and the seed tests nothing.
    assert!(
        summary.rejected.is_empty(),
        "modules rejected by both tiers: {:?}",
        summary.rejected
    );
    // The run must actually exercise the tiers.
    assert!(summary.modules >= SEEDS * 9 / 10, "{summary}");
    assert!(summary.calls >= SEEDS, "{summary}");
    assert!(
        summary.divergences.is_empty(),
        "{} of {SEEDS} seeds diverged (reproduce with \
         `cargo run --release -p kiln-fuzz -- --ci --seed N --trace`):\n{}",
        summary.divergences.len(),
        summary
            .divergences
            .iter()
            .map(|d| format!("  seed {}: {}", d.seed, d.description))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
