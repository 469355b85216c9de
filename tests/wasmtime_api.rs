//! Parts of wasmtime's API an embedding uses and Kiln provides under the
//! same names, exercised the way a wasmtime user writes them: epoch
//! deadline callbacks, call hooks, fuel from host functions, stack
//! captures, table and memory helpers, `externref` data, and the errors
//! host misuse gets.
//!
//! Everything that touches execution runs in every tier
//! (`tests/common/tiers.rs`), and the tiers must agree.

// The tiers are compared with native code, the `jit` feature.
#![cfg(feature = "jit")]

#[path = "common/tiers.rs"]
mod tiers;

use kiln::{
    CallHook, Caller, Config, Engine, Extern, ExternRef, Func, Instance, Linker, Module, Ref,
    RefType, Store, Table, TableType, Trap, UpdateDeadline, WasmBacktrace,
};
use std::sync::{Arc, Mutex};
use tiers::{Tier, engine_with, module, same_in_every_tier};

/// A loop calling nothing, `n` iterations, returning `n`.
const COUNT: &str = r#"(module
  (memory (export "memory") 1)
  (func $count (export "count") (param $n i32) (result i32) (local $i i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $i))
  (func $outer (export "outer") (param i32) (result i32)
    (call $count (local.get 0))))"#;

fn epoch_engine(tier: Tier) -> Engine {
    engine_with(tier, |c| {
        c.epoch_interruption(true);
    })
}

fn count_instance<T>(tier: Tier, store: &mut Store<T>) -> Instance {
    let module = module(tier, store.engine(), COUNT);
    Instance::new(&mut *store, &module, &[]).unwrap()
}

#[test]
fn epoch_callback_runs_at_each_check_and_continues() {
    // Continue(0) leaves the deadline reached, so the callback runs at every
    // check: the entries of `outer` and `count`, and each of the loop's
    // 11 header visits (10 iterations and the exit).
    let seen = same_in_every_tier("epoch callback, Continue(0)", |tier| {
        let mut store = Store::new(&epoch_engine(tier), 0u32);
        let instance = count_instance(tier, &mut store);
        store.epoch_deadline_callback(|mut cx| {
            *cx.data_mut() += 1;
            Ok(UpdateDeadline::Continue(0))
        });
        let outer = instance
            .get_typed_func::<i32, i32>(&mut store, "outer")
            .unwrap();
        let result = outer.call(&mut store, 10).unwrap();
        (result, *store.data())
    });
    assert_eq!(seen, (10, 13));
}

#[test]
fn epoch_callback_continue_moves_the_deadline() {
    same_in_every_tier("epoch callback, Continue(1)", |tier| {
        let mut store = Store::new(&epoch_engine(tier), 0u32);
        let instance = count_instance(tier, &mut store);
        store.epoch_deadline_callback(|mut cx| {
            *cx.data_mut() += 1;
            Ok(UpdateDeadline::Continue(1))
        });
        let count = instance
            .get_typed_func::<i32, i32>(&mut store, "count")
            .unwrap();
        // Reached at the entry only: the deadline is then one tick ahead
        // and the epoch does not move.
        assert_eq!(count.call(&mut store, 1000).unwrap(), 1000);
        assert_eq!(*store.data(), 1);
        store.engine().increment_epoch();
        assert_eq!(count.call(&mut store, 5).unwrap(), 5);
        assert_eq!(*store.data(), 2);
    });
}

#[test]
fn epoch_callback_error_is_the_calls_error() {
    let failure = same_in_every_tier("epoch callback error", |tier| {
        let mut store = Store::new(&epoch_engine(tier), 0u32);
        let instance = count_instance(tier, &mut store);
        store.epoch_deadline_callback(|mut cx| {
            *cx.data_mut() += 1;
            if *cx.data() == 5 {
                anyhow::bail!("deadline callback gave up");
            }
            Ok(UpdateDeadline::Continue(0))
        });
        let outer = instance
            .get_typed_func::<i32, i32>(&mut store, "outer")
            .unwrap();
        let err = outer.call(&mut store, 1_000_000).unwrap_err();
        assert!(err.downcast_ref::<Trap>().is_none(), "{err:?}");
        (tiers::failure(&err).message, *store.data())
    });
    assert_eq!(failure, ("deadline callback gave up".to_string(), 5));
}

