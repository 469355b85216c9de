//! The translator: WebAssembly function bodies to Kiln bytecode, in one pass.
//!
//! [`translate_function`] reads a body exactly once. Each operator is first
//! handed to wasmparser's `FuncValidator` (when the body has not been
//! validated yet) and then turned into [`Op`]s. Validation and translation
//! being the same pass is what makes eager compilation cheap, and the lazy
//! path (`InterpModule::compiled`, no validator) pays only for translation.
//!
//! # Why a virtual operand stack
//!
//! Kiln's bytecode is register-style: every instruction names the frame
//! slots it reads and writes (see [`crate::bytecode`]). A naive translation
//! would copy every `local.get` onto the operand stack and copy every result
//! back with `local.set`, so a typical `local.get a; local.get b; i32.add;
//! local.set c` would cost four instructions. Instead the translator keeps a
//! *virtual* operand stack (`stack.rs`) whose entries say where a value
//! currently is:
//!
//! * `Temp`: materialised in its home slot `stack_start + height` (after the
//!   locals and result slots);
//! * `Local(slot)`: a `local.get` not copied yet: consumers read the local's
//!   slot directly;
//! * `Const(bits)`: a constant not materialised yet: it is written straight
//!   to wherever it is first needed.
//!
//! `local.set`/`local.tee` retarget the `dst` of the instruction that has
//! just produced the value instead of emitting a copy (`locals.rs`), so the
//! sequence above becomes a single `I32Add { dst: c, lhs: a, rhs: b }`.
//!
//! # Why labels see a materialised stack
//!
//! A label (block end, loop head, else arm) can be reached from several
//! places, each with its own virtual stack. To make them agree, the
//! translator keeps one invariant (`control.rs`): when a block, loop or if is
//! entered, the whole virtual stack is flushed into home slots, and a branch
//! delivers exactly the values its label carries into the label's slots
//! (the home slots of the block's params/results). Everything below a
//! label's values is therefore already in its home slots whichever way the
//! label is reached, fallthrough needs no copies, and at a label the
//! translator simply restarts from "all `Temp`". Forward branches are
//! chained through their own (not yet known) offset fields and patched when
//! the label is bound, so no per-block allocation is needed.
//!
//! Only what a label needs is materialised: a `br_if` carrying nothing (the
//! usual loop exit) leaves pending entries pending; a call materialises only
//! its arguments (the callee cannot touch slots below its frame); a `br` or
//! `return` writes carried values straight into the label's (or result)
//! slots; and the end of a block nothing branches to is no label at all, so
//! values flow through it virtually.
//!
//! # What the bytecode relies on
//!
//! * Every instruction reads its operands before writing `dst`, which may
//!   be one of them (`local.get 0; local.get 1; i32.add; local.set 0`).
//! * `CallIndirect` reads `index` before the callee's frame is set up (the
//!   index may sit where the callee's first declared local goes).
//! * A `BrTable` entry is an ordinary `Br`, relative to its own index.
//! * The reinterpretations are no-ops: slots hold raw bits either way.
//!
//! # Dead code
//!
//! After `unreachable`, `br`, `br_table` and `return` nothing is emitted
//! until the enclosing `else`/`end` (operators are still validated). Code
//! after an `end` is live again only if something can reach it: a fallthrough
//! or a branch to that label.
//!
//! # Speed
//!
//! Start-up latency is a headline feature, so the pass allocates nothing per
//! operator (a few vectors per function), decodes each operator
//! once through a `VisitOperator` (`driver.rs`) whose methods go straight to
//! the handler (`dispatch.rs`), and keeps the common paths (`local.get`,
//! constants, binary operators) to a handful of branches.
//!
//! # Files
//!
//! * `driver.rs`: the pass itself: decode, validate, translate.
//! * `dispatch.rs`: operator → handler, and dead-code skipping.
//! * `stack.rs`: the virtual operand stack and materialisation.
//! * `locals.rs`: `local.*` and `local.set` fusion.
//! * `control.rs`: blocks, labels, forward-branch patching.
//! * `branch.rs`: `br`, `br_if`, `br_table`, `return`.
//! * `ops.rs`: everything straight-line (numeric, memory, tables, calls).
//! * `acc.rs`: the final pass that lets chained instructions pass values
//!   in the executor's accumulator.
//!
//! # Trust
//!
//! Without a validator the body is trusted to be valid, but the translator
//! still never panics: every pop, label lookup, type lookup and patch is
//! checked, and garbage only ever produces an error (or, for bodies that
//! are well-formed but invalid, meaningless bytecode).

