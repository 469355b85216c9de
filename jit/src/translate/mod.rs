//! A validated function body → Cranelift IR.
//!
//! One pass over the operators, with `cranelift-frontend` building SSA:
//! locals are `Variable`s, the operand stack is a vector of SSA values, and
//! each wasm block, loop and `if` becomes Cranelift blocks whose parameters
//! carry the values flowing into them. Code after an unconditional branch is
//! skipped until the end of its block (it is validated, never run). The
//! instance is reached only through the vmctx parameter, at the offsets of
//! `kiln-vm`.
//!
//! The families live in their own files: `control` (blocks, branches,
//! returns), `exits` (traps, unwinding, the stack-limit, epoch and fuel
//! checks), `memory` (loads, stores, bounds checks, memory and bulk
//! operations), `numeric` (integer and float operators, conversions),
//! `entities` (calls, tables, references, globals).

mod control;
mod entities;
mod exits;
mod memory;
mod numeric;

use crate::Unsupported;
use crate::abi::{self, PTR};
use crate::env::ModuleEnv;
use cranelift_codegen::ir::{
    self, Block, BlockArg, Function, InstBuilder, MemFlagsData, SigRef, Type, Value, types,
};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig, TargetIsa};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use kiln_vm::{TrapCode, VMContext, VMOffsets};
use std::collections::HashMap;
use wasmparser::{FunctionBody, Operator};

pub(crate) use control::Frame;

/// Translates defined function `func_index` of the module described by
/// `env`, whose (already validated) body is `body`, into `func`, for `isa`.
///
/// With `osr: None`, `func` is the function's `wasm_call` body (and has
/// that signature). With `osr: Some(loop_index)`, it is an on-stack
/// replacement entry at the header of the body's loop number `loop_index`
/// (loops counted in order, live or not), with the `array_call` signature:
/// its buffer holds the interpreted frame's local slots (the first
/// `max(locals, results)` slots) and then the operand stack at the header,
/// and receives the function's results.
pub fn translate_function(
    env: &ModuleEnv,
    func_index: u32,
    body: &FunctionBody<'_>,
    isa: &dyn TargetIsa,
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
    osr: Option<u32>,
) -> Result<(), Unsupported> {
    let builder = FunctionBuilder::new(func, fctx);
    let mut t = Translator::new(env, func_index, builder, isa, osr)?;
    t.declare_locals(body)?;
    t.prologue();
    let mut reader = body
        .get_operators_reader()
        .map_err(|e| Unsupported(format!("unreadable body: {e}")))?;
    while !reader.eof() {
        let op = reader
            .read()
            .map_err(|e| Unsupported(format!("unreadable operator: {e}")))?;
        t.operator(op)?;
    }
    for unused in t.finish() {
        func.layout.remove_inst(unused);
    }
    Ok(())
}

/// Memory 0 as the running code sees it: its definition (fixed for the
/// instance) and its base and length, SSA variables reloaded after anything
/// that can move or grow it (a call, `memory.grow`).
#[derive(Copy, Clone)]
pub(crate) struct MemoryVars {
    def: Value,
    base: Variable,
    len: Variable,
}

/// An on-stack-replacement entry being translated (see
/// [`translate_function`]).
#[derive(Copy, Clone)]
pub(crate) struct Osr {
    /// The loop whose header it enters at.
    loop_index: u32,
    /// The block entered from the entry block: loads the interpreted frame
    /// and jumps to that header (filled in when the loop is reached).
    entry: Block,
    /// The `ValRaw` buffer with the frame, then for the results.
    buffer: Value,
}

