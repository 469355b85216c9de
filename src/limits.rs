//! Store-level resource limits: the [`ResourceLimiter`] trait an embedder
//! installs with [`Store::limiter`](crate::Store::limiter), and
//! [`StoreLimits`], a ready-made limiter configured with
//! [`StoreLimitsBuilder`].
//!
//! The limiter is asked before every memory or table allocation the store
//! makes on WebAssembly's behalf: the initial allocation of an instance's
//! memories and tables, `memory.grow` and `table.grow` executed by running
//! code (through the runtime's growth builtins), and
//! [`Memory::grow`](crate::Memory::grow) / [`Table::grow`](crate::Table::grow)
//! called by the host. The counts it returns ([`ResourceLimiter::instances`],
//! [`ResourceLimiter::memories`], [`ResourceLimiter::tables`]) bound how many
//! instances, and memories and tables defined by instances, a store may ever
//! create.

use anyhow::{Result, bail};

/// What [`ResourceLimiter::instances`] returns unless overridden; also the
/// store's instance limit when no limiter is installed.
pub const DEFAULT_INSTANCE_LIMIT: usize = 10_000;
/// What [`ResourceLimiter::tables`] returns unless overridden; also the
/// store's table limit when no limiter is installed.
pub const DEFAULT_TABLE_LIMIT: usize = 10_000;
/// What [`ResourceLimiter::memories`] returns unless overridden; also the
/// store's memory limit when no limiter is installed.
pub const DEFAULT_MEMORY_LIMIT: usize = 10_000;

