//! Calls, tables, function references and globals.
//!
//! A call goes through the callee's `VMFuncRef`, whatever runs it: when the
//! record has a `wasm_call` entry (native code), the body is called
//! directly with its arguments in registers; otherwise (an interpreted or
//! host function) the module's adapter for the callee's type is called the
//! same way, and passes them on to the record's `array_call` entry. Either
//! way the callee's status is checked and a failure unwinds this frame
//! too, and memory 0 is reloaded afterwards (the callee may have grown it).

use super::{Translator, vm_const_flags, vm_flags};
use crate::Unsupported;
use crate::abi::{self, PTR};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, SigRef, Value, types};
use kiln_vm::{FUNC_REFS_OFFSET, TrapCode, VMBuiltins, VMFuncRef};

impl Translator<'_, '_> {
    /// The `VMFuncRef` of function `index` (its slot never changes once the
    /// instance is built; the record it points at may be patched).
    pub(super) fn func_ref(&mut self, index: u32) -> Value {
        let offset = FUNC_REFS_OFFSET + index * 8;
        self.b
            .ins()
            .load(PTR, vm_const_flags(), self.vmctx, offset as i32)
    }

    /// The `wasm_call` signature of type `type_index`, imported once.
    fn wasm_sig(&mut self, type_index: u32) -> Result<SigRef, Unsupported> {
        if let Some(sig) = self.wasm_sigs.get(&type_index) {
            return Ok(*sig);
        }
        let sig = abi::wasm_signature(&self.env.types[type_index as usize])?;
        let sig = self.b.import_signature(sig);
        self.wasm_sigs.insert(type_index, sig);
        Ok(sig)
    }

    /// `call`.
    pub(super) fn call(&mut self, index: u32) -> Result<(), Unsupported> {
        let type_index = self.env.funcs[index as usize];
        let fr = self.func_ref(index);
        self.call_ref(fr, type_index)
    }

    /// Calls the function whose `VMFuncRef` is `fr`, of type `type_index`,
    /// with arguments from the operand stack: its `wasm_call` body if it has
    /// one, else this module's adapter for the type (see `adapter.rs`), which
    /// takes the record itself in place of the callee's vmctx — one call
    /// instruction either way, then the status check.
    fn call_ref(&mut self, fr: Value, type_index: u32) -> Result<(), Unsupported> {
        let ty = &self.env.types[type_index as usize];
        let results = abi::value_types(ty.results())?;
        let params = ty.params().len();
        let args = self.stack.split_off(self.stack.len() - params);
        let sig = self.wasm_sig(type_index)?;

        let wasm_call = self
            .b
            .ins()
            .load(PTR, vm_flags(), fr, VMFuncRef::OFFSET_WASM_CALL as i32);
        let callee_vmctx = self
            .b
            .ins()
            .load(PTR, vm_flags(), fr, VMFuncRef::OFFSET_VMCTX as i32);
        let adapter_at = self.offsets.type_adapters + type_index * 8;
        let adapter = self
            .b
            .ins()
            .load(PTR, vm_const_flags(), self.vmctx, adapter_at as i32);
        let native = self.b.ins().icmp_imm_s(IntCC::NotEqual, wasm_call, 0);
        let target = self.b.ins().select(native, wasm_call, adapter);
        let first = self.b.ins().select(native, callee_vmctx, fr);
        let mut call_args = vec![first, self.vmctx];
        call_args.extend_from_slice(&args);
        let call = self.b.ins().call_indirect(sig, target, &call_args);
        let outs = self.b.inst_results(call).to_vec();
        debug_assert_eq!(outs.len(), results.len() + 1);
        self.unwind_unless(outs[0]);
        self.stack.extend_from_slice(&outs[1..]);
        self.reload_memory();
        Ok(())
    }

    /// `call_indirect`: the table element must be in bounds, non-null and of
    /// the expected type (engine-wide type ids, so equal types of different
    /// modules match).
    pub(super) fn call_indirect(&mut self, type_index: u32, table: u32) -> Result<(), Unsupported> {
        let index = self.pop();
        let fr = self.table_element(table, index);
        let null = self.b.ins().icmp_imm_s(IntCC::Equal, fr, 0);
        self.trap_if(null, TrapCode::IndirectCallToNull);
        let actual = self.b.ins().load(
            types::I32,
            vm_flags(),
            fr,
            VMFuncRef::OFFSET_TYPE_INDEX as i32,
        );
        let offset = self.offsets.type_ids + 4 * type_index;
        let expected = self
            .b
            .ins()
            .load(types::I32, vm_const_flags(), self.vmctx, offset as i32);
        let wrong = self.b.ins().icmp(IntCC::NotEqual, actual, expected);
        self.trap_if(wrong, TrapCode::BadSignature);
        self.call_ref(fr, type_index)
    }

    /// Table `table`'s definition (fixed for the instance).
    fn table_def(&mut self, table: u32) -> Value {
        let offset = self.offsets.tables + 8 * table;
        self.b
            .ins()
            .load(PTR, vm_const_flags(), self.vmctx, offset as i32)
    }

