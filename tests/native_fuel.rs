//! Fuel in the native tier: a program must consume exactly the same fuel,
//! and run out at exactly the same point, whichever tier runs it
//! (`kiln_vm::fuel` states the model; `tests/fuel.rs` checks it rule by
//! rule with hand-computed numbers, in both tiers).
//!
//! Each program below runs a sequence of calls in a fresh store for every
//! starting fuel from 0 up to a little more than the whole sequence needs,
//! so every point where fuel can run out is hit, under the interpreter and
//! under Cranelift. What the embedder can observe must be equal: each
//! call's result or trap (with its backtrace), the fuel left after it, the
//! fuel the host saw at every host call, and the side effects made before
//! an out-of-fuel trap (a counter global, a log in memory, the whole
//! memory's contents).

// The native tier is the `jit` feature: without it there is nothing here
// to test (the interpreter is tested by every other file).
#![cfg(feature = "jit")]

#[path = "common/tiers.rs"]
mod tiers;

use kiln::{AsContextMut, Caller, Engine, Extern, Instance, Linker, Module, Store, Trap};
use tiers::{Failure, TIERS, Tier, tier_name};

/// Imports and helpers every program shares.
const PRELUDE: &str = r#"
  ;; Records (tag, fuel left) in the store; a tag >= 1000 then sets the
  ;; fuel to tag - 1000.
  (import "host" "probe" (func $probe (param i32)))
  ;; Calls the export "inner" of the calling instance with its argument.
  (import "host" "reenter" (func $reenter (param i32) (result i32)))
  (memory (export "memory") 1)
  (global $steps (export "steps") (mut i32) (i32.const 0))
  ;; Appends its argument to the log in memory and counts it.
  (func $tick (param i32)
    (i32.store (i32.shl (global.get $steps) (i32.const 2)) (local.get 0))
    (global.set $steps (i32.add (global.get $steps) (i32.const 1))))
"#;

/// A program: its functions (after the prelude), and the arguments of
/// the successive calls of its export `run` (i32 -> i32).
struct Program {
    name: &'static str,
    body: &'static str,
    args: &'static [i32],
    /// The arguments with which `run` fails even with plenty of fuel (it
    /// traps; or its host refuels it with too little).
    trapping: &'static [i32],
}

