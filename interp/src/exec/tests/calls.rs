//! Calls, returns, branches, stack limits, host functions, re-entrancy and
//! backtraces.

use super::harness::*;
use crate::bytecode::Op;
use crate::vm::{TrapCode, VMContext, VMStoreContext, ValRaw};

/// `fac(n: i64) -> i64`, recursive, as function `index`.
fn factorial(m: &mut Builder, index: u32) -> u32 {
    let t = m.ty(&[I64], &[I64]);
    let f = m.func(
        t,
        0,
        3,
        vec![
            /* 0 */ Op::I64Eqz(u(1, 0)),
            /* 1 */ Op::BrIfEqz { cond: 1, offset: 3 },
            /* 2 */ Op::Const64 { dst: 0, value: 1 },
            /* 3 */ Op::Return,
            /* 4 */ Op::Const64 { dst: 2, value: 1 },
            /* 5 */ Op::I64Sub(b(2, 0, 2)),
            /* 6 */
            Op::Call {
                func: index,
                base: 2,
            },
            /* 7 */ Op::I64Mul(b(0, 0, 2)),
            /* 8 */ Op::Return,
        ],
    );
    assert_eq!(f, index);
    f
}

/// `count(n: i32) -> i32`: `if n == 0 { 0 } else { count(n - 1) + 1 }`,
/// one value slot and one frame record per level.
fn counter(m: &mut Builder, index: u32) -> u32 {
    let t = m.ty(&[I32], &[I32]);
    let f = m.func(
        t,
        0,
        3,
        vec![
            /* 0 */ Op::BrIfNez { cond: 0, offset: 2 },
            /* 1 */ Op::Return,
            /* 2 */ Op::Const32 { dst: 1, value: 1 },
            /* 3 */ Op::I32Sub(b(1, 0, 1)),
            /* 4 */
            Op::Call {
                func: index,
                base: 1,
            },
            /* 5 */ Op::Const32 { dst: 2, value: 1 },
            /* 6 */ Op::I32Add(b(0, 1, 2)),
            /* 7 */ Op::Return,
        ],
    );
    assert_eq!(f, index);
    f
}

#[test]
fn recursive_factorial() {
    let s = TestStore::new(1 << 20);
    let mut m = Builder::new();
    let fac = factorial(&mut m, 0);
    let inst = m.build(&s);
    assert_eq!(inst.call1(fac, &[0]).unwrap(), 1);
    assert_eq!(inst.call1(fac, &[5]).unwrap(), 120);
    assert_eq!(inst.call1(fac, &[20]).unwrap(), 2_432_902_008_176_640_000);
    assert_eq!(s.live_frames(), 0);
}

#[test]
fn million_deep_recursion_runs_in_a_large_stack() {
    let s = TestStore::new(64 << 20);
    let mut m = Builder::new();
    let count = counter(&mut m, 0);
    let inst = m.build(&s);
    assert_eq!(inst.call1(count, &[1_000_000]).unwrap(), 1_000_000);
    assert_eq!(s.live_frames(), 0);
}

#[test]
fn million_deep_recursion_traps_with_stack_overflow() {
    let s = TestStore::new(1 << 20);
    let mut m = Builder::new();
    let count = counter(&mut m, 0);
    let inst = m.build(&s);
    let err = inst.call1(count, &[1_000_000]).unwrap_err();
    assert_eq!(err.trap(), TrapCode::StackOverflow);
    // Every live frame is in the backtrace, each at its call instruction.
    assert!(err.backtrace.len() > 10_000, "{}", err.backtrace.len());
    assert!(
        err.backtrace
            .iter()
            .all(|f| f.func_index == count && f.pc == 4 && f.vmctx == inst.vmctx())
    );
    // The value stack stayed within the limit, and the stacks were restored.
    assert!(s.allocated_slots() <= (1 << 20) / 8);
    assert_eq!(s.live_frames(), 0);
    assert_eq!(s.entry_depth(), 0);
    assert_eq!(inst.call1(count, &[1000]).unwrap(), 1000);
}

