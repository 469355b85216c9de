//! Interpreted, native and host functions calling each other, and what the
//! embedder sees of it: results, trap codes and backtraces must be the same
//! whichever tier runs the WebAssembly.
//!
//! Strategy is per engine, and `Instance::new` refuses a module of another
//! engine (checked below), so within one store every function runs in the
//! same tier. The crossings a store can have are therefore: host → wasm
//! (`Func::call`, `TypedFunc::call`, start functions), wasm → host (imports,
//! host functions in tables), wasm → wasm across instances (imported
//! functions, a table shared by two instances holding functions of both and
//! of the host), and re-entrance (wasm → host → wasm → host → wasm). Each
//! scenario runs once on an all-interpreter engine and once on an
//! all-Cranelift engine, and the two runs must agree exactly (results, trap
//! code, every backtrace frame's module, index and name, host-observed side
//! effects); the key outcomes are also checked against hand-computed
//! values. Interpreted and native code meet on one thread (though not in
//! one store) through host functions that call into other stores of other
//! engines: `tiers_meet_through_host_functions_across_stores`.
//!
//! The rest of the native tier a user reaches from the API is checked the
//! same way further down: memory growth (by wasm and by the host while
//! native code has memory 0 cached), `table.grow`, bulk operations trapping
//! out of bounds, globals shared between instances, many results, many
//! parameters, NaN payloads, references, panics and stores moving between
//! threads.

// The native tier is the `jit` feature: without it there is nothing here
// to test (the interpreter is tested by every other file).
#![cfg(feature = "jit")]

#[path = "common/tiers.rs"]
mod tiers;

use kiln::{
    AsContextMut, Caller, Extern, ExternRef, Func, FuncType, Global, GlobalType, Instance, Linker,
    Memory, MemoryType, Mutability, Ref, RefType, Store, Table, TableType, Trap, TypedFunc, Val,
    ValType,
};
use std::sync::{Arc, Mutex};
use tiers::{Bits, Failure, Outcome, TIERS, Tier, engine, module, outcome, same_in_every_tier};

/// A host error that is not a trap: it must come back unchanged through
/// any number of WebAssembly frames.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Refused(i32);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the host refused {}", self.0)
    }
}

impl std::error::Error for Refused {}

// ---------------------------------------------------------------------------
// Crossings within one store
// ---------------------------------------------------------------------------

/// Instance `a`: exports a table (filled with its functions and a host
/// import), traps of several kinds, calls to the host and re-entrance.
const MODULE_A: &str = r#"(module $a
  (import "host" "leaf" (func $host_leaf (param i32) (result i32)))
  (import "host" "reenter" (func $host_reenter (param i32 i32 i32) (result i32)))
  (type $i2i (func (param i32) (result i32)))
  (table $t (export "table") 8 funcref)
  (memory (export "memory") 1)
  (elem (i32.const 0) func $a_double $a_trap $host_leaf)

  (func $a_double (export "a_double") (type $i2i)
    (i32.mul (local.get 0) (i32.const 2)))

  ;; 0: unreachable, 1: division by zero, 2: out-of-bounds load,
  ;; 3: invalid conversion; anything else is returned.
  (func $a_trap (export "a_trap") (type $i2i)
    (if (i32.eqz (local.get 0)) (then unreachable))
    (if (i32.eq (local.get 0) (i32.const 1))
      (then (drop (i32.div_u (i32.const 1) (i32.sub (local.get 0) (i32.const 1))))))
    (if (i32.eq (local.get 0) (i32.const 2))
      (then (drop (i32.load (i32.add (local.get 0) (i32.const 65533))))))
    (if (i32.eq (local.get 0) (i32.const 3))
      (then (drop (i32.trunc_f32_s (f32.div (f32.const 0) (f32.convert_i32_s (i32.sub (local.get 0) (i32.const 3))))))))
    local.get 0)

  (func $a_calls_host (export "a_calls_host") (param i32) (result i32)
    (i32.add (call $host_leaf (local.get 0)) (i32.const 1)))

  (func $a_indirect (export "a_indirect") (param $idx i32) (param $x i32) (result i32)
    (call_indirect $t (type $i2i) (local.get $x) (local.get $idx)))

  (func $a_nested (export "a_nested") (param i32) (result i32)
    (call $a_mid (local.get 0)))
  (func $a_mid (param i32) (result i32)
    (i32.add (call $a_trap (local.get 0)) (i32.const 1)))

  ;; wasm -> host -> wasm -> ... down to depth 4. `rec` traps (in a callee)
  ;; at depth $trap_at; the host fails at depth $fail_at.
  (func $rec (export "rec") (param $depth i32) (param $trap_at i32) (param $fail_at i32) (result i32)
    (if (i32.eq (local.get $depth) (local.get $trap_at)) (then (call $rec_trap)))
    (if (i32.ge_u (local.get $depth) (i32.const 4)) (then (return (local.get $depth))))
    (i32.add
      (call $rec_step (local.get $depth) (local.get $trap_at) (local.get $fail_at))
      (i32.const 100)))
  (func $rec_step (param i32 i32 i32) (result i32)
    (call $host_reenter (i32.add (local.get 0) (i32.const 1)) (local.get 1) (local.get 2)))
  (func $rec_trap unreachable)

  ;; A trap recovered by the host deep down, then one up here: the second
  ;; trap's backtrace must not contain frames of the first.
  (func $recover_then_trap (export "recover_then_trap") (result i32)
    (drop (call $rec (i32.const 0) (i32.const 2) (i32.const -1)))
    (call $a_mid (i32.const 0)))
)"#;

/// Instance `b`: imports `a`'s table and functions and puts its own
/// functions into the table.
const MODULE_B: &str = r#"(module $b
  (import "a" "table" (table $t 8 funcref))
  (import "a" "a_double" (func $a_double (param i32) (result i32)))
  (import "a" "a_trap" (func $a_trap (param i32) (result i32)))
  (import "host" "leaf" (func $host_leaf (param i32) (result i32)))
  (type $i2i (func (param i32) (result i32)))
  (type $v2v (func))
  (elem (table $t) (i32.const 3) func $b_inc $b_via_a_trap $b_indirect_chain)

  (func $b_inc (type $i2i) (i32.add (local.get 0) (i32.const 1)))
  (func $b_via_a_trap (type $i2i)
    (i32.add (call $a_trap (local.get 0)) (i32.const 1000)))
  ;; Through the table again, to slot 4 ($b_via_a_trap).
  (func $b_indirect_chain (type $i2i)
    (i32.add (call_indirect $t (type $i2i) (local.get 0) (i32.const 4)) (i32.const 5)))

  (func $b_calls_a (export "b_calls_a") (param i32) (result i32)
    (call $a_double (local.get 0)))
  (func $b_calls_a_trap (export "b_calls_a_trap") (param i32) (result i32)
    (call $b_via_a_trap (local.get 0)))
  (func $b_calls_host (export "b_calls_host") (param i32) (result i32)
    (call $host_leaf (local.get 0)))
  (func $b_indirect (export "b_indirect") (param $idx i32) (param $x i32) (result i32)
    (call_indirect $t (type $i2i) (local.get $x) (local.get $idx)))
  (func $b_wrong_type (export "b_wrong_type") (param $idx i32)
    (call_indirect $t (type $v2v) (local.get $idx)))
)"#;

/// What the host functions see and do.
#[derive(Default)]
struct Host {
    /// `reenter` turns a trap of the wasm it calls into the result -1.
    recover: bool,
    /// Every host call, with who called it.
    log: Vec<String>,
}

/// Which instance called a host function (from `Caller::get_export`).
fn who(caller: &mut Caller<'_, Host>) -> &'static str {
    if caller.get_export("memory").is_some() {
        "a"
    } else if caller.get_export("b_indirect").is_some() {
        "b"
    } else {
        "host"
    }
}

/// Both instances in a store of `tier`, and the table's slot 6 set to
/// a host function that re-enters `b`.
struct World {
    store: Store<Host>,
    a: Instance,
    b: Instance,
    table: Table,
}

fn world(tier: Tier) -> World {
    let engine = engine(tier);
    let module_a = module(tier, &engine, MODULE_A);
    let module_b = module(tier, &engine, MODULE_B);
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap(
            "host",
            "leaf",
            |mut caller: Caller<'_, Host>, x: i32| -> kiln::Result<i32> {
                let from = who(&mut caller);
                caller.data_mut().log.push(format!("leaf({x}) from {from}"));
                if x < 0 {
                    return Err(Refused(x).into());
                }
                Ok(x * 10)
            },
        )
        .unwrap();
    linker
        .func_wrap(
            "host",
            "reenter",
            |mut caller: Caller<'_, Host>,
             depth: i32,
             trap_at: i32,
             fail_at: i32|
             -> kiln::Result<i32> {
                let from = who(&mut caller);
                caller
                    .data_mut()
                    .log
                    .push(format!("reenter({depth}) from {from}"));
                if depth == fail_at {
                    return Err(Refused(depth).into());
                }
                let rec = caller
                    .get_export("rec")
                    .and_then(Extern::into_func)
                    .expect("the caller exports rec");
                let rec = rec.typed::<(i32, i32, i32), i32>(&caller)?;
                match rec.call(&mut caller, (depth, trap_at, fail_at)) {
                    Ok(v) => Ok(v + 10),
                    Err(err) if caller.data().recover && err.is::<Trap>() => {
                        let names = tiers::failure(&err).names().join(",");
                        caller
                            .data_mut()
                            .log
                            .push(format!("recovered at {depth}: {names}"));
                        Ok(-1)
                    }
                    Err(err) => Err(err),
                }
            },
        )
        .unwrap();
    let mut store = Store::new(&engine, Host::default());
    let a = linker.instantiate(&mut store, &module_a).unwrap();
    linker.instance(&mut store, "a", a).unwrap();
    let b = linker.instantiate(&mut store, &module_b).unwrap();
    let table = a.get_table(&mut store, "table").unwrap();

    // Slot 6: a host function (not an import of anything) that re-enters
    // `b` and through it the table again.
    let b_indirect = b
        .get_typed_func::<(i32, i32), i32>(&mut store, "b_indirect")
        .unwrap();
    let slot6 = Func::wrap(
        &mut store,
        move |mut caller: Caller<'_, Host>, x: i32| -> kiln::Result<i32> {
            let from = who(&mut caller);
            caller
                .data_mut()
                .log
                .push(format!("slot6({x}) from {from}"));
            if x == 0 {
                return Ok(7);
            }
            Ok(b_indirect.call(&mut caller, (1, x - 1))? + 1000)
        },
    );
    table.set(&mut store, 6, Ref::Func(Some(slot6))).unwrap();
    World { store, a, b, table }
}

