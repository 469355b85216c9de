//! Straight-line operators: numeric, parametric, globals, memory, tables
//! and calls.
//!
//! Operands are popped as slots (a pending `local.get` is read in place, a
//! constant is materialised in its home slot) and results are pushed as
//! `Temp`s written by the instruction itself, which is then the candidate
//! for `local.set` fusion.

use super::Translator;
use super::stack::Entry;
use crate::bytecode::{Bin, Load, Op, Store, Un};
use anyhow::{Context as _, bail};
use wasmparser::{MemArg, MemArgTarget};

impl Translator<'_> {
    /// A unary instruction: `dst = OP src`.
    #[inline]
    pub(super) fn unary(&mut self, make: impl FnOnce(Un) -> Op) -> anyhow::Result<()> {
        let src = self.pop_slot()?;
        let dst = self.push_result();
        self.emit_result(make(Un { dst, src }));
        Ok(())
    }

    /// A binary instruction: `dst = lhs OP rhs`.
    #[inline]
    pub(super) fn binary(&mut self, make: impl FnOnce(Bin) -> Op) -> anyhow::Result<()> {
        let rhs = self.pop_slot()?;
        let lhs = self.pop_slot()?;
        let dst = self.push_result();
        self.emit_result(make(Bin::new(dst, lhs, rhs)));
        Ok(())
    }

    /// A constant: nothing is emitted until it is needed somewhere.
    #[inline]
    pub(super) fn constant(&mut self, bits: u64, wide: bool) {
        self.stack.push(Entry::Const { bits, wide });
    }

    /// `drop`.
    #[inline]
    pub(super) fn drop_(&mut self) -> anyhow::Result<()> {
        self.pop_entry()?;
        Ok(())
    }

    /// `select` and typed `select`.
    pub(super) fn select(&mut self) -> anyhow::Result<()> {
        let cond = self.pop_slot()?;
        let if_false = self.pop_slot()?;
        let if_true = self.pop_slot()?;
        let dst = self.push_result();
        self.emit_result(Op::Select {
            dst,
            cond,
            if_true,
            if_false,
        });
        Ok(())
    }

    /// `global.get`.
    pub(super) fn global_get(&mut self, global: u32) {
        let dst = self.push_result();
        self.emit_result(Op::GlobalGet { dst, global });
    }

    /// `global.set`.
    pub(super) fn global_set(&mut self, global: u32) -> anyhow::Result<()> {
        let src = self.pop_slot()?;
        self.emit(Op::GlobalSet { src, global });
        Ok(())
    }

    /// `ref.func`.
    pub(super) fn ref_func(&mut self, func: u32) {
        let dst = self.push_result();
        self.emit_result(Op::RefFunc { dst, func });
    }

    /// The static offset of a memory access (memory 0, 32-bit offsets only).
    #[inline]
    fn mem_offset(memarg: &MemArg) -> anyhow::Result<u32> {
        match memarg.target {
            MemArgTarget::Memory(memory) => Self::memory0(memory)?,
            MemArgTarget::Array(_) => bail!("array memory accesses are not supported"),
        }
        if memarg.ordering.is_some() {
            bail!("atomic memory orderings are not supported");
        }
        u32::try_from(memarg.offset)
            .with_context(|| format!("memory offset {} does not fit 32 bits", memarg.offset))
    }

    /// Rejects memories other than 0 (multi-memory is not in Wasm 2.0).
    #[inline]
    fn memory0(memory: u32) -> anyhow::Result<()> {
        if memory != 0 {
            bail!("memory {memory} is not supported: Kiln supports one memory");
        }
        Ok(())
    }

    /// A load: `dst = mem[addr + offset]`.
    #[inline]
    pub(super) fn load(
        &mut self,
        memarg: MemArg,
        make: impl FnOnce(Load) -> Op,
    ) -> anyhow::Result<()> {
        let offset = Self::mem_offset(&memarg)?;
        let addr = self.pop_slot()?;
        let dst = self.push_result();
        self.emit_result(make(Load { dst, addr, offset }));
        Ok(())
    }

    /// A store: `mem[addr + offset] = value`.
    #[inline]
    pub(super) fn store(
        &mut self,
        memarg: MemArg,
        make: impl FnOnce(Store) -> Op,
    ) -> anyhow::Result<()> {
        let offset = Self::mem_offset(&memarg)?;
        let value = self.pop_slot()?;
        let addr = self.pop_slot()?;
        self.emit(make(Store {
            addr,
            value,
            offset,
        }));
        Ok(())
    }

    /// `memory.size`.
    pub(super) fn memory_size(&mut self, memory: u32) {
        let dst = self.push_result();
        self.emit_result(Op::MemorySize { dst, memory });
    }

    /// `memory.grow`.
    pub(super) fn memory_grow(&mut self, memory: u32) -> anyhow::Result<()> {
        let delta = self.pop_slot()?;
        let dst = self.push_result();
        self.emit_result(Op::MemoryGrow { dst, delta, memory });
        Ok(())
    }

    /// Pops the three operands `(dst, src_or_value, len)` of a bulk
    /// operation, `len` being on top.
    fn pop3(&mut self) -> anyhow::Result<(u16, u16, u16)> {
        let len = self.pop_slot()?;
        let middle = self.pop_slot()?;
        let first = self.pop_slot()?;
        Ok((first, middle, len))
    }

    /// `memory.fill`.
    pub(super) fn memory_fill(&mut self, memory: u32) -> anyhow::Result<()> {
        Self::memory0(memory)?;
        let (dst, value, len) = self.pop3()?;
        self.emit(Op::MemoryFill { dst, value, len });
        Ok(())
    }

    /// `memory.copy`.
    pub(super) fn memory_copy(&mut self, dst_mem: u32, src_mem: u32) -> anyhow::Result<()> {
        Self::memory0(dst_mem)?;
        Self::memory0(src_mem)?;
        let (dst, src, len) = self.pop3()?;
        self.emit(Op::MemoryCopy { dst, src, len });
        Ok(())
    }

    /// `memory.init`.
    pub(super) fn memory_init(&mut self, data: u32, memory: u32) -> anyhow::Result<()> {
        Self::memory0(memory)?;
        let (dst, src, len) = self.pop3()?;
        self.emit(Op::MemoryInit {
            data,
            dst,
            src,
            len,
        });
        Ok(())
    }

    /// `table.get`.
    pub(super) fn table_get(&mut self, table: u32) -> anyhow::Result<()> {
        let index = self.pop_slot()?;
        let dst = self.push_result();
        self.emit_result(Op::TableGet { dst, index, table });
        Ok(())
    }

    /// `table.set`.
    pub(super) fn table_set(&mut self, table: u32) -> anyhow::Result<()> {
        let value = self.pop_slot()?;
        let index = self.pop_slot()?;
        self.emit(Op::TableSet {
            index,
            value,
            table,
        });
        Ok(())
    }

    /// `table.size`.
    pub(super) fn table_size(&mut self, table: u32) {
        let dst = self.push_result();
        self.emit_result(Op::TableSize { dst, table });
    }

    /// `table.grow`: `(init, delta)` with `delta` on top.
    pub(super) fn table_grow(&mut self, table: u32) -> anyhow::Result<()> {
        let delta = self.pop_slot()?;
        let init = self.pop_slot()?;
        let dst = self.push_result();
        self.emit_result(Op::TableGrow {
            dst,
            init,
            delta,
            table,
        });
        Ok(())
    }

    /// `table.fill`.
    pub(super) fn table_fill(&mut self, table: u32) -> anyhow::Result<()> {
        let (dst, value, len) = self.pop3()?;
        self.emit(Op::TableFill {
            table,
            dst,
            value,
            len,
        });
        Ok(())
    }

    /// `table.copy`.
    pub(super) fn table_copy(&mut self, dst_table: u32, src_table: u32) -> anyhow::Result<()> {
        let (dst, src, len) = self.pop3()?;
        self.emit(Op::TableCopy {
            dst_table,
            src_table,
            dst,
            src,
            len,
        });
        Ok(())
    }

    /// `table.init`.
    pub(super) fn table_init(&mut self, elem: u32, table: u32) -> anyhow::Result<()> {
        let (dst, src, len) = self.pop3()?;
        self.emit(Op::TableInit {
            table,
            elem,
            dst,
            src,
            len,
        });
        Ok(())
    }

    /// Prepares a call with `params` arguments on top of the stack: puts
    /// them in their home slots and returns the frame base of the callee.
    ///
    /// Only the arguments are materialised: the callee's frame starts at
    /// `base`, so pending entries below cannot be affected by the call.
    fn call_args(&mut self, params: usize) -> anyhow::Result<u16> {
        let base = self
            .stack
            .height()
            .checked_sub(params)
            .context("operand stack underflow")?;
        self.flush_top(params);
        self.stack.truncate(base);
        Ok(self.home(base))
    }

    /// Pushes the `Temp`s a call leaves at its base.
    fn call_results(&mut self, results: usize) {
        for _ in 0..results {
            self.stack.push(Entry::Temp);
        }
        self.fusable = None;
    }

    /// `call`.
    pub(super) fn call(&mut self, func: u32) -> anyhow::Result<()> {
        let ty = self
            .types
            .funcs
            .get(func as usize)
            .and_then(|&ty| self.types.types.get(ty as usize))
            .with_context(|| format!("unknown function {func}"))?;
        let (params, results) = (ty.params().len(), ty.results().len());
        let base = self.call_args(params)?;
        self.emit(Op::Call { func, base });
        self.call_results(results);
        Ok(())
    }

    /// `call_indirect`: the element index is on top, above the arguments.
    pub(super) fn call_indirect(&mut self, type_index: u32, table: u32) -> anyhow::Result<()> {
        let ty = self
            .types
            .types
            .get(type_index as usize)
            .with_context(|| format!("unknown type {type_index}"))?;
        let (params, results) = (ty.params().len(), ty.results().len());
        let index = self.pop_slot()?;
        let base = self.call_args(params)?;
        self.emit(Op::CallIndirect {
            type_index,
            table,
            index,
            base,
        });
        self.call_results(results);
        Ok(())
    }
}
