//! `-O` / `--optimize`: code quality and instance allocation.

use anyhow::bail;

use super::value::{flag, number, required};
use super::{Action, Group, Key};

/// The `-O` settings (`None`: not given).
#[derive(Default, Debug, Clone, PartialEq)]
pub struct Optimize {
    /// `opt-level=`: `Config::cranelift_opt_level`.
    pub opt_level: Option<kiln::OptLevel>,
    /// `pooling-allocator`: allocate instances from a pool.
    pub pooling_allocator: Option<bool>,
    /// The `pooling-*` limits given, as (key, value), applied in order.
    pub pooling_limits: Vec<(PoolingLimit, u64)>,
}

/// A `pooling-*` limit of [`kiln::PoolingAllocationConfig`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PoolingLimit {
    /// `pooling-total-core-instances`.
    TotalCoreInstances,
    /// `pooling-total-memories`.
    TotalMemories,
    /// `pooling-total-tables`.
    TotalTables,
    /// `pooling-max-memory-size`.
    MaxMemorySize,
    /// `pooling-table-elements`.
    TableElements,
    /// `pooling-max-memories-per-module`.
    MaxMemoriesPerModule,
    /// `pooling-max-tables-per-module`.
    MaxTablesPerModule,
    /// `pooling-max-core-instance-size`.
    MaxCoreInstanceSize,
    /// `pooling-max-unused-warm-slots`.
    MaxUnusedWarmSlots,
}

impl Optimize {
    /// Applies the settings to `config`; a `pooling-*` limit without
    /// `pooling-allocator` is an error (it would have no effect).
    pub fn configure(&self, config: &mut kiln::Config) -> anyhow::Result<()> {
        if let Some(level) = self.opt_level {
            config.cranelift_opt_level(level);
        }
        if self.pooling_allocator != Some(true) {
            if let Some((limit, _)) = self.pooling_limits.first() {
                bail!("-O {}: needs -O pooling-allocator", limit.key());
            }
            return Ok(());
        }
        let mut pool = kiln::PoolingAllocationConfig::new();
        for &(limit, n) in &self.pooling_limits {
            let too_large = || anyhow::anyhow!("-O {}={n}: too large", limit.key());
            let small = || u32::try_from(n).map_err(|_| too_large());
            let size = || usize::try_from(n).map_err(|_| too_large());
            match limit {
                PoolingLimit::TotalCoreInstances => pool.total_core_instances(small()?),
                PoolingLimit::TotalMemories => pool.total_memories(small()?),
                PoolingLimit::TotalTables => pool.total_tables(small()?),
                PoolingLimit::MaxMemorySize => pool.max_memory_size(size()?),
                PoolingLimit::TableElements => pool.table_elements(size()?),
                PoolingLimit::MaxMemoriesPerModule => pool.max_memories_per_module(small()?),
                PoolingLimit::MaxTablesPerModule => pool.max_tables_per_module(small()?),
                PoolingLimit::MaxCoreInstanceSize => pool.max_core_instance_size(size()?),
                PoolingLimit::MaxUnusedWarmSlots => pool.max_unused_warm_slots(small()?),
            };
        }
        config.allocation_strategy(pool);
        Ok(())
    }
}

impl PoolingLimit {
    /// The key that sets this limit.
    fn key(self) -> &'static str {
        match self {
            PoolingLimit::TotalCoreInstances => "pooling-total-core-instances",
            PoolingLimit::TotalMemories => "pooling-total-memories",
            PoolingLimit::TotalTables => "pooling-total-tables",
            PoolingLimit::MaxMemorySize => "pooling-max-memory-size",
            PoolingLimit::TableElements => "pooling-table-elements",
            PoolingLimit::MaxMemoriesPerModule => "pooling-max-memories-per-module",
            PoolingLimit::MaxTablesPerModule => "pooling-max-tables-per-module",
            PoolingLimit::MaxCoreInstanceSize => "pooling-max-core-instance-size",
            PoolingLimit::MaxUnusedWarmSlots => "pooling-max-unused-warm-slots",
        }
    }
}

/// Records a `pooling-*` limit (its range is checked when applied).
fn limit(o: &mut Optimize, limit: PoolingLimit, value: Option<&str>) -> anyhow::Result<()> {
    let n: u64 = number(value)?;
    if !matches!(
        limit,
        PoolingLimit::MaxMemorySize
            | PoolingLimit::TableElements
            | PoolingLimit::MaxCoreInstanceSize
    ) && u32::try_from(n).is_err()
    {
        bail!("{n} is too large");
    }
    o.pooling_limits.push((limit, n));
    Ok(())
}

/// A wasmtime memory-layout setting with no counterpart in Kiln (whose
/// memories are bounds-checked on every access): accepted, value checked.
const fn layout(
    name: &'static str,
    value: &'static str,
    help: &'static str,
    check: fn(Option<&str>) -> anyhow::Result<()>,
) -> Key<Optimize> {
    Key {
        name,
        value,
        help,
        action: Action::Ignored(check),
    }
}

/// Checks a byte count given to a key Kiln ignores.
fn any_number(value: Option<&str>) -> anyhow::Result<()> {
    number::<u64>(value).map(drop)
}

/// Checks a boolean given to a key Kiln ignores.
fn any_flag(value: Option<&str>) -> anyhow::Result<()> {
    flag(value).map(drop)
}

