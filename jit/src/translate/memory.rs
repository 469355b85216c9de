//! Linear memory: loads and stores with explicit bounds checks,
//! `memory.size`, `memory.grow`, and the bulk operations (through the
//! builtins, which share their semantics with the interpreter).
//!
//! Memory 0's base and length live in SSA variables, reloaded from its
//! `VMMemoryDefinition` after anything that may move or grow it (a call,
//! `memory.grow`), so a loop's accesses keep them in registers. An access of
//! `size` bytes at `addr + offset` is allowed when
//! `addr + offset + size <= length`, computed in 64 bits where it cannot
//! overflow (`addr` and `offset` are both below 2^32) — or, when the
//! memory's minimum size already covers `offset + size`, as
//! `addr <= length - (offset + size)`, whose right side is loop-invariant.
//! An access at an address value already checked for at least its reach on
//! every path to it (`C[i] += x` loads and stores the same address) is not
//! checked again; that knowledge is dropped at every block that other paths
//! can enter and whenever memory 0 is reloaded.

use super::{MemoryVars, Translator, heap_flags, vm_flags};
use crate::Unsupported;
use crate::abi::PTR;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, Type, Value, types};
use kiln_vm::{TrapCode, VMBuiltins};
use wasmparser::{MemArg, MemArgTarget, Operator};

/// How a load extends its bytes into its result.
#[derive(Copy, Clone)]
enum Ext {
    /// A full-width load of the result type.
    None,
    /// Sign-extends the loaded bytes.
    Signed,
    /// Zero-extends the loaded bytes.
    Unsigned,
}

impl Translator<'_, '_> {
    /// Reloads memory 0's base and length into their variables (the bounds
    /// checks made against the old length no longer count).
    pub(super) fn reload_memory(&mut self) {
        self.checked.clear();
        if let Some(m) = self.memory {
            let base = self.b.ins().load(PTR, vm_flags(), m.def, 0);
            let len = self.b.ins().load(PTR, vm_flags(), m.def, 8);
            self.b.def_var(m.base, base);
            self.b.def_var(m.len, len);
            for v in [base, len] {
                let inst = self.b.func.dfg.value_def(v).unwrap_inst();
                self.memory_loads.push(inst);
            }
        }
    }

    /// Memory 0's view, for an instruction that reads its base or length.
    fn memory_view(&mut self, index: u32) -> Result<MemoryVars, Unsupported> {
        let m = self.memory_vars(index)?;
        self.memory_read = true;
        Ok(m)
    }

    /// Memory `index`, which must be memory 0 (Wasm 2.0 has at most one).
    fn memory_vars(&self, index: u32) -> Result<MemoryVars, Unsupported> {
        match self.memory {
            Some(m) if index == 0 => Ok(m),
            _ => Err(Unsupported(format!("memory {index}"))),
        }
    }

