//! The engine options `kiln run`, `kiln compile` and `kiln wast` share:
//! the `-O`, `-C` and `-W` groups and Kiln's `--strategy` and
//! `--tier-up-budget`.

use anyhow::bail;

use crate::options::{self, Codegen, Optimize, Settings, StrategyArg, Wasm};

/// The engine options on the command line.
#[derive(clap::Args, Debug, Clone)]
pub struct EngineOptions {
    /// Optimization options (`opt-level`, `pooling-allocator`, ...);
    /// `-O help` lists them.
    #[arg(short = 'O', long = "optimize", value_name = "KEY[=VAL[,..]]")]
    pub optimize: Vec<Settings<Optimize>>,
    /// Code generation options (`strategy`, `parallel-compilation`, ...);
    /// `-C help` lists them.
    #[arg(short = 'C', long = "codegen", value_name = "KEY[=VAL[,..]]")]
    pub codegen: Vec<Settings<Codegen>>,
    /// WebAssembly options (`fuel`, `timeout`, `max-wasm-stack`,
    /// proposals, limits, ...); `-W help` lists them.
    #[arg(short = 'W', long = "wasm", value_name = "KEY[=VAL[,..]]")]
    pub wasm: Vec<Settings<Wasm>>,
    /// Which tier runs the module's functions (the same as
    /// `-C strategy=`; default auto: tiered where the native tier is built).
    #[arg(long, value_enum, value_name = "STRATEGY")]
    pub strategy: Option<StrategyArg>,
    /// With tiered execution, the work (roughly: instructions run) after
    /// which a function is compiled to native code.
    #[arg(long, value_name = "N")]
    pub tier_up_budget: Option<u64>,
}

/// The engine options, each group's settings combined.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// `-W`.
    pub wasm: Wasm,
    /// `-C`.
    pub codegen: Codegen,
    /// `-O`.
    pub optimize: Optimize,
    /// `--strategy` or `-C strategy=`.
    pub strategy: StrategyArg,
    /// `--tier-up-budget`.
    pub tier_up_budget: Option<u64>,
}

impl EngineOptions {
    /// Combines every occurrence of each group; `--strategy` and
    /// `-C strategy=` (or `compiler=`) must agree if both are given.
    pub fn resolve(&self) -> anyhow::Result<EngineSettings> {
        let codegen: Codegen = options::resolve(&self.codegen)?;
        let strategy = match (self.strategy, codegen.strategy) {
            (Some(flag), Some(key)) if flag != key => bail!(
                "--strategy {} and -C strategy={} disagree: give one",
                name(flag),
                name(key)
            ),
            (flag, key) => flag.or(key).unwrap_or_default(),
        };
        Ok(EngineSettings {
            wasm: options::resolve(&self.wasm)?,
            optimize: options::resolve(&self.optimize)?,
            codegen,
            strategy,
            tier_up_budget: self.tier_up_budget,
        })
    }
}

/// A strategy as written on the command line.
fn name(strategy: StrategyArg) -> &'static str {
    match strategy {
        StrategyArg::Auto => "auto",
        StrategyArg::Tiered => "tiered",
        StrategyArg::Cranelift => "cranelift",
        StrategyArg::Interpreter => "interpreter",
    }
}

impl EngineSettings {
    /// The engine configuration the settings describe.
    pub fn config(&self) -> anyhow::Result<kiln::Config> {
        let mut config = kiln::Config::new();
        config.strategy(self.strategy.strategy());
        if let Some(budget) = self.tier_up_budget {
            config.tier_up_budget(budget);
        }
        self.wasm.configure(&mut config);
        self.codegen.configure(&mut config);
        self.optimize.configure(&mut config)?;
        Ok(config)
    }

    /// Fails if `-W` keys that only `kiln run` can honour (they act on its
    /// store or linker) were given to `command`, except those in `allowed`.
    pub fn refuse_run_only_keys(&self, command: &str, allowed: &[&str]) -> anyhow::Result<()> {
        let refused: Vec<&str> = self
            .wasm
            .run_only_keys()
            .into_iter()
            .filter(|key| !allowed.contains(key))
            .collect();
        if let Some(key) = refused.first() {
            bail!("-W {key} only applies to `kiln run`, not to `kiln {command}`");
        }
        Ok(())
    }
}
