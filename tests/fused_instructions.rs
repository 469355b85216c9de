//! End to end through the public API: wasm patterns the interpreter fuses
//! into one instruction (compare-and-branch immediates, folded `i64.eqz`,
//! loop latches, scaled adds, copies before a branch, adds that write a
//! second slot or come in pairs, multiply-adds, xorshift steps, loads
//! that step their address, bit tests folded into branches), run in both
//! compilation modes and checked against the same computation in Rust.

mod common;

use common::call_in_every_tier as call;
use kiln::{Engine, Instance, Module, Store, Trap};

#[test]
fn i64_eqz_branches_see_all_64_bits() {
    let wat = r#"(module
      (func (export "br_if") (param i64) (result i32)
        (block (br_if 0 (i64.eqz (local.get 0))) (return (i32.const 1)))
        i32.const 0)
      (func (export "if") (param i64) (result i32)
        (if (result i32) (i64.eqz (local.get 0)) (then i32.const 0) (else i32.const 1)))
      ;; The tested value comes from the accumulator (the `add` before).
      (func (export "sum") (param i64 i64) (result i32)
        (if (result i32) (i64.eqz (i64.add (local.get 0) (local.get 1)))
          (then i32.const 0) (else i32.const 1)))
      ;; `and; eqz` folds into one bit-test branch.
      (func (export "bit") (param i64 i64) (result i32)
        (if (result i32) (i64.eqz (i64.and (local.get 0) (local.get 1)))
          (then i32.const 0) (else i32.const 1))))"#;
    for x in [0i64, 1, 1 << 32, -1, i64::MIN] {
        let nonzero = i32::from(x != 0);
        assert_eq!(call::<i64, i32>(wat, "br_if", x), nonzero, "{x:#x}");
        assert_eq!(call::<i64, i32>(wat, "if", x), nonzero, "{x:#x}");
        assert_eq!(
            call::<(i64, i64), i32>(wat, "sum", (x, 1 << 32)),
            i32::from(x.wrapping_add(1 << 32) != 0)
        );
        assert_eq!(
            call::<(i64, i64), i32>(wat, "bit", (x, 1 << 32)),
            i32::from(x & (1 << 32) != 0)
        );
    }
}

#[test]
fn compare_and_branches_with_constants() {
    // `x + 5 < 100` (the sum from the accumulator), `x > -3` and a 64-bit
    // `y != 2^40`, each deciding one bit of the result.
    let wat = r#"(module
      (func (export "f") (param i32 i64) (result i32) (local i32)
        (block (br_if 0 (i32.ge_s (i32.add (local.get 0) (i32.const 5)) (i32.const 100)))
          (local.set 2 (i32.const 1)))
        (block (br_if 0 (i32.le_s (local.get 0) (i32.const -3)))
          (local.set 2 (i32.or (local.get 2) (i32.const 2))))
        (block (br_if 0 (i64.eq (local.get 1) (i64.const 0x10000000000)))
          (local.set 2 (i32.or (local.get 2) (i32.const 4))))
        local.get 2))"#;
    for (x, y) in [
        (0, 0i64),
        (94, 1 << 40),
        (95, -1),
        (-3, 1 << 40),
        (-4, 5),
        (i32::MAX, 0),
    ] {
        let expected = i32::from(x.wrapping_add(5) < 100)
            | (i32::from(x > -3) << 1)
            | (i32::from(y != 1 << 40) << 2);
        assert_eq!(
            call::<(i32, i64), i32>(wat, "f", (x, y)),
            expected,
            "{x}, {y}"
        );
    }
}

