//! Pairs of instructions fused into one: the steps after the accumulator
//! pass.
//!
//! The fused instruction takes the first one's place and skips the second,
//! which stays where it was (so no instruction index moves and no branch
//! needs patching); a pair is fused only when no branch lands on its
//! second instruction.
//!
//! * Moves come in runs: the values a branch carries to a loop header or a
//!   block end, the arguments of a call, a `local.tee` feeding a
//!   `local.set`. Each `Copy` is a dispatch for two memory operations, so
//!   two in a row become one [`Op::Copy2`].
//! * Address arithmetic: an `i32.add` whose result only the next
//!   instruction reads, a load taking it from the accumulator, becomes
//!   one `…LoadIdx` that adds and loads.
//! * Scaled adds: an `i32.shl` by a constant whose result only the next
//!   instruction reads, an `i32.add` taking it from the accumulator —
//!   `base + (i << 2)`, the address of `a[i]` — becomes one `I32ShlAdd`.
//! * Branches carrying values: the `Copy` (or `Copy2`) moving them into
//!   the label's slots and the `Br` after it become one `CopyBr`
//!   (`Copy2Br`).
//! * A value kept in two places: an `i32.add` whose result the next
//!   instruction copies to another slot (`j = i - 1; i = j`, a loop's
//!   updated local) becomes one `I32AddCopy` that writes both.
//! * Multiply-adds: an `i32.mul` whose product only the next instruction
//!   reads, an `i32.add` taking it from the accumulator (`c += a * b`,
//!   `h * 5 + k`), becomes one `I32MulAdd`.
//! * Xorshift steps: a shift by a constant whose result only the next
//!   instruction reads, an `i32.xor` of it with the value shifted
//!   (`x ^ (x << 13)`, `h ^ (h >> 16)`), becomes one `I32XorShl` or
//!   `I32XorShrU`.
//! * Post-increment loads: an `i32.load` or `i32.load8_u` followed by an
//!   `i32.add` stepping its address slot by a constant (`*p++`) becomes
//!   one `I32LoadStep` or `I32Load8UStep`.
//! * Counters stepped together: two `i32.add`s in a row, each adding a
//!   constant to a slot in place (`i++` beside `p += 4`), become one
//!   `I32AddPair`.
//! * Loop latches: `i += c` followed by a branch on `i != n` (or `i != 0`)
//!   taking `i` from the accumulator — how clang closes most counted loops
//!   — becomes one `I32AddBr…` that steps, writes and branches.

use crate::bytecode::{
    AddBr, AddBrImm, AddCopy, AddPair, Bin, Load, LoadIdx, LoadStep, MulAdd, Op, ShiftAdd, Slot,
    XorShift,
};

/// Whether the instruction at `pc` is a fusion's leftover: it never runs,
/// so a later fusion leaves it as it is.
fn is_leftover(ops: &[Op], pc: usize) -> bool {
    pc > 0 && ops[pc - 1].skips_next()
}

/// The instruction at `pc` and the one after, if a pair can fuse there:
/// the first is no leftover and no branch lands on the second (`target`
/// is the function's branch targets).
fn adjacent(ops: &[Op], target: &[bool], pc: usize) -> Option<(Op, Op)> {
    let second = *ops.get(pc + 1)?;
    (!is_leftover(ops, pc) && !target[pc + 1]).then_some((ops[pc], second))
}

/// The constant slot `s` holds, if it is one of the function's constants
/// (`consts`, in slots from `first_const`): what a fusion carrying a
/// constant (a shift amount, a step) reads.
fn constant(consts: &[u64], first_const: Slot, s: Slot) -> Option<u64> {
    s.checked_sub(first_const)
        .and_then(|i| consts.get(usize::from(i)))
        .copied()
}