/// What a scenario calls.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    /// An export of instance `a`.
    A(&'static str),
    /// An export of instance `b`.
    B(&'static str),
    /// The function in slot `n` of the shared table, called by the host.
    Slot(u64),
}

#[derive(Clone, Debug)]
struct Scenario {
    target: Target,
    args: Vec<i32>,
    recover: bool,
}

fn scenario(target: Target, args: &[i32]) -> Scenario {
    Scenario {
        target,
        args: args.to_vec(),
        recover: false,
    }
}

/// Every scenario: each crossing, with each kind of trap and failure at
/// each depth.
fn scenarios() -> Vec<Scenario> {
    let mut all = Vec::new();
    for x in [0, 1, 2, 3, 5] {
        all.push(scenario(Target::A("a_trap"), &[x]));
        all.push(scenario(Target::A("a_nested"), &[x]));
        all.push(scenario(Target::B("b_calls_a_trap"), &[x]));
    }
    all.push(scenario(Target::A("a_double"), &[21]));
    all.push(scenario(Target::B("b_calls_a"), &[21]));
    for x in [4, -3] {
        all.push(scenario(Target::A("a_calls_host"), &[x]));
        all.push(scenario(Target::B("b_calls_host"), &[x]));
    }
    // Every slot of the shared table (7 is null, 8 is out of bounds),
    // called through either instance, with every trap of `a_trap`, a host
    // failure (-1 in `leaf`) and a successful value.
    for idx in 0..=8 {
        for x in [0, 1, 2, 3, 5, -1] {
            all.push(scenario(Target::A("a_indirect"), &[idx, x]));
            all.push(scenario(Target::B("b_indirect"), &[idx, x]));
        }
    }
    for idx in [0, 3, 6, 7, 9] {
        all.push(scenario(Target::B("b_wrong_type"), &[idx]));
    }
    // The host calling table elements directly.
    for slot in 0..=7 {
        for x in [0, 2, 5] {
            all.push(scenario(Target::Slot(slot), &[x]));
        }
    }
    // Re-entrance: a trap at each depth (5: none), a host failure at each
    // depth, with and without the host recovering from traps.
    for recover in [false, true] {
        for trap_at in 0..=5 {
            let mut s = scenario(Target::A("rec"), &[0, trap_at, -1]);
            s.recover = recover;
            all.push(s);
        }
        for fail_at in 1..=4 {
            let mut s = scenario(Target::A("rec"), &[0, -1, fail_at]);
            s.recover = recover;
            all.push(s);
        }
    }
    let mut s = scenario(Target::A("recover_then_trap"), &[]);
    s.recover = true;
    all.push(s);
    all
}

/// What one scenario did: the call's outcome and the host calls made.
#[derive(Debug, PartialEq)]
struct Observed {
    outcome: Outcome,
    log: Vec<String>,
    /// A `Refused` error came back as itself (downcasts).
    refused: Option<Refused>,
}

fn run_scenario(world: &mut World, s: &Scenario) -> Observed {
    let store = &mut world.store;
    store.data_mut().recover = s.recover;
    store.data_mut().log.clear();
    let func = match s.target {
        Target::A(name) => world.a.get_func(&mut *store, name).unwrap(),
        Target::B(name) => world.b.get_func(&mut *store, name).unwrap(),
        Target::Slot(n) => match world.table.get(&mut *store, n).unwrap() {
            Ref::Func(Some(f)) => f,
            // Calling nothing: the host sees a null slot, no call.
            _ => {
                return Observed {
                    outcome: Ok(vec![Bits::FuncRef(false)]),
                    log: Vec::new(),
                    refused: None,
                };
            }
        },
    };
    let args: Vec<Val> = s.args.iter().map(|x| Val::I32(*x)).collect();
    let mut results = vec![Val::I32(0); func.ty(&*store).results().len()];
    let result = func.call(&mut *store, &args, &mut results);
    let refused = result
        .as_ref()
        .err()
        .and_then(|e| e.downcast_ref::<Refused>().cloned());
    Observed {
        outcome: outcome(result, &results),
        log: std::mem::take(&mut store.data_mut().log),
        refused,
    }
}

/// Runs every scenario in one store per tier (in order, so each one also
/// checks that the previous traps left the store sound) and compares.
#[test]
fn every_crossing_behaves_the_same_in_every_tier() {
    let scenarios = scenarios();
    let per_tier: Vec<Vec<Observed>> = TIERS
        .iter()
        .map(|tier| {
            let mut world = world(*tier);
            scenarios
                .iter()
                .map(|s| run_scenario(&mut world, s))
                .collect()
        })
        .collect();
    let interp = &per_tier[0];
    let native = &per_tier[1];
    let mut disagreements = Vec::new();
    for (tier, outcomes) in TIERS.iter().zip(&per_tier).skip(1) {
        for ((s, i), n) in scenarios.iter().zip(interp).zip(outcomes) {
            if i != n {
                disagreements.push(format!(
                    "{s:?}:\n  interpreter: {i:?}\n  {}: {n:?}",
                    tier.name()
                ));
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} scenarios disagree:\n{}",
        disagreements.len(),
        scenarios.len(),
        disagreements.join("\n")
    );

    // The reference outcomes, by hand.
    let find = |target: Target, args: &[i32], recover: bool| -> &Observed {
        let i = scenarios
            .iter()
            .position(|s| s.target == target && s.args == args && s.recover == recover)
            .unwrap_or_else(|| panic!("no scenario {target:?} {args:?}"));
        &native[i]
    };
    let ok = |v: i32| Ok(vec![Bits::I32(v)]);
    let trap = |o: &Observed| -> (Option<Trap>, Vec<String>) {
        let f: &Failure = o.outcome.as_ref().expect_err("a failure");
        (f.trap, f.names())
    };
    let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    // host -> wasm, each trap kind, with the frames that were live.
    for (x, code) in [
        (0, Trap::UnreachableCodeReached),
        (1, Trap::IntegerDivisionByZero),
        (2, Trap::MemoryOutOfBounds),
        (3, Trap::BadConversionToInteger),
    ] {
        let o = find(Target::A("a_trap"), &[x], false);
        assert_eq!(trap(o), (Some(code), names(&["a_trap"])));
        let o = find(Target::A("a_nested"), &[x], false);
        assert_eq!(
            trap(o),
            (Some(code), names(&["a_trap", "a_mid", "a_nested"]))
        );
        // Across instances: frames of both modules, each with its module.
        let o = find(Target::B("b_calls_a_trap"), &[x], false);
        assert_eq!(
            trap(o),
            (
                Some(code),
                names(&["a_trap", "b_via_a_trap", "b_calls_a_trap"])
            )
        );
        let modules: Vec<_> = o
            .outcome
            .as_ref()
            .unwrap_err()
            .frames
            .iter()
            .map(|f| f.module.clone().unwrap())
            .collect();
        assert_eq!(modules, ["a", "b", "b"]);
    }
    assert_eq!(find(Target::A("a_nested"), &[5], false).outcome, ok(6));
    assert_eq!(find(Target::B("b_calls_a"), &[21], false).outcome, ok(42));

    // wasm -> host, and a host error through wasm frames: unchanged, no
    // backtrace.
    let o = find(Target::A("a_calls_host"), &[4], false);
    assert_eq!(
        (&o.outcome, &o.log[..]),
        (&ok(41), &["leaf(4) from a".to_owned()][..])
    );
    let o = find(Target::B("b_calls_host"), &[-3], false);
    assert_eq!(o.refused, Some(Refused(-3)));
    assert_eq!(o.log, ["leaf(-3) from b"]);
    assert_eq!(
        o.outcome,
        Err(Failure {
            trap: None,
            frames: Vec::new(),
            message: "the host refused -3".into()
        })
    );

    // The shared table, through either instance.
    for via in [Target::A("a_indirect"), Target::B("b_indirect")] {
        let caller = if via == Target::A("a_indirect") {
            "a"
        } else {
            "b"
        };
        let entry = if caller == "a" {
            "a_indirect"
        } else {
            "b_indirect"
        };
        assert_eq!(find(via, &[0, 5], false).outcome, ok(10));
        assert_eq!(
            trap(find(via, &[1, 0], false)),
            (
                Some(Trap::UnreachableCodeReached),
                names(&["a_trap", entry])
            )
        );
        // A host import in the table: its caller is whoever called through
        // the table.
        let o = find(via, &[2, 5], false);
        assert_eq!(o.outcome, ok(50));
        assert_eq!(o.log, [format!("leaf(5) from {caller}")]);
        assert_eq!(find(via, &[2, -1], false).refused, Some(Refused(-1)));
        assert_eq!(find(via, &[3, 5], false).outcome, ok(6));
        assert_eq!(
            trap(find(via, &[4, 2], false)),
            (
                Some(Trap::MemoryOutOfBounds),
                names(&["a_trap", "b_via_a_trap", entry])
            )
        );
        assert_eq!(find(via, &[5, 5], false).outcome, ok(1010));
        assert_eq!(
            trap(find(via, &[5, 1], false)),
            (
                Some(Trap::IntegerDivisionByZero),
                names(&["a_trap", "b_via_a_trap", "b_indirect_chain", entry])
            )
        );
        // Slot 6 re-enters b: the error is the inner call's, returned
        // unchanged by the host function; as in wasmtime, its backtrace
        // lists the inner frames and then those of the outer call.
        assert_eq!(find(via, &[6, 0], false).outcome, ok(7));
        assert_eq!(find(via, &[6, 5], false).outcome, ok(1004));
        let o = find(via, &[6, 1], false);
        assert_eq!(
            trap(o),
            (
                Some(Trap::UnreachableCodeReached),
                names(&["a_trap", "b_indirect", entry])
            )
        );
        assert_eq!(o.log, [format!("slot6(1) from {caller}")]);
        assert_eq!(
            trap(find(via, &[7, 5], false)),
            (Some(Trap::IndirectCallToNull), names(&[entry]))
        );
        assert_eq!(
            trap(find(via, &[8, 5], false)),
            (Some(Trap::TableOutOfBounds), names(&[entry]))
        );
    }
    for idx in [0, 3, 6] {
        assert_eq!(
            trap(find(Target::B("b_wrong_type"), &[idx], false)),
            (Some(Trap::BadSignature), names(&["b_wrong_type"]))
        );
    }
    assert_eq!(
        trap(find(Target::B("b_wrong_type"), &[7], false)).0,
        Some(Trap::IndirectCallToNull)
    );
    assert_eq!(
        trap(find(Target::B("b_wrong_type"), &[9], false)).0,
        Some(Trap::TableOutOfBounds)
    );
    // The host calling table elements: no wasm caller.
    assert_eq!(
        find(Target::Slot(2), &[5], false).log,
        ["leaf(5) from host"]
    );
    assert_eq!(
        trap(find(Target::Slot(5), &[0], false)),
        (
            Some(Trap::UnreachableCodeReached),
            names(&["a_trap", "b_via_a_trap", "b_indirect_chain"])
        )
    );
    assert_eq!(find(Target::Slot(6), &[5], false).outcome, ok(1004));

    // Re-entrance. rec(4) = 4 and rec(d) = rec(d + 1) + 10 + 100.
    let rec = |trap_at, fail_at, recover| find(Target::A("rec"), &[0, trap_at, fail_at], recover);
    for recover in [false, true] {
        let o = rec(5, -1, recover);
        assert_eq!(o.outcome, ok(444));
        assert_eq!(
            o.log,
            [
                "reenter(1) from a",
                "reenter(2) from a",
                "reenter(3) from a",
                "reenter(4) from a"
            ]
        );
        // A trap at depth 0 reaches the embedder directly.
        assert_eq!(
            trap(rec(0, -1, recover)),
            (
                Some(Trap::UnreachableCodeReached),
                names(&["rec_trap", "rec"])
            )
        );
    }
    for trap_at in 1..=4 {
        // Not recovered: every host function returns the error unchanged;
        // as in wasmtime, it carries the frames of the activation that
        // trapped and then those of every activation it was nested in
        // (each level's `rec_step` and `rec`).
        let nested = |levels: i32| {
            let mut frames = vec!["rec_trap", "rec"];
            for _ in 0..levels {
                frames.extend(["rec_step", "rec"]);
            }
            names(&frames)
        };
        let o = rec(trap_at, -1, false);
        assert_eq!(
            trap(o),
            (Some(Trap::UnreachableCodeReached), nested(trap_at))
        );
        assert_eq!(o.log.len(), trap_at as usize);
        // Recovered at depth trap_at: rec(trap_at - 1) gets -1 + 100, and
        // every level above adds 110.
        let o = rec(trap_at, -1, true);
        assert_eq!(o.outcome, ok(99 + 110 * (trap_at - 1)));
        assert_eq!(
            o.log.last().unwrap(),
            &format!("recovered at {trap_at}: {}", nested(trap_at).join(","))
        );
    }
    for fail_at in 1..=4 {
        for recover in [false, true] {
            let o = rec(-1, fail_at, recover);
            assert_eq!(o.refused, Some(Refused(fail_at)));
            assert_eq!(o.outcome.as_ref().unwrap_err().trap, None);
        }
    }
    assert_eq!(
        trap(find(Target::A("recover_then_trap"), &[], true)),
        (
            Some(Trap::UnreachableCodeReached),
            names(&["a_trap", "a_mid", "recover_then_trap"])
        )
    );
}

#[test]
fn modules_of_another_engine_cannot_be_linked_into_a_store() {
    // Why tiers cannot meet inside one store: strategy is per engine, and
    // instantiation refuses a module compiled by another engine, however
    // it is reached.
    let interp = engine(Tier::Interpreter);
    let native = engine(Tier::Cranelift);
    let wat = r#"(module (func (export "f") (result i32) i32.const 1))"#;
    let native_module = module(Tier::Cranelift, &native, wat);
    let mut store = Store::new(&interp, ());
    let err = Instance::new(&mut store, &native_module, &[]).unwrap_err();
    assert!(err.to_string().contains("cross-`Engine`"), "{err}");
    let linker = Linker::new(&interp);
    assert!(linker.instantiate(&mut store, &native_module).is_err());
    // Nor can an item of a store of one engine be imported into another's.
    let mut native_store = Store::new(&native, ());
    let instance = Instance::new(&mut native_store, &native_module, &[]).unwrap();
    let f = instance.get_func(&mut native_store, "f").unwrap();
    let importer = module(
        Tier::Interpreter,
        &interp,
        r#"(module (import "m" "f" (func (result i32))))"#,
    );
    assert!(Instance::new(&mut store, &importer, &[f.into()]).is_err());
    let mut linker = Linker::new(&interp);
    let err = linker.define(&native_store, "m", "f", f).unwrap_err();
    assert!(err.to_string().contains("cross-`Engine`"), "{err}");
}

/// One level of a chain of stores: calls the next level through the host.
const CHAIN_LEVEL: &str = r#"(module $level
  (import "host" "next" (func $next (param i32 i32 i32) (result i32)))
  (func $step (export "step") (param $level i32) (param $trap_at i32) (param $last i32) (result i32)
    (if (i32.eq (local.get $level) (local.get $trap_at)) (then (call $boom)))
    (if (i32.eq (local.get $level) (local.get $last))
      (then (return (i32.mul (local.get $level) (i32.const 1000)))))
    (i32.add
      (call $next (i32.add (local.get $level) (i32.const 1)) (local.get $trap_at) (local.get $last))
      (i32.const 1)))
  (func $boom unreachable))"#;

type Level = Arc<Mutex<(Store<()>, TypedFunc<(i32, i32, i32), i32>)>>;

/// A chain of stores, one per entry of `tiers`, each level's host function
/// calling the next level's `step`.
fn chain(tiers: &[Tier]) -> Vec<Level> {
    let mut levels: Vec<Level> = Vec::new();
    for tier in tiers.iter().rev() {
        let engine = engine(*tier);
        let module = module(*tier, &engine, CHAIN_LEVEL);
        let next = levels.last().cloned();
        let mut linker = Linker::new(&engine);
        linker
            .func_wrap(
                "host",
                "next",
                move |_: Caller<'_, ()>,
                      level: i32,
                      trap_at: i32,
                      last: i32|
                      -> kiln::Result<i32> {
                    let next = next.as_ref().expect("the last level calls no further");
                    let mut next = next.lock().unwrap();
                    let (store, step) = &mut *next;
                    step.call(store, (level, trap_at, last))
                },
            )
            .unwrap();
        let mut store = Store::new(&engine, ());
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let step = instance
            .get_typed_func::<(i32, i32, i32), i32>(&mut store, "step")
            .unwrap();
        levels.push(Arc::new(Mutex::new((store, step))));
    }
    levels.reverse();
    levels
}

#[test]
fn tiers_meet_through_host_functions_across_stores() {
    // Native code calling a host function that calls interpreted code
    // (in a store of an interpreter engine) that calls a host function
    // that calls native code, and so on, with a trap at each depth.
    use Tier::{Cranelift as C, Interpreter as I};
    let patterns: [&[Tier]; 5] = [
        &[I, I, I, I],
        &[C, C, C, C],
        &[C, I, C, I],
        &[I, C, I, C],
        &[C, C, I, I],
    ];
    let mut reference: Option<Vec<Outcome>> = None;
    for pattern in patterns {
        let levels = chain(pattern);
        let last = pattern.len() as i32 - 1;
        let mut outcomes = Vec::new();
        for trap_at in [0, 1, 2, 3, -1] {
            let mut first = levels[0].lock().unwrap();
            let (store, step) = &mut *first;
            let result = step.call(&mut *store, (0, trap_at, last));
            outcomes.push(match result {
                Ok(v) => Ok(vec![Bits::I32(v)]),
                Err(err) => Err(tiers::failure(&err)),
            });
        }
        // Each trap came back with the frames of the store it happened in.
        for (trap_at, o) in outcomes[..4].iter().enumerate() {
            let f = o.as_ref().expect_err("a trap");
            assert_eq!(
                (f.trap, f.names()),
                (
                    Some(Trap::UnreachableCodeReached),
                    vec!["boom".to_owned(), "step".to_owned()]
                ),
                "{pattern:?}: trap at level {trap_at}"
            );
        }
        assert_eq!(outcomes[4], Ok(vec![Bits::I32(3003)]), "{pattern:?}");
        match &reference {
            None => reference = Some(outcomes),
            Some(r) => assert_eq!(r, &outcomes, "{pattern:?}"),
        }
    }
}

// ---------------------------------------------------------------------------
// The rest of the native tier, as a user meets it
// ---------------------------------------------------------------------------

/// Instantiates `wat` (no imports) in a fresh store of `tier`.
fn instance(tier: Tier, wat: &str) -> (Store<()>, Instance) {
    let engine = engine(tier);
    let module = module(tier, &engine, wat);
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

/// Calls export `name` with `args`; the outcome in comparable form.
fn call(store: &mut Store<()>, instance: Instance, name: &str, args: &[Val]) -> Outcome {
    let func = instance
        .get_func(&mut *store, name)
        .unwrap_or_else(|| panic!("no export {name}"));
    let mut results = vec![Val::I32(0); func.ty(&*store).results().len()];
    let result = func.call(&mut *store, args, &mut results);
    outcome(result, &results)
}

fn i32s(vals: &[i32]) -> Vec<Val> {
    vals.iter().map(|v| Val::I32(*v)).collect()
}

#[test]
fn memory_grow_in_native_code_then_access_at_the_new_size() {
    let wat = r#"(module
      (memory (export "memory") 1 100)
      ;; Stores at the last word of the memory, grows by $pages, stores at
      ;; the new last word, reads both back; returns the old size.
      (func (export "grow_and_touch") (param $pages i32) (result i32) (local $old i32) (local $end i32)
        (i32.store (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4)) (i32.const 0x11))
        (local.set $old (memory.grow (local.get $pages)))
        (if (i32.lt_s (local.get $old) (i32.const 0)) (then (return (i32.const -1))))
        (local.set $end (i32.mul (memory.size) (i32.const 65536)))
        (i32.store (i32.sub (local.get $end) (i32.const 4)) (i32.const 0x22))
        (if (i32.ne (i32.load (i32.sub (i32.mul (local.get $old) (i32.const 65536)) (i32.const 4))) (i32.const 0x11))
          (then unreachable))
        (if (i32.ne (i32.load (i32.sub (local.get $end) (i32.const 4))) (i32.const 0x22))
          (then unreachable))
        (local.get $old))
      (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
      ;; A loop that grows one page per iteration and writes each new page:
      ;; the cached bounds must follow every growth.
      (func (export "grow_loop") (param $n i32) (result i32) (local $i i32) (local $sum i32)
        (loop $l
          (drop (memory.grow (i32.const 1)))
          (i32.store (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4)) (local.get $i))
          (local.set $sum (i32.add (local.get $sum)
            (i32.load (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4)))))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
        (i32.add (local.get $sum) (memory.size))))"#;
    same_in_every_tier("memory.grow", |tier| {
        let (mut store, inst) = instance(tier, wat);
        let steps: [(&str, i32); 9] = [
            // Before growing, the second page is out of bounds.
            ("load", 65536),
            ("grow_and_touch", 1),
            ("load", 65536 * 2 - 4),
            ("load", 65536 * 2 - 3),
            // Large growth (the memory moves to another mapping).
            ("grow_and_touch", 40),
            ("load", 65536 * 42 - 4),
            // Past the maximum: -1, nothing changes.
            ("grow_and_touch", 100),
            ("grow_loop", 20),
            ("load", 65536 * 62),
        ];
        let seen: Vec<Outcome> = steps
            .iter()
            .map(|(name, arg)| call(&mut store, inst, name, &i32s(&[*arg])))
            .collect();
        let memory = inst.get_memory(&mut store, "memory").unwrap();
        assert_eq!(memory.size(&store), 62);
        let expected = vec![
            Err(Trap::MemoryOutOfBounds),
            Ok(1),
            Ok(0x22),
            Err(Trap::MemoryOutOfBounds),
            Ok(2),
            Ok(0x22),
            Ok(-1),
            Ok((0..20).sum::<i32>() + 62),
            Err(Trap::MemoryOutOfBounds),
        ];
        let got: Vec<Result<i32, Trap>> = seen
            .iter()
            .map(|o| match o {
                Ok(v) => match v[..] {
                    [Bits::I32(x)] => Ok(x),
                    _ => panic!("{v:?}"),
                },
                Err(f) => Err(f.trap.expect("a trap")),
            })
            .collect();
        assert_eq!(got, expected, "{}", tiers::tier_name(tier));
        seen
    });
}

