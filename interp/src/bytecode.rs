//! Kiln bytecode: the instruction set the interpreter executes.
//!
//! The translator turns each WebAssembly function body into a `Box<[Op]>`
//! once; the executor then never decodes LEB128, never validates and never
//! searches for a branch target.
//!
//! # The frame
//!
//! A function's frame is a window of untyped 64-bit slots on the store's
//! value stack, addressed by [`Slot`] (index from the frame base):
//!
//! ```text
//! slot 0 .. num_params            parameters
//! num_params .. num_locals        declared locals (zeroed on entry)
//! num_locals .. stack_base        the function's constants (`consts`, copied
//!                                 in on entry), read like any other slot
//! stack_base .. frame_size        the operand stack: the value at wasm stack
//!                                 height h (0-based) lives in slot stack_base + h
//! ```
//!
//! (`stack_base = num_locals + consts.len()`.) Constants used as operands
//! thus cost nothing per use: `i < 100` is one instruction reading the
//! constant's slot, not a `Const32` plus a compare.
//!
//! Slot encoding: `i32` and `f32` values are stored zero-extended in the low
//! 32 bits (writers must zero-extend; readers may truncate), `i64`/`f64` use
//! all 64 bits, floats are stored as their IEEE bit patterns, a `funcref` is
//! a `*const VMFuncRef` as `u64` (0 = null), an `externref` is the store's
//! handle (0 = null).
//!
//! Instructions name their operands and result by slot, register-machine
//! style, so `local.get a; local.get b; i32.add; local.set c` becomes one
//! `I32Add { dst: c, lhs: a, rhs: b }`. Every slot an instruction names lies
//! in `0..frame_size`.
//!
//! # Calls
//!
//! The caller evaluates the arguments into consecutive slots `base ..
//! base + params` at the top of its operand stack, and the callee's frame
//! starts at the caller's `base`: the arguments *are* the callee's first
//! locals. The callee leaves its results in its slots `0 .. results` and
//! executes [`Op::Return`], so the caller finds them at `base .. base +
//! results` — exactly where the wasm operand stack has them.
//!
//! # Branches
//!
//! Branch offsets are relative to the index of the branch instruction itself
//! (`pc += offset`; the executor's copy counts them in bytes, see
//! [`Op::branch_offset`]). Values a branch carries to its label are copied into the
//! label's result slots by explicit [`Op::Copy`]s before the branch; branch
//! instructions never move values.
//!
//! # The accumulators
//!
//! Most instructions that write one slot also leave the value they wrote in
//! an *accumulator*, a register the executor carries from one instruction
//! to the next: integer instructions the 64 bits they wrote in the integer
//! accumulator, `f32` and `f64` arithmetic their result in the float
//! accumulator of its type ([`Op::acc_dst`] says which instruction sets
//! which). The `…Acc`, `…AccL`, `…AccR`, `…AccV` and `…AccA` variants are
//! copies of a base instruction that read one operand (the whole operand,
//! the left or right one, the stored value or the address) from the
//! accumulator of its type instead of from its slot. Their slot fields are
//! those of the base instruction, and they have its semantics exactly: the
//! translator uses one only right after an instruction that wrote that
//! operand's slot and set that accumulator, where the instruction is not a
//! branch target — so the accumulator holds the slot's value, and the
//! variant only tells the executor it need not load it. Chains of
//! computations (`(a + b) * c`, address arithmetic then a load) thus pass
//! their intermediate values in registers instead of through memory, where
//! each would wait for the store before. (Where such an intermediate is a
//! temporary nothing else reads, the executor may also skip writing it:
//! see [`crate::exec::assemble`]. A slot the translator reports dead is
//! never read again, so that is invisible here.)

use crate::vm::TrapCode;

/// A frame-relative slot index. Frames are limited to `u16::MAX` slots; the
/// translator rejects larger functions with a clear error.
pub type Slot = u16;

/// `PartialEq` for an operand struct with an `imm` field: compares the
/// listed fields, not `imm`, a copy of a constant operand that `assemble`
/// fills in (two instructions naming the same slots are equal).
macro_rules! eq_ignoring_imm {
    ($t:ident: $($field:ident),*) => {
        impl PartialEq for $t {
            fn eq(&self, other: &$t) -> bool {
                $(self.$field == other.$field)&&*
            }
        }
    };
}

/// Operands of a binary instruction: `dst = lhs OP rhs`.
///
/// `imm` is not an operand but a copy of one: when `rhs` names one of the
/// function's constants, the executor's `assemble` stores the constant
/// here (sign-extended from 32 bits when read; only where that gives the
/// constant's value for the instruction's type) and runs the instruction
/// with a handler that takes `rhs` from the instruction instead of the
/// frame. The translator leaves it 0, and equality ignores it: two `Bin`s
/// name the same operands if their slots are equal.
#[derive(Copy, Clone, Debug, Eq)]
pub struct Bin {
    /// Result slot.
    pub dst: Slot,
    /// Left operand slot.
    pub lhs: Slot,
    /// Right operand slot.
    pub rhs: Slot,
    /// The constant `rhs` names, if `assemble` filled it in (see above).
    pub imm: u32,
}

impl Bin {
    /// `dst = lhs OP rhs`, with no immediate.
    pub const fn new(dst: Slot, lhs: Slot, rhs: Slot) -> Bin {
        Bin {
            dst,
            lhs,
            rhs,
            imm: 0,
        }
    }
}

eq_ignoring_imm!(Bin: dst, lhs, rhs);

/// Operands of a unary instruction: `dst = OP src`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Un {
    /// Result slot.
    pub dst: Slot,
    /// Operand slot.
    pub src: Slot,
}

/// Operands of a fused compare-and-branch: `if lhs CMP rhs { pc += offset }`.
///
/// `imm` is a copy of a constant `rhs`, as in [`Bin`]: filled in by
/// `assemble`, ignored by equality.
#[derive(Copy, Clone, Debug, Eq)]
pub struct BrCmp {
    /// Left operand slot.
    pub lhs: Slot,
    /// Right operand slot.
    pub rhs: Slot,
    /// Relative target, as in [`Op::Br`].
    pub offset: i32,
    /// The constant `rhs` names, if `assemble` filled it in (see [`Bin`]).
    pub imm: u32,
}

impl BrCmp {
    /// `if lhs CMP rhs { pc += offset }`, with no immediate.
    pub const fn new(lhs: Slot, rhs: Slot, offset: i32) -> BrCmp {
        BrCmp {
            lhs,
            rhs,
            offset,
            imm: 0,
        }
    }
}

eq_ignoring_imm!(BrCmp: lhs, rhs, offset);

/// Operands of a load from memory 0: `dst = mem[addr + offset]`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Load {
    /// Result slot.
    pub dst: Slot,
    /// Slot holding the `i32` base address.
    pub addr: Slot,
    /// The static offset from the memarg.
    pub offset: u32,
}

/// Operands of a load from memory 0 at a computed address:
/// `dst = mem[(base + index) mod 2^32 + offset]` — an `i32.add` fused into
/// the load it feeds (see [`Op::I32LoadIdx`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LoadIdx {
    /// Result slot.
    pub dst: Slot,
    /// Slot of the `i32.add`'s left operand.
    pub base: Slot,
    /// Slot of the `i32.add`'s right operand.
    pub index: Slot,
    /// The static offset from the memarg.
    pub offset: u32,
}

/// Operands of a load that then steps its address: `dst = mem[addr +
/// offset]`, then `addr += step` (`i32`, wrapping) — a load and the
/// `i32.add` of a constant to its address slot after it, `*p++` (see
/// [`Op::I32Load8UStep`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LoadStep {
    /// Result slot (not `addr`).
    pub dst: Slot,
    /// Slot holding the `i32` base address, stepped after the load.
    pub addr: Slot,
    /// The static offset from the memarg.
    pub offset: u32,
    /// The constant added to `addr`.
    pub step: u32,
}

/// Operands of a store to memory 0: `mem[addr + offset] = value`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Store {
    /// Slot holding the `i32` base address.
    pub addr: Slot,
    /// Slot holding the value to store.
    pub value: Slot,
    /// The static offset from the memarg.
    pub offset: u32,
}

/// Operands of a scaled add: `dst = (lhs << shift) + rhs`, `i32`, wrapping
/// — an `i32.shl` by a constant fused with the `i32.add` that reads its
/// result, the address arithmetic of `a[i]` (see [`Op::I32ShlAdd`]).
///
/// `imm` is a copy of a constant `rhs`, as in [`Bin`]: filled in by
/// `assemble`, ignored by equality.
#[derive(Copy, Clone, Debug, Eq)]
pub struct ShiftAdd {
    /// Result slot.
    pub dst: Slot,
    /// The slot shifted.
    pub lhs: Slot,
    /// The slot added.
    pub rhs: Slot,
    /// The shift amount (0..32).
    pub shift: u8,
    /// The constant `rhs` names, if `assemble` filled it in.
    pub imm: u32,
}

eq_ignoring_imm!(ShiftAdd: dst, lhs, rhs, shift);

/// Operands of an add whose result is also copied: `dst = lhs + rhs`
/// (`i32`, wrapping), then `copy = dst` — an `i32.add` fused with the
/// [`Op::Copy`] of its result after it (see [`Op::I32AddCopy`]).
///
/// `imm` is a copy of a constant `rhs`, as in [`Bin`]: filled in by
/// `assemble`, ignored by equality.
#[derive(Copy, Clone, Debug, Eq)]
pub struct AddCopy {
    /// Result slot.
    pub dst: Slot,
    /// Left operand slot.
    pub lhs: Slot,
    /// Right operand slot.
    pub rhs: Slot,
    /// The slot the result is copied to as well.
    pub copy: Slot,
    /// The constant `rhs` names, if `assemble` filled it in.
    pub imm: u32,
}

eq_ignoring_imm!(AddCopy: dst, lhs, rhs, copy);

/// Operands of a multiply-add: `dst = lhs * rhs + add` (`i32`, wrapping) —
/// an `i32.mul` fused with the `i32.add` that reads its result (see
/// [`Op::I32MulAdd`]).
///
/// `imm` is a copy of a constant `add`, as `Bin::imm` is of `rhs`: filled
/// in by `assemble`, ignored by equality.
#[derive(Copy, Clone, Debug, Eq)]
pub struct MulAdd {
    /// Result slot.
    pub dst: Slot,
    /// The multiplicand's slot.
    pub lhs: Slot,
    /// The multiplier's slot.
    pub rhs: Slot,
    /// The slot added to the product.
    pub add: Slot,
    /// The constant `add` names, if `assemble` filled it in.
    pub imm: u32,
}

eq_ignoring_imm!(MulAdd: dst, lhs, rhs, add);

/// Operands of a value xored with itself shifted by a constant:
/// `dst = src ^ (src << shift)` or `src ^ (src >> shift)` (`i32`) — a shift
/// fused with the `i32.xor` that reads its result and its operand, the
/// step of xorshift generators and hash finalisers (see
/// [`Op::I32XorShl`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct XorShift {
    /// Result slot.
    pub dst: Slot,
    /// The value shifted and xored.
    pub src: Slot,
    /// The shift amount (0..32).
    pub shift: u8,
}

/// Operands of two counters stepped in a row: `a += step_a`, then
/// `b += step_b` (`i32`, wrapping) — two `i32.add`s of a constant to a slot
/// in place, such as `i++` next to `p += 4` (see [`Op::I32AddPair`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct AddPair {
    /// The first slot stepped.
    pub a: Slot,
    /// The second slot stepped (after the first; it may be the same).
    pub b: Slot,
    /// The constant added to `a`.
    pub step_a: u32,
    /// The constant added to `b`.
    pub step_b: u32,
}

