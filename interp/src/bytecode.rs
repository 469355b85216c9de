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
//! num_locals .. frame_size        the operand stack: the value at wasm stack
//!                                 height h (0-based) lives in slot num_locals + h
//! ```
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
//! (`pc += offset`). Values a branch carries to its label are copied into the
//! label's result slots by explicit [`Op::Copy`]s before the branch; branch
//! instructions never move values.

use crate::vm::TrapCode;

/// A frame-relative slot index. Frames are limited to `u16::MAX` slots; the
/// translator rejects larger functions with a clear error.
pub type Slot = u16;

/// Operands of a binary instruction: `dst = lhs OP rhs`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Bin {
    /// Result slot.
    pub dst: Slot,
    /// Left operand slot.
    pub lhs: Slot,
    /// Right operand slot.
    pub rhs: Slot,
}

/// Operands of a unary instruction: `dst = OP src`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Un {
    /// Result slot.
    pub dst: Slot,
    /// Operand slot.
    pub src: Slot,
}

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

/// One Kiln instruction. Sixteen bytes at most (checked by a test).
///
/// The wasm instruction each variant implements is named in its doc; the
/// semantics (including traps and float bit patterns) are the wasm spec's.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Op {
    // ----- control -----
    /// `unreachable` and other unconditional traps.
    Trap {
        /// The trap to raise.
        code: TrapCode,
    },
    /// Unconditional branch: `pc += offset`.
    Br {
        /// Relative target.
        offset: i32,
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
        /// Destination table.
        dst_table: u32,
        /// Source table.
        src_table: u32,
        /// Slot of the destination index.
        dst: Slot,
        /// Slot of the source index.
        src: Slot,
        /// Slot of the length.
        len: Slot,
    },
    /// `table.init`.
    TableInit {
        /// Table index.
        table: u32,
        /// Element segment index.
        elem: u32,
        /// Slot of the destination index.
        dst: Slot,
        /// Slot of the offset in the segment.
        src: Slot,
        /// Slot of the length.
        len: Slot,
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
}

/// A translated function: its instructions and the shape of its frame.
#[derive(Clone, Debug)]
pub struct CompiledFunc {
    /// The instructions; execution starts at index 0.
    pub ops: Box<[Op]>,
    /// Number of parameters (slots `0..num_params`).
    pub num_params: u16,
    /// Number of results (left in slots `0..num_results` at `Return`).
    pub num_results: u16,
    /// Parameters plus declared locals; slots `num_params..num_locals` are
    /// zeroed on entry.
    pub num_locals: u16,
    /// Slots the frame may touch: `num_locals` + the maximum operand stack
    /// height. At least `max(num_params, num_results)`.
    pub frame_size: u16,
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