#[test]
fn memory_grown_by_the_host_under_native_code() {
    // Native code keeps memory 0's base and length in registers; a host
    // function it calls grows the memory (far enough for it to move) and
    // writes to the new pages. After the call the native code must see
    // the new base and bounds: read what the host wrote, write past the
    // old end, and read old data at the new address.
    let wat = r#"(module
      (import "host" "grow" (func $grow (param i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "run") (result i32) (local $old i32) (local $p i32)
        (i32.store (i32.const 100) (i32.const 0xabcd))
        ;; A loop, so that the bounds live in registers across iterations.
        (loop $l
          (i32.store (i32.add (i32.const 1000) (i32.mul (local.get $p) (i32.const 4))) (local.get $p))
          (br_if $l (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (i32.const 10))))
        (local.set $old (call $grow (i32.const 80)))
        ;; The host wrote 0x5a5a5a5a at the start of the last new page.
        (if (i32.ne (i32.load (i32.const 5242880)) (i32.const 0x5a5a5a5a)) (then unreachable))
        (i32.store (i32.const 5308412) (i32.const 77))
        (if (i32.ne (i32.load (i32.const 100)) (i32.const 0xabcd)) (then unreachable))
        (if (i32.ne (i32.load (i32.const 1036)) (i32.const 9)) (then unreachable))
        ;; Past the new end still traps.
        (drop (i32.load (i32.const 5308413)))
        (local.get $old))
      (func (export "after") (result i32) (i32.load (i32.const 5308412))))"#;
    let _ = same_in_every_tier("memory grown by the host", |tier| {
        let engine = engine(tier);
        let module = module(tier, &engine, wat);
        let mut linker = Linker::new(&engine);
        linker
            .func_wrap(
                "host",
                "grow",
                |mut caller: Caller<'_, ()>, pages: i32| -> kiln::Result<i32> {
                    let memory = caller
                        .get_export("memory")
                        .and_then(Extern::into_memory)
                        .unwrap();
                    let old = memory.grow(&mut caller, pages as u64)?;
                    let last_page = (memory.size(&caller) - 1) as usize * 65536;
                    memory.data_mut(&mut caller)[last_page..last_page + 4]
                        .copy_from_slice(&0x5a5a5a5a_u32.to_le_bytes());
                    Ok(old as i32)
                },
            )
            .unwrap();
        let mut store = Store::new(&engine, ());
        let inst = linker.instantiate(&mut store, &module).unwrap();
        let run = call(&mut store, inst, "run", &[]);
        // The trap is the last load, after every check passed.
        let f = run.clone().expect_err("the last load traps");
        assert_eq!(
            (f.trap, f.names()),
            (Some(Trap::MemoryOutOfBounds), vec!["#1".to_owned()])
        );
        let after = call(&mut store, inst, "after", &[]);
        assert_eq!(after, Ok(vec![Bits::I32(77)]));
        let memory = inst.get_memory(&mut store, "memory").unwrap();
        assert_eq!(memory.size(&store), 81);
        (run, after)
    });
}