/// Operands of a loop latch: `var += step` (wrapping, `i32`), then a
/// branch on the new value, `if var CMP rhs { pc += offset }` — an `i32.add`
/// of a small constant fused with the compare-and-branch reading its
/// result (see [`Op::I32AddBrNe`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct AddBr {
    /// The counter: read, stepped, written back, compared.
    pub var: Slot,
    /// The constant added.
    pub step: i16,
    /// The slot compared against (unused by [`Op::I32AddBrNez`]).
    pub rhs: Slot,
    /// Relative target, as in [`Op::Br`].
    pub offset: i32,
}

/// [`AddBr`] comparing against a constant.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct AddBrImm {
    /// The counter: read, stepped, written back, compared.
    pub var: Slot,
    /// The constant added.
    pub step: i16,
    /// Relative target, as in [`Op::Br`].
    pub offset: i32,
    /// The constant compared against.
    pub bound: u32,
}

/// A pattern matching every `Op` with a [`Bin`] whose operands are 32-bit
/// (`i32`, `f32`), binding it to `$b`.
macro_rules! narrow_bin {
    ($b:ident) => {
        Op::I32Eq($b)
            | Op::I32Ne($b)
            | Op::I32LtS($b)
            | Op::I32LtU($b)
            | Op::I32GtS($b)
            | Op::I32GtU($b)
            | Op::I32LeS($b)
            | Op::I32LeU($b)
            | Op::I32GeS($b)
            | Op::I32GeU($b)
            | Op::I32Add($b)
            | Op::I32Sub($b)
            | Op::I32Mul($b)
            | Op::I32DivS($b)
            | Op::I32DivU($b)
            | Op::I32RemS($b)
            | Op::I32RemU($b)
            | Op::I32And($b)
            | Op::I32Or($b)
            | Op::I32Xor($b)
            | Op::I32Shl($b)
            | Op::I32ShrS($b)
            | Op::I32ShrU($b)
            | Op::I32Rotl($b)
            | Op::I32Rotr($b)
            | Op::F32Eq($b)
            | Op::F32Ne($b)
            | Op::F32Lt($b)
            | Op::F32Gt($b)
            | Op::F32Le($b)
            | Op::F32Ge($b)
            | Op::F32Add($b)
            | Op::F32Sub($b)
            | Op::F32Mul($b)
            | Op::F32Div($b)
            | Op::F32Min($b)
            | Op::F32Max($b)
            | Op::F32Copysign($b)
            | Op::I32AddAccL($b)
            | Op::I32SubAccL($b)
            | Op::I32MulAccL($b)
            | Op::I32AndAccL($b)
            | Op::I32OrAccL($b)
            | Op::I32XorAccL($b)
            | Op::I32ShlAccL($b)
            | Op::I32ShrSAccL($b)
            | Op::I32ShrUAccL($b)
            | Op::I32RotlAccL($b)
            | Op::I32RotrAccL($b)
            | Op::I32DivUAccL($b)
            | Op::I32RemUAccL($b)
            | Op::I32EqAccL($b)
            | Op::I32NeAccL($b)
            | Op::I32LtSAccL($b)
            | Op::I32LtUAccL($b)
            | Op::I32GtSAccL($b)
            | Op::I32GtUAccL($b)
            | Op::I32LeSAccL($b)
            | Op::I32LeUAccL($b)
            | Op::I32GeSAccL($b)
            | Op::I32GeUAccL($b)
            | Op::I32SubAccR($b)
            | Op::I32ShlAccR($b)
            | Op::I32ShrSAccR($b)
            | Op::I32ShrUAccR($b)
            | Op::F32AddAccL($b)
            | Op::F32AddAccR($b)
            | Op::F32SubAccL($b)
            | Op::F32SubAccR($b)
            | Op::F32MulAccL($b)
            | Op::F32MulAccR($b)
            | Op::F32DivAccL($b)
            | Op::F32DivAccR($b)
            | Op::F32EqAccL($b)
            | Op::F32NeAccL($b)
            | Op::F32LtAccL($b)
            | Op::F32GtAccL($b)
            | Op::F32LeAccL($b)
            | Op::F32GeAccL($b)
    };
}

/// A pattern matching every `Op` with a [`Bin`] whose operands are 64-bit
/// (`i64`, `f64`), binding it to `$b`.
macro_rules! wide_bin {
    ($b:ident) => {
        Op::I64Eq($b)
            | Op::I64Ne($b)
            | Op::I64LtS($b)
            | Op::I64LtU($b)
            | Op::I64GtS($b)
            | Op::I64GtU($b)
            | Op::I64LeS($b)
            | Op::I64LeU($b)
            | Op::I64GeS($b)
            | Op::I64GeU($b)
            | Op::I64Add($b)
            | Op::I64Sub($b)
            | Op::I64Mul($b)
            | Op::I64DivS($b)
            | Op::I64DivU($b)
            | Op::I64RemS($b)
            | Op::I64RemU($b)
            | Op::I64And($b)
            | Op::I64Or($b)
            | Op::I64Xor($b)
            | Op::I64Shl($b)
            | Op::I64ShrS($b)
            | Op::I64ShrU($b)
            | Op::I64Rotl($b)
            | Op::I64Rotr($b)
            | Op::F64Eq($b)
            | Op::F64Ne($b)
            | Op::F64Lt($b)
            | Op::F64Gt($b)
            | Op::F64Le($b)
            | Op::F64Ge($b)
            | Op::F64Add($b)
            | Op::F64Sub($b)
            | Op::F64Mul($b)
            | Op::F64Div($b)
            | Op::F64Min($b)
            | Op::F64Max($b)
            | Op::F64Copysign($b)
            | Op::I64AddAccL($b)
            | Op::I64SubAccL($b)
            | Op::I64MulAccL($b)
            | Op::I64AndAccL($b)
            | Op::I64OrAccL($b)
            | Op::I64XorAccL($b)
            | Op::I64ShlAccL($b)
            | Op::I64ShrUAccL($b)
            | Op::I64DivUAccL($b)
            | Op::I64RemUAccL($b)
            | Op::I64SubAccR($b)
            | Op::I64ShlAccR($b)
            | Op::I64ShrUAccR($b)
            | Op::F64AddAccL($b)
            | Op::F64AddAccR($b)
            | Op::F64SubAccL($b)
            | Op::F64SubAccR($b)
            | Op::F64MulAccL($b)
            | Op::F64MulAccR($b)
            | Op::F64DivAccL($b)
            | Op::F64DivAccR($b)
            | Op::F64EqAccL($b)
            | Op::F64NeAccL($b)
            | Op::F64LtAccL($b)
            | Op::F64GtAccL($b)
            | Op::F64LeAccL($b)
            | Op::F64GeAccL($b)
    };
}

/// A pattern matching every fused compare-and-branch (an `Op` with a
/// [`BrCmp`]), its operands matched by `$p`.
macro_rules! fused_branch {
    ($p:pat) => {
        $crate::bytecode::narrow_branch!($p) | $crate::bytecode::wide_branch!($p)
    };
}

/// A pattern matching every fused compare-and-branch of 32-bit operands.
macro_rules! narrow_branch {
    ($p:pat) => {
        Op::BrIfI32Eq($p)
            | Op::BrIfI32Ne($p)
            | Op::BrIfI32LtS($p)
            | Op::BrIfI32LtU($p)
            | Op::BrIfI32GtS($p)
            | Op::BrIfI32GtU($p)
            | Op::BrIfI32LeS($p)
            | Op::BrIfI32LeU($p)
            | Op::BrIfI32GeS($p)
            | Op::BrIfI32GeU($p)
            | Op::BrIfI32EqAccL($p)
            | Op::BrIfI32NeAccL($p)
            | Op::BrIfI32LtSAccL($p)
            | Op::BrIfI32LtUAccL($p)
            | Op::BrIfI32GtSAccL($p)
            | Op::BrIfI32GtUAccL($p)
            | Op::BrIfI32LeSAccL($p)
            | Op::BrIfI32LeUAccL($p)
            | Op::BrIfI32GeSAccL($p)
            | Op::BrIfI32GeUAccL($p)
            | Op::BrIfI32AndNez($p)
            | Op::BrIfI32AndEqz($p)
            | Op::BrIfI32AndNezAccL($p)
            | Op::BrIfI32AndEqzAccL($p)
    };
}

/// A pattern matching every fused compare-and-branch of 64-bit operands.
macro_rules! wide_branch {
    ($p:pat) => {
        Op::BrIfI64Eq($p)
            | Op::BrIfI64Ne($p)
            | Op::BrIfI64LtS($p)
            | Op::BrIfI64LtU($p)
            | Op::BrIfI64GtS($p)
            | Op::BrIfI64GtU($p)
            | Op::BrIfI64LeS($p)
            | Op::BrIfI64LeU($p)
            | Op::BrIfI64GeS($p)
            | Op::BrIfI64GeU($p)
            | Op::BrIfI64EqAccL($p)
            | Op::BrIfI64NeAccL($p)
            | Op::BrIfI64AndNez($p)
            | Op::BrIfI64AndEqz($p)
            | Op::BrIfI64AndNezAccL($p)
            | Op::BrIfI64AndEqzAccL($p)
    };
}

/// A pattern matching every `…LoadIdx` instruction, its [`LoadIdx`] matched
/// by `$p`.
macro_rules! load_idx {
    ($p:pat) => {
        Op::I32LoadIdx($p)
            | Op::I64LoadIdx($p)
            | Op::F32LoadIdx($p)
            | Op::F64LoadIdx($p)
            | Op::I32Load8SIdx($p)
            | Op::I32Load8UIdx($p)
            | Op::I32Load16SIdx($p)
            | Op::I32Load16UIdx($p)
    };
}
#[cfg(test)]
pub(crate) use {fused_branch, load_idx};
pub(crate) use {narrow_branch, wide_branch};