/// A binary instruction at `pc` whose result only the next one reads, from
/// the accumulator, as its left operand (so no branch lands on the next
/// one: the accumulator pass only lets it read the accumulator then):
/// `first`'s pick of the instruction at `pc` (its operands and what to make
/// of them) and `second`'s of the one after. A leftover is not a candidate.
fn chained<T>(
    ops: &[Op],
    dead: &[bool],
    pc: usize,
    first: impl FnOnce(Op) -> Option<(Bin, T)>,
    second: impl FnOnce(Op) -> Option<Bin>,
) -> Option<(Bin, T, Bin)> {
    if is_leftover(ops, pc) {
        return None;
    }
    let (a, then) = first(ops[pc])?;
    let b = second(*ops.get(pc + 1)?)?;
    (dead[pc] && b.lhs == a.dst).then_some((a, then, b))
}

/// The operands of an `i32.add` taking its left operand from the
/// accumulator (integer adds take it on the left).
fn add_from_acc(op: Op) -> Option<Bin> {
    match op {
        Op::I32AddAccL(b) => Some(b),
        _ => None,
    }
}

/// Makes the `…LoadIdx` variant of a load.
type Fused = fn(LoadIdx) -> Op;

/// The load `op` performs if it takes its address from the accumulator,
/// and the `…LoadIdx` it fuses into.
pub(super) fn load_from_acc(op: Op) -> Option<(Fused, Load)> {
    Some(match op {
        Op::I32LoadAcc(l) => (Op::I32LoadIdx, l),
        Op::I64LoadAcc(l) => (Op::I64LoadIdx, l),
        Op::F32LoadAcc(l) => (Op::F32LoadIdx, l),
        Op::F64LoadAcc(l) => (Op::F64LoadIdx, l),
        Op::I32Load8SAcc(l) => (Op::I32Load8SIdx, l),
        Op::I32Load8UAcc(l) => (Op::I32Load8UIdx, l),
        Op::I32Load16SAcc(l) => (Op::I32Load16SIdx, l),
        Op::I32Load16UAcc(l) => (Op::I32Load16UIdx, l),
        _ => return None,
    })
}

/// Fuses each `i32.add` feeding a load through the accumulator into a
/// `…LoadIdx` (see the module docs). `dead` is the accumulator pass's
/// report; the fused instruction takes over the load's entry in it.
pub(super) fn fuse_address_adds(ops: &mut [Op], dead: &mut [bool]) {
    for pc in 0..ops.len().saturating_sub(1) {
        let Op::I32Add(add) = ops[pc] else {
            continue;
        };
        // The accumulator pass only made the load read the sum from the
        // accumulator if no branch lands on it; `dead` says nothing else
        // reads the sum.
        if !dead[pc] {
            continue;
        }
        let Some((fused, load)) = load_from_acc(ops[pc + 1]) else {
            continue;
        };
        debug_assert_eq!(load.addr, add.dst);
        ops[pc] = fused(LoadIdx {
            dst: load.dst,
            base: add.lhs,
            index: add.rhs,
            offset: load.offset,
        });
        dead[pc] = dead[pc + 1];
    }
}

/// Fuses each `Copy` or `Copy2` followed by a `Br` into a `CopyBr` or
/// `Copy2Br` (see the module docs). Runs after [`fuse_copy_pairs`].
pub(super) fn fuse_copy_branches(ops: &mut [Op], target: &[bool]) {
    for pc in 0..ops.len() {
        if is_leftover(ops, pc) {
            continue;
        }
        // Where the `Br` would be: after the `Copy`, or after the `Copy`
        // a `Copy2` skips.
        let br_at = match ops[pc] {
            Op::Copy { .. } => pc + 1,
            Op::Copy2 { .. } => pc + 2,
            _ => continue,
        };
        let Some(&Op::Br { offset, .. }) = ops.get(br_at) else {
            continue;
        };
        if (pc + 1..=br_at).any(|t| target[t]) {
            continue;
        }
        // Relative to the fused instruction.
        let Some(offset) = offset.checked_add((br_at - pc) as i32) else {
            continue;
        };
        ops[pc] = match ops[pc] {
            Op::Copy { dst, src } => Op::CopyBr { dst, src, offset },
            Op::Copy2 {
                dst0,
                src0,
                dst1,
                src1,
            } => Op::Copy2Br {
                dst0,
                src0,
                dst1,
                src1,
                offset,
            },
            _ => continue,
        };
    }
}