/// The state of one function's translation.
pub(crate) struct Translator<'e, 'f> {
    b: FunctionBuilder<'f>,
    env: &'e ModuleEnv,
    offsets: VMOffsets,
    /// The host's calling convention (the builtins').
    call_conv: CallConv,
    /// The target's pointer width and such, for `finalize`.
    frontend_config: TargetFrontendConfig,
    /// Whether float arithmetic needs Kiln's NaN rule spelled out (the
    /// hardware's own differs; see `numeric.rs`).
    explicit_nan_order: bool,
    /// This function's index (for backtraces).
    func_index: u32,
    /// The instance's vmctx (the first parameter).
    vmctx: Value,
    /// The store's `VMStoreContext`, loaded once at entry.
    store: Value,
    /// Every local, parameters first, and its type.
    locals: Vec<(Variable, Type)>,
    /// The operand stack.
    stack: Vec<Value>,
    /// The control stack; `frames[0]` is the function body.
    frames: Vec<Frame>,
    /// Whether the next operator can execute.
    reachable: bool,
    /// While unreachable: how many blocks opened in the dead code are still
    /// open (their `end`s are not ours).
    dead_depth: u32,
    /// Where returns go; its parameters are the results.
    ret_block: Block,
    /// The shared exit that records this frame and returns status 0.
    unwind_block: Option<Block>,
    /// The shared exit of each trap code.
    trap_blocks: HashMap<TrapCode, Block>,
    /// Memory 0, if the module has one.
    memory: Option<MemoryVars>,
    /// Translating an on-stack-replacement entry: where it enters.
    osr: Option<Osr>,
    /// How many `loop`s of the body have been read, live or dead.
    loops: u32,
    /// Bounds checks already made on every path to here, since memory 0
    /// was last (re)loaded: `(address, reach)` means `address + reach` is
    /// within the memory, so an access at `address` reaching no further
    /// needs no check of its own (see `memory.rs`).
    checked: Vec<(Value, u64)>,
    /// Whether any instruction reads memory 0's base or length; if none
    /// does, the loads that keep them fresh are removed at the end.
    memory_read: bool,
    /// Those loads (and the load of memory 0's definition).
    memory_loads: Vec<ir::Inst>,
    /// The fuel region being charged: the instruction holding its amount
    /// (patched when the region ends) and the amount so far.
    fuel: Option<(ir::Inst, u64)>,
    /// Imported `wasm_call` signatures by type index.
    wasm_sigs: HashMap<u32, SigRef>,
    /// Imported builtin signatures by shape.
    builtin_sigs: HashMap<(Vec<Type>, Vec<Type>), SigRef>,
}

/// Flags of an access to linear memory: never faults (it is bounds-checked
/// first), little-endian, possibly unaligned.
pub(crate) fn heap_flags() -> MemFlagsData {
    MemFlagsData::new()
        .with_notrap()
        .with_endianness(ir::Endianness::Little)
}

/// Flags of an access to runtime state (vmctx, store, definitions): aligned
/// and never faulting.
pub(crate) fn vm_flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Flags of a load of runtime state that never changes while the instance
/// lives (vmctx header fields, region slots): also free to be hoisted.
pub(crate) fn vm_const_flags() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly().with_can_move()
}

impl<'e, 'f> Translator<'e, 'f> {
    fn new(
        env: &'e ModuleEnv,
        func_index: u32,
        mut b: FunctionBuilder<'f>,
        isa: &dyn TargetIsa,
        osr: Option<u32>,
    ) -> Result<Self, Unsupported> {
        let ty = env.func_type(func_index);
        let results = abi::value_types(ty.results())?;
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let vmctx = b.block_params(entry)[0];
        let osr = osr.map(|loop_index| Osr {
            loop_index,
            entry: b.create_block(),
            buffer: b.block_params(entry)[2],
        });
        let store = b
            .ins()
            .load(PTR, vm_const_flags(), vmctx, VMContext::OFFSET_STORE as i32);
        let ret_block = b.create_block();
        for r in &results {
            b.append_block_param(ret_block, *r);
        }
        let body = Frame::function(ret_block, results.len());
        Ok(Translator {
            b,
            env,
            offsets: env.offsets(),
            call_conv: isa.default_call_conv(),
            frontend_config: isa.frontend_config(),
            explicit_nan_order: isa.name() != "x64",
            func_index,
            vmctx,
            store,
            locals: Vec::new(),
            stack: Vec::new(),
            frames: vec![body],
            reachable: true,
            dead_depth: 0,
            ret_block,
            unwind_block: None,
            trap_blocks: HashMap::new(),
            memory: None,
            osr,
            loops: 0,
            checked: Vec::new(),
            memory_read: false,
            memory_loads: Vec::new(),
            fuel: None,
            wasm_sigs: HashMap::new(),
            builtin_sigs: HashMap::new(),
        })
    }

    /// Parameters become the first locals; declared locals start at zero.
    /// (An OSR entry defines them all from its buffer instead.)
    fn declare_locals(&mut self, body: &FunctionBody<'_>) -> Result<(), Unsupported> {
        if self.osr.is_some() {
            let params = abi::value_types(self.env.func_type(self.func_index).params())?;
            for ty in params {
                let var = self.b.declare_var(ty);
                let zero = self.zero(ty);
                self.b.def_var(var, zero);
                self.locals.push((var, ty));
            }
        } else {
            let entry = self.b.current_block().expect("in the entry block");
            let params: Vec<Value> = self.b.block_params(entry)[2..].to_vec();
            for p in params {
                let ty = self.b.func.dfg.value_type(p);
                let var = self.b.declare_var(ty);
                self.b.def_var(var, p);
                self.locals.push((var, ty));
            }
        }
        let reader = body
            .get_locals_reader()
            .map_err(|e| Unsupported(format!("unreadable locals: {e}")))?;
        for group in reader {
            let (count, ty) = group.map_err(|e| Unsupported(format!("unreadable locals: {e}")))?;
            let ty = abi::value_type(ty)?;
            for _ in 0..count {
                let var = self.b.declare_var(ty);
                let zero = self.zero(ty);
                self.b.def_var(var, zero);
                self.locals.push((var, ty));
            }
        }
        Ok(())
    }