#[test]
fn shared_memory_grown_by_another_instance() {
    // Instance `user` imports the memory of `owner`; a native call into
    // `owner` grows it; `user`'s native code sees the new size after the
    // call.
    let owner = r#"(module
      (memory (export "memory") 1)
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;
    let user = r#"(module
      (import "owner" "memory" (memory 1))
      (import "owner" "grow" (func $grow (param i32) (result i32)))
      (func (export "run") (result i32)
        (i32.store (i32.const 0) (i32.const 5))
        (drop (call $grow (i32.const 10)))
        (i32.store (i32.const 655356) (i32.const 6))
        (i32.add (i32.load (i32.const 0)) (i32.add (i32.load (i32.const 655356)) (memory.size)))))"#;
    let _ = same_in_every_tier("imported memory grown elsewhere", |tier| {
        let engine = engine(tier);
        let owner = module(tier, &engine, owner);
        let user = module(tier, &engine, user);
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        let o = linker.instantiate(&mut store, &owner).unwrap();
        linker.instance(&mut store, "owner", o).unwrap();
        let u = linker.instantiate(&mut store, &user).unwrap();
        let out = call(&mut store, u, "run", &[]);
        assert_eq!(out, Ok(vec![Bits::I32(5 + 6 + 11)]));
        out
    });
}

#[test]
fn table_grow_in_native_code() {
    let wat = r#"(module
      (type $i2i (func (param i32) (result i32)))
      (table $t (export "table") 1 10 funcref)
      (elem declare func $sq)
      (func $sq (type $i2i) (i32.mul (local.get 0) (local.get 0)))
      ;; Grows by $n slots filled with $sq; calls the last one.
      (func (export "grow_and_call") (param $n i32) (result i32) (local $old i32)
        (local.set $old (table.grow $t (ref.func $sq) (local.get $n)))
        (if (i32.lt_s (local.get $old) (i32.const 0)) (then (return (i32.const -1))))
        (i32.add
          (i32.mul (table.size $t) (i32.const 1000))
          (call_indirect $t (type $i2i) (i32.const 7) (i32.sub (table.size $t) (i32.const 1)))))
      (func (export "call") (param i32) (result i32)
        (call_indirect $t (type $i2i) (i32.const 3) (local.get 0)))
      (func (export "size") (result i32) (table.size $t))
      ;; table.grow with a null value, then table.fill/table.get.
      (func (export "fill_null") (param $from i32) (param $n i32) (result i32)
        (table.fill $t (local.get $from) (ref.null func) (local.get $n))
        (ref.is_null (table.get $t (local.get $from)))))"#;
    same_in_every_tier("table.grow", |tier| {
        let (mut store, inst) = instance(tier, wat);
        let seen = vec![
            call(&mut store, inst, "call", &i32s(&[0])),
            call(&mut store, inst, "grow_and_call", &i32s(&[3])),
            call(&mut store, inst, "call", &i32s(&[3])),
            call(&mut store, inst, "call", &i32s(&[4])),
            call(&mut store, inst, "grow_and_call", &i32s(&[7])),
            call(&mut store, inst, "grow_and_call", &i32s(&[6])),
            call(&mut store, inst, "size", &[]),
            call(&mut store, inst, "fill_null", &i32s(&[8, 2])),
            call(&mut store, inst, "call", &i32s(&[9])),
            call(&mut store, inst, "fill_null", &i32s(&[9, 2])),
            call(&mut store, inst, "call", &i32s(&[7])),
        ];
        let simple: Vec<Result<i32, Trap>> = seen
            .iter()
            .map(|o| match o {
                Ok(v) => match v[..] {
                    [Bits::I32(x)] => Ok(x),
                    _ => panic!("{v:?}"),
                },
                Err(f) => Err(f.trap.expect("a trap")),
            })
            .collect();
        assert_eq!(
            simple,
            [
                Err(Trap::IndirectCallToNull),
                Ok(4049),
                Ok(9),
                Err(Trap::TableOutOfBounds),
                Ok(-1),
                Ok(10_049),
                Ok(10),
                Ok(1),
                Err(Trap::IndirectCallToNull),
                Err(Trap::TableOutOfBounds),
                Ok(9),
            ]
        );
        let table = inst.get_table(&mut store, "table").unwrap();
        assert_eq!(table.size(&store), 10);
        seen
    });
}