#[test]
fn counted_loops() {
    // Up to `n`, up to a constant, and down to zero: each loop's add and
    // branch are one latch.
    let wat = r#"(module
      (func (export "up") (param i32) (result i32) (local i32 i32)
        (loop
          (local.set 2 (i32.add (local.get 2) (local.get 1)))
          (br_if 0 (i32.ne (local.tee 1 (i32.add (local.get 1) (i32.const 1))) (local.get 0))))
        local.get 2)
      (func (export "to_ten") (param i32) (result i32) (local i32)
        (loop
          (local.set 0 (i32.add (local.get 0) (i32.const 3)))
          (br_if 0 (i32.ne (local.tee 1 (i32.add (local.get 1) (i32.const 1))) (i32.const 10))))
        local.get 0)
      (func (export "down") (param i32) (result i32) (local i32)
        (loop
          (local.set 1 (i32.add (local.get 1) (local.get 0)))
          (br_if 0 (local.tee 0 (i32.add (local.get 0) (i32.const -1)))))
        local.get 1))"#;
    for n in [1, 2, 10, 1000] {
        assert_eq!(
            call::<i32, i32>(wat, "up", n),
            (0..n).sum::<i32>(),
            "up {n}"
        );
        assert_eq!(
            call::<i32, i32>(wat, "down", n),
            (1..=n).sum::<i32>(),
            "down {n}"
        );
    }
    assert_eq!(call::<i32, i32>(wat, "to_ten", 7), 37);
}

#[test]
fn array_indexing_and_copies_before_branches() {
    // `sum a[i]` over an array of i32 at 64 (a constant base) and at a base
    // passed in (a local), then an iterative Fibonacci whose back edge
    // carries two values through copies.
    let wat = r#"(module
      (memory 1)
      (data (i32.const 64) "\01\00\00\00\02\00\00\00\03\00\00\00\04\00\00\00\ff\ff\ff\ff")
      (func (export "sum_const") (param i32) (result i32) (local i32 i32)
        (block (loop
          (br_if 1 (i32.ge_u (local.get 1) (local.get 0)))
          (local.set 2 (i32.add (local.get 2)
            (i32.load (i32.add (i32.shl (local.get 1) (i32.const 2)) (i32.const 64)))))
          (local.set 1 (i32.add (local.get 1) (i32.const 1)))
          (br 0)))
        local.get 2)
      (func (export "sum_at") (param i32 i32) (result i32) (local i32 i32)
        (block (loop
          (br_if 1 (i32.ge_u (local.get 2) (local.get 1)))
          (local.set 3 (i32.add (local.get 3)
            (i32.load (i32.add (i32.shl (local.get 2) (i32.const 2)) (local.get 0)))))
          (local.set 2 (i32.add (local.get 2) (i32.const 1)))
          (br 0)))
        local.get 3)
      (func (export "fib") (param i32) (result i64) (local i64 i64 i64)
        (local.set 2 (i64.const 1))
        (block $done (loop $next
          (br_if $done (i32.eqz (local.get 0)))
          (local.set 3 (i64.add (local.get 1) (local.get 2)))
          (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
          (local.set 1 (local.get 2))
          (local.set 2 (local.get 3))
          (br $next)))
        local.get 1))"#;
    assert_eq!(call::<i32, i32>(wat, "sum_const", 4), 10);
    assert_eq!(call::<i32, i32>(wat, "sum_const", 5), 9);
    assert_eq!(call::<(i32, i32), i32>(wat, "sum_at", (68, 3)), 9);
    assert_eq!(call::<(i32, i32), i32>(wat, "sum_at", (64, 0)), 0);
    let (mut a, mut b) = (0i64, 1i64);
    for n in 0..=90 {
        assert_eq!(call::<i32, i64>(wat, "fib", n), a, "fib {n}");
        (a, b) = (b, a + b);
    }
}

