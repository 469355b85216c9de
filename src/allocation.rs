//! How an engine allocates the instances, memories and tables its modules
//! need: [`InstanceAllocationStrategy`], selected with
//! [`Config::allocation_strategy`](crate::Config::allocation_strategy).
//!
//! On demand (the default), every instance allocates its vmctx, memories
//! and tables from the global allocator and frees them when its store is
//! dropped. The pooling strategy bounds how many of each may be live at once
//! across all stores of the engine, bounds their sizes, and reuses the
//! storage of released slots instead of returning it to the allocator; see
//! [`PoolingAllocationConfig`].

use std::fmt;

/// Where instances, and the memories and tables they define, get their
/// storage from.
///
/// ```
/// # fn main() -> kiln::Result<()> {
/// use kiln::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};
/// let mut pool = PoolingAllocationConfig::default();
/// pool.total_core_instances(100);
/// let mut config = Config::new();
/// config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
/// let engine = Engine::new(&config)?;
/// # let _ = engine;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub enum InstanceAllocationStrategy {
    /// Allocate everything when an instance is created, free it when its
    /// store is dropped. The default.
    #[default]
    OnDemand,
    /// Take everything from per-engine pools of bounded slots that are
    /// reset and reused; see [`PoolingAllocationConfig`].
    Pooling(PoolingAllocationConfig),
}

impl InstanceAllocationStrategy {
    /// The pooling strategy with the default [`PoolingAllocationConfig`].
    ///
    /// ```
    /// let mut config = kiln::Config::new();
    /// config.allocation_strategy(kiln::InstanceAllocationStrategy::pooling());
    /// ```
    pub fn pooling() -> InstanceAllocationStrategy {
        InstanceAllocationStrategy::Pooling(PoolingAllocationConfig::default())
    }
}

impl From<PoolingAllocationConfig> for InstanceAllocationStrategy {
    fn from(config: PoolingAllocationConfig) -> InstanceAllocationStrategy {
        InstanceAllocationStrategy::Pooling(config)
    }
}

/// The limits of the pooling instance allocator
/// ([`InstanceAllocationStrategy::Pooling`]).
///
/// The pool belongs to the engine and is shared by all its stores. It has a
/// fixed number of slots for instances (each instance's vmctx block), for
/// linear memories and for tables. Instantiating a module takes one
/// instance slot plus one slot per memory and table the module defines;
/// dropping the store returns them. When every slot of a kind is taken,
/// instantiation fails with a [`PoolConcurrencyLimitError`]. A module that
/// could never fit (too many memories or tables, a memory or table whose
/// minimum exceeds the slot size, a vmctx larger than
/// [`max_core_instance_size`](Self::max_core_instance_size)) fails to
/// instantiate with an error saying which limit it exceeds. Memories and
/// tables never grow beyond their slot's size.
///
/// Released slots are reset before anyone else can use them: a memory's
/// bytes and an instance's vmctx are zeroed when the store is dropped, so
/// no data of one tenant is ever visible to the next.
///
/// Kiln differs from wasmtime in how slots are backed: instead of reserving
/// virtual memory for every slot up front, a slot allocates its storage the
/// first time it is used and then keeps it (up to
/// [`max_unused_warm_slots`](Self::max_unused_warm_slots) idle slots keep
/// their storage), so the pool costs nothing for slots never used. On unix
/// a memory slot's storage is an anonymous mapping, sized to what its
/// tenants needed so far (small memories, and memories that their data
/// segments mostly fill, use the heap): it grows with `mremap` on Linux,
/// and is reset by zeroing in place the first pages (those its module's
/// data segments write, at least 64 KiB) and returning the rest to the
/// kernel with `madvise`, which makes them read as zero again, so a reset
/// costs little however large the memory grew. Elsewhere storage comes from
/// the global allocator and is reset by zeroing it. Memories and tables
/// created by the host
/// ([`Memory::new`](crate::Memory::new), [`Table::new`](crate::Table::new))
/// are allocated on demand, outside the pool.
///
/// ```
/// # fn main() -> kiln::Result<()> {
/// use kiln::{Config, Engine, Instance, Module, PoolingAllocationConfig, Store};
/// let mut pool = PoolingAllocationConfig::default();
/// pool.total_core_instances(1).total_memories(1).max_memory_size(1 << 20);
/// let mut config = Config::new();
/// config.allocation_strategy(pool);
/// let engine = Engine::new(&config)?;
/// let module = Module::new(&engine, "(module (memory 1))")?;
/// let mut store = Store::new(&engine, ());
/// Instance::new(&mut store, &module, &[])?;
/// // The only instance slot is taken until `store` is dropped.
/// let err = Instance::new(&mut Store::new(&engine, ()), &module, &[]).unwrap_err();
/// assert!(err.is::<kiln::PoolConcurrencyLimitError>());
/// drop(store);
/// Instance::new(&mut Store::new(&engine, ()), &module, &[])?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct PoolingAllocationConfig {
    pub(crate) total_core_instances: u32,
    pub(crate) total_memories: u32,
    pub(crate) total_tables: u32,
    pub(crate) max_memory_size: usize,
    pub(crate) table_elements: usize,
    pub(crate) max_memories_per_module: u32,
    pub(crate) max_tables_per_module: u32,
    pub(crate) max_core_instance_size: usize,
    pub(crate) max_unused_warm_slots: u32,
}