#[test]
fn bulk_operations_trapping_out_of_bounds_write_nothing() {
    let wat = r#"(module
      (type $v (func))
      (memory (export "memory") 1)
      (table $t (export "table") 4 funcref)
      (data $d "abcdefgh")
      (elem $e func $f $f $f)
      (func $f)
      (func (export "fill") (param i32 i32) (memory.fill (local.get 0) (i32.const 0x61) (local.get 1)))
      (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
      (func (export "init") (param i32 i32 i32) (memory.init $d (local.get 0) (local.get 1) (local.get 2)))
      (func (export "drop_data") (data.drop $d))
      (func (export "table_init") (param i32 i32 i32) (table.init $t $e (local.get 0) (local.get 1) (local.get 2)))
      (func (export "table_copy") (param i32 i32 i32) (table.copy $t $t (local.get 0) (local.get 1) (local.get 2)))
      (func (export "drop_elem") (elem.drop $e))
      (func (export "checksum") (result i64) (local $i i32) (local $sum i64)
        (loop $l
          (local.set $sum (i64.add (i64.mul (local.get $sum) (i64.const 31))
            (i64.load8_u (i32.sub (i32.const 65535) (local.get $i)))))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 64))))
        (local.get $sum))
      (func (export "nulls") (result i32) (local $i i32) (local $n i32)
        (loop $l
          (local.set $n (i32.add (local.get $n) (ref.is_null (table.get $t (local.get $i)))))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 4))))
        (local.get $n)))"#;
    let steps: &[(&str, &[i32])] = &[
        ("fill", &[65530, 7]),
        ("fill", &[65530, 6]),
        ("fill", &[-1, 1]),
        ("fill", &[65536, 0]),
        ("fill", &[65537, 0]),
        ("copy", &[65534, 0, 3]),
        ("copy", &[0, 65534, 3]),
        ("copy", &[65528, 65530, 6]),
        ("copy", &[65536, 0, 0]),
        ("init", &[65532, 0, 5]),
        ("init", &[65531, 2, 5]),
        ("init", &[0, 4, 5]),
        ("init", &[0, 8, 0]),
        ("init", &[0, 9, 0]),
        ("drop_data", &[]),
        ("init", &[0, 0, 1]),
        ("init", &[0, 0, 0]),
        ("table_init", &[2, 0, 3]),
        ("table_init", &[1, 0, 3]),
        ("table_copy", &[2, 0, 3]),
        ("table_copy", &[0, 2, 2]),
        ("table_copy", &[4, 0, 0]),
        ("table_copy", &[5, 0, 0]),
        ("drop_elem", &[]),
        ("table_init", &[0, 0, 1]),
        ("table_init", &[0, 0, 0]),
    ];
    let observed = same_in_every_tier("bulk operations", |tier| {
        let (mut store, inst) = instance(tier, wat);
        let mut seen = Vec::new();
        for (name, args) in steps {
            let o = call(&mut store, inst, name, &i32s(args));
            let sum = call(&mut store, inst, "checksum", &[]);
            let nulls = call(&mut store, inst, "nulls", &[]);
            seen.push((o.map_err(|f| f.trap), sum, nulls));
        }
        let memory = inst.get_memory(&mut store, "memory").unwrap();
        let tail = memory.data(&store)[65520..].to_vec();
        (seen, tail)
    });
    let traps: Vec<Option<Trap>> = observed
        .0
        .iter()
        .map(|(o, _, _)| o.as_ref().err().copied().flatten())
        .collect();
    use Trap::{MemoryOutOfBounds as M, TableOutOfBounds as T};
    assert_eq!(
        traps,
        [
            Some(M),
            None,
            Some(M),
            None,
            Some(M),
            Some(M),
            Some(M),
            None,
            None,
            Some(M),
            None,
            Some(M),
            None,
            Some(M),
            None,
            Some(M),
            None,
            Some(T),
            None,
            Some(T),
            None,
            None,
            Some(T),
            None,
            Some(T),
            None,
        ]
    );
    // fill 6 'a's at 65530, the copy within, init "cdefg" at 65531.
    assert_eq!(&observed.1[10..], b"acdefg");
}

#[test]
fn globals_shared_between_instances_and_the_host() {
    let owner = r#"(module $owner
      (global $g (export "g") (mut i64) (i64.const 5))
      (global $k (export "k") f64 (f64.const 2.5))
      (func (export "get") (result i64) (global.get $g))
      (func (export "bump") (global.set $g (i64.add (global.get $g) (i64.const 1)))))"#;
    let user = r#"(module $user
      (import "owner" "g" (global $g (mut i64)))
      (import "owner" "k" (global $k f64))
      (import "owner" "bump" (func $bump))
      (import "host" "set" (func $host_set (param i64)))
      (global $mine (export "mine") (mut i32) (i32.const 1))
      ;; Reads the global before and after each kind of writer: itself,
      ;; another instance, the host.
      (func (export "run") (result i64)
        (local $a i64) (local $b i64) (local $c i64)
        (global.set $g (i64.mul (global.get $g) (i64.const 10)))
        (local.set $a (global.get $g))
        (call $bump)
        (local.set $b (global.get $g))
        (call $host_set (i64.const 1000))
        (local.set $c (global.get $g))
        (global.set $mine (i32.add (global.get $mine) (i32.const 1)))
        (i64.add (i64.add (i64.mul (local.get $a) (i64.const 1000000))
                          (i64.mul (local.get $b) (i64.const 1000)))
                 (i64.add (local.get $c) (i64.trunc_f64_s (global.get $k))))))"#;
    let _ = same_in_every_tier("globals", |tier| {
        let engine = engine(tier);
        let owner = module(tier, &engine, owner);
        let user = module(tier, &engine, user);
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        let o = linker.instantiate(&mut store, &owner).unwrap();
        let g = o.get_global(&mut store, "g").unwrap();
        linker.instance(&mut store, "owner", o).unwrap();
        linker
            .func_wrap("host", "set", move |mut caller: Caller<'_, ()>, v: i64| {
                g.set(&mut caller, Val::I64(v)).unwrap();
            })
            .unwrap();
        let u = linker.instantiate(&mut store, &user).unwrap();
        let run = call(&mut store, u, "run", &[]);
        // 50, bumped to 51, set to 1000 by the host; k truncates to 2.
        assert_eq!(run, Ok(vec![Bits::I64(50_052_002)]));
        // The host sets it between calls, too.
        g.set(&mut store, Val::I64(7)).unwrap();
        let get = call(&mut store, o, "get", &[]);
        assert_eq!(get, Ok(vec![Bits::I64(7)]));
        let run2 = call(&mut store, u, "run", &[]);
        assert_eq!(run2, Ok(vec![Bits::I64(70_072_002)]));
        let mine = u.get_global(&mut store, "mine").unwrap();
        assert_eq!(mine.get(&mut store).unwrap_i32(), 3);
        // A global created by the host, imported by wasm.
        let host_global = Global::new(
            &mut store,
            GlobalType::new(ValType::I64, Mutability::Var),
            Val::I64(-4),
        )
        .unwrap();
        let reader = module(
            tier,
            &engine,
            r#"(module (import "h" "g" (global $g (mut i64)))
                 (func (export "twice") (result i64)
                   (global.set $g (i64.mul (global.get $g) (i64.const 2)))
                   (global.get $g)))"#,
        );
        let r = Instance::new(&mut store, &reader, &[host_global.into()]).unwrap();
        let twice = call(&mut store, r, "twice", &[]);
        assert_eq!(twice, Ok(vec![Bits::I64(-8)]));
        assert_eq!(host_global.get(&mut store).unwrap_i64(), -8);
        (run, get, run2, twice)
    });
}

/// The results of `many`: one of each type, twice, and more.
const MANY_RESULTS: &str = r#"(module
  (import "host" "many" (func $host_many (param i32) (result i32 i64 f32 f64 i32 i64 f32 f64 i32 i64)))
  (func $many (export "many") (param $x i32) (result i32 i64 f32 f64 i32 i64 f32 f64 i32 i64)
    (local.get $x)
    (i64.extend_i32_s (i32.mul (local.get $x) (i32.const -3)))
    (f32.convert_i32_s (local.get $x))
    (f64.div (f64.convert_i32_s (local.get $x)) (f64.const 4))
    (i32.add (local.get $x) (i32.const 1))
    (i64.const -9223372036854775808)
    (f32.const -0.0)
    (f64.const 1e300)
    (i32.const -1)
    (i64.shl (i64.const 1) (i64.extend_i32_u (local.get $x))))
  ;; Native -> native (wasm_call) and native -> host (array_call) with ten
  ;; results: reverses them through locals, so every one must be right.
  (func (export "via_wasm") (param $x i32) (result i64 i32 f64 f32 i64 i32 f64 f32 i64 i32)
    (local i32 i64 f32 f64 i32 i64 f32 f64 i32 i64)
    (call $many (local.get $x))
    (local.set 10) (local.set 9) (local.set 8) (local.set 7) (local.set 6)
    (local.set 5) (local.set 4) (local.set 3) (local.set 2) (local.set 1)
    (local.get 10) (local.get 9) (local.get 8) (local.get 7) (local.get 6)
    (local.get 5) (local.get 4) (local.get 3) (local.get 2) (local.get 1))
  (func (export "via_host") (param $x i32) (result i64 i32 f64 f32 i64 i32 f64 f32 i64 i32)
    (local i32 i64 f32 f64 i32 i64 f32 f64 i32 i64)
    (call $host_many (local.get $x))
    (local.set 10) (local.set 9) (local.set 8) (local.set 7) (local.set 6)
    (local.set 5) (local.set 4) (local.set 3) (local.set 2) (local.set 1)
    (local.get 10) (local.get 9) (local.get 8) (local.get 7) (local.get 6)
    (local.get 5) (local.get 4) (local.get 3) (local.get 2) (local.get 1))
  ;; Many values through blocks, loops and br_if.
  (func (export "blocks") (param $x i32) (result i32 i64 f64)
    (i32.const 0) (i64.const 1) (f64.const 0)
    (block $out (param i32 i64 f64) (result i32 i64 f64)
      (loop $l (param i32 i64 f64) (result i32 i64 f64)
        (block $inner (param i32 i64 f64) (result i32 i64 f64)
          (br_if $out (i32.gt_s (local.get $x) (i32.const 100))))
        (call $three)
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br_if $l (i32.lt_s (local.get $x) (i32.const 10)))))
    )
  (func $three (param i32 i64 f64) (result i32 i64 f64)
    (i32.add (local.get 0) (i32.const 1))
    (i64.mul (local.get 1) (i64.const 2))
    (f64.add (local.get 2) (f64.const 0.5))))"#;

/// The results of `many`.
type Ten = (i32, i64, f32, f64, i32, i64, f32, f64, i32, i64);