#[test]
fn stepped_pointers_and_values_kept_in_two_locals() {
    // `find`: a linear search stepping an index and a pointer together
    // (two constant adds in a row). `count_down`: `j = i - 1; i = j` (an
    // add whose result is copied), summing the `j`s; `step_by` the same
    // with a step from a parameter, which may wrap.
    let wat = r#"(module
      (memory 1)
      (data (i32.const 64) "\05\00\00\00\07\00\00\00\ff\ff\ff\ff\07\00\00\00")
      (func (export "find") (param i32 i32) (result i32) (local i32 i32)
        (local.set 3 (i32.const 64))
        (block (loop
          (br_if 1 (i32.ge_u (local.get 2) (local.get 0)))
          (br_if 1 (i32.eq (i32.load (local.get 3)) (local.get 1)))
          (local.set 2 (i32.add (local.get 2) (i32.const 1)))
          (local.set 3 (i32.add (local.get 3) (i32.const 4)))
          (br 0)))
        local.get 2)
      (func (export "count_down") (param i32) (result i32) (local i32 i32)
        (block (loop
          (br_if 1 (i32.eqz (local.get 0)))
          (local.set 0 (local.tee 1 (i32.add (local.get 0) (i32.const -1))))
          (local.set 2 (i32.add (local.get 2) (local.get 1)))
          (br 0)))
        local.get 2)
      (func (export "step_by") (param i32 i32) (result i32) (local i32)
        (local.set 0 (local.tee 2 (i32.add (local.get 0) (local.get 1))))
        (i32.add (i32.mul (local.get 2) (i32.const 3)) (local.get 0))))"#;
    assert_eq!(call::<(i32, i32), i32>(wat, "find", (4, 5)), 0);
    assert_eq!(call::<(i32, i32), i32>(wat, "find", (4, 7)), 1);
    assert_eq!(call::<(i32, i32), i32>(wat, "find", (4, -1)), 2);
    assert_eq!(call::<(i32, i32), i32>(wat, "find", (4, 9)), 4);
    assert_eq!(call::<(i32, i32), i32>(wat, "find", (1, 7)), 1);
    for n in [0, 1, 2, 100] {
        assert_eq!(
            call::<i32, i32>(wat, "count_down", n),
            n * (n - 1) / 2,
            "{n}"
        );
    }
    for (x, y) in [(1, 2), (i32::MAX, 1), (-5, i32::MIN), (0, 0)] {
        assert_eq!(
            call::<(i32, i32), i32>(wat, "step_by", (x, y)),
            x.wrapping_add(y).wrapping_mul(4),
            "{x} {y}"
        );
    }
}

#[test]
fn multiply_adds() {
    // A dot product of two i32 arrays (`c += a[i] * b[i]`) and a hash step
    // `h * 5 + 0xe6546b64` whose product comes from the accumulator.
    let wat = r#"(module
      (memory 1)
      (data (i32.const 0) "\02\00\00\00\ff\ff\ff\ff\00\00\01\00")
      (data (i32.const 64) "\03\00\00\00\05\00\00\00\00\00\01\00")
      (func (export "dot") (param i32) (result i32) (local i32 i32)
        (block (loop
          (br_if 1 (i32.ge_u (local.get 1) (local.get 0)))
          (local.set 2 (i32.add
            (i32.mul (i32.load (i32.shl (local.get 1) (i32.const 2)))
                     (i32.load offset=64 (i32.shl (local.get 1) (i32.const 2))))
            (local.get 2)))
          (local.set 1 (i32.add (local.get 1) (i32.const 1)))
          (br 0)))
        local.get 2)
      (func (export "hash") (param i32) (result i32)
        (i32.add (i32.mul (i32.rotl (local.get 0) (i32.const 13)) (i32.const 5))
                 (i32.const 0xe6546b64))))"#;
    let (a, b) = ([2i32, -1, 0x1_0000], [3i32, 5, 0x1_0000]);
    for n in 0..=3 {
        let expect = (0..n).fold(0i32, |c, i| c.wrapping_add(a[i].wrapping_mul(b[i])));
        assert_eq!(call::<i32, i32>(wat, "dot", n as i32), expect, "dot {n}");
    }
    for h in [0u32, 1, 0x9747_b28c, u32::MAX] {
        let expect = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
        assert_eq!(
            call::<i32, i32>(wat, "hash", h as i32),
            expect as i32,
            "{h:#x}"
        );
    }
}