/// Fuses each shift by a constant feeding an add through the accumulator
/// into an `I32ShlAdd` (see the module docs). `dead` is the accumulator
/// pass's report (the shift's result must be read by the add alone); the
/// fused instruction takes over the add's entry. `consts` are the
/// function's constants, in slots from `first_const`.
pub(super) fn fuse_scaled_adds(
    ops: &mut [Op],
    dead: &mut [bool],
    consts: &[u64],
    first_const: Slot,
) {
    type Fused = fn(ShiftAdd) -> Op;
    let shift = |op| -> Option<(Bin, Fused)> {
        match op {
            Op::I32Shl(b) => Some((b, Op::I32ShlAdd)),
            Op::I32ShlAccL(b) => Some((b, Op::I32ShlAddAccL)),
            _ => None,
        }
    };
    for pc in 0..ops.len().saturating_sub(1) {
        let Some((shl, fused, add)) = chained(ops, dead, pc, shift, add_from_acc) else {
            continue;
        };
        let Some(amount) = constant(consts, first_const, shl.rhs) else {
            continue;
        };
        ops[pc] = fused(ShiftAdd {
            dst: add.dst,
            lhs: shl.lhs,
            rhs: add.rhs,
            shift: (amount & 31) as u8,
            imm: 0,
        });
        dead[pc] = dead[pc + 1];
    }
}

/// Fuses each loop latch into an `I32AddBr…` (see the module docs):
/// `local += c` for a constant `c` that fits 16 bits, then a branch taking
/// the local from the accumulator (which the accumulator pass only allows
/// where no branch lands). `consts` are the function's constants, in
/// slots from `first_const`.
pub(super) fn fuse_loop_latches(ops: &mut [Op], consts: &[u64], first_const: Slot) {
    let constant = |s: Slot| constant(consts, first_const, s).map(|c| c as u32);
    for pc in 0..ops.len().saturating_sub(1) {
        if is_leftover(ops, pc) {
            continue;
        }
        let Op::I32Add(add) = ops[pc] else {
            continue;
        };
        let Some(step) = constant(add.rhs).and_then(|c| i16::try_from(c as i32).ok()) else {
            continue;
        };
        if add.dst != add.lhs {
            continue;
        }
        let var = add.dst;
        ops[pc] = match ops[pc + 1] {
            Op::BrIfI32NeAccL(b) if b.lhs == var => {
                // Relative to the latch, one instruction earlier.
                let Some(offset) = b.offset.checked_add(1) else {
                    continue;
                };
                match constant(b.rhs) {
                    Some(bound) => Op::I32AddBrNeImm(AddBrImm {
                        var,
                        step,
                        offset,
                        bound,
                    }),
                    None => Op::I32AddBrNe(AddBr {
                        var,
                        step,
                        rhs: b.rhs,
                        offset,
                    }),
                }
            }
            Op::BrIfNezAcc { cond, offset } if cond == var => {
                let Some(offset) = offset.checked_add(1) else {
                    continue;
                };
                Op::I32AddBrNez(AddBr {
                    var,
                    step,
                    rhs: var,
                    offset,
                })
            }
            _ => continue,
        };
    }
}

/// Fuses each `i32.mul` whose product only the `i32.add` after it reads,
/// from the accumulator, into an `I32MulAdd` (see the module docs). `dead`
/// is the accumulator pass's report; the fused instruction takes over the
/// add's entry.
pub(super) fn fuse_multiply_adds(ops: &mut [Op], dead: &mut [bool]) {
    type Fused = fn(MulAdd) -> Op;
    let multiply = |op| -> Option<(Bin, Fused)> {
        match op {
            Op::I32Mul(b) => Some((b, Op::I32MulAdd)),
            Op::I32MulAccL(b) => Some((b, Op::I32MulAddAccL)),
            _ => None,
        }
    };
    for pc in 0..ops.len().saturating_sub(1) {
        let Some((mul, fused, add)) = chained(ops, dead, pc, multiply, add_from_acc) else {
            continue;
        };
        ops[pc] = fused(MulAdd {
            dst: add.dst,
            lhs: mul.lhs,
            rhs: mul.rhs,
            add: add.rhs,
            imm: 0,
        });
        dead[pc] = dead[pc + 1];
    }
}

