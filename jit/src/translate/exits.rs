//! Leaving native code early, and the checks that may make it: traps,
//! unwinding after a failed callee or builtin, the stack limit, the epoch
//! deadline and fuel.
//!
//! Each trap code used by a function has one cold exit block that asks the
//! runtime to record the trap ([`kiln_vm::VMBuiltins::raise_trap`]) and
//! continues to the function's one unwind block, which appends this frame
//! to the store's backtrace ([`kiln_vm::VMBuiltins::unwind_frame`]) and
//! returns status 0. The exit blocks are filled in when the function ends
//! (a Cranelift block must be finished before another one is started).

use super::{Translator, vm_const_flags, vm_flags};
use crate::abi::{self, PTR};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{Block, InstBuilder, Type, Value, types};
use kiln_vm::{TrapCode, VMBuiltins, VMContext, VMStoreContext};
use wasmparser::Operator;

impl Translator<'_, '_> {
    /// An unconditional trap: the rest of the block is unreachable.
    pub(super) fn trap(&mut self, code: TrapCode) {
        let exit = self.trap_block(code);
        self.b.ins().jump(exit, &[]);
        self.reachable = false;
    }

    /// Traps with `code` if `cond` (an integer) is nonzero; continues in a
    /// new block otherwise.
    pub(super) fn trap_if(&mut self, cond: Value, code: TrapCode) {
        let exit = self.trap_block(code);
        let cont = self.b.create_block();
        self.b.ins().brif(cond, exit, &[], cont, &[]);
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
    }

    /// Unwinds (status 0) unless `ok` (an integer) is nonzero: after a
    /// callee or builtin that reports failure, with the reason already
    /// pending.
    pub(super) fn unwind_unless(&mut self, ok: Value) {
        let unwind = self.unwind_block();
        let cont = self.b.create_block();
        self.b.ins().brif(ok, cont, &[], unwind, &[]);
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
    }

    /// The exit block of trap `code`.
    fn trap_block(&mut self, code: TrapCode) -> Block {
        if let Some(block) = self.trap_blocks.get(&code) {
            return *block;
        }
        let block = self.b.create_block();
        self.b.set_cold_block(block);
        self.trap_blocks.insert(code, block);
        block
    }

    /// The unwind block.
    pub(super) fn unwind_block(&mut self) -> Block {
        if let Some(block) = self.unwind_block {
            return block;
        }
        let block = self.b.create_block();
        self.b.set_cold_block(block);
        self.unwind_block = Some(block);
        block
    }

    /// Fills in the exit blocks; the current block must be finished.
    pub(super) fn emit_exits(&mut self) {
        let mut traps: Vec<(TrapCode, Block)> = self.trap_blocks.drain().collect();
        traps.sort_by_key(|(code, _)| *code as u8);
        if !traps.is_empty() {
            self.unwind_block();
        }
        for (code, block) in traps {
            self.b.switch_to_block(block);
            let code = self.b.ins().iconst(types::I32, i64::from(code as u8));
            self.call_builtin(VMBuiltins::OFFSET_RAISE_TRAP, &[types::I32], &[], &[code]);
            let unwind = self.unwind_block();
            self.b.ins().jump(unwind, &[]);
        }
        if let Some(block) = self.unwind_block {
            self.b.switch_to_block(block);
            let index = self.b.ins().iconst(types::I32, i64::from(self.func_index));
            self.call_builtin(
                VMBuiltins::OFFSET_UNWIND_FRAME,
                &[types::I32],
                &[],
                &[index],
            );
            if self.osr.is_some() {
                let no = self.b.ins().iconst(types::I8, 0);
                self.b.ins().return_(&[no]);
            } else {
                let results = self.env.func_type(self.func_index).results().to_vec();
                let mut values = vec![self.b.ins().iconst(abi::STATUS, 0)];
                for ty in results {
                    let ty = abi::value_type(ty).expect("checked when the function was entered");
                    values.push(self.zero(ty));
                }
                self.b.ins().return_(&values);
            }
        }
    }