#[test]
fn a_zero_stack_limit_traps_on_entry() {
    let s = TestStore::new(0);
    let mut m = Builder::new();
    let count = counter(&mut m, 0);
    let inst = m.build(&s);
    let err = inst.call1(count, &[1]).unwrap_err();
    assert_eq!(err.trap(), TrapCode::StackOverflow);
    assert!(err.backtrace.is_empty());
}

#[test]
fn loops_branch_backwards() {
    let s = TestStore::new(1 << 16);
    let mut m = Builder::new();
    let t = m.ty(&[I32], &[I32]);
    // sum(n) = n + (n - 1) + ... + 1, with the accumulator in local 1
    let sum = m.func(
        t,
        1,
        3,
        vec![
            /* 0 */ Op::BrIfEqz { cond: 0, offset: 5 },
            /* 1 */ Op::I32Add(b(1, 1, 0)),
            /* 2 */ Op::Const32 { dst: 2, value: 1 },
            /* 3 */ Op::I32Sub(b(0, 0, 2)),
            /* 4 */ Op::br(-4),
            /* 5 */ Op::Copy { dst: 0, src: 1 },
            /* 6 */ Op::Return,
        ],
    );
    let inst = m.build(&s);
    assert_eq!(inst.call1(sum, &[100]).unwrap(), 5050);
    // Declared locals start at zero on every call.
    assert_eq!(inst.call1(sum, &[3]).unwrap(), 6);
    assert_eq!(inst.call1(sum, &[0]).unwrap(), 0);
}

#[test]
fn br_table_selects_an_entry_or_the_default() {
    let s = TestStore::new(1 << 16);
    let mut m = Builder::new();
    let t = m.ty(&[I32], &[I32]);
    let f = m.func(
        t,
        0,
        1,
        vec![
            /* 0 */ Op::BrTable { index: 0, len: 3 },
            /* 1 */ Op::br(4),
            /* 2 */ Op::br(5),
            /* 3 */ Op::br(6),
            /* 4 */ Op::br(7),
            /* 5 */ Op::Const32 { dst: 0, value: 100 },
            /* 6 */ Op::Return,
            /* 7 */ Op::Const32 { dst: 0, value: 101 },
            /* 8 */ Op::Return,
            /* 9 */ Op::Const32 { dst: 0, value: 102 },
            /* 10 */ Op::Return,
            /* 11 */ Op::Const32 { dst: 0, value: 999 },
            /* 12 */ Op::Return,
        ],
    );
    let inst = m.build(&s);
    assert_eq!(inst.call1(f, &[0]).unwrap(), 100);
    assert_eq!(inst.call1(f, &[1]).unwrap(), 101);
    assert_eq!(inst.call1(f, &[2]).unwrap(), 102);
    assert_eq!(inst.call1(f, &[3]).unwrap(), 999);
    assert_eq!(inst.call1(f, &[u32::MAX as u64]).unwrap(), 999);
}