    /// Pops an address and bounds-checks an access of `size` bytes at it
    /// plus `memarg`'s offset; returns the host address and the offset to
    /// put in the load or store instruction.
    fn access(&mut self, memarg: &MemArg, size: u64) -> Result<(Value, i32), Unsupported> {
        let memory = match memarg.target {
            MemArgTarget::Memory(index) => index,
            MemArgTarget::Array(_) => return Err(Unsupported("GC array accesses".into())),
        };
        if memarg.ordering.is_some() {
            return Err(Unsupported("atomic orderings".into()));
        }
        let m = self.memory_view(memory)?;
        let wasm_addr = self.pop();
        let addr = self.b.ins().uextend(types::I64, wasm_addr);
        let reach = memarg.offset + size;
        let base = self.b.use_var(m.base);
        let at = self.b.ins().iadd(base, addr);
        let at = match i32::try_from(memarg.offset) {
            Ok(offset) => (at, offset),
            Err(_) => (self.b.ins().iadd_imm_u(at, memarg.offset as i64), 0),
        };
        if self
            .checked
            .iter()
            .any(|&(a, r)| a == wasm_addr && r >= reach)
        {
            // Checked already on every path here (`a + r` fits), for the
            // same memory length.
            return Ok(at);
        }
        let len = self.b.use_var(m.len);
        let minimum = self.env.memory_minimums.get(memory as usize).copied();
        let out = if minimum.is_some_and(|min| reach <= min) {
            // `len >= reach` always, so `len - reach` cannot wrap; it is the
            // same value for every access of this size and offset until the
            // memory grows, so Cranelift computes it once (and out of loops
            // that make no call): each access costs a compare and a branch.
            let last = self.b.ins().iadd_imm_s(len, -(reach as i64));
            self.b.ins().icmp(IntCC::UnsignedGreaterThan, addr, last)
        } else {
            let end = self.b.ins().iadd_imm_u(addr, reach as i64);
            self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, len)
        };
        self.trap_if(out, TrapCode::MemoryOutOfBounds);
        // A few recent addresses are enough for `x[i] op= y` patterns and
        // keep the lookup short in long straight-line code.
        if self.checked.len() == 16 {
            self.checked.remove(0);
        }
        self.checked.push((wasm_addr, reach));
        Ok(at)
    }

    /// A load operator.
    pub(super) fn load(&mut self, op: &Operator<'_>) -> Result<(), Unsupported> {
        use Ext::*;
        use Operator as O;
        let (memarg, ty, bytes, extend) = match op {
            O::I32Load { memarg } => (memarg, types::I32, 4, None),
            O::I64Load { memarg } => (memarg, types::I64, 8, None),
            O::F32Load { memarg } => (memarg, types::F32, 4, None),
            O::F64Load { memarg } => (memarg, types::F64, 8, None),
            O::I32Load8S { memarg } => (memarg, types::I32, 1, Signed),
            O::I32Load8U { memarg } => (memarg, types::I32, 1, Unsigned),
            O::I32Load16S { memarg } => (memarg, types::I32, 2, Signed),
            O::I32Load16U { memarg } => (memarg, types::I32, 2, Unsigned),
            O::I64Load8S { memarg } => (memarg, types::I64, 1, Signed),
            O::I64Load8U { memarg } => (memarg, types::I64, 1, Unsigned),
            O::I64Load16S { memarg } => (memarg, types::I64, 2, Signed),
            O::I64Load16U { memarg } => (memarg, types::I64, 2, Unsigned),
            O::I64Load32S { memarg } => (memarg, types::I64, 4, Signed),
            O::I64Load32U { memarg } => (memarg, types::I64, 4, Unsigned),
            other => return Err(Unsupported(format!("{other:?} as a load"))),
        };
        let (at, offset) = self.access(memarg, bytes)?;
        let flags = heap_flags();
        let ins = self.b.ins();
        let v = match (extend, bytes) {
            (None, _) => ins.load(ty, flags, at, offset),
            (Signed, 1) => ins.sload8(ty, flags, at, offset),
            (Unsigned, 1) => ins.uload8(ty, flags, at, offset),
            (Signed, 2) => ins.sload16(ty, flags, at, offset),
            (Unsigned, 2) => ins.uload16(ty, flags, at, offset),
            (Signed, _) => ins.sload32(flags, at, offset),
            (Unsigned, _) => ins.uload32(flags, at, offset),
        };
        self.push(v);
        Ok(())
    }

    /// A store operator.
    pub(super) fn store(&mut self, op: &Operator<'_>) -> Result<(), Unsupported> {
        use Operator as O;
        let (memarg, bytes) = match op {
            O::I32Store { memarg } | O::F32Store { memarg } => (memarg, 4),
            O::I64Store { memarg } | O::F64Store { memarg } => (memarg, 8),
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => (memarg, 1),
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => (memarg, 2),
            O::I64Store32 { memarg } => (memarg, 4),
            other => return Err(Unsupported(format!("{other:?} as a store"))),
        };
        let value = self.pop();
        let (at, offset) = self.access(memarg, bytes)?;
        let flags = heap_flags();
        let width = self.b.func.dfg.value_type(value).bytes();
        let ins = self.b.ins();
        match bytes {
            b if u32::try_from(b).ok() == Some(width) => ins.store(flags, value, at, offset),
            1 => ins.istore8(flags, value, at, offset),
            2 => ins.istore16(flags, value, at, offset),
            _ => ins.istore32(flags, value, at, offset),
        };
        Ok(())
    }

    /// `memory.size`: the length in 64 KiB pages.
    pub(super) fn memory_size(&mut self, mem: u32) -> Result<(), Unsupported> {
        let m = self.memory_view(mem)?;
        let len = self.b.use_var(m.len);
        let pages = self.b.ins().ushr_imm_u(len, 16);
        let pages = self.b.ins().ireduce(types::I32, pages);
        self.push(pages);
        Ok(())
    }

    /// `memory.grow`, through the runtime's builtin.
    pub(super) fn memory_grow(&mut self, mem: u32) -> Result<(), Unsupported> {
        self.memory_vars(mem)?;
        let delta = self.pop();
        let delta = self.b.ins().uextend(types::I64, delta);
        let index = self.b.ins().iconst(types::I32, i64::from(mem));
        let old = self.call_builtin(
            VMBuiltins::OFFSET_MEMORY_GROW,
            &[types::I32, types::I64],
            &[types::I64],
            &[index, delta],
        )[0];
        self.grow_result(old);
        self.reload_memory();
        Ok(())
    }

    /// Pushes a growth builtin's result (the old size, or -1 when refused)
    /// after unwinding if it trapped.
    pub(super) fn grow_result(&mut self, old: Value) {
        let trapped = VMBuiltins::GROW_TRAPPED as i64;
        let ok = self.b.ins().icmp_imm_s(IntCC::NotEqual, old, trapped);
        self.unwind_unless(ok);
        // `GROW_FAILED` is all ones: -1 once reduced to 32 bits.
        let old = self.b.ins().ireduce(types::I32, old);
        self.push(old);
    }

    /// Calls a bulk-operation builtin that reports failure, unwinding if it
    /// trapped.
    pub(super) fn bulk(&mut self, offset: u32, params: &[Type], args: &[Value]) {
        let ok = self.call_builtin(offset, params, &[types::I8], args)[0];
        self.unwind_unless(ok);
    }

    /// `memory.fill`.
    pub(super) fn memory_fill(&mut self, mem: u32) -> Result<(), Unsupported> {
        self.memory_vars(mem)?;
        let (dst, val, len) = self.pop3();
        let mem = self.i32_const(mem as i32);
        let i32 = types::I32;
        self.bulk(
            VMBuiltins::OFFSET_MEMORY_FILL,
            &[i32, i32, i32, i32],
            &[mem, dst, val, len],
        );
        Ok(())
    }

    /// `memory.copy`.
    pub(super) fn memory_copy(&mut self, dst_mem: u32, src_mem: u32) -> Result<(), Unsupported> {
        self.memory_vars(dst_mem)?;
        self.memory_vars(src_mem)?;
        let (dst, src, len) = self.pop3();
        let dst_mem = self.i32_const(dst_mem as i32);
        let src_mem = self.i32_const(src_mem as i32);
        let i32 = types::I32;
        self.bulk(
            VMBuiltins::OFFSET_MEMORY_COPY,
            &[i32, i32, i32, i32, i32],
            &[dst_mem, src_mem, dst, src, len],
        );
        Ok(())
    }

    /// `memory.init`.
    pub(super) fn memory_init(&mut self, mem: u32, data: u32) -> Result<(), Unsupported> {
        self.memory_vars(mem)?;
        let (dst, src, len) = self.pop3();
        let mem = self.i32_const(mem as i32);
        let data = self.i32_const(data as i32);
        let i32 = types::I32;
        self.bulk(
            VMBuiltins::OFFSET_MEMORY_INIT,
            &[i32, i32, i32, i32, i32],
            &[mem, data, dst, src, len],
        );
        Ok(())
    }

    /// `data.drop`.
    pub(super) fn data_drop(&mut self, data: u32) {
        let data = self.i32_const(data as i32);
        self.call_builtin(VMBuiltins::OFFSET_DATA_DROP, &[types::I32], &[], &[data]);
    }
}
