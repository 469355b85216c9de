//! Control frames, labels and forward-branch patching: `block`, `loop`,
//! `if`, `else`, `end`.
//!
//! Every frame's label carries its values in the home slots starting at the
//! frame's `base` height (params for a loop, results otherwise). At entry
//! the virtual stack is flushed, so everything below `base` stays in home
//! slots for the whole frame and any path to the label only has to deliver
//! the carried values.
//!
//! A forward branch does not know its offset when emitted. Instead of a
//! patch list per frame, the unresolved branches to one label form a chain
//! through their own offset fields (each holds the index of the previous
//! unresolved branch, or -1), headed by the frame's `label`. Binding the
//! label walks the chain and writes the real offsets: no allocation.

use super::{RegionStart, Translator};
use crate::bytecode::Op;
use anyhow::{Context as _, anyhow, bail};
use wasmparser::BlockType;

/// No branch site / no label yet.
pub(super) const NONE: u32 = u32::MAX;

/// What opened a control frame.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum FrameKind {
    /// The function body; branches to it return.
    Func,
    /// `block`.
    Block,
    /// `loop`: its label is its start.
    Loop,
    /// `if` whose `else` has not been seen.
    If,
    /// `if` after its `else`.
    Else,
}

/// An open control frame.
#[derive(Copy, Clone, Debug)]
pub(super) struct ControlFrame {
    pub(super) kind: FrameKind,
    /// Stack height where the frame's params (and later results) start.
    pub(super) base: usize,
    pub(super) params: usize,
    pub(super) results: usize,
    /// `Loop`: index of the loop's first instruction. Otherwise: the head of
    /// the chain of unresolved branches to the frame's end, or [`NONE`].
    pub(super) label: u32,
    /// `If`: the `BrIfEqz` that skips the then-arm, to patch at `else` or
    /// `end`; [`NONE`] otherwise.
    pub(super) else_site: u32,
}

impl ControlFrame {
    /// The frame of the function body.
    pub(super) fn function(results: usize) -> Self {
        ControlFrame {
            kind: FrameKind::Func,
            base: 0,
            params: 0,
            results,
            label: NONE,
            else_site: NONE,
        }
    }

    /// How many values a branch to this frame's label carries.
    #[inline]
    pub(super) fn arity(&self) -> usize {
        if self.kind == FrameKind::Loop {
            self.params
        } else {
            self.results
        }
    }
}

/// Swaps the offset of branch instruction `op`, returning the old one.
#[inline]
fn replace_offset(op: &mut Op, new: i32) -> Option<i32> {
    op.branch_offset_mut()
        .map(|offset| core::mem::replace(offset, new))
}

