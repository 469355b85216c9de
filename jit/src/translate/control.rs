//! Structured control flow: `block`, `loop`, `if`/`else`, `end`, the
//! branches and `return`.
//!
//! Each wasm frame has a Cranelift block after its `end` (`next`), whose
//! parameters are the frame's results, and branches to the frame jump there
//! with the results as arguments — except for a `loop`, whose branches go
//! back to its header, a block whose parameters are the loop's. Values
//! already on the operand stack stay SSA values: a `block`'s parameters need
//! no block of their own.
//!
//! The fuel model (`kiln_vm::fuel`) needs to know which `end`s are labels:
//! `label_used` records a reachable branch to a frame, an `if` without
//! `else` is always one.

use super::{Translator, vm_flags};
use crate::Unsupported;
use crate::abi;
use cranelift_codegen::ir::{Block, BlockArg, InstBuilder, JumpTableData, Type};
use cranelift_frontend::Variable;
use wasmparser::{BlockType, BrTable};

/// What kind of construct a frame is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum FrameKind {
    /// The function body.
    Function,
    /// `block`.
    Block,
    /// `loop`.
    Loop,
    /// `if`, before any `else`.
    If,
    /// The `else` arm of an `if`.
    Else,
}

/// One open construct of the control stack.
pub(crate) struct Frame {
    kind: FrameKind,
    /// Where a branch to this frame goes: the loop header, or `next`.
    dest: Block,
    /// The block after the `end` (the return block for the function).
    next: Block,
    /// An `if` without `else` yet: where its false edge went, with the
    /// `if`'s parameters as block parameters.
    else_block: Option<Block>,
    num_params: usize,
    num_results: usize,
    /// Operand stack height below the frame's parameters.
    height: usize,
    /// Some reachable branch targets the frame's `end`.
    label_used: bool,
}

impl Frame {
    /// The function body's frame: its end is the return block.
    pub(crate) fn function(ret_block: Block, num_results: usize) -> Frame {
        Frame {
            kind: FrameKind::Function,
            dest: ret_block,
            next: ret_block,
            else_block: None,
            num_params: 0,
            num_results,
            height: 0,
            label_used: false,
        }
    }

    /// How many values a branch to this frame carries.
    fn branch_arity(&self) -> usize {
        if self.kind == FrameKind::Loop {
            self.num_params
        } else {
            self.num_results
        }
    }
}

impl Translator<'_, '_> {
    /// Parameter and result types of a block type.
    fn block_types(&self, ty: BlockType) -> Result<(Vec<Type>, Vec<Type>), Unsupported> {
        Ok(match ty {
            BlockType::Empty => (Vec::new(), Vec::new()),
            BlockType::Type(t) => (Vec::new(), vec![abi::value_type(t)?]),
            BlockType::FuncType(index) => {
                let ft = &self.env.types[index as usize];
                (
                    abi::value_types(ft.params())?,
                    abi::value_types(ft.results())?,
                )
            }
        })
    }

    /// A new block with parameters of `types`.
    fn block_with(&mut self, types: &[Type]) -> Block {
        let block = self.b.create_block();
        for ty in types {
            self.b.append_block_param(block, *ty);
        }
        block
    }

    /// Makes `block` current and pushes its parameters. Every block entered
    /// this way can be reached from places the code just translated does not
    /// dominate (a loop header, an `else` arm, a merge), so the bounds
    /// checks made so far are forgotten.
    fn enter_with_params(&mut self, block: Block) {
        self.checked.clear();
        self.b.switch_to_block(block);
        let params = self.b.block_params(block).to_vec();
        self.stack.extend(params);
    }

    /// `block`.
    pub(super) fn block(&mut self, ty: BlockType) -> Result<(), Unsupported> {
        let (params, results) = self.block_types(ty)?;
        let next = self.block_with(&results);
        self.frames.push(Frame {
            kind: FrameKind::Block,
            dest: next,
            next,
            else_block: None,
            num_params: params.len(),
            num_results: results.len(),
            height: self.stack.len() - params.len(),
            label_used: false,
        });
        Ok(())
    }

