//! Bounding native code: epoch interruption from another thread, and stack
//! overflow, which must trap (`Trap::Interrupt`, `Trap::StackOverflow`)
//! exactly as in the interpreter, never hang and never crash; the store
//! must work normally afterwards. (`tests/interrupts.rs` and
//! `tests/fuel.rs` run their checks in both tiers too; fuel is compared
//! point by point in `tests/native_fuel.rs`.)
//!
//! Everything that would run forever if interruption broke runs under the
//! watchdog.

// The native tier is the `jit` feature: without it there is nothing here
// to test (the interpreter is tested by every other file).
#![cfg(feature = "jit")]

#[path = "common/tiers.rs"]
mod tiers;
#[path = "common/watchdog.rs"]
#[allow(dead_code)]
mod watchdog;

use kiln::{Caller, Config, Extern, Instance, Linker, OptLevel, Store, Trap};
use std::time::Duration;
use tiers::{TIERS, Tier, tier_name};

/// Far longer than any of these tests takes, far shorter than a hang.
const LIMIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------
// Epochs
// ---------------------------------------------------------------------------

/// Infinite loops of several shapes. The helper `$f` has no loop: only its
/// entry checks the epoch.
const LOOPS: &str = r#"(module
  (import "host" "enter" (func $enter (param i32)))
  (memory 1)
  (global $g (mut i32) (i32.const 0))
  (func $f (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func $nothing)
  ;; Nothing but the back edge.
  (func (export "empty_loop") (loop $l (br $l)))
  ;; Arithmetic on locals only: no store, no call.
  (func (export "arith_loop") (local $x i32)
    (loop $l
      (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 3)) (i32.const 1)))
      (br $l)))
  ;; A loop that only reads memory.
  (func (export "load_loop") (local $x i32)
    (loop $l
      (local.set $x (i32.add (local.get $x) (i32.load (i32.const 0))))
      (br $l)))
  ;; A loop writing a global.
  (func (export "global_loop")
    (loop $l
      (global.set $g (i32.add (global.get $g) (i32.const 1)))
      (br $l)))
  ;; A loop writing memory.
  (func (export "store_loop") (local $i i32)
    (loop $l
      (i32.store (i32.and (local.get $i) (i32.const 0xfffc)) (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l)))
  ;; A loop whose exit condition never holds (br_if back edge).
  (func (export "br_if_loop") (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.ne (local.get $i) (i32.const 0)))
      (br_if $l (i32.const 1))))
  ;; Calling a loop-free function from a loop (no recursion).
  (func (export "calling_loop") (local $x i32)
    (loop $l
      (local.set $x (call $f (local.get $x)))
      (br $l)))
  (func (export "calling_nothing_loop")
    (loop $l (call $nothing) (br $l)))
  ;; Native -> host -> native: the host function calls "inner_spin" of
  ;; this instance, which loops forever.
  (func (export "outer") (call $enter (i32.const 0)))
  (func (export "inner_spin") (loop $l (br $l)))
)"#;

/// The exports of `LOOPS` that loop forever.
const SPINNERS: [&str; 10] = [
    "empty_loop",
    "arith_loop",
    "load_loop",
    "global_loop",
    "store_loop",
    "br_if_loop",
    "calling_loop",
    "calling_nothing_loop",
    "outer",
    "inner_spin",
];

/// Runs export `name` of `LOOPS` in a store of `tier` with epoch
/// interruption (and fuel too, if `fuel`), incrementing the epoch from
/// another thread after a while; returns the error and the host's `enter`
/// count.
fn interrupt(tier: Tier, name: &'static str, fuel: bool) -> (kiln::Error, u32) {
    interrupt_at(tier, OptLevel::Speed, name, fuel)
}

/// [`interrupt`], with Cranelift optimising at `level`.
fn interrupt_at(tier: Tier, level: OptLevel, name: &'static str, fuel: bool) -> (kiln::Error, u32) {
    let engine = tiers::engine_with(tier, |c| {
        c.epoch_interruption(true)
            .consume_fuel(fuel)
            .cranelift_opt_level(level);
    });
    let module = tiers::module(tier, &engine, LOOPS);
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap(
            "host",
            "enter",
            |mut caller: Caller<'_, u32>, _: i32| -> kiln::Result<()> {
                *caller.data_mut() += 1;
                let inner = caller
                    .get_export("inner_spin")
                    .and_then(Extern::into_func)
                    .unwrap();
                inner.typed::<(), ()>(&caller)?.call(&mut caller, ())
            },
        )
        .unwrap();
    let mut store = Store::new(&engine, 0u32);
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let func = instance.get_typed_func::<(), ()>(&mut store, name).unwrap();
    if fuel {
        store.set_fuel(u64::MAX).unwrap();
    }
    store.set_epoch_deadline(1);
    let timer = {
        let engine = engine.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            engine.increment_epoch();
        })
    };
    let rescuer = engine.clone();
    let what = format!(
        "{} ({level:?}): {name} interrupted by another thread",
        tier_name(tier)
    );
    let (err, entered) = watchdog::within_or_rescue(
        &what,
        LIMIT,
        move || {
            let err = func.call(&mut store, ()).unwrap_err();
            (err, *store.data())
        },
        || {
            for _ in 0..1000 {
                rescuer.increment_epoch();
            }
        },
    );
    timer.join().unwrap();
    (err, entered)
}