impl Translator<'_> {
    /// `(params, results)` of a block type.
    fn block_arity(&self, ty: BlockType) -> anyhow::Result<(usize, usize)> {
        Ok(match ty {
            BlockType::Empty => (0, 0),
            BlockType::Type(_) => (0, 1),
            BlockType::FuncType(index) => {
                let ty = self
                    .types
                    .types
                    .get(index as usize)
                    .with_context(|| format!("unknown type {index}"))?;
                (ty.params().len(), ty.results().len())
            }
        })
    }

    /// Pushes a frame whose params are the top `params` (flushed) entries.
    fn open(&mut self, kind: FrameKind, ty: BlockType, else_site: u32) -> anyhow::Result<()> {
        let (params, results) = self.block_arity(ty)?;
        let base = self
            .stack
            .height()
            .checked_sub(params)
            .context("operand stack underflow")?;
        let label = if kind == FrameKind::Loop {
            self.pc()?
        } else {
            NONE
        };
        self.control.push(ControlFrame {
            kind,
            base,
            params,
            results,
            label,
            else_site,
        });
        Ok(())
    }

    /// The index of the next instruction, as a label.
    #[inline]
    pub(super) fn pc(&self) -> anyhow::Result<u32> {
        u32::try_from(self.ops.len())
            .ok()
            .filter(|&pc| pc != NONE)
            .context("function too large")
    }

    /// `block`.
    pub(super) fn block(&mut self, ty: BlockType) -> anyhow::Result<()> {
        self.flush();
        self.fusable = None;
        self.open(FrameKind::Block, ty, NONE)
    }

    /// `loop`.
    pub(super) fn loop_(&mut self, ty: BlockType) -> anyhow::Result<()> {
        self.flush();
        self.fusable = None;
        self.open(FrameKind::Loop, ty, NONE)?;
        // Back-edges land on the label recorded by `open`: the tier-up
        // count, the epoch check and the fuel charge below run on every
        // iteration.
        let index = self.loops;
        self.loops += 1;
        self.start_region(RegionStart::Loop(index));
        Ok(())
    }

    /// `if`: a `BrIfEqz` over the then-arm, patched at `else`/`end`.
    pub(super) fn if_(&mut self, ty: BlockType) -> anyhow::Result<()> {
        let cond = self.pop_cond()?;
        self.flush();
        self.fusable = None;
        let site = self.pc()?;
        self.emit(cond.branch(false, 0));
        self.open(FrameKind::If, ty, site)
    }

    /// `else`.
    pub(super) fn else_(&mut self) -> anyhow::Result<()> {
        let top = self
            .control
            .len()
            .checked_sub(1)
            .context("`else` outside any block")?;
        let frame = self.control[top];
        if frame.kind != FrameKind::If {
            bail!("`else` outside an `if`");
        }
        if self.reachable {
            // The then-arm's results go to the label slots, then to the end.
            self.flush();
            self.jump(top, Op::br)?;
        }
        self.patch(frame.else_site)?;
        self.start_region(RegionStart::Label);
        let frame = &mut self.control[top];
        frame.kind = FrameKind::Else;
        frame.else_site = NONE;
        self.stack.reset(frame.base, frame.params);
        self.reachable = true;
        self.fusable = None;
        Ok(())
    }

    /// `end` of the innermost frame (the function's last `end` returns).
    pub(super) fn end(&mut self) -> anyhow::Result<()> {
        let frame = self.control.pop().context("`end` outside any block")?;
        match frame.kind {
            FrameKind::Func => {
                if self.reachable {
                    self.return_()?;
                }
                self.reachable = false;
            }
            // Nothing branches to a loop's end: its values stay virtual.
            FrameKind::Loop => {}
            FrameKind::Block | FrameKind::If | FrameKind::Else => {
                if frame.label == NONE && frame.else_site == NONE {
                    // Reached by fallthrough only (if at all): the stack
                    // stays as it is, virtual entries included.
                    return Ok(());
                }
                if self.reachable {
                    // A merge point: the fallthrough's results go to the
                    // label's slots like every branch's.
                    self.flush();
                }
                self.bind(frame.label)?;
                self.patch(frame.else_site)?;
                self.start_region(RegionStart::Label);
                self.stack.reset(frame.base, frame.results);
                self.reachable = true;
                self.fusable = None;
            }
        }
        Ok(())
    }

    /// Emits a branch (built by `make` from its offset) to the label of
    /// control frame `frame` (an index into `self.control`).
    pub(super) fn jump(
        &mut self,
        frame: usize,
        make: impl FnOnce(i32) -> Op,
    ) -> anyhow::Result<()> {
        let pc = self.pc()?;
        let frame = self.control.get_mut(frame).context("unknown label")?;
        let offset = if frame.kind == FrameKind::Loop {
            i32::try_from(i64::from(frame.label) - i64::from(pc)).context("branch too far")?
        } else {
            // Link into the frame's chain of unresolved branches.
            let previous = frame.label;
            frame.label = pc;
            if previous == NONE {
                -1
            } else {
                previous as i32
            }
        };
        self.emit(make(offset));
        Ok(())
    }

    /// Resolves a chain of forward branches to the next instruction.
    fn bind(&mut self, mut site: u32) -> anyhow::Result<()> {
        let pc = self.pc()?;
        while site != NONE {
            let distance = pc.checked_sub(site).context("bad branch chain")?;
            let offset = i32::try_from(distance).context("branch too far")?;
            let op = self
                .ops
                .get_mut(site as usize)
                .context("bad branch chain")?;
            let previous = replace_offset(op, offset).context("bad branch chain")?;
            // Links always point backwards, so the walk terminates.
            site = match u32::try_from(previous) {
                Ok(previous) if previous < site => previous,
                Ok(_) => return Err(anyhow!("bad branch chain")),
                Err(_) => NONE,
            };
        }
        Ok(())
    }

    /// Points the single branch at `site` (if any) to the next instruction.
    pub(super) fn patch(&mut self, site: u32) -> anyhow::Result<()> {
        if site == NONE {
            return Ok(());
        }
        let pc = self.pc()?;
        let offset = i32::try_from(pc.checked_sub(site).context("bad branch site")?)
            .context("branch too far")?;
        let op = self.ops.get_mut(site as usize).context("bad branch site")?;
        replace_offset(op, offset).context("bad branch site")?;
        Ok(())
    }
}