#[test]
fn many_results_cross_every_boundary() {
    let _ = same_in_every_tier("many results", |tier| {
        let engine = engine(tier);
        let module = module(tier, &engine, MANY_RESULTS);
        let mut linker = Linker::new(&engine);
        // The host's version is wasm's `many`, called back through the
        // caller (host -> native with ten results, inside native -> host).
        linker
            .func_wrap(
                "host",
                "many",
                |mut caller: Caller<'_, ()>, x: i32| -> kiln::Result<Ten> {
                    let many = caller
                        .get_export("many")
                        .and_then(Extern::into_func)
                        .unwrap();
                    let many = many.typed::<i32, Ten>(&caller)?;
                    many.call(&mut caller, x)
                },
            )
            .unwrap();
        let mut store = Store::new(&engine, ());
        let inst = linker.instantiate(&mut store, &module).unwrap();
        let typed = inst.get_typed_func::<i32, Ten>(&mut store, "many").unwrap();
        let direct = typed.call(&mut store, 6).unwrap();
        assert_eq!(direct, (6, -18, 6.0, 1.5, 7, i64::MIN, -0.0, 1e300, -1, 64));
        assert!(direct.6.is_sign_negative());
        type Rev = (i64, i32, f64, f32, i64, i32, f64, f32, i64, i32);
        let reversed: Rev = (64, -1, 1e300, -0.0, i64::MIN, 7, 1.5, 6.0, -18, 6);
        for name in ["via_wasm", "via_host"] {
            let f = inst.get_typed_func::<i32, Rev>(&mut store, name).unwrap();
            assert_eq!(f.call(&mut store, 6).unwrap(), reversed, "{name}");
        }
        // Untyped: Func::call with ten results.
        let f = inst.get_func(&mut store, "via_host").unwrap();
        let mut results = vec![Val::I32(0); 10];
        f.call(&mut store, &[Val::I32(6)], &mut results).unwrap();
        let untyped = tiers::bits(&results);
        assert_eq!(untyped[0], Bits::I64(64));
        assert_eq!(untyped[3], Bits::F32(0x8000_0000));
        assert_eq!(untyped[9], Bits::I32(6));
        // Several values through blocks, a loop and br_if.
        let blocks = call(&mut store, inst, "blocks", &i32s(&[0]));
        assert_eq!(
            blocks,
            Ok(vec![
                Bits::I32(10),
                Bits::I64(1024),
                Bits::F64(5f64.to_bits())
            ])
        );
        let early = call(&mut store, inst, "blocks", &i32s(&[200]));
        assert_eq!(early, Ok(vec![Bits::I32(0), Bits::I64(1), Bits::F64(0)]));
        (direct, untyped, blocks)
    });
}

#[test]
fn dynamic_host_functions_with_many_results_called_by_native_code() {
    let wat = r#"(module
      (import "host" "split" (func $split (param i64) (result i32 i32 i32 i32 f64 f32)))
      (func (export "sum") (param i64) (result f64)
        (local i32 i32 i32 i32 f64 f32)
        (call $split (local.get 0))
        (local.set 6) (local.set 5) (local.set 4) (local.set 3) (local.set 2) (local.set 1)
        (f64.add
          (f64.add (f64.promote_f32 (local.get 6)) (local.get 5))
          (f64.convert_i32_s
            (i32.add (i32.add (local.get 1) (i32.mul (local.get 2) (i32.const 256)))
                     (i32.add (i32.mul (local.get 3) (i32.const 65536)) (i32.mul (local.get 4) (i32.const 16777216))))))))"#;
    let _ = same_in_every_tier("Func::new with many results", |tier| {
        let engine = engine(tier);
        let module = module(tier, &engine, wat);
        let mut store = Store::new(&engine, ());
        let ty = FuncType::new(
            &engine,
            [ValType::I64],
            [
                ValType::I32,
                ValType::I32,
                ValType::I32,
                ValType::I32,
                ValType::F64,
                ValType::F32,
            ],
        );
        let split = Func::new(&mut store, ty, |_, params, results| {
            let x = params[0].unwrap_i64();
            for (i, r) in results[..4].iter_mut().enumerate() {
                *r = Val::I32(((x >> (8 * i)) & 0xff) as i32);
            }
            results[4] = Val::F64(0.25f64.to_bits());
            results[5] = Val::F32(0.5f32.to_bits());
            Ok(())
        });
        let inst = Instance::new(&mut store, &module, &[split.into()]).unwrap();
        let out = call(&mut store, inst, "sum", &[Val::I64(0x0403_0201)]);
        assert_eq!(
            out,
            Ok(vec![Bits::F64((0x0403_0201 as f64 + 0.75).to_bits())])
        );
        out
    });
}

/// 24 parameters, i64 and f64 interleaved irregularly with an i32 and an
/// f32, in the order of `MANY_TYPES`.
const MANY_TYPES: &str = "i64 f64 i64 i64 f64 f64 i64 f64 i64 i64 i64 f64 f64 i64 f64 i64 i32 f32 i64 f64 i64 f64 i32 i64";

/// Arguments for `MANY_TYPES`, each distinctive.
const MANY_ARGS: &str = "(i64.const 1) (f64.const 2.5) (i64.const -3) (i64.const 4) (f64.const -5.25) \
    (f64.const 6e100) (i64.const 7) (f64.const -0.0) (i64.const 9) (i64.const -10) (i64.const 11) \
    (f64.const 12.125) (f64.const 13) (i64.const 0x7fffffffffffffff) (f64.const 15.5) (i64.const -16) \
    (i32.const -17) (f32.const 18.5) (i64.const 19) (f64.const 20) (i64.const 21) (f64.const -22) \
    (i32.const 23) (i64.const -24)";

/// The same arguments as `Val`s.
fn many_args() -> Vec<Val> {
    vec![
        Val::I64(1),
        Val::F64(2.5f64.to_bits()),
        Val::I64(-3),
        Val::I64(4),
        Val::F64((-5.25f64).to_bits()),
        Val::F64(6e100f64.to_bits()),
        Val::I64(7),
        Val::F64((-0.0f64).to_bits()),
        Val::I64(9),
        Val::I64(-10),
        Val::I64(11),
        Val::F64(12.125f64.to_bits()),
        Val::F64(13f64.to_bits()),
        Val::I64(i64::MAX),
        Val::F64(15.5f64.to_bits()),
        Val::I64(-16),
        Val::I32(-17),
        Val::F32(18.5f32.to_bits()),
        Val::I64(19),
        Val::F64(20f64.to_bits()),
        Val::I64(21),
        Val::F64((-22f64).to_bits()),
        Val::I32(23),
        Val::I64(-24),
    ]
}

/// The checksum `$check` computes: every parameter's bits (32-bit ones
/// zero-extended), folded in order.
fn checksum(args: &[Val]) -> i64 {
    args.iter().fold(0i64, |acc, v| {
        let bits = match v {
            Val::I32(x) => i64::from(*x as u32),
            Val::I64(x) => *x,
            Val::F32(x) => i64::from(*x),
            Val::F64(x) => *x as i64,
            _ => unreachable!(),
        };
        acc.wrapping_mul(31).wrapping_add(bits)
    })
}

fn many_params_module() -> String {
    let fold: String = MANY_TYPES
        .split(' ')
        .enumerate()
        .map(|(i, ty)| {
            let bits = match ty {
                "i32" => format!("(i64.extend_i32_u (local.get {i}))"),
                "i64" => format!("(local.get {i})"),
                "f32" => format!("(i64.extend_i32_u (i32.reinterpret_f32 (local.get {i})))"),
                "f64" => format!("(i64.reinterpret_f64 (local.get {i}))"),
                _ => unreachable!(),
            };
            format!("(local.set $acc (i64.add (i64.mul (local.get $acc) (i64.const 31)) {bits}))\n")
        })
        .collect();
    format!(
        r#"(module
  (import "host" "check" (func $host (param {MANY_TYPES}) (result i64)))
  (type $sig (func (param {MANY_TYPES}) (result i64)))
  (table 3 funcref)
  (elem (i32.const 0) $check $host $forward)
  (func $check (export "check") (type $sig) (local $acc i64)
    {fold}
    (local.get $acc))
  ;; Passes its parameters on (shuffling nothing): native -> native.
  (func $forward (export "forward") (type $sig)
    (call $check {gets}))
  (func (export "direct") (result i64) (call $check {MANY_ARGS}))
  (func (export "forwarded") (result i64) (call $forward {MANY_ARGS}))
  (func (export "indirect") (result i64) (call_indirect (type $sig) {MANY_ARGS} (i32.const 0)))
  (func (export "indirect_forward") (result i64) (call_indirect (type $sig) {MANY_ARGS} (i32.const 2)))
  (func (export "host") (result i64) (call $host {MANY_ARGS}))
  (func (export "host_indirect") (result i64) (call_indirect (type $sig) {MANY_ARGS} (i32.const 1))))"#,
        gets = (0..24)
            .map(|i| format!("(local.get {i})"))
            .collect::<Vec<_>>()
            .join(" ")
    )
}

#[test]
fn many_parameters_through_every_kind_of_call() {
    let wat = many_params_module();
    let expected = checksum(&many_args());
    same_in_every_tier("24 parameters", |tier| {
        let engine = engine(tier);
        let module = module(tier, &engine, &wat);
        let mut linker = Linker::new(&engine);
        let ty = module.imports().next().unwrap().ty().unwrap_func().clone();
        linker
            .func_new("host", "check", ty, |_, params, results| {
                // The host sees exactly the arguments wasm passed.
                let got = tiers::bits(params);
                assert_eq!(got, tiers::bits(&many_args()));
                results[0] = Val::I64(checksum(params));
                Ok(())
            })
            .unwrap();
        let mut store = Store::new(&engine, ());
        let inst = linker.instantiate(&mut store, &module).unwrap();
        let mut seen = Vec::new();
        for name in [
            "direct",
            "forwarded",
            "indirect",
            "indirect_forward",
            "host",
            "host_indirect",
        ] {
            let out = call(&mut store, inst, name, &[]);
            assert_eq!(out, Ok(vec![Bits::I64(expected)]), "{name}");
            seen.push(out);
        }
        // The host calling the 24-parameter functions (array_call).
        for name in ["check", "forward"] {
            let out = call(&mut store, inst, name, &many_args());
            assert_eq!(out, Ok(vec![Bits::I64(expected)]), "host -> {name}");
            seen.push(out);
        }
        seen
    });
}