pub(crate) mod acc;
mod branch;
mod control;
mod dispatch;
mod driver;
mod fuse;
mod locals;
mod ops;
mod pairs;
mod stack;

#[cfg(test)]
mod tests;

use crate::ModuleTypes;
use crate::bytecode::{CompiledFunc, Op, Slot, TierBudget};
use anyhow::{Context as _, bail};
use control::ControlFrame;
use driver::Driver;
use stack::ValueStack;
use wasmparser::{FuncValidator, FunctionBody, ValType, ValidatorResources};

/// The largest frame (in slots) a [`CompiledFunc`] can describe.
const MAX_FRAME_SLOTS: usize = u16::MAX as usize;

/// Translates the body of function `func_index` into bytecode. With a
/// `validator`, every operator is validated in the same pass and the first
/// validation error (wasmparser's message and offset) is returned.
pub fn translate_function(
    types: &ModuleTypes,
    func_index: u32,
    body: &FunctionBody<'_>,
    mut validator: Option<&mut FuncValidator<ValidatorResources>>,
) -> anyhow::Result<CompiledFunc> {
    let func_type = types
        .funcs
        .get(func_index as usize)
        .and_then(|&ty| types.types.get(ty as usize))
        .with_context(|| format!("function {func_index} has no known type"))?;
    let num_params = func_type.params().len();
    let num_results = func_type.results().len();

    // Locals: validate each group and count them.
    let mut reader = body.get_binary_reader();
    let mut num_locals = num_params;
    for _ in 0..reader.read_var_u32()? {
        let offset = reader.original_position();
        let count = reader.read_var_u32()?;
        let ty: ValType = reader.read()?;
        if let Some(v) = validator.as_deref_mut() {
            v.define_locals(offset, count, ty)?;
        }
        num_locals = num_locals.saturating_add(count as usize);
        if num_locals > MAX_FRAME_SLOTS {
            bail!(frame_limit_message(func_index, num_locals));
        }
    }
    if let Some(v) = validator.as_deref() {
        // Parse with the validator's feature set, as `FuncValidator::validate`
        // does, so malformed-encoding errors are the same.
        reader.set_features(*v.features());
    }

    let mut t = Translator::new(
        types,
        func_index,
        num_params,
        num_locals,
        num_results,
        reader.bytes_remaining(),
    );
    t.start_region(RegionStart::Entry);
    Driver::new(&mut t, validator).run(&mut reader)?;
    t.finish()
}

fn frame_limit_message(func_index: u32, slots: usize) -> String {
    format!("function {func_index} needs {slots} frame slots; Kiln's limit is {MAX_FRAME_SLOTS}")
}

/// The state of one function's translation.
struct Translator<'a> {
    /// The module's function and block types.
    types: &'a ModuleTypes,
    /// The function being translated (for error messages).
    func_index: u32,
    /// The bytecode emitted so far.
    ops: Vec<Op>,
    /// The virtual operand stack.
    stack: ValueStack,
    /// Open control frames; index 0 is the function body itself.
    control: Vec<ControlFrame>,
    /// Parameters plus declared locals; the operand stack starts here.
    num_locals: usize,
    num_params: usize,
    num_results: usize,
    /// Whether the code being translated can execute. While false, only
    /// control structure is tracked and nothing is emitted.
    reachable: bool,
    /// Blocks opened inside unreachable code and not closed yet.
    dead_depth: u32,
    /// `(index, height)` of the last emitted instruction if its only effect
    /// is writing the `Temp` at `height` (what `local.set` may retarget).
    fusable: Option<(usize, usize)>,
    /// What `fusable` was when the current candidate was emitted: the
    /// instruction computing its operand, if that was the candidate before
    /// (checked with `index + 1`), for folding `and; eqz` into a branch.
    fusable_before: Option<(usize, usize)>,
    /// Reused by `br_table`: stub address per control frame.
    stubs: Vec<u32>,
    /// Where the operand stack starts during translation: after the locals
    /// and after the result slots `0..num_results`, so that `finish` can tell
    /// operand-stack slots (which move up to make room for the constants)
    /// from local and result slots (which stay).
    stack_start: usize,
    /// The function's constant pool: each constant used as an operand gets a
    /// slot, initialised on entry. Until `finish` places them, constant `k`
    /// is named by the placeholder slot `u16::MAX - k`.
    consts: Vec<u64>,
    /// Placeholder slot of each constant in `consts`, by bits.
    const_slots: std::collections::HashMap<u64, Slot>,
    /// The `ConsumeFuel` charging the current region, when metering fuel.
    fuel_site: Option<usize>,
    /// Fuel the current region has used so far.
    fuel_used: u32,
    /// The `TierUp`/`TierUpLoop` counting the current region, with tiered
    /// execution.
    tier_site: Option<usize>,
    /// How many `loop`s of the body have been read, live or dead: the next
    /// one's index (the native tier numbers them the same way).
    loops: u32,
}