    /// The entry checks (stack limit, epoch, the first fuel region) and the
    /// cached view of memory 0.
    fn prologue(&mut self) {
        self.stack_limit_check();
        if self.env.counts.memories > 0 {
            let slot = self.offsets.memories as i32;
            let def = self.b.ins().load(PTR, vm_const_flags(), self.vmctx, slot);
            let inst = self.b.func.dfg.value_def(def).unwrap_inst();
            self.memory_loads.push(inst);
            let base = self.b.declare_var(PTR);
            let len = self.b.declare_var(PTR);
            self.memory = Some(MemoryVars { def, base, len });
            self.reload_memory();
        }
        if let Some(osr) = self.osr {
            // Everything before the target loop is never run from here:
            // translate it in a block no edge leads to (Cranelift drops it),
            // the entry's charges included — the interpreter made them.
            self.b.ins().jump(osr.entry, &[]);
            let unreachable = self.b.create_block();
            self.b.switch_to_block(unreachable);
            self.b.seal_block(unreachable);
        }
        self.start_region(true);
    }

    /// Ends the function: the return block, the shared exits, sealing.
    /// Returns instructions to remove from the function once built: the
    /// loads of memory 0's view if nothing reads it (a function that only
    /// calls, like a recursive Fibonacci, would otherwise reload it after
    /// every call for nothing).
    fn finish(mut self) -> Vec<ir::Inst> {
        self.close_region();
        let ret = self.ret_block;
        self.b.switch_to_block(ret);
        let results = self.b.block_params(ret).to_vec();
        match self.osr {
            Some(osr) => {
                // The results go back in the buffer, as `ValRaw`s.
                for (i, v) in results.into_iter().enumerate() {
                    let bits = crate::abi::value_bits(&mut self.b, v);
                    let at = crate::abi::slot_offset(i);
                    self.b.ins().store(vm_flags(), bits, osr.buffer, at);
                }
                let yes = self.b.ins().iconst(types::I8, 1);
                self.b.ins().return_(&[yes]);
            }
            None => {
                let mut values = vec![self.b.ins().iconst(abi::STATUS, 1)];
                values.extend_from_slice(&results);
                self.b.ins().return_(&values);
            }
        }
        self.emit_exits();
        self.b.seal_all_blocks();
        self.b.finalize(self.frontend_config);
        if self.memory_read {
            Vec::new()
        } else {
            self.memory_loads
        }
    }

