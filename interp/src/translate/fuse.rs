//! Folding a comparison into the conditional branch that consumes it.
//!
//! `i32.lt_s; br_if` (and `if`) would be a compare writing a slot and a
//! branch reading it: two dispatches and a round trip through memory. When
//! the comparison is the last instruction emitted and produced the condition,
//! it is taken back out and the branch compares its operands itself
//! (`BrIfI32LtS`). An `if` branches when the condition is *false*, so it uses
//! the negated comparison — exact for integers, which is why float
//! comparisons (false on NaN either way) are never folded.

use super::Translator;
use super::stack::Entry;
use crate::bytecode::{Bin, BrCmp, Op, Slot, Un};

/// An integer comparison that a branch can perform itself.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Cmp {
    I32Eq,
    I32Ne,
    I32LtS,
    I32LtU,
    I32GtS,
    I32GtU,
    I32LeS,
    I32LeU,
    I32GeS,
    I32GeU,
    I64Eq,
    I64Ne,
    I64LtS,
    I64LtU,
    I64GtS,
    I64GtU,
    I64LeS,
    I64LeU,
    I64GeS,
    I64GeU,
    /// `lhs & rhs != 0` (a bit test).
    I32AndNez,
    /// `lhs & rhs == 0`.
    I32AndEqz,
    /// `lhs & rhs != 0`, 64-bit.
    I64AndNez,
    /// `lhs & rhs == 0`, 64-bit.
    I64AndEqz,
}

impl Cmp {
    /// The comparison that holds exactly when `self` does not.
    fn negate(self) -> Cmp {
        use Cmp::*;
        match self {
            I32Eq => I32Ne,
            I32Ne => I32Eq,
            I32LtS => I32GeS,
            I32LtU => I32GeU,
            I32GtS => I32LeS,
            I32GtU => I32LeU,
            I32LeS => I32GtS,
            I32LeU => I32GtU,
            I32GeS => I32LtS,
            I32GeU => I32LtU,
            I64Eq => I64Ne,
            I64Ne => I64Eq,
            I64LtS => I64GeS,
            I64LtU => I64GeU,
            I64GtS => I64LeS,
            I64GtU => I64LeU,
            I64LeS => I64GtS,
            I64LeU => I64GtU,
            I64GeS => I64LtS,
            I64GeU => I64LtU,
            I32AndNez => I32AndEqz,
            I32AndEqz => I32AndNez,
            I64AndNez => I64AndEqz,
            I64AndEqz => I64AndNez,
        }
    }

    /// The fused branch taken when the comparison holds.
    fn branch(self, b: BrCmp) -> Op {
        use Cmp::*;
        match self {
            I32Eq => Op::BrIfI32Eq(b),
            I32Ne => Op::BrIfI32Ne(b),
            I32LtS => Op::BrIfI32LtS(b),
            I32LtU => Op::BrIfI32LtU(b),
            I32GtS => Op::BrIfI32GtS(b),
            I32GtU => Op::BrIfI32GtU(b),
            I32LeS => Op::BrIfI32LeS(b),
            I32LeU => Op::BrIfI32LeU(b),
            I32GeS => Op::BrIfI32GeS(b),
            I32GeU => Op::BrIfI32GeU(b),
            I64Eq => Op::BrIfI64Eq(b),
            I64Ne => Op::BrIfI64Ne(b),
            I64LtS => Op::BrIfI64LtS(b),
            I64LtU => Op::BrIfI64LtU(b),
            I64GtS => Op::BrIfI64GtS(b),
            I64GtU => Op::BrIfI64GtU(b),
            I64LeS => Op::BrIfI64LeS(b),
            I64LeU => Op::BrIfI64LeU(b),
            I64GeS => Op::BrIfI64GeS(b),
            I64GeU => Op::BrIfI64GeU(b),
            I32AndNez => Op::BrIfI32AndNez(b),
            I32AndEqz => Op::BrIfI32AndEqz(b),
            I64AndNez => Op::BrIfI64AndNez(b),
            I64AndEqz => Op::BrIfI64AndEqz(b),
        }
    }
}

/// The condition of a conditional branch.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Cond {
    /// The `i32` in this slot is non-zero.
    Nez(Slot),
    /// The `i32` in this slot is zero (a folded `i32.eqz`).
    Eqz(Slot),
    /// A folded integer comparison of two slots.
    Cmp(Cmp, Slot, Slot),
}

impl Cond {
    /// The branch to `offset` taken when the condition is `when`.
    pub(super) fn branch(self, when: bool, offset: i32) -> Op {
        match (self, when) {
            (Cond::Nez(cond), true) | (Cond::Eqz(cond), false) => Op::BrIfNez { cond, offset },
            (Cond::Nez(cond), false) | (Cond::Eqz(cond), true) => Op::BrIfEqz { cond, offset },
            (Cond::Cmp(cmp, lhs, rhs), when) => {
                let cmp = if when { cmp } else { cmp.negate() };
                cmp.branch(BrCmp::new(lhs, rhs, offset))
            }
        }
    }
}

