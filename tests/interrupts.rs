//! Fuel metering and epoch interruption: bounding how long wasm runs.
//! (`tests/fuel.rs` checks the fuel cost model rule by rule.)
//!
//! Every test whose wasm would run forever if fuel or epoch interruption
//! broke runs it under a watchdog, so a regression fails the test instead
//! of hanging the suite. Every test runs in both tiers (the interpreter and
//! native code), which must behave the same.

#[path = "common/watchdog.rs"]
mod watchdog;

use kiln::{Caller, Config, Engine, Instance, Linker, Module, Store, Strategy, Trap};
use std::time::Duration;

/// Far longer than any of these tests takes (milliseconds), even on a
/// loaded machine; far shorter than a hang.
const LIMIT: Duration = Duration::from_secs(10);

/// Every tier this build has: the interpreter, and native code when the
/// `jit` feature builds it.
fn strategies() -> Vec<Strategy> {
    let mut strategies = vec![Strategy::Interpreter];
    if cfg!(feature = "jit") {
        strategies.push(Strategy::Cranelift);
    }
    strategies
}

const SPIN: &str = r#"(module
  (func (export "spin") (loop br 0))
  (func (export "three") (result i32) i32.const 1 i32.const 2 i32.add)
  (func (export "count") (param i32) (result i32) (local i32)
    (block (loop
      local.get 0 i32.eqz br_if 1
      local.get 0 i32.const 1 i32.sub local.set 0
      local.get 1 i32.const 1 i32.add local.set 1
      br 0))
    local.get 1))"#;

fn setup(config: &Config) -> (Store<()>, Instance) {
    let engine = Engine::new(config).unwrap();
    let module = Module::new(&engine, SPIN).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

fn fuel_config(strategy: Strategy) -> Config {
    let mut config = Config::new();
    config.consume_fuel(true).strategy(strategy);
    config
}

#[test]
fn fuel_is_charged_per_instruction() -> kiln::Result<()> {
    strategies()
        .into_iter()
        .try_for_each(fuel_is_charged_per_instruction_in)
}

fn fuel_is_charged_per_instruction_in(strategy: Strategy) -> kiln::Result<()> {
    let (mut store, instance) = setup(&fuel_config(strategy));
    let three = instance.get_typed_func::<(), i32>(&mut store, "three")?;
    store.set_fuel(100)?;
    assert_eq!(three.call(&mut store, ())?, 3);
    // i32.const, i32.const, i32.add: one unit each; `end` is free.
    assert_eq!(store.get_fuel()?, 97);
    Ok(())
}

#[test]
fn running_out_of_fuel_traps_and_refuelling_recovers() -> kiln::Result<()> {
    strategies()
        .into_iter()
        .try_for_each(running_out_of_fuel_traps_and_refuelling_recovers_in)
}

fn running_out_of_fuel_traps_and_refuelling_recovers_in(strategy: Strategy) -> kiln::Result<()> {
    let (mut store, instance) = setup(&fuel_config(strategy));
    let spin = instance.get_typed_func::<(), ()>(&mut store, "spin")?;
    store.set_fuel(10_000)?;
    // An infinite loop: only fuel stops it.
    let (mut store, err) = watchdog::within(
        &format!("{strategy:?}: spin with 10000 units of fuel"),
        LIMIT,
        move || {
            let err = spin.call(&mut store, ()).unwrap_err();
            (store, err)
        },
    );
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::OutOfFuel));
    assert_eq!(store.get_fuel()?, 0);

    // Loops pay on every iteration (see tests/fuel.rs): an empty entry
    // region (`block`, `loop` are free), n + 1 loop regions of 12 (the last
    // leaves by `br_if 1` but paid for all 12) and the final `local.get`.
    let count = instance.get_typed_func::<i32, i32>(&mut store, "count")?;
    for n in [10, 100] {
        store.set_fuel(1_000_000)?;
        assert_eq!(count.call(&mut store, n)?, n);
        let used = 1_000_000 - store.get_fuel()?;
        assert_eq!(used, 12 * (n as u64 + 1) + 1, "count({n})");
    }

    // Stores start empty: without fuel nothing runs.
    let mut empty = Store::new(store.engine(), ());
    let instance = Instance::new(&mut empty, &Module::new(store.engine(), SPIN)?, &[])?;
    let three = instance.get_typed_func::<(), i32>(&mut empty, "three")?;
    let err = three.call(&mut empty, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::OutOfFuel));
    Ok(())
}

#[test]
fn fuel_calls_fail_when_fuel_is_not_configured() {
    for strategy in strategies() {
        let engine = Engine::new(Config::new().strategy(strategy)).unwrap();
        let mut store = Store::new(&engine, ());
        assert!(store.set_fuel(1).is_err());
        assert!(store.get_fuel().is_err());
    }
}

fn epoch_config(strategy: Strategy) -> Config {
    let mut config = Config::new();
    config.epoch_interruption(true).strategy(strategy);
    config
}

#[test]
fn another_thread_interrupts_an_infinite_loop() -> kiln::Result<()> {
    strategies()
        .into_iter()
        .try_for_each(another_thread_interrupts_an_infinite_loop_in)
}