#[test]
fn xorshift_and_hash_mixing() {
    // xorshift32 run `n` times, and murmur3's 32-bit finaliser, whose xors
    // of a value with itself shifted right fuse into one instruction each.
    let wat = r#"(module
      (func (export "xorshift") (param i32 i32) (result i32)
        (block (loop
          (br_if 1 (i32.eqz (local.get 1)))
          (local.set 0 (i32.xor (local.get 0) (i32.shl (local.get 0) (i32.const 13))))
          (local.set 0 (i32.xor (local.get 0) (i32.shr_u (local.get 0) (i32.const 17))))
          (local.set 0 (i32.xor (local.get 0) (i32.shl (local.get 0) (i32.const 5))))
          (local.set 1 (i32.sub (local.get 1) (i32.const 1)))
          (br 0)))
        local.get 0)
      (func (export "fmix") (param i32) (result i32)
        (local.set 0 (i32.xor (local.get 0) (i32.shr_u (local.get 0) (i32.const 16))))
        (local.set 0 (i32.mul (local.get 0) (i32.const 0x85ebca6b)))
        (local.set 0 (i32.xor (local.get 0) (i32.shr_u (local.get 0) (i32.const 13))))
        (local.set 0 (i32.mul (local.get 0) (i32.const 0xc2b2ae35)))
        (i32.xor (local.get 0) (i32.shr_u (local.get 0) (i32.const 16)))))"#;
    for (seed, n) in [(1u32, 1), (2463534242, 10), (u32::MAX, 100)] {
        let mut x = seed;
        for _ in 0..n {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
        }
        let got = call::<(i32, i32), i32>(wat, "xorshift", (seed as i32, n));
        assert_eq!(got as u32, x, "{seed} {n}");
    }
    for h in [0u32, 1, 0xdead_beef, u32::MAX] {
        let mut x = h;
        x ^= x >> 16;
        x = x.wrapping_mul(0x85eb_ca6b);
        x ^= x >> 13;
        x = x.wrapping_mul(0xc2b2_ae35);
        x ^= x >> 16;
        assert_eq!(call::<i32, i32>(wat, "fmix", h as i32) as u32, x, "{h:#x}");
    }
}

#[test]
fn loads_that_step_their_pointer() {
    // `while (*p) n += *p++ == ' '` over a string at 32, and a sum of i32s
    // read with `*p++` stepping by 4, which traps reading past the end
    // (`last_p` shows the loads before it ran).
    let wat = r#"(module
      (memory 1)
      (data (i32.const 32) "a b  c\00")
      (data (i32.const 64) "\01\00\00\00\02\00\00\00\fd\ff\ff\ff")
      (global $p (mut i32) (i32.const 0))
      (func (export "spaces") (param i32) (result i32) (local i32 i32)
        (block (loop
          (local.set 1 (i32.load8_u (local.get 0)))
          (local.set 0 (i32.add (local.get 0) (i32.const 1)))
          (br_if 1 (i32.eqz (local.get 1)))
          (local.set 2 (i32.add (local.get 2) (i32.eq (local.get 1) (i32.const 32))))
          (br 0)))
        local.get 2)
      (func (export "sum") (param i32 i32) (result i32) (local i32 i32)
        (block (loop
          (br_if 1 (i32.eqz (local.get 1)))
          (local.set 3 (i32.load (local.get 0)))
          (local.set 0 (i32.add (local.get 0) (i32.const 4)))
          (local.set 2 (i32.add (local.get 2) (local.get 3)))
          (global.set $p (local.get 0))
          (local.set 1 (i32.sub (local.get 1) (i32.const 1)))
          (br 0)))
        local.get 2)
      (func (export "last_p") (result i32) global.get $p))"#;
    assert_eq!(call::<i32, i32>(wat, "spaces", 32), 3);
    assert_eq!(call::<i32, i32>(wat, "spaces", 38), 0);
    assert_eq!(call::<(i32, i32), i32>(wat, "sum", (64, 3)), 0);
    assert_eq!(call::<(i32, i32), i32>(wat, "sum", (68, 2)), -1);
    // Reads the last 4 bytes, then traps on the next load.
    let engine = Engine::default();
    let module = Module::new(&engine, wat).expect("module");
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).expect("instance");
    let sum = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "sum")
        .expect("export");
    let err = sum.call(&mut store, (65532, 2)).expect_err("out of bounds");
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::MemoryOutOfBounds),
        "{err:#}"
    );
    let last = instance
        .get_typed_func::<(), i32>(&mut store, "last_p")
        .expect("export");
    assert_eq!(last.call(&mut store, ()).expect("no trap"), 65536);
}