#[test]
fn epoch_callback_interrupt_traps_with_a_backtrace() {
    let failure = same_in_every_tier("epoch callback Interrupt", |tier| {
        let mut store = Store::new(&epoch_engine(tier), 0u32);
        let instance = count_instance(tier, &mut store);
        store.epoch_deadline_callback(|mut cx| {
            *cx.data_mut() += 1;
            Ok(if *cx.data() < 4 {
                UpdateDeadline::Continue(0)
            } else {
                UpdateDeadline::Interrupt
            })
        });
        let outer = instance
            .get_typed_func::<i32, i32>(&mut store, "outer")
            .unwrap();
        let err = outer.call(&mut store, 1_000_000).unwrap_err();
        tiers::failure(&err)
    });
    assert_eq!(failure.trap, Some(Trap::Interrupt));
    assert_eq!(failure.names(), ["count", "outer"]);
}

#[test]
fn epoch_callback_yield_is_an_error_in_sync_calls() {
    same_in_every_tier("epoch callback Yield", |tier| {
        let mut store = Store::new(&epoch_engine(tier), ());
        let instance = count_instance(tier, &mut store);
        store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Yield(1)));
        let count = instance
            .get_typed_func::<i32, i32>(&mut store, "count")
            .unwrap();
        let err = count.call(&mut store, 3).unwrap_err();
        assert!(err.to_string().contains("Yield"), "{err:?}");
        // Back to trapping.
        store.epoch_deadline_trap();
        let err = count.call(&mut store, 3).unwrap_err();
        assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::Interrupt));
    });
}

#[test]
fn epoch_callback_may_grow_memory_running_code_uses() {
    // The callback grows the memory the running code has cached (native
    // code keeps memory 0's length in a register): the store must reload it.
    let wat = r#"(module
      (memory (export "memory") 1)
      (func (export "f") (result i32)
        (loop $l (br_if $l (i32.lt_u (memory.size) (i32.const 2))))
        (i32.store (i32.const 70000) (i32.const 7))
        (i32.load (i32.const 70000))))"#;
    same_in_every_tier("epoch callback grows memory", |tier| {
        let engine = epoch_engine(tier);
        let mut store = Store::new(&engine, None::<kiln::Memory>);
        let module = module(tier, &engine, wat);
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        *store.data_mut() = Some(memory);
        // A loop that never sees the growth fails rather than spins.
        let mut checks = 0;
        store.epoch_deadline_callback(move |mut cx| {
            checks += 1;
            anyhow::ensure!(checks < 1000, "the loop did not see the growth");
            let memory = cx.data().unwrap();
            if memory.size(&cx) < 2 {
                memory.grow(&mut cx, 1)?;
            }
            Ok(UpdateDeadline::Continue(0))
        });
        let f = instance.get_typed_func::<(), i32>(&mut store, "f").unwrap();
        assert_eq!(f.call(&mut store, ()).unwrap(), 7);
    });
}

/// A module calling host import `host.f` twice from its export `run`.
const CALLS_HOST: &str = r#"(module
  (import "host" "f" (func $f (param i32)))
  (func (export "run")
    (call $f (i32.const 1))
    (call $f (i32.const 2))))"#;

type Log = Arc<Mutex<Vec<String>>>;

