//! `-W` / `--wasm`: what WebAssembly may do and how much of it.

use std::time::Duration;

use super::value::{duration, flag, number};
use super::{Action, Group, Key};

/// The `-W` settings (`None`: not given).
#[derive(Default, Debug, Clone, PartialEq)]
pub struct Wasm {
    /// `fuel=N`: consume fuel, starting with N units.
    pub fuel: Option<u64>,
    /// `epoch-interruption`: compile epoch checks.
    pub epoch_interruption: Option<bool>,
    /// `max-wasm-stack=N`: `Config::max_wasm_stack`.
    pub max_wasm_stack: Option<usize>,
    /// `timeout=DURATION`: interrupt WebAssembly after this long.
    pub timeout: Option<Duration>,
    /// `bulk-memory`: `Config::wasm_bulk_memory`.
    pub bulk_memory: Option<bool>,
    /// `multi-value`: `Config::wasm_multi_value`.
    pub multi_value: Option<bool>,
    /// `reference-types`: `Config::wasm_reference_types`.
    pub reference_types: Option<bool>,
    /// `simd`: `Config::wasm_simd`.
    pub simd: Option<bool>,
    /// `max-memory-size=N`: `StoreLimitsBuilder::memory_size`.
    pub max_memory_size: Option<usize>,
    /// `max-table-elements=N`: `StoreLimitsBuilder::table_elements`.
    pub max_table_elements: Option<usize>,
    /// `max-instances=N`: `StoreLimitsBuilder::instances`.
    pub max_instances: Option<usize>,
    /// `max-tables=N`: `StoreLimitsBuilder::tables`.
    pub max_tables: Option<usize>,
    /// `max-memories=N`: `StoreLimitsBuilder::memories`.
    pub max_memories: Option<usize>,
    /// `trap-on-grow-failure`: `StoreLimitsBuilder::trap_on_grow_failure`.
    pub trap_on_grow_failure: Option<bool>,
    /// `unknown-imports-trap`: `Linker::define_unknown_imports_as_traps`.
    pub unknown_imports_trap: Option<bool>,
    /// `unknown-imports-default`:
    /// `Linker::define_unknown_imports_as_default_values`.
    pub unknown_imports_default: Option<bool>,
}

impl Wasm {
    /// The keys given that act on a store or linker of `kiln run` rather
    /// than on the engine (they mean nothing to `kiln compile` or
    /// `kiln wast`).
    pub fn run_only_keys(&self) -> Vec<&'static str> {
        let given = [
            ("fuel", self.fuel.is_some()),
            ("timeout", self.timeout.is_some()),
            ("max-memory-size", self.max_memory_size.is_some()),
            ("max-table-elements", self.max_table_elements.is_some()),
            ("max-instances", self.max_instances.is_some()),
            ("max-tables", self.max_tables.is_some()),
            ("max-memories", self.max_memories.is_some()),
            ("trap-on-grow-failure", self.trap_on_grow_failure.is_some()),
            ("unknown-imports-trap", self.unknown_imports_trap.is_some()),
            (
                "unknown-imports-default",
                self.unknown_imports_default.is_some(),
            ),
        ];
        given
            .into_iter()
            .filter(|(_, given)| *given)
            .map(|(key, _)| key)
            .collect()
    }

    /// Applies the engine settings to `config`: fuel consumption (for
    /// `fuel`), epoch checks (for `epoch-interruption` or `timeout`), the
    /// stack size and the proposals.
    pub fn configure(&self, config: &mut kiln::Config) {
        if self.fuel.is_some() {
            config.consume_fuel(true);
        }
        if self.epoch_interruption == Some(true) || self.timeout.is_some() {
            config.epoch_interruption(true);
        }
        if let Some(size) = self.max_wasm_stack {
            config.max_wasm_stack(size);
        }
        if let Some(on) = self.bulk_memory {
            config.wasm_bulk_memory(on);
        }
        if let Some(on) = self.multi_value {
            config.wasm_multi_value(on);
        }
        if let Some(on) = self.reference_types {
            config.wasm_reference_types(on);
        }
        if let Some(on) = self.simd {
            config.wasm_simd(on);
        }
    }

    /// The store limits the `max-*` and `trap-on-grow-failure` keys ask for.
    pub fn store_limits(&self) -> kiln::StoreLimits {
        let mut limits = kiln::StoreLimitsBuilder::new();
        if let Some(n) = self.max_memory_size {
            limits = limits.memory_size(n);
        }
        if let Some(n) = self.max_table_elements {
            limits = limits.table_elements(n);
        }
        if let Some(n) = self.max_instances {
            limits = limits.instances(n);
        }
        if let Some(n) = self.max_tables {
            limits = limits.tables(n);
        }
        if let Some(n) = self.max_memories {
            limits = limits.memories(n);
        }
        if let Some(trap) = self.trap_on_grow_failure {
            limits = limits.trap_on_grow_failure(trap);
        }
        limits.build()
    }
}

