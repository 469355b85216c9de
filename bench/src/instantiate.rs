//! Instantiation throughput: how many instances per second an engine
//! creates the way a server does for each request — a fresh `Store`, one
//! instantiation into it, the store dropped (which returns pooled slots) —
//! for Kiln and for wasmtime with Cranelift, in three [`Mode`]s.
//!
//! Every import of a measured module must be a function: the stubs live in
//! a `Linker` shared by all requests, and only functions can be defined
//! there without a store (memories, tables and globals belong to one).

use crate::engines::{self, EngineId};
use anyhow::{Context, Result, anyhow, bail};
use std::path::PathBuf;

/// How each request instantiates the module.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// `Linker::instantiate` with on-demand allocation: the imports are
    /// looked up by name and type-checked on every request.
    Linker,
    /// `InstancePre::instantiate` with on-demand allocation.
    Pre,
    /// `InstancePre::instantiate` with the pooling allocator.
    PrePooling,
}

impl Mode {
    /// Every mode, in report order.
    pub const ALL: [Mode; 3] = [Mode::Linker, Mode::Pre, Mode::PrePooling];

    /// The name used in the child's records.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Linker => "linker",
            Mode::Pre => "pre",
            Mode::PrePooling => "pre-pooling",
        }
    }

    /// Looks a mode up by [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Whether the mode uses the pooling allocator.
    pub fn pooled(self) -> bool {
        self == Mode::PrePooling
    }

    /// What the mode calls, for the report.
    pub fn describe(self) -> &'static str {
        match self {
            Mode::Linker => "`Linker::instantiate`, on-demand",
            Mode::Pre => "`InstancePre::instantiate`, on-demand",
            Mode::PrePooling => "`InstancePre::instantiate`, pooling",
        }
    }
}

