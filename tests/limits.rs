//! Resource limits: `StoreLimits` and custom `ResourceLimiter`s, for growth
//! from WebAssembly and the host, initial allocations and instance counts.

use kiln::{
    Config, Engine, Instance, Linker, Memory, MemoryType, Module, PoolingAllocationConfig, Ref,
    RefType, ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder, Table, TableType, Trap,
};

const PAGE: usize = 65_536;

struct Data {
    limits: StoreLimits,
}

fn limited_store(engine: &Engine, limits: StoreLimitsBuilder) -> Store<Data> {
    let mut store = Store::new(
        engine,
        Data {
            limits: limits.build(),
        },
    );
    store.limiter(|data| &mut data.limits);
    store
}

const GROWER: &str = r#"(module
    (memory (export "memory") 1 10)
    (table (export "table") 1 10 funcref)
    (func (export "grow_memory") (param i32) (result i32) (memory.grow (local.get 0)))
    (func (export "grow_table") (param i32) (result i32)
      (table.grow (ref.null func) (local.get 0))))"#;

fn grower(
    store: &mut Store<Data>,
    module: &Module,
) -> kiln::Result<(Instance, [kiln::TypedFunc<i32, i32>; 2])> {
    let instance = Instance::new(&mut *store, module, &[])?;
    let memory = instance.get_typed_func::<i32, i32>(&mut *store, "grow_memory")?;
    let table = instance.get_typed_func::<i32, i32>(&mut *store, "grow_table")?;
    Ok((instance, [memory, table]))
}

#[test]
fn store_limits_refuse_growth_with_minus_one() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, GROWER)?;
    let mut store = limited_store(
        &engine,
        StoreLimitsBuilder::new()
            .memory_size(3 * PAGE)
            .table_elements(5),
    );
    let (instance, [grow_memory, grow_table]) = grower(&mut store, &module)?;
    assert_eq!(grow_memory.call(&mut store, 2)?, 1);
    assert_eq!(grow_memory.call(&mut store, 1)?, -1);
    assert_eq!(grow_memory.call(&mut store, 0)?, 3);
    assert_eq!(grow_table.call(&mut store, 4)?, 1);
    assert_eq!(grow_table.call(&mut store, 1)?, -1);
    // Beyond the declared maximum: -1 as well.
    assert_eq!(grow_table.call(&mut store, 100)?, -1);

    // The host API consults the limiter too.
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    let err = memory.grow(&mut store, 1).unwrap_err();
    assert_eq!(err.to_string(), "failed to grow memory by `1`");
    assert_eq!(memory.size(&store), 3);
    let table = instance.get_table(&mut store, "table").unwrap();
    assert!(table.grow(&mut store, 1, Ref::Func(None)).is_err());
    assert_eq!(table.size(&store), 5);
    // Host-created memories are limited when they grow.
    let host = Memory::new(&mut store, MemoryType::new(3, None))?;
    assert!(host.grow(&mut store, 1).is_err());
    let host_table = Table::new(
        &mut store,
        TableType::new(RefType::FUNCREF, 5, None),
        Ref::Func(None),
    )?;
    assert!(host_table.grow(&mut store, 1, Ref::Func(None)).is_err());
    Ok(())
}

#[test]
fn trap_on_grow_failure_turns_refusals_into_traps() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, GROWER)?;
    let mut store = limited_store(
        &engine,
        StoreLimitsBuilder::new()
            .memory_size(3 * PAGE)
            .table_elements(5)
            .trap_on_grow_failure(true),
    );
    let (instance, [grow_memory, grow_table]) = grower(&mut store, &module)?;
    assert_eq!(grow_memory.call(&mut store, 2)?, 1);
    let err = grow_memory.call(&mut store, 1).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("forcing trap when growing memory to {} bytes", 4 * PAGE)
    );
    assert_eq!(grow_table.call(&mut store, 4)?, 1);
    let err = grow_table.call(&mut store, 1).unwrap_err();
    assert_eq!(
        err.to_string(),
        "forcing trap when growing table to 6 elements"
    );
    // The store is still usable, and nothing grew.
    assert_eq!(grow_memory.call(&mut store, 0)?, 3);
    assert_eq!(grow_table.call(&mut store, 0)?, 5);

    // Exceeding the declared maximum (reported to the limiter) traps too.
    let mut roomy = limited_store(
        &engine,
        StoreLimitsBuilder::new().trap_on_grow_failure(true),
    );
    let (_, [grow_memory, grow_table]) = grower(&mut roomy, &module)?;
    let err = grow_memory.call(&mut roomy, 10).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("forcing trap when growing memory to {} bytes", 11 * PAGE)
    );
    let err = grow_table.call(&mut roomy, 10).unwrap_err();
    assert_eq!(
        err.to_string(),
        "forcing trap when growing table to 11 elements"
    );
    // A growth the limiter allows but that fails anyway (here: past 4 GiB,
    // or Kiln's table-size limit, for types without a maximum) goes through
    // `*_grow_failed`, which traps as well.
    let unbounded = Module::new(
        &engine,
        r#"(module (memory 1) (table 1 funcref)
             (func (export "grow_memory") (param i32) (result i32) (memory.grow (local.get 0)))
             (func (export "grow_table") (param i32) (result i32)
               (table.grow (ref.null func) (local.get 0))))"#,
    )?;
    let (_, [grow_memory, grow_table]) = grower(&mut roomy, &unbounded)?;
    let err = grow_memory.call(&mut roomy, 65_536).unwrap_err();
    let chain = format!("{err:#}");
    assert!(
        chain.contains("forcing a memory growth failure to be a trap"),
        "{chain}"
    );
    assert!(chain.contains("Memory maximum size exceeded"), "{chain}");
    let err = grow_table.call(&mut roomy, 20_000_000).unwrap_err();
    let chain = format!("{err:#}");
    assert!(
        chain.contains("forcing a table growth failure to be a trap"),
        "{chain}"
    );
    assert!(chain.contains("Table maximum size exceeded"), "{chain}");

    // From the host the refusal is the method's error.
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    let err = memory.grow(&mut store, 1).unwrap_err();
    assert!(err.to_string().contains("forcing trap"), "{err}");
    Ok(())
}

