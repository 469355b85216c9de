//! The fuel cost model, one test per rule README.md ("Fuel and epoch
//! interruption") and `Config::consume_fuel` state, with the fuel every call
//! must use computed by hand from those rules:
//!
//! * `nop`, `drop`, `block`, `loop`, `end` and `else` are free; every other
//!   instruction costs one unit;
//! * fuel is charged once at the start of each straight-line region
//!   (function entry, loop headers, every branch target) for all of the
//!   region's instructions;
//! * a region left early (by a branch, a return or a trap) still paid for
//!   all of it;
//! * loops pay on every iteration; a call pays for the callee's regions as
//!   the callee enters them;
//! * running out traps with `Trap::OutOfFuel` at the start of the region
//!   that cannot be paid, before any of its instructions runs.
//!
//! Every case runs in both compilation modes of the interpreter and in the
//! native tier (`Strategy::Cranelift`), which must all agree exactly.
//! The comments number the charged instructions of each region.

use kiln::{
    AsContextMut, Caller, CompilationMode, Config, Engine, Linker, Module, Store, Strategy, Trap,
    WasmParams, WasmResults,
};

/// Every way of running the module: the interpreter translating lazily and
/// eagerly, and native code (when the `jit` feature builds it).
fn runners() -> Vec<(CompilationMode, Strategy)> {
    let mut runners = vec![
        (CompilationMode::Lazy, Strategy::Interpreter),
        (CompilationMode::Eager, Strategy::Interpreter),
    ];
    if cfg!(feature = "jit") {
        runners.push((CompilationMode::Lazy, Strategy::Cranelift));
    }
    runners
}

