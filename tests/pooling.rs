//! The pooling instance allocator: concurrency limits, modules that can
//! never fit, size caps, slot reuse and tenant isolation.

#[path = "common/watchdog.rs"]
mod watchdog;

use kiln::{
    Config, Engine, Instance, InstanceAllocationStrategy, Linker, Module,
    PoolConcurrencyLimitError, PoolingAllocationConfig, Store, Trap,
};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use std::time::Duration;

fn pooled(configure: impl FnOnce(&mut PoolingAllocationConfig)) -> Engine {
    let mut pool = PoolingAllocationConfig::new();
    configure(&mut pool);
    let mut config = Config::new();
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config).expect("valid configuration")
}

fn limit_error(err: &kiln::Error) -> String {
    err.downcast_ref::<PoolConcurrencyLimitError>()
        .unwrap_or_else(|| panic!("not a pool limit error: {err:#}"))
        .to_string()
}

#[test]
fn instance_slots_are_limited_and_returned_when_the_store_drops() -> kiln::Result<()> {
    let engine = pooled(|pool| {
        pool.total_core_instances(2);
    });
    let module = Module::new(&engine, "(module)")?;
    let mut a = Store::new(&engine, ());
    Instance::new(&mut a, &module, &[])?;
    let mut b = Store::new(&engine, ());
    Instance::new(&mut b, &module, &[])?;
    // Every slot is taken, by either store.
    let err = Instance::new(&mut Store::new(&engine, ()), &module, &[]).unwrap_err();
    assert_eq!(
        limit_error(&err),
        "maximum concurrent limit of 2 for core instances reached"
    );
    let err = Instance::new(&mut a, &module, &[]).unwrap_err();
    assert!(err.is::<PoolConcurrencyLimitError>());
    drop(a);
    let mut c = Store::new(&engine, ());
    Instance::new(&mut c, &module, &[])?;
    assert!(Instance::new(&mut c, &module, &[]).is_err());
    drop(b);
    drop(c);
    // All free again.
    let mut d = Store::new(&engine, ());
    Instance::new(&mut d, &module, &[])?;
    Instance::new(&mut d, &module, &[])?;
    Ok(())
}

#[test]
fn memory_and_table_slots_are_limited_separately() -> kiln::Result<()> {
    let engine = pooled(|pool| {
        pool.total_memories(1).total_tables(1);
    });
    let with_memory = Module::new(&engine, "(module (memory 1))")?;
    let with_table = Module::new(&engine, "(module (table 1 funcref))")?;
    let plain = Module::new(&engine, "(module)")?;
    let mut store = Store::new(&engine, ());
    Instance::new(&mut store, &with_memory, &[])?;
    Instance::new(&mut store, &with_table, &[])?;
    let err = Instance::new(&mut store, &with_memory, &[]).unwrap_err();
    assert_eq!(
        limit_error(&err),
        "maximum concurrent limit of 1 for memories reached"
    );
    let err = Instance::new(&mut store, &with_table, &[]).unwrap_err();
    assert_eq!(
        limit_error(&err),
        "maximum concurrent limit of 1 for tables reached"
    );
    Instance::new(&mut store, &plain, &[])?;
    Ok(())
}

#[test]
fn a_failed_instantiation_returns_the_slots_it_took() -> kiln::Result<()> {
    let engine = pooled(|pool| {
        pool.total_core_instances(1)
            .total_memories(1)
            .total_tables(0);
    });
    let both = Module::new(&engine, "(module (memory 1) (table 1 funcref))")?;
    let memory_only = Module::new(&engine, "(module (memory 1))")?;
    let mut store = Store::new(&engine, ());
    for _ in 0..3 {
        let err = Instance::new(&mut store, &both, &[]).unwrap_err();
        assert!(limit_error(&err).contains("tables"));
    }
    // The instance and memory slots taken by the failed attempts are free.
    Instance::new(&mut store, &memory_only, &[])?;
    Ok(())
}