#[test]
fn call_indirect_checks_bounds_null_and_signature() {
    let s = TestStore::new(1 << 16);
    let mut m = Builder::new();
    let table = m.table(5, 5);
    let t_bin = m.ty(&[I32, I32], &[I32]);
    let t_un = m.ty(&[I32], &[I32]);
    // Structurally equal to `t_bin`: same engine-wide id.
    let t_bin2 = m.ty(&[I32, I32], &[I32]);
    let add = m.func(t_bin, 0, 2, vec![Op::I32Add(b(0, 0, 1)), Op::Return]);
    let neg = m.func(
        t_un,
        0,
        2,
        vec![
            Op::Const32 { dst: 1, value: 0 },
            Op::I32Sub(b(0, 1, 0)),
            Op::Return,
        ],
    );
    let sub = m.func(t_bin2, 0, 2, vec![Op::I32Sub(b(0, 0, 1)), Op::Return]);
    let t_caller = m.ty(&[I32, I32, I32], &[I32]);
    // caller(sel, a, c) = (call_indirect (type t_bin) a c sel)
    let caller = m.func(
        t_caller,
        0,
        5,
        vec![
            Op::Copy { dst: 3, src: 1 },
            Op::Copy { dst: 4, src: 2 },
            Op::CallIndirect {
                type_index: t_bin,
                table,
                index: 0,
                base: 3,
            },
            Op::Copy { dst: 0, src: 3 },
            Op::Return,
        ],
    );
    let inst = m.build(&s);
    inst.set_elem(table, 0, Some(add));
    inst.set_elem(table, 1, None);
    inst.set_elem(table, 2, Some(neg));
    inst.set_elem(table, 3, Some(sub));

    assert_eq!(inst.call1(caller, &[0, 40, 2]).unwrap(), 42);
    assert_eq!(inst.call1(caller, &[3, 40, 2]).unwrap(), 38);
    assert_eq!(
        inst.call1(caller, &[1, 40, 2]).unwrap_err().trap(),
        TrapCode::IndirectCallToNull
    );
    assert_eq!(
        inst.call1(caller, &[2, 40, 2]).unwrap_err().trap(),
        TrapCode::BadSignature
    );
    assert_eq!(
        inst.call1(caller, &[4, 40, 2]).unwrap_err().trap(),
        TrapCode::IndirectCallToNull
    );
    assert_eq!(
        inst.call1(caller, &[5, 40, 2]).unwrap_err().trap(),
        TrapCode::TableOutOfBounds
    );
    let err = inst.call1(caller, &[u32::MAX as u64, 40, 2]).unwrap_err();
    assert_eq!(err.trap(), TrapCode::TableOutOfBounds);
    assert_eq!(
        (
            err.backtrace.len(),
            err.backtrace[0].func_index,
            err.backtrace[0].pc
        ),
        (1, caller, 2)
    );
}

#[test]
fn host_functions_get_arguments_and_return_results() {
    let s = TestStore::new(1 << 16);
    let mut m = Builder::new();
    let t_mul = m.ty(&[I32, I64], &[I64]);
    let t_spread = m.ty(&[I32], &[I32, I32, I32]);
    let seen_caller = std::rc::Rc::new(std::cell::Cell::new(core::ptr::null_mut::<VMContext>()));
    let seen = seen_caller.clone();
    let mul = m.host(t_mul, move |caller, args| {
        seen.set(caller);
        assert_eq!(args.len(), 2);
        let r = args[0].get_i32() as i64 * args[1].get_i64();
        args[0] = ValRaw::i64(r);
        Ok(())
    });
    // Three results from one parameter: the buffer has room for three.
    let spread = m.host(t_spread, |_, args| {
        assert_eq!(args.len(), 3);
        let x = args[0].get_i32();
        args[0] = ValRaw::i32(x);
        args[1] = ValRaw::i32(x + 1);
        args[2] = ValRaw::i32(x + 2);
        Ok(())
    });
    let t = m.ty(&[I32, I64], &[I64, I32]);
    // (mul a c), then (spread 10) and sum its results
    let f = m.func(
        t,
        0,
        6,
        vec![
            Op::Copy { dst: 2, src: 0 },
            Op::Copy { dst: 3, src: 1 },
            Op::Call { func: mul, base: 2 },
            Op::Const32 { dst: 3, value: 10 },
            Op::Call {
                func: spread,
                base: 3,
            },
            Op::I32Add(b(3, 3, 4)),
            Op::I32Add(b(1, 3, 5)),
            Op::Copy { dst: 0, src: 2 },
            Op::Return,
        ],
    );
    let inst = m.build(&s);
    assert_eq!(
        inst.call(f, &[(-3i32) as u32 as u64, 7]).unwrap(),
        vec![(-21i64) as u64, 33]
    );
    assert_eq!(seen_caller.get(), inst.vmctx());
    // Host functions can also be called directly from the host.
    assert_eq!(inst.call(spread, &[1]).unwrap(), vec![1, 2, 3]);
}