const MODULE: &str = r#"(module
  ;; Records the store's fuel at the moment it is called.
  (import "host" "probe" (func $probe))
  (type $i2i (func (param i32) (result i32)))
  (global $g (export "g") (mut i32) (i32.const 0))
  (memory (export "memory") 1)
  (table 1 funcref)
  (elem (i32.const 0) $triple)

  (func (export "free")
    nop
    (block nop (loop nop nop) nop)
    nop)

  (func (export "free_among_charged") (param i32) (result i32)
    local.get 0                 ;; 1
    local.get 0                 ;; 2
    drop                        ;; free
    (if (result i32)            ;; 3
      (then i32.const 10)       ;; 4  (the then-arm is reached by falling through)
      (else i32.const 20)))     ;; region: 1 (`else` is a branch target)
                                ;; region: 0 (the `if`'s end is a branch target)

  (func (export "straight") (param i32) (result i32) (local i64)
    local.get 0                 ;; 1
    i32.const 3                 ;; 2
    i32.mul                     ;; 3
    i32.const 1                 ;; 4
    i32.add                     ;; 5
    global.set $g               ;; 6
    i32.const 0                 ;; 7
    global.get $g               ;; 8
    i32.store                   ;; 9
    i32.const 0                 ;; 10
    i32.load                    ;; 11
    i64.extend_i32_u            ;; 12
    i64.const 2                 ;; 13
    i64.shl                     ;; 14
    local.tee 1                 ;; 15
    i32.wrap_i64                ;; 16
    memory.size                 ;; 17
    local.get 0                 ;; 18
    select)                     ;; 19

  (func (export "charged_up_front")
    call $probe                 ;; 1
    i32.const 1                 ;; 2
    i32.const 2                 ;; 3
    i32.add                     ;; 4
    global.set $g)              ;; 5

  (func (export "left_by_br_if") (param i32)
    call $probe                 ;; 1
    (block $out
      local.get 0               ;; 2
      br_if $out                ;; 3
      i32.const 7               ;; 4
      global.set $g)            ;; 5
    ;; The block's end is a branch target: a new region.
    call $probe                 ;; 1
    i32.const 1                 ;; 2
    drop)                       ;; free

  (func (export "left_by_conditional_return") (param i32) (result i32)
    i32.const 10                ;; 1
    local.get 0                 ;; 2
    br_if 0                     ;; 3  (returns 10)
    drop                        ;; free
    i32.const 20                ;; 4
    i32.const 1                 ;; 5
    i32.add)                    ;; 6

  (func (export "then_arm_returns") (param i32) (result i32)
    local.get 0                 ;; 1
    (if (then
      i32.const 1               ;; 2
      return))                  ;; 3
    ;; `if` is charged too: 4. The `if`'s end is a branch target (the
    ;; skipped then-arm lands there): a new region.
    i32.const 2                 ;; 1
    i32.const 3                 ;; 2
    i32.add)                    ;; 3

  (func (export "trap_mid_region") (param i32) (result i32)
    i32.const 1                 ;; 1
    global.set $g               ;; 2
    i32.const 100               ;; 3
    local.get 0                 ;; 4
    i32.div_u                   ;; 5  (traps when the param is 0)
    i32.const 2                 ;; 6
    global.set $g)              ;; 7

  (func (export "count_down") (param $n i32) (result i32) (local $acc i32)
    ;; Entry region: 0 (`loop` is free).
    (loop $l                    ;; loop header: a region per iteration
      local.get $acc            ;; 1
      i32.const 2               ;; 2
      i32.add                   ;; 3
      local.set $acc            ;; 4
      local.get $n              ;; 5
      i32.const 1               ;; 6
      i32.sub                   ;; 7
      local.tee $n              ;; 8
      br_if $l)                 ;; 9
    ;; Nothing branches to a loop's end, so the code after the loop is
    ;; still the header's region: every iteration pays for it.
    local.get $acc)             ;; 10

  (func (export "count_up") (param i32) (result i32) (local i32)
    ;; Entry region: 0 (`block` and `loop` are free).
    (block (loop                ;; loop header: a region per iteration
      local.get 0               ;; 1
      i32.eqz                   ;; 2
      br_if 1                   ;; 3
      local.get 0               ;; 4
      i32.const 1               ;; 5
      i32.sub                   ;; 6
      local.set 0               ;; 7
      local.get 1               ;; 8
      i32.const 1               ;; 9
      i32.add                   ;; 10
      local.set 1               ;; 11
      br 0))                    ;; 12
    ;; The block's end is a branch target (`br_if 1`): a new region.
    local.get 1)                ;; 1

  (func $triple (type $i2i)
    local.get 0                 ;; 1
    i32.const 3                 ;; 2
    i32.mul)                    ;; 3

  (func (export "calls") (result i32)
    i32.const 1                 ;; 1
    call $triple                ;; 2
    i32.const 2                 ;; 3
    call $triple                ;; 4
    i32.add                     ;; 5
    i32.const 4                 ;; 6
    i32.const 0                 ;; 7
    call_indirect (type $i2i)   ;; 8
    i32.add)                    ;; 9

  (func $fac (param i64) (result i64)
    local.get 0                 ;; 1
    i64.eqz                     ;; 2
    (if (result i64)            ;; 3
      (then i64.const 1)        ;; 4
      (else                     ;; `else` is a branch target: a new region
        local.get 0             ;; 1
        local.get 0             ;; 2
        i64.const 1             ;; 3
        i64.sub                 ;; 4
        call $fac               ;; 5
        i64.mul)))              ;; 6
    ;; The `if`'s end is a branch target (the then-arm jumps there): a
    ;; region of 0.
  (func (export "fac") (param i64) (result i64)
    local.get 0                 ;; 1
    call $fac)                  ;; 2

  (func (export "two_regions") (param i32)
    i32.const 1                 ;; 1
    global.set $g               ;; 2
    (block $b
      local.get 0               ;; 3
      br_if $b)                 ;; 4
    ;; The block's end is a branch target: a new region.
    i32.const 2                 ;; 1
    global.set $g               ;; 2
    i32.const 0                 ;; 3
    i32.const 42                ;; 4
    i32.store)                  ;; 5

  (func $set_then_work (param i32)
    local.get 0                 ;; 1
    global.set $g               ;; 2
    i32.const 0                 ;; 3
    drop)                       ;; free
  (func (export "call_then_run_out")
    i32.const 1                 ;; 1
    global.set $g               ;; 2
    i32.const 2                 ;; 3
    call $set_then_work         ;; 4
    i32.const 3                 ;; 5
    global.set $g)              ;; 6
)"#;

/// What one call did: its result (or trap), the fuel left, the fuel the
/// host saw at each `probe` call, and the global and the first memory word
/// afterwards.
#[derive(Debug, PartialEq)]
struct Outcome<R> {
    result: Result<R, Trap>,
    fuel_left: u64,
    probes: Vec<u64>,
    global: i32,
    memory0: i32,
}

