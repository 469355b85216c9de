#![cfg(feature = "jit")]
//! Interpreted and native functions in one module call each other: with
//! `Strategy::Cranelift` and every odd-numbered function left to the
//! interpreter, calls and returns cross the tiers in both directions, and
//! traps unwind through both with the same backtrace as in either tier
//! alone.

use kiln::{Config, Engine, Instance, Module, Store, Strategy, Trap, WasmBacktrace};

const MODULE: &str = r#"(module $mix
  (table 4 funcref)
  (elem (i32.const 0) $f0 $f1 $f2 $f3)
  (type $t (func (param i32) (result i32)))
  ;; f0 (native) -> f1 (interpreted) -> f2 (native) -> f3 (interpreted),
  ;; alternating direct calls and call_indirect; f3 traps on 0.
  (func $f0 (export "run") (param i32) (result i32)
    (i32.add (call $f1 (local.get 0)) (i32.const 1)))
  (func $f1 (param i32) (result i32)
    (i32.mul (call_indirect (type $t) (local.get 0) (i32.const 2)) (i32.const 2)))
  (func $f2 (param i32) (result i32)
    (i32.sub (call $f3 (local.get 0)) (i32.const 3)))
  (func $f3 (param i32) (result i32)
    (i32.div_u (i32.const 100) (local.get 0))))"#;

fn engine(mixed: bool) -> Engine {
    let mut config = Config::new();
    if mixed {
        config.strategy(Strategy::Cranelift);
        config.interpret_functions(|index| !index.is_multiple_of(2));
    } else {
        config.strategy(Strategy::Interpreter);
    }
    Engine::new(&config).unwrap()
}

#[test]
fn calls_and_traps_cross_the_tiers() -> kiln::Result<()> {
    let mut outcomes = Vec::new();
    for mixed in [false, true] {
        let engine = engine(mixed);
        let module = Module::new(&engine, MODULE)?;
        if mixed {
            let stats = module.tier_stats().unwrap();
            assert_eq!(stats.native, 2);
            assert_eq!(
                stats.fallbacks.iter().map(|f| f.0).collect::<Vec<_>>(),
                [1, 3]
            );
        } else {
            assert!(module.tier_stats().is_none());
        }
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
        // ((100 / 5) - 3) * 2 + 1
        assert_eq!(run.call(&mut store, 5)?, 35);
        let err = run.call(&mut store, 0).unwrap_err();
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::IntegerDivisionByZero)
        );
        let names: Vec<String> = err
            .downcast_ref::<WasmBacktrace>()
            .unwrap()
            .frames()
            .iter()
            .map(|f| f.func_name().unwrap_or("?").to_string())
            .collect();
        assert_eq!(names, ["f3", "f2", "f1", "f0"]);
        // The store is usable after the trap.
        assert_eq!(run.call(&mut store, 10)?, 15);
        outcomes.push(names);
    }
    assert_eq!(outcomes[0], outcomes[1]);
    Ok(())
}