    /// `loop`: its header starts a fuel region and checks the epoch.
    pub(super) fn loop_(&mut self, ty: BlockType) -> Result<(), Unsupported> {
        let (params, results) = self.block_types(ty)?;
        let header = self.block_with(&params);
        let next = self.block_with(&results);
        let index = self.loops;
        self.loops += 1;
        let osr = self.osr.filter(|o| o.loop_index == index);
        // An OSR entry's target: the values below the loop's parameters
        // reach the header from two places now, so they go through
        // variables (the frontend makes the phis).
        let below = self.stack.len() - params.len();
        let carried: Vec<(Variable, Type)> = match osr {
            Some(_) => (0..below)
                .map(|i| {
                    let v = self.stack[i];
                    let ty = self.b.func.dfg.value_type(v);
                    let var = self.b.declare_var(ty);
                    self.b.def_var(var, v);
                    (var, ty)
                })
                .collect(),
            None => Vec::new(),
        };
        let args = self.top_args(params.len());
        self.b.ins().jump(header, &args);
        let height = below;
        self.stack.truncate(height);
        if let Some(osr) = osr {
            self.enter_at_loop(osr, header, &carried, &params);
        }
        self.enter_with_params(header);
        // Read in the header, where both ways in meet.
        for (i, (var, _)) in carried.iter().enumerate() {
            self.stack[i] = self.b.use_var(*var);
        }
        self.frames.push(Frame {
            kind: FrameKind::Loop,
            dest: header,
            next,
            else_block: None,
            num_params: params.len(),
            num_results: results.len(),
            height,
            label_used: false,
        });
        self.start_region(true);
        Ok(())
    }

    /// Fills in an OSR entry's block: the interpreted frame's locals and
    /// operand stack from the buffer (locals first, in the frame's first
    /// `max(locals, results)` slots, then the stack values), a fresh view
    /// of memory 0, and a jump to the loop's header.
    fn enter_at_loop(
        &mut self,
        osr: super::Osr,
        header: Block,
        carried: &[(Variable, Type)],
        params: &[Type],
    ) {
        self.b.switch_to_block(osr.entry);
        self.b.seal_block(osr.entry);
        let slot = crate::abi::slot_offset;
        for (i, (var, ty)) in self.locals.clone().into_iter().enumerate() {
            let v = self.b.ins().load(ty, vm_flags(), osr.buffer, slot(i));
            self.b.def_var(var, v);
        }
        // The interpreter's frame keeps its locals in its first
        // `max(locals, results)` slots (results are returned there).
        let results = self.env.func_type(self.func_index).results().len();
        let first_stack = self.locals.len().max(results);
        for (i, (var, ty)) in carried.iter().enumerate() {
            let v = self
                .b
                .ins()
                .load(*ty, vm_flags(), osr.buffer, slot(first_stack + i));
            self.b.def_var(*var, v);
        }
        let args: Vec<BlockArg> = params
            .iter()
            .enumerate()
            .map(|(i, ty)| {
                let at = slot(first_stack + carried.len() + i);
                BlockArg::Value(self.b.ins().load(*ty, vm_flags(), osr.buffer, at))
            })
            .collect();
        self.reload_memory();
        self.b.ins().jump(header, &args);
    }

    /// `if`.
    pub(super) fn if_(&mut self, ty: BlockType) -> Result<(), Unsupported> {
        let (params, results) = self.block_types(ty)?;
        let cond = self.pop();
        let then_block = self.b.create_block();
        let else_block = self.block_with(&params);
        let next = self.block_with(&results);
        let args = self.top_args(params.len());
        self.b.ins().brif(cond, then_block, &[], else_block, &args);
        self.b.switch_to_block(then_block);
        self.b.seal_block(then_block);
        self.frames.push(Frame {
            kind: FrameKind::If,
            dest: next,
            next,
            else_block: Some(else_block),
            num_params: params.len(),
            num_results: results.len(),
            height: self.stack.len() - params.len(),
            label_used: false,
        });
        Ok(())
    }

    /// `else`: the then-arm goes to the end, the else-arm starts a region.
    pub(super) fn else_(&mut self) {
        let top = self.frames.len() - 1;
        if self.reachable {
            let args = self.top_args(self.frames[top].num_results);
            let next = self.frames[top].next;
            self.b.ins().jump(next, &args);
            self.frames[top].label_used = true;
        }
        let frame = &mut self.frames[top];
        let else_block = frame
            .else_block
            .take()
            .expect("validated: `else` of an `if`");
        frame.kind = FrameKind::Else;
        let height = frame.height;
        self.stack.truncate(height);
        self.enter_with_params(else_block);
        self.b.seal_block(else_block);
        self.reachable = true;
        self.start_region(false);
    }