/// Calls export `name` with `args` and `fuel` units of fuel on a fresh
/// instance, in lazy and in eager mode and in native code; all must do the
/// same.
fn run<P, R>(name: &str, args: P, fuel: u64) -> Outcome<R>
where
    P: WasmParams + Copy,
    R: WasmResults + PartialEq + std::fmt::Debug,
{
    let outcomes: Vec<Outcome<R>> = runners()
        .into_iter()
        .map(|(mode, strategy)| {
            let mut config = Config::new();
            config
                .consume_fuel(true)
                .compilation_mode(mode)
                .strategy(strategy);
            let engine = Engine::new(&config).unwrap();
            let module = Module::new(&engine, MODULE).unwrap();
            if strategy == Strategy::Cranelift {
                // Native code indeed: no function left to the interpreter.
                assert_eq!(module.tier_stats().unwrap().fallbacks, []);
            }
            let mut linker = Linker::new(&engine);
            linker
                .func_wrap("host", "probe", |mut caller: Caller<'_, Vec<u64>>| {
                    let fuel = caller.as_context_mut().get_fuel().unwrap();
                    caller.data_mut().push(fuel);
                })
                .unwrap();
            let mut store = Store::new(&engine, Vec::new());
            // Instantiation runs no wasm (no start function): it costs nothing.
            let instance = linker.instantiate(&mut store, &module).unwrap();
            let func = instance.get_typed_func::<P, R>(&mut store, name).unwrap();
            store.set_fuel(fuel).unwrap();
            let result = func.call(&mut store, args).map_err(|err| {
                *err.downcast_ref::<Trap>()
                    .unwrap_or_else(|| panic!("{name}: not a trap: {err:#}"))
            });
            let fuel_left = store.get_fuel().unwrap();
            let global = instance.get_global(&mut store, "g").unwrap();
            let global = global.get(&mut store).unwrap_i32();
            let memory = instance.get_memory(&mut store, "memory").unwrap();
            let memory0 = i32::from_le_bytes(memory.data(&store)[..4].try_into().unwrap());
            Outcome {
                result,
                fuel_left,
                probes: std::mem::take(store.data_mut()),
                global,
                memory0,
            }
        })
        .collect();
    let (runners, mut outcomes) = (runners(), outcomes.into_iter());
    let lazy = outcomes.next().expect("the lazy interpreter runs");
    for ((mode, strategy), other) in runners.iter().skip(1).zip(outcomes) {
        assert_eq!(
            lazy, other,
            "{name}: the lazy interpreter (left) and {strategy:?} in {mode:?} mode (right) disagree"
        );
    }
    lazy
}

/// Plenty: no case below comes close.
const FUEL: u64 = 1_000_000;

/// The fuel a call of `name` used (it must not trap).
fn used<P, R>(name: &str, args: P) -> (R, u64)
where
    P: WasmParams + Copy,
    R: WasmResults + PartialEq + std::fmt::Debug,
{
    let outcome = run::<P, R>(name, args, FUEL);
    let result = outcome
        .result
        .unwrap_or_else(|trap| panic!("{name} trapped: {trap:?}"));
    (result, FUEL - outcome.fuel_left)
}

#[test]
fn nop_drop_block_loop_end_and_else_are_free() {
    // Only free instructions: 0 units, so it even runs on an empty store,
    // where any charged instruction would trap.
    assert_eq!(used::<(), ()>("free", ()), ((), 0));
    let outcome = run::<(), ()>("free", (), 0);
    assert_eq!(outcome.result, Ok(()));
    assert_eq!(outcome.fuel_left, 0);

    // Taking the then-arm: the entry region (local.get, local.get, if,
    // i32.const = 4; `drop` free) and the empty region at the `if`'s end.
    assert_eq!(used::<i32, i32>("free_among_charged", 1), (10, 4));
    // Taking the else-arm: the entry region (4, including the skipped
    // then-arm), then the else region (i32.const = 1; `else` itself free),
    // then the empty region at the end: 4 + 1 + 0 = 5.
    assert_eq!(used::<i32, i32>("free_among_charged", 0), (20, 5));
}

#[test]
fn every_other_instruction_costs_one_unit() {
    // 19 charged instructions in one region; the result is
    // ((5 * 3 + 1) << 2) = 64, chosen by `select` over memory.size.
    assert_eq!(used::<i32, i32>("straight", 5), (64, 19));
    // With a zero condition `select` picks memory.size (1): same cost.
    assert_eq!(used::<i32, i32>("straight", 0), (1, 19));
    // Exactly enough fuel leaves exactly nothing; one unit less runs none of
    // it (the global keeps its initial 0).
    let outcome = run::<i32, i32>("straight", 5, 19);
    assert_eq!((outcome.result, outcome.fuel_left), (Ok(64), 0));
    let outcome = run::<i32, i32>("straight", 5, 18);
    assert_eq!(outcome.result, Err(Trap::OutOfFuel));
    assert_eq!((outcome.global, outcome.memory0), (0, 0));
}