#[test]
fn another_thread_interrupts_every_kind_of_native_loop() {
    // One loop per test thread would be simpler to read, but each runaway
    // loop would keep a core busy; so the loops are tried in turn and the
    // first that does not stop fails the test.
    for name in SPINNERS {
        let observed = tiers::same_in_every_tier(name, |tier| {
            let (err, entered) = interrupt(tier, name, false);
            let mut f = tiers::failure(&err);
            assert_eq!(f.trap, Some(Trap::Interrupt), "{name}: {err:?}");
            // Which check sees the new epoch first depends on timing: a
            // loop calling `$f` may stop at its own header or at `$f`'s
            // entry (both tiers check both). Only the loop's own frame is
            // certain, so only it is compared.
            if name.starts_with("calling") {
                assert!(
                    f.names().len() <= 2,
                    "{name}: at most the callee and the loop: {f:?}"
                );
                f.frames.drain(..f.frames.len() - 1);
            }
            (f, entered)
        });
        let expected_frames: &[&str] = match name {
            // The host returned the inner call's error unchanged; as in
            // wasmtime, its backtrace goes on with the frames of the
            // outer call (`outer`, #11) that the host function was
            // called from.
            "outer" => &["#12", "#11"],
            _ => &[],
        };
        if !expected_frames.is_empty() {
            assert_eq!(observed.0.names(), expected_frames, "{name}");
            assert_eq!(observed.1, 1);
        }
    }
}

#[test]
fn an_empty_native_loop_is_interrupted_from_another_thread() {
    // The smallest case of the test above, on its own: `(loop br 0)`, at
    // every optimisation level.
    for level in [OptLevel::None, OptLevel::Speed, OptLevel::SpeedAndSize] {
        let (err, _) = interrupt_at(Tier::Cranelift, level, "empty_loop", false);
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::Interrupt),
            "{level:?}"
        );
    }
}

#[test]
fn native_loops_are_interrupted_with_fuel_enabled_too() {
    for name in ["empty_loop", "calling_loop", "outer"] {
        for tier in TIERS {
            let (err, _) = interrupt(tier, name, true);
            assert_eq!(
                err.downcast_ref::<Trap>(),
                Some(&Trap::Interrupt),
                "{}: {name}",
                tier_name(tier)
            );
        }
    }
}

#[test]
fn a_deadline_already_reached_stops_native_code_at_entry_and_can_be_moved() {
    let wat = r#"(module
      (global $calls (export "calls") (mut i32) (i32.const 0))
      (func (export "count") (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (global.get $calls)))"#;
    tiers::same_in_every_tier("deadline at entry", |tier| {
        let engine = tiers::engine_with(tier, |c| {
            c.epoch_interruption(true);
        });
        let module = tiers::module(tier, &engine, wat);
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let count = instance
            .get_typed_func::<(), i32>(&mut store, "count")
            .unwrap();
        let mut seen = Vec::new();
        // The deadline starts reached: nothing of the function runs.
        seen.push(count.call(&mut store, ()).map_err(|e| tiers::failure(&e)));
        store.set_epoch_deadline(2);
        seen.push(count.call(&mut store, ()).map_err(|e| tiers::failure(&e)));
        engine.increment_epoch();
        seen.push(count.call(&mut store, ()).map_err(|e| tiers::failure(&e)));
        engine.increment_epoch();
        seen.push(count.call(&mut store, ()).map_err(|e| tiers::failure(&e)));
        store.set_epoch_deadline(1);
        seen.push(count.call(&mut store, ()).map_err(|e| tiers::failure(&e)));
        let traps: Vec<_> = seen
            .iter()
            .map(|r| r.as_ref().map_err(|f| f.trap))
            .collect();
        assert_eq!(
            traps,
            [
                Err(Some(Trap::Interrupt)),
                Ok(&1),
                Ok(&2),
                Err(Some(Trap::Interrupt)),
                Ok(&3)
            ]
        );
        seen
    });
}

// ---------------------------------------------------------------------------
// Stack overflow
// ---------------------------------------------------------------------------

