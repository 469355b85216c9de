//! Accumulator operands: the last step of translation.
//!
//! Most integer instructions leave the value they write in the executor's
//! accumulator register as well as in their slot (see
//! [`crate::bytecode`]). When the next instruction reads that slot, it can
//! take the value from the register instead: for `(a + b) * c`, the multiply
//! then does not wait for the sum to be stored and loaded again, which in
//! an interpreter whose operands all live in memory is a large part of the
//! cost of a chain of computations.
//!
//! The rewrite is a pass over the finished bytecode: an instruction is
//! replaced by its accumulator variant when the instruction before it sets
//! the accumulator, writes the slot the variant takes from it, and can only
//! be followed by it — i.e. the instruction is not a branch target. The
//! variant computes exactly what the base instruction does.
//!
//! The slot normally keeps being written. The pass also reports where that
//! write is dead — the slot is a temporary, and its one reader is the
//! variant, through the accumulator (see [`reads`]) — and the executor's
//! `assemble` then runs the producer without the write.

use crate::bytecode::{Acc, Bin, BrCmp, Op, Slot};

/// Rewrites the instructions of a function that can take an operand from
/// the accumulator (see the module docs). Returns, for each instruction,
/// whether its result slot is dead: a temporary (a slot from `first_temp`
/// on) that only the next instruction reads, from the accumulator.
/// `target` is [`branch_targets`] of `ops`.
pub(super) fn use_accumulator(ops: &mut [Op], first_temp: Slot, target: &[bool]) -> Vec<bool> {
    let mut dead = vec![false; ops.len()];
    for pc in 1..ops.len() {
        if target[pc] {
            continue;
        }
        if let Some((slot, acc)) = ops[pc - 1].acc_dst()
            && let Some(op) = match acc {
                Acc::Int => with_acc(ops[pc], slot),
                Acc::F32 | Acc::F64 => with_float_acc(ops[pc], slot, acc),
            }
        {
            ops[pc] = op;
            dead[pc - 1] = slot >= first_temp && reads(op, slot) == 1;
        }
    }
    dead
}

/// Which instructions of a finished function a branch may land on. The
/// passes after translation change no branch target (a fused branch
/// targets what the branch it absorbed did, and that branch stays as a
/// leftover), so one computation serves them all.
pub(super) fn branch_targets(ops: &[Op]) -> Vec<bool> {
    let mut target = vec![false; ops.len()];
    for (pc, op) in ops.iter().enumerate() {
        if let Some(offset) = op.branch_offset()
            && let Some(to) = pc.checked_add_signed(offset as isize)
            && let Some(t) = target.get_mut(to)
        {
            *t = true;
        }
    }
    target
}

/// How many of `op`'s operands are `slot` (its result slot aside).
///
/// A temporary lives at the home slot of its operand stack height and is
/// popped by the one instruction that reads it, so once that instruction
/// has taken it from the accumulator nothing reads the slot again before
/// the next value at that height overwrites it: the write is dead. (Values
/// a branch carries stay on the stack, but are read by `Copy`s, which do not
/// take operands from the accumulator.) Counting guards the one read.
fn reads(op: Op, slot: Slot) -> usize {
    let mut op = op;
    let dst = op.acc_dst().map(|(d, _)| d);
    let mut n = 0;
    op.map_slots(|s| {
        n += usize::from(s == slot);
        s
    });
    n - usize::from(dst == Some(slot))
}