#[test]
fn a_region_is_charged_in_full_when_it_starts() {
    // The whole region (call, i32.const, i32.const, i32.add, global.set = 5)
    // is paid before its first instruction, the call, runs: the host
    // already sees FUEL - 5, and nothing more is charged afterwards.
    let outcome = run::<(), ()>("charged_up_front", (), FUEL);
    assert_eq!(outcome.result, Ok(()));
    assert_eq!(outcome.probes, [FUEL - 5]);
    assert_eq!(outcome.fuel_left, FUEL - 5);
    assert_eq!(outcome.global, 3);
}

#[test]
fn a_region_left_early_still_pays_for_all_of_it() {
    // `br_if` out of the middle of the entry region: the region (call,
    // local.get, br_if, i32.const, global.set = 5) was paid at entry, so the
    // first probe sees FUEL - 5 whether or not the branch is taken; the
    // region at the block's end (call, i32.const = 2; `drop` free) brings
    // it to FUEL - 7 either way.
    for (param, global) in [(0, 7), (1, 0)] {
        let outcome = run::<i32, ()>("left_by_br_if", param, FUEL);
        assert_eq!(outcome.result, Ok(()), "param {param}");
        assert_eq!(outcome.probes, [FUEL - 5, FUEL - 7], "param {param}");
        assert_eq!(outcome.fuel_left, FUEL - 7, "param {param}");
        assert_eq!(outcome.global, global, "param {param}");
    }

    // A conditional return (`br_if 0`) after 3 of the region's 6 charged
    // instructions (i32.const, local.get, br_if, i32.const, i32.const,
    // i32.add; `drop` free) costs the same 6 as running all of them.
    assert_eq!(used::<i32, i32>("left_by_conditional_return", 1), (10, 6));
    assert_eq!(used::<i32, i32>("left_by_conditional_return", 0), (21, 6));

    // An `if` whose then-arm returns: the entry region is local.get, if,
    // i32.const, return = 4. Taking the arm costs 4; skipping it still pays
    // those 4 and then the region after the `if` (i32.const, i32.const,
    // i32.add = 3): 7.
    assert_eq!(used::<i32, i32>("then_arm_returns", 1), (1, 4));
    assert_eq!(used::<i32, i32>("then_arm_returns", 0), (5, 7));

    // A trap in the middle of a region: the region's 7 charged
    // instructions were paid, though only the first 5 ran (the global was
    // set to 1 and never to 2).
    let outcome = run::<i32, i32>("trap_mid_region", 0, FUEL);
    assert_eq!(outcome.result, Err(Trap::IntegerDivisionByZero));
    assert_eq!(outcome.fuel_left, FUEL - 7);
    assert_eq!(outcome.global, 1);
    let outcome = run::<i32, i32>("trap_mid_region", 4, FUEL);
    assert_eq!(outcome.result, Ok(25));
    assert_eq!((outcome.fuel_left, outcome.global), (FUEL - 7, 2));
}

#[test]
fn loops_pay_for_every_iteration() {
    // count_down(n): an empty entry region (`loop` is free), then n
    // iterations of the header's region of 10 (9 in the body, 1 after the
    // loop): 10 * n.
    for n in [1, 2, 7, 1000] {
        assert_eq!(used::<i32, i32>("count_down", n), (2 * n, 10 * n as u64));
    }

    // count_up(n): an empty entry region; n full iterations of the loop
    // region (12 units: the code after the `br 0` is never part of it), a
    // last one that leaves by `br_if 1` after 3 of its 12 instructions but
    // pays all 12, and the region at the block's end (local.get = 1):
    // 12 * (n + 1) + 1.
    for n in [0, 1, 10, 100] {
        assert_eq!(
            used::<i32, i32>("count_up", n),
            (n, 12 * (n as u64 + 1) + 1)
        );
    }
}