#[test]
fn modules_that_can_never_fit_are_rejected_with_the_limit_they_exceed() -> kiln::Result<()> {
    let engine = pooled(|pool| {
        pool.max_memory_size(2 << 16)
            .table_elements(10)
            .max_memories_per_module(1)
            .max_tables_per_module(1);
    });
    let mut store = Store::new(&engine, ());
    let mut instantiate = |wat: &str| -> String {
        let module = Module::new(&engine, wat).unwrap();
        let err = Instance::new(&mut store, &module, &[]).unwrap_err();
        assert!(!err.is::<PoolConcurrencyLimitError>(), "{err}");
        err.to_string()
    };
    assert_eq!(
        instantiate("(module (memory 3))"),
        "memory index 0 has a minimum byte size of 196608 which exceeds the limit of 131072 bytes"
    );
    assert_eq!(
        instantiate("(module (table 11 funcref))"),
        "table index 0 has a minimum element size of 11 which exceeds the limit of 10"
    );
    assert_eq!(
        instantiate("(module (table 1 funcref) (table 1 funcref))"),
        "defined tables count of 2 exceeds the per-instance limit of 1"
    );
    // Imported memories and tables do not count against the module.
    let no_memories = pooled(|pool| {
        pool.max_memories_per_module(0);
    });
    let module = Module::new(&no_memories, "(module (memory 1))")?;
    let err = Instance::new(&mut Store::new(&no_memories, ()), &module, &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "defined memories count of 1 exceeds the per-instance limit of 0"
    );
    let mut linker = Linker::new(&no_memories);
    let mut store = Store::new(&no_memories, ());
    let memory = kiln::Memory::new(&mut store, kiln::MemoryType::new(1, None))?;
    linker.define(&store, "env", "memory", memory)?;
    let importer = Module::new(
        &no_memories,
        r#"(module (import "env" "memory" (memory 1)))"#,
    )?;
    linker.instantiate(&mut store, &importer)?;

    let tiny_vmctx = pooled(|pool| {
        pool.max_core_instance_size(64);
    });
    let module = Module::new(
        &tiny_vmctx,
        "(module (func) (func) (func) (func) (global i32 (i32.const 0)))",
    )?;
    let err = Instance::new(&mut Store::new(&tiny_vmctx, ()), &module, &[]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("instance allocation for this module requires")
            && text.ends_with("which exceeds the configured maximum of 64 bytes"),
        "{text}"
    );
    Ok(())
}