fn hooked_store(tier: Tier, log: &Log, fail_on: Option<CallHook>) -> (Store<()>, Func) {
    let engine = engine_with(tier, |_| {});
    let module = module(tier, &engine, CALLS_HOST);
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let host_log = log.clone();
    linker
        .func_wrap("host", "f", move |_: Caller<'_, ()>, x: i32| {
            host_log.lock().unwrap().push(format!("host {x}"));
        })
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let hook_log = log.clone();
    store.call_hook(move |_, hook| {
        hook_log.lock().unwrap().push(format!("{hook:?}"));
        assert_eq!(
            hook.entering_host(),
            matches!(hook, CallHook::ReturningFromWasm | CallHook::CallingHost)
        );
        assert_eq!(hook.exiting_host(), !hook.entering_host());
        if Some(hook) == fail_on {
            anyhow::bail!("hook refused {hook:?}");
        }
        Ok(())
    });
    let run = instance.get_func(&mut store, "run").unwrap();
    (store, run)
}

#[test]
fn call_hooks_see_every_transition() {
    let log = same_in_every_tier("call hooks", |tier| {
        let log = Log::default();
        let (mut store, run) = hooked_store(tier, &log, None);
        run.call(&mut store, &[], &mut []).unwrap();
        log.lock().unwrap().clone()
    });
    assert_eq!(
        log,
        [
            "CallingWasm",
            "CallingHost",
            "host 1",
            "ReturningFromHost",
            "CallingHost",
            "host 2",
            "ReturningFromHost",
            "ReturningFromWasm"
        ]
    );
}

#[test]
fn a_call_hook_error_aborts_the_call() {
    for (fail_on, expected) in [
        (CallHook::CallingWasm, &["CallingWasm"][..]),
        (
            CallHook::CallingHost,
            &["CallingWasm", "CallingHost", "ReturningFromWasm"][..],
        ),
        (
            CallHook::ReturningFromHost,
            &[
                "CallingWasm",
                "CallingHost",
                "host 1",
                "ReturningFromHost",
                "ReturningFromWasm",
            ][..],
        ),
        (
            CallHook::ReturningFromWasm,
            &[
                "CallingWasm",
                "CallingHost",
                "host 1",
                "ReturningFromHost",
                "CallingHost",
                "host 2",
                "ReturningFromHost",
                "ReturningFromWasm",
            ][..],
        ),
    ] {
        let (message, log) = same_in_every_tier("call hook error", |tier| {
            let log = Log::default();
            let (mut store, run) = hooked_store(tier, &log, Some(fail_on));
            let err = run.call(&mut store, &[], &mut []).unwrap_err();
            let log = log.lock().unwrap().clone();
            (tiers::failure(&err).message, log)
        });
        assert_eq!(message, format!("hook refused {fail_on:?}"));
        assert_eq!(log, expected, "failing on {fail_on:?}");
    }
}

#[test]
fn host_functions_read_and_set_fuel_through_the_caller() {
    let wat = r#"(module
      (import "host" "refuel" (func $refuel))
      (func (export "run") (result i32) (local $i i32)
        (call $refuel)
        (loop $l
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (i32.const 100))))
        (local.get $i)))"#;
    let (seen_in_host, left) = same_in_every_tier("fuel from the caller", |tier| {
        let engine = engine_with(tier, |c| {
            c.consume_fuel(true);
        });
        let module = module(tier, &engine, wat);
        let mut store = Store::new(&engine, 0u64);
        let mut linker = Linker::new(&engine);
        linker
            .func_wrap("host", "refuel", |mut caller: Caller<'_, u64>| {
                let fuel = caller.get_fuel()?;
                *caller.data_mut() = fuel;
                caller.set_fuel(10_000)
            })
            .unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let run = instance
            .get_typed_func::<(), i32>(&mut store, "run")
            .unwrap();
        // Without the refuel, 20 units would not last 100 iterations.
        store.set_fuel(20).unwrap();
        assert_eq!(run.call(&mut store, ()).unwrap(), 100);
        (*store.data(), store.get_fuel().unwrap())
    });
    assert!(
        seen_in_host < 20,
        "the call itself costs fuel: {seen_in_host}"
    );
    assert!(left < 10_000 - 100, "the loop ran on the new fuel: {left}");

    // Without fuel configured, both are errors.
    let mut store = Store::<()>::default();
    let f = Func::wrap(&mut store, |mut caller: Caller<'_, ()>| {
        assert!(caller.get_fuel().is_err());
        assert!(caller.set_fuel(1).is_err());
    });
    f.call(&mut store, &[], &mut []).unwrap();
}