#[test]
fn calls_pay_for_the_callees_regions() {
    // The caller's single region: i32.const, call, i32.const, call, i32.add,
    // i32.const, i32.const, call_indirect, i32.add = 9; each of the three
    // calls enters $triple, whose one region costs local.get, i32.const,
    // i32.mul = 3: 9 + 3 * 3 = 18. Result 3 + 6 + 12.
    assert_eq!(used::<(), i32>("calls", ()), (21, 18));

    // Recursion: the export's region (local.get, call = 2), then per level
    // of $fac: fac(0) pays its entry region (local.get, i64.eqz, if,
    // i64.const = 4) and the empty region at the `if`'s end; fac(k > 0)
    // pays the entry region (4), the else region (6), fac(k - 1) and the
    // empty end region: fac(k) = 10 * k + 4. fac(5): 2 + 54 = 56.
    assert_eq!(used::<i64, i64>("fac", 5), (120, 56));
    assert_eq!(used::<i64, i64>("fac", 0), (1, 6));
    assert_eq!(
        used::<i64, i64>("fac", 20),
        (2_432_902_008_176_640_000, 206)
    );
}

#[test]
fn running_out_traps_at_the_start_of_the_region_that_cannot_be_paid() {
    // two_regions: region A (i32.const, global.set, local.get, br_if = 4)
    // sets the global to 1; region B (i32.const, global.set, i32.const,
    // i32.const, i32.store = 5) sets it to 2 and stores 42. 9 in all.
    for fuel in 0..=11 {
        let outcome = run::<i32, ()>("two_regions", 0, fuel);
        let expected = match fuel {
            // A cannot be paid: nothing runs.
            0..4 => (Err(Trap::OutOfFuel), 0, 0, 0),
            // A runs, B cannot be paid: none of B runs, although the fuel
            // left (up to 4 units) would pay for its first instructions.
            4..9 => (Err(Trap::OutOfFuel), 0, 1, 0),
            // Both run; the rest is left exactly.
            _ => (Ok(()), fuel - 9, 2, 42),
        };
        let got = (
            outcome.result,
            outcome.fuel_left,
            outcome.global,
            outcome.memory0,
        );
        assert_eq!(got, expected, "with {fuel} units of fuel");
    }

    // The same at a callee's entry: call_then_run_out's region (i32.const,
    // global.set, i32.const, call, i32.const, global.set = 6) sets the global
    // to 1 and calls $set_then_work, whose region (local.get, global.set,
    // i32.const = 3; `drop` free) would set it to 2; then the caller sets it
    // to 3. 9 in all.
    let outcome = run::<(), ()>("call_then_run_out", (), 5);
    assert_eq!((outcome.result, outcome.global), (Err(Trap::OutOfFuel), 0));
    for fuel in 6..9 {
        // The callee's region cannot be paid: its global.set never runs.
        let outcome = run::<(), ()>("call_then_run_out", (), fuel);
        assert_eq!(outcome.result, Err(Trap::OutOfFuel), "fuel {fuel}");
        assert_eq!(outcome.global, 1, "fuel {fuel}");
        assert_eq!(outcome.fuel_left, 0, "fuel {fuel}");
    }
    let outcome = run::<(), ()>("call_then_run_out", (), 9);
    assert_eq!(outcome.result, Ok(()));
    assert_eq!((outcome.global, outcome.fuel_left), (3, 0));
}

#[test]
fn fuel_carries_over_between_calls_and_refuelling_resets_it() {
    for (_, strategy) in runners().into_iter().skip(1) {
        fuel_carries_over_between_calls_and_refuelling_resets_it_in(strategy);
    }
}

fn fuel_carries_over_between_calls_and_refuelling_resets_it_in(strategy: Strategy) {
    let mut config = Config::new();
    config.consume_fuel(true).strategy(strategy);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, MODULE).unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("host", "probe", |_: Caller<'_, ()>| {})
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let count_down = instance
        .get_typed_func::<i32, i32>(&mut store, "count_down")
        .unwrap();
    // Stores start with no fuel.
    assert_eq!(store.get_fuel().unwrap(), 0);
    store.set_fuel(100).unwrap();
    // 10 per iteration: 30, then 50, leaving 20.
    assert_eq!(count_down.call(&mut store, 3).unwrap(), 6);
    assert_eq!(store.get_fuel().unwrap(), 70);
    assert_eq!(count_down.call(&mut store, 5).unwrap(), 10);
    assert_eq!(store.get_fuel().unwrap(), 20);
    // Three iterations need 30: the third cannot be paid. Fuel runs out
    // with 0 left, whatever the unpaid region would have cost.
    let err = count_down.call(&mut store, 3).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::OutOfFuel));
    assert_eq!(store.get_fuel().unwrap(), 0);
    // Refuelling after the trap starts from the new amount exactly.
    store.set_fuel(25).unwrap();
    assert_eq!(count_down.call(&mut store, 2).unwrap(), 4);
    assert_eq!(store.get_fuel().unwrap(), 5);
}