#[test]
fn pooled_memories_and_tables_cannot_grow_past_their_slot() -> kiln::Result<()> {
    let engine = pooled(|pool| {
        pool.max_memory_size(3 << 16).table_elements(4);
    });
    let module = Module::new(
        &engine,
        r#"(module (memory (export "memory") 1) (table (export "table") 1 funcref)
             (func (export "grow_memory") (param i32) (result i32) (memory.grow (local.get 0)))
             (func (export "grow_table") (param i32) (result i32)
               (table.grow (ref.null func) (local.get 0))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let grow_memory = instance.get_typed_func::<i32, i32>(&mut store, "grow_memory")?;
    let grow_table = instance.get_typed_func::<i32, i32>(&mut store, "grow_table")?;
    assert_eq!(grow_memory.call(&mut store, 2)?, 1);
    assert_eq!(grow_memory.call(&mut store, 1)?, -1);
    assert_eq!(grow_table.call(&mut store, 3)?, 1);
    assert_eq!(grow_table.call(&mut store, 1)?, -1);
    // The host API is capped the same way.
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    assert!(memory.grow(&mut store, 1).is_err());
    assert_eq!(memory.size(&store), 3);
    let table = instance.get_table(&mut store, "table").unwrap();
    assert!(table.grow(&mut store, 1, kiln::Ref::Func(None)).is_err());
    Ok(())
}

#[test]
fn no_byte_of_one_tenant_is_visible_to_the_next() -> kiln::Result<()> {
    // One slot of each kind, so every tenant reuses the same storage.
    let engine = pooled(|pool| {
        pool.total_core_instances(1)
            .total_memories(1)
            .total_tables(1)
            .max_memory_size(4 << 16);
    });
    let module = Module::new(
        &engine,
        r#"(module
             (memory (export "memory") 1 4)
             (table $t 4 funcref)
             (global $secret (mut i64) (i64.const 0))
             (func $f (result i32) i32.const 7)
             (elem declare func $f)
             (func (export "pollute") (param $fill i32)
               (drop (memory.grow (i32.const 3)))
               (memory.fill (i32.const 0) (local.get $fill) (i32.const 262144))
               (table.fill $t (i32.const 0) (ref.func $f) (i32.const 4))
               (global.set $secret (i64.const 0x5ec2e7)))
             (func (export "pages") (result i32) memory.size)
             (func (export "nonzero") (result i32) (local $i i32) (local $found i32)
               (block $done
                 (loop $scan
                   (br_if $done (i32.ge_u (local.get $i) (i32.mul (memory.size) (i32.const 65536))))
                   (local.set $found (i32.or (local.get $found) (i32.load8_u (local.get $i))))
                   (local.set $i (i32.add (local.get $i) (i32.const 1)))
                   (br $scan)))
               local.get $found)
             (func (export "secret") (result i64) global.get $secret)
             (func (export "table_nulls") (result i32) (local $i i32) (local $n i32)
               (loop $l
                 (local.set $n (i32.add (local.get $n) (ref.is_null (table.get $t (local.get $i)))))
                 (local.set $i (i32.add (local.get $i) (i32.const 1)))
                 (br_if $l (i32.lt_u (local.get $i) (i32.const 4))))
               local.get $n))"#,
    )?;
    for tenant in 0..4 {
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let get = |store: &mut Store<()>, name: &str| -> kiln::Result<i32> {
            instance
                .get_typed_func::<(), i32>(&mut *store, name)?
                .call(&mut *store, ())
        };
        // Fresh state, whatever the previous tenant did.
        assert_eq!(get(&mut store, "pages")?, 1, "tenant {tenant}");
        assert_eq!(get(&mut store, "nonzero")?, 0, "tenant {tenant}");
        assert_eq!(get(&mut store, "table_nulls")?, 4, "tenant {tenant}");
        let secret = instance.get_typed_func::<(), i64>(&mut store, "secret")?;
        assert_eq!(secret.call(&mut store, ())?, 0, "tenant {tenant}");
        // Pages grown by this tenant are zero too (they were the previous
        // tenant's pages).
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        memory.grow(&mut store, 3)?;
        assert!(
            memory.data(&store).iter().all(|&b| b == 0),
            "tenant {tenant}"
        );

        // Leave secrets behind everywhere.
        instance
            .get_typed_func::<i32, ()>(&mut store, "pollute")?
            .call(&mut store, 0xA5)?;
        assert_eq!(memory.data(&store)[262_143], 0xA5);
        assert_eq!(get(&mut store, "table_nulls")?, 0);
        // The store is dropped here, returning its slots.
    }
    Ok(())
}

#[test]
fn a_large_memory_the_guest_only_partly_touched_is_reset_too() -> kiln::Result<()> {
    // One memory slot shared by a large memory (an anonymous mapping on
    // unix, whose reset zeroes the pages near its data segment in place and
    // gives the rest back to the kernel) and a small one that starts on the
    // heap and grows into a mapping.
    let engine = pooled(|pool| {
        pool.total_core_instances(1)
            .total_memories(1)
            .total_tables(1)
            .max_memory_size(16 << 20);
    });
    let large = Module::new(
        &engine,
        r#"(module
             (memory (export "memory") 64)
             (data (i32.const 100) "init")
             (func (export "poke") (param $at i32) (param $value i32)
               (i32.store8 (local.get $at) (local.get $value))))"#,
    )?;
    let small = Module::new(
        &engine,
        r#"(module
             (memory (export "memory") 1)
             (func (export "poke") (param $at i32) (param $value i32)
               (i32.store8 (local.get $at) (local.get $value))))"#,
    )?;
    let mib = 1usize << 20;
    let tenants = [&large, &large, &small, &large, &small, &small, &large];
    for (tenant, module) in tenants.into_iter().enumerate() {
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, module, &[])?;
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        let initial = memory.data_size(&store);
        // Nothing but this module's own data segment, whatever earlier
        // tenants wrote where.
        let mut expected = vec![0u8; initial];
        if std::ptr::eq(module, &large) {
            expected[100..104].copy_from_slice(b"init");
        }
        assert!(
            memory.data(&store) == expected.as_slice(),
            "tenant {tenant}"
        );
        // Grown pages are zero too.
        memory.grow(&mut store, 64)?;
        let size = memory.data_size(&store);
        assert!(
            memory.data(&store)[initial..].iter().all(|&b| b == 0),
            "tenant {tenant}"
        );

        // Leave a few bytes behind on scattered pages, from the guest and
        // the host: in the first page, beyond the data segment's page, far
        // into the memory, on its last page.
        let poke = instance.get_typed_func::<(i32, i32), ()>(&mut store, "poke")?;
        for at in [5, 70_000, mib + 4097, 3 * mib + 1, size - 1] {
            if at < size {
                poke.call(&mut store, (at as i32, 0xA5))?;
            }
        }
        memory.data_mut(&mut store)[size / 2] = 0x5A;
        assert_eq!(memory.data(&store)[size - 1], 0xA5);
    }
    Ok(())
}