/// One Kiln instruction. Sixteen bytes at most (checked by a test).
///
/// The wasm instruction each variant implements is named in its doc; the
/// semantics (including traps and float bit patterns) are the wasm spec's.
///
/// `#[repr(u16)]` makes the layout a contract the executor relies on: the
/// first two bytes of every `Op` are its variant's index in declaration
/// order (the executor's handler table is indexed by it), and each variant's
/// fields follow in declaration order, C-style. Fields are ordered so that
/// no variant needs more than 16 bytes.
#[derive(Copy, Clone, Debug, PartialEq)]
#[repr(u16)]
pub enum Op {
    // ----- control -----
    /// `unreachable` and other unconditional traps.
    Trap {
        /// The trap to raise.
        code: TrapCode,
    },
    /// Unconditional branch: `pc += offset`.
    ///
    /// Construct it with [`Op::br`]; the executor's [`link`](crate::exec::link)
    /// step fills in `to` once the function is complete.
    Br {
        /// Relative target.
        offset: i32,
        /// The target instruction's handler, resolved by
        /// [`link`](crate::exec::link).
        to: Link,
    },
    /// Branch if the `i32` in `cond` is non-zero.
    BrIfNez {
        /// Condition slot.
        cond: Slot,
        /// Relative target.
        offset: i32,
    },
    /// Branch if the `i32` in `cond` is zero.
    BrIfEqz {
        /// Condition slot.
        cond: Slot,
        /// Relative target.
        offset: i32,
    },
    /// `br_table`: followed by `len + 1` [`Op::Br`] entries; executes entry
    /// `min(index as u32, len)` (the last entry is the default).
    BrTable {
        /// Slot of the `i32` selector.
        index: Slot,
        /// Number of non-default entries.
        len: u32,
    },
    /// Return from the function; results are already in slots `0..results`.
    Return,
    /// Fuel metering (only with `Config::consume_fuel`): subtracts `amount`
    /// from the store's fuel and traps with `OutOfFuel` if it goes negative.
    /// Emitted at the start of each straight-line region for the whole
    /// region.
    ConsumeFuel {
        /// The region's cost.
        amount: u32,
    },
    /// Epoch interruption (only with `Config::epoch_interruption`): traps
    /// with `Interrupt` if the engine's epoch has reached the store's
    /// deadline. Emitted at function entry and at every loop header.
    CheckEpoch,
    /// Tier-up counting (only with tiered execution), first at a function's
    /// entry: takes `amount` (the size of the code that follows) from the
    /// function's work budget, shared by every instance of the module. Once
    /// the budget is spent, asks the runtime for the function's native code
    /// (which queues its compilation) and, when it is ready, runs the call
    /// natively instead (see `exec/tier.rs`).
    TierUp {
        /// The work charged.
        amount: u32,
    },
    /// The same at a loop header, for loop `loop_index` of the body (loops
    /// counted in order, live or not, as the native tier counts them): once
    /// the budget is spent, moves the running call into native code at
    /// this header (on-stack replacement) when an entry is ready.
    TierUpLoop {
        /// The work charged per iteration.
        amount: u32,
        /// Which loop of the body this is.
        loop_index: u32,
        /// The home slot of operand stack height 0.
        stack: Slot,
        /// The operand stack's height at the header (every value in its
        /// home slot, as at every label).
        height: u16,
    },

    // ----- fused compare-and-branch: `i32.lt_s; br_if`, `i64.ne; if`, ... -----
    /// Branch if `lhs == rhs` (i32).
    BrIfI32Eq(BrCmp),
    /// Branch if `lhs != rhs` (i32).
    BrIfI32Ne(BrCmp),
    /// Branch if `lhs < rhs` (i32, signed).
    BrIfI32LtS(BrCmp),
    /// Branch if `lhs < rhs` (i32, unsigned).
    BrIfI32LtU(BrCmp),
    /// Branch if `lhs > rhs` (i32, signed).
    BrIfI32GtS(BrCmp),
    /// Branch if `lhs > rhs` (i32, unsigned).
    BrIfI32GtU(BrCmp),
    /// Branch if `lhs <= rhs` (i32, signed).
    BrIfI32LeS(BrCmp),
    /// Branch if `lhs <= rhs` (i32, unsigned).
    BrIfI32LeU(BrCmp),
    /// Branch if `lhs >= rhs` (i32, signed).
    BrIfI32GeS(BrCmp),
    /// Branch if `lhs >= rhs` (i32, unsigned).
    BrIfI32GeU(BrCmp),
    /// Branch if `lhs == rhs` (i64).
    BrIfI64Eq(BrCmp),
    /// Branch if `lhs != rhs` (i64).
    BrIfI64Ne(BrCmp),
    /// Branch if `lhs < rhs` (i64, signed).
    BrIfI64LtS(BrCmp),
    /// Branch if `lhs < rhs` (i64, unsigned).
    BrIfI64LtU(BrCmp),
    /// Branch if `lhs > rhs` (i64, signed).
    BrIfI64GtS(BrCmp),
    /// Branch if `lhs > rhs` (i64, unsigned).
    BrIfI64GtU(BrCmp),
    /// Branch if `lhs <= rhs` (i64, signed).
    BrIfI64LeS(BrCmp),
    /// Branch if `lhs <= rhs` (i64, unsigned).
    BrIfI64LeU(BrCmp),
    /// Branch if `lhs >= rhs` (i64, signed).
    BrIfI64GeS(BrCmp),
    /// Branch if `lhs >= rhs` (i64, unsigned).
    BrIfI64GeU(BrCmp),
    /// Branch if `lhs & rhs != 0` (i32): an `i32.and` and the `br_if` on
    /// it (a bit test).
    BrIfI32AndNez(BrCmp),
    /// Branch if `lhs & rhs == 0` (i32): an `i32.and`, `i32.eqz` and the
    /// `br_if` on it, or an `if` on the `and`.
    BrIfI32AndEqz(BrCmp),
    /// Branch if `lhs & rhs != 0` (i64): an `i64.and`, `i64.eqz` and an
    /// `if` on it.
    BrIfI64AndNez(BrCmp),
    /// Branch if `lhs & rhs == 0` (i64): an `i64.and`, `i64.eqz` and the
    /// `br_if` on it.
    BrIfI64AndEqz(BrCmp),
    /// `call`: calls function `func` (module index space) with its frame at
    /// `base` (see the module docs).
    Call {
        /// Function index, imports included.
        func: u32,
        /// Caller slot where the arguments start and the results land.
        base: Slot,
    },
    /// `call_indirect`: calls the function at element `index` of table
    /// `table`, trapping with `IndirectCallToNull` or `BadSignature` if it is
    /// null or not of type `type_index`; `TableOutOfBounds` if out of range.
    CallIndirect {
        /// Expected type (module type index).
        type_index: u32,
        /// Table index.
        table: u32,
        /// Slot of the `i32` element index.
        index: Slot,
        /// Caller slot where the arguments start and the results land.
        base: Slot,
    },

    // ----- data movement -----
    /// `dst = src` (also `local.get`/`local.set`/`local.tee` when they cannot
    /// be folded away, and the `reinterpret` conversions).
    Copy {
        /// Destination slot.
        dst: Slot,
        /// Source slot.
        src: Slot,
    },
    /// Two [`Op::Copy`]s in one: `dst0 = src0`, then `dst1 = src1`; then
    /// skips the next instruction, which is the second copy as it was
    /// before the pair was fused (kept so that no index moves; never a
    /// branch target).
    Copy2 {
        /// First destination slot.
        dst0: Slot,
        /// First source slot.
        src0: Slot,
        /// Second destination slot.
        dst1: Slot,
        /// Second source slot.
        src1: Slot,
    },
    /// `dst = value` for `i32.const` and `f32.const` (zero-extended).
    Const32 {
        /// Destination slot.
        dst: Slot,
        /// The constant's bits.
        value: u32,
    },
    /// `dst = value` for `i64.const`, `f64.const` and `ref.null` (0).
    Const64 {
        /// Destination slot.
        dst: Slot,
        /// The constant's bits.
        value: u64,
    },
    /// `select` (typed or not): `dst = if cond != 0 { if_true } else { if_false }`.
    Select {
        /// Destination slot.
        dst: Slot,
        /// Slot of the `i32` condition.
        cond: Slot,
        /// Value when the condition is non-zero.
        if_true: Slot,
        /// Value when the condition is zero.
        if_false: Slot,
    },
    /// `global.get`.
    GlobalGet {
        /// Destination slot.
        dst: Slot,
        /// Global index.
        global: u32,
    },
    /// `global.set`.
    GlobalSet {
        /// Source slot.
        src: Slot,
        /// Global index.
        global: u32,
    },
    /// `ref.func`: `dst = address of the function's VMFuncRef`.
    RefFunc {
        /// Destination slot.
        dst: Slot,
        /// Function index.
        func: u32,
    },

    // ----- memory (always memory 0 in Wasm 2.0) -----
    /// `i32.load`.
    I32Load(Load),
    /// `i64.load`.
    I64Load(Load),
    /// `f32.load`.
    F32Load(Load),
    /// `f64.load`.
    F64Load(Load),
    /// `i32.load8_s`.
    I32Load8S(Load),
    /// `i32.load8_u`.
    I32Load8U(Load),
    /// `i32.load16_s`.
    I32Load16S(Load),
    /// `i32.load16_u`.
    I32Load16U(Load),
    /// `i64.load8_s`.
    I64Load8S(Load),
    /// `i64.load8_u`.
    I64Load8U(Load),
    /// `i64.load16_s`.
    I64Load16S(Load),
    /// `i64.load16_u`.
    I64Load16U(Load),
    /// `i64.load32_s`.
    I64Load32S(Load),
    /// `i64.load32_u`.
    I64Load32U(Load),
    /// `i32.store`.
    I32Store(Store),
    /// `i64.store`.
    I64Store(Store),
    /// `f32.store`.
    F32Store(Store),
    /// `f64.store`.
    F64Store(Store),
    /// `i32.store8`.
    I32Store8(Store),
    /// `i32.store16`.
    I32Store16(Store),
    /// `i64.store8`.
    I64Store8(Store),
    /// `i64.store16`.
    I64Store16(Store),
    /// `i64.store32`.
    I64Store32(Store),
    /// `memory.size`.
    MemorySize {
        /// Destination slot (pages).
        dst: Slot,
        /// Memory index.
        memory: u32,
    },
    /// `memory.grow`: `dst = old size in pages, or -1`.
    MemoryGrow {
        /// Destination slot.
        dst: Slot,
        /// Slot of the page delta.
        delta: Slot,
        /// Memory index.
        memory: u32,
    },
    /// `memory.fill`.
    MemoryFill {
        /// Slot of the destination address.
        dst: Slot,
        /// Slot of the byte value.
        value: Slot,
        /// Slot of the length.
        len: Slot,
    },
    /// `memory.copy` (within memory 0).
    MemoryCopy {
        /// Slot of the destination address.
        dst: Slot,
        /// Slot of the source address.
        src: Slot,
        /// Slot of the length.
        len: Slot,
    },
    /// `memory.init`.
    MemoryInit {
        /// Data segment index.
        data: u32,
        /// Slot of the destination address.
        dst: Slot,
        /// Slot of the offset in the segment.
        src: Slot,
        /// Slot of the length.
        len: Slot,
    },
    /// `data.drop`.
    DataDrop {
        /// Data segment index.
        data: u32,
    },

    // ----- tables -----
    /// `table.get`.
    TableGet {
        /// Destination slot.
        dst: Slot,
        /// Slot of the element index.
        index: Slot,
        /// Table index.
        table: u32,
    },
    /// `table.set`.
    TableSet {
        /// Slot of the element index.
        index: Slot,
        /// Slot of the reference.
        value: Slot,
        /// Table index.
        table: u32,
    },
    /// `table.size`.
    TableSize {
        /// Destination slot.
        dst: Slot,
        /// Table index.
        table: u32,
    },
    /// `table.grow`: `dst = old size, or -1`.
    TableGrow {
        /// Destination slot.
        dst: Slot,
        /// Slot of the initial reference.
        init: Slot,
        /// Slot of the element delta.
        delta: Slot,
        /// Table index.
        table: u32,
    },
    /// `table.fill`.
    TableFill {
        /// Table index.
        table: u32,
        /// Slot of the first element index.
        dst: Slot,
        /// Slot of the reference.
        value: Slot,
        /// Slot of the length.
        len: Slot,
    },
    /// `table.copy`.
    TableCopy {
        /// Slot of the destination index.
        dst: Slot,
        /// Slot of the source index.
        src: Slot,
        /// Slot of the length.
        len: Slot,
        /// Destination table.
        dst_table: u32,
        /// Source table.
        src_table: u32,
    },
    /// `table.init`.
    TableInit {
        /// Slot of the destination index.
        dst: Slot,
        /// Slot of the offset in the segment.
        src: Slot,
        /// Slot of the length.
        len: Slot,
        /// Table index.
        table: u32,
        /// Element segment index.
        elem: u32,
    },
    /// `elem.drop`.
    ElemDrop {
        /// Element segment index.
        elem: u32,
    },