#[test]
fn failing_host_function_propagates_with_wasm_frames() {
    let s = TestStore::new(1 << 16);
    let mut m = Builder::new();
    let t_void = m.ty(&[], &[]);
    let boom = m.host(t_void, |_, _| Err(anyhow::anyhow!("boom")));
    let inner = m.func(
        t_void,
        0,
        1,
        vec![
            Op::Const32 { dst: 0, value: 1 },
            Op::Call {
                func: boom,
                base: 0,
            },
            Op::Return,
        ],
    );
    let outer = m.func(
        t_void,
        0,
        0,
        vec![
            Op::Call {
                func: inner,
                base: 0,
            },
            Op::Return,
        ],
    );
    let inst = m.build(&s);
    let err = inst.call(outer, &[]).unwrap_err();
    assert_eq!(err.host_message(), "boom");
    let frames: Vec<_> = err.backtrace.iter().map(|f| (f.func_index, f.pc)).collect();
    assert_eq!(frames, vec![(inner, 1), (outer, 0)]);
    assert_eq!(s.live_frames(), 0);
}

#[test]
fn traps_record_a_backtrace_innermost_first() {
    let s = TestStore::new(1 << 16);
    let mut m = Builder::new();
    let t = m.ty(&[], &[]);
    let f2 = m.func(
        t,
        0,
        1,
        vec![
            Op::Const32 { dst: 0, value: 0 },
            Op::Trap {
                code: TrapCode::UnreachableCodeReached,
            },
        ],
    );
    let f1 = m.func(
        t,
        0,
        2,
        vec![
            Op::Const32 { dst: 0, value: 0 },
            Op::Const32 { dst: 1, value: 0 },
            Op::Call { func: f2, base: 1 },
            Op::Return,
        ],
    );
    let f0 = m.func(t, 0, 0, vec![Op::Call { func: f1, base: 0 }, Op::Return]);
    let inst = m.build(&s);
    let err = inst.call(f0, &[]).unwrap_err();
    assert_eq!(err.trap(), TrapCode::UnreachableCodeReached);
    let frames: Vec<_> = err
        .backtrace
        .iter()
        .map(|f| (f.func_index, f.pc, f.vmctx))
        .collect();
    let v = inst.vmctx();
    assert_eq!(frames, vec![(f2, 1, v), (f1, 2, v), (f0, 0, v)]);
    assert_eq!(s.live_frames(), 0);
}

#[test]
fn calls_across_instances_switch_instance_and_memory() {
    let s = TestStore::new(1 << 16);
    let mut mb = Builder::new();
    mb.memory(1, 1);
    let t_load = mb.ty(&[], &[I32]);
    let load0 = mb.func(
        t_load,
        0,
        1,
        vec![
            Op::Const32 { dst: 0, value: 0 },
            Op::I32Load(ld(0, 0, 0)),
            Op::Return,
        ],
    );
    let t_void = mb.ty(&[], &[]);
    let boom = mb.func(
        t_void,
        0,
        0,
        vec![Op::Trap {
            code: TrapCode::UnreachableCodeReached,
        }],
    );
    let b_inst = mb.build(&s);
    b_inst.write_memory(0, &0xbbbb_bbbbu32.to_le_bytes());

    let mut ma = Builder::new();
    ma.memory(1, 1);
    let t_load_a = ma.ty(&[], &[I32]);
    let t_void_a = ma.ty(&[], &[]);
    let imp_load = ma.import_func(t_load_a, b_inst.func_ref(load0));
    let imp_boom = ma.import_func(t_void_a, b_inst.func_ref(boom));
    let t_pair = ma.ty(&[], &[I32, I32]);
    // (B's word 0, A's word 0)
    let both = ma.func(
        t_pair,
        0,
        2,
        vec![
            Op::Call {
                func: imp_load,
                base: 0,
            },
            Op::Const32 { dst: 1, value: 0 },
            Op::I32Load(ld(1, 1, 0)),
            Op::Return,
        ],
    );
    let call_boom = ma.func(
        t_void_a,
        0,
        0,
        vec![
            Op::Call {
                func: imp_boom,
                base: 0,
            },
            Op::Return,
        ],
    );
    let a_inst = ma.build(&s);
    a_inst.write_memory(0, &0xaaaa_aaaau32.to_le_bytes());

    assert_eq!(
        a_inst.call(both, &[]).unwrap(),
        vec![0xbbbb_bbbb, 0xaaaa_aaaa]
    );
    let err = a_inst.call(call_boom, &[]).unwrap_err();
    assert_eq!(err.trap(), TrapCode::UnreachableCodeReached);
    let frames: Vec<_> = err
        .backtrace
        .iter()
        .map(|f| (f.vmctx, f.func_index))
        .collect();
    assert_eq!(
        frames,
        vec![(b_inst.vmctx(), boom), (a_inst.vmctx(), call_boom)]
    );
}