fn another_thread_interrupts_an_infinite_loop_in(strategy: Strategy) -> kiln::Result<()> {
    let (mut store, instance) = setup(&epoch_config(strategy));
    let spin = instance.get_typed_func::<(), ()>(&mut store, "spin")?;
    store.set_epoch_deadline(1);
    store.epoch_deadline_trap();
    let engine = store.engine().clone();
    let timer = {
        let engine = engine.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            engine.increment_epoch();
        })
    };
    let err = watchdog::within_or_rescue(
        &format!("{strategy:?}: an epoch-interrupted infinite loop"),
        LIMIT,
        move || spin.call(&mut store, ()).unwrap_err(),
        // Try to stop the runaway thread anyway; the test fails regardless.
        || {
            for _ in 0..1000 {
                engine.increment_epoch();
            }
        },
    );
    timer.join().unwrap();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::Interrupt));
    Ok(())
}

#[test]
fn epoch_is_checked_at_every_loop_header_and_function_entry() -> kiln::Result<()> {
    strategies()
        .into_iter()
        .try_for_each(epoch_is_checked_at_every_loop_header_and_function_entry_in)
}

fn epoch_is_checked_at_every_loop_header_and_function_entry_in(
    strategy: Strategy,
) -> kiln::Result<()> {
    // `tick` advances the engine's epoch by one from inside the wasm, so
    // exactly when the deadline is reached is known.
    let engine = Engine::new(&epoch_config(strategy))?;
    let module = Module::new(
        &engine,
        r#"(module
             (import "host" "tick" (func $tick))
             (func (export "spin_ticking") (loop $l (call $tick) (br $l)))
             (func $callee (call $tick))
             (func (export "call_forever")
               (call $callee) (call $callee) (call $callee) (call $callee)
               (call $callee) (call $callee) (call $callee) (call $callee)))"#,
    )?;
    let ticks_until_interrupted = |export: &'static str, deadline: u64| {
        let engine = engine.clone();
        let module = module.clone();
        let rescuer = engine.clone();
        watchdog::within_or_rescue(
            &format!("{strategy:?}: {export}"),
            LIMIT,
            move || -> kiln::Result<u32> {
                let mut linker = Linker::new(&engine);
                linker.func_wrap("host", "tick", |mut caller: Caller<'_, u32>| {
                    *caller.data_mut() += 1;
                    caller.engine().increment_epoch();
                })?;
                let mut store = Store::new(&engine, 0u32);
                let instance = linker.instantiate(&mut store, &module)?;
                let func = instance.get_typed_func::<(), ()>(&mut store, export)?;
                store.set_epoch_deadline(deadline);
                let err = func.call(&mut store, ()).unwrap_err();
                assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::Interrupt));
                Ok(*store.data())
            },
            || {
                for _ in 0..1000 {
                    rescuer.increment_epoch();
                }
            },
        )
    };
    // The loop header checks before every iteration: iterations 1..=3 run
    // (epoch 0, 1, 2 < 3) and tick; the fourth header sees epoch 3.
    assert_eq!(ticks_until_interrupted("spin_ticking", 3)?, 3);
    assert_eq!(ticks_until_interrupted("spin_ticking", 1)?, 1);
    // No loop: the callee's entry checks. The export's entry passes (0 < 2),
    // two calls tick, the third callee's entry sees epoch 2.
    assert_eq!(ticks_until_interrupted("call_forever", 2)?, 2);
    assert_eq!(ticks_until_interrupted("call_forever", 5)?, 5);
    Ok(())
}

#[test]
fn epoch_deadline_starts_reached_and_can_be_moved() -> kiln::Result<()> {
    strategies()
        .into_iter()
        .try_for_each(epoch_deadline_starts_reached_and_can_be_moved_in)
}

fn epoch_deadline_starts_reached_and_can_be_moved_in(strategy: Strategy) -> kiln::Result<()> {
    let (mut store, instance) = setup(&epoch_config(strategy));
    let three = instance.get_typed_func::<(), i32>(&mut store, "three")?;
    // As in wasmtime, the deadline starts at the current epoch.
    let err = three.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::Interrupt));
    store.set_epoch_deadline(1);
    assert_eq!(three.call(&mut store, ())?, 3);
    store.engine().increment_epoch();
    let err = three.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::Interrupt));
    Ok(())
}

#[test]
fn engines_without_interruption_ignore_epochs() -> kiln::Result<()> {
    for strategy in strategies() {
        engines_without_interruption_ignore_epochs_in(strategy)?;
    }
    Ok(())
}

fn engines_without_interruption_ignore_epochs_in(strategy: Strategy) -> kiln::Result<()> {
    let (mut store, instance) = setup(Config::new().strategy(strategy));
    let count = instance.get_typed_func::<i32, i32>(&mut store, "count")?;
    store.engine().increment_epoch();
    assert_eq!(count.call(&mut store, 1000)?, 1000);
    Ok(())
}

#[test]
#[should_panic(expected = "watchdog: a sleeper did not finish within")]
fn the_watchdog_fails_a_test_that_would_hang() {
    // The guard itself must work: a task that outlives the limit fails the
    // test (the sleeper ends on its own shortly after).
    watchdog::within("a sleeper", Duration::from_millis(20), || {
        std::thread::sleep(Duration::from_millis(500))
    });
}

#[test]
fn the_watchdog_passes_results_and_panics_through() {
    assert_eq!(watchdog::within("a quick task", LIMIT, || 42), 42);
    let panic = std::panic::catch_unwind(|| {
        watchdog::within("a panicking task", LIMIT, || panic!("inner failure"))
    })
    .unwrap_err();
    assert_eq!(panic.downcast_ref::<&str>(), Some(&"inner failure"));
}