/// A proposal Kiln does not implement: only `=n` is accepted.
const fn missing_proposal(name: &'static str, help: &'static str) -> Key<Wasm> {
    Key {
        name,
        value: "[=y|n]",
        help,
        action: Action::MissingFeature,
    }
}

impl Group for Wasm {
    const SHORT: char = 'W';
    const LONG: &'static str = "wasm";
    const KEYS: &'static [Key<Wasm>] = &[
        Key {
            name: "fuel",
            value: "=N",
            help: "run with N units of fuel (one per instruction); trap when it runs out",
            action: Action::Set(|w, v| {
                w.fuel = Some(number(v)?);
                Ok(())
            }),
        },
        Key {
            name: "timeout",
            value: "=N|Ns|Nms|..",
            help: "interrupt WebAssembly (a trap) after this long; uses epoch interruption",
            action: Action::Set(|w, v| {
                w.timeout = Some(duration(v)?);
                Ok(())
            }),
        },
        Key {
            name: "epoch-interruption",
            value: "[=y|n]",
            help: "compile epoch checks (no deadline is set unless `timeout` is given)",
            action: Action::Set(|w, v| {
                w.epoch_interruption = Some(flag(v)?);
                Ok(())
            }),
        },
        Key {
            name: "max-wasm-stack",
            value: "=N",
            help: "bytes of stack WebAssembly may use before it traps (default 512 KiB)",
            action: Action::Set(|w, v| {
                w.max_wasm_stack = Some(number(v)?);
                Ok(())
            }),
        },
        Key {
            name: "bulk-memory",
            value: "[=y|n]",
            help: "the bulk-memory proposal (default on)",
            action: Action::Set(|w, v| {
                w.bulk_memory = Some(flag(v)?);
                Ok(())
            }),
        },
        Key {
            name: "multi-value",
            value: "[=y|n]",
            help: "the multi-value proposal (default on)",
            action: Action::Set(|w, v| {
                w.multi_value = Some(flag(v)?);
                Ok(())
            }),
        },
        Key {
            name: "reference-types",
            value: "[=y|n]",
            help: "the reference-types proposal (default on)",
            action: Action::Set(|w, v| {
                w.reference_types = Some(flag(v)?);
                Ok(())
            }),
        },
        Key {
            name: "simd",
            value: "[=y|n]",
            help: "the SIMD proposal (default off; Kiln does not implement it yet, so `simd` fails)",
            action: Action::Set(|w, v| {
                w.simd = Some(flag(v)?);
                Ok(())
            }),
        },
        Key {
            name: "max-memory-size",
            value: "=N",
            help: "bytes a linear memory may grow to; beyond, memory.grow returns -1",
            action: Action::Set(|w, v| {
                w.max_memory_size = Some(number(v)?);
                Ok(())
            }),
        },
        Key {
            name: "max-table-elements",
            value: "=N",
            help: "elements a table may grow to",
            action: Action::Set(|w, v| {
                w.max_table_elements = Some(number(v)?);
                Ok(())
            }),
        },
        Key {
            name: "max-instances",
            value: "=N",
            help: "instances the store may hold",
            action: Action::Set(|w, v| {
                w.max_instances = Some(number(v)?);
                Ok(())
            }),
        },
        Key {
            name: "max-tables",
            value: "=N",
            help: "tables the store may hold",
            action: Action::Set(|w, v| {
                w.max_tables = Some(number(v)?);
                Ok(())
            }),
        },
        Key {
            name: "max-memories",
            value: "=N",
            help: "linear memories the store may hold",
            action: Action::Set(|w, v| {
                w.max_memories = Some(number(v)?);
                Ok(())
            }),
        },
        Key {
            name: "trap-on-grow-failure",
            value: "[=y|n]",
            help: "trap instead of returning -1 when memory.grow or table.grow fails",
            action: Action::Set(|w, v| {
                w.trap_on_grow_failure = Some(flag(v)?);
                Ok(())
            }),
        },
        Key {
            name: "unknown-exports-allow",
            value: "[=y|n]",
            help: "kiln run never refuses a module for exporting more than it runs",
            action: Action::Ignored(|v| flag(v).map(drop)),
        },
        Key {
            name: "unknown-imports-trap",
            value: "[=y|n]",
            help: "define the main module's unresolved function imports as functions that trap",
            action: Action::Set(|w, v| {
                w.unknown_imports_trap = Some(flag(v)?);
                Ok(())
            }),
        },
        Key {
            name: "unknown-imports-default",
            value: "[=y|n]",
            help: "define the main module's unresolved imports as default values",
            action: Action::Set(|w, v| {
                w.unknown_imports_default = Some(flag(v)?);
                Ok(())
            }),
        },
        Key {
            name: "nan-canonicalization",
            value: "[=y|n]",
            help: "NaN canonicalization",
            action: Action::MissingFeature,
        },
        Key {
            name: "all-proposals",
            value: "[=y|n]",
            help: "every proposal wasmtime implements",
            action: Action::MissingFeature,
        },
        Key {
            name: "wmemcheck",
            value: "[=y|n]",
            help: "wasmtime's memory checker for malloc/free",
            action: Action::MissingFeature,
        },
        missing_proposal("multi-memory", "the multi-memory proposal"),
        missing_proposal(
            "relaxed-simd-deterministic",
            "deterministic relaxed-simd results",
        ),
        missing_proposal(
            "shared-everything-threads",
            "the shared-everything-threads proposal",
        ),
        missing_proposal("relaxed-simd", "the relaxed-simd proposal"),
        missing_proposal("tail-call", "the tail-call proposal"),
        missing_proposal("threads", "the threads proposal"),
        missing_proposal("shared-memory", "shared memories"),
        missing_proposal("memory64", "the memory64 proposal"),
        missing_proposal("extended-const", "the extended-const proposal"),
        missing_proposal("function-references", "the function-references proposal"),
        missing_proposal("gc", "the GC proposal"),
        missing_proposal("exceptions", "the exception-handling proposal"),
        missing_proposal("custom-page-sizes", "the custom-page-sizes proposal"),
        missing_proposal("wide-arithmetic", "the wide-arithmetic proposal"),
        missing_proposal("stack-switching", "the stack-switching proposal"),
        missing_proposal("component-model", "the component model"),
        Key {
            name: "async-stack-zeroing",
            value: "[=y|n]",
            help: "async stacks: Kiln has no async support",
            action: Action::MissingFeature,
        },
        Key {
            name: "async-stack-size",
            value: "=N",
            help: "async stacks: Kiln has no async support",
            action: Action::Missing,
        },
    ];
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{parse_settings, resolve};

    fn wasm(text: &str) -> Wasm {
        resolve(&[parse_settings::<Wasm>(text).unwrap()]).unwrap()
    }

    #[test]
    fn every_implemented_key_sets_its_field() {
        let w = wasm(
            "fuel=5,timeout=100ms,epoch-interruption,max-wasm-stack=4096,bulk-memory=n,\
             multi-value=n,reference-types=n,simd,max-memory-size=65536,max-table-elements=3,\
             max-instances=2,max-tables=4,max-memories=5,trap-on-grow-failure,\
             unknown-exports-allow,unknown-imports-trap,unknown-imports-default",
        );
        assert_eq!(
            w,
            Wasm {
                fuel: Some(5),
                epoch_interruption: Some(true),
                max_wasm_stack: Some(4096),
                timeout: Some(Duration::from_millis(100)),
                bulk_memory: Some(false),
                multi_value: Some(false),
                reference_types: Some(false),
                simd: Some(true),
                max_memory_size: Some(65536),
                max_table_elements: Some(3),
                max_instances: Some(2),
                max_tables: Some(4),
                max_memories: Some(5),
                trap_on_grow_failure: Some(true),
                unknown_imports_trap: Some(true),
                unknown_imports_default: Some(true),
            }
        );
        assert_eq!(wasm("max-wasm-stack=8").run_only_keys(), Vec::<&str>::new());
        assert_eq!(
            wasm("fuel=1,max-tables=1").run_only_keys(),
            ["fuel", "max-tables"]
        );
    }
}
