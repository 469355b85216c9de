//! `kiln compile`: precompile a module into a `.cwasm` file.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::EngineOptions;

/// Writes `file` precompiled for the engine the options describe (with
/// fuel consumption if `fuel`), to `output` or FILE with the extension
/// `.cwasm`.
pub fn compile(
    options: &EngineOptions,
    fuel: bool,
    output: Option<PathBuf>,
    file: &Path,
) -> anyhow::Result<()> {
    let settings = options.resolve()?;
    // `fuel=N` and `timeout` shape the engine (fuel counting, epoch
    // checks), so they count here; the other run-only keys do not.
    settings.refuse_run_only_keys("compile", &["fuel", "timeout"])?;
    let mut config = settings.config()?;
    if fuel {
        config.consume_fuel(true);
    }
    let engine = kiln::Engine::new(&config)?;
    let bytes =
        std::fs::read(file).with_context(|| format!("failed to read {}", file.display()))?;
    let compiled = engine
        .precompile_module(&bytes)
        .with_context(|| format!("failed to compile {}", file.display()))?;
    let output = output.unwrap_or_else(|| file.with_extension("cwasm"));
    std::fs::write(&output, compiled)
        .with_context(|| format!("failed to write {}", output.display()))
}