    // ----- i32 -----
    /// `i32.eqz` (also `ref.is_null` is [`Op::I64Eqz`]).
    I32Eqz(Un),
    /// `i32.eq`.
    I32Eq(Bin),
    /// `i32.ne`.
    I32Ne(Bin),
    /// `i32.lt_s`.
    I32LtS(Bin),
    /// `i32.lt_u`.
    I32LtU(Bin),
    /// `i32.gt_s`.
    I32GtS(Bin),
    /// `i32.gt_u`.
    I32GtU(Bin),
    /// `i32.le_s`.
    I32LeS(Bin),
    /// `i32.le_u`.
    I32LeU(Bin),
    /// `i32.ge_s`.
    I32GeS(Bin),
    /// `i32.ge_u`.
    I32GeU(Bin),
    /// `i32.clz`.
    I32Clz(Un),
    /// `i32.ctz`.
    I32Ctz(Un),
    /// `i32.popcnt`.
    I32Popcnt(Un),
    /// `i32.add`.
    I32Add(Bin),
    /// `i32.sub`.
    I32Sub(Bin),
    /// `i32.mul`.
    I32Mul(Bin),
    /// `i32.div_s`.
    I32DivS(Bin),
    /// `i32.div_u`.
    I32DivU(Bin),
    /// `i32.rem_s`.
    I32RemS(Bin),
    /// `i32.rem_u`.
    I32RemU(Bin),
    /// `i32.and`.
    I32And(Bin),
    /// `i32.or`.
    I32Or(Bin),
    /// `i32.xor`.
    I32Xor(Bin),
    /// `i32.shl`.
    I32Shl(Bin),
    /// `i32.shr_s`.
    I32ShrS(Bin),
    /// `i32.shr_u`.
    I32ShrU(Bin),
    /// `i32.rotl`.
    I32Rotl(Bin),
    /// `i32.rotr`.
    I32Rotr(Bin),

    // ----- i64 -----
    /// `i64.eqz` and `ref.is_null`.
    I64Eqz(Un),
    /// `i64.eq`.
    I64Eq(Bin),
    /// `i64.ne`.
    I64Ne(Bin),
    /// `i64.lt_s`.
    I64LtS(Bin),
    /// `i64.lt_u`.
    I64LtU(Bin),
    /// `i64.gt_s`.
    I64GtS(Bin),
    /// `i64.gt_u`.
    I64GtU(Bin),
    /// `i64.le_s`.
    I64LeS(Bin),
    /// `i64.le_u`.
    I64LeU(Bin),
    /// `i64.ge_s`.
    I64GeS(Bin),
    /// `i64.ge_u`.
    I64GeU(Bin),
    /// `i64.clz`.
    I64Clz(Un),
    /// `i64.ctz`.
    I64Ctz(Un),
    /// `i64.popcnt`.
    I64Popcnt(Un),
    /// `i64.add`.
    I64Add(Bin),
    /// `i64.sub`.
    I64Sub(Bin),
    /// `i64.mul`.
    I64Mul(Bin),
    /// `i64.div_s`.
    I64DivS(Bin),
    /// `i64.div_u`.
    I64DivU(Bin),
    /// `i64.rem_s`.
    I64RemS(Bin),
    /// `i64.rem_u`.
    I64RemU(Bin),
    /// `i64.and`.
    I64And(Bin),
    /// `i64.or`.
    I64Or(Bin),
    /// `i64.xor`.
    I64Xor(Bin),
    /// `i64.shl`.
    I64Shl(Bin),
    /// `i64.shr_s`.
    I64ShrS(Bin),
    /// `i64.shr_u`.
    I64ShrU(Bin),
    /// `i64.rotl`.
    I64Rotl(Bin),
    /// `i64.rotr`.
    I64Rotr(Bin),

    // ----- f32 -----
    /// `f32.eq`.
    F32Eq(Bin),
    /// `f32.ne`.
    F32Ne(Bin),
    /// `f32.lt`.
    F32Lt(Bin),
    /// `f32.gt`.
    F32Gt(Bin),
    /// `f32.le`.
    F32Le(Bin),
    /// `f32.ge`.
    F32Ge(Bin),
    /// `f32.abs`.
    F32Abs(Un),
    /// `f32.neg`.
    F32Neg(Un),
    /// `f32.ceil`.
    F32Ceil(Un),
    /// `f32.floor`.
    F32Floor(Un),
    /// `f32.trunc`.
    F32Trunc(Un),
    /// `f32.nearest`.
    F32Nearest(Un),
    /// `f32.sqrt`.
    F32Sqrt(Un),
    /// `f32.add`.
    F32Add(Bin),
    /// `f32.sub`.
    F32Sub(Bin),
    /// `f32.mul`.
    F32Mul(Bin),
    /// `f32.div`.
    F32Div(Bin),
    /// `f32.min`.
    F32Min(Bin),
    /// `f32.max`.
    F32Max(Bin),
    /// `f32.copysign`.
    F32Copysign(Bin),

    // ----- f64 -----
    /// `f64.eq`.
    F64Eq(Bin),
    /// `f64.ne`.
    F64Ne(Bin),
    /// `f64.lt`.
    F64Lt(Bin),
    /// `f64.gt`.
    F64Gt(Bin),
    /// `f64.le`.
    F64Le(Bin),
    /// `f64.ge`.
    F64Ge(Bin),
    /// `f64.abs`.
    F64Abs(Un),
    /// `f64.neg`.
    F64Neg(Un),
    /// `f64.ceil`.
    F64Ceil(Un),
    /// `f64.floor`.
    F64Floor(Un),
    /// `f64.trunc`.
    F64Trunc(Un),
    /// `f64.nearest`.
    F64Nearest(Un),
    /// `f64.sqrt`.
    F64Sqrt(Un),
    /// `f64.add`.
    F64Add(Bin),
    /// `f64.sub`.
    F64Sub(Bin),
    /// `f64.mul`.
    F64Mul(Bin),
    /// `f64.div`.
    F64Div(Bin),
    /// `f64.min`.
    F64Min(Bin),
    /// `f64.max`.
    F64Max(Bin),
    /// `f64.copysign`.
    F64Copysign(Bin),

    // ----- conversions (the four `reinterpret`s are `Copy`) -----
    /// `i32.wrap_i64`.
    I32WrapI64(Un),
    /// `i32.trunc_f32_s`.
    I32TruncF32S(Un),
    /// `i32.trunc_f32_u`.
    I32TruncF32U(Un),
    /// `i32.trunc_f64_s`.
    I32TruncF64S(Un),
    /// `i32.trunc_f64_u`.
    I32TruncF64U(Un),
    /// `i64.extend_i32_s`.
    I64ExtendI32S(Un),
    /// `i64.extend_i32_u`.
    I64ExtendI32U(Un),
    /// `i64.trunc_f32_s`.
    I64TruncF32S(Un),
    /// `i64.trunc_f32_u`.
    I64TruncF32U(Un),
    /// `i64.trunc_f64_s`.
    I64TruncF64S(Un),
    /// `i64.trunc_f64_u`.
    I64TruncF64U(Un),
    /// `f32.convert_i32_s`.
    F32ConvertI32S(Un),
    /// `f32.convert_i32_u`.
    F32ConvertI32U(Un),
    /// `f32.convert_i64_s`.
    F32ConvertI64S(Un),
    /// `f32.convert_i64_u`.
    F32ConvertI64U(Un),
    /// `f32.demote_f64`.
    F32DemoteF64(Un),
    /// `f64.convert_i32_s`.
    F64ConvertI32S(Un),
    /// `f64.convert_i32_u`.
    F64ConvertI32U(Un),
    /// `f64.convert_i64_s`.
    F64ConvertI64S(Un),
    /// `f64.convert_i64_u`.
    F64ConvertI64U(Un),
    /// `f64.promote_f32`.
    F64PromoteF32(Un),
    /// `i32.extend8_s`.
    I32Extend8S(Un),
    /// `i32.extend16_s`.
    I32Extend16S(Un),
    /// `i64.extend8_s`.
    I64Extend8S(Un),
    /// `i64.extend16_s`.
    I64Extend16S(Un),
    /// `i64.extend32_s`.
    I64Extend32S(Un),
    /// `i32.trunc_sat_f32_s`.
    I32TruncSatF32S(Un),
    /// `i32.trunc_sat_f32_u`.
    I32TruncSatF32U(Un),
    /// `i32.trunc_sat_f64_s`.
    I32TruncSatF64S(Un),
    /// `i32.trunc_sat_f64_u`.
    I32TruncSatF64U(Un),
    /// `i64.trunc_sat_f32_s`.
    I64TruncSatF32S(Un),
    /// `i64.trunc_sat_f32_u`.
    I64TruncSatF32U(Un),
    /// `i64.trunc_sat_f64_s`.
    I64TruncSatF64S(Un),
    /// `i64.trunc_sat_f64_u`.
    I64TruncSatF64U(Un),