/// Adds `f(x) = 3x + callee(x)` of type `t` (`(i32) -> i32`, like the
/// callee's), with `3x` kept in slot 1 across the call.
fn triple_plus_call(m: &mut Builder, t: u32, callee: u32) -> u32 {
    m.func(
        t,
        0,
        4,
        vec![
            Op::Const32 { dst: 2, value: 3 },
            Op::I32Mul(b(1, 0, 2)),
            Op::Copy { dst: 2, src: 0 },
            Op::Call {
                func: callee,
                base: 2,
            },
            Op::I32Add(b(0, 1, 2)),
            Op::Return,
        ],
    )
}

#[test]
fn reentrant_activations_nest_above_the_caller_frame() {
    let s = TestStore::new(1 << 20);
    let ctx: *mut VMStoreContext = s.ctx();
    let mut m = Builder::new();
    let t = m.ty(&[I32], &[I32]);
    // The host calls `count` (function 2) back in the calling instance.
    let reenter = m.host(t, move |caller, args| {
        // SAFETY: the store is live while the call runs.
        assert_eq!(unsafe { (*ctx).entry_depth }, 1);
        // SAFETY: `caller` is the live calling instance; function 2 is `count`.
        let ok = unsafe { invoke(VMContext::func_ref(caller, 2), caller, args) };
        if ok { Ok(()) } else { Err(Propagate.into()) }
    });
    let outer = triple_plus_call(&mut m, t, reenter);
    let count = counter(&mut m, 2);
    let inst = m.build(&s);
    // Deep enough that the nested activation reallocates the value stack.
    assert_eq!(inst.call1(outer, &[5000]).unwrap(), 20_000);
    assert!(s.allocated_slots() > 5000);
    assert_eq!(s.entry_depth(), 0);
    assert_eq!(inst.call1(count, &[3]).unwrap(), 3);

    // A trap in the nested activation unwinds through the host and the outer one.
    let err = inst.call1(outer, &[200_000]).unwrap_err();
    assert_eq!(err.trap(), TrapCode::StackOverflow);
    let last = err.backtrace.last().unwrap();
    assert_eq!((last.func_index, last.pc), (outer, 3));
    assert_eq!(s.live_frames(), 0);
    assert_eq!(s.entry_depth(), 0);
}

