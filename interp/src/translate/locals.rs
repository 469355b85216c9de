//! `local.get`, `local.set`, `local.tee`, and the fusion that makes
//! register-style code out of them.
//!
//! `local.get` only pushes a reference to the local. `local.set x` then has
//! two duties: any still-pending `local.get x` on the stack must keep the
//! *old* value (so those entries are copied to their home slots first), and
//! the new value must reach slot `x`, preferably by retargeting the `dst` of
//! the instruction that just computed it rather than by a `Copy`.

use super::Translator;
use super::stack::Entry;
use crate::bytecode::{Bin, Load, Op, Slot, Un};
use anyhow::bail;

/// The result slot of `op` if it writes exactly one slot and nothing else
/// (the instructions `local.set` may retarget).
fn single_dst(op: &mut Op) -> Option<&mut Slot> {
    macro_rules! single_dst {
        (bin: [$($b:ident)*] un: [$($u:ident)*] load: [$($l:ident)*] other: [$($o:ident)*]) => {
            match op {
                $(Op::$b(Bin { dst, .. }))|*
                | $(Op::$u(Un { dst, .. }))|*
                | $(Op::$l(Load { dst, .. }))|*
                | $(Op::$o { dst, .. })|* => Some(dst),
                _ => None,
            }
        };
    }
    single_dst! {
        bin: [
            I32Eq I32Ne I32LtS I32LtU I32GtS I32GtU I32LeS I32LeU I32GeS I32GeU I32Add I32Sub I32Mul
            I32DivS I32DivU I32RemS I32RemU I32And I32Or I32Xor I32Shl I32ShrS I32ShrU I32Rotl I32Rotr
            I64Eq I64Ne I64LtS I64LtU I64GtS I64GtU I64LeS I64LeU I64GeS I64GeU I64Add I64Sub I64Mul
            I64DivS I64DivU I64RemS I64RemU I64And I64Or I64Xor I64Shl I64ShrS I64ShrU I64Rotl I64Rotr
            F32Eq F32Ne F32Lt F32Gt F32Le F32Ge F32Add F32Sub F32Mul F32Div F32Min F32Max F32Copysign
            F64Eq F64Ne F64Lt F64Gt F64Le F64Ge F64Add F64Sub F64Mul F64Div F64Min F64Max F64Copysign
        ]
        un: [
            I32Eqz I32Clz I32Ctz I32Popcnt I64Eqz I64Clz I64Ctz I64Popcnt
            F32Abs F32Neg F32Ceil F32Floor F32Trunc F32Nearest F32Sqrt
            F64Abs F64Neg F64Ceil F64Floor F64Trunc F64Nearest F64Sqrt
            I32WrapI64 I32TruncF32S I32TruncF32U I32TruncF64S I32TruncF64U I64ExtendI32S I64ExtendI32U
            I64TruncF32S I64TruncF32U I64TruncF64S I64TruncF64U F32ConvertI32S F32ConvertI32U
            F32ConvertI64S F32ConvertI64U F32DemoteF64 F64ConvertI32S F64ConvertI32U F64ConvertI64S
            F64ConvertI64U F64PromoteF32 I32Extend8S I32Extend16S I64Extend8S I64Extend16S I64Extend32S
            I32TruncSatF32S I32TruncSatF32U I32TruncSatF64S I32TruncSatF64U I64TruncSatF32S
            I64TruncSatF32U I64TruncSatF64S I64TruncSatF64U
        ]
        load: [
            I32Load I64Load F32Load F64Load I32Load8S I32Load8U I32Load16S I32Load16U
            I64Load8S I64Load8U I64Load16S I64Load16U I64Load32S I64Load32U
        ]
        other: [
            Copy Const32 Const64 Select GlobalGet RefFunc MemorySize MemoryGrow TableGet TableSize TableGrow
        ]
    }
}

impl Translator<'_> {
    /// The slot of local `index`.
    #[inline]
    fn local_slot(&self, index: u32) -> anyhow::Result<Slot> {
        if (index as usize) < self.num_locals {
            Ok(index as Slot)
        } else {
            bail!("unknown local {index}")
        }
    }

    /// `local.get`: a pending reference, no instruction.
    #[inline]
    pub(super) fn local_get(&mut self, index: u32) -> anyhow::Result<()> {
        let slot = self.local_slot(index)?;
        self.stack.push(Entry::Local(slot));
        Ok(())
    }

    /// `local.set` (`tee == false`) and `local.tee`.
    pub(super) fn local_set(&mut self, index: u32, tee: bool) -> anyhow::Result<()> {
        let local = self.local_slot(index)?;
        let entry = self.pop_entry()?;
        let h = self.stack.height();
        // `local.get x; local.set x` changes nothing.
        if entry != Entry::Local(local) {
            if entry == Entry::Temp && self.stack.has_pending_locals() && self.retargetable(h) {
                // Pending `local.get x`s must be copied before the producer
                // writes `x`: take the producer out, emit the copies, put it
                // back. It reads only its operands (at heights from `h` up,
                // or locals and constants) and the copies write home slots
                // below `h` and read `x`, so the order does not matter to
                // either; and a label bound at the producer's index (where
                // pending `local.get`s can only come from after the label)
                // now leads to the copies, which every path needs.
                let producer = self.ops.pop().expect("a retargetable producer is last");
                self.preserve_local(local);
                let pc = self.emit(producer);
                self.fusable = Some((pc, h));
                self.fusable_before = None;
            } else {
                self.preserve_local(local);
            }
            if entry != Entry::Temp || !self.retarget_last(h, local) {
                self.put(entry, h, local);
            }
        }
        self.fusable = None;
        if tee {
            self.stack.push(Entry::Local(local));
        }
        Ok(())
    }

    /// Copies every pending `local.get` of `local` to its home slot, before
    /// the local is overwritten.
    fn preserve_local(&mut self, local: Slot) {
        if !self.stack.has_pending_locals() {
            return;
        }
        for h in self.stack.unflushed() {
            if self.stack.get(h) == Some(Entry::Local(local)) {
                let home = self.home(h);
                self.emit(Op::Copy {
                    dst: home,
                    src: local,
                });
                self.stack.set_temp(h);
            }
        }
    }

    /// Whether the last instruction emitted computed the `Temp` at height
    /// `h` and nothing else (what [`retarget_last`](Self::retarget_last)
    /// needs).
    fn retargetable(&mut self, h: usize) -> bool {
        match self.fusable {
            Some((pc, height)) if height == h && pc + 1 == self.ops.len() => {
                single_dst(&mut self.ops[pc]).is_some()
            }
            _ => false,
        }
    }

    /// If the last instruction emitted computed the `Temp` at height `h`
    /// and nothing else, makes it write `dst` instead and returns true.
    pub(super) fn retarget_last(&mut self, h: usize, dst: Slot) -> bool {
        let retarget = self.retargetable(h);
        self.fusable = None;
        if retarget && let Some(slot) = self.ops.last_mut().and_then(single_dst) {
            *slot = dst;
        }
        retarget
    }
}
