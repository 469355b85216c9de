//! Branches: `br`, `br_if`, `br_table`, `return` and `unreachable`.
//!
//! A branch delivers the values its label carries into the label's slots
//! (the home slots from the target frame's `base`) and jumps; everything
//! below them is already in home slots (see [`super::control`]). Values are
//! moved in ascending order, which is safe because a label's slots are never
//! above the values being carried. A branch to the function's outermost
//! label is a return: results go to slots `0..n` and `Return` executes.

use super::Translator;
use super::control::NONE;
use super::stack::Entry;
use crate::bytecode::{Op, Slot};
use crate::vm::TrapCode;
use anyhow::Context as _;
use wasmparser::{BinaryReaderError, BrTable};

/// Every target of a `br_table`, the default last.
fn all_targets<'b>(
    table: &'b BrTable<'_>,
) -> impl Iterator<Item = Result<u32, BinaryReaderError>> + 'b {
    table.targets().chain(core::iter::once(Ok(table.default())))
}

impl Translator<'_> {
    /// The index in `self.control` of the frame relative depth `depth` names.
    #[inline]
    fn label_frame(&self, depth: u32) -> anyhow::Result<usize> {
        (self.control.len().checked_sub(1))
            .and_then(|top| top.checked_sub(depth as usize))
            .with_context(|| format!("unknown label {depth}"))
    }

    /// The rest of the block is dead.
    #[inline]
    fn terminate(&mut self) {
        self.reachable = false;
        self.fusable = None;
    }

    /// `unreachable`.
    pub(super) fn unreachable(&mut self) {
        self.emit(Op::Trap {
            code: TrapCode::UnreachableCodeReached,
        });
        self.terminate();
    }

    /// `br`.
    pub(super) fn br(&mut self, depth: u32) -> anyhow::Result<()> {
        let target = self.label_frame(depth)?;
        if target == 0 {
            return self.return_();
        }
        let frame = self.control[target];
        let n = frame.arity();
        let src = self
            .stack
            .height()
            .checked_sub(n)
            .context("operand stack underflow")?;
        // The stack is dead after this, so carried values go straight to the
        // label's slots, without passing through their own home slots.
        self.move_carried(src, frame.base, n);
        self.jump(target, Op::br)?;
        self.terminate();
        Ok(())
    }

    /// `br_if`.
    pub(super) fn br_if(&mut self, depth: u32) -> anyhow::Result<()> {
        let cond = self.pop_cond()?;
        self.fusable = None;
        let target = self.label_frame(depth)?;
        let frame = self.control[target];
        let n = frame.arity();
        let src = self
            .stack
            .height()
            .checked_sub(n)
            .context("operand stack underflow")?;
        if target != 0 && (n == 0 || frame.base == src) {
            // The carried values are already at the label's heights: once in
            // their home slots (for both paths), a single branch does it.
            self.flush_top(n);
            return self.jump(target, |offset| cond.branch(true, offset));
        }
        // Values must move, on the taken path only.
        let skip = self.pc()?;
        self.emit(cond.branch(false, 0));
        if target == 0 {
            self.move_results(src);
            self.emit(Op::Return);
        } else {
            self.move_carried(src, frame.base, n);
            self.jump(target, Op::br)?;
        }
        self.patch(skip)
    }

    /// `br_table`: the entries whose label needs values moved jump to a stub
    /// (one per label) emitted after the table, which moves and branches.
    pub(super) fn br_table(&mut self, table: BrTable<'_>) -> anyhow::Result<()> {
        let index = self.pop_slot()?;
        self.fusable = None;
        let default = self.label_frame(table.default())?;
        self.flush_top(self.control[default].arity());
        let height = self.stack.height();

        let table_pc = self.emit(Op::BrTable {
            index,
            len: table.len(),
        });
        let mut need_stubs = false;
        for depth in all_targets(&table) {
            let target = self.label_frame(depth?)?;
            if self.is_direct(target, height) {
                self.jump(target, Op::br)?;
            } else {
                self.emit(Op::br(0));
                need_stubs = true;
            }
        }
        if need_stubs {
            self.stubs.clear();
            self.stubs.resize(self.control.len(), NONE);
            for (i, depth) in all_targets(&table).enumerate() {
                let target = self.label_frame(depth?)?;
                if self.is_direct(target, height) {
                    continue;
                }
                if self.stubs[target] == NONE {
                    self.stubs[target] = self.ops.len() as u32;
                    self.emit_stub(target, height)?;
                }
                let entry = table_pc + 1 + i;
                let offset =
                    i32::try_from(self.stubs[target] as usize - entry).context("branch too far")?;
                self.ops[entry] = Op::br(offset);
            }
        }
        self.terminate();
        Ok(())
    }

    /// Whether a `br_table` entry can jump straight to frame `target`'s
    /// label with the stack at `height` (flushed): no values to move.
    fn is_direct(&self, target: usize, height: usize) -> bool {
        let frame = &self.control[target];
        let n = frame.arity();
        target != 0 && (n == 0 || frame.base + n == height)
    }

    /// A `br_table` stub: move the carried values, then branch or return.
    fn emit_stub(&mut self, target: usize, height: usize) -> anyhow::Result<()> {
        let frame = self.control[target];
        let n = frame.arity();
        let src = height.checked_sub(n).context("operand stack underflow")?;
        if target == 0 {
            self.move_results(src);
            self.emit(Op::Return);
            Ok(())
        } else {
            self.move_carried(src, frame.base, n);
            self.jump(target, Op::br)
        }
    }

    /// `return` (and the function's final `end`).
    pub(super) fn return_(&mut self) -> anyhow::Result<()> {
        let n = self.num_results;
        let src = self
            .stack
            .height()
            .checked_sub(n)
            .context("operand stack underflow")?;
        // A single result computed by the last instruction is written to
        // slot 0 directly.
        let fused =
            n == 1 && self.stack.get(src) == Some(Entry::Temp) && self.retarget_last(src, 0);
        if !fused {
            self.move_results(src);
        }
        self.emit(Op::Return);
        self.terminate();
        Ok(())
    }

    /// Emits the moves of the `n` values from height `src` into the label
    /// slots from height `dst` (`dst <= src`). The virtual stack is unchanged.
    fn move_carried(&mut self, src: usize, dst: usize, n: usize) {
        for i in 0..n {
            let entry = self.stack.get(src + i).unwrap_or(Entry::Temp);
            let slot = self.home(dst + i);
            self.put(entry, src + i, slot);
        }
    }

    /// Emits the moves of the function's results, from height `src`, into
    /// slots `0..num_results`. The virtual stack is unchanged.
    ///
    /// Results overwrite params/locals, which pending `local.get`s may still
    /// have to read: value `j` reading local `y < j` would see slot `y`
    /// after it received result `y`, so such values are first copied to
    /// their home slots (above every result slot).
    pub(super) fn move_results(&mut self, src: usize) {
        let n = self.num_results;
        for j in 0..n {
            if let Some(Entry::Local(y)) = self.stack.get(src + j)
                && usize::from(y) < j
            {
                let home = self.home(src + j);
                self.emit(Op::Copy { dst: home, src: y });
            }
        }
        for i in 0..n {
            let entry = match self.stack.get(src + i) {
                Some(Entry::Local(y)) if usize::from(y) < i => Entry::Temp,
                Some(entry) => entry,
                None => Entry::Temp,
            };
            self.put(entry, src + i, i as Slot);
        }
    }
}
