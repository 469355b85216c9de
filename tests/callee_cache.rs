//! End to end: calls between interpreted functions take a fast path through
//! a small direct-mapped cache of callees, keyed by the function index of a
//! `call` and by the table element index of a `call_indirect` (see
//! `interp/src/exec/call.rs`). These modules make different callees share
//! entries, alternate between them and retarget a table element between
//! calls; the results must be what the functions compute.

mod common;

use common::call_in_every_tier;

/// Function `k` of the modules below: `x * (2k + 1) + k`, wrapping.
fn f(k: u32, x: u32) -> u32 {
    x.wrapping_mul(2 * k + 1).wrapping_add(k)
}

/// Nine functions `$f0..$f8` (indices 0..=8, so `k` and `k + 4` share a
/// cache entry), a table holding them in order, and `extra` exports.
fn module(extra: &str) -> String {
    let funcs: String = (0..9)
        .map(|k| {
            format!(
                "(func $f{k} (type $t) local.get 0 i32.const {} i32.mul i32.const {k} i32.add)\n",
                2 * k + 1
            )
        })
        .collect();
    format!(
        "(module
            (type $t (func (param i32) (result i32)))
            (table $tab 9 funcref)
            (elem (i32.const 0) $f0 $f1 $f2 $f3 $f4 $f5 $f6 $f7 $f8)
            {funcs}
            {extra})"
    )
}

#[test]
fn indirect_calls_through_colliding_elements() {
    // Element indices 0, 5, 1, 6, 2, 7, 3, 8, 4, 0, …: consecutive calls
    // land on elements four apart, which share an entry.
    let wat = module(
        "(func (export \"run\") (param $n i32) (result i32) (local $i i32) (local $acc i32)
            i32.const 1
            local.set $acc
            loop
                local.get $acc
                local.get $i
                i32.const 5
                i32.mul
                i32.const 9
                i32.rem_u
                call_indirect (type $t)
                local.set $acc
                local.get $i
                i32.const 1
                i32.add
                local.tee $i
                local.get $n
                i32.lt_u
                br_if 0
            end
            local.get $acc)",
    );
    let n = 1000;
    let expected = (0..n).fold(1u32, |acc, i| f(i * 5 % 9, acc));
    let got: i32 = call_in_every_tier(&wat, "run", n as i32);
    assert_eq!(got as u32, expected);
}

#[test]
fn direct_calls_to_colliding_functions() {
    // $f1 and $f5, $f4 and $f8 share entries; each call evicts the other.
    let wat = module(
        "(func (export \"run\") (param $n i32) (result i32) (local $acc i32)
            i32.const 1
            local.set $acc
            loop
                local.get $acc
                call $f1
                call $f5
                call $f4
                call $f8
                local.set $acc
                local.get $n
                i32.const 1
                i32.sub
                local.tee $n
                br_if 0
            end
            local.get $acc)",
    );
    let n: i32 = 500;
    let expected = (0..n).fold(1u32, |acc, _| f(8, f(4, f(5, f(1, acc)))));
    let got: i32 = call_in_every_tier(&wat, "run", n);
    assert_eq!(got as u32, expected);
}

#[test]
fn a_retargeted_element_calls_its_new_function() {
    // The same element index (hence the same cache entry) first holds $f1,
    // then $f5 after `table.set`, then $f2.
    let wat = module(
        "(elem declare func $f2 $f5)
         (func (export \"run\") (param $x i32) (result i32)
            (call_indirect (type $t) (local.get $x) (i32.const 1))
            (table.set $tab (i32.const 1) (ref.func $f5))
            (call_indirect (type $t) (i32.const 1))
            (table.set $tab (i32.const 1) (ref.func $f2))
            (call_indirect (type $t) (i32.const 1)))",
    );
    let x = 7;
    let expected = f(2, f(5, f(1, x)));
    let got: i32 = call_in_every_tier(&wat, "run", x as i32);
    assert_eq!(got as u32, expected);
}