const PROGRAMS: &[Program] = &[
    Program {
        name: "loops",
        body: r#"
  (func (export "run") (param $n i32) (result i32) (local $i i32) (local $j i32) (local $acc i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (call $tick (local.get $i))
        (local.set $acc (i32.add (local.get $acc) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.set $i (i32.const 0))
    (loop $outer
      (local.set $j (i32.const 0))
      (loop $inner
        (local.set $acc (i32.add (local.get $acc) (i32.mul (local.get $i) (local.get $j))))
        (br_if $inner (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (i32.const 3))))
      (global.set $steps (i32.add (global.get $steps) (i32.const 10)))
      (br_if $outer (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $acc))"#,
        args: &[0, 1, 3],
        trapping: &[],
    },
    Program {
        name: "calls_and_recursion",
        body: r#"
  (type $i2i (func (param i32) (result i32)))
  (table 4 funcref)
  (elem (i32.const 0) $fib $double $tick_ret)
  (func $fib (type $i2i)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (call $tick (local.get 0)) (local.get 0))
      (else
        (i32.add
          (call $fib (i32.sub (local.get 0) (i32.const 1)))
          (call_indirect (type $i2i) (i32.sub (local.get 0) (i32.const 2)) (i32.const 0))))))
  (func $double (type $i2i) (i32.add (local.get 0) (local.get 0)))
  (func $tick_ret (type $i2i) (call $tick (local.get 0)) (local.get 0))
  (func (export "run") (param $n i32) (result i32)
    (call $probe (local.get $n))
    (i32.add
      (call $fib (local.get $n))
      (call_indirect (type $i2i) (call $double (local.get $n)) (i32.const 2))))"#,
        args: &[0, 3, 6],
        trapping: &[],
    },
    Program {
        name: "br_table_dispatch",
        body: r#"
  ;; A tiny machine over the base-5 digits of $prog, lowest first:
  ;; 0 halt, 1 add 3, 2 double, 3 log, 4 subtract 1.
  (func $vm (param $prog i32) (result i32) (local $acc i32) (local $op i32)
    (block $halt
      (loop $next
        (local.set $op (i32.rem_u (local.get $prog) (i32.const 5)))
        (local.set $prog (i32.div_u (local.get $prog) (i32.const 5)))
        (block $sub
          (block $log
            (block $dbl
              (block $add
                (br_table $halt $add $dbl $log $sub $halt (local.get $op)))
              (local.set $acc (i32.add (local.get $acc) (i32.const 3)))
              (br $next))
            (local.set $acc (i32.shl (local.get $acc) (i32.const 1)))
            (br $next))
          (call $tick (local.get $acc))
          (br $next))
        (local.set $acc (i32.sub (local.get $acc) (i32.const 1)))
        (br $next)))
    (local.get $acc))
  ;; br_table carrying a value to blocks with different continuations.
  (func $pick (param $x i32) (result i32)
    (block $a (result i32)
      (block $b (result i32)
        (block $c (result i32)
          (i32.const 10)
          (local.get $x)
          (br_table $c $b $a $b))
        i32.const 1
        i32.add
        (call $tick (i32.const 1)))
      i32.const 3
      i32.mul)
    i32.const 5
    i32.sub)
  (func (export "run") (param $p i32) (result i32)
    (i32.add (call $vm (local.get $p)) (call $pick (i32.rem_u (local.get $p) (i32.const 4)))))"#,
        args: &[0, 6066, 83, 3],
        trapping: &[],
    },
    Program {
        name: "if_else",
        body: r#"
  (func (export "run") (param $x i32) (result i32) (local $r i32)
    (if (i32.and (local.get $x) (i32.const 1))
      (then (call $tick (i32.const 1)))
      (else (call $tick (i32.const 2)) (local.set $r (i32.const 5))))
    (if (i32.and (local.get $x) (i32.const 2))
      (then (local.set $r (i32.add (local.get $r) (i32.const 10)))))
    (local.set $r
      (i32.add (local.get $r)
        (if (result i32) (i32.and (local.get $x) (i32.const 4))
          (then
            (if (result i32) (i32.and (local.get $x) (i32.const 8))
              (then (i32.const 100))
              (else (call $tick (i32.const 3)) (i32.const 200))))
          (else (i32.const 300)))))
    ;; A then-arm leaving the `if` by a branch.
    (if (i32.and (local.get $x) (i32.const 16))
      (then (call $tick (i32.const 4)) (br 0) (call $tick (i32.const 40)))
      (else (call $tick (i32.const 5))))
    ;; A then-arm returning, no else.
    (if (i32.and (local.get $x) (i32.const 32))
      (then (return (local.get $r))))
    (if (i32.and (local.get $x) (i32.const 64))
      (then unreachable)
      (else nop))
    (i32.add (local.get $r) (i32.const 1000)))"#,
        args: &[0, 1, 2, 5, 13, 22, 47, 63, 64],
        trapping: &[64],
    },
    Program {
        name: "early_exits",
        body: r#"
  (func (export "run") (param $x i32) (result i32) (local $i i32)
    (block $out (result i32)
      (block $mid (result i32)
        (loop $l (result i32)
          (call $tick (local.get $i))
          (drop (br_if $out (i32.const 1000) (i32.eq (local.get $i) (local.get $x))))
          (if (i32.eq (local.get $x) (i32.const 9)) (then (return (i32.const -9))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (if (i32.gt_u (local.get $i) (i32.const 4)) (then (br $mid (i32.const 2000))))
          (br_if $l (i32.lt_u (local.get $i) (i32.const 3)))
          (i32.const 3000)))
      i32.const 7
      i32.add)
    (call $tick (i32.const 99))
    (drop (br_if 0 (i32.const 1) (i32.eq (local.get $x) (i32.const 1))))
    (i32.add (i32.const 5)))"#,
        args: &[0, 1, 2, 3, 9],
        trapping: &[],
    },
    Program {
        name: "traps",
        body: r#"
  (func $boom (call $tick (i32.const 66)) unreachable)
  (func (export "run") (param $x i32) (result i32)
    (call $tick (i32.const 1))
    (drop (i32.div_u (i32.const 10) (local.get $x)))
    (call $tick (i32.const 2))
    (if (i32.eq (local.get $x) (i32.const 2)) (then (call $boom)))
    (call $tick (i32.const 3))
    (drop (i32.load (i32.mul (local.get $x) (i32.const 30000))))
    (call $tick (i32.const 4))
    (i32.const 5))"#,
        args: &[1, 0, 2, 3, 1],
        trapping: &[0, 2, 3],
    },
    Program {
        name: "labels_and_dead_code",
        body: r#"
  (func $tail (param i32) (result i32)
    (if (local.get 0) (then (return (i32.const 5))))
    unreachable)
  (func (export "run") (param $x i32) (result i32)
    ;; $b is a label (br_if), $a is one (br); the branch to $b in dead
    ;; code changes nothing.
    (block $a
      (block $b
        (br_if $b (local.get $x))
        (call $tick (i32.const 10))
        (br $a)
        (call $tick (i32.const 11))
        (br $b))
      (call $tick (i32.const 12)))
    ;; Only a dead branch targets $d: its end is not a label.
    (block $d
      (call $tick (i32.const 15))
      (block $e
        (br $e)
        (br $d))
      (call $tick (i32.const 16)))
    (call $tick (i32.const 17))
    ;; A then-arm that cannot reach the `else`.
    (block $f
      (if (local.get $x)
        (then (call $tick (i32.const 18)) (br $f))
        (else (call $tick (i32.const 19))))
      (call $tick (i32.const 20)))
    ;; An `if` in dead code.
    (block $g
      (br $g)
      (if (local.get $x) (then (call $tick (i32.const 21))) (else (call $tick (i32.const 22)))))
    ;; Three ends in a row, each a label.
    (block $h
      (block $i
        (block $j
          (br_table $h $i $j (local.get $x)))
        (call $tick (i32.const 23)))
      (call $tick (i32.const 24)))
    (call $tick (i32.const 25))
    ;; An empty loop and a loop that never repeats.
    (loop)
    (loop $once (call $tick (i32.const 26)))
    (i32.add (call $tail (i32.add (local.get $x) (i32.const 1))) (global.get $steps)))"#,
        args: &[0, 1, 2],
        trapping: &[],
    },
    Program {
        name: "multi_value",
        body: r#"
  (func $swap (param i32 i32) (result i32 i32) (local.get 1) (local.get 0))
  (func (export "run") (param $n i32) (result i32)
    (i32.const 1) (i32.const 2)
    (loop $l (param i32 i32) (result i32 i32)
      (call $swap)
      (call $tick (local.get $n))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0))))
    (block $b (param i32 i32) (result i32 i32)
      (br_if $b (i32.eqz (local.get $n)))
      (call $swap))
    i32.sub)"#,
        args: &[1, 2, 5, 0],
        trapping: &[],
    },
    Program {
        name: "memory_ops",
        body: r#"
  (func (export "run") (param $x i32) (result i32)
    (memory.fill (i32.const 100) (local.get $x) (i32.const 8))
    (memory.copy (i32.const 200) (i32.const 100) (i32.const 8))
    (call $tick (i32.load (i32.const 200)))
    (drop (memory.grow (i32.const 1)))
    (memory.fill (i32.const 65530) (i32.const 0xee) (i32.add (local.get $x) (i32.const 1)))
    (i32.add (memory.size) (i32.load8_u (i32.const 203))))"#,
        args: &[7, 9, 200_000],
        trapping: &[200_000],
    },
    Program {
        name: "mutual_recursion_indirect",
        body: r#"
  (type $i2i (func (param i32) (result i32)))
  (table 2 funcref)
  (elem (i32.const 0) $even $odd)
  (func $even (type $i2i)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 1))
      (else (call_indirect (type $i2i) (i32.sub (local.get 0) (i32.const 1)) (i32.const 1)))))
  (func $odd (type $i2i)
    (call $tick (local.get 0))
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (call_indirect (type $i2i) (i32.sub (local.get 0) (i32.const 1)) (i32.const 0)))))
  (func (export "run") (param i32) (result i32) (call $even (local.get 0)))"#,
        args: &[0, 3, 6],
        trapping: &[],
    },
    Program {
        name: "host_probes",
        body: r#"
  (func (export "run") (param $n i32) (result i32) (local $i i32)
    (loop $l
      (call $probe (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (call $probe (i32.const 99))
    (local.get $i))"#,
        args: &[1, 4],
        trapping: &[],
    },
    Program {
        name: "host_refuels",
        body: r#"
  (func (export "run") (param $n i32) (result i32) (local $i i32)
    (call $probe (i32.const 1100))
    (loop $l
      (call $tick (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $i))"#,
        args: &[1, 3, 10],
        trapping: &[10],
    },
    Program {
        name: "host_reenters",
        body: r#"
  (func (export "inner") (param i32) (result i32)
    (call $tick (local.get 0))
    (i32.mul (local.get 0) (i32.const 2)))
  (func (export "run") (param $n i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (call $reenter (local.get $n))))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $acc))"#,
        args: &[1, 3],
        trapping: &[],
    },
];

/// What one call did, as the embedder sees it.
#[derive(Debug, PartialEq)]
struct Call {
    result: Result<i32, Failure>,
    fuel_left: u64,
    /// The `$steps` global after the call.
    steps: i32,
    /// The first `steps` words of memory (the log).
    log: Vec<i32>,
    /// (tag, fuel) at every `probe` during the call.
    probes: Vec<(i32, u64)>,
    /// A hash of the whole memory.
    memory: u64,
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// A fuel engine of `tier`, the program compiled for it, and a linker
/// with the host functions.
fn setup(tier: Tier, program: &Program) -> (Engine, Module, Linker<Vec<(i32, u64)>>) {
    let engine = tiers::engine_with(tier, |c| {
        c.consume_fuel(true);
    });
    let wat = format!("(module {PRELUDE} {})", program.body);
    let module = Module::new(&engine, &wat).unwrap_or_else(|e| panic!("{}: {e:#}", program.name));
    tiers::check_tier(tier, &module);
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap(
            "host",
            "probe",
            |mut caller: Caller<'_, Vec<(i32, u64)>>, tag: i32| {
                let fuel = caller.as_context_mut().get_fuel().unwrap();
                caller.data_mut().push((tag, fuel));
                if tag >= 1000 {
                    caller
                        .as_context_mut()
                        .set_fuel((tag - 1000) as u64)
                        .unwrap();
                }
            },
        )
        .unwrap();
    linker
        .func_wrap(
            "host",
            "reenter",
            |mut caller: Caller<'_, Vec<(i32, u64)>>, x: i32| -> kiln::Result<i32> {
                let inner = caller
                    .get_export("inner")
                    .and_then(Extern::into_func)
                    .expect("the program exports inner");
                inner.typed::<i32, i32>(&caller)?.call(&mut caller, x)
            },
        )
        .unwrap();
    (engine, module, linker)
}

/// Runs `program`'s calls in a fresh store starting with `fuel`.
fn run(
    engine: &Engine,
    module: &Module,
    linker: &Linker<Vec<(i32, u64)>>,
    program: &Program,
    fuel: u64,
) -> Vec<Call> {
    let mut store = Store::new(engine, Vec::new());
    let instance: Instance = linker.instantiate(&mut store, module).unwrap();
    let run = instance
        .get_typed_func::<i32, i32>(&mut store, "run")
        .unwrap();
    let steps = instance.get_global(&mut store, "steps").unwrap();
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    store.set_fuel(fuel).unwrap();
    let mut calls = Vec::new();
    for arg in program.args {
        let result = run
            .call(&mut store, *arg)
            .map_err(|err| tiers::failure(&err));
        let fuel_left = store.get_fuel().unwrap();
        let steps = steps.get(&mut store).unwrap_i32();
        let data = memory.data(&store);
        let log = data[..(steps.max(0) as usize * 4).min(data.len())]
            .chunks(4)
            .map(|w| i32::from_le_bytes(w.try_into().unwrap()))
            .collect();
        calls.push(Call {
            result,
            fuel_left,
            steps,
            log,
            probes: std::mem::take(store.data_mut()),
            memory: fnv(memory.data(&store)),
        });
    }
    calls
}

/// Plenty for every program.
const FUEL: u64 = 1_000_000;

/// The sweep goes no further (only `host_refuels` needs it: its host sets
/// the fuel to 100 whatever was there).
const SWEEP_CAP: u64 = 1_500;

#[test]
fn every_out_of_fuel_point_is_the_same_in_both_tiers() {
    let mut report = Vec::new();
    for program in PROGRAMS {
        let setups: Vec<_> = TIERS.iter().map(|t| setup(*t, program)).collect();
        let runs = |fuel: u64| -> Vec<Vec<Call>> {
            setups
                .iter()
                .map(|(engine, module, linker)| run(engine, module, linker, program, fuel))
                .collect()
        };
        // With plenty of fuel: how much the whole sequence needs.
        let plenty = runs(FUEL);
        let needed = FUEL - plenty[0].last().unwrap().fuel_left;
        // (A program whose host refuels it "needs" almost all of FUEL.)
        let sweep = (needed + 3).min(SWEEP_CAP);
        let mut first_difference = None;
        for fuel in (0..=sweep).chain([FUEL]) {
            let outcomes = runs(fuel);
            let (reference, rest) = outcomes.split_first().unwrap();
            for (tier, other) in TIERS[1..].iter().zip(rest) {
                if reference != other && first_difference.is_none() {
                    first_difference = Some(format!(
                        "{}: with {fuel} units of fuel (of {needed} needed), {} and {} disagree:\n  {}: {:?}\n  {}: {:?}",
                        program.name,
                        tier_name(TIERS[0]),
                        tier_name(*tier),
                        tier_name(TIERS[0]),
                        reference,
                        tier_name(*tier),
                        other
                    ));
                }
            }
        }
        if let Some(d) = first_difference {
            report.push(d);
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n\n"));
}

#[test]
fn the_programs_run_out_of_fuel_where_expected() {
    // Spot checks that the sweep above does sweep: every program succeeds
    // with plenty of fuel (except the calls meant to trap), runs out with
    // none, and needs what it needs in both tiers.
    for program in PROGRAMS {
        let mut needed = Vec::new();
        for tier in TIERS {
            let (engine, module, linker) = setup(tier, program);
            let none = run(&engine, &module, &linker, program, 0);
            assert_eq!(
                none[0].result.as_ref().unwrap_err().trap,
                Some(Trap::OutOfFuel),
                "{}: runs without fuel",
                program.name
            );
            assert_eq!(none[0].steps, 0, "{}", program.name);
            let plenty = run(&engine, &module, &linker, program, FUEL);
            for (arg, call) in program.args.iter().zip(&plenty) {
                if let Err(f) = &call.result {
                    assert!(
                        program.trapping.contains(arg),
                        "{}({arg}) failed: {f:?}",
                        program.name
                    );
                }
            }
            needed.push(FUEL - plenty.last().unwrap().fuel_left);
        }
        assert_eq!(needed[0], needed[1], "{}: fuel needed", program.name);
    }
}
