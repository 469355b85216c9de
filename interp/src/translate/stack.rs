//! The virtual operand stack and materialisation of its entries.
//!
//! The wasm operand stack is tracked at translation time only. Entry `h`
//! (height `h`, 0-based) "lives" in home slot `stack_start + h`, but it may not
//! be there yet: a `local.get` stays a reference to the local and a constant
//! stays a constant until something needs it in a slot. This is what lets
//! instructions read locals directly and write constants straight to their
//! destination.

use super::Translator;
use crate::bytecode::{Op, Slot};
use anyhow::anyhow;

/// Where the value of a virtual stack entry is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Entry {
    /// In its home slot.
    Temp,
    /// In this local's slot (a `local.get` not copied yet).
    Local(Slot),
    /// Not materialised: the constant's bits, and whether it is 64-bit.
    Const {
        /// The value (zero-extended for 32-bit constants).
        bits: u64,
        /// `i64`/`f64`/reference (`Const64`) rather than `i32`/`f32` (`Const32`).
        wide: bool,
    },
}

/// The virtual operand stack of the function being translated.
#[derive(Debug, Default)]
pub(super) struct ValueStack {
    entries: Vec<Entry>,
    /// How many entries are `Local`; `local.set` scans only when non-zero.
    pending_locals: usize,
    /// Every entry below this index is a `Temp` (flushes start here).
    clean: usize,
    /// The highest height reached: the frame needs that many operand slots.
    max_height: usize,
}

impl ValueStack {
    /// Current height.
    #[inline]
    pub(super) fn height(&self) -> usize {
        self.entries.len()
    }

    /// Highest height reached so far.
    #[inline]
    pub(super) fn max_height(&self) -> usize {
        self.max_height
    }

    /// Whether any entry is a pending `Local`.
    #[inline]
    pub(super) fn has_pending_locals(&self) -> bool {
        self.pending_locals != 0
    }

    /// The heights that may hold entries other than `Temp`.
    #[inline]
    pub(super) fn unflushed(&self) -> core::ops::Range<usize> {
        self.clean..self.entries.len()
    }

    /// The entry at height `h`, if any.
    #[inline]
    pub(super) fn get(&self, h: usize) -> Option<Entry> {
        self.entries.get(h).copied()
    }

    /// Pushes an entry.
    #[inline]
    pub(super) fn push(&mut self, entry: Entry) {
        if let Entry::Local(_) = entry {
            self.pending_locals += 1;
        }
        self.entries.push(entry);
        if self.entries.len() > self.max_height {
            self.max_height = self.entries.len();
        }
    }

    /// Pops the top entry; `None` on underflow (only for invalid code).
    #[inline]
    pub(super) fn pop(&mut self) -> Option<Entry> {
        let entry = self.entries.pop()?;
        if let Entry::Local(_) = entry {
            self.pending_locals -= 1;
        }
        if self.clean > self.entries.len() {
            self.clean = self.entries.len();
        }
        Some(entry)
    }

    /// Records that the entry at `h` now sits in its home slot.
    #[inline]
    pub(super) fn set_temp(&mut self, h: usize) {
        if let Some(entry) = self.entries.get_mut(h) {
            if let Entry::Local(_) = *entry {
                self.pending_locals -= 1;
            }
            *entry = Entry::Temp;
        }
    }

    /// Drops everything above height `h`.
    pub(super) fn truncate(&mut self, h: usize) {
        if h >= self.entries.len() {
            return;
        }
        let removed = self.entries[h..]
            .iter()
            .filter(|e| matches!(e, Entry::Local(_)))
            .count();
        self.pending_locals -= removed;
        self.entries.truncate(h);
        if self.clean > h {
            self.clean = h;
        }
    }

    /// Makes the stack `base` entries (already in home slots, as at every
    /// label) plus `n` new `Temp`s: the shape at a label with `n` values.
    pub(super) fn reset(&mut self, base: usize, n: usize) {
        self.truncate(base);
        // Only invalid code can leave fewer than `base` entries.
        self.entries.resize(base, Entry::Temp);
        for _ in 0..n {
            self.push(Entry::Temp);
        }
    }
}

impl Translator<'_> {
    /// Emits what puts the value of `entry` (at height `h`) into `dst`;
    /// nothing if it is already there.
    #[inline]
    pub(super) fn put(&mut self, entry: Entry, h: usize, dst: Slot) {
        let op = match entry {
            Entry::Temp => {
                let src = self.home(h);
                if src == dst {
                    return;
                }
                Op::Copy { dst, src }
            }
            Entry::Local(src) => {
                if src == dst {
                    return;
                }
                Op::Copy { dst, src }
            }
            Entry::Const { bits, wide: true } => Op::Const64 { dst, value: bits },
            Entry::Const { bits, wide: false } => Op::Const32 {
                dst,
                value: bits as u32,
            },
        };
        self.emit(op);
    }

    /// Materialises the entry at height `h` in its home slot.
    #[inline]
    fn materialize(&mut self, h: usize) {
        if let Some(entry) = self.stack.get(h)
            && entry != Entry::Temp
        {
            let home = self.home(h);
            self.put(entry, h, home);
            self.stack.set_temp(h);
        }
    }

    /// Materialises every entry: afterwards the whole stack is `Temp`s.
    pub(super) fn flush(&mut self) {
        let height = self.stack.height();
        for h in self.stack.clean..height {
            self.materialize(h);
        }
        self.stack.clean = height;
    }

    /// Materialises the top `n` entries (call arguments, carried values).
    pub(super) fn flush_top(&mut self, n: usize) {
        let height = self.stack.height();
        let start = height.saturating_sub(n);
        for h in start.max(self.stack.clean)..height {
            self.materialize(h);
        }
        if start <= self.stack.clean {
            self.stack.clean = height;
        }
    }

    /// Pops the top entry as an operand: the slot to read it from
    /// (materialising a constant in its home slot first).
    #[inline]
    pub(super) fn pop_slot(&mut self) -> anyhow::Result<Slot> {
        let entry = self.pop_entry()?;
        let h = self.stack.height();
        Ok(match entry {
            Entry::Temp => self.home(h),
            Entry::Local(slot) => slot,
            Entry::Const { bits, .. } => match self.const_slot(bits) {
                Some(slot) => slot,
                None => {
                    let home = self.home(h);
                    self.put(entry, h, home);
                    home
                }
            },
        })
    }

    /// Pops the top entry itself.
    #[inline]
    pub(super) fn pop_entry(&mut self) -> anyhow::Result<Entry> {
        self.stack
            .pop()
            .ok_or_else(|| anyhow!("operand stack underflow"))
    }

    /// Pushes a `Temp` for an instruction's result, returning its slot.
    #[inline]
    pub(super) fn push_result(&mut self) -> Slot {
        let slot = self.home(self.stack.height());
        self.stack.push(Entry::Temp);
        slot
    }

    /// Emits `op`, which writes only the `Temp` on top of the stack, and
    /// records it as the candidate for `local.set` fusion.
    #[inline]
    pub(super) fn emit_result(&mut self, op: Op) {
        let pc = self.emit(op);
        self.fusable_before = self.fusable;
        self.fusable = Some((pc, self.stack.height().saturating_sub(1)));
    }
}