/// The float accumulator variant of `op` taking the value of `slot` from
/// the `acc` accumulator, if it has one. The operands of arithmetic are
/// never swapped: which NaN an operation returns may depend on their order.
fn with_float_acc(op: Op, slot: Slot, acc: Acc) -> Option<Op> {
    let pick = |b: Bin, lhs: fn(Bin) -> Op, rhs: fn(Bin) -> Op| {
        if b.lhs == slot {
            Some(lhs(b))
        } else if b.rhs == slot {
            Some(rhs(b))
        } else {
            None
        }
    };
    // A comparison with `slot` on the right is the mirrored one with it on
    // the left (exact for floats too: both are false on NaN).
    let compare = |b: Bin, lhs: fn(Bin) -> Op, mirrored: fn(Bin) -> Op| {
        if b.lhs == slot {
            Some(lhs(b))
        } else if b.rhs == slot {
            Some(mirrored(swapped(b)))
        } else {
            None
        }
    };
    match (acc, op) {
        (Acc::F32, Op::F32Eq(b)) => compare(b, Op::F32EqAccL, Op::F32EqAccL),
        (Acc::F32, Op::F32Ne(b)) => compare(b, Op::F32NeAccL, Op::F32NeAccL),
        (Acc::F32, Op::F32Lt(b)) => compare(b, Op::F32LtAccL, Op::F32GtAccL),
        (Acc::F32, Op::F32Gt(b)) => compare(b, Op::F32GtAccL, Op::F32LtAccL),
        (Acc::F32, Op::F32Le(b)) => compare(b, Op::F32LeAccL, Op::F32GeAccL),
        (Acc::F32, Op::F32Ge(b)) => compare(b, Op::F32GeAccL, Op::F32LeAccL),
        (Acc::F64, Op::F64Eq(b)) => compare(b, Op::F64EqAccL, Op::F64EqAccL),
        (Acc::F64, Op::F64Ne(b)) => compare(b, Op::F64NeAccL, Op::F64NeAccL),
        (Acc::F64, Op::F64Lt(b)) => compare(b, Op::F64LtAccL, Op::F64GtAccL),
        (Acc::F64, Op::F64Gt(b)) => compare(b, Op::F64GtAccL, Op::F64LtAccL),
        (Acc::F64, Op::F64Le(b)) => compare(b, Op::F64LeAccL, Op::F64GeAccL),
        (Acc::F64, Op::F64Ge(b)) => compare(b, Op::F64GeAccL, Op::F64LeAccL),
        (Acc::F32, Op::F32Add(b)) => pick(b, Op::F32AddAccL, Op::F32AddAccR),
        (Acc::F32, Op::F32Sub(b)) => pick(b, Op::F32SubAccL, Op::F32SubAccR),
        (Acc::F32, Op::F32Mul(b)) => pick(b, Op::F32MulAccL, Op::F32MulAccR),
        (Acc::F32, Op::F32Div(b)) => pick(b, Op::F32DivAccL, Op::F32DivAccR),
        (Acc::F64, Op::F64Add(b)) => pick(b, Op::F64AddAccL, Op::F64AddAccR),
        (Acc::F64, Op::F64Sub(b)) => pick(b, Op::F64SubAccL, Op::F64SubAccR),
        (Acc::F64, Op::F64Mul(b)) => pick(b, Op::F64MulAccL, Op::F64MulAccR),
        (Acc::F64, Op::F64Div(b)) => pick(b, Op::F64DivAccL, Op::F64DivAccR),
        (Acc::F32, Op::F32Store(s)) if s.value == slot => Some(Op::F32StoreAccV(s)),
        (Acc::F64, Op::F64Store(s)) if s.value == slot => Some(Op::F64StoreAccV(s)),
        _ => None,
    }
}

/// `b` with its operands swapped.
fn swapped(b: Bin) -> Bin {
    Bin::new(b.dst, b.rhs, b.lhs)
}

/// `b` with its operands swapped.
fn swapped_cmp(b: BrCmp) -> BrCmp {
    BrCmp::new(b.rhs, b.lhs, b.offset)
}