    // ----- an operand in the accumulator (see the module docs) -----
    /// `i32.add` with `lhs` read from the accumulator.
    I32AddAccL(Bin),
    /// `i32.sub` with `lhs` read from the accumulator.
    I32SubAccL(Bin),
    /// `i32.mul` with `lhs` read from the accumulator.
    I32MulAccL(Bin),
    /// `i32.and` with `lhs` read from the accumulator.
    I32AndAccL(Bin),
    /// `i32.or` with `lhs` read from the accumulator.
    I32OrAccL(Bin),
    /// `i32.xor` with `lhs` read from the accumulator.
    I32XorAccL(Bin),
    /// `i32.shl` with `lhs` read from the accumulator.
    I32ShlAccL(Bin),
    /// `i32.shr_s` with `lhs` read from the accumulator.
    I32ShrSAccL(Bin),
    /// `i32.shr_u` with `lhs` read from the accumulator.
    I32ShrUAccL(Bin),
    /// `i32.rotl` with `lhs` read from the accumulator.
    I32RotlAccL(Bin),
    /// `i32.rotr` with `lhs` read from the accumulator.
    I32RotrAccL(Bin),
    /// `i32.div_u` with `lhs` read from the accumulator.
    I32DivUAccL(Bin),
    /// `i32.rem_u` with `lhs` read from the accumulator.
    I32RemUAccL(Bin),
    /// `i32.eq` with `lhs` read from the accumulator.
    I32EqAccL(Bin),
    /// `i32.ne` with `lhs` read from the accumulator.
    I32NeAccL(Bin),
    /// `i32.lt_s` with `lhs` read from the accumulator.
    I32LtSAccL(Bin),
    /// `i32.lt_u` with `lhs` read from the accumulator.
    I32LtUAccL(Bin),
    /// `i32.gt_s` with `lhs` read from the accumulator.
    I32GtSAccL(Bin),
    /// `i32.gt_u` with `lhs` read from the accumulator.
    I32GtUAccL(Bin),
    /// `i32.le_s` with `lhs` read from the accumulator.
    I32LeSAccL(Bin),
    /// `i32.le_u` with `lhs` read from the accumulator.
    I32LeUAccL(Bin),
    /// `i32.ge_s` with `lhs` read from the accumulator.
    I32GeSAccL(Bin),
    /// `i32.ge_u` with `lhs` read from the accumulator.
    I32GeUAccL(Bin),
    /// `i64.add` with `lhs` read from the accumulator.
    I64AddAccL(Bin),
    /// `i64.sub` with `lhs` read from the accumulator.
    I64SubAccL(Bin),
    /// `i64.mul` with `lhs` read from the accumulator.
    I64MulAccL(Bin),
    /// `i64.and` with `lhs` read from the accumulator.
    I64AndAccL(Bin),
    /// `i64.or` with `lhs` read from the accumulator.
    I64OrAccL(Bin),
    /// `i64.xor` with `lhs` read from the accumulator.
    I64XorAccL(Bin),
    /// `i64.shl` with `lhs` read from the accumulator.
    I64ShlAccL(Bin),
    /// `i64.shr_u` with `lhs` read from the accumulator.
    I64ShrUAccL(Bin),
    /// `i64.div_u` with `lhs` read from the accumulator.
    I64DivUAccL(Bin),
    /// `i64.rem_u` with `lhs` read from the accumulator.
    I64RemUAccL(Bin),
    /// `i32.sub` with `rhs` read from the accumulator.
    I32SubAccR(Bin),
    /// `i32.shl` with `rhs` read from the accumulator.
    I32ShlAccR(Bin),
    /// `i32.shr_s` with `rhs` read from the accumulator.
    I32ShrSAccR(Bin),
    /// `i32.shr_u` with `rhs` read from the accumulator.
    I32ShrUAccR(Bin),
    /// `i64.sub` with `rhs` read from the accumulator.
    I64SubAccR(Bin),
    /// `i64.shl` with `rhs` read from the accumulator.
    I64ShlAccR(Bin),
    /// `i64.shr_u` with `rhs` read from the accumulator.
    I64ShrUAccR(Bin),
    /// `i32.eqz` with `src` read from the accumulator.
    I32EqzAcc(Un),
    /// `i64.eqz` with `src` read from the accumulator.
    I64EqzAcc(Un),
    /// `i32.wrap_i64` with `src` read from the accumulator.
    I32WrapI64Acc(Un),
    /// `i64.extend_i32_s` with `src` read from the accumulator.
    I64ExtendI32SAcc(Un),
    /// `i64.extend_i32_u` with `src` read from the accumulator.
    I64ExtendI32UAcc(Un),
    /// `i32.extend8_s` with `src` read from the accumulator.
    I32Extend8SAcc(Un),
    /// `i32.extend16_s` with `src` read from the accumulator.
    I32Extend16SAcc(Un),
    /// `f32.convert_i32_s` with `src` read from the accumulator.
    F32ConvertI32SAcc(Un),
    /// `f64.convert_i32_s` with `src` read from the accumulator.
    F64ConvertI32SAcc(Un),
    /// `i32.load` with the address read from the accumulator.
    I32LoadAcc(Load),
    /// `i64.load` with the address read from the accumulator.
    I64LoadAcc(Load),
    /// `f32.load` with the address read from the accumulator.
    F32LoadAcc(Load),
    /// `f64.load` with the address read from the accumulator.
    F64LoadAcc(Load),
    /// `i32.load8_s` with the address read from the accumulator.
    I32Load8SAcc(Load),
    /// `i32.load8_u` with the address read from the accumulator.
    I32Load8UAcc(Load),
    /// `i32.load16_s` with the address read from the accumulator.
    I32Load16SAcc(Load),
    /// `i32.load16_u` with the address read from the accumulator.
    I32Load16UAcc(Load),
    /// `i32.store` with the stored value read from the accumulator.
    I32StoreAccV(Store),
    /// `i64.store` with the stored value read from the accumulator.
    I64StoreAccV(Store),
    /// `i32.store8` with the stored value read from the accumulator.
    I32Store8AccV(Store),
    /// `i32.store16` with the stored value read from the accumulator.
    I32Store16AccV(Store),
    /// `i32.store` with the address read from the accumulator.
    I32StoreAccA(Store),
    /// `i64.store` with the address read from the accumulator.
    I64StoreAccA(Store),
    /// `f32.store` with the address read from the accumulator.
    F32StoreAccA(Store),
    /// `f64.store` with the address read from the accumulator.
    F64StoreAccA(Store),
    /// `i32.store8` with the address read from the accumulator.
    I32Store8AccA(Store),
    /// [`Op::BrIfNez`] with the condition read from the accumulator.
    BrIfNezAcc {
        /// Condition slot (its value is in the accumulator).
        cond: Slot,
        /// Relative target.
        offset: i32,
    },
    /// [`Op::BrIfEqz`] with the condition read from the accumulator.
    BrIfEqzAcc {
        /// Condition slot (its value is in the accumulator).
        cond: Slot,
        /// Relative target.
        offset: i32,
    },
    /// [`Op::BrTable`] with the selector read from the accumulator.
    BrTableAcc {
        /// Slot of the `i32` selector (its value is in the accumulator).
        index: Slot,
        /// Number of non-default entries.
        len: u32,
    },
    /// [`Op::BrIfI32Eq`] with `lhs` read from the accumulator.
    BrIfI32EqAccL(BrCmp),
    /// [`Op::BrIfI32Ne`] with `lhs` read from the accumulator.
    BrIfI32NeAccL(BrCmp),
    /// [`Op::BrIfI32LtS`] with `lhs` read from the accumulator.
    BrIfI32LtSAccL(BrCmp),
    /// [`Op::BrIfI32LtU`] with `lhs` read from the accumulator.
    BrIfI32LtUAccL(BrCmp),
    /// [`Op::BrIfI32GtS`] with `lhs` read from the accumulator.
    BrIfI32GtSAccL(BrCmp),
    /// [`Op::BrIfI32GtU`] with `lhs` read from the accumulator.
    BrIfI32GtUAccL(BrCmp),
    /// [`Op::BrIfI32LeS`] with `lhs` read from the accumulator.
    BrIfI32LeSAccL(BrCmp),
    /// [`Op::BrIfI32LeU`] with `lhs` read from the accumulator.
    BrIfI32LeUAccL(BrCmp),
    /// [`Op::BrIfI32GeS`] with `lhs` read from the accumulator.
    BrIfI32GeSAccL(BrCmp),
    /// [`Op::BrIfI32GeU`] with `lhs` read from the accumulator.
    BrIfI32GeUAccL(BrCmp),
    /// [`Op::BrIfI64Eq`] with `lhs` read from the accumulator.
    BrIfI64EqAccL(BrCmp),
    /// [`Op::BrIfI64Ne`] with `lhs` read from the accumulator.
    BrIfI64NeAccL(BrCmp),
    /// [`Op::BrIfI32AndNez`] with `lhs` read from the accumulator.
    BrIfI32AndNezAccL(BrCmp),
    /// [`Op::BrIfI32AndEqz`] with `lhs` read from the accumulator.
    BrIfI32AndEqzAccL(BrCmp),
    /// [`Op::BrIfI64AndNez`] with `lhs` read from the accumulator.
    BrIfI64AndNezAccL(BrCmp),
    /// [`Op::BrIfI64AndEqz`] with `lhs` read from the accumulator.
    BrIfI64AndEqzAccL(BrCmp),
    /// `f32.add` with `lhs` read from the `f32` accumulator.
    F32AddAccL(Bin),
    /// `f32.add` with `rhs` read from the `f32` accumulator.
    F32AddAccR(Bin),
    /// `f32.sub` with `lhs` read from the `f32` accumulator.
    F32SubAccL(Bin),
    /// `f32.sub` with `rhs` read from the `f32` accumulator.
    F32SubAccR(Bin),
    /// `f32.mul` with `lhs` read from the `f32` accumulator.
    F32MulAccL(Bin),
    /// `f32.mul` with `rhs` read from the `f32` accumulator.
    F32MulAccR(Bin),
    /// `f32.div` with `lhs` read from the `f32` accumulator.
    F32DivAccL(Bin),
    /// `f32.div` with `rhs` read from the `f32` accumulator.
    F32DivAccR(Bin),
    /// `f64.add` with `lhs` read from the `f64` accumulator.
    F64AddAccL(Bin),
    /// `f64.add` with `rhs` read from the `f64` accumulator.
    F64AddAccR(Bin),
    /// `f64.sub` with `lhs` read from the `f64` accumulator.
    F64SubAccL(Bin),
    /// `f64.sub` with `rhs` read from the `f64` accumulator.
    F64SubAccR(Bin),
    /// `f64.mul` with `lhs` read from the `f64` accumulator.
    F64MulAccL(Bin),
    /// `f64.mul` with `rhs` read from the `f64` accumulator.
    F64MulAccR(Bin),
    /// `f64.div` with `lhs` read from the `f64` accumulator.
    F64DivAccL(Bin),
    /// `f64.div` with `rhs` read from the `f64` accumulator.
    F64DivAccR(Bin),
    /// `f32.store` with the stored value read from the `f32` accumulator.
    F32StoreAccV(Store),
    /// `f64.store` with the stored value read from the `f64` accumulator.
    F64StoreAccV(Store),
    /// `f32.eq` with `lhs` read from the `f32` accumulator.
    F32EqAccL(Bin),
    /// `f32.ne` with `lhs` read from the `f32` accumulator.
    F32NeAccL(Bin),
    /// `f32.lt` with `lhs` read from the `f32` accumulator.
    F32LtAccL(Bin),
    /// `f32.gt` with `lhs` read from the `f32` accumulator.
    F32GtAccL(Bin),
    /// `f32.le` with `lhs` read from the `f32` accumulator.
    F32LeAccL(Bin),
    /// `f32.ge` with `lhs` read from the `f32` accumulator.
    F32GeAccL(Bin),
    /// `f64.eq` with `lhs` read from the `f64` accumulator.
    F64EqAccL(Bin),
    /// `f64.ne` with `lhs` read from the `f64` accumulator.
    F64NeAccL(Bin),
    /// `f64.lt` with `lhs` read from the `f64` accumulator.
    F64LtAccL(Bin),
    /// `f64.gt` with `lhs` read from the `f64` accumulator.
    F64GtAccL(Bin),
    /// `f64.le` with `lhs` read from the `f64` accumulator.
    F64LeAccL(Bin),
    /// `f64.ge` with `lhs` read from the `f64` accumulator.
    F64GeAccL(Bin),