#[test]
fn nan_payloads_survive_calls_and_storage() {
    let wat = r#"(module
      (import "host" "echo32" (func $h32 (param f32) (result f32)))
      (import "host" "echo64" (func $h64 (param f64) (result f64)))
      (memory 1)
      (global $g32 (mut f32) (f32.const 0))
      (global $g64 (mut f64) (f64.const 0))
      (type $f2f (func (param f32) (result f32)))
      (type $d2d (func (param f64) (result f64)))
      (table 2 funcref)
      (elem (i32.const 0) $id32 $id64)
      (func $id32 (param f32) (result f32) (local.get 0))
      (func $id64 (param f64) (result f64) (local.get 0))
      ;; Through a direct call, the host, a global, memory, a block, select,
      ;; call_indirect: every step must keep the bits.
      (func $round32 (export "round32") (param f32) (result f32)
        (global.set $g32 (call $h32 (call $id32 (local.get 0))))
        (f32.store (i32.const 8) (global.get $g32))
        (f32.load (i32.const 8))
        (block (param f32) (result f32))
        (select (f32.const 1) (i32.const 1))
        (call_indirect (type $f2f) (i32.const 0)))
      (func $round64 (export "round64") (param f64) (result f64)
        (global.set $g64 (call $h64 (call $id64 (local.get 0))))
        (f64.store (i32.const 16) (global.get $g64))
        (f64.load (i32.const 16))
        (block (param f64) (result f64))
        (select (f64.const 1) (i32.const 1))
        (call_indirect (type $d2d) (i32.const 1)))
      ;; From and to integer bits, inside wasm.
      (func (export "bits32") (param i32) (result i32)
        (i32.reinterpret_f32 (call $round32 (f32.reinterpret_i32 (local.get 0)))))
      (func (export "bits64") (param i64) (result i64)
        (i64.reinterpret_f64 (call $round64 (f64.reinterpret_i64 (local.get 0)))))
      ;; The sign operators are bitwise: the payload stays.
      (func (export "neg32") (param f32) (result f32) (f32.neg (local.get 0)))
      (func (export "abs64") (param f64) (result f64) (f64.abs (local.get 0)))
      (func (export "copysign32") (param f32 f32) (result f32) (f32.copysign (local.get 0) (local.get 1))))"#;
    let nans32: [u32; 4] = [0x7fa0_0001, 0xffc1_2345, 0x7f80_0001, 0xff80_0001];
    let nans64: [u64; 3] = [
        0x7ff0_0000_0000_0001,
        0xfff8_dead_beef_0001,
        0x7ff4_0000_0000_0000,
    ];
    same_in_every_tier("NaN payloads", |tier| {
        let engine = engine(tier);
        let module = module(tier, &engine, wat);
        let mut linker = Linker::new(&engine);
        linker.func_wrap("host", "echo32", |x: f32| x).unwrap();
        linker.func_wrap("host", "echo64", |x: f64| x).unwrap();
        let mut store = Store::new(&engine, ());
        let inst = linker.instantiate(&mut store, &module).unwrap();
        let mut seen = Vec::new();
        for bits in nans32 {
            for (name, arg, want) in [
                ("round32", Val::F32(bits), Bits::F32(bits)),
                ("bits32", Val::I32(bits as i32), Bits::I32(bits as i32)),
                ("neg32", Val::F32(bits), Bits::F32(bits ^ 0x8000_0000)),
            ] {
                let out = call(&mut store, inst, name, &[arg]);
                assert_eq!(out, Ok(vec![want]), "{name}({bits:#x})");
                seen.push(out);
            }
            let out = call(
                &mut store,
                inst,
                "copysign32",
                &[Val::F32(bits), Val::F32((-1.0f32).to_bits())],
            );
            assert_eq!(out, Ok(vec![Bits::F32(bits | 0x8000_0000)]));
            // Typed calls carry Rust floats.
            let typed = inst
                .get_typed_func::<f32, f32>(&mut store, "round32")
                .unwrap();
            let back = typed.call(&mut store, f32::from_bits(bits)).unwrap();
            assert_eq!(back.to_bits(), bits);
        }
        for bits in nans64 {
            for (name, arg, want) in [
                ("round64", Val::F64(bits), Bits::F64(bits)),
                ("bits64", Val::I64(bits as i64), Bits::I64(bits as i64)),
                ("abs64", Val::F64(bits), Bits::F64(bits & !(1 << 63))),
            ] {
                let out = call(&mut store, inst, name, &[arg]);
                assert_eq!(out, Ok(vec![want]), "{name}({bits:#x})");
                seen.push(out);
            }
            let typed = inst
                .get_typed_func::<f64, f64>(&mut store, "round64")
                .unwrap();
            let back = typed.call(&mut store, f64::from_bits(bits)).unwrap();
            assert_eq!(back.to_bits(), bits);
        }
        seen
    });
}

#[test]
fn references_through_native_code() {
    let wat = r#"(module
      (type $i2i (func (param i32) (result i32)))
      (table $ext (export "ext") 4 externref)
      (table $funcs (export "funcs") 4 funcref)
      (global $last (export "last") (mut externref) (ref.null extern))
      (func $keep (export "keep") (param externref) (param i32) (result externref)
        (table.set $ext (local.get 1) (local.get 0))
        (global.set $last (local.get 0))
        (table.get $ext (i32.sub (i32.const 3) (local.get 1))))
      (func (export "is_null") (param externref) (result i32) (ref.is_null (local.get 0)))
      ;; Stores a host-provided function and calls it through the table.
      (func (export "install_and_call") (param funcref) (param i32) (result i32)
        (table.set $funcs (i32.const 2) (local.get 0))
        (call_indirect $funcs (type $i2i) (local.get 1) (i32.const 2)))
      (func $triple (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
      (elem declare func $triple)
      (func (export "get_triple") (result funcref) (ref.func $triple))
      (func (export "pass") (param funcref) (result funcref) (local.get 0)))"#;
    same_in_every_tier("references", |tier| {
        let (mut store, inst) = instance(tier, wat);
        let one = ExternRef::new(&mut store, "one".to_owned()).unwrap();
        let two = ExternRef::new(&mut store, 2u64).unwrap();
        let keep = inst
            .get_typed_func::<(Option<ExternRef>, i32), Option<ExternRef>>(&mut store, "keep")
            .unwrap();
        assert!(keep.call(&mut store, (Some(one), 0)).unwrap().is_none());
        let back = keep.call(&mut store, (Some(two), 3)).unwrap().unwrap();
        assert_eq!(
            back.data(&store)
                .unwrap()
                .unwrap()
                .downcast_ref::<String>()
                .unwrap(),
            "one"
        );
        let last = inst.get_global(&mut store, "last").unwrap();
        let last = last.get(&mut store);
        let last = last.unwrap_externref().unwrap();
        assert_eq!(
            *last
                .data(&store)
                .unwrap()
                .unwrap()
                .downcast_ref::<u64>()
                .unwrap(),
            2
        );
        let is_null = inst
            .get_typed_func::<Option<ExternRef>, i32>(&mut store, "is_null")
            .unwrap();
        assert_eq!(is_null.call(&mut store, None).unwrap(), 1);
        assert_eq!(is_null.call(&mut store, Some(one)).unwrap(), 0);

        let host_add = Func::wrap(&mut store, |x: i32| x + 100);
        let install = inst
            .get_typed_func::<(Option<Func>, i32), i32>(&mut store, "install_and_call")
            .unwrap();
        assert_eq!(install.call(&mut store, (Some(host_add), 5)).unwrap(), 105);
        let get_triple = inst
            .get_typed_func::<(), Option<Func>>(&mut store, "get_triple")
            .unwrap();
        let triple = get_triple.call(&mut store, ()).unwrap().unwrap();
        assert_eq!(
            triple
                .typed::<i32, i32>(&store)
                .unwrap()
                .call(&mut store, 7)
                .unwrap(),
            21
        );
        // A wasm function installed through the host and called indirectly.
        let r1 = install.call(&mut store, (Some(triple), 5)).unwrap();
        let null = install.call(&mut store, (None, 5)).unwrap_err();
        let pass = inst
            .get_typed_func::<Option<Func>, Option<Func>>(&mut store, "pass")
            .unwrap();
        let passed = pass.call(&mut store, Some(host_add)).unwrap().unwrap();
        let r2 = passed
            .typed::<i32, i32>(&store)
            .unwrap()
            .call(&mut store, 1)
            .unwrap();
        assert_eq!((r1, r2), (15, 101));
        assert_eq!(null.downcast_ref::<Trap>(), Some(&Trap::IndirectCallToNull));
        (r1, r2, tiers::failure(&null))
    });
}

#[test]
fn a_host_panic_unwinds_native_frames_and_the_store_recovers() {
    let wat = r#"(module
      (import "host" "maybe_panic" (func $maybe (param i32) (result i32)))
      (func $deep (export "deep") (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0))
          (then (call $maybe (i32.const 1)))
          (else (i32.add (call $deep (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))))
      (func $down (export "down") (param i64) (result i64)
        (if (result i64) (i64.eqz (local.get 0))
          (then (i64.const 0))
          (else (i64.add (call $down (i64.sub (local.get 0) (i64.const 1))) (i64.const 1))))))"#;
    same_in_every_tier("host panics", |tier| {
        let engine = engine(tier);
        let module = module(tier, &engine, wat);
        let mut linker = Linker::new(&engine);
        linker
            .func_wrap("host", "maybe_panic", |caller: Caller<'_, bool>, x: i32| {
                if *caller.data() {
                    panic!("host panic {x}");
                }
                x
            })
            .unwrap();
        let mut store = Store::new(&engine, true);
        let inst = linker.instantiate(&mut store, &module).unwrap();
        let deep = inst.get_typed_func::<i32, i32>(&mut store, "deep").unwrap();
        let panic =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| deep.call(&mut store, 100)))
                .expect_err("the host's panic reaches the embedder");
        assert_eq!(
            panic.downcast_ref::<String>().map(String::as_str),
            Some("host panic 1")
        );
        // The store works normally afterwards, stack limit included.
        *store.data_mut() = false;
        assert_eq!(deep.call(&mut store, 100).unwrap(), 101);
        let down = inst.get_typed_func::<i64, i64>(&mut store, "down").unwrap();
        assert_eq!(down.call(&mut store, 1000).unwrap(), 1000);
        let err = down.call(&mut store, 10_000_000).unwrap_err();
        assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::StackOverflow));
        assert_eq!(down.call(&mut store, 1000).unwrap(), 1000);
        "recovered"
    });
}

#[test]
fn a_store_moves_between_threads_between_native_calls() {
    // The native stack limit belongs to the thread that entered wasm; a
    // store used on one thread (including a stack overflow there) and then
    // moved to another must get a fresh limit there.
    let wat = r#"(module
      (func $down (export "down") (param i64) (result i64)
        (if (result i64) (i64.eqz (local.get 0))
          (then (i64.const 0))
          (else (i64.add (call $down (i64.sub (local.get 0) (i64.const 1))) (i64.const 1))))))"#;
    for tier in TIERS {
        let engine = engine(tier);
        let module = module(tier, &engine, wat);
        let mut store = Store::new(&engine, ());
        let inst = Instance::new(&mut store, &module, &[]).unwrap();
        let down = inst.get_typed_func::<i64, i64>(&mut store, "down").unwrap();
        // Threads with very different stacks (and so stack addresses).
        for stack in [4 << 20, 1 << 20, 16 << 20, 2 << 20] {
            store = tiers::on_stack(stack, move || {
                assert_eq!(down.call(&mut store, 500).unwrap(), 500);
                let err = down.call(&mut store, 100_000_000).unwrap_err();
                assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::StackOverflow));
                assert_eq!(down.call(&mut store, 500).unwrap(), 500);
                store
            });
        }
    }
}