#[test]
fn store_default_uses_a_default_engine_and_data() {
    let mut store: Store<Vec<u8>> = Store::default();
    assert!(store.data().is_empty());
    store.data_mut().push(1);
    let module = Module::new(store.engine(), r#"(module (func (export "f")))"#).unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    assert!(matches!(
        instance.get_export(&mut store, "f"),
        Some(Extern::Func(_))
    ));
    assert_eq!(store.into_data(), [1]);
}

#[test]
fn memory_page_size() {
    let mut store = Store::<()>::default();
    let memory = kiln::Memory::new(&mut store, kiln::MemoryType::new(1, None)).unwrap();
    assert_eq!(memory.page_size(&store), 65536);
    assert_eq!(memory.page_size_log2(&store), 16);
    assert_eq!(memory.data_size(&store) as u64, memory.page_size(&store));
}

/// Functions `$a`/`$b` returning 1/2 in slots 0/1 of an exported table of
/// four, and `call` calling slot `i` through `call_indirect`.
const TABLE: &str = r#"(module
  (type $t (func (result i32)))
  (table $tab (export "table") 4 funcref)
  (func $a (result i32) (i32.const 1))
  (func $b (result i32) (i32.const 2))
  (elem (i32.const 0) $a $b)
  (func (export "call") (param i32) (result i32)
    (call_indirect (type $t) (local.get 0))))"#;

#[test]
fn table_copy_and_fill_are_seen_by_running_code() {
    let results = same_in_every_tier("Table::copy/fill", |tier| {
        let engine = engine_with(tier, |_| {});
        let module = module(tier, &engine, TABLE);
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let table = instance.get_table(&mut store, "table").unwrap();
        let call = instance
            .get_typed_func::<i32, i32>(&mut store, "call")
            .unwrap();
        let calls = |store: &mut Store<()>| -> Vec<Result<i32, Option<Trap>>> {
            (0..4)
                .map(|i| {
                    call.call(&mut *store, i)
                        .map_err(|e| e.downcast_ref::<Trap>().copied())
                })
                .collect()
        };
        let mut seen = vec![calls(&mut store)];
        // Overlapping copy within one table: [a b - -] -> [a a b -].
        Table::copy(&mut store, &table, 1, &table, 0, 2).unwrap();
        seen.push(calls(&mut store));
        // Fill with a host function.
        let host = Func::wrap(&mut store, || 7i32);
        table.fill(&mut store, 2, host.into(), 2).unwrap();
        seen.push(calls(&mut store));
        // Copy from another table (of the same store).
        let other = Table::new(
            &mut store,
            TableType::new(RefType::FUNCREF, 2, None),
            Ref::Func(None),
        )
        .unwrap();
        Table::copy(&mut store, &table, 0, &other, 0, 1).unwrap();
        seen.push(calls(&mut store));
        seen
    });
    let null = Err(Some(Trap::IndirectCallToNull));
    assert_eq!(
        results,
        [
            vec![Ok(1), Ok(2), null, null],
            vec![Ok(1), Ok(1), Ok(2), null],
            vec![Ok(1), Ok(1), Ok(7), Ok(7)],
            vec![null, Ok(1), Ok(7), Ok(7)],
        ]
    );
}