impl Group for Optimize {
    const SHORT: char = 'O';
    const LONG: &'static str = "optimize";
    const KEYS: &'static [Key<Optimize>] = &[
        Key {
            name: "opt-level",
            value: "=0|1|2|s",
            help: "how hard Cranelift optimises native code (0: none; 1 and 2: speed; s: speed and size)",
            action: Action::Set(|o, v| {
                o.opt_level = Some(match required(v)? {
                    "0" => kiln::OptLevel::None,
                    "1" | "2" => kiln::OptLevel::Speed,
                    "s" => kiln::OptLevel::SpeedAndSize,
                    other => bail!("unknown optimization level `{other}`: only 0, 1, 2 or s"),
                });
                Ok(())
            }),
        },
        Key {
            name: "pooling-allocator",
            value: "[=y|n]",
            help: "allocate instances, memories and tables from a pool made up front",
            action: Action::Set(|o, v| {
                o.pooling_allocator = Some(flag(v)?);
                Ok(())
            }),
        },
        Key {
            name: "pooling-total-core-instances",
            value: "=N",
            help: "instances the pool holds",
            action: Action::Set(|o, v| limit(o, PoolingLimit::TotalCoreInstances, v)),
        },
        Key {
            name: "pooling-total-memories",
            value: "=N",
            help: "linear memories the pool holds",
            action: Action::Set(|o, v| limit(o, PoolingLimit::TotalMemories, v)),
        },
        Key {
            name: "pooling-total-tables",
            value: "=N",
            help: "tables the pool holds",
            action: Action::Set(|o, v| limit(o, PoolingLimit::TotalTables, v)),
        },
        Key {
            name: "pooling-max-memory-size",
            value: "=N",
            help: "bytes a pooled memory may have",
            action: Action::Set(|o, v| limit(o, PoolingLimit::MaxMemorySize, v)),
        },
        Key {
            name: "pooling-table-elements",
            value: "=N",
            help: "elements a pooled table may have",
            action: Action::Set(|o, v| limit(o, PoolingLimit::TableElements, v)),
        },
        Key {
            name: "pooling-max-memories-per-module",
            value: "=N",
            help: "memories one module may define",
            action: Action::Set(|o, v| limit(o, PoolingLimit::MaxMemoriesPerModule, v)),
        },
        Key {
            name: "pooling-max-tables-per-module",
            value: "=N",
            help: "tables one module may define",
            action: Action::Set(|o, v| limit(o, PoolingLimit::MaxTablesPerModule, v)),
        },
        Key {
            name: "pooling-max-core-instance-size",
            value: "=N",
            help: "bytes of an instance's metadata (its vmctx)",
            action: Action::Set(|o, v| limit(o, PoolingLimit::MaxCoreInstanceSize, v)),
        },
        Key {
            name: "pooling-max-unused-warm-slots",
            value: "=N",
            help: "freed slots kept ready for reuse",
            action: Action::Set(|o, v| limit(o, PoolingLimit::MaxUnusedWarmSlots, v)),
        },
        Key {
            name: "signals-based-traps",
            value: "[=y|n]",
            help: "Kiln uses no signal handlers: every trap is an explicit check",
            action: Action::Ignored(any_flag),
        },
        layout(
            "memory-reservation",
            "=N",
            "Kiln sizes a memory's reservation itself",
            any_number,
        ),
        layout(
            "memory-reservation-for-growth",
            "=N",
            "Kiln sizes a memory's reservation itself",
            any_number,
        ),
        layout(
            "memory-guard-size",
            "=N",
            "Kiln has no guard regions: every access is bounds-checked",
            any_number,
        ),
        layout(
            "guard-before-linear-memory",
            "[=y|n]",
            "Kiln has no guard regions: every access is bounds-checked",
            any_flag,
        ),
        layout(
            "memory-may-move",
            "[=y|n]",
            "Kiln has no such setting",
            any_flag,
        ),
        layout(
            "memory-init-cow",
            "[=y|n]",
            "Kiln has no such setting",
            any_flag,
        ),
        layout(
            "table-lazy-init",
            "[=y|n]",
            "Kiln has no such setting",
            any_flag,
        ),
        Key {
            name: "regalloc-algorithm",
            value: "=backtracking|single-pass",
            help: "Cranelift's register allocator choice",
            action: Action::Missing,
        },
    ];
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{parse_settings, resolve};

    fn optimize(text: &str) -> Result<Optimize, String> {
        let parsed = parse_settings::<Optimize>(text)?;
        resolve(&[parsed]).map_err(|e| e.to_string())
    }

    #[test]
    fn opt_levels_map_like_wasmtime() {
        for (text, level) in [
            ("opt-level=0", kiln::OptLevel::None),
            ("opt-level=1", kiln::OptLevel::Speed),
            ("opt-level=2", kiln::OptLevel::Speed),
            ("opt-level=s", kiln::OptLevel::SpeedAndSize),
        ] {
            assert_eq!(optimize(text).unwrap().opt_level, Some(level), "{text}");
        }
        assert!(
            optimize("opt-level=3")
                .unwrap_err()
                .contains("only 0, 1, 2 or s")
        );
    }

    #[test]
    fn pooling_limits_need_the_pooling_allocator() {
        let o = optimize("pooling-total-memories=4").unwrap();
        let err = o.configure(&mut kiln::Config::new()).unwrap_err();
        assert!(
            err.to_string().contains("needs -O pooling-allocator"),
            "{err}"
        );
        let o = optimize("pooling-allocator,pooling-total-memories=4").unwrap();
        o.configure(&mut kiln::Config::new()).unwrap();
        assert!(optimize("pooling-total-memories=0x100000000").is_err());
    }

    #[test]
    fn layout_keys_are_accepted_and_checked() {
        assert_eq!(
            optimize("memory-reservation=0x1000,memory-guard-size=0,memory-init-cow=n").unwrap(),
            Optimize::default()
        );
        assert!(optimize("memory-reservation=big").is_err());
        assert!(optimize("memory-may-move=sometimes").is_err());
    }
}