#[test]
fn one_native_module_in_many_stores_on_many_threads() {
    let wat = r#"(module
      (memory (export "memory") 1)
      (global $calls (export "calls") (mut i32) (i32.const 0))
      (func (export "work") (param $seed i32) (param $n i32) (result i32) (local $x i32) (local $i i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (local.set $x (local.get $seed))
        (loop $l
          (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 1103515245)) (i32.const 12345)))
          (i32.store (i32.and (i32.shl (local.get $i) (i32.const 2)) (i32.const 0xfffc)) (local.get $x))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
        (if (i32.eq (local.get $seed) (i32.const 13)) (then unreachable))
        (local.get $x)))"#;
    let reference = |seed: i32, n: i32| {
        let mut x = seed;
        for _ in 0..n {
            x = x.wrapping_mul(1103515245).wrapping_add(12345);
        }
        x
    };
    let engine = engine(Tier::Cranelift);
    let module = module(Tier::Cranelift, &engine, wat);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let engine = engine.clone();
            let module = module.clone();
            std::thread::spawn(move || {
                let mut store = Store::new(&engine, ());
                let inst = Instance::new(&mut store, &module, &[]).unwrap();
                let work = inst
                    .get_typed_func::<(i32, i32), i32>(&mut store, "work")
                    .unwrap();
                for round in 0..50 {
                    let seed = t * 1000 + round + 100;
                    assert_eq!(
                        work.call(&mut store, (seed, 5000)).unwrap(),
                        reference(seed, 5000)
                    );
                }
                let err = work.call(&mut store, (13, 10)).unwrap_err();
                assert_eq!(
                    err.downcast_ref::<Trap>(),
                    Some(&Trap::UnreachableCodeReached)
                );
                let calls = inst.get_global(&mut store, "calls").unwrap();
                assert_eq!(calls.get(&mut store).unwrap_i32(), 51);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn a_trapping_native_start_function_fails_instantiation() {
    let wat = r#"(module $starter
      (memory (export "memory") 1)
      (global $g (export "g") (mut i32) (i32.const 0))
      (func $helper (global.set $g (i32.const 1)) (i32.store (i32.const 70000) (i32.const 1)))
      (func $start (call $helper))
      (start $start))"#;
    same_in_every_tier("start function trap", |tier| {
        let engine = engine(tier);
        let module = module(tier, &engine, wat);
        let mut store = Store::new(&engine, ());
        let err = Instance::new(&mut store, &module, &[]).unwrap_err();
        let f = tiers::failure(&err);
        assert_eq!(
            (f.trap, f.names()),
            (
                Some(Trap::MemoryOutOfBounds),
                vec!["helper".to_owned(), "start".to_owned()]
            )
        );
        f
    });
}

#[test]
fn a_host_defined_table_and_memory_used_by_native_code() {
    let wat = r#"(module
      (import "host" "table" (table $t 2 funcref))
      (import "host" "memory" (memory 1))
      (type $i2i (func (param i32) (result i32)))
      (func (export "run") (param i32) (result i32)
        (i32.store (i32.const 4) (local.get 0))
        (call_indirect $t (type $i2i) (i32.load (i32.const 4)) (i32.const 1))))"#;
    let _ = same_in_every_tier("host-defined table and memory", |tier| {
        let engine = engine(tier);
        let module = module(tier, &engine, wat);
        let mut store = Store::new(&engine, ());
        let table = Table::new(
            &mut store,
            TableType::new(RefType::FUNCREF, 2, None),
            Ref::Func(None),
        )
        .unwrap();
        let memory = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
        let neg = Func::wrap(&mut store, move |mut caller: Caller<'_, ()>, x: i32| {
            // The calling instance has no exports; the memory is reached
            // through the handle, and holds what native code just stored.
            assert!(caller.get_export("memory").is_none());
            let word = memory.data(caller.as_context_mut())[4..8]
                .try_into()
                .unwrap();
            x - 2 * i32::from_le_bytes(word)
        });
        table.set(&mut store, 1, Ref::Func(Some(neg))).unwrap();
        let inst = Instance::new(&mut store, &module, &[table.into(), memory.into()]).unwrap();
        let out = call(&mut store, inst, "run", &i32s(&[42]));
        assert_eq!(out, Ok(vec![Bits::I32(-42)]));
        assert_eq!(&memory.data(&store)[4..8], &42i32.to_le_bytes());
        out
    });
}

#[test]
fn unknown_imports_and_host_traps_reach_native_callers() {
    // A trap value returned by the host, and an import the linker defined
    // as a trap, called from native code directly and through a table.
    let wat = r#"(module $u
      (import "host" "missing" (func $missing (param i32) (result i32)))
      (import "host" "overflow" (func $overflow (param i32) (result i32)))
      (type $i2i (func (param i32) (result i32)))
      (table 2 funcref)
      (elem (i32.const 0) $missing $overflow)
      (func $direct (export "direct") (param i32) (result i32)
        (if (result i32) (local.get 0)
          (then (call $overflow (local.get 0)))
          (else (call $missing (local.get 0)))))
      (func $via_table (export "via_table") (param i32) (result i32)
        (call_indirect (type $i2i) (local.get 0) (local.get 0))))"#;
    let observed = same_in_every_tier("unknown imports", |tier| {
        let engine = engine(tier);
        let module = module(tier, &engine, wat);
        let mut linker = Linker::new(&engine);
        linker
            .func_wrap("host", "overflow", |x: i32| -> kiln::Result<i32> {
                if x != 0 {
                    return Err(Trap::IntegerOverflow.into());
                }
                Ok(x)
            })
            .unwrap();
        linker.define_unknown_imports_as_traps(&module).unwrap();
        let mut store = Store::new(&engine, ());
        let inst = linker.instantiate(&mut store, &module).unwrap();
        [
            call(&mut store, inst, "direct", &i32s(&[0])),
            call(&mut store, inst, "direct", &i32s(&[1])),
            call(&mut store, inst, "via_table", &i32s(&[0])),
            call(&mut store, inst, "via_table", &i32s(&[1])),
        ]
    });
    let traps: Vec<_> = observed
        .iter()
        .map(|o| o.as_ref().unwrap_err().trap)
        .collect();
    assert_eq!(
        traps,
        [
            Some(Trap::UnknownImport),
            Some(Trap::IntegerOverflow),
            Some(Trap::UnknownImport),
            Some(Trap::IntegerOverflow)
        ]
    );
}

#[test]
fn native_code_in_pooled_instances() {
    // Pooled memory slots are reused by the next instance: native code
    // must see its own, freshly initialised memory each time.
    let wat = r#"(module
      (memory (export "memory") 1 4)
      (data (i32.const 16) "\2a")
      (func (export "bump") (result i32)
        (i32.store8 (i32.const 16) (i32.add (i32.load8_u (i32.const 16)) (i32.const 1)))
        (drop (memory.grow (i32.const 1)))
        (i32.store (i32.const 65536) (i32.const 7))
        (i32.add (i32.load8_u (i32.const 16)) (i32.mul (memory.size) (i32.const 1000)))))"#;
    let observed = same_in_every_tier("pooling", |tier| {
        let engine = tiers::engine_with(tier, |c| {
            let mut pool = kiln::PoolingAllocationConfig::new();
            pool.total_core_instances(2)
                .total_memories(2)
                .max_memory_size(4 << 16);
            c.allocation_strategy(pool);
        });
        let module = module(tier, &engine, wat);
        let pre = Linker::new(&engine).instantiate_pre(&module).unwrap();
        let mut seen = Vec::new();
        for _ in 0..5 {
            let mut store = Store::new(&engine, ());
            let inst = pre.instantiate(&mut store).unwrap();
            seen.push(call(&mut store, inst, "bump", &[]));
            seen.push(call(&mut store, inst, "bump", &[]));
        }
        seen
    });
    let expected: Vec<Outcome> = (0..5)
        .flat_map(|_| [Ok(vec![Bits::I32(2043)]), Ok(vec![Bits::I32(3044)])])
        .collect();
    assert_eq!(observed, expected);
}

#[test]
fn a_host_panic_through_nested_reentries_reaches_the_embedder() {
    // wasm -> host -> wasm -> host -> ... -> host panics: the panic passes
    // every level (each host function's own `Func::call` resumes it, the
    // next trampoline catches it again) and the store works afterwards.
    let wat = r#"(module
      (import "host" "h" (func $h (param i32) (result i32)))
      (func (export "f") (param i32) (result i32) (i32.add (call $h (local.get 0)) (i32.const 1)))
      (func $down (export "down") (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0))
          (then (i32.const 0))
          (else (i32.add (call $down (i32.sub (local.get 0) (i32.const 1))) (i32.const 1))))))"#;
    same_in_every_tier("nested host panic", |tier| {
        let engine = engine(tier);
        let module = module(tier, &engine, wat);
        let mut linker = Linker::new(&engine);
        linker
            .func_wrap(
                "host",
                "h",
                |mut caller: Caller<'_, ()>, x: i32| -> kiln::Result<i32> {
                    if x == 0 {
                        panic!("deep panic");
                    }
                    if x < 0 {
                        return Ok(-x);
                    }
                    let f = caller.get_export("f").and_then(Extern::into_func).unwrap();
                    f.typed::<i32, i32>(&caller)?.call(&mut caller, x - 1)
                },
            )
            .unwrap();
        let mut store = Store::new(&engine, ());
        let inst = linker.instantiate(&mut store, &module).unwrap();
        let f = inst.get_typed_func::<i32, i32>(&mut store, "f").unwrap();
        let panic =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f.call(&mut store, 3)))
                .expect_err("the panic reaches the embedder");
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"deep panic"));
        assert_eq!(f.call(&mut store, -5).unwrap(), 6);
        let down = inst.get_typed_func::<i32, i32>(&mut store, "down").unwrap();
        assert_eq!(down.call(&mut store, 1000).unwrap(), 1000);
        let err = down.call(&mut store, 100_000_000).unwrap_err();
        assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::StackOverflow));
        "recovered"
    });
}