    /// `end` of the innermost frame.
    pub(super) fn end(&mut self) {
        let frame = self.frames.pop().expect("validated: `end` of a frame");
        let fallthrough = self.reachable;
        if fallthrough {
            let args = self.top_args(frame.num_results);
            self.b.ins().jump(frame.next, &args);
        }
        self.stack.truncate(frame.height);
        match frame.kind {
            FrameKind::Function => {
                self.reachable = false;
            }
            FrameKind::Loop => {
                // Every back edge is known now.
                self.b.seal_block(frame.dest);
                if fallthrough {
                    self.enter_with_params(frame.next);
                    self.b.seal_block(frame.next);
                }
            }
            FrameKind::Block | FrameKind::If | FrameKind::Else => {
                let no_else = frame.kind == FrameKind::If;
                if let Some(else_block) = frame.else_block {
                    // An `if` without `else`: the false edge carries the
                    // parameters (which are the results) to the end.
                    self.b.switch_to_block(else_block);
                    self.b.seal_block(else_block);
                    let args: Vec<BlockArg> = self
                        .b
                        .block_params(else_block)
                        .iter()
                        .map(|v| BlockArg::Value(*v))
                        .collect();
                    self.b.ins().jump(frame.next, &args);
                }
                let label = frame.label_used || no_else;
                if fallthrough || label {
                    self.enter_with_params(frame.next);
                    self.b.seal_block(frame.next);
                    self.reachable = true;
                } else {
                    self.reachable = false;
                }
                if label {
                    self.start_region(false);
                }
            }
        }
    }

    /// The frame `depth` levels out, noting a branch to it.
    fn target(&mut self, depth: u32) -> (Block, usize) {
        let index = self.frames.len() - 1 - depth as usize;
        let frame = &mut self.frames[index];
        if frame.kind != FrameKind::Loop {
            frame.label_used = true;
        }
        (frame.dest, frame.branch_arity())
    }

    /// `br`.
    pub(super) fn br(&mut self, depth: u32) {
        let (dest, arity) = self.target(depth);
        let args = self.top_args(arity);
        self.b.ins().jump(dest, &args);
        self.reachable = false;
    }

    /// `br_if`.
    pub(super) fn br_if(&mut self, depth: u32) {
        let cond = self.pop();
        let (dest, arity) = self.target(depth);
        let args = self.top_args(arity);
        let cont = self.b.create_block();
        self.b.ins().brif(cond, dest, &args, cont, &[]);
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
    }

    /// `br_table`. Targets that take values get a block of their own that
    /// passes them (a jump table's entries carry no arguments).
    pub(super) fn br_table(&mut self, targets: &BrTable<'_>) -> Result<(), Unsupported> {
        let index = self.pop();
        let default = targets.default();
        let depths = targets
            .targets()
            .collect::<Result<Vec<u32>, _>>()
            .map_err(|e| Unsupported(format!("unreadable br_table: {e}")))?;
        let (_, arity) = self.target(default);
        let args = self.top_args(arity);
        let mut entry_blocks: Vec<(u32, Block)> = Vec::new();
        let mut entry = |t: &mut Self, depth: u32| -> Block {
            let (dest, _) = t.target(depth);
            if arity == 0 {
                return dest;
            }
            if let Some((_, block)) = entry_blocks.iter().find(|(d, _)| *d == depth) {
                return *block;
            }
            let block = t.b.create_block();
            entry_blocks.push((depth, block));
            block
        };
        let default_block = entry(self, default);
        let table: Vec<Block> = depths.iter().map(|d| entry(self, *d)).collect();
        let default_call = self.b.func.dfg.block_call(default_block, &[]);
        let calls: Vec<_> = table
            .iter()
            .map(|block| self.b.func.dfg.block_call(*block, &[]))
            .collect();
        let jt = self
            .b
            .create_jump_table(JumpTableData::new(default_call, &calls));
        self.b.ins().br_table(index, jt);
        for (depth, block) in entry_blocks {
            let (dest, _) = self.target(depth);
            self.b.switch_to_block(block);
            self.b.seal_block(block);
            self.b.ins().jump(dest, &args);
        }
        self.reachable = false;
        Ok(())
    }

    /// `return`.
    pub(super) fn return_(&mut self) {
        let n = self.frames[0].num_results;
        let args = self.top_args(n);
        let ret = self.ret_block;
        self.b.ins().jump(ret, &args);
        self.reachable = false;
    }
}