#[test]
fn bit_tests_in_branches() {
    // `if (x & m)` and `if (!(x & m))` on i32 and i64, as `br_if` and as
    // `if`; the i64 masks test bits only the upper half holds too.
    let wat = r#"(module
      (func (export "i32") (param i32 i32) (result i32) (local i32)
        (block (br_if 0 (i32.and (local.get 0) (local.get 1)))
          (local.set 2 (i32.const 1)))
        (if (i32.and (local.get 0) (i32.const 4))
          (then (local.set 2 (i32.add (local.get 2) (i32.const 2)))))
        (block (br_if 0 (i32.eqz (i32.and (local.get 0) (local.get 1))))
          (local.set 2 (i32.add (local.get 2) (i32.const 4))))
        local.get 2)
      (func (export "i64") (param i64 i64) (result i32) (local i32)
        (block (br_if 0 (i64.eqz (i64.and (local.get 0) (local.get 1))))
          (local.set 2 (i32.const 1)))
        (if (i64.eqz (i64.and (local.get 0) (i64.const 0x100000000)))
          (then (local.set 2 (i32.add (local.get 2) (i32.const 2)))))
        local.get 2))"#;
    for (x, m) in [(0i32, -1i32), (5, 1), (5, 2), (4, 4), (-1, i32::MIN)] {
        let expect = i32::from(x & m == 0) + 2 * i32::from(x & 4 != 0) + 4 * i32::from(x & m != 0);
        assert_eq!(
            call::<(i32, i32), i32>(wat, "i32", (x, m)),
            expect,
            "{x:#x} {m:#x}"
        );
    }
    for (x, m) in [
        (0i64, -1i64),
        (1 << 32, 1 << 32),
        (1 << 32, 1),
        (3, 2),
        (-1, i64::MIN),
    ] {
        let expect = i32::from(x & m != 0) + 2 * i32::from(x & (1 << 32) == 0);
        assert_eq!(
            call::<(i64, i64), i32>(wat, "i64", (x, m)),
            expect,
            "{x:#x} {m:#x}"
        );
    }
}

#[test]
fn bit_tests_with_wide_masks_and_labels_between() {
    // Masks that are 64-bit immediates (`-2`) and ones that are not
    // (`0x80000000`, `0xffffffff`, `1 << 63`); an `and` whose result a
    // branch also carries to the `eqz` (a label between them: no fold);
    // and an `and` kept in a local by `local.tee` before its `eqz`.
    let wat = r#"(module
      (func (export "masks") (param i64) (result i32) (local i32)
        (if (i64.eqz (i64.and (local.get 0) (i64.const -2)))
          (then (local.set 1 (i32.const 1))))
        (if (i64.eqz (i64.and (local.get 0) (i64.const 0x80000000)))
          (then (local.set 1 (i32.add (local.get 1) (i32.const 2)))))
        (if (i64.eqz (i64.and (local.get 0) (i64.const 0xffffffff)))
          (then (local.set 1 (i32.add (local.get 1) (i32.const 4)))))
        (if (i64.eqz (i64.and (local.get 0) (i64.const 0x8000000000000000)))
          (then (local.set 1 (i32.add (local.get 1) (i32.const 8)))))
        local.get 1)
      (func (export "label") (param i32 i32 i32) (result i32)
        (block $out
          (br_if $out
            (i32.eqz
              (block (result i32)
                (br_if 0 (local.get 2) (local.get 2))
                (drop)
                (i32.and (local.get 0) (local.get 1)))))
          (return (i32.const 1)))
        i32.const 0)
      (func (export "tee") (param i32 i32) (result i32) (local i32)
        (if (i32.eqz (local.tee 2 (i32.and (local.get 0) (local.get 1))))
          (then (return (i32.const -1))))
        local.get 2))"#;
    for x in [0i64, 1, 2, 0x8000_0000, 0xffff_ffff, 1 << 32, i64::MIN, -1] {
        let expect = i32::from(x & -2 == 0)
            + 2 * i32::from(x & 0x8000_0000 == 0)
            + 4 * i32::from(x & 0xffff_ffff == 0)
            + 8 * i32::from(x & i64::MIN == 0);
        assert_eq!(call::<i64, i32>(wat, "masks", x), expect, "{x:#x}");
    }
    // With `c != 0` the block's value is `c`, carried by the `br_if`.
    for (a, b, c) in [(6, 1, 0), (6, 2, 0), (6, 1, 5), (0, 0, -1)] {
        let value = if c != 0 { c } else { a & b };
        assert_eq!(
            call::<(i32, i32, i32), i32>(wat, "label", (a, b, c)),
            i32::from(value != 0),
            "{a} {b} {c}"
        );
    }
    for (a, b) in [(6, 3), (6, 1), (-1, 0x7000_0000)] {
        let expect = if a & b == 0 { -1 } else { a & b };
        assert_eq!(call::<(i32, i32), i32>(wat, "tee", (a, b)), expect);
    }
}
