//! `-C` / `--codegen`: how functions are compiled and run.

use anyhow::bail;

use super::value::{flag, required};
use super::{Action, Group, Key};

/// Which tier runs the module's functions (`kiln::Strategy`): the value
/// of `--strategy` and `-C strategy=`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum StrategyArg {
    /// Kiln's default: tiered where the native tier is built.
    #[default]
    Auto,
    /// Start interpreted; move hot functions and loops to native code.
    Tiered,
    /// Compile every function to native code with Cranelift first.
    Cranelift,
    /// Interpret every function.
    Interpreter,
}

impl StrategyArg {
    /// The engine strategy.
    pub fn strategy(self) -> kiln::Strategy {
        match self {
            StrategyArg::Auto => kiln::Strategy::Auto,
            StrategyArg::Tiered => kiln::Strategy::Tiered,
            StrategyArg::Cranelift => kiln::Strategy::Cranelift,
            StrategyArg::Interpreter => kiln::Strategy::Interpreter,
        }
    }

    /// Parses a strategy name, explaining wasmtime's compilers Kiln lacks.
    fn parse(text: &str) -> anyhow::Result<StrategyArg> {
        Ok(match text {
            "auto" => StrategyArg::Auto,
            "tiered" => StrategyArg::Tiered,
            "cranelift" => StrategyArg::Cranelift,
            "interpreter" => StrategyArg::Interpreter,
            other => bail!("{}", unknown_compiler(other)),
        })
    }
}

/// The message for a compiler or strategy Kiln does not have.
pub fn unknown_compiler(name: &str) -> String {
    let why = match name {
        "winch" => "Kiln has no Winch baseline compiler; ",
        "pulley" => "Kiln has no Pulley interpreter (its own interpreter is `interpreter`); ",
        _ => "",
    };
    format!("unknown strategy `{name}`: {why}Kiln's are auto, tiered, cranelift and interpreter")
}

/// The `-C` settings (`None`: not given).
#[derive(Default, Debug, Clone, PartialEq)]
pub struct Codegen {
    /// `strategy=` (or wasmtime's `compiler=cranelift`).
    pub strategy: Option<StrategyArg>,
    /// `parallel-compilation`: `Config::parallel_compilation`.
    pub parallel_compilation: Option<bool>,
}

impl Codegen {
    /// Applies the settings to `config` (the strategy is applied by the
    /// caller, which also knows `--strategy`).
    pub fn configure(&self, config: &mut kiln::Config) {
        if let Some(parallel) = self.parallel_compilation {
            config.parallel_compilation(parallel);
        }
    }
}

impl Group for Codegen {
    const SHORT: char = 'C';
    const LONG: &'static str = "codegen";
    const KEYS: &'static [Key<Codegen>] = &[
        Key {
            name: "strategy",
            value: "=auto|tiered|cranelift|interpreter",
            help: "which tier runs functions (same as --strategy; Kiln has no winch or pulley)",
            action: Action::Set(|c, v| {
                c.strategy = Some(StrategyArg::parse(required(v)?)?);
                Ok(())
            }),
        },
        Key {
            name: "compiler",
            value: "=cranelift",
            help: "wasmtime's spelling: `cranelift` is `strategy=cranelift`; Kiln has no winch",
            action: Action::Set(|c, v| {
                c.strategy = Some(match required(v)? {
                    "cranelift" => StrategyArg::Cranelift,
                    other => bail!("{}", unknown_compiler(other)),
                });
                Ok(())
            }),
        },
        Key {
            name: "parallel-compilation",
            value: "[=y|n]",
            help: "compile a module's functions on every core (default yes)",
            action: Action::Set(|c, v| {
                c.parallel_compilation = Some(flag(v)?);
                Ok(())
            }),
        },
        Key {
            name: "signals-based-traps",
            value: "[=y|n]",
            help: "Kiln uses no signal handlers: every trap is an explicit check (wasmtime: -O)",
            action: Action::Ignored(|v| flag(v).map(drop)),
        },
        Key {
            name: "cache",
            value: "[=y|n]",
            help: "Kiln keeps no compilation cache; `kiln compile` saves compiled code instead",
            action: Action::Ignored(|v| flag(v).map(drop)),
        },
        Key {
            name: "cache-config",
            value: "=PATH",
            help: "the cache's configuration file: Kiln keeps no cache, the file is not read",
            action: Action::Ignored(|v| required(v).map(drop)),
        },
        Key {
            name: "native-unwind-info",
            value: "[=y|n]",
            help: "Kiln has no such setting (backtraces work without it)",
            action: Action::Ignored(|v| flag(v).map(drop)),
        },
        Key {
            name: "cranelift-debug-verifier",
            value: "[=y|n]",
            help: "Cranelift's IR verifier",
            action: Action::MissingFeature,
        },
        Key {
            name: "pcc",
            value: "[=y|n]",
            help: "proof-carrying code checks",
            action: Action::MissingFeature,
        },
        Key {
            name: "inlining",
            value: "[=y|n]",
            help: "inlining between WebAssembly functions",
            action: Action::MissingFeature,
        },
        Key {
            name: "collector",
            value: "=drc|null",
            help: "a garbage collector: Kiln has no GC proposal",
            action: Action::Missing,
        },
    ];
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{parse_settings, resolve};

    fn codegen(text: &str) -> Result<Codegen, String> {
        let parsed = parse_settings::<Codegen>(text)?;
        resolve(&[parsed]).map_err(|e| e.to_string())
    }

    #[test]
    fn strategies_and_wasmtime_compilers() {
        for (text, strategy) in [
            ("strategy=auto", StrategyArg::Auto),
            ("strategy=tiered", StrategyArg::Tiered),
            ("strategy=cranelift", StrategyArg::Cranelift),
            ("strategy=interpreter", StrategyArg::Interpreter),
            ("compiler=cranelift", StrategyArg::Cranelift),
        ] {
            assert_eq!(codegen(text).unwrap().strategy, Some(strategy), "{text}");
        }
        for winch in ["strategy=winch", "compiler=winch"] {
            let err = codegen(winch).unwrap_err();
            assert!(err.contains("Kiln has no Winch"), "{err}");
        }
        assert!(
            codegen("strategy=pulley")
                .unwrap_err()
                .contains("no Pulley")
        );
        assert!(codegen("strategy").unwrap_err().contains("needs a value"));
    }

    #[test]
    fn no_op_keys_still_check_their_values() {
        assert_eq!(
            codegen("cache=n,signals-based-traps=y,cache-config=x.toml").unwrap(),
            Codegen::default()
        );
        assert!(codegen("cache=perhaps").is_err());
        assert_eq!(
            codegen("parallel-compilation=n")
                .unwrap()
                .parallel_compilation,
            Some(false)
        );
    }
}