    /// Translates one operator.
    fn operator(&mut self, op: Operator<'_>) -> Result<(), Unsupported> {
        if !self.reachable {
            return self.dead_operator(&op);
        }
        self.charge(&op);
        use Operator as O;
        match op {
            // ----- control -----
            O::Unreachable => self.trap(TrapCode::UnreachableCodeReached),
            O::Nop => {}
            O::Block { blockty } => self.block(blockty)?,
            O::Loop { blockty } => self.loop_(blockty)?,
            O::If { blockty } => self.if_(blockty)?,
            O::Else => self.else_(),
            O::End => self.end(),
            O::Br { relative_depth } => self.br(relative_depth),
            O::BrIf { relative_depth } => self.br_if(relative_depth),
            O::BrTable { targets } => self.br_table(&targets)?,
            O::Return => self.return_(),
            O::Drop => {
                self.pop();
            }
            O::Select | O::TypedSelect { .. } => {
                let cond = self.pop();
                let (a, b) = self.pop2();
                let v = self.b.ins().select(cond, a, b);
                self.push(v);
            }

            // ----- entities -----
            O::Call { function_index } => self.call(function_index)?,
            O::CallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index)?,
            O::LocalGet { local_index } => {
                let (var, _) = self.locals[local_index as usize];
                let v = self.b.use_var(var);
                self.push(v);
            }
            O::LocalSet { local_index } => {
                let v = self.pop();
                let (var, _) = self.locals[local_index as usize];
                self.b.def_var(var, v);
            }
            O::LocalTee { local_index } => {
                let v = self.peek();
                let (var, _) = self.locals[local_index as usize];
                self.b.def_var(var, v);
            }
            O::GlobalGet { global_index } => self.global_get(global_index)?,
            O::GlobalSet { global_index } => self.global_set(global_index),
            O::RefNull { .. } => {
                let v = self.b.ins().iconst(types::I64, 0);
                self.push(v);
            }
            O::RefIsNull => {
                let r = self.pop();
                let v = self.b.ins().icmp_imm_s(ir::condcodes::IntCC::Equal, r, 0);
                let v = self.b.ins().uextend(types::I32, v);
                self.push(v);
            }
            O::RefFunc { function_index } => {
                let v = self.func_ref(function_index);
                self.push(v);
            }
            O::TableGet { table } => self.table_get(table),
            O::TableSet { table } => self.table_set(table),
            O::TableSize { table } => self.table_size(table),
            O::TableGrow { table } => self.table_grow(table),
            O::TableFill { table } => self.table_fill(table),
            O::TableCopy {
                dst_table,
                src_table,
            } => self.table_copy(dst_table, src_table),
            O::TableInit { elem_index, table } => self.table_init(table, elem_index),
            O::ElemDrop { elem_index } => self.elem_drop(elem_index),

            // ----- memory -----
            O::MemorySize { mem } => self.memory_size(mem)?,
            O::MemoryGrow { mem } => self.memory_grow(mem)?,
            O::MemoryFill { mem } => self.memory_fill(mem)?,
            O::MemoryCopy { dst_mem, src_mem } => self.memory_copy(dst_mem, src_mem)?,
            O::MemoryInit { data_index, mem } => self.memory_init(mem, data_index)?,
            O::DataDrop { data_index } => self.data_drop(data_index),
            op @ (O::I32Load { .. }
            | O::I64Load { .. }
            | O::F32Load { .. }
            | O::F64Load { .. }
            | O::I32Load8S { .. }
            | O::I32Load8U { .. }
            | O::I32Load16S { .. }
            | O::I32Load16U { .. }
            | O::I64Load8S { .. }
            | O::I64Load8U { .. }
            | O::I64Load16S { .. }
            | O::I64Load16U { .. }
            | O::I64Load32S { .. }
            | O::I64Load32U { .. }) => self.load(&op)?,
            op @ (O::I32Store { .. }
            | O::I64Store { .. }
            | O::F32Store { .. }
            | O::F64Store { .. }
            | O::I32Store8 { .. }
            | O::I32Store16 { .. }
            | O::I64Store8 { .. }
            | O::I64Store16 { .. }
            | O::I64Store32 { .. }) => self.store(&op)?,

            // ----- numeric -----
            op => self.numeric(&op)?,
        }
        Ok(())
    }

    /// An operator in unreachable code: only block structure matters.
    fn dead_operator(&mut self, op: &Operator<'_>) -> Result<(), Unsupported> {
        match op {
            Operator::Block { .. } | Operator::If { .. } => {
                self.dead_depth += 1;
            }
            Operator::Loop { .. } => {
                self.loops += 1;
                self.dead_depth += 1;
            }
            Operator::Else if self.dead_depth == 0 => self.else_(),
            Operator::End if self.dead_depth == 0 => self.end(),
            Operator::End => self.dead_depth -= 1,
            _ => {}
        }
        Ok(())
    }

    // ----- the operand stack -----

    fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    fn pop(&mut self) -> Value {
        self.stack
            .pop()
            .expect("validated: operand stack underflow")
    }

    /// Pops two operands, returning them in push order.
    fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop();
        let a = self.pop();
        (a, b)
    }

    /// Pops three operands, returning them in push order.
    fn pop3(&mut self) -> (Value, Value, Value) {
        let c = self.pop();
        let (a, b) = self.pop2();
        (a, b, c)
    }

    fn peek(&self) -> Value {
        *self
            .stack
            .last()
            .expect("validated: operand stack underflow")
    }

    /// The top `n` operands, bottom first, as block arguments.
    fn top_args(&self, n: usize) -> Vec<BlockArg> {
        self.stack[self.stack.len() - n..]
            .iter()
            .map(|v| BlockArg::Value(*v))
            .collect()
    }

    /// The zero of a value type (the default of locals).
    fn zero(&mut self, ty: Type) -> Value {
        crate::abi::zero(&mut self.b, ty)
    }

    /// A 32-bit integer constant.
    fn i32_const(&mut self, v: i32) -> Value {
        self.b.ins().iconst(types::I32, i64::from(v as u32))
    }

    /// A 64-bit integer constant.
    fn i64_const(&mut self, v: i64) -> Value {
        self.b.ins().iconst(types::I64, v)
    }
}
