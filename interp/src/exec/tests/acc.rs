//! The accumulator: variants take their operand from it, and every
//! instruction the bytecode says sets it does.

use super::dispatch::{acc_ops, body};
use super::harness::*;
use crate::bytecode::{Acc, BrCmp, Op, Slot};
use crate::translate::acc::base_form;
use crate::vm::TrapCode;

/// Slots beyond those `body` uses.
const CHECK: Slot = 32;
/// Holds 0.
const NOTHING: Slot = 33;
/// Receives markers.
const MARK: Slot = 34;
/// Where the marker goes in the result.
const SHIFT: Slot = 35;
/// 1.0 as an `f32` and as an `f64`.
const ONE_F32: Slot = 36;
const ONE_F64: Slot = 37;
/// Scratch.
const SCRATCH: Slot = 38;

/// A module with memory, a table, a global, a data and an element segment
/// (as `body` expects) and `ops` as function 2 (after the probe and `inc`),
/// which returns slot 0.
fn run(ops: Vec<Op>) -> (Result<u64, TrapCode>, Vec<u8>) {
    let s = TestStore::new(1 << 20);
    let mut m = Builder::new();
    let t_void = m.ty(&[], &[]);
    let probe = m.host(t_void, |_, _| Ok(()));
    assert_eq!(probe, 0);
    m.memory(1, 2);
    m.table(1, 4);
    m.global(0);
    m.data(b"kiln");
    let t_inc = m.ty(&[I32], &[I32]);
    let inc = m.func(
        t_inc,
        0,
        2,
        vec![
            Op::Const32 { dst: 1, value: 1 },
            Op::I32Add(b(0, 0, 1)),
            Op::Return,
        ],
    );
    m.elem(&[Some(inc)]);
    let t = m.ty(&[], &[I64]);
    let f = m.func(t, 48, 48, ops);
    let inst = m.build(&s);
    inst.set_elem(0, 0, Some(inc));
    inst.write_memory(0, &(0..64).collect::<Vec<u8>>());
    let result = inst.call1(f, &[]).map_err(|e| e.trap());
    (result, inst.read_memory(0, 64))
}

/// The operand set-up `body` starts with (see `dispatch.rs`).
fn prelude() -> Vec<Op> {
    vec![
        Op::Const32 { dst: 1, value: 1 },
        Op::Const32 { dst: 2, value: 7 },
        Op::Const32 { dst: 3, value: 3 },
        Op::Const64 { dst: 4, value: 7 },
        Op::Const64 { dst: 5, value: 3 },
        Op::Const32 {
            dst: 6,
            value: 1.5f32.to_bits(),
        },
        Op::Const64 {
            dst: 7,
            value: 2.25f64.to_bits(),
        },
        Op::Const32 { dst: 16, value: 0 },
        Op::Const64 {
            dst: NOTHING,
            value: 0,
        },
        Op::Const64 {
            dst: SHIFT,
            value: 48,
        },
        Op::Const32 {
            dst: ONE_F32,
            value: 1f32.to_bits(),
        },
        Op::Const64 {
            dst: ONE_F64,
            value: 1f64.to_bits(),
        },
    ]
}

/// Runs `setup`, then `op`, then records whether `op` branched and its
/// result slot (8) in slot 0.
fn outcome(setup: &[Op], op: Op) -> (Result<u64, TrapCode>, Vec<u8>) {
    let mut ops = prelude();
    ops.extend([
        Op::Const64 {
            dst: 8,
            value: 0x5555,
        },
        Op::Const32 {
            dst: MARK,
            value: 1,
        },
    ]);
    ops.extend_from_slice(setup);
    ops.push(op);
    // Branch variants in `acc_ops` skip one instruction when taken; a
    // `BrTableAcc` is followed by its two entries.
    if matches!(op, Op::BrTable { .. } | Op::BrTableAcc { .. }) {
        ops.extend([Op::br(3), Op::br(1)]);
        ops.push(Op::Const32 {
            dst: MARK,
            value: 2,
        });
    } else {
        ops.push(Op::Const32 {
            dst: MARK,
            value: 2,
        });
    }
    ops.extend([
        Op::I64Shl(b(MARK, MARK, SHIFT)),
        Op::I64Xor(b(0, 8, MARK)),
        Op::Return,
    ]);
    run(ops)
}

/// The slot an accumulator variant takes from the accumulator.
fn acc_slot(op: Op) -> Slot {
    match op {
        Op::BrIfNezAcc { cond, .. } | Op::BrIfEqzAcc { cond, .. } => cond,
        Op::BrTableAcc { index, .. } => index,
        _ => {
            let mut slots = Vec::new();
            let mut copy = op;
            copy.map_slots(|s| {
                slots.push(s);
                s
            });
            let name = format!("{op:?}");
            // Bin: dst, lhs, rhs; Un: dst, src; Load: dst, addr; Store:
            // addr, value; BrCmp: lhs, rhs.
            if name.contains("AccR") {
                slots[2]
            } else if name.contains("AccL") {
                if name.starts_with("BrIf") {
                    slots[0]
                } else {
                    slots[1]
                }
            } else if name.contains("AccV") {
                slots[1]
            } else if name.contains("AccA") {
                slots[0]
            } else {
                slots[1]
            }
        }
    }
}