/// Where a straight-line region starts (see [`Translator::start_region`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum RegionStart {
    /// The function's entry.
    Entry,
    /// The header of the body's loop number `.0`.
    Loop(u32),
    /// Any other place a branch lands.
    Label,
}

/// The most constants a function keeps in slots; further constants are
/// materialised by `Const` instructions where they are used. Every call
/// copies the pool into the frame, so it stays small.
const MAX_CONST_SLOTS: usize = 64;

impl<'a> Translator<'a> {
    fn new(
        types: &'a ModuleTypes,
        func_index: u32,
        num_params: usize,
        num_locals: usize,
        num_results: usize,
        body_len: usize,
    ) -> Self {
        let mut control = Vec::with_capacity(8);
        control.push(ControlFrame::function(num_results));
        Translator {
            types,
            func_index,
            // Roughly one instruction per two or three bytes of code.
            ops: Vec::with_capacity(body_len / 3 + 4),
            stack: ValueStack::default(),
            control,
            num_locals,
            num_params,
            num_results,
            reachable: true,
            dead_depth: 0,
            fusable: None,
            fusable_before: None,
            stubs: Vec::new(),
            stack_start: num_locals.max(num_results),
            consts: Vec::new(),
            const_slots: std::collections::HashMap::new(),
            fuel_site: None,
            fuel_used: 0,
            tier_site: None,
            loops: 0,
        }
    }

    /// Starts a straight-line region at the next instruction: the previous
    /// region's `ConsumeFuel` gets its final amount and, when metering fuel,
    /// a new one is emitted. The function entry and loop headers also count
    /// towards tier-up (first: a move into native code happens before the
    /// native code's own checks and charge) and check the epoch.
    pub(super) fn start_region(&mut self, start: RegionStart) {
        self.close_region();
        if self.types.tier_up_budget.is_some() {
            let op = match start {
                RegionStart::Entry => Some(Op::TierUp { amount: 0 }),
                RegionStart::Loop(loop_index) => Some(Op::TierUpLoop {
                    amount: 0,
                    loop_index,
                    stack: self.home(0),
                    height: self.stack.height() as u16,
                }),
                RegionStart::Label => None,
            };
            self.tier_site = op.map(|op| self.emit(op));
        }
        if start != RegionStart::Label && self.types.epoch_interruption {
            self.emit(Op::CheckEpoch);
        }
        if self.types.consume_fuel {
            self.fuel_site = Some(self.emit(Op::ConsumeFuel { amount: 0 }));
        }
    }

    /// Gives the current region's `ConsumeFuel` and `TierUp` their amount.
    fn close_region(&mut self) {
        if let Some(site) = self.fuel_site.take()
            && let Some(Op::ConsumeFuel { amount }) = self.ops.get_mut(site)
        {
            *amount = self.fuel_used;
        }
        if let Some(site) = self.tier_site.take()
            && let Some(Op::TierUp { amount } | Op::TierUpLoop { amount, .. }) =
                self.ops.get_mut(site)
        {
            // At least one unit, so that even an empty loop counts.
            *amount = self.fuel_used.max(1);
        }
        self.fuel_used = 0;
    }