impl Default for PoolingAllocationConfig {
    fn default() -> PoolingAllocationConfig {
        PoolingAllocationConfig {
            total_core_instances: 1_000,
            total_memories: 1_000,
            total_tables: 1_000,
            max_memory_size: if cfg!(target_pointer_width = "64") {
                1 << 32
            } else {
                10 << 20
            },
            table_elements: 20_000,
            max_memories_per_module: 1,
            max_tables_per_module: 1,
            max_core_instance_size: 1 << 20,
            max_unused_warm_slots: 100,
        }
    }
}

impl PoolingAllocationConfig {
    /// The default limits (those of wasmtime): 1,000 instances, memories
    /// and tables; one memory of at most 4 GiB and one table of at most
    /// 20,000 elements per module; a vmctx of at most 1 MiB; 100 idle slots
    /// of each kind keep their storage.
    ///
    /// ```
    /// let pool = kiln::PoolingAllocationConfig::new();
    /// # let _ = pool;
    /// ```
    pub fn new() -> PoolingAllocationConfig {
        PoolingAllocationConfig::default()
    }

    /// How many instances may be live at once, across all stores of the
    /// engine. Default 1,000.
    ///
    /// ```
    /// kiln::PoolingAllocationConfig::new().total_core_instances(10);
    /// ```
    pub fn total_core_instances(&mut self, count: u32) -> &mut Self {
        self.total_core_instances = count;
        self
    }

    /// How many linear memories defined by instances may be live at once,
    /// across all stores of the engine. Default 1,000.
    ///
    /// ```
    /// kiln::PoolingAllocationConfig::new().total_memories(10);
    /// ```
    pub fn total_memories(&mut self, count: u32) -> &mut Self {
        self.total_memories = count;
        self
    }

    /// How many tables defined by instances may be live at once, across all
    /// stores of the engine. Default 1,000.
    ///
    /// ```
    /// kiln::PoolingAllocationConfig::new().total_tables(10);
    /// ```
    pub fn total_tables(&mut self, count: u32) -> &mut Self {
        self.total_tables = count;
        self
    }

    /// The most bytes a pooled linear memory may have: modules whose
    /// memories start larger are rejected, and `memory.grow` fails beyond
    /// it (rounded down to whole pages). Default 4 GiB (10 MiB on 32-bit
    /// hosts).
    ///
    /// ```
    /// kiln::PoolingAllocationConfig::new().max_memory_size(16 << 20);
    /// ```
    pub fn max_memory_size(&mut self, bytes: usize) -> &mut Self {
        self.max_memory_size = bytes;
        self
    }

    /// The most elements a pooled table may have: modules whose tables
    /// start larger are rejected, and `table.grow` fails beyond it. Default
    /// 20,000.
    ///
    /// ```
    /// kiln::PoolingAllocationConfig::new().table_elements(1_000);
    /// ```
    pub fn table_elements(&mut self, elements: usize) -> &mut Self {
        self.table_elements = elements;
        self
    }