/// Instructions that leave `v` in the accumulator `acc` (and in slot
/// `CHECK`), and instructions that put `v` in `slot` without touching any
/// accumulator a following variant could read.
fn set_acc(acc: Acc, v: u64) -> Vec<Op> {
    let constant = Op::Const64 {
        dst: SCRATCH,
        value: v,
    };
    match acc {
        Acc::Int => vec![Op::Const64 {
            dst: CHECK,
            value: v,
        }],
        // `v * 1.0`: the float accumulator holds `v`.
        Acc::F32 => vec![constant, Op::F32Mul(b(CHECK, SCRATCH, ONE_F32))],
        Acc::F64 => vec![constant, Op::F64Mul(b(CHECK, SCRATCH, ONE_F64))],
    }
}

#[test]
fn variants_take_their_operand_from_the_accumulator() {
    let ops = acc_ops();
    let mut checked = 0;
    for pair in ops.windows(2) {
        let (Some((_, acc)), op) = (pair[0].acc_dst(), pair[1]) else {
            continue;
        };
        if base_form(op) == op {
            continue;
        }
        // Branches skip the next instruction when taken, so that it shows.
        let op = match op {
            Op::BrIfNezAcc { cond, .. } => Op::BrIfNezAcc { cond, offset: 2 },
            Op::BrIfEqzAcc { cond, .. } => Op::BrIfEqzAcc { cond, offset: 2 },
            mut other => {
                if let Op::BrIfI32EqAccL(b)
                | Op::BrIfI32NeAccL(b)
                | Op::BrIfI32LtSAccL(b)
                | Op::BrIfI32LtUAccL(b)
                | Op::BrIfI32GtSAccL(b)
                | Op::BrIfI32GtUAccL(b)
                | Op::BrIfI32LeSAccL(b)
                | Op::BrIfI32LeUAccL(b)
                | Op::BrIfI32GeSAccL(b)
                | Op::BrIfI32GeUAccL(b)
                | Op::BrIfI64EqAccL(b)
                | Op::BrIfI64NeAccL(b)
                | Op::BrIfI32AndNezAccL(b)
                | Op::BrIfI32AndEqzAccL(b)
                | Op::BrIfI64AndNezAccL(b)
                | Op::BrIfI64AndEqzAccL(b) = &mut other
                {
                    b.offset = 2;
                }
                other
            }
        };
        let slot = acc_slot(op);
        assert!(slot < CHECK);
        // The accumulator holds `v` while the operand's slot holds what the
        // prelude put there: the variant must compute with `v`, as the base
        // instruction does when the slot holds `v`.
        let values: Vec<u64> = match acc {
            Acc::Int => vec![1, 40, 2, 3, 0, 0xff80],
            Acc::F32 => [1.0f32, 40.0, 2.5, -3.0, 1.5]
                .iter()
                .map(|v| v.to_bits() as u64)
                .collect(),
            Acc::F64 => [1.0f64, 40.0, 2.5, -3.0, 2.25]
                .iter()
                .map(|v| v.to_bits())
                .collect(),
        };
        let unchanged = outcome(&set_acc(acc, values[0]), base_form(op));
        let mut depends = false;
        for v in values {
            let from_acc = outcome(&set_acc(acc, v), op);
            let from_slot = outcome(
                &[Op::Const64 {
                    dst: slot,
                    value: v,
                }],
                base_form(op),
            );
            assert_eq!(from_acc, from_slot, "{op:?} with {v:#x}");
            depends |= from_acc != unchanged;
        }
        // And the test means something: the value makes a difference.
        assert!(depends, "{op:?} does not depend on its operand");
        checked += 1;
    }
    assert!(checked > 100, "{checked}");
}

#[test]
fn every_instruction_that_sets_the_accumulator_does() {
    // After each such instruction of `body`, check that the accumulator
    // equals the slot it wrote (trapping otherwise), then re-establish the
    // accumulator for whatever follows.
    let mut ops = prelude();
    let mut checked = 0;
    for op in body(0, 1, 1) {
        if matches!(op, Op::Trap { .. }) {
            // The instruction a `Copy2` or `…LoadIdx` skips: placed right
            // after it below.
            continue;
        }
        ops.push(op);
        if op.skips_next() {
            ops.push(Op::Trap {
                code: TrapCode::UnreachableCodeReached,
            });
        }
        if let Some((dst, acc)) = op.acc_dst() {
            // `CHECK = acc + 0` (or `acc * 1.0`), from the accumulator; then
            // the same from the slot, to set the accumulator again.
            let (check, again) = match acc {
                Acc::Int => (
                    Op::I64AddAccL(b(CHECK, dst, NOTHING)),
                    Op::Copy { dst, src: dst },
                ),
                Acc::F32 => (
                    Op::F32MulAccL(b(CHECK, dst, ONE_F32)),
                    Op::F32Mul(b(dst, dst, ONE_F32)),
                ),
                Acc::F64 => (
                    Op::F64MulAccL(b(CHECK, dst, ONE_F64)),
                    Op::F64Mul(b(dst, dst, ONE_F64)),
                ),
            };
            ops.extend([
                check,
                Op::BrIfI64Eq(BrCmp::new(CHECK, dst, 2)),
                Op::Trap {
                    code: TrapCode::UnreachableCodeReached,
                },
                again,
            ]);
            checked += 1;
        }
    }
    ops.extend([Op::Const64 { dst: 0, value: 0 }, Op::Return]);
    assert!(checked > 130, "{checked}");
    assert_eq!(run(ops).0, Ok(0));
}