    /// The address of element `index` (an i32) of table `table`, trapping
    /// with `TableOutOfBounds` past its end.
    fn table_slot(&mut self, table: u32, index: Value) -> Value {
        let def = self.table_def(table);
        let size = self.b.ins().load(types::I64, vm_flags(), def, 8);
        let index = self.b.ins().uextend(types::I64, index);
        let out = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, size);
        self.trap_if(out, TrapCode::TableOutOfBounds);
        let base = self.b.ins().load(PTR, vm_flags(), def, 0);
        let offset = self.b.ins().ishl_imm_u(index, 3);
        self.b.ins().iadd(base, offset)
    }

    /// Element `index` of table `table`.
    fn table_element(&mut self, table: u32, index: Value) -> Value {
        let slot = self.table_slot(table, index);
        self.b.ins().load(types::I64, vm_flags(), slot, 0)
    }

    /// `table.get`.
    pub(super) fn table_get(&mut self, table: u32) {
        let index = self.pop();
        let v = self.table_element(table, index);
        self.push(v);
    }

    /// `table.set`.
    pub(super) fn table_set(&mut self, table: u32) {
        let (index, value) = self.pop2();
        let slot = self.table_slot(table, index);
        self.b.ins().store(vm_flags(), value, slot, 0);
    }

    /// `table.size`.
    pub(super) fn table_size(&mut self, table: u32) {
        let def = self.table_def(table);
        let size = self.b.ins().load(types::I64, vm_flags(), def, 8);
        let size = self.b.ins().ireduce(types::I32, size);
        self.push(size);
    }

    /// `table.grow`, through the runtime's builtin.
    pub(super) fn table_grow(&mut self, table: u32) {
        let (init, delta) = self.pop2();
        let delta = self.b.ins().uextend(types::I64, delta);
        let table = self.i32_const(table as i32);
        let old = self.call_builtin(
            VMBuiltins::OFFSET_TABLE_GROW,
            &[types::I32, types::I64, types::I64],
            &[types::I64],
            &[table, delta, init],
        )[0];
        self.grow_result(old);
    }

    /// `table.fill`.
    pub(super) fn table_fill(&mut self, table: u32) {
        let (dst, value, len) = self.pop3();
        let table = self.i32_const(table as i32);
        let i32 = types::I32;
        self.bulk(
            VMBuiltins::OFFSET_TABLE_FILL,
            &[i32, i32, types::I64, i32],
            &[table, dst, value, len],
        );
    }

    /// `table.copy`.
    pub(super) fn table_copy(&mut self, dst_table: u32, src_table: u32) {
        let (dst, src, len) = self.pop3();
        let dst_table = self.i32_const(dst_table as i32);
        let src_table = self.i32_const(src_table as i32);
        let i32 = types::I32;
        self.bulk(
            VMBuiltins::OFFSET_TABLE_COPY,
            &[i32, i32, i32, i32, i32],
            &[dst_table, src_table, dst, src, len],
        );
    }

    /// `table.init`.
    pub(super) fn table_init(&mut self, table: u32, elem: u32) {
        let (dst, src, len) = self.pop3();
        let table = self.i32_const(table as i32);
        let elem = self.i32_const(elem as i32);
        let i32 = types::I32;
        self.bulk(
            VMBuiltins::OFFSET_TABLE_INIT,
            &[i32, i32, i32, i32, i32],
            &[table, elem, dst, src, len],
        );
    }

    /// `elem.drop`.
    pub(super) fn elem_drop(&mut self, elem: u32) {
        let elem = self.i32_const(elem as i32);
        self.call_builtin(VMBuiltins::OFFSET_ELEM_DROP, &[types::I32], &[], &[elem]);
    }

    /// Where global `index` is stored: inside the vmctx for a defined one,
    /// behind the vmctx's pointer for an import. Returns a base and an
    /// offset from it.
    fn global_addr(&mut self, index: u32) -> (Value, i32) {
        let imported = self.env.counts.imported_globals;
        if index >= imported {
            let offset = self.offsets.defined_globals + 16 * (index - imported);
            (self.vmctx, offset as i32)
        } else {
            let offset = self.offsets.globals + 8 * index;
            let def = self
                .b
                .ins()
                .load(PTR, vm_const_flags(), self.vmctx, offset as i32);
            (def, 0)
        }
    }

    /// `global.get`.
    pub(super) fn global_get(&mut self, index: u32) -> Result<(), Unsupported> {
        let ty = abi::value_type(self.env.globals[index as usize].ty)?;
        let (base, offset) = self.global_addr(index);
        let flags = if self.env.globals[index as usize].mutable {
            vm_flags()
        } else {
            vm_flags().with_readonly()
        };
        let v = self.b.ins().load(ty, flags, base, offset);
        self.push(v);
        Ok(())
    }

    /// `global.set`.
    pub(super) fn global_set(&mut self, index: u32) {
        let v = self.pop();
        let (base, offset) = self.global_addr(index);
        self.b.ins().store(vm_flags(), v, base, offset);
    }
}