    /// The most linear memories one module may define (imported memories
    /// do not count). Default 1.
    ///
    /// ```
    /// kiln::PoolingAllocationConfig::new().max_memories_per_module(2);
    /// ```
    pub fn max_memories_per_module(&mut self, count: u32) -> &mut Self {
        self.max_memories_per_module = count;
        self
    }

    /// The most tables one module may define (imported tables do not
    /// count). Default 1.
    ///
    /// ```
    /// kiln::PoolingAllocationConfig::new().max_tables_per_module(2);
    /// ```
    pub fn max_tables_per_module(&mut self, count: u32) -> &mut Self {
        self.max_tables_per_module = count;
        self
    }

    /// The largest vmctx block (in bytes) an instance may need; it grows
    /// with the numbers of functions, globals, memories, tables and
    /// segments of the module. Default 1 MiB.
    ///
    /// ```
    /// kiln::PoolingAllocationConfig::new().max_core_instance_size(64 << 10);
    /// ```
    pub fn max_core_instance_size(&mut self, bytes: usize) -> &mut Self {
        self.max_core_instance_size = bytes;
        self
    }

    /// How many released slots of each kind keep their storage for the
    /// next instance (beyond that, released storage is freed). Default 100.
    ///
    /// ```
    /// kiln::PoolingAllocationConfig::new().max_unused_warm_slots(10);
    /// ```
    pub fn max_unused_warm_slots(&mut self, count: u32) -> &mut Self {
        self.max_unused_warm_slots = count;
        self
    }
}

/// Declares wasmtime's `get_*` accessors, one per setting above.
macro_rules! pooling_getters {
    ($($getter:ident: $field:ident -> $ty:ty;)*) => {
        impl PoolingAllocationConfig {
            $(
                #[doc = concat!(
                    "The configured [`PoolingAllocationConfig::", stringify!($field), "`]."
                )]
                pub fn $getter(&self) -> $ty {
                    self.$field
                }
            )*
        }
    };
}

pooling_getters! {
    get_total_core_instances: total_core_instances -> u32;
    get_total_memories: total_memories -> u32;
    get_total_tables: total_tables -> u32;
    get_max_memory_size: max_memory_size -> usize;
    get_table_elements: table_elements -> usize;
    get_max_memories_per_module: max_memories_per_module -> u32;
    get_max_tables_per_module: max_tables_per_module -> u32;
    get_max_core_instance_size: max_core_instance_size -> usize;
    get_max_unused_warm_slots: max_unused_warm_slots -> u32;
}

/// Instantiation failed because every pool slot of one kind (core
/// instances, memories or tables) is in use; see
/// [`PoolingAllocationConfig`]. Returned inside an
/// [`Error`](crate::Error): use `err.downcast_ref::<PoolConcurrencyLimitError>()`.
///
/// ```
/// # fn main() -> kiln::Result<()> {
/// use kiln::{Config, Engine, Instance, Module, PoolConcurrencyLimitError, PoolingAllocationConfig, Store};
/// let mut pool = PoolingAllocationConfig::default();
/// pool.total_memories(0);
/// let mut config = Config::new();
/// config.allocation_strategy(pool);
/// let engine = Engine::new(&config)?;
/// let module = Module::new(&engine, "(module (memory 1))")?;
/// let err = Instance::new(&mut Store::new(&engine, ()), &module, &[]).unwrap_err();
/// let limit = err.downcast_ref::<PoolConcurrencyLimitError>().unwrap();
/// assert_eq!(limit.to_string(), "maximum concurrent limit of 0 for memories reached");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct PoolConcurrencyLimitError {
    limit: usize,
    kind: &'static str,
}

impl PoolConcurrencyLimitError {
    pub(crate) fn new(limit: usize, kind: &'static str) -> PoolConcurrencyLimitError {
        PoolConcurrencyLimitError { limit, kind }
    }
}

impl fmt::Display for PoolConcurrencyLimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "maximum concurrent limit of {} for {} reached",
            self.limit, self.kind
        )
    }
}

impl std::error::Error for PoolConcurrencyLimitError {}