    // ----- address arithmetic fused into loads -----
    // Each replaces an `i32.add` whose result only the next instruction, a
    // load taking its address from the accumulator, reads: the pair is
    // one instruction, which then skips that load (left in place so that
    // no index moves; never a branch target). Like the loads, they leave the
    // loaded bits in the integer accumulator.
    /// `i32.load` of `base + index`, then skips an instruction.
    I32LoadIdx(LoadIdx),
    /// `i64.load` of `base + index`, then skips an instruction.
    I64LoadIdx(LoadIdx),
    /// `f32.load` of `base + index`, then skips an instruction.
    F32LoadIdx(LoadIdx),
    /// `f64.load` of `base + index`, then skips an instruction.
    F64LoadIdx(LoadIdx),
    /// `i32.load8_s` of `base + index`, then skips an instruction.
    I32Load8SIdx(LoadIdx),
    /// `i32.load8_u` of `base + index`, then skips an instruction.
    I32Load8UIdx(LoadIdx),
    /// `i32.load16_s` of `base + index`, then skips an instruction.
    I32Load16SIdx(LoadIdx),
    /// `i32.load16_u` of `base + index`, then skips an instruction.
    I32Load16UIdx(LoadIdx),
    /// `var += step; if var != rhs` branch, else skip an instruction: an
    /// `i32.add` and the [`Op::BrIfI32NeAccL`] after it.
    I32AddBrNe(AddBr),
    /// [`Op::I32AddBrNe`] against a constant.
    I32AddBrNeImm(AddBrImm),
    /// `var += step; if var != 0` branch, else skip an instruction: an
    /// `i32.add` and the [`Op::BrIfNezAcc`] after it.
    I32AddBrNez(AddBr),
    /// `dst = (lhs << shift) + rhs`, then skip an instruction: an
    /// `i32.shl` by a constant and the [`Op::I32AddAccL`] after it.
    I32ShlAdd(ShiftAdd),
    /// [`Op::I32ShlAdd`] with `lhs` read from the accumulator (an
    /// [`Op::I32ShlAccL`] and the add after it).
    I32ShlAddAccL(ShiftAdd),
    /// `dst = lhs + rhs` and `copy = dst`, then skip an instruction: an
    /// [`Op::I32Add`] and the [`Op::Copy`] of its result after it (a value
    /// kept in two locals, as in `j = i - 1; i = j`).
    I32AddCopy(AddCopy),
    /// `a += step_a; b += step_b`, then skip an instruction: two
    /// [`Op::I32Add`]s in a row, each adding a constant to a slot in place.
    I32AddPair(AddPair),
    /// `dst = lhs * rhs + add`, then skip an instruction: an [`Op::I32Mul`]
    /// and the [`Op::I32AddAccL`] that takes the product from the
    /// accumulator (`a[i] += x * b[j]`, `h * 5 + c`).
    I32MulAdd(MulAdd),
    /// [`Op::I32MulAdd`] with `lhs` read from the accumulator (an
    /// [`Op::I32MulAccL`] and the add after it).
    I32MulAddAccL(MulAdd),
    /// `dst = src ^ (src << shift)`, then skip an instruction: an
    /// `i32.shl` by a constant and the [`Op::I32XorAccL`] of its result
    /// with its operand.
    I32XorShl(XorShift),
    /// [`Op::I32XorShl`] with `src` read from the accumulator.
    I32XorShlAccL(XorShift),
    /// `dst = src ^ (src >> shift)` (logical), then skip an instruction: an
    /// `i32.shr_u` by a constant and the [`Op::I32XorAccL`] of its result
    /// with its operand.
    I32XorShrU(XorShift),
    /// [`Op::I32XorShrU`] with `src` read from the accumulator.
    I32XorShrUAccL(XorShift),
    /// `i32.load` of `addr`, then `addr += step` and skip an instruction:
    /// the load and the [`Op::I32Add`] stepping its address after it.
    I32LoadStep(LoadStep),
    /// `i32.load8_u` of `addr`, then `addr += step` and skip an
    /// instruction (a byte loop's `*p++`).
    I32Load8UStep(LoadStep),
    /// `dst = src`, then `pc += offset`: a [`Op::Copy`] and the [`Op::Br`]
    /// after it (the values a branch carries to its label).
    CopyBr {
        /// Destination slot.
        dst: Slot,
        /// Source slot.
        src: Slot,
        /// Relative target, as in [`Op::Br`].
        offset: i32,
    },
    /// [`Op::Copy2`] then `pc += offset`: a `Copy2` (with the `Copy` it
    /// skips) and the [`Op::Br`] after them.
    Copy2Br {
        /// First destination slot.
        dst0: Slot,
        /// First source slot.
        src0: Slot,
        /// Second destination slot.
        dst1: Slot,
        /// Second source slot (read after the first copy).
        src1: Slot,
        /// Relative target, as in [`Op::Br`].
        offset: i32,
    },
}

/// One instruction as the executor holds it: the [`Op`], preceded by the
/// address of its handler.
///
/// Carrying the handler in the instruction stream ("direct threading") lets
/// each handler continue with one load — the next instruction's handler,
/// next to its operands — instead of two dependent ones (the tag, then the
/// handler table). The executor's [`assemble`](crate::exec::assemble)
/// makes these from a finished function's `Op`s; the field is private, so
/// an `Inst` never holds anything but the right handler.
#[derive(Copy, Clone, Debug)]
#[repr(C)]
pub struct Inst {
    /// The address of the executor's handler for `op`.
    pub(crate) handler: usize,
    /// The instruction.
    pub op: Op,
}

/// A translated function: its instructions and the shape of its frame.
#[derive(Clone, Debug)]
pub struct CompiledFunc {
    /// The instructions, assembled for the executor; execution starts at
    /// index 0. [`CompiledFunc::ops`] lists the bare `Op`s.
    pub code: Box<[Inst]>,
    /// Number of parameters (slots `0..num_params`).
    pub num_params: u16,
    /// Number of results (left in slots `0..num_results` at `Return`).
    pub num_results: u16,
    /// Parameters plus declared locals; slots `num_params..num_locals` are
    /// zeroed on entry.
    pub num_locals: u16,
    /// Slots the frame may touch: `num_locals` + constants + the maximum
    /// operand stack height. At least `max(num_params, num_results)`.
    pub frame_size: u16,
    /// Constants copied into slots `num_locals..num_locals + consts.len()`
    /// on entry.
    pub consts: Box<[u64]>,
    /// The function's index in its module (imports first), for backtraces:
    /// kept here so that a call's frame record need not carry it.
    pub func_index: u32,
    /// The function's tier-up work budget, with tiered execution: shared by
    /// every instance of the module, since they all share this bytecode.
    pub tier_budget: TierBudget,
}

/// What is left of a function's tier-up budget (see [`Op::TierUp`]).
///
/// Updated with relaxed loads and stores, not read-modify-writes: threads
/// running the same function may lose each other's updates, which only
/// delays the tier-up a little, and the counting costs no locked
/// instruction.
#[derive(Debug, Default)]
pub struct TierBudget {
    left: core::sync::atomic::AtomicI64,
    /// Where the budget restarts after a request for native code that is
    /// not ready yet: how often to ask again.
    poll: i64,
}

impl TierBudget {
    /// A budget of `budget` work units.
    pub fn new(budget: u64) -> TierBudget {
        let budget = i64::try_from(budget).unwrap_or(i64::MAX);
        TierBudget {
            left: core::sync::atomic::AtomicI64::new(budget),
            poll: (budget / 8).max(1),
        }
    }

    /// Takes `amount`; whether some budget is left.
    #[inline(always)]
    pub fn charge(&self, amount: u32) -> bool {
        use core::sync::atomic::Ordering::Relaxed;
        let left = self.left.load(Relaxed) - i64::from(amount);
        self.left.store(left, Relaxed);
        left >= 0
    }

    /// Restarts the budget at its polling interval.
    pub fn rearm(&self) {
        self.left
            .store(self.poll, core::sync::atomic::Ordering::Relaxed);
    }

    /// What is left (for tests and statistics).
    pub fn left(&self) -> i64 {
        self.left.load(core::sync::atomic::Ordering::Relaxed)
    }
}

impl Clone for TierBudget {
    fn clone(&self) -> Self {
        TierBudget {
            left: core::sync::atomic::AtomicI64::new(self.left()),
            poll: self.poll,
        }
    }
}

impl CompiledFunc {
    /// The function's instructions, in order, as the translator wrote them:
    /// branch offsets counted in instructions (the executor runs them
    /// counted in bytes, see [`Op::branch_offset`]).
    pub fn ops(&self) -> impl ExactSizeIterator<Item = Op> + '_ {
        self.code.iter().map(|inst| inst.op.in_instructions())
    }
}

/// What [`Op::Br`] knows of its target beyond the offset: the address of
/// the handler of the instruction it lands on, which the executor's
/// [`link`](crate::exec::link) step fills in after translation. With it, a
/// branch — a `br_table` entry above all — jumps to its target's handler
/// with one load instead of three (offset, then the target's tag, then the
/// handler table), which shortens the dependency chain an unpredictable
/// `br_table` waits on. Opaque to everything but the executor; [`Link::NONE`]
/// until linked.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Link(pub(crate) usize);

impl Link {
    /// Not linked yet.
    pub const NONE: Link = Link(0);
}

/// Which accumulator an instruction sets (see the module docs).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Acc {
    /// The integer accumulator: the 64 bits written.
    Int,
    /// The `f32` accumulator.
    F32,
    /// The `f64` accumulator.
    F64,
}

impl Op {
    /// The right operand slot of an instruction that can take it as an
    /// immediate (a binary instruction or a fused compare-and-branch), its
    /// immediate field, and whether the operands are 64-bit.
    pub fn immediate_mut(&mut self) -> Option<(&mut Slot, &mut u32, bool)> {
        match self {
            narrow_bin!(b) => Some((&mut b.rhs, &mut b.imm, false)),
            wide_bin!(b) => Some((&mut b.rhs, &mut b.imm, true)),
            narrow_branch!(b) => Some((&mut b.rhs, &mut b.imm, false)),
            Op::I32ShlAdd(s) | Op::I32ShlAddAccL(s) => Some((&mut s.rhs, &mut s.imm, false)),
            Op::I32AddCopy(c) => Some((&mut c.rhs, &mut c.imm, false)),
            Op::I32MulAdd(m) | Op::I32MulAddAccL(m) => Some((&mut m.add, &mut m.imm, false)),
            wide_branch!(b) => Some((&mut b.rhs, &mut b.imm, true)),
            _ => None,
        }
    }

    /// Whether the instruction skips the one after it ([`Op::Copy2`], the
    /// `…LoadIdx` loads): that one is a leftover of a fusion and never runs.
    pub fn skips_next(&self) -> bool {
        matches!(
            self,
            Op::Copy2 { .. }
                | load_idx!(_)
                | Op::I32AddBrNe(_)
                | Op::I32AddBrNeImm(_)
                | Op::I32AddBrNez(_)
                | Op::I32ShlAdd(_)
                | Op::I32ShlAddAccL(_)
                | Op::I32AddCopy(_)
                | Op::I32AddPair(_)
                | Op::I32MulAdd(_)
                | Op::I32MulAddAccL(_)
                | Op::I32XorShl(_)
                | Op::I32XorShlAccL(_)
                | Op::I32XorShrU(_)
                | Op::I32XorShrUAccL(_)
                | Op::I32LoadStep(_)
                | Op::I32Load8UStep(_)
                | Op::CopyBr { .. }
                | Op::Copy2Br { .. }
        )
    }

    /// An unlinked [`Op::Br`] by `offset`.
    pub const fn br(offset: i32) -> Op {
        Op::Br {
            offset,
            to: Link::NONE,
        }
    }

    /// The relative target of a branch instruction (`BrTable` entries are
    /// `Br`s); `None` for others.
    ///
    /// The translator counts it in instructions. [`assemble`]
    /// (crate::exec::assemble), the last step, rescales every offset to
    /// bytes: a taken branch then finds its target with one add to the
    /// instruction pointer instead of a multiply and an add, and on a loop's
    /// back edge or a dispatch loop's `br_table` the next instruction's
    /// address waits on that step.
    pub fn branch_offset(&self) -> Option<i32> {
        let mut op = *self;
        op.branch_offset_mut().copied()
    }

    /// This instruction with its branch offset (if any) counted in
    /// instructions again, as the translator wrote it, from the bytes an
    /// assembled instruction holds (see [`Op::branch_offset`]).
    pub fn in_instructions(self) -> Op {
        let mut op = self;
        if let Some(offset) = op.branch_offset_mut() {
            *offset /= size_of::<Inst>() as i32;
        }
        op
    }