/// Fuses each `i32.shl` or `i32.shr_u` by a constant whose result only the
/// next instruction reads — an `i32.xor` of it (from the accumulator) and
/// the shift's own operand — into an `I32XorShl` or `I32XorShrU` (see the
/// module docs). `dead` is the accumulator pass's report; the fused
/// instruction takes over the xor's entry. `consts` are the function's
/// constants, in slots from `first_const`.
pub(super) fn fuse_xor_shifts(
    ops: &mut [Op],
    dead: &mut [bool],
    consts: &[u64],
    first_const: Slot,
) {
    type Fused = fn(XorShift) -> Op;
    let shifts = |op| -> Option<(Bin, Fused)> {
        match op {
            Op::I32Shl(b) => Some((b, Op::I32XorShl)),
            Op::I32ShlAccL(b) => Some((b, Op::I32XorShlAccL)),
            Op::I32ShrU(b) => Some((b, Op::I32XorShrU)),
            Op::I32ShrUAccL(b) => Some((b, Op::I32XorShrUAccL)),
            _ => None,
        }
    };
    // Integer xors take an accumulator operand on the left.
    let xor_from_acc = |op| match op {
        Op::I32XorAccL(b) => Some(b),
        _ => None,
    };
    for pc in 0..ops.len().saturating_sub(1) {
        let Some((shift, fused, xor)) = chained(ops, dead, pc, shifts, xor_from_acc) else {
            continue;
        };
        // The xor's other operand is the value shifted, read from its slot
        // (the accumulator forms hold that slot's value).
        if xor.rhs != shift.lhs {
            continue;
        }
        let Some(amount) = constant(consts, first_const, shift.rhs) else {
            continue;
        };
        ops[pc] = fused(XorShift {
            dst: xor.dst,
            src: shift.lhs,
            shift: (amount & 31) as u8,
        });
        dead[pc] = dead[pc + 1];
    }
}

/// Fuses each `i32.load` or `i32.load8_u` (its address from the slot or
/// the accumulator) followed by an `i32.add` of a constant to its address
/// slot in place into an `I32LoadStep` or
/// `I32Load8UStep` (see the module docs). `consts` are the function's
/// constants, in slots from `first_const`.
pub(super) fn fuse_load_steps(
    ops: &mut [Op],
    dead: &[bool],
    target: &[bool],
    consts: &[u64],
    first_const: Slot,
) {
    type Fused = fn(LoadStep) -> Op;
    for pc in 0..ops.len().saturating_sub(1) {
        let Some((first, Op::I32Add(add))) = adjacent(ops, target, pc) else {
            continue;
        };
        // An address from the accumulator is a local's (the add steps it
        // in place, so it is not a temporary), whose slot holds it too.
        let (load, fused, from_acc): (Load, Fused, bool) = match first {
            Op::I32Load(l) => (l, Op::I32LoadStep, false),
            Op::I32LoadAcc(l) => (l, Op::I32LoadStep, true),
            Op::I32Load8U(l) => (l, Op::I32Load8UStep, false),
            Op::I32Load8UAcc(l) => (l, Op::I32Load8UStep, true),
            _ => continue,
        };
        // The add reads the address from its slot, so the loaded value is
        // not its operand and `dead[pc]` cannot hold; checked all the same,
        // as a discarding twin would drop both writes. The fused
        // instruction reads the address from its slot: the slot must have
        // been written even where the load took it from the accumulator
        // (it is a local, so it was; checked as well).
        if dead[pc]
            || (from_acc && pc > 0 && dead[pc - 1])
            || add.dst != load.addr
            || add.lhs != load.addr
            || load.dst == load.addr
        {
            continue;
        }
        let Some(step) = constant(consts, first_const, add.rhs) else {
            continue;
        };
        ops[pc] = fused(LoadStep {
            dst: load.dst,
            addr: load.addr,
            offset: load.offset,
            step: step as u32,
        });
    }
}