const RECURSION: &str = r#"(module $rec
  (import "host" "bounce" (func $bounce (param i32) (result i32)))
  (type $i2i (func (param i32) (result i32)))
  (table 2 funcref)
  (elem (i32.const 0) $ping $pong)
  (global $depth (export "depth") (mut i32) (i32.const 0))
  ;; Counts its depth, never returns.
  (func $forever (export "forever")
    (global.set $depth (i32.add (global.get $depth) (i32.const 1)))
    (call $forever))
  ;; Bigger frames: many locals live across the call.
  (func $fat (export "fat") (param $x i64) (result i64)
    (local $a i64) (local $b i64) (local $c f64) (local $d f64)
    (global.set $depth (i32.add (global.get $depth) (i32.const 1)))
    (local.set $a (i64.mul (local.get $x) (i64.const 3)))
    (local.set $b (i64.add (local.get $x) (i64.const 7)))
    (local.set $c (f64.convert_i64_s (local.get $a)))
    (local.set $d (f64.sqrt (local.get $c)))
    (i64.add
      (i64.add (call $fat (i64.add (local.get $x) (i64.const 1))) (local.get $a))
      (i64.add (local.get $b) (i64.trunc_f64_s (f64.add (local.get $c) (local.get $d))))))
  ;; Mutual recursion through the table.
  (func $ping (type $i2i)
    (global.set $depth (i32.add (global.get $depth) (i32.const 1)))
    (i32.add (call_indirect (type $i2i) (local.get 0) (i32.const 1)) (i32.const 1)))
  (func $pong (type $i2i)
    (i32.add (call_indirect (type $i2i) (local.get 0) (i32.const 0)) (i32.const 2)))
  (func (export "ping") (param i32) (result i32) (call $ping (local.get 0)))
  ;; wasm -> host -> wasm -> ...: the host calls "through_host" again.
  (func $through_host (export "through_host") (param i32) (result i32)
    (global.set $depth (i32.add (global.get $depth) (i32.const 1)))
    (i32.add (call $bounce (local.get 0)) (i32.const 1)))
  ;; Bounded recursion, to check the store afterwards.
  (func $down (export "down") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (i32.add (call $down (i32.sub (local.get 0) (i32.const 1))) (i32.const 1))))))"#;

/// A store of `tier` (with `max_wasm_stack` if given) running
/// `RECURSION`.
fn recursion(tier: Tier, max_wasm_stack: Option<usize>) -> (Store<()>, Instance) {
    let engine = tiers::engine_with(tier, |c: &mut Config| {
        if let Some(size) = max_wasm_stack {
            c.max_wasm_stack(size);
        }
    });
    let module = tiers::module(tier, &engine, RECURSION);
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap(
            "host",
            "bounce",
            |mut caller: Caller<'_, ()>, x: i32| -> kiln::Result<i32> {
                let f = caller
                    .get_export("through_host")
                    .and_then(Extern::into_func)
                    .unwrap();
                f.typed::<i32, i32>(&caller)?.call(&mut caller, x)
            },
        )
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    (store, instance)
}

/// Calls the infinitely recursive export `name`; returns the failure and
/// the depth reached. Then checks the store still works.
fn overflow(store: &mut Store<()>, instance: Instance, name: &str) -> (tiers::Failure, i32) {
    let depth = instance.get_global(&mut *store, "depth").unwrap();
    depth.set(&mut *store, kiln::Val::I32(0)).unwrap();
    let func = instance.get_func(&mut *store, name).unwrap();
    let ty = func.ty(&*store);
    let args: Vec<_> = ty
        .params()
        .map(|t| kiln::Val::default_for_ty(&t).unwrap())
        .collect();
    let mut results: Vec<_> = ty
        .results()
        .map(|t| kiln::Val::default_for_ty(&t).unwrap())
        .collect();
    let err = func.call(&mut *store, &args, &mut results).unwrap_err();
    let reached = depth.get(&mut *store).unwrap_i32();
    // Normal calls work afterwards, recursion included.
    let down = instance
        .get_typed_func::<i32, i32>(&mut *store, "down")
        .unwrap();
    assert_eq!(down.call(&mut *store, 100).unwrap(), 100);
    (tiers::failure(&err), reached)
}