#[test]
fn table_copy_and_fill_refuse_bad_arguments() {
    let mut store = Store::<()>::default();
    let funcs = Table::new(
        &mut store,
        TableType::new(RefType::FUNCREF, 4, None),
        Ref::Func(None),
    )
    .unwrap();
    let externs = Table::new(
        &mut store,
        TableType::new(RefType::EXTERNREF, 4, None),
        Ref::Extern(None),
    )
    .unwrap();
    let f = Func::wrap(&mut store, || {});
    funcs.set(&mut store, 0, f.into()).unwrap();

    // Out of bounds, including overflowing ranges: nothing is copied.
    for (dst, src, len) in [
        (3, 0, 2),
        (0, 3, 2),
        (0, 0, 5),
        (u64::MAX, 0, 1),
        (0, 1, u64::MAX),
    ] {
        let err = Table::copy(&mut store, &funcs, dst, &funcs, src, len).unwrap_err();
        assert!(err.to_string().contains("out of bounds"), "{err}");
    }
    assert!(funcs.get(&mut store, 0).unwrap().unwrap_func().is_some());
    assert!(funcs.get(&mut store, 3).unwrap().is_null());
    // Zero elements at the end is fine.
    Table::copy(&mut store, &funcs, 4, &funcs, 4, 0).unwrap();

    let err = Table::copy(&mut store, &externs, 0, &funcs, 0, 1).unwrap_err();
    assert!(err.to_string().contains("type mismatch"), "{err}");
    let err = funcs.fill(&mut store, 0, Ref::Extern(None), 1).unwrap_err();
    assert!(err.to_string().contains("type mismatch"), "{err}");
    let err = funcs.fill(&mut store, 3, Ref::Func(None), 2).unwrap_err();
    assert!(err.to_string().contains("out of bounds"), "{err}");

    // Another store's table, or another store's function as the value.
    let mut other = Store::<()>::default();
    let foreign = Table::new(
        &mut other,
        TableType::new(RefType::FUNCREF, 4, None),
        Ref::Func(None),
    )
    .unwrap();
    let foreign_f = Func::wrap(&mut other, || {});
    for err in [
        Table::copy(&mut store, &funcs, 0, &foreign, 0, 1).unwrap_err(),
        Table::copy(&mut store, &foreign, 0, &funcs, 0, 1).unwrap_err(),
        funcs.fill(&mut store, 0, foreign_f.into(), 1).unwrap_err(),
        foreign.fill(&mut store, 0, Ref::Func(None), 1).unwrap_err(),
    ] {
        assert!(err.to_string().contains("cross-`Store`"), "{err}");
    }
}

#[test]
fn externref_data_as_in_wasmtime() {
    let mut store = Store::<()>::default();
    let r = ExternRef::new(&mut store, String::from("host object")).unwrap();
    let data: Option<&(dyn std::any::Any + Send + Sync)> = r.data(&store).unwrap();
    assert_eq!(
        data.and_then(|d| d.downcast_ref::<String>())
            .map(String::as_str),
        Some("host object")
    );
    if let Some(s) = r
        .data_mut(&mut store)
        .unwrap()
        .and_then(|d| d.downcast_mut::<String>())
    {
        s.push('!');
    }
    let data = r.data(&store).unwrap().unwrap();
    assert_eq!(data.downcast_ref::<String>().unwrap(), "host object!");

    let other = Store::<()>::default();
    let err = r.data(&other).unwrap_err();
    assert!(err.to_string().contains("cross-`Store`"), "{err}");
}

#[test]
fn linker_get_returns_a_result_naming_what_is_missing() {
    let engine = Engine::default();
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap("env", "seven", || 7i32).unwrap();
    let mut store = Store::new(&engine, ());
    let found: kiln::Result<Extern> = linker.get(&mut store, "env", "seven");
    let f = found.unwrap().into_func().unwrap();
    assert_eq!(
        f.typed::<(), i32>(&store)
            .unwrap()
            .call(&mut store, ())
            .unwrap(),
        7
    );
    let err = linker.get(&mut store, "env", "eight").unwrap_err();
    assert!(err.to_string().contains("env::eight"), "{err}");
    assert!(linker.get(&mut store, "other", "seven").is_err());
}

/// `run` → `middle` → `reenter` (host) → `inner` → `capture` (host), and
/// `run_trap` → `middle_trap` → `reenter_trap` (host) → `boom` → `deep`,
/// which traps.
const NESTED: &str = r#"(module $nested
  (import "host" "capture" (func $capture))
  (import "host" "reenter" (func $reenter (param i32)))
  (func $inner (export "inner") (call $capture))
  (func $deep (unreachable))
  (func $boom (export "boom") (call $deep))
  (func $middle (param i32) (call $reenter (local.get 0)))
  (func $run (export "run") (param i32)
    (local $i i32)
    (loop $l
      (call $middle (local.get 0))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 3))))))"#;