    /// Charges an operator costing `cost` ([`crate::vm::fuel`]) to the
    /// current region.
    #[inline(always)]
    pub(super) fn charge(&mut self, cost: u32) {
        self.fuel_used = self.fuel_used.saturating_add(cost);
    }

    /// The slot holding constant `bits` for the rest of the function, if
    /// the pool has room.
    #[inline]
    fn const_slot(&mut self, bits: u64) -> Option<Slot> {
        if let Some(&slot) = self.const_slots.get(&bits) {
            return Some(slot);
        }
        if self.consts.len() >= MAX_CONST_SLOTS {
            return None;
        }
        let slot = u16::MAX - self.consts.len() as u16;
        self.consts.push(bits);
        self.const_slots.insert(bits, slot);
        Some(slot)
    }

    /// Appends `op`, returning its index.
    #[inline]
    fn emit(&mut self, op: Op) -> usize {
        let pc = self.ops.len();
        self.ops.push(op);
        pc
    }

    /// The home slot of the operand at stack height `height`. Wraps for
    /// frames over the limit; `finish` then rejects the function.
    #[inline]
    fn home(&self, height: usize) -> Slot {
        self.stack_start.wrapping_add(height) as Slot
    }

    /// Checks the frame size and packages the bytecode.
    fn finish(mut self) -> anyhow::Result<CompiledFunc> {
        self.close_region();
        if !self.control.is_empty() {
            bail!("function {} ends with unclosed blocks", self.func_index);
        }
        let num_consts = self.consts.len();
        let frame_size = self.stack_start + num_consts + self.stack.max_height();
        // Placeholders (`u16::MAX - k`) stay above every real slot as long as
        // the frame fits; `+ 1` keeps `u16::MAX` itself free of real slots.
        if frame_size + 1 > MAX_FRAME_SLOTS {
            bail!(frame_limit_message(self.func_index, frame_size));
        }
        // Branch offsets must fit an `i32` once `assemble` counts them in
        // bytes.
        if self.ops.len() > i32::MAX as usize / size_of::<crate::bytecode::Inst>() {
            bail!("function {} is too large to translate", self.func_index);
        }
        // Final layout: locals and result slots, then the constants, then the
        // operand stack (see `crate::bytecode`).
        let mut ops = self.ops;
        if num_consts > 0 {
            let start = self.stack_start as Slot;
            let placeholders = (u16::MAX as usize + 1 - num_consts) as Slot;
            let shift = num_consts as Slot;
            for op in &mut ops {
                op.map_slots(|s| {
                    if s >= placeholders {
                        start + (u16::MAX - s)
                    } else if s >= start {
                        s + shift
                    } else {
                        s
                    }
                });
            }
        }
        let first_temp = (self.stack_start + num_consts) as Slot;
        let target = acc::branch_targets(&ops);
        let mut dead = acc::use_accumulator(&mut ops, first_temp, &target);
        let (consts, first_const) = (&self.consts, self.stack_start as Slot);
        pairs::fuse_address_adds(&mut ops, &mut dead);
        pairs::fuse_copy_pairs(&mut ops, &target);
        pairs::fuse_copy_branches(&mut ops, &target);
        pairs::fuse_loop_latches(&mut ops, consts, first_const);
        pairs::fuse_scaled_adds(&mut ops, &mut dead, consts, first_const);
        pairs::fuse_multiply_adds(&mut ops, &mut dead);
        pairs::fuse_xor_shifts(&mut ops, &mut dead, consts, first_const);
        pairs::fuse_load_steps(&mut ops, &dead, &target, consts, first_const);
        pairs::fuse_add_copies(&mut ops, &target);
        pairs::fuse_add_pairs(&mut ops, &target, consts, first_const);
        let mut consts = self.consts;
        let code = crate::exec::assemble(ops, &dead, &mut consts, first_const);
        Ok(CompiledFunc {
            consts: consts.into_boxed_slice(),
            code,
            // All four are at most `frame_size`, checked above.
            num_params: self.num_params as u16,
            num_results: self.num_results as u16,
            num_locals: self.stack_start as u16,
            frame_size: frame_size as u16,
            func_index: self.func_index,
            tier_budget: TierBudget::new(self.types.tier_up_budget.unwrap_or(0)),
        })
    }
}