#[test]
fn infinite_recursion_traps_with_stack_overflow() {
    for name in ["forever", "fat", "ping", "through_host"] {
        for tier in TIERS {
            // A generous native stack, so the interpreter's host re-entries
            // (native frames of their own) fit too.
            let (failure, reached) = tiers::on_stack(64 << 20, move || {
                let (mut store, instance) = recursion(tier, None);
                let first = overflow(&mut store, instance, name);
                // And again: the limit is set up afresh for every entry.
                let second = overflow(&mut store, instance, name);
                assert_eq!(first.0.trap, second.0.trap);
                first
            });
            assert_eq!(
                failure.trap,
                Some(Trap::StackOverflow),
                "{}: {name}: {failure:?}",
                tier_name(tier)
            );
            assert!(
                reached > 10,
                "{}: {name} reached {reached}",
                tier_name(tier)
            );
            // The innermost frame is the recursing function. (Through the
            // host, the host returns the innermost activation's error;
            // the interpreter refuses the 1000th nested entry before it
            // has a frame, so its error has none.)
            let innermost = failure.names().first().cloned();
            let expected = match name {
                "ping" => ["ping", "pong"].map(String::from).to_vec(),
                other => vec![other.to_owned()],
            };
            assert!(
                innermost.as_ref().is_none_or(|n| expected.contains(n))
                    && (innermost.is_some() || name == "through_host"),
                "{}: {name}: innermost frame {innermost:?}",
                tier_name(tier)
            );
        }
    }
}

#[test]
fn max_wasm_stack_bounds_native_recursion() {
    // The depth reached grows with max_wasm_stack, and 20,000 frames fit in
    // 8 MiB but not in 64 KiB, in both tiers.
    for tier in TIERS {
        let depths = tiers::on_stack(64 << 20, move || {
            [64 << 10, 512 << 10, 8 << 20].map(|size| {
                let (mut store, instance) = recursion(tier, Some(size));
                let (failure, reached) = overflow(&mut store, instance, "forever");
                assert_eq!(failure.trap, Some(Trap::StackOverflow));
                let down = instance
                    .get_typed_func::<i32, i32>(&mut store, "down")
                    .unwrap();
                let deep = down.call(&mut store, 20_000);
                (reached, deep.ok())
            })
        });
        let [(small, small_deep), (default, _), (large, large_deep)] = depths;
        assert!(
            small < default && default < large,
            "{}: depths {small} < {default} < {large}",
            tier_name(tier)
        );
        assert_eq!(
            (small_deep, large_deep),
            (None, Some(20_000)),
            "{}",
            tier_name(tier)
        );
    }
}

#[test]
fn native_recursion_on_the_default_test_thread_traps() {
    // No extra stack: the default max_wasm_stack (512 KiB) on the test
    // harness's thread (2 MiB unless RUST_MIN_STACK says otherwise).
    let (mut store, instance) = recursion(Tier::Cranelift, None);
    for name in ["forever", "fat", "ping", "through_host"] {
        let (failure, _) = overflow(&mut store, instance, name);
        assert_eq!(failure.trap, Some(Trap::StackOverflow), "{name}");
    }
}

/// Set in the environment of the child process the test below starts: the
/// test then does the dangerous part itself instead of starting a child.
const CHILD: &str = "KILN_TEST_SMALL_THREAD_CHILD";

#[test]
fn native_recursion_on_a_thread_smaller_than_max_wasm_stack_traps() {
    // A thread whose whole stack is smaller than max_wasm_stack (here 256
    // KiB against the default 512 KiB): the interpreter does not recurse on
    // the native stack, so it traps; native code must trap too rather than
    // run off the end of the thread's stack, which would kill the process —
    // so the recursion runs in a child process: this same test, with `CHILD`
    // set.
    if std::env::var_os(CHILD).is_some() {
        recurse_on_a_small_thread();
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "native_recursion_on_a_thread_smaller_than_max_wasm_stack_traps",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("child: both tiers trapped"),
        "the child process failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
}

/// The child's part of the test above: unbounded recursion on a 256 KiB
/// thread in each tier must trap with `StackOverflow`.
fn recurse_on_a_small_thread() {
    for tier in TIERS {
        let trap = tiers::on_stack(256 << 10, move || {
            let (mut store, instance) = recursion(tier, None);
            let forever = instance
                .get_typed_func::<(), ()>(&mut store, "forever")
                .unwrap();
            let err = forever.call(&mut store, ()).unwrap_err();
            err.downcast_ref::<Trap>().copied()
        });
        assert_eq!(trap, Some(Trap::StackOverflow), "{}", tier_name(tier));
        println!("child: {} trapped", tier_name(tier));
    }
    println!("child: both tiers trapped");
}

#[test]
fn deep_but_bounded_native_recursion_succeeds() {
    // Recursion well within the limit must not be mistaken for overflow,
    // including right after an overflow and through the host.
    for tier in TIERS {
        let (mut store, instance) = recursion(tier, None);
        let down = instance
            .get_typed_func::<i32, i32>(&mut store, "down")
            .unwrap();
        assert_eq!(down.call(&mut store, 5_000).unwrap(), 5_000);
        let _ = overflow(&mut store, instance, "forever");
        assert_eq!(down.call(&mut store, 5_000).unwrap(), 5_000);
    }
}