#[test]
fn returns_after_a_nested_activation_grew_the_frame_stack() {
    // outer → mid (a frame record of the outer activation) → host → count
    // recursing deep in a nested activation, which grows (moves) the frame
    // stack; mid and outer must then still return through their records.
    let s = TestStore::new(1 << 22);
    let mut m = Builder::new();
    let t = m.ty(&[I32], &[I32]);
    // Functions: 0 reenter (host), 1 mid, 2 outer, 3 count.
    let reenter = m.host(t, move |caller, args| {
        // SAFETY: `caller` is the live calling instance; function 3 is `count`.
        let ok = unsafe { invoke(VMContext::func_ref(caller, 3), caller, args) };
        if ok { Ok(()) } else { Err(Propagate.into()) }
    });
    let mid = triple_plus_call(&mut m, t, reenter);
    // outer(x) = mid(x) + 7 (7 kept in slot 1 across the call)
    let outer = m.func(
        t,
        0,
        3,
        vec![
            Op::Const32 { dst: 1, value: 7 },
            Op::Copy { dst: 2, src: 0 },
            Op::Call { func: mid, base: 2 },
            Op::I32Add(b(0, 1, 2)),
            Op::Return,
        ],
    );
    let count = counter(&mut m, 3);
    let inst = m.build(&s);
    for _ in 0..3 {
        let frames_before = s.frame_capacity();
        assert_eq!(inst.call1(outer, &[20_000]).unwrap(), 80_007);
        assert!(s.frame_capacity() > frames_before.max(20_000));
        assert_eq!(s.live_frames(), 0);
        assert_eq!(inst.call1(count, &[3]).unwrap(), 3);
        // An empty frame stack again, so the next round grows it again.
        s.reset_frames();
    }
}

#[test]
fn nested_entries_beyond_the_limit_trap_with_stack_overflow() {
    // Each host → wasm entry uses native stack; give the test room.
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(|| {
            let s = TestStore::new(1 << 20);
            let mut m = Builder::new();
            let t = m.ty(&[], &[]);
            // host() calls wasm() calls host() ... forever.
            let host = m.host(t, |caller, args| {
                // SAFETY: `caller` is live; function 1 is the wasm function.
                let ok = unsafe { invoke(VMContext::func_ref(caller, 1), caller, args) };
                if ok { Ok(()) } else { Err(Propagate.into()) }
            });
            let wasm = m.func(
                t,
                0,
                0,
                vec![
                    Op::Call {
                        func: host,
                        base: 0,
                    },
                    Op::Return,
                ],
            );
            let inst = m.build(&s);
            let err = inst.call(wasm, &[]).unwrap_err();
            assert_eq!(err.trap(), TrapCode::StackOverflow);
            assert_eq!(
                err.backtrace.len(),
                VMStoreContext::MAX_ENTRY_DEPTH as usize
            );
            assert_eq!(s.entry_depth(), 0);
            assert_eq!(s.live_frames(), 0);
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn lazy_translation_failure_is_a_host_error() {
    let s = TestStore::new(1 << 16);
    let mut m = Builder::new();
    let t = m.ty(&[], &[]);
    let broken = m.untranslated_func(t);
    let caller = m.func(
        t,
        0,
        0,
        vec![
            Op::Call {
                func: broken,
                base: 0,
            },
            Op::Return,
        ],
    );
    let inst = m.build(&s);
    let err = inst.call(broken, &[]).unwrap_err();
    assert!(
        err.host_message()
            .contains("failed to translate function 0"),
        "{}",
        err.host_message()
    );
    assert!(err.backtrace.is_empty());
    let err = inst.call(caller, &[]).unwrap_err();
    assert!(err.host_message().contains("failed to translate"));
    assert_eq!(
        err.backtrace
            .iter()
            .map(|f| (f.func_index, f.pc))
            .collect::<Vec<_>>(),
        vec![(caller, 0)]
    );
    assert_eq!(s.live_frames(), 0);
}

#[test]
fn too_small_argument_buffer_is_refused() {
    let s = TestStore::new(1 << 16);
    let mut m = Builder::new();
    let t = m.ty(&[I32], &[I32, I32]);
    let f = m.func(t, 0, 2, vec![Op::Return]);
    let inst = m.build(&s);
    let mut buf = [ValRaw::i32(1)];
    // SAFETY: the function is live; the buffer really has one slot.
    assert!(!unsafe { invoke(inst.func_ref(f), core::ptr::null_mut(), &mut buf) });
    let err = take_failure(s.ctx());
    assert!(err.host_message().contains("array call with 1 slots"));
}