/// The accumulator variant of `op` taking the value of `slot` from the
/// accumulator, if it has one. A commutative operation (or a comparison,
/// mirrored) has its operands swapped to put `slot` on the left.
fn with_acc(op: Op, slot: Slot) -> Option<Op> {
    // `slot` as the left operand, swapping if it is the right one.
    let either = |b: Bin, lhs: fn(Bin) -> Op, rhs: fn(Bin) -> Op| {
        if b.lhs == slot {
            Some(lhs(b))
        } else if b.rhs == slot {
            Some(rhs(swapped(b)))
        } else {
            None
        }
    };
    // `slot` as the left operand only.
    let left = |b: Bin, lhs: fn(Bin) -> Op| (b.lhs == slot).then(|| lhs(b));
    // `slot` as the right operand only.
    let right = |b: Bin, rhs: fn(Bin) -> Op| (b.rhs == slot).then(|| rhs(b));
    // A branch comparing `slot` with something, mirrored if on the right.
    let branch = |b: BrCmp, lhs: fn(BrCmp) -> Op, mirrored: fn(BrCmp) -> Op| {
        if b.lhs == slot {
            Some(lhs(b))
        } else if b.rhs == slot {
            Some(mirrored(swapped_cmp(b)))
        } else {
            None
        }
    };
    match op {
        Op::I32Add(b) => either(b, Op::I32AddAccL, Op::I32AddAccL),
        Op::I32Mul(b) => either(b, Op::I32MulAccL, Op::I32MulAccL),
        Op::I32And(b) => either(b, Op::I32AndAccL, Op::I32AndAccL),
        Op::I32Or(b) => either(b, Op::I32OrAccL, Op::I32OrAccL),
        Op::I32Xor(b) => either(b, Op::I32XorAccL, Op::I32XorAccL),
        Op::I32Eq(b) => either(b, Op::I32EqAccL, Op::I32EqAccL),
        Op::I32Ne(b) => either(b, Op::I32NeAccL, Op::I32NeAccL),
        Op::I32LtS(b) => either(b, Op::I32LtSAccL, Op::I32GtSAccL),
        Op::I32LtU(b) => either(b, Op::I32LtUAccL, Op::I32GtUAccL),
        Op::I32GtS(b) => either(b, Op::I32GtSAccL, Op::I32LtSAccL),
        Op::I32GtU(b) => either(b, Op::I32GtUAccL, Op::I32LtUAccL),
        Op::I32LeS(b) => either(b, Op::I32LeSAccL, Op::I32GeSAccL),
        Op::I32LeU(b) => either(b, Op::I32LeUAccL, Op::I32GeUAccL),
        Op::I32GeS(b) => either(b, Op::I32GeSAccL, Op::I32LeSAccL),
        Op::I32GeU(b) => either(b, Op::I32GeUAccL, Op::I32LeUAccL),
        Op::I32Sub(b) => left(b, Op::I32SubAccL).or_else(|| right(b, Op::I32SubAccR)),
        Op::I32Shl(b) => left(b, Op::I32ShlAccL).or_else(|| right(b, Op::I32ShlAccR)),
        Op::I32ShrS(b) => left(b, Op::I32ShrSAccL).or_else(|| right(b, Op::I32ShrSAccR)),
        Op::I32ShrU(b) => left(b, Op::I32ShrUAccL).or_else(|| right(b, Op::I32ShrUAccR)),
        Op::I32Rotl(b) => left(b, Op::I32RotlAccL),
        Op::I32Rotr(b) => left(b, Op::I32RotrAccL),
        Op::I32DivU(b) => left(b, Op::I32DivUAccL),
        Op::I32RemU(b) => left(b, Op::I32RemUAccL),
        Op::I64Add(b) => either(b, Op::I64AddAccL, Op::I64AddAccL),
        Op::I64Mul(b) => either(b, Op::I64MulAccL, Op::I64MulAccL),
        Op::I64And(b) => either(b, Op::I64AndAccL, Op::I64AndAccL),
        Op::I64Or(b) => either(b, Op::I64OrAccL, Op::I64OrAccL),
        Op::I64Xor(b) => either(b, Op::I64XorAccL, Op::I64XorAccL),
        Op::I64Sub(b) => left(b, Op::I64SubAccL).or_else(|| right(b, Op::I64SubAccR)),
        Op::I64Shl(b) => left(b, Op::I64ShlAccL).or_else(|| right(b, Op::I64ShlAccR)),
        Op::I64ShrU(b) => left(b, Op::I64ShrUAccL).or_else(|| right(b, Op::I64ShrUAccR)),
        Op::I64DivU(b) => left(b, Op::I64DivUAccL),
        Op::I64RemU(b) => left(b, Op::I64RemUAccL),
        Op::I32Eqz(u) if u.src == slot => Some(Op::I32EqzAcc(u)),
        Op::I64Eqz(u) if u.src == slot => Some(Op::I64EqzAcc(u)),
        Op::I32WrapI64(u) if u.src == slot => Some(Op::I32WrapI64Acc(u)),
        Op::I64ExtendI32S(u) if u.src == slot => Some(Op::I64ExtendI32SAcc(u)),
        Op::I64ExtendI32U(u) if u.src == slot => Some(Op::I64ExtendI32UAcc(u)),
        Op::I32Extend8S(u) if u.src == slot => Some(Op::I32Extend8SAcc(u)),
        Op::I32Extend16S(u) if u.src == slot => Some(Op::I32Extend16SAcc(u)),
        Op::F32ConvertI32S(u) if u.src == slot => Some(Op::F32ConvertI32SAcc(u)),
        Op::F64ConvertI32S(u) if u.src == slot => Some(Op::F64ConvertI32SAcc(u)),
        Op::I32Load(l) if l.addr == slot => Some(Op::I32LoadAcc(l)),
        Op::I64Load(l) if l.addr == slot => Some(Op::I64LoadAcc(l)),
        Op::F32Load(l) if l.addr == slot => Some(Op::F32LoadAcc(l)),
        Op::F64Load(l) if l.addr == slot => Some(Op::F64LoadAcc(l)),
        Op::I32Load8S(l) if l.addr == slot => Some(Op::I32Load8SAcc(l)),
        Op::I32Load8U(l) if l.addr == slot => Some(Op::I32Load8UAcc(l)),
        Op::I32Load16S(l) if l.addr == slot => Some(Op::I32Load16SAcc(l)),
        Op::I32Load16U(l) if l.addr == slot => Some(Op::I32Load16UAcc(l)),
        Op::I32Store(s) if s.value == slot => Some(Op::I32StoreAccV(s)),
        Op::I64Store(s) if s.value == slot => Some(Op::I64StoreAccV(s)),
        Op::I32Store8(s) if s.value == slot => Some(Op::I32Store8AccV(s)),
        Op::I32Store16(s) if s.value == slot => Some(Op::I32Store16AccV(s)),
        Op::I32Store(s) if s.addr == slot => Some(Op::I32StoreAccA(s)),
        Op::I64Store(s) if s.addr == slot => Some(Op::I64StoreAccA(s)),
        Op::F32Store(s) if s.addr == slot => Some(Op::F32StoreAccA(s)),
        Op::F64Store(s) if s.addr == slot => Some(Op::F64StoreAccA(s)),
        Op::I32Store8(s) if s.addr == slot => Some(Op::I32Store8AccA(s)),
        Op::BrIfNez { cond, offset } if cond == slot => Some(Op::BrIfNezAcc { cond, offset }),
        Op::BrIfEqz { cond, offset } if cond == slot => Some(Op::BrIfEqzAcc { cond, offset }),
        Op::BrTable { index, len } if index == slot => Some(Op::BrTableAcc { index, len }),
        Op::BrIfI32Eq(b) => branch(b, Op::BrIfI32EqAccL, Op::BrIfI32EqAccL),
        Op::BrIfI32Ne(b) => branch(b, Op::BrIfI32NeAccL, Op::BrIfI32NeAccL),
        Op::BrIfI32LtS(b) => branch(b, Op::BrIfI32LtSAccL, Op::BrIfI32GtSAccL),
        Op::BrIfI32LtU(b) => branch(b, Op::BrIfI32LtUAccL, Op::BrIfI32GtUAccL),
        Op::BrIfI32GtS(b) => branch(b, Op::BrIfI32GtSAccL, Op::BrIfI32LtSAccL),
        Op::BrIfI32GtU(b) => branch(b, Op::BrIfI32GtUAccL, Op::BrIfI32LtUAccL),
        Op::BrIfI32LeS(b) => branch(b, Op::BrIfI32LeSAccL, Op::BrIfI32GeSAccL),
        Op::BrIfI32LeU(b) => branch(b, Op::BrIfI32LeUAccL, Op::BrIfI32GeUAccL),
        Op::BrIfI32GeS(b) => branch(b, Op::BrIfI32GeSAccL, Op::BrIfI32LeSAccL),
        Op::BrIfI32GeU(b) => branch(b, Op::BrIfI32GeUAccL, Op::BrIfI32LeUAccL),
        Op::BrIfI64Eq(b) => branch(b, Op::BrIfI64EqAccL, Op::BrIfI64EqAccL),
        Op::BrIfI64Ne(b) => branch(b, Op::BrIfI64NeAccL, Op::BrIfI64NeAccL),
        Op::BrIfI32AndNez(b) => branch(b, Op::BrIfI32AndNezAccL, Op::BrIfI32AndNezAccL),
        Op::BrIfI32AndEqz(b) => branch(b, Op::BrIfI32AndEqzAccL, Op::BrIfI32AndEqzAccL),
        Op::BrIfI64AndNez(b) => branch(b, Op::BrIfI64AndNezAccL, Op::BrIfI64AndNezAccL),
        Op::BrIfI64AndEqz(b) => branch(b, Op::BrIfI64AndEqzAccL, Op::BrIfI64AndEqzAccL),
        _ => None,
    }
}