/// The condition `op` computes, if a branch can compute it instead.
fn foldable(op: &Op) -> Option<Cond> {
    let cmp = |cmp, b: &Bin| Some(Cond::Cmp(cmp, b.lhs, b.rhs));
    match op {
        Op::I32Eqz(Un { src, .. }) => Some(Cond::Eqz(*src)),
        Op::I32Eq(b) => cmp(Cmp::I32Eq, b),
        Op::I32Ne(b) => cmp(Cmp::I32Ne, b),
        Op::I32LtS(b) => cmp(Cmp::I32LtS, b),
        Op::I32LtU(b) => cmp(Cmp::I32LtU, b),
        Op::I32GtS(b) => cmp(Cmp::I32GtS, b),
        Op::I32GtU(b) => cmp(Cmp::I32GtU, b),
        Op::I32LeS(b) => cmp(Cmp::I32LeS, b),
        Op::I32LeU(b) => cmp(Cmp::I32LeU, b),
        Op::I32GeS(b) => cmp(Cmp::I32GeS, b),
        Op::I32GeU(b) => cmp(Cmp::I32GeU, b),
        Op::I64Eq(b) => cmp(Cmp::I64Eq, b),
        Op::I64Ne(b) => cmp(Cmp::I64Ne, b),
        Op::I64LtS(b) => cmp(Cmp::I64LtS, b),
        Op::I64LtU(b) => cmp(Cmp::I64LtU, b),
        Op::I64GtS(b) => cmp(Cmp::I64GtS, b),
        Op::I64GtU(b) => cmp(Cmp::I64GtU, b),
        Op::I64LeS(b) => cmp(Cmp::I64LeS, b),
        Op::I64LeU(b) => cmp(Cmp::I64LeU, b),
        Op::I64GeS(b) => cmp(Cmp::I64GeS, b),
        Op::I64GeU(b) => cmp(Cmp::I64GeU, b),
        // An `i32` condition is "non-zero": `i32.and; br_if` tests bits.
        Op::I32And(b) => cmp(Cmp::I32AndNez, b),
        _ => None,
    }
}

impl Translator<'_> {
    /// Pops a branch condition. If the comparison that computed it is the
    /// last instruction emitted (and nothing else can observe its result),
    /// that instruction — with the `and` before it, for an `eqz` testing
    /// one — is removed and its comparison returned, for the branch to
    /// perform.
    pub(super) fn pop_cond(&mut self) -> anyhow::Result<Cond> {
        let top = self.stack.height().wrapping_sub(1);
        // The last instruction, if it computed the condition alone.
        let last = self.fusable.filter(|&(pc, height)| {
            height == top && pc + 1 == self.ops.len() && self.stack.get(top) == Some(Entry::Temp)
        });
        if let Some((pc, _)) = last {
            // `and; eqz` (the `and` emitted right before, its result the
            // temporary the `eqz` consumed) takes back both instructions;
            // a comparison, just itself.
            let folded = match self.and_tested_by_eqz(pc, top) {
                Some(cond) => Some((cond, pc - 1)),
                None => match self.ops[pc] {
                    // `i64.eqz` is a comparison with 0, from the pool (and
                    // so an immediate once assembled).
                    Op::I64Eqz(Un { src, .. }) => self
                        .const_slot(0)
                        .map(|zero| Cond::Cmp(Cmp::I64Eq, src, zero)),
                    ref op => foldable(op),
                }
                .map(|cond| (cond, pc)),
            };
            if let Some((cond, from)) = folded {
                self.ops.truncate(from);
                self.fusable = None;
                self.fusable_before = None;
                self.pop_entry()?;
                return Ok(cond);
            }
        }
        Ok(Cond::Nez(self.pop_slot()?))
    }

    /// If the `eqz` at `pc` (the last instruction, its result the `Temp` at
    /// `top`) tests the result of an `and` emitted right before it into the
    /// same height's home slot — the `and` was then the fusion candidate,
    /// so no label lies between them and nothing else reads its result —
    /// the bit test the pair computes.
    fn and_tested_by_eqz(&self, pc: usize, top: usize) -> Option<Cond> {
        let (and_pc, height) = self.fusable_before?;
        if and_pc + 1 != pc || height != top {
            return None;
        }
        let temp = self.home(top);
        let (and, cmp) = match (self.ops[and_pc], self.ops[pc]) {
            (Op::I32And(b), Op::I32Eqz(Un { src, .. })) if src == temp => (b, Cmp::I32AndEqz),
            (Op::I64And(b), Op::I64Eqz(Un { src, .. })) if src == temp => (b, Cmp::I64AndEqz),
            _ => return None,
        };
        (and.dst == temp).then_some(Cond::Cmp(cmp, and.lhs, and.rhs))
    }
}