/// Decides whether a store may allocate or grow memories and tables, and how
/// many instances, memories and tables it may create.
///
/// Installed with [`Store::limiter`](crate::Store::limiter), which hands the
/// store a closure projecting the limiter out of the store's data (so the
/// limiter can keep its own accounting there).
///
/// The growth hooks are consulted for:
///
/// * the initial allocation of every memory and table an instance defines
///   (`current` is 0); refusing it fails the instantiation with
///   ``memory minimum size of N pages exceeds memory limits`` (or the table
///   equivalent), and an error is returned as the instantiation error;
/// * `memory.grow` / `table.grow` executed by WebAssembly: `Ok(false)` makes
///   the instruction return -1, `Err(e)` makes it trap with `e` as the error
///   the embedder's call returns;
/// * [`Memory::grow`](crate::Memory::grow) / [`Table::grow`](crate::Table::grow)
///   from the host: `Ok(false)` or `Err` makes the method fail.
///
/// Kiln differs from wasmtime in two small ways: memories and tables created
/// by the host with [`Memory::new`](crate::Memory::new) /
/// [`Table::new`](crate::Table::new) are not counted against
/// [`memories`](ResourceLimiter::memories) / [`tables`](ResourceLimiter::tables)
/// and their initial allocation is not reported to the growth hooks (their
/// later growth is); and the default `*_grow_failed` methods ignore the
/// error silently (Kiln has no logging dependency).
///
/// ```
/// # fn main() -> kiln::Result<()> {
/// use kiln::{Engine, Instance, Module, ResourceLimiter, Store};
///
/// /// Allows at most 2 pages per memory and counts refusals.
/// struct TwoPages { refused: u32 }
///
/// impl ResourceLimiter for TwoPages {
///     fn memory_growing(&mut self, _current: usize, desired: usize, _max: Option<usize>) -> kiln::Result<bool> {
///         let ok = desired <= 2 * 65_536;
///         self.refused += u32::from(!ok);
///         Ok(ok)
///     }
///     fn table_growing(&mut self, _current: usize, _desired: usize, _max: Option<usize>) -> kiln::Result<bool> {
///         Ok(true)
///     }
/// }
///
/// let engine = Engine::default();
/// let module = Module::new(&engine, r#"(module (memory 1)
///     (func (export "grow") (param i32) (result i32) local.get 0 memory.grow))"#)?;
/// let mut store = Store::new(&engine, TwoPages { refused: 0 });
/// store.limiter(|data| data as &mut dyn ResourceLimiter);
/// let instance = Instance::new(&mut store, &module, &[])?;
/// let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
/// assert_eq!(grow.call(&mut store, 1)?, 1);
/// assert_eq!(grow.call(&mut store, 1)?, -1);
/// assert_eq!(store.data().refused, 1);
/// # Ok(())
/// # }
/// ```
pub trait ResourceLimiter {
    /// A linear memory is about to grow from `current` to `desired` bytes
    /// (both multiples of the 64 KiB page size). `maximum` is the smaller of
    /// the memory's declared maximum and the instance allocator's limit, in
    /// bytes, or `None` if neither bounds it.
    ///
    /// Called even when `desired` exceeds `maximum` (the growth then fails
    /// whatever this returns); not called when the size would not fit in a
    /// `usize`, nor for a growth by 0 pages.
    ///
    /// Return `Ok(true)` to allow the growth, `Ok(false)` to refuse it
    /// (`memory.grow` returns -1, [`Memory::grow`](crate::Memory::grow)
    /// fails), or `Err` to make `memory.grow` trap with that error.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// use kiln::{ResourceLimiter, StoreLimitsBuilder};
    /// let mut limits = StoreLimitsBuilder::new().memory_size(65_536).build();
    /// assert!(limits.memory_growing(0, 65_536, None)?);
    /// assert!(!limits.memory_growing(65_536, 131_072, None)?);
    /// # Ok(())
    /// # }
    /// ```
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// A growth [`memory_growing`](ResourceLimiter::memory_growing) allowed
    /// has failed anyway: it exceeds the memory's maximum, or the host
    /// could not allocate the bytes. Not called when `memory_growing`
    /// returned an error.
    ///
    /// Returning `Err` makes `memory.grow` trap with that error instead of
    /// returning -1. The default ignores the failure.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// use kiln::{ResourceLimiter, StoreLimitsBuilder};
    /// let mut lenient = StoreLimitsBuilder::new().build();
    /// assert!(lenient.memory_grow_failed(kiln::Error::msg("too big")).is_ok());
    /// let mut strict = StoreLimitsBuilder::new().trap_on_grow_failure(true).build();
    /// assert!(strict.memory_grow_failed(kiln::Error::msg("too big")).is_err());
    /// # Ok(())
    /// # }
    /// ```
    fn memory_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        let _ = error;
        Ok(())
    }

    /// A table is about to grow from `current` to `desired` elements.
    /// `maximum` is the smaller of the table's declared maximum and the
    /// instance allocator's limit, or `None` if neither bounds it. Each
    /// element takes 8 bytes in Kiln.
    ///
    /// The return value means what it does for
    /// [`memory_growing`](ResourceLimiter::memory_growing).
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// use kiln::{ResourceLimiter, StoreLimitsBuilder};
    /// let mut limits = StoreLimitsBuilder::new().table_elements(10).build();
    /// assert!(limits.table_growing(0, 10, None)?);
    /// assert!(!limits.table_growing(10, 11, None)?);
    /// # Ok(())
    /// # }
    /// ```
    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// A growth [`table_growing`](ResourceLimiter::table_growing) allowed
    /// has failed anyway (it exceeds the table's maximum, or allocation
    /// failed). Returning `Err` makes `table.grow` trap with that error. The
    /// default ignores the failure.
    ///
    /// ```
    /// # fn main() -> kiln::Result<()> {
    /// use kiln::{ResourceLimiter, StoreLimitsBuilder};
    /// let mut strict = StoreLimitsBuilder::new().trap_on_grow_failure(true).build();
    /// let err = strict.table_grow_failed(kiln::Error::msg("full")).unwrap_err();
    /// assert!(format!("{err:#}").contains("full"));
    /// # Ok(())
    /// # }
    /// ```
    fn table_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        let _ = error;
        Ok(())
    }

    /// The most instances the store may create; instantiation fails beyond
    /// it. Read once, when the limiter is installed. Default
    /// [`DEFAULT_INSTANCE_LIMIT`].
    ///
    /// ```
    /// use kiln::{ResourceLimiter, StoreLimitsBuilder};
    /// assert_eq!(StoreLimitsBuilder::new().instances(3).build().instances(), 3);
    /// ```
    fn instances(&self) -> usize {
        DEFAULT_INSTANCE_LIMIT
    }

    /// The most tables instances of the store may define; instantiation
    /// fails beyond it. Read once, when the limiter is installed. Default
    /// [`DEFAULT_TABLE_LIMIT`].
    ///
    /// ```
    /// use kiln::{ResourceLimiter, StoreLimitsBuilder};
    /// assert_eq!(StoreLimitsBuilder::new().build().tables(), kiln::DEFAULT_TABLE_LIMIT);
    /// ```
    fn tables(&self) -> usize {
        DEFAULT_TABLE_LIMIT
    }

    /// The most linear memories instances of the store may define;
    /// instantiation fails beyond it. Read once, when the limiter is
    /// installed. Default [`DEFAULT_MEMORY_LIMIT`].
    ///
    /// ```
    /// use kiln::{ResourceLimiter, StoreLimitsBuilder};
    /// assert_eq!(StoreLimitsBuilder::new().memories(1).build().memories(), 1);
    /// ```
    fn memories(&self) -> usize {
        DEFAULT_MEMORY_LIMIT
    }
}