/// The function names of a backtrace (`?` for unnamed ones).
fn names(trace: &WasmBacktrace) -> Vec<String> {
    trace
        .frames()
        .iter()
        .map(|f| f.func_name().unwrap_or("?").to_string())
        .collect()
}

/// Runs `run(which)` 20 times (so that tiered code moves to native code
/// along the way), where `which` 0 reenters `inner` and 1 reenters `boom`;
/// returns what every capture saw and every call's outcome.
fn nested_scenario(tier: Tier, which: i32) -> (Vec<Vec<String>>, Vec<tiers::Outcome>) {
    let engine = engine_with(tier, |_| {});
    let module = module(tier, &engine, NESTED);
    let mut store = Store::new(&engine, Vec::<Vec<String>>::new());
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap(
            "host",
            "capture",
            |mut caller: Caller<'_, Vec<Vec<String>>>| {
                let seen = names(&WasmBacktrace::capture(&caller));
                assert_eq!(seen, names(&WasmBacktrace::force_capture(&caller)));
                caller.data_mut().push(seen);
            },
        )
        .unwrap();
    linker
        .func_wrap(
            "host",
            "reenter",
            |mut caller: Caller<'_, Vec<Vec<String>>>, which: i32| {
                let name = if which == 0 { "inner" } else { "boom" };
                let f = caller.get_export(name).unwrap().into_func().unwrap();
                f.call(&mut caller, &[], &mut [])
            },
        )
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance.get_func(&mut store, "run").unwrap();
    let outcomes = (0..20)
        .map(|_| tiers::outcome(run.call(&mut store, &[kiln::Val::I32(which)], &mut []), &[]))
        .collect();
    // Outside any call there is nothing on the stack.
    assert!(WasmBacktrace::capture(&store).frames().is_empty());
    (store.into_data(), outcomes)
}

#[test]
fn backtrace_capture_lists_the_frames_of_every_activation() {
    let (captures, outcomes) =
        same_in_every_tier("WasmBacktrace::capture", |tier| nested_scenario(tier, 0));
    assert_eq!(captures.len(), 60);
    for seen in &captures {
        assert_eq!(seen, &["inner", "middle", "run"]);
    }
    assert!(outcomes.iter().all(|o| o.is_ok()), "{outcomes:?}");
}

#[test]
fn a_trap_through_a_host_function_keeps_the_outer_frames() {
    let (_, outcomes) = same_in_every_tier("trap through host", |tier| nested_scenario(tier, 1));
    for outcome in outcomes {
        let failure = outcome.unwrap_err();
        assert_eq!(failure.trap, Some(Trap::UnreachableCodeReached));
        assert_eq!(failure.names(), ["deep", "boom", "middle", "run"]);
    }
}

#[test]
fn backtrace_capture_in_the_epoch_callback() {
    let seen = same_in_every_tier("capture in the epoch callback", |tier| {
        let mut store = Store::new(&epoch_engine(tier), Vec::new());
        let instance = count_instance(tier, &mut store);
        store.epoch_deadline_callback(|mut cx| {
            let seen = names(&WasmBacktrace::capture(&cx));
            cx.data_mut().push(seen);
            Ok(UpdateDeadline::Continue(0))
        });
        let outer = instance
            .get_typed_func::<i32, i32>(&mut store, "outer")
            .unwrap();
        for _ in 0..10 {
            outer.call(&mut store, 3).unwrap();
        }
        store.into_data()
    });
    // Per call: `outer`'s entry, `count`'s entry, its loop header 4 times.
    let one_call = [
        vec!["outer"],
        vec!["count", "outer"],
        vec!["count", "outer"],
        vec!["count", "outer"],
        vec!["count", "outer"],
        vec!["count", "outer"],
    ];
    let expected: Vec<Vec<&str>> = (0..10).flat_map(|_| one_call.clone()).collect();
    assert_eq!(seen, expected);
}

