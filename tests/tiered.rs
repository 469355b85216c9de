//! Tiered execution, the default strategy where the native tier is built:
//! functions start in the interpreter and move to native code once they
//! have done enough work — at a call (the function's `VMFuncRef` is patched
//! so later calls go native directly) or, for a call running a hot loop, at
//! the loop's header (on-stack replacement). Observed through
//! `Module::tier_stats`.
//!
//! Fuel, epochs, traps and calls across tiers are checked with functions
//! moving mid-run by the tier tests (`tests/common/tiers.rs` has a tiered
//! tier), and the spec suite runs tiered too.

// Tiering needs the native tier.
#![cfg(feature = "jit")]

#[path = "common/watchdog.rs"]
mod watchdog;

use kiln::{Config, Engine, Instance, Module, Store, Strategy};
use std::time::Duration;

const MODULE: &str = r#"(module
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  ;; One long loop in one call: 1 + 2 + ... + n.
  (func (export "sum") (param i32) (result i64) (local i64)
    (loop $l
      (local.set 1 (i64.add (local.get 1) (i64.extend_i32_u (local.get 0))))
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br_if $l (local.get 0)))
    (local.get 1)))"#;

fn engine(budget: u64, synchronously: bool) -> Engine {
    let mut config = Config::new();
    config
        .strategy(Strategy::Tiered)
        .tier_up_budget(budget)
        .tier_up_synchronously(synchronously);
    Engine::new(&config).unwrap()
}

fn fib(n: i32) -> i32 {
    if n < 2 { n } else { fib(n - 1) + fib(n - 2) }
}

#[test]
fn the_default_strategy_is_tiered() {
    let engine = Engine::default();
    let module = Module::new(&engine, MODULE).unwrap();
    let stats = module.tier_stats().expect("tiered modules have statistics");
    // Nothing is compiled by `Module::new`: it is a validation pass.
    assert_eq!(stats.native, 0);
    assert_eq!(stats.compile_time, Duration::ZERO);
}

#[test]
fn a_hot_function_moves_to_native_code_and_later_calls_go_there_directly() {
    let engine = engine(10_000, true);
    let module = Module::new(&engine, MODULE).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance
        .get_typed_func::<i32, i32>(&mut store, "fib")
        .unwrap();
    // A small call does not use up the budget.
    assert_eq!(f.call(&mut store, 5).unwrap(), 5);
    assert_eq!(module.tier_stats().unwrap().native, 0);
    // A large one does: `fib` is compiled on the spot and the running call
    // moves into it (the recursion's next call of `fib` finds it native).
    assert_eq!(f.call(&mut store, 22).unwrap(), fib(22));
    let stats = module.tier_stats().unwrap();
    assert_eq!(stats.native, 1);
    assert_eq!(stats.moved_calls, 1);
    assert!(stats.compile_time > Duration::ZERO && stats.code_bytes > 0);
    // The record is patched: a thousand more calls never pass through the
    // interpreter's tier-up check again (which would count moved calls).
    for n in 0..1000 {
        assert_eq!(f.call(&mut store, n % 15).unwrap(), fib(n % 15));
    }
    assert_eq!(module.tier_stats().unwrap().moved_calls, 1);

    // A new instance of the module starts native straight away.
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance
        .get_typed_func::<i32, i32>(&mut store, "fib")
        .unwrap();
    assert_eq!(f.call(&mut store, 20).unwrap(), fib(20));
    assert_eq!(module.tier_stats().unwrap().moved_calls, 1);
}

#[test]
fn a_long_loop_in_one_call_finishes_in_native_code() {
    let engine = engine(10_000, true);
    let module = Module::new(&engine, MODULE).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let sum = instance
        .get_typed_func::<i32, i64>(&mut store, "sum")
        .unwrap();
    let n: i64 = 5_000_000;
    assert_eq!(sum.call(&mut store, n as i32).unwrap(), n * (n + 1) / 2);
    let stats = module.tier_stats().unwrap();
    // The one call moved into native code at the loop's header.
    assert_eq!((stats.osr_compiled, stats.osr_entries), (1, 1));
    // And the function itself was compiled for later calls.
    assert_eq!(stats.native, 1);
    assert_eq!(sum.call(&mut store, 10).unwrap(), 55);
    assert_eq!(module.tier_stats().unwrap().osr_entries, 1);
}

/// The OSR entry's buffer holds the frame's locals, then the operand
/// stack. Here there are no locals but a result, and a value waits below
/// the loop: the entry must find it right after the (zero) locals.
#[test]
fn an_osr_entry_finds_the_values_below_the_loop_when_there_are_no_locals() {
    const BELOW: &str = r#"(module
      (global $n (mut i32) (i32.const 0))
      (func (export "below") (result i32)
        (i32.const 7)
        (loop $l
          (global.set $n (i32.add (global.get $n) (i32.const 1)))
          (br_if $l (i32.lt_u (global.get $n) (i32.const 1000000))))
        (i32.add (i32.const 1))))"#;
    let engine = engine(10_000, true);
    let module = Module::new(&engine, BELOW).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let below = instance
        .get_typed_func::<(), i32>(&mut store, "below")
        .unwrap();
    assert_eq!(below.call(&mut store, ()).unwrap(), 8);
    assert_eq!(module.tier_stats().unwrap().osr_entries, 1);
}

#[test]
fn a_budget_of_zero_compiles_at_the_first_call() {
    let engine = engine(0, true);
    let module = Module::new(&engine, MODULE).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance
        .get_typed_func::<i32, i32>(&mut store, "fib")
        .unwrap();
    assert_eq!(f.call(&mut store, 1).unwrap(), 1);
    assert_eq!(module.tier_stats().unwrap().native, 1);
}

#[test]
fn stores_on_many_threads_share_a_module_while_it_tiers_up_in_the_background() {
    let engine = engine(20_000, false);
    let module = Module::new(&engine, MODULE).unwrap();
    let (engine2, module2) = (engine.clone(), module.clone());
    watchdog::within(
        "four threads tiering up one module",
        Duration::from_secs(60),
        move || {
            let threads: Vec<_> = (0..4)
                .map(|t| {
                    let (engine, module) = (engine2.clone(), module2.clone());
                    std::thread::spawn(move || {
                        let mut store = Store::new(&engine, ());
                        let instance = Instance::new(&mut store, &module, &[]).unwrap();
                        let f = instance
                            .get_typed_func::<i32, i32>(&mut store, "fib")
                            .unwrap();
                        let sum = instance
                            .get_typed_func::<i32, i64>(&mut store, "sum")
                            .unwrap();
                        // Keep calling until the background thread has compiled
                        // both functions (every result checked on the way).
                        for round in 0.. {
                            let n = 10 + (round + t) % 12;
                            assert_eq!(f.call(&mut store, n).unwrap(), fib(n));
                            assert_eq!(sum.call(&mut store, 1000).unwrap(), 500_500);
                            if module.tier_stats().unwrap().native == 2 && round > 50 {
                                break;
                            }
                        }
                    })
                })
                .collect();
            for thread in threads {
                thread.join().unwrap();
            }
        },
    );
    let stats = module.tier_stats().unwrap();
    assert_eq!(stats.native, 2);
    assert!(stats.fallbacks.is_empty());
    drop(engine);
}