/// Builds a [`StoreLimits`].
///
/// ```
/// use kiln::StoreLimitsBuilder;
/// let limits = StoreLimitsBuilder::new()
///     .memory_size(1 << 20)
///     .table_elements(1_000)
///     .instances(10)
///     .tables(10)
///     .memories(10)
///     .trap_on_grow_failure(true)
///     .build();
/// # let _ = limits;
/// ```
#[derive(Clone, Debug, Default)]
pub struct StoreLimitsBuilder(StoreLimits);

impl StoreLimitsBuilder {
    /// A builder with the defaults: memories and tables unbounded (beyond
    /// their own maxima), 10,000 instances, tables and memories, growth
    /// failures returned as -1.
    ///
    /// ```
    /// let limits = kiln::StoreLimitsBuilder::new().build();
    /// # let _ = limits;
    /// ```
    pub fn new() -> StoreLimitsBuilder {
        StoreLimitsBuilder(StoreLimits::default())
    }

    /// The most bytes any one linear memory may grow to (each memory of a
    /// module may reach it). Unlimited by default.
    ///
    /// ```
    /// let limits = kiln::StoreLimitsBuilder::new().memory_size(2 * 65_536).build();
    /// # let _ = limits;
    /// ```
    pub fn memory_size(mut self, limit: usize) -> StoreLimitsBuilder {
        self.0.memory_size = Some(limit);
        self
    }

    /// The most elements any one table may grow to. Unlimited by default.
    ///
    /// ```
    /// let limits = kiln::StoreLimitsBuilder::new().table_elements(100).build();
    /// # let _ = limits;
    /// ```
    pub fn table_elements(mut self, limit: usize) -> StoreLimitsBuilder {
        self.0.table_elements = Some(limit);
        self
    }

    /// The most instances the store may create. Default 10,000.
    ///
    /// ```
    /// let limits = kiln::StoreLimitsBuilder::new().instances(1).build();
    /// # let _ = limits;
    /// ```
    pub fn instances(mut self, limit: usize) -> StoreLimitsBuilder {
        self.0.instances = limit;
        self
    }

    /// The most tables the store's instances may define. Default 10,000.
    ///
    /// ```
    /// let limits = kiln::StoreLimitsBuilder::new().tables(1).build();
    /// # let _ = limits;
    /// ```
    pub fn tables(mut self, tables: usize) -> StoreLimitsBuilder {
        self.0.tables = tables;
        self
    }

    /// The most linear memories the store's instances may define. Default
    /// 10,000.
    ///
    /// ```
    /// let limits = kiln::StoreLimitsBuilder::new().memories(1).build();
    /// # let _ = limits;
    /// ```
    pub fn memories(mut self, memories: usize) -> StoreLimitsBuilder {
        self.0.memories = memories;
        self
    }

    /// Whether a refused or failed `memory.grow` / `table.grow` traps
    /// instead of returning -1. Not what the WebAssembly specification
    /// says, but it pinpoints where a program ran out of memory. Off by
    /// default.
    ///
    /// ```
    /// let limits = kiln::StoreLimitsBuilder::new().trap_on_grow_failure(true).build();
    /// # let _ = limits;
    /// ```
    pub fn trap_on_grow_failure(mut self, trap: bool) -> StoreLimitsBuilder {
        self.0.trap_on_grow_failure = trap;
        self
    }