#[test]
fn each_engine_has_its_own_pool() -> kiln::Result<()> {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_core_instances(1);
    let mut config = Config::new();
    config.allocation_strategy(pool);
    let first = Engine::new(&config)?;
    let second = Engine::new(&config)?;
    let a = Module::new(&first, "(module)")?;
    let b = Module::new(&second, "(module)")?;
    let mut store_a = Store::new(&first, ());
    Instance::new(&mut store_a, &a, &[])?;
    let mut store_b = Store::new(&second, ());
    Instance::new(&mut store_b, &b, &[])?;
    assert!(Instance::new(&mut store_a, &a, &[]).is_err());
    // The default strategy has no such limit.
    let on_demand =
        Engine::new(Config::new().allocation_strategy(InstanceAllocationStrategy::OnDemand))?;
    let module = Module::new(&on_demand, "(module (memory 1) (table 1 funcref))")?;
    let mut store = Store::new(&on_demand, ());
    for _ in 0..2_000 {
        Instance::new(&mut store, &module, &[])?;
    }
    Ok(())
}

#[test]
fn stores_on_many_threads_share_the_pool() {
    // If a slot were never returned, the threads waiting for one would
    // retry forever: the watchdog turns that into a failure.
    watchdog::within(
        "8 threads sharing 2 pool slots",
        Duration::from_secs(20),
        threads_contend_for_fewer_slots_than_threads,
    );
}