#[test]
fn initial_allocations_consult_the_limiter() -> kiln::Result<()> {
    let engine = Engine::default();
    let mut store = limited_store(
        &engine,
        StoreLimitsBuilder::new()
            .memory_size(PAGE)
            .table_elements(10),
    );
    let big_memory = Module::new(&engine, "(module (memory 2))")?;
    let err = Instance::new(&mut store, &big_memory, &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "memory minimum size of 2 pages exceeds memory limits"
    );
    let big_table = Module::new(&engine, "(module (table 11 funcref))")?;
    let err = Instance::new(&mut store, &big_table, &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "table minimum size of 11 elements exceeds table limits"
    );
    let fits = Module::new(&engine, "(module (memory 1) (table 10 funcref))")?;
    Instance::new(&mut store, &fits, &[])?;
    // A memory whose declared maximum is below its growth request is fine
    // to create: only the minimum is allocated.
    let bounded = Module::new(&engine, "(module (memory 1 100))")?;
    Instance::new(&mut store, &bounded, &[])?;
    Ok(())
}

#[test]
fn instance_memory_and_table_counts_are_limited() -> kiln::Result<()> {
    let engine = Engine::default();
    let plain = Module::new(&engine, "(module)")?;
    let with_memory = Module::new(&engine, "(module (memory 0))")?;
    let with_tables = Module::new(&engine, "(module (table 0 funcref) (table 0 externref))")?;

    let mut store = limited_store(&engine, StoreLimitsBuilder::new().instances(2));
    Instance::new(&mut store, &plain, &[])?;
    Instance::new(&mut store, &plain, &[])?;
    let err = Instance::new(&mut store, &plain, &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "resource limit exceeded: instance count too high at 3"
    );
    // Through a linker as well.
    let linker = Linker::new(&engine);
    assert!(linker.instantiate(&mut store, &plain).is_err());

    let mut store = limited_store(&engine, StoreLimitsBuilder::new().memories(1));
    Instance::new(&mut store, &with_memory, &[])?;
    Instance::new(&mut store, &plain, &[])?;
    let err = Instance::new(&mut store, &with_memory, &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "resource limit exceeded: memory count too high at 2"
    );

    let mut store = limited_store(&engine, StoreLimitsBuilder::new().tables(3));
    Instance::new(&mut store, &with_tables, &[])?;
    let err = Instance::new(&mut store, &with_tables, &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "resource limit exceeded: table count too high at 4"
    );
    Instance::new(&mut store, &with_memory, &[])?;
    Ok(())
}

/// A limiter that records every question and answers from a budget.
#[derive(Default)]
struct Recorder {
    memory_calls: Vec<(usize, usize, Option<usize>)>,
    table_calls: Vec<(usize, usize, Option<usize>)>,
    failures: Vec<String>,
    budget: usize,
    fail_with_error: bool,
}

#[derive(Debug)]
struct OutOfBudget(usize);

impl std::fmt::Display for OutOfBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "out of budget at {} bytes", self.0)
    }
}

impl std::error::Error for OutOfBudget {}

impl ResourceLimiter for Recorder {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> kiln::Result<bool> {
        self.memory_calls.push((current, desired, maximum));
        if desired > self.budget && self.fail_with_error {
            return Err(OutOfBudget(desired).into());
        }
        Ok(desired <= self.budget)
    }