/// Fuses each `i32.add` followed by a `Copy` of its result into an
/// `I32AddCopy` (see the module docs).
pub(super) fn fuse_add_copies(ops: &mut [Op], target: &[bool]) {
    for pc in 0..ops.len().saturating_sub(1) {
        let Some((Op::I32Add(add), Op::Copy { dst: copy, src })) = adjacent(ops, target, pc) else {
            continue;
        };
        if src != add.dst {
            continue;
        }
        ops[pc] = Op::I32AddCopy(AddCopy {
            dst: add.dst,
            lhs: add.lhs,
            rhs: add.rhs,
            copy,
            imm: 0,
        });
    }
}

/// Fuses each two consecutive `i32.add`s that step a slot by a constant
/// in place into an `I32AddPair` (see the module docs). `consts` are the
/// function's constants, in slots from `first_const`.
pub(super) fn fuse_add_pairs(ops: &mut [Op], target: &[bool], consts: &[u64], first_const: Slot) {
    let constant = |s: Slot| constant(consts, first_const, s).map(|c| c as u32);
    for pc in 0..ops.len().saturating_sub(1) {
        let Some((Op::I32Add(x), Op::I32Add(y))) = adjacent(ops, target, pc) else {
            continue;
        };
        if x.dst != x.lhs || y.dst != y.lhs {
            continue;
        }
        let (Some(step_a), Some(step_b)) = (constant(x.rhs), constant(y.rhs)) else {
            continue;
        };
        ops[pc] = Op::I32AddPair(AddPair {
            a: x.dst,
            b: y.dst,
            step_a,
            step_b,
        });
    }
}

/// Fuses each pair of consecutive `Copy`s into a `Copy2` (see the module
/// docs).
pub(super) fn fuse_copy_pairs(ops: &mut [Op], target: &[bool]) {
    for pc in 0..ops.len().saturating_sub(1) {
        // A `Copy` a `Copy2` already took is a leftover: no overlapping pairs.
        let Some((
            Op::Copy {
                dst: dst0,
                src: src0,
            },
            Op::Copy {
                dst: dst1,
                src: src1,
            },
        )) = adjacent(ops, target, pc)
        else {
            continue;
        };
        ops[pc] = Op::Copy2 {
            dst0,
            src0,
            dst1,
            src1,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::super::acc::branch_targets;
    use super::*;

    #[test]
    fn an_add_read_only_by_the_next_load_fuses_into_it() {
        let add = |dst, lhs, rhs| Op::I32Add(Bin::new(dst, lhs, rhs));
        let load = |dst, addr| {
            Op::I32Load8UAcc(Load {
                dst,
                addr,
                offset: 3,
            })
        };
        let mut ops = vec![add(9, 1, 2), load(9, 9), add(9, 1, 2), load(9, 9)];
        // The second sum is also read elsewhere.
        let mut dead = vec![true, false, false, true];
        fuse_address_adds(&mut ops, &mut dead);
        assert_eq!(
            ops[0],
            Op::I32Load8UIdx(LoadIdx {
                dst: 9,
                base: 1,
                index: 2,
                offset: 3
            })
        );
        assert_eq!(ops[1..], [load(9, 9), add(9, 1, 2), load(9, 9)]);
        assert_eq!(dead, [false, false, false, true]);
    }

    #[test]
    fn pairs_fuse_unless_a_branch_lands_between() {
        let copy = |dst, src| Op::Copy { dst, src };
        let mut ops = vec![
            copy(1, 0),
            copy(2, 1),
            // A branch lands on the next copy: it pairs with the one after.
            copy(3, 2),
            copy(4, 3),
            copy(5, 4),
            Op::br(-2),
        ];
        let target = branch_targets(&ops);
        fuse_copy_pairs(&mut ops, &target);
        assert_eq!(
            ops,
            [
                Op::Copy2 {
                    dst0: 1,
                    src0: 0,
                    dst1: 2,
                    src1: 1
                },
                copy(2, 1),
                copy(3, 2),
                Op::Copy2 {
                    dst0: 4,
                    src0: 3,
                    dst1: 5,
                    src1: 4
                },
                copy(5, 4),
                Op::br(-2),
            ]
        );
    }
}