fn threads_contend_for_fewer_slots_than_threads() {
    const THREADS: usize = 8;
    const SLOTS: usize = 2;
    const ROUNDS: i32 = 25;
    let engine = pooled(|pool| {
        pool.total_core_instances(SLOTS as u32)
            .total_memories(SLOTS as u32)
            .total_tables(SLOTS as u32);
    });
    // `work` returns what the slot's previous tenant left in memory (must
    // be 0: slots are zeroed on release) and leaves its own mark.
    let module = Module::new(
        &engine,
        r#"(module (memory 1) (table 1 funcref)
             (func (export "work") (param i32) (result i32)
               (i32.load (i32.const 0))
               (i32.store (i32.const 0) (local.get 0))))"#,
    )
    .unwrap();

    /// What the threads share: the number of live instances (raised after
    /// an instantiation succeeds and lowered before its store drops, so it
    /// never exceeds the slots really in use), its peak, and counters.
    #[derive(Default)]
    struct Shared {
        live: AtomicUsize,
        peak: AtomicUsize,
        first_winners: AtomicUsize,
        first_refusals: AtomicUsize,
        later_refusals: AtomicUsize,
        rounds_done: AtomicUsize,
    }
    let shared = Arc::new(Shared::default());
    // Takes a slot in a new store, or returns `None` if the pool refused
    // with a `PoolConcurrencyLimitError` (any other error fails the test).
    let occupy = {
        let (engine, module, shared) = (engine.clone(), module.clone(), shared.clone());
        move || -> Option<(Store<()>, Instance)> {
            let mut store = Store::new(&engine, ());
            match Instance::new(&mut store, &module, &[]) {
                Ok(instance) => {
                    let live = shared.live.fetch_add(1, SeqCst) + 1;
                    assert!(live <= SLOTS, "{live} instances live in a pool of {SLOTS}");
                    shared.peak.fetch_max(live, SeqCst);
                    Some((store, instance))
                }
                Err(err) => {
                    // Whichever kind of slot ran out first.
                    let message = limit_error(&err);
                    assert!(
                        ["core instances", "memories", "tables"]
                            .iter()
                            .any(|kind| message
                                == format!(
                                    "maximum concurrent limit of {SLOTS} for {kind} reached"
                                )),
                        "{message}"
                    );
                    None
                }
            }
        }
    };
    let release = {
        let shared = shared.clone();
        move |(store, _): (Store<()>, Instance)| {
            shared.live.fetch_sub(1, SeqCst);
            drop(store);
        }
    };
    let work = |(store, instance): &mut (Store<()>, Instance), mark: i32| {
        let work = instance
            .get_typed_func::<i32, i32>(&mut *store, "work")
            .unwrap();
        assert_eq!(work.call(&mut *store, mark).unwrap(), 0, "a dirty slot");
    };

    let start = Arc::new(Barrier::new(THREADS));
    let attempted = Arc::new(Barrier::new(THREADS));
    let released = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS as i32)
        .map(|t| {
            let (occupy, release) = (occupy.clone(), release.clone());
            let (start, attempted, released) = (start.clone(), attempted.clone(), released.clone());
            let shared = shared.clone();
            std::thread::spawn(move || {
                // Everyone tries at once while the winners hold their slot:
                // exactly SLOTS succeed, the rest are refused.
                start.wait();
                let first = occupy();
                if first.is_some() {
                    shared.first_winners.fetch_add(1, SeqCst);
                } else {
                    shared.first_refusals.fetch_add(1, SeqCst);
                }
                attempted.wait();
                assert_eq!(shared.first_winners.load(SeqCst), SLOTS);
                assert_eq!(shared.first_refusals.load(SeqCst), THREADS - SLOTS);
                if let Some(mut tenant) = first {
                    work(&mut tenant, t * 1000 + 1);
                    release(tenant);
                }
                // The winners have dropped their stores: a refused thread
                // gets a slot by retrying, and so on for every round.
                released.wait();
                for round in 0..ROUNDS {
                    let mut tenant = loop {
                        if let Some(tenant) = occupy() {
                            break tenant;
                        }
                        shared.later_refusals.fetch_add(1, SeqCst);
                        std::thread::sleep(Duration::from_micros(200));
                    };
                    work(&mut tenant, t * 1000 + round + 2);
                    // Hold the slot a moment so that others contend for it.
                    std::thread::sleep(Duration::from_micros(100));
                    release(tenant);
                    shared.rounds_done.fetch_add(1, SeqCst);
                }
            })
        })
        .collect();
    for thread in threads {
        if let Err(panic) = thread.join() {
            std::panic::resume_unwind(panic);
        }
    }
    assert_eq!(shared.rounds_done.load(SeqCst), THREADS * ROUNDS as usize);
    assert_eq!(shared.peak.load(SeqCst), SLOTS);
    assert_eq!(shared.live.load(SeqCst), 0);
    println!(
        "{} refusals while {THREADS} threads did {ROUNDS} rounds each",
        shared.later_refusals.load(SeqCst)
    );
    // Every slot came back: SLOTS instances fit again, and no more.
    let mut store = Store::new(&engine, ());
    for _ in 0..SLOTS {
        Instance::new(&mut store, &module, &[]).unwrap();
    }
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert!(err.is::<PoolConcurrencyLimitError>(), "{err:#}");
}

#[test]
fn pooling_works_with_linker_commands_and_traps() -> kiln::Result<()> {
    let engine = pooled(|pool| {
        pool.total_core_instances(2);
    });
    let command = Module::new(
        &engine,
        r#"(module (memory (export "memory") 1) (func (export "_start"))
             (func (export "boom") unreachable))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.module(&mut store, "cmd", &command)?;
    let start = linker.get_default(&mut store, "cmd")?;
    // Defining a Command instantiates nothing; each call instantiates, and
    // instances live as long as their store: the third call finds no slot.
    start.call(&mut store, &[], &mut [])?;
    start.call(&mut store, &[], &mut [])?;
    let err = start.call(&mut store, &[], &mut []).unwrap_err();
    assert!(err.is::<PoolConcurrencyLimitError>(), "{err:#}");
    drop(store);
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.module(&mut store, "cmd", &command)?;
    let boom = linker
        .get(&mut store, "cmd", "boom")
        .unwrap()
        .into_func()
        .unwrap();
    let err = boom.call(&mut store, &[], &mut []).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::UnreachableCodeReached)
    );
    Ok(())
}