/// The base instruction of an accumulator variant (itself for any other
/// instruction): what it computes, for the tests' reference evaluator.
#[cfg(test)]
pub(crate) fn base_form(op: Op) -> Op {
    match op {
        Op::I32AddAccL(b) => Op::I32Add(b),
        Op::I32SubAccL(b) | Op::I32SubAccR(b) => Op::I32Sub(b),
        Op::I32MulAccL(b) => Op::I32Mul(b),
        Op::I32AndAccL(b) => Op::I32And(b),
        Op::I32OrAccL(b) => Op::I32Or(b),
        Op::I32XorAccL(b) => Op::I32Xor(b),
        Op::I32ShlAccL(b) | Op::I32ShlAccR(b) => Op::I32Shl(b),
        Op::I32ShrSAccL(b) | Op::I32ShrSAccR(b) => Op::I32ShrS(b),
        Op::I32ShrUAccL(b) | Op::I32ShrUAccR(b) => Op::I32ShrU(b),
        Op::I32RotlAccL(b) => Op::I32Rotl(b),
        Op::I32RotrAccL(b) => Op::I32Rotr(b),
        Op::I32DivUAccL(b) => Op::I32DivU(b),
        Op::I32RemUAccL(b) => Op::I32RemU(b),
        Op::I32EqAccL(b) => Op::I32Eq(b),
        Op::I32NeAccL(b) => Op::I32Ne(b),
        Op::I32LtSAccL(b) => Op::I32LtS(b),
        Op::I32LtUAccL(b) => Op::I32LtU(b),
        Op::I32GtSAccL(b) => Op::I32GtS(b),
        Op::I32GtUAccL(b) => Op::I32GtU(b),
        Op::I32LeSAccL(b) => Op::I32LeS(b),
        Op::I32LeUAccL(b) => Op::I32LeU(b),
        Op::I32GeSAccL(b) => Op::I32GeS(b),
        Op::I32GeUAccL(b) => Op::I32GeU(b),
        Op::I64AddAccL(b) => Op::I64Add(b),
        Op::I64SubAccL(b) | Op::I64SubAccR(b) => Op::I64Sub(b),
        Op::I64MulAccL(b) => Op::I64Mul(b),
        Op::I64AndAccL(b) => Op::I64And(b),
        Op::I64OrAccL(b) => Op::I64Or(b),
        Op::I64XorAccL(b) => Op::I64Xor(b),
        Op::I64ShlAccL(b) | Op::I64ShlAccR(b) => Op::I64Shl(b),
        Op::I64ShrUAccL(b) | Op::I64ShrUAccR(b) => Op::I64ShrU(b),
        Op::I64DivUAccL(b) => Op::I64DivU(b),
        Op::I64RemUAccL(b) => Op::I64RemU(b),
        Op::I32EqzAcc(u) => Op::I32Eqz(u),
        Op::I64EqzAcc(u) => Op::I64Eqz(u),
        Op::I32WrapI64Acc(u) => Op::I32WrapI64(u),
        Op::I64ExtendI32SAcc(u) => Op::I64ExtendI32S(u),
        Op::I64ExtendI32UAcc(u) => Op::I64ExtendI32U(u),
        Op::I32Extend8SAcc(u) => Op::I32Extend8S(u),
        Op::I32Extend16SAcc(u) => Op::I32Extend16S(u),
        Op::F32ConvertI32SAcc(u) => Op::F32ConvertI32S(u),
        Op::F64ConvertI32SAcc(u) => Op::F64ConvertI32S(u),
        Op::I32LoadAcc(l) => Op::I32Load(l),
        Op::I64LoadAcc(l) => Op::I64Load(l),
        Op::F32LoadAcc(l) => Op::F32Load(l),
        Op::F64LoadAcc(l) => Op::F64Load(l),
        Op::I32Load8SAcc(l) => Op::I32Load8S(l),
        Op::I32Load8UAcc(l) => Op::I32Load8U(l),
        Op::I32Load16SAcc(l) => Op::I32Load16S(l),
        Op::I32Load16UAcc(l) => Op::I32Load16U(l),
        Op::I32StoreAccV(s) | Op::I32StoreAccA(s) => Op::I32Store(s),
        Op::I64StoreAccV(s) | Op::I64StoreAccA(s) => Op::I64Store(s),
        Op::I32Store8AccV(s) | Op::I32Store8AccA(s) => Op::I32Store8(s),
        Op::I32Store16AccV(s) => Op::I32Store16(s),
        Op::F32StoreAccA(s) => Op::F32Store(s),
        Op::F64StoreAccA(s) => Op::F64Store(s),
        Op::BrIfNezAcc { cond, offset } => Op::BrIfNez { cond, offset },
        Op::BrIfEqzAcc { cond, offset } => Op::BrIfEqz { cond, offset },
        Op::BrTableAcc { index, len } => Op::BrTable { index, len },
        Op::BrIfI32EqAccL(b) => Op::BrIfI32Eq(b),
        Op::BrIfI32NeAccL(b) => Op::BrIfI32Ne(b),
        Op::BrIfI32LtSAccL(b) => Op::BrIfI32LtS(b),
        Op::BrIfI32LtUAccL(b) => Op::BrIfI32LtU(b),
        Op::BrIfI32GtSAccL(b) => Op::BrIfI32GtS(b),
        Op::BrIfI32GtUAccL(b) => Op::BrIfI32GtU(b),
        Op::BrIfI32LeSAccL(b) => Op::BrIfI32LeS(b),
        Op::BrIfI32LeUAccL(b) => Op::BrIfI32LeU(b),
        Op::BrIfI32GeSAccL(b) => Op::BrIfI32GeS(b),
        Op::BrIfI32GeUAccL(b) => Op::BrIfI32GeU(b),
        Op::BrIfI64EqAccL(b) => Op::BrIfI64Eq(b),
        Op::I32ShlAddAccL(s) => Op::I32ShlAdd(s),
        Op::I32MulAddAccL(m) => Op::I32MulAdd(m),
        Op::I32XorShlAccL(x) => Op::I32XorShl(x),
        Op::I32XorShrUAccL(x) => Op::I32XorShrU(x),
        Op::BrIfI64NeAccL(b) => Op::BrIfI64Ne(b),
        Op::BrIfI32AndNezAccL(b) => Op::BrIfI32AndNez(b),
        Op::BrIfI32AndEqzAccL(b) => Op::BrIfI32AndEqz(b),
        Op::BrIfI64AndNezAccL(b) => Op::BrIfI64AndNez(b),
        Op::BrIfI64AndEqzAccL(b) => Op::BrIfI64AndEqz(b),
        Op::F32AddAccL(b) | Op::F32AddAccR(b) => Op::F32Add(b),
        Op::F32SubAccL(b) | Op::F32SubAccR(b) => Op::F32Sub(b),
        Op::F32MulAccL(b) | Op::F32MulAccR(b) => Op::F32Mul(b),
        Op::F32DivAccL(b) | Op::F32DivAccR(b) => Op::F32Div(b),
        Op::F64AddAccL(b) | Op::F64AddAccR(b) => Op::F64Add(b),
        Op::F64SubAccL(b) | Op::F64SubAccR(b) => Op::F64Sub(b),
        Op::F64MulAccL(b) | Op::F64MulAccR(b) => Op::F64Mul(b),
        Op::F64DivAccL(b) | Op::F64DivAccR(b) => Op::F64Div(b),
        Op::F32EqAccL(b) => Op::F32Eq(b),
        Op::F32NeAccL(b) => Op::F32Ne(b),
        Op::F32LtAccL(b) => Op::F32Lt(b),
        Op::F32GtAccL(b) => Op::F32Gt(b),
        Op::F32LeAccL(b) => Op::F32Le(b),
        Op::F32GeAccL(b) => Op::F32Ge(b),
        Op::F64EqAccL(b) => Op::F64Eq(b),
        Op::F64NeAccL(b) => Op::F64Ne(b),
        Op::F64LtAccL(b) => Op::F64Lt(b),
        Op::F64GtAccL(b) => Op::F64Gt(b),
        Op::F64LeAccL(b) => Op::F64Le(b),
        Op::F64GeAccL(b) => Op::F64Ge(b),
        Op::F32StoreAccV(s) => Op::F32Store(s),
        Op::F64StoreAccV(s) => Op::F64Store(s),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytecode::{Load, Un};

    fn bin(dst: Slot, lhs: Slot, rhs: Slot) -> Bin {
        Bin::new(dst, lhs, rhs)
    }

    /// The pass on `ops` (temporaries from slot 5), with its own targets.
    fn pass(ops: &mut [Op]) -> Vec<bool> {
        let target = branch_targets(ops);
        use_accumulator(ops, 5, &target)
    }

    fn rewritten(mut ops: Vec<Op>) -> Vec<Op> {
        pass(&mut ops);
        ops
    }

    #[test]
    fn results_only_the_next_instruction_reads_are_dead() {
        // Temporaries start at slot 5. (a + b) * c, then a load from the
        // product, then a branch on the loaded value: each result is
        // consumed from the accumulator by the next instruction alone.
        let mut chain = vec![
            Op::I32Add(bin(5, 0, 1)),
            Op::I32Mul(bin(5, 5, 2)),
            Op::I32Load(Load {
                dst: 6,
                addr: 5,
                offset: 4,
            }),
            Op::BrIfNez { cond: 6, offset: 1 },
            Op::Return,
        ];
        assert_eq!(pass(&mut chain), [true, true, true, false, false]);
        let mut kept = vec![
            // A local (below slot 5) lives on after its next reader.
            Op::I32Add(bin(4, 0, 1)),
            Op::I32Mul(bin(5, 4, 2)),
            // A temporary the next instruction reads twice (once from its
            // slot) must be written.
            Op::I32Add(bin(6, 5, 1)),
            Op::I32Mul(bin(7, 6, 6)),
            Op::Return,
        ];
        assert_eq!(pass(&mut kept), [false, true, false, false, false]);
        assert_eq!(kept[3], Op::I32MulAccL(bin(7, 6, 6)));
    }

    #[test]
    fn chains_read_the_accumulator() {
        // (a + b) * c, then a load from the product, then a branch on it.
        assert_eq!(
            rewritten(vec![
                Op::I32Add(bin(5, 0, 1)),
                Op::I32Mul(bin(5, 5, 2)),
                Op::I32Load(Load {
                    dst: 6,
                    addr: 5,
                    offset: 4
                }),
                Op::BrIfNez {
                    cond: 6,
                    offset: -3
                },
                Op::Return,
            ]),
            [
                Op::I32Add(bin(5, 0, 1)),
                Op::I32MulAccL(bin(5, 5, 2)),
                Op::I32LoadAcc(Load {
                    dst: 6,
                    addr: 5,
                    offset: 4
                }),
                Op::BrIfNezAcc {
                    cond: 6,
                    offset: -3
                },
                Op::Return,
            ]
        );
    }

    #[test]
    fn commutative_operations_swap_and_comparisons_mirror() {
        assert_eq!(
            rewritten(vec![
                Op::Copy { dst: 3, src: 0 },
                Op::I32Xor(bin(4, 1, 3)),
                Op::I32LtU(bin(5, 2, 4)),
                Op::I32Sub(bin(6, 2, 5)),
            ]),
            [
                Op::Copy { dst: 3, src: 0 },
                Op::I32XorAccL(bin(4, 3, 1)),
                Op::I32GtUAccL(bin(5, 4, 2)),
                Op::I32SubAccR(bin(6, 2, 5)),
            ]
        );
    }

    #[test]
    fn only_straight_line_successors_of_setters() {
        let ops = vec![
            // A branch target: may be reached from the branch below.
            Op::I32Add(bin(5, 0, 1)),
            Op::I32Add(bin(5, 5, 1)),
            // Not after a setter of the accumulator.
            Op::F32Add(bin(7, 5, 5)),
            Op::I32Eqz(Un { dst: 8, src: 7 }),
            // After a setter, but reading another slot.
            Op::I32Eqz(Un { dst: 9, src: 1 }),
            Op::BrIfEqz {
                cond: 9,
                offset: -5,
            },
        ];
        let out = rewritten(ops.clone());
        assert_eq!(out[1], Op::I32AddAccL(bin(5, 5, 1)));
        assert_eq!(out[2..5], ops[2..5]);
        assert_eq!(
            out[5],
            Op::BrIfEqzAcc {
                cond: 9,
                offset: -5
            }
        );
        // The same chain at a branch target is left alone.
        let mut target = ops.clone();
        target.push(Op::br(-5));
        assert_eq!(rewritten(target)[1], ops[1]);
    }

    #[test]
    fn every_variant_has_its_base() {
        let b = bin(5, 5, 5);
        for op in [
            Op::I32Add(b),
            Op::I32Sub(b),
            Op::I64Shl(b),
            Op::I32LeU(b),
            Op::BrIfI32GtS(BrCmp::new(5, 5, 1)),
        ] {
            let acc = with_acc(op, 5).expect("has a variant");
            assert_ne!(acc, op);
            assert_eq!(base_form(acc), op);
        }
    }
}