    /// Calls the builtin at `offset` of the vmctx's `VMBuiltins` with the
    /// vmctx and `args` (of types `params`); returns its results.
    pub(super) fn call_builtin(
        &mut self,
        offset: u32,
        params: &[Type],
        returns: &[Type],
        args: &[Value],
    ) -> Vec<Value> {
        let table = self.b.ins().load(
            PTR,
            vm_const_flags(),
            self.vmctx,
            VMContext::OFFSET_BUILTINS as i32,
        );
        let callee = self
            .b
            .ins()
            .load(PTR, vm_const_flags(), table, offset as i32);
        let key = (params.to_vec(), returns.to_vec());
        let sig = match self.builtin_sigs.get(&key) {
            Some(sig) => *sig,
            None => {
                let sig = abi::builtin_signature(self.call_conv, params, returns);
                let sig = self.b.import_signature(sig);
                self.builtin_sigs.insert(key, sig);
                sig
            }
        };
        let mut all = vec![self.vmctx];
        all.extend_from_slice(args);
        let call = self.b.ins().call_indirect(sig, callee, &all);
        self.b.inst_results(call).to_vec()
    }

    /// Traps with `StackOverflow` when the stack pointer is below the
    /// store's limit (set by the outermost entry into native code).
    pub(super) fn stack_limit_check(&mut self) {
        let sp = self.b.ins().get_stack_pointer(PTR);
        let limit = self.b.ins().load(
            PTR,
            vm_flags(),
            self.store,
            VMStoreContext::OFFSET_STACK_LIMIT as i32,
        );
        let below = self.b.ins().icmp(IntCC::UnsignedLessThan, sp, limit);
        self.trap_if(below, TrapCode::StackOverflow);
    }

    /// Once the engine's epoch reaches the store's deadline, asks the
    /// runtime what to do ([`VMBuiltins::new_epoch`]: the store's deadline
    /// callback, or a trap with `Interrupt`) and unwinds if it says stop.
    /// That path is cold and its own per check: it passes this frame's
    /// frame pointer and function index, so the callback can list the
    /// frames on the stack, and reloads memory 0 afterwards (the callback
    /// is host code, which may grow it).
    fn epoch_check(&mut self) {
        let counter = self.b.ins().load(
            PTR,
            vm_const_flags(),
            self.store,
            VMStoreContext::OFFSET_EPOCH_PTR as i32,
        );
        // An atomic load: another thread advances the counter, and a plain
        // load would let Cranelift reuse the value read at function entry
        // in a loop that stores nothing (it would never see the deadline).
        let epoch = self.b.ins().atomic_load(types::I64, vm_flags(), counter);
        let deadline = self.b.ins().load(
            types::I64,
            vm_flags(),
            self.store,
            VMStoreContext::OFFSET_EPOCH_DEADLINE as i32,
        );
        let reached = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, epoch, deadline);
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        let cont = self.b.create_block();
        self.b.ins().brif(reached, slow, &[], cont, &[]);

        self.b.switch_to_block(slow);
        self.b.seal_block(slow);
        let fp = self.b.ins().get_frame_pointer(PTR);
        let index = self.b.ins().iconst(types::I32, i64::from(self.func_index));
        let ok = self.call_builtin(
            VMBuiltins::OFFSET_NEW_EPOCH,
            &[types::I32, PTR],
            &[types::I8],
            &[index, fp],
        )[0];
        self.reload_memory();
        let unwind = self.unwind_block();
        self.b.ins().brif(ok, cont, &[], unwind, &[]);

        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
    }

    /// Starts a fuel region here (see `kiln_vm::fuel`): the previous one
    /// gets its final amount; a loop header (or the function entry) also
    /// checks the epoch first, as the interpreter does.
    pub(super) fn start_region(&mut self, loop_header: bool) {
        self.close_region();
        if loop_header && self.env.epoch_interruption {
            self.epoch_check();
        }
        if self.env.consume_fuel {
            let offset = VMStoreContext::OFFSET_FUEL as i32;
            let fuel = self
                .b
                .ins()
                .load(types::I64, vm_flags(), self.store, offset);
            let amount = self.b.ins().iconst(types::I64, 0);
            let inst = self
                .b
                .func
                .dfg
                .value_def(amount)
                .inst()
                .expect("a constant is an instruction's result");
            let left = self.b.ins().isub(fuel, amount);
            self.b.ins().store(vm_flags(), left, self.store, offset);
            let out = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, left, 0);
            self.trap_if(out, TrapCode::OutOfFuel);
            self.fuel = Some((inst, 0));
        }
    }

    /// Gives the current fuel region its amount.
    pub(super) fn close_region(&mut self) {
        if let Some((inst, amount)) = self.fuel.take() {
            self.b.func.replace(inst).iconst(types::I64, amount as i64);
        }
    }

    /// Charges `op` to the current fuel region.
    pub(super) fn charge(&mut self, op: &Operator<'_>) {
        if let Some((_, amount)) = &mut self.fuel {
            *amount += u64::from(kiln_vm::fuel::operator_cost(op));
        }
    }
}
