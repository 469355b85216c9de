//! Fuel metering and epoch interruption: bounding how long wasm runs.

use kiln::{Config, Engine, Instance, Module, Store, Trap};
use std::time::Duration;

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

fn fuel_config() -> Config {
    let mut config = Config::new();
    config.consume_fuel(true);
    config
}

#[test]
fn fuel_is_charged_per_instruction() -> kiln::Result<()> {
    let (mut store, instance) = setup(&fuel_config());
    let three = instance.get_typed_func::<(), i32>(&mut store, "three")?;
    store.set_fuel(100)?;
    assert_eq!(three.call(&mut store, ())?, 3);
    // i32.const, i32.const, i32.add: one unit each; `end` is free.
    assert_eq!(store.get_fuel()?, 97);
    Ok(())
}

#[test]
fn running_out_of_fuel_traps_and_refuelling_recovers() -> kiln::Result<()> {
    let (mut store, instance) = setup(&fuel_config());
    let spin = instance.get_typed_func::<(), ()>(&mut store, "spin")?;
    store.set_fuel(10_000)?;
    let err = spin.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::OutOfFuel));
    assert_eq!(store.get_fuel()?, 0);

    // Loops pay on every iteration: more iterations, more fuel.
    let count = instance.get_typed_func::<i32, i32>(&mut store, "count")?;
    store.set_fuel(1_000_000)?;
    assert_eq!(count.call(&mut store, 10)?, 10);
    let after_10 = 1_000_000 - store.get_fuel()?;
    store.set_fuel(1_000_000)?;
    assert_eq!(count.call(&mut store, 100)?, 100);
    let after_100 = 1_000_000 - store.get_fuel()?;
    assert!(after_100 > 9 * after_10, "{after_10} vs {after_100}");

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
    let mut store = Store::new(&Engine::default(), ());
    assert!(store.set_fuel(1).is_err());
    assert!(store.get_fuel().is_err());
}

fn epoch_config() -> Config {
    let mut config = Config::new();
    config.epoch_interruption(true);
    config
}

#[test]
fn another_thread_interrupts_an_infinite_loop() -> kiln::Result<()> {
    let (mut store, instance) = setup(&epoch_config());
    let spin = instance.get_typed_func::<(), ()>(&mut store, "spin")?;
    store.set_epoch_deadline(1);
    store.epoch_deadline_trap();
    let engine = store.engine().clone();
    let timer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        engine.increment_epoch();
    });
    let err = spin.call(&mut store, ()).unwrap_err();
    timer.join().unwrap();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::Interrupt));
    Ok(())
}

#[test]
fn epoch_deadline_starts_reached_and_can_be_moved() -> kiln::Result<()> {
    let (mut store, instance) = setup(&epoch_config());
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
    let (mut store, instance) = setup(&Config::new());
    let count = instance.get_typed_func::<i32, i32>(&mut store, "count")?;
    store.engine().increment_epoch();
    assert_eq!(count.call(&mut store, 1000)?, 1000);
    Ok(())
}