    /// The relative target of a branch instruction, for the translator to
    /// read or patch (`BrTable` entries are `Br`s); `None` for others.
    pub fn branch_offset_mut(&mut self) -> Option<&mut i32> {
        match self {
            Op::Br { offset, .. }
            | Op::BrIfNez { offset, .. }
            | Op::BrIfEqz { offset, .. }
            | Op::BrIfNezAcc { offset, .. }
            | Op::BrIfEqzAcc { offset, .. } => Some(offset),
            fused_branch!(b) => Some(&mut b.offset),
            Op::I32AddBrNe(a) | Op::I32AddBrNez(a) => Some(&mut a.offset),
            Op::I32AddBrNeImm(a) => Some(&mut a.offset),
            Op::CopyBr { offset, .. } | Op::Copy2Br { offset, .. } => Some(offset),
            _ => None,
        }
    }

    /// The slot this instruction writes and the accumulator in which it
    /// also leaves the value, if it sets one (see the module docs): the
    /// integer accumulator for the integer instructions (arithmetic,
    /// comparisons, conversions between integers, loads), float
    /// comparisons, `Copy`, the constants, `Select` and `GlobalGet`; the
    /// float accumulators for float arithmetic (not the sign-bit
    /// operations) and conversions to floats.
    pub fn acc_dst(&self) -> Option<(Slot, Acc)> {
        match *self {
            Op::I32Eq(Bin { dst, .. })
            | Op::I32Ne(Bin { dst, .. })
            | Op::I32LtS(Bin { dst, .. })
            | Op::I32LtU(Bin { dst, .. })
            | Op::I32GtS(Bin { dst, .. })
            | Op::I32GtU(Bin { dst, .. })
            | Op::I32LeS(Bin { dst, .. })
            | Op::I32LeU(Bin { dst, .. })
            | Op::I32GeS(Bin { dst, .. })
            | Op::I32GeU(Bin { dst, .. })
            | Op::I32Add(Bin { dst, .. })
            | Op::I32Sub(Bin { dst, .. })
            | Op::I32Mul(Bin { dst, .. })
            | Op::I32DivS(Bin { dst, .. })
            | Op::I32DivU(Bin { dst, .. })
            | Op::I32RemS(Bin { dst, .. })
            | Op::I32RemU(Bin { dst, .. })
            | Op::I32And(Bin { dst, .. })
            | Op::I32Or(Bin { dst, .. })
            | Op::I32Xor(Bin { dst, .. })
            | Op::I32Shl(Bin { dst, .. })
            | Op::I32ShrS(Bin { dst, .. })
            | Op::I32ShrU(Bin { dst, .. })
            | Op::I32Rotl(Bin { dst, .. })
            | Op::I32Rotr(Bin { dst, .. })
            | Op::I64Eq(Bin { dst, .. })
            | Op::I64Ne(Bin { dst, .. })
            | Op::I64LtS(Bin { dst, .. })
            | Op::I64LtU(Bin { dst, .. })
            | Op::I64GtS(Bin { dst, .. })
            | Op::I64GtU(Bin { dst, .. })
            | Op::I64LeS(Bin { dst, .. })
            | Op::I64LeU(Bin { dst, .. })
            | Op::I64GeS(Bin { dst, .. })
            | Op::I64GeU(Bin { dst, .. })
            | Op::I64Add(Bin { dst, .. })
            | Op::I64Sub(Bin { dst, .. })
            | Op::I64Mul(Bin { dst, .. })
            | Op::I64DivS(Bin { dst, .. })
            | Op::I64DivU(Bin { dst, .. })
            | Op::I64RemS(Bin { dst, .. })
            | Op::I64RemU(Bin { dst, .. })
            | Op::I64And(Bin { dst, .. })
            | Op::I64Or(Bin { dst, .. })
            | Op::I64Xor(Bin { dst, .. })
            | Op::I64Shl(Bin { dst, .. })
            | Op::I64ShrS(Bin { dst, .. })
            | Op::I64ShrU(Bin { dst, .. })
            | Op::I64Rotl(Bin { dst, .. })
            | Op::I64Rotr(Bin { dst, .. })
            | Op::I32AddAccL(Bin { dst, .. })
            | Op::I32SubAccL(Bin { dst, .. })
            | Op::I32MulAccL(Bin { dst, .. })
            | Op::I32AndAccL(Bin { dst, .. })
            | Op::I32OrAccL(Bin { dst, .. })
            | Op::I32XorAccL(Bin { dst, .. })
            | Op::I32ShlAccL(Bin { dst, .. })
            | Op::I32ShrSAccL(Bin { dst, .. })
            | Op::I32ShrUAccL(Bin { dst, .. })
            | Op::I32RotlAccL(Bin { dst, .. })
            | Op::I32RotrAccL(Bin { dst, .. })
            | Op::I32DivUAccL(Bin { dst, .. })
            | Op::I32RemUAccL(Bin { dst, .. })
            | Op::I32EqAccL(Bin { dst, .. })
            | Op::I32NeAccL(Bin { dst, .. })
            | Op::I32LtSAccL(Bin { dst, .. })
            | Op::I32LtUAccL(Bin { dst, .. })
            | Op::I32GtSAccL(Bin { dst, .. })
            | Op::I32GtUAccL(Bin { dst, .. })
            | Op::I32LeSAccL(Bin { dst, .. })
            | Op::I32LeUAccL(Bin { dst, .. })
            | Op::I32GeSAccL(Bin { dst, .. })
            | Op::I32GeUAccL(Bin { dst, .. })
            | Op::I64AddAccL(Bin { dst, .. })
            | Op::I64SubAccL(Bin { dst, .. })
            | Op::I64MulAccL(Bin { dst, .. })
            | Op::I64AndAccL(Bin { dst, .. })
            | Op::I64OrAccL(Bin { dst, .. })
            | Op::I64XorAccL(Bin { dst, .. })
            | Op::I64ShlAccL(Bin { dst, .. })
            | Op::I64ShrUAccL(Bin { dst, .. })
            | Op::I64DivUAccL(Bin { dst, .. })
            | Op::I64RemUAccL(Bin { dst, .. })
            | Op::I32SubAccR(Bin { dst, .. })
            | Op::I32ShlAccR(Bin { dst, .. })
            | Op::I32ShrSAccR(Bin { dst, .. })
            | Op::I32ShrUAccR(Bin { dst, .. })
            | Op::I64SubAccR(Bin { dst, .. })
            | Op::I64ShlAccR(Bin { dst, .. })
            | Op::I64ShrUAccR(Bin { dst, .. })
            | Op::I32Eqz(Un { dst, .. })
            | Op::I32Clz(Un { dst, .. })
            | Op::I32Ctz(Un { dst, .. })
            | Op::I32Popcnt(Un { dst, .. })
            | Op::I64Eqz(Un { dst, .. })
            | Op::I64Clz(Un { dst, .. })
            | Op::I64Ctz(Un { dst, .. })
            | Op::I64Popcnt(Un { dst, .. })
            | Op::I32WrapI64(Un { dst, .. })
            | Op::I64ExtendI32S(Un { dst, .. })
            | Op::I64ExtendI32U(Un { dst, .. })
            | Op::I32Extend8S(Un { dst, .. })
            | Op::I32Extend16S(Un { dst, .. })
            | Op::I64Extend8S(Un { dst, .. })
            | Op::I64Extend16S(Un { dst, .. })
            | Op::I64Extend32S(Un { dst, .. })
            | Op::I32EqzAcc(Un { dst, .. })
            | Op::I64EqzAcc(Un { dst, .. })
            | Op::I32WrapI64Acc(Un { dst, .. })
            | Op::I64ExtendI32SAcc(Un { dst, .. })
            | Op::I64ExtendI32UAcc(Un { dst, .. })
            | Op::I32Extend8SAcc(Un { dst, .. })
            | Op::I32Extend16SAcc(Un { dst, .. })
            | Op::I32Load(Load { dst, .. })
            | Op::I64Load(Load { dst, .. })
            | Op::F32Load(Load { dst, .. })
            | Op::F64Load(Load { dst, .. })
            | Op::I32Load8S(Load { dst, .. })
            | Op::I32Load8U(Load { dst, .. })
            | Op::I32Load16S(Load { dst, .. })
            | Op::I32Load16U(Load { dst, .. })
            | Op::I64Load8S(Load { dst, .. })
            | Op::I64Load8U(Load { dst, .. })
            | Op::I64Load16S(Load { dst, .. })
            | Op::I64Load16U(Load { dst, .. })
            | Op::I64Load32S(Load { dst, .. })
            | Op::I64Load32U(Load { dst, .. })
            | Op::I32LoadAcc(Load { dst, .. })
            | Op::I64LoadAcc(Load { dst, .. })
            | Op::F32LoadAcc(Load { dst, .. })
            | Op::F64LoadAcc(Load { dst, .. })
            | Op::I32Load8SAcc(Load { dst, .. })
            | Op::I32Load8UAcc(Load { dst, .. })
            | Op::I32Load16SAcc(Load { dst, .. })
            | Op::I32Load16UAcc(Load { dst, .. })
            | Op::Copy { dst, .. }
            | Op::Copy2 { dst1: dst, .. }
            | load_idx!(LoadIdx { dst, .. })
            | Op::Const32 { dst, .. }
            | Op::Const64 { dst, .. }
            | Op::Select { dst, .. }
            | Op::F32Eq(Bin { dst, .. })
            | Op::F32Ne(Bin { dst, .. })
            | Op::F32Lt(Bin { dst, .. })
            | Op::F32Gt(Bin { dst, .. })
            | Op::F32Le(Bin { dst, .. })
            | Op::F32Ge(Bin { dst, .. })
            | Op::F64Eq(Bin { dst, .. })
            | Op::F64Ne(Bin { dst, .. })
            | Op::F64Lt(Bin { dst, .. })
            | Op::F64Gt(Bin { dst, .. })
            | Op::F64Le(Bin { dst, .. })
            | Op::F64Ge(Bin { dst, .. })
            | Op::F32EqAccL(Bin { dst, .. })
            | Op::F32NeAccL(Bin { dst, .. })
            | Op::F32LtAccL(Bin { dst, .. })
            | Op::F32GtAccL(Bin { dst, .. })
            | Op::F32LeAccL(Bin { dst, .. })
            | Op::F32GeAccL(Bin { dst, .. })
            | Op::F64EqAccL(Bin { dst, .. })
            | Op::F64NeAccL(Bin { dst, .. })
            | Op::F64LtAccL(Bin { dst, .. })
            | Op::F64GtAccL(Bin { dst, .. })
            | Op::F64LeAccL(Bin { dst, .. })
            | Op::F64GeAccL(Bin { dst, .. })
            | Op::GlobalGet { dst, .. }
            | Op::I32ShlAdd(ShiftAdd { dst, .. })
            | Op::I32ShlAddAccL(ShiftAdd { dst, .. })
            | Op::I32AddCopy(AddCopy { copy: dst, .. })
            | Op::I32AddPair(AddPair { b: dst, .. })
            | Op::I32MulAdd(MulAdd { dst, .. })
            | Op::I32MulAddAccL(MulAdd { dst, .. })
            | Op::I32XorShl(XorShift { dst, .. })
            | Op::I32XorShlAccL(XorShift { dst, .. })
            | Op::I32XorShrU(XorShift { dst, .. })
            | Op::I32XorShrUAccL(XorShift { dst, .. })
            | Op::I32LoadStep(LoadStep { addr: dst, .. })
            | Op::I32Load8UStep(LoadStep { addr: dst, .. }) => Some((dst, Acc::Int)),
            Op::F32Add(Bin { dst, .. })
            | Op::F32Sub(Bin { dst, .. })
            | Op::F32Mul(Bin { dst, .. })
            | Op::F32Div(Bin { dst, .. })
            | Op::F32Min(Bin { dst, .. })
            | Op::F32Max(Bin { dst, .. })
            | Op::F32AddAccL(Bin { dst, .. })
            | Op::F32AddAccR(Bin { dst, .. })
            | Op::F32SubAccL(Bin { dst, .. })
            | Op::F32SubAccR(Bin { dst, .. })
            | Op::F32MulAccL(Bin { dst, .. })
            | Op::F32MulAccR(Bin { dst, .. })
            | Op::F32DivAccL(Bin { dst, .. })
            | Op::F32DivAccR(Bin { dst, .. })
            | Op::F32Sqrt(Un { dst, .. })
            | Op::F32Ceil(Un { dst, .. })
            | Op::F32Floor(Un { dst, .. })
            | Op::F32Trunc(Un { dst, .. })
            | Op::F32Nearest(Un { dst, .. })
            | Op::F32ConvertI32S(Un { dst, .. })
            | Op::F32ConvertI32U(Un { dst, .. })
            | Op::F32ConvertI64S(Un { dst, .. })
            | Op::F32ConvertI64U(Un { dst, .. })
            | Op::F32DemoteF64(Un { dst, .. })
            | Op::F32ConvertI32SAcc(Un { dst, .. }) => Some((dst, Acc::F32)),
            Op::F64Add(Bin { dst, .. })
            | Op::F64Sub(Bin { dst, .. })
            | Op::F64Mul(Bin { dst, .. })
            | Op::F64Div(Bin { dst, .. })
            | Op::F64Min(Bin { dst, .. })
            | Op::F64Max(Bin { dst, .. })
            | Op::F64AddAccL(Bin { dst, .. })
            | Op::F64AddAccR(Bin { dst, .. })
            | Op::F64SubAccL(Bin { dst, .. })
            | Op::F64SubAccR(Bin { dst, .. })
            | Op::F64MulAccL(Bin { dst, .. })
            | Op::F64MulAccR(Bin { dst, .. })
            | Op::F64DivAccL(Bin { dst, .. })
            | Op::F64DivAccR(Bin { dst, .. })
            | Op::F64Sqrt(Un { dst, .. })
            | Op::F64Ceil(Un { dst, .. })
            | Op::F64Floor(Un { dst, .. })
            | Op::F64Trunc(Un { dst, .. })
            | Op::F64Nearest(Un { dst, .. })
            | Op::F64ConvertI32S(Un { dst, .. })
            | Op::F64ConvertI32U(Un { dst, .. })
            | Op::F64ConvertI64S(Un { dst, .. })
            | Op::F64ConvertI64U(Un { dst, .. })
            | Op::F64PromoteF32(Un { dst, .. })
            | Op::F64ConvertI32SAcc(Un { dst, .. }) => Some((dst, Acc::F64)),
            _ => None,
        }
    }