    /// The configured limits.
    ///
    /// ```
    /// let limits: kiln::StoreLimits = kiln::StoreLimitsBuilder::new().build();
    /// # let _ = limits;
    /// ```
    pub fn build(self) -> StoreLimits {
        self.0
    }
}

/// A [`ResourceLimiter`] with fixed limits, made by [`StoreLimitsBuilder`];
/// keep it in the store's data and install it with
/// [`Store::limiter`](crate::Store::limiter).
///
/// ```
/// # fn main() -> kiln::Result<()> {
/// use kiln::{Engine, Instance, Module, Store, StoreLimits, StoreLimitsBuilder};
/// struct Data { limits: StoreLimits }
/// let engine = Engine::default();
/// let mut store = Store::new(&engine, Data {
///     limits: StoreLimitsBuilder::new().memory_size(65_536).build(),
/// });
/// store.limiter(|data| &mut data.limits);
/// let big = Module::new(&engine, "(module (memory 2))")?;
/// let err = Instance::new(&mut store, &big, &[]).unwrap_err();
/// assert!(err.to_string().contains("exceeds memory limits"), "{err}");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct StoreLimits {
    memory_size: Option<usize>,
    table_elements: Option<usize>,
    instances: usize,
    tables: usize,
    memories: usize,
    trap_on_grow_failure: bool,
}

impl Default for StoreLimits {
    fn default() -> StoreLimits {
        StoreLimits {
            memory_size: None,
            table_elements: None,
            instances: DEFAULT_INSTANCE_LIMIT,
            tables: DEFAULT_TABLE_LIMIT,
            memories: DEFAULT_MEMORY_LIMIT,
            trap_on_grow_failure: false,
        }
    }
}

/// Whether growing to `desired` is within `limit` and `maximum`.
fn within(desired: usize, limit: Option<usize>, maximum: Option<usize>) -> bool {
    limit.is_none_or(|limit| desired <= limit) && maximum.is_none_or(|max| desired <= max)
}

impl ResourceLimiter for StoreLimits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        let allow = within(desired, self.memory_size, maximum);
        if !allow && self.trap_on_grow_failure {
            bail!("forcing trap when growing memory to {desired} bytes");
        }
        Ok(allow)
    }

    fn memory_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        if self.trap_on_grow_failure {
            return Err(error.context("forcing a memory growth failure to be a trap"));
        }
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        let allow = within(desired, self.table_elements, maximum);
        if !allow && self.trap_on_grow_failure {
            bail!("forcing trap when growing table to {desired} elements");
        }
        Ok(allow)
    }

    fn table_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        if self.trap_on_grow_failure {
            return Err(error.context("forcing a table growth failure to be a trap"));
        }
        Ok(())
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn tables(&self) -> usize {
        self.tables
    }

    fn memories(&self) -> usize {
        self.memories
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_limits_follow_the_builder() {
        let mut limits = StoreLimitsBuilder::new()
            .memory_size(100)
            .table_elements(5)
            .build();
        assert!(limits.memory_growing(0, 100, None).unwrap());
        assert!(!limits.memory_growing(0, 101, None).unwrap());
        assert!(!limits.memory_growing(0, 50, Some(40)).unwrap());
        assert!(limits.table_growing(0, 5, Some(5)).unwrap());
        assert!(!limits.table_growing(0, 6, None).unwrap());
        limits.memory_grow_failed(anyhow::anyhow!("x")).unwrap();
        limits.table_grow_failed(anyhow::anyhow!("x")).unwrap();
        assert_eq!(limits.instances(), DEFAULT_INSTANCE_LIMIT);

        let mut trapping = StoreLimitsBuilder::new()
            .memory_size(100)
            .table_elements(5)
            .trap_on_grow_failure(true)
            .build();
        let err = trapping.memory_growing(0, 200, None).unwrap_err();
        assert!(err.to_string().contains("200 bytes"), "{err}");
        let err = trapping.table_growing(0, 6, None).unwrap_err();
        assert!(err.to_string().contains("6 elements"), "{err}");
        assert!(trapping.memory_growing(0, 100, None).unwrap());
    }
}