/// The small module: one page of memory with a data segment, a table of
/// four functions filled by an element segment, a mutable global, and a few
/// small functions using each of them. No imports.
pub const SMALL_WAT: &str = r#"
(module
  (memory (export "memory") 1)
  (table 4 funcref)
  (global $calls (mut i32) (i32.const 0))
  (type $binary (func (param i32 i32) (result i32)))
  (func $add (type $binary) (i32.add (local.get 0) (local.get 1)))
  (func $sub (type $binary) (i32.sub (local.get 0) (local.get 1)))
  (func $mul (type $binary) (i32.mul (local.get 0) (local.get 1)))
  (func $first (type $binary) (local.get 0))
  (func (export "apply") (param $op i32) (param $a i32) (param $b i32) (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (call_indirect (type $binary) (local.get $a) (local.get $b) (local.get $op)))
  (func (export "load") (param $addr i32) (result i32)
    (i32.load8_u (local.get $addr)))
  (func (export "calls") (result i32) (global.get $calls))
  (elem (i32.const 0) $add $sub $mul $first)
  (data (i32.const 16) "a per-request instance"))
"#;

/// The modules of `bench/modules/` the section measures besides the small
/// one: a mid-sized C program with a large initial memory, and a large Go
/// program with a great many data segments.
pub const LARGE_MODULES: [&str; 2] = ["sql-wasm.wasm", "esbuild.wasm"];

/// What a child instantiates.
#[derive(Clone, Debug)]
pub enum Target {
    /// [`SMALL_WAT`].
    Small,
    /// A module file.
    File(PathBuf),
}

impl Target {
    /// The module's bytes.
    pub fn bytes(&self) -> Result<Vec<u8>> {
        match self {
            Target::Small => wat::parse_str(SMALL_WAT).context("parsing the small module"),
            Target::File(path) => {
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
            }
        }
    }
}

/// The parts of a module that size the pool, and describe the module in
/// the report.
#[derive(Clone, Debug, Default)]
pub struct Shape {
    /// Functions the module defines.
    pub functions: u32,
    /// Imports of any kind.
    pub imports: u32,
    /// Imports that are not functions.
    pub other_imports: u32,
    /// Memories the module defines.
    pub memories: u32,
    /// Tables the module defines.
    pub tables: u32,
    /// The largest initial size of a defined memory, in 64 KiB pages.
    pub memory_pages: u64,
    /// The largest initial size of a defined table, in elements.
    pub table_elements: u64,
    /// Data segments.
    pub data_segments: u32,
    /// Bytes in all data segments.
    pub data_bytes: u64,
}

impl Shape {
    /// Reads the shape of `wasm`; fails if it does not parse.
    pub fn of(wasm: &[u8]) -> Result<Shape> {
        use wasmparser::{Payload, TypeRef};
        let mut shape = Shape::default();
        for payload in wasmparser::Parser::new(0).parse_all(wasm) {
            match payload.context("parsing the module")? {
                Payload::FunctionSection(s) => shape.functions = s.count(),
                Payload::ImportSection(s) => {
                    for import in s.into_imports() {
                        shape.imports += 1;
                        if !matches!(import?.ty, TypeRef::Func(_)) {
                            shape.other_imports += 1;
                        }
                    }
                }
                Payload::MemorySection(s) => {
                    for memory in s {
                        shape.memories += 1;
                        shape.memory_pages = shape.memory_pages.max(memory?.initial);
                    }
                }
                Payload::TableSection(s) => {
                    for table in s {
                        shape.tables += 1;
                        shape.table_elements = shape.table_elements.max(table?.ty.initial);
                    }
                }
                Payload::DataSection(s) => {
                    for data in s {
                        shape.data_segments += 1;
                        shape.data_bytes += data?.data.len() as u64;
                    }
                }
                _ => {}
            }
        }
        Ok(shape)
    }
}

/// Slots of each kind (instances, memories, tables) in the pool: one is
/// in use at a time, the rest are there as a server's would be.
pub const POOL_SLOTS: u32 = 10;

/// The fewest elements a pooled table may hold (wasmtime's and Kiln's
/// default); raised to the module's largest initial table size if that is
/// larger.
pub const POOL_TABLE_ELEMENTS: usize = 20_000;

/// The largest a pooled memory may grow (wasmtime's and Kiln's default on
/// 64-bit hosts), above the initial size of any 32-bit memory.
pub const POOL_MEMORY_BYTES: u64 = 1 << 32;

/// The largest instance (vmctx) a pool slot holds: generous, so that no
/// module is refused for it.
pub const POOL_INSTANCE_BYTES: usize = 16 << 20;

/// The pooling allocator's limits, the same for both engines.
#[derive(Copy, Clone, Debug)]
pub struct PoolLimits {
    /// Instance, memory and table slots ([`POOL_SLOTS`] each).
    pub slots: u32,
    /// Bytes per memory slot.
    pub max_memory_size: usize,
    /// Elements per table slot.
    pub table_elements: usize,
    /// Memories one module may define.
    pub memories_per_module: u32,
    /// Tables one module may define.
    pub tables_per_module: u32,
    /// Bytes of one instance.
    pub max_core_instance_size: usize,
}

impl PoolLimits {
    /// Limits that fit a module of `shape`: [`POOL_SLOTS`] slots of each
    /// kind, [`POOL_MEMORY_BYTES`] per memory, tables of at least
    /// [`POOL_TABLE_ELEMENTS`] elements, as many memories and tables per
    /// module as it defines (at least one), [`POOL_INSTANCE_BYTES`] per
    /// instance.
    pub fn for_shape(shape: &Shape) -> Result<PoolLimits> {
        let memory_bytes = shape.memory_pages.saturating_mul(1 << 16);
        if memory_bytes > POOL_MEMORY_BYTES {
            bail!("an initial memory of {memory_bytes} bytes does not fit the pool's memory slots");
        }
        let table_elements = usize::try_from(shape.table_elements)
            .context("the module's table is too large for this host")?;
        Ok(PoolLimits {
            slots: POOL_SLOTS,
            max_memory_size: usize::try_from(POOL_MEMORY_BYTES).unwrap_or(usize::MAX),
            table_elements: table_elements.max(POOL_TABLE_ELEMENTS),
            memories_per_module: shape.memories.max(1),
            tables_per_module: shape.tables.max(1),
            max_core_instance_size: POOL_INSTANCE_BYTES,
        })
    }

    fn kiln(&self) -> kiln::PoolingAllocationConfig {
        let mut pool = kiln::PoolingAllocationConfig::new();
        pool.total_core_instances(self.slots)
            .total_memories(self.slots)
            .total_tables(self.slots)
            .max_memory_size(self.max_memory_size)
            .table_elements(self.table_elements)
            .max_memories_per_module(self.memories_per_module)
            .max_tables_per_module(self.tables_per_module)
            .max_core_instance_size(self.max_core_instance_size);
        pool
    }

    fn wasmtime(&self) -> wasmtime::PoolingAllocationConfig {
        let mut pool = wasmtime::PoolingAllocationConfig::new();
        pool.total_core_instances(self.slots)
            .total_memories(self.slots)
            .total_tables(self.slots)
            .max_memory_size(self.max_memory_size)
            .table_elements(self.table_elements)
            .max_memories_per_module(self.memories_per_module)
            .max_tables_per_module(self.tables_per_module)
            .max_core_instance_size(self.max_core_instance_size);
        pool
    }
}

/// One request: create a store, instantiate the module into it, drop the
/// store.
pub type Request = Box<dyn FnMut() -> Result<()>>;

/// The modes with the pooling allocator (`pooled`) or without, each with
/// what one request does. `wasm` is compiled once for all of them, by an
/// engine with that allocation strategy, and its imports linked to stubs;
/// none of this set-up is part of a request.
pub fn requests(engine: EngineId, pooled: bool, wasm: &[u8]) -> Result<Vec<(Mode, Request)>> {
    let shape = Shape::of(wasm)?;
    if shape.other_imports > 0 {
        bail!(
            "the module imports {} memories, tables or globals; only imported functions \
             can be stubbed once for every request",
            shape.other_imports
        );
    }
    let pool = pooled.then(|| PoolLimits::for_shape(&shape)).transpose()?;
    let modes: Vec<Mode> = Mode::ALL
        .into_iter()
        .filter(|m| m.pooled() == pooled)
        .collect();
    match engine {
        EngineId::Kiln => kiln_requests(pool, &modes, wasm),
        EngineId::WasmtimeCranelift => wasmtime_requests(pool, &modes, wasm),
        other => bail!("{other} is not measured for instantiation throughput"),
    }
}

fn kiln_requests(
    pool: Option<PoolLimits>,
    modes: &[Mode],
    wasm: &[u8],
) -> Result<Vec<(Mode, Request)>> {
    let mut config = kiln::Config::new();
    // The `kiln` engine of the kernel tables: the interpreter, explicitly.
    config.strategy(kiln::Strategy::Interpreter);
    if let Some(pool) = pool {
        config.allocation_strategy(kiln::InstanceAllocationStrategy::Pooling(pool.kiln()));
    }
    let engine = kiln::Engine::new(&config)?;
    let module = kiln::Module::new(&engine, wasm).context("compiling")?;
    let linker = kiln_stubs(&engine, &module)?;
    let mut requests = Vec::new();
    for &mode in modes {
        let engine = engine.clone();
        let request: Request = match mode {
            Mode::Linker => {
                let (linker, module) = (linker.clone(), module.clone());
                Box::new(move || {
                    let mut store = kiln::Store::new(&engine, ());
                    linker.instantiate(&mut store, &module)?;
                    Ok(())
                })
            }
            Mode::Pre | Mode::PrePooling => {
                let pre = linker
                    .instantiate_pre(&module)
                    .context("pre-instantiating")?;
                Box::new(move || {
                    let mut store = kiln::Store::new(&engine, ());
                    pre.instantiate(&mut store)?;
                    Ok(())
                })
            }
        };
        requests.push((mode, request));
    }
    Ok(requests)
}

/// A linker defining every (function) import of `module` as a stub that
/// traps.
fn kiln_stubs(engine: &kiln::Engine, module: &kiln::Module) -> Result<kiln::Linker<()>> {
    let mut linker = kiln::Linker::new(engine);
    linker.allow_shadowing(true);
    for import in module.imports() {
        let (m, n) = (import.module(), import.name());
        let kiln::ExternType::Func(ty) = import.ty() else {
            bail!("import {m}::{n} is not a function");
        };
        let message = engines::stub_message(m, n);
        linker.func_new(m, n, ty, move |_, _, _| Err(anyhow!("{message}")))?;
    }
    Ok(linker)
}

fn wasmtime_requests(
    pool: Option<PoolLimits>,
    modes: &[Mode],
    wasm: &[u8],
) -> Result<Vec<(Mode, Request)>> {
    let mut config = wasmtime::Config::new();
    config.strategy(wasmtime::Strategy::Cranelift);
    if let Some(pool) = pool {
        config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(
            pool.wasmtime(),
        ));
    }
    let engine = wasmtime::Engine::new(&config)?;
    let module = wasmtime::Module::new(&engine, wasm)
        .map_err(anyhow::Error::from)
        .context("compiling")?;
    let linker = wasmtime_stubs(&engine, &module)?;
    let mut requests = Vec::new();
    for &mode in modes {
        let engine = engine.clone();
        let request: Request = match mode {
            Mode::Linker => {
                let (linker, module) = (linker.clone(), module.clone());
                Box::new(move || {
                    let mut store = wasmtime::Store::new(&engine, ());
                    linker.instantiate(&mut store, &module)?;
                    Ok(())
                })
            }
            Mode::Pre | Mode::PrePooling => {
                let pre = linker
                    .instantiate_pre(&module)
                    .map_err(anyhow::Error::from)
                    .context("pre-instantiating")?;
                Box::new(move || {
                    let mut store = wasmtime::Store::new(&engine, ());
                    pre.instantiate(&mut store)?;
                    Ok(())
                })
            }
        };
        requests.push((mode, request));
    }
    Ok(requests)
}

/// A linker defining every (function) import of `module` as a stub that
/// traps.
fn wasmtime_stubs(
    engine: &wasmtime::Engine,
    module: &wasmtime::Module,
) -> Result<wasmtime::Linker<()>> {
    let mut linker = wasmtime::Linker::new(engine);
    linker.allow_shadowing(true);
    for import in module.imports() {
        let (m, n) = (import.module(), import.name());
        let wasmtime::ExternType::Func(ty) = import.ty() else {
            bail!("import {m}::{n} is not a function");
        };
        let message = engines::stub_message(m, n);
        linker.func_new(m, n, ty, move |_, _, _| {
            Err(wasmtime::Error::msg(message.clone()))
        })?;
    }
    Ok(linker)
}