    /// Calls `f` on every slot operand of the instruction (read or written),
    /// letting it rewrite them. The translator uses this to place slots once
    /// the frame's layout is known.
    pub fn map_slots(&mut self, mut f: impl FnMut(Slot) -> Slot) {
        macro_rules! each {
            ($($s:expr),*) => {{ $( *$s = f(*$s); )* }};
        }
        match self {
            Op::Trap { .. }
            | Op::Br { .. }
            | Op::Return
            | Op::ConsumeFuel { .. }
            | Op::CheckEpoch
            | Op::TierUp { .. }
            | Op::DataDrop { .. }
            | Op::ElemDrop { .. } => {}
            Op::BrIfNez { cond, .. }
            | Op::BrIfEqz { cond, .. }
            | Op::BrIfNezAcc { cond, .. }
            | Op::BrIfEqzAcc { cond, .. } => each!(cond),
            Op::BrTable { index, .. } | Op::BrTableAcc { index, .. } => each!(index),
            Op::TierUpLoop { stack, .. } => each!(stack),
            fused_branch!(b) => each!(&mut b.lhs, &mut b.rhs),
            Op::I32AddBrNe(a) | Op::I32AddBrNez(a) => each!(&mut a.var, &mut a.rhs),
            Op::I32AddBrNeImm(a) => each!(&mut a.var),
            Op::I32ShlAdd(s) | Op::I32ShlAddAccL(s) => each!(&mut s.dst, &mut s.lhs, &mut s.rhs),
            Op::I32AddCopy(c) => each!(&mut c.dst, &mut c.lhs, &mut c.rhs, &mut c.copy),
            Op::I32AddPair(p) => each!(&mut p.a, &mut p.b),
            Op::I32MulAdd(m) | Op::I32MulAddAccL(m) => {
                each!(&mut m.dst, &mut m.lhs, &mut m.rhs, &mut m.add)
            }
            Op::I32XorShl(x) | Op::I32XorShlAccL(x) | Op::I32XorShrU(x) | Op::I32XorShrUAccL(x) => {
                each!(&mut x.dst, &mut x.src)
            }
            Op::I32LoadStep(l) | Op::I32Load8UStep(l) => each!(&mut l.dst, &mut l.addr),
            Op::CopyBr { dst, src, .. } => each!(dst, src),
            Op::Copy2Br {
                dst0,
                src0,
                dst1,
                src1,
                ..
            } => each!(dst0, src0, dst1, src1),
            Op::Call { base, .. } => each!(base),
            Op::CallIndirect { index, base, .. } => each!(index, base),
            Op::Copy { dst, src } => each!(dst, src),
            Op::Copy2 {
                dst0,
                src0,
                dst1,
                src1,
            } => each!(dst0, src0, dst1, src1),
            load_idx!(l) => each!(&mut l.dst, &mut l.base, &mut l.index),
            Op::Const32 { dst, .. } | Op::Const64 { dst, .. } => each!(dst),
            Op::Select {
                dst,
                cond,
                if_true,
                if_false,
            } => each!(dst, cond, if_true, if_false),
            Op::GlobalGet { dst, .. } => each!(dst),
            Op::GlobalSet { src, .. } => each!(src),
            Op::RefFunc { dst, .. } => each!(dst),
            Op::I32Load(l)
            | Op::I64Load(l)
            | Op::F32Load(l)
            | Op::F64Load(l)
            | Op::I32Load8S(l)
            | Op::I32Load8U(l)
            | Op::I32Load16S(l)
            | Op::I32Load16U(l)
            | Op::I64Load8S(l)
            | Op::I64Load8U(l)
            | Op::I64Load16S(l)
            | Op::I64Load16U(l)
            | Op::I64Load32S(l)
            | Op::I64Load32U(l)
            | Op::I32LoadAcc(l)
            | Op::I64LoadAcc(l)
            | Op::F32LoadAcc(l)
            | Op::F64LoadAcc(l)
            | Op::I32Load8SAcc(l)
            | Op::I32Load8UAcc(l)
            | Op::I32Load16SAcc(l)
            | Op::I32Load16UAcc(l) => each!(&mut l.dst, &mut l.addr),
            Op::I32Store(st)
            | Op::I64Store(st)
            | Op::F32Store(st)
            | Op::F64Store(st)
            | Op::I32Store8(st)
            | Op::I32Store16(st)
            | Op::I64Store8(st)
            | Op::I64Store16(st)
            | Op::I64Store32(st)
            | Op::I32StoreAccV(st)
            | Op::I64StoreAccV(st)
            | Op::I32Store8AccV(st)
            | Op::I32Store16AccV(st)
            | Op::I32StoreAccA(st)
            | Op::I64StoreAccA(st)
            | Op::F32StoreAccA(st)
            | Op::F64StoreAccA(st)
            | Op::I32Store8AccA(st)
            | Op::F32StoreAccV(st)
            | Op::F64StoreAccV(st) => each!(&mut st.addr, &mut st.value),
            Op::MemorySize { dst, .. } => each!(dst),
            Op::MemoryGrow { dst, delta, .. } => each!(dst, delta),
            Op::MemoryFill { dst, value, len } => each!(dst, value, len),
            Op::MemoryCopy { dst, src, len } => each!(dst, src, len),
            Op::MemoryInit { dst, src, len, .. } => each!(dst, src, len),
            Op::TableGet { dst, index, .. } => each!(dst, index),
            Op::TableSet { index, value, .. } => each!(index, value),
            Op::TableSize { dst, .. } => each!(dst),
            Op::TableGrow {
                dst, init, delta, ..
            } => each!(dst, init, delta),
            Op::TableFill {
                dst, value, len, ..
            } => each!(dst, value, len),
            Op::TableCopy { dst, src, len, .. } => each!(dst, src, len),
            Op::TableInit { dst, src, len, .. } => each!(dst, src, len),
            Op::I32Eqz(u)
            | Op::I32Clz(u)
            | Op::I32Ctz(u)
            | Op::I32Popcnt(u)
            | Op::I64Eqz(u)
            | Op::I64Clz(u)
            | Op::I64Ctz(u)
            | Op::I64Popcnt(u)
            | Op::F32Abs(u)
            | Op::F32Neg(u)
            | Op::F32Ceil(u)
            | Op::F32Floor(u)
            | Op::F32Trunc(u)
            | Op::F32Nearest(u)
            | Op::F32Sqrt(u)
            | Op::F64Abs(u)
            | Op::F64Neg(u)
            | Op::F64Ceil(u)
            | Op::F64Floor(u)
            | Op::F64Trunc(u)
            | Op::F64Nearest(u)
            | Op::F64Sqrt(u)
            | Op::I32WrapI64(u)
            | Op::I32TruncF32S(u)
            | Op::I32TruncF32U(u)
            | Op::I32TruncF64S(u)
            | Op::I32TruncF64U(u)
            | Op::I64ExtendI32S(u)
            | Op::I64ExtendI32U(u)
            | Op::I64TruncF32S(u)
            | Op::I64TruncF32U(u)
            | Op::I64TruncF64S(u)
            | Op::I64TruncF64U(u)
            | Op::F32ConvertI32S(u)
            | Op::F32ConvertI32U(u)
            | Op::F32ConvertI64S(u)
            | Op::F32ConvertI64U(u)
            | Op::F32DemoteF64(u)
            | Op::F64ConvertI32S(u)
            | Op::F64ConvertI32U(u)
            | Op::F64ConvertI64S(u)
            | Op::F64ConvertI64U(u)
            | Op::F64PromoteF32(u)
            | Op::I32Extend8S(u)
            | Op::I32Extend16S(u)
            | Op::I64Extend8S(u)
            | Op::I64Extend16S(u)
            | Op::I64Extend32S(u)
            | Op::I32TruncSatF32S(u)
            | Op::I32TruncSatF32U(u)
            | Op::I32TruncSatF64S(u)
            | Op::I32TruncSatF64U(u)
            | Op::I64TruncSatF32S(u)
            | Op::I64TruncSatF32U(u)
            | Op::I64TruncSatF64S(u)
            | Op::I64TruncSatF64U(u)
            | Op::I32EqzAcc(u)
            | Op::I64EqzAcc(u)
            | Op::I32WrapI64Acc(u)
            | Op::I64ExtendI32SAcc(u)
            | Op::I64ExtendI32UAcc(u)
            | Op::I32Extend8SAcc(u)
            | Op::I32Extend16SAcc(u)
            | Op::F32ConvertI32SAcc(u)
            | Op::F64ConvertI32SAcc(u) => each!(&mut u.dst, &mut u.src),
            narrow_bin!(b) | wide_bin!(b) => each!(&mut b.dst, &mut b.lhs, &mut b.rhs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_is_at_most_sixteen_bytes() {
        assert!(
            core::mem::size_of::<Op>() <= 16,
            "{}",
            core::mem::size_of::<Op>()
        );
    }
}