    fn memory_grow_failed(&mut self, error: kiln::Error) -> kiln::Result<()> {
        self.failures.push(error.to_string());
        Ok(())
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> kiln::Result<bool> {
        self.table_calls.push((current, desired, maximum));
        Ok(true)
    }

    fn table_grow_failed(&mut self, error: kiln::Error) -> kiln::Result<()> {
        self.failures.push(error.to_string());
        Ok(())
    }
}

#[test]
fn a_custom_limiter_sees_every_allocation() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, GROWER)?;
    let mut store = Store::new(
        &engine,
        Recorder {
            budget: 4 * PAGE,
            ..Recorder::default()
        },
    );
    store.limiter(|recorder| recorder as &mut dyn ResourceLimiter);
    let instance = Instance::new(&mut store, &module, &[])?;
    let grow_memory = instance.get_typed_func::<i32, i32>(&mut store, "grow_memory")?;
    let grow_table = instance.get_typed_func::<i32, i32>(&mut store, "grow_table")?;
    assert_eq!(grow_memory.call(&mut store, 1)?, 1);
    assert_eq!(grow_memory.call(&mut store, 0)?, 2);
    assert_eq!(grow_memory.call(&mut store, 3)?, -1);
    assert_eq!(grow_table.call(&mut store, 2)?, 1);
    assert_eq!(grow_table.call(&mut store, 50)?, -1);
    let max = Some(10 * PAGE);
    assert_eq!(
        store.data().memory_calls,
        // Initial allocation, +1 page, (growth by 0 is not reported), +3.
        [
            (0, PAGE, max),
            (PAGE, 2 * PAGE, max),
            (2 * PAGE, 5 * PAGE, max)
        ]
    );
    assert_eq!(
        store.data().table_calls,
        [(0, 1, Some(10)), (1, 3, Some(10)), (3, 53, Some(10))]
    );
    // Allowed by the limiter but beyond the table's maximum.
    assert_eq!(store.data().failures, ["Table maximum size exceeded"]);

    // An error from the limiter is a trap whose error is the limiter's.
    store.data_mut().fail_with_error = true;
    let err = grow_memory.call(&mut store, 5).unwrap_err();
    assert_eq!(err.downcast_ref::<OutOfBudget>().unwrap().0, 7 * PAGE);
    assert!(err.downcast_ref::<Trap>().is_none());
    assert_eq!(grow_memory.call(&mut store, 0)?, 2);
    Ok(())
}

#[test]
fn the_limiter_sees_the_pooling_allocator_maximum() -> kiln::Result<()> {
    let mut pool = PoolingAllocationConfig::default();
    pool.max_memory_size(5 * PAGE).table_elements(7);
    let mut config = Config::new();
    config.allocation_strategy(pool);
    let engine = Engine::new(&config)?;
    let unbounded = Module::new(&engine, "(module (memory 1) (table 1 funcref))")?;
    let mut store = Store::new(
        &engine,
        Recorder {
            budget: usize::MAX,
            ..Recorder::default()
        },
    );
    store.limiter(|recorder| recorder as &mut dyn ResourceLimiter);
    Instance::new(&mut store, &unbounded, &[])?;
    assert_eq!(store.data().memory_calls, [(0, PAGE, Some(5 * PAGE))]);
    assert_eq!(store.data().table_calls, [(0, 1, Some(7))]);
    // Without a pool and without a declared maximum there is no maximum.
    let plain = Engine::default();
    let mut store = Store::new(
        &plain,
        Recorder {
            budget: usize::MAX,
            ..Recorder::default()
        },
    );
    store.limiter(|recorder| recorder as &mut dyn ResourceLimiter);
    let module = Module::new(&plain, "(module (memory 1) (table 1 funcref))")?;
    Instance::new(&mut store, &module, &[])?;
    assert_eq!(store.data().memory_calls, [(0, PAGE, None)]);
    assert_eq!(store.data().table_calls, [(0, 1, None)]);
    Ok(())
}

#[test]
fn without_a_limiter_the_defaults_apply() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, GROWER)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow_memory")?;
    assert_eq!(grow.call(&mut store, 9)?, 1);
    assert_eq!(grow.call(&mut store, 1)?, -1);
    // 10,000 instances per store.
    let plain = Module::new(&engine, "(module)")?;
    for _ in 1..kiln::DEFAULT_INSTANCE_LIMIT {
        Instance::new(&mut store, &plain, &[])?;
    }
    let err = Instance::new(&mut store, &plain, &[]).unwrap_err();
    assert!(
        err.to_string().contains("instance count too high at 10001"),
        "{err}"
    );
    Ok(())
}

struct Panicky;

impl ResourceLimiter for Panicky {
    fn memory_growing(&mut self, _: usize, desired: usize, _: Option<usize>) -> kiln::Result<bool> {
        if desired > PAGE {
            panic!("limiter exploded");
        }
        Ok(true)
    }

    fn table_growing(&mut self, _: usize, _: usize, _: Option<usize>) -> kiln::Result<bool> {
        Ok(true)
    }
}

#[test]
fn a_panicking_limiter_unwinds_into_the_embedder_not_through_wasm() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, GROWER)?;
    let mut store = Store::new(&engine, Panicky);
    store.limiter(|limiter| limiter as &mut dyn ResourceLimiter);
    let instance = Instance::new(&mut store, &module, &[])?;
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow_memory")?;
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = grow.call(&mut store, 1);
    }))
    .unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"limiter exploded"));
    // The store is still usable and the memory unchanged.
    assert_eq!(grow.call(&mut store, 0)?, 1);
    Ok(())
}