#[test]
fn caller_get_export_works_from_the_start_function() {
    let wat = r#"(module
      (import "host" "peek" (func $peek (param i32)))
      (memory (export "memory") 1)
      (data (i32.const 16) "\2a")
      (func $start (call $peek (i32.const 16)))
      (start $start))"#;
    let seen = same_in_every_tier("get_export from start", |tier| {
        let engine = engine_with(tier, |_| {});
        let module = module(tier, &engine, wat);
        let mut store = Store::new(&engine, None::<u8>);
        let mut linker = Linker::new(&engine);
        linker
            .func_wrap(
                "host",
                "peek",
                |mut caller: Caller<'_, Option<u8>>, at: i32| -> kiln::Result<()> {
                    let memory = caller
                        .get_export("memory")
                        .and_then(Extern::into_memory)
                        .ok_or_else(|| anyhow::anyhow!("no memory export"))?;
                    let byte = memory.data(&caller)[at as usize];
                    *caller.data_mut() = Some(byte);
                    Ok(())
                },
            )
            .unwrap();
        linker.instantiate(&mut store, &module).unwrap();
        *store.data()
    });
    assert_eq!(seen, Some(0x2a));
}

#[test]
fn typed_function_mismatches_are_reported_as_in_wasmtime() {
    let mut store = Store::<()>::default();
    let module = Module::new(
        store.engine(),
        r#"(module (func (export "f") (param i32 i64) (result f32) (f32.const 1)))"#,
    )
    .unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance.get_func(&mut store, "f").unwrap();
    // (message, root cause): the counts are the Rust side's, then the
    // function's; a type mismatch names the expected type first.
    let cases = [
        (
            f.typed::<i32, f32>(&store).err(),
            "type mismatch with parameters",
            "expected 1 types, found 2",
        ),
        (
            f.typed::<(i32, i64, i32), f32>(&store).err(),
            "type mismatch with parameters",
            "expected 3 types, found 2",
        ),
        (
            f.typed::<(), f32>(&store).err(),
            "type mismatch with parameters",
            "expected 0 types, found 2",
        ),
        (
            f.typed::<(i32, i32), f32>(&store).err(),
            "type mismatch with parameters",
            "type mismatch: expected i64, found i32",
        ),
        (
            f.typed::<(i32, i64), f64>(&store).err(),
            "type mismatch with results",
            "type mismatch: expected f64, found f32",
        ),
        (
            f.typed::<(i32, i64), (f32, f32)>(&store).err(),
            "type mismatch with results",
            "expected 2 types, found 1",
        ),
    ];
    for (err, message, cause) in cases {
        let err = err.expect("a mismatch");
        assert_eq!(err.to_string(), message);
        assert_eq!(err.root_cause().to_string(), cause);
    }
    assert!(f.typed::<(i32, i64), f32>(&store).is_ok());
}

/// `capture` honours the engine's backtrace setting; `force_capture` does
/// not.
#[test]
fn backtrace_capture_is_empty_when_backtraces_are_off_but_force_capture_is_not() {
    let mut config = Config::new();
    config.wasm_backtrace_max_frames(None);
    let engine = Engine::new(&config).unwrap();
    let module = kiln::Module::new(
        &engine,
        r#"(module (import "" "host" (func $host)) (func $run (export "run") (call $host)))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, (0usize, 0usize));
    let host = kiln::Func::wrap(&mut store, |mut caller: Caller<'_, (usize, usize)>| {
        let captured = WasmBacktrace::capture(&caller).frames().len();
        let forced = WasmBacktrace::force_capture(&caller).frames().len();
        *caller.data_mut() = (captured, forced);
    });
    let instance = kiln::Instance::new(&mut store, &module, &[host.into()]).unwrap();
    let run = instance
        .get_typed_func::<(), ()>(&mut store, "run")
        .unwrap();
    run.call(&mut store, ()).unwrap();
    assert_eq!(*store.data(), (0, 1));
}
