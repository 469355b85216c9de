//! Dispatch: the handler table covers every instruction, and executing
//! instructions never grows the native stack.
//!
//! The second property is what the tail backend relies on LLVM for (every
//! handler must reach the next one through a sibling call, a `jmp`), so it
//! is only really exercised by an optimised build: run
//! `cargo test -p kiln-interp --release` (which selects the tail backend,
//! see `build.rs`) as well as the default profile (the loop backend).

use super::harness::b as b_;
use super::harness::*;
use crate::bytecode::{
    AddBr, AddBrImm, AddCopy, AddPair, Bin, BrCmp, Load, LoadIdx, LoadStep, MulAdd, Op, ShiftAdd,
    Store, Un, XorShift, fused_branch,
};
use crate::exec::handlers::{HANDLERS, OP_COUNT, handler_of, sets_acc};
use crate::vm::TrapCode;
use std::cell::RefCell;
use std::rc::Rc;

// Slots of `every_op_loop`'s frame.
/// Loop counter (the parameter), 0 on return.
const N: u16 = 0;
/// The i32 1.
const ONE: u16 = 1;
/// i32 operands.
const A32: u16 = 2;
const B32: u16 = 3;
/// i64 operands.
const A64: u16 = 4;
const B64: u16 = 5;
/// An f32 and an f64 operand.
const F32: u16 = 6;
const F64: u16 = 7;
/// Where results go.
const OUT: u16 = 8;
/// The funcref of `inc`.
const FUNC: u16 = 10;
/// Float results that later instructions read.
const FLOAT: u16 = 11;
/// The i32 0 (address, index, length, delta).
const ZERO: u16 = 16;
/// Call bases.
const CALL: u16 = 20;
const PROBE: u16 = 30;
/// Frame size.
const FRAME: u16 = 40;

/// The leftover after a fused instruction: never runs, traps if it does.
fn skipped() -> Op {
    Op::Trap {
        code: TrapCode::UnreachableCodeReached,
    }
}

fn bc(lhs: u16, rhs: u16) -> BrCmp {
    // Offset 1: taken or not, the branch continues at the next instruction.
    BrCmp::new(lhs, rhs, 1)
}

/// The loop body: every instruction but `Return` and `Trap`, none of which
/// traps with the operands set up by `every_op_loop`.
pub(super) fn body(probe: u32, inc: u32, t_inc: u32) -> Vec<Op> {
    let mut ops = vec![
        Op::Call {
            func: probe,
            base: PROBE,
        },
        Op::br(1),
        Op::BrIfNez {
            cond: ONE,
            offset: 1,
        },
        Op::BrIfEqz {
            cond: ONE,
            offset: 1,
        },
        Op::BrTable {
            index: ZERO,
            len: 1,
        },
        Op::br(2),
        Op::br(1),
    ];
    let br32: [fn(BrCmp) -> Op; 10] = [
        Op::BrIfI32Eq,
        Op::BrIfI32Ne,
        Op::BrIfI32LtS,
        Op::BrIfI32LtU,
        Op::BrIfI32GtS,
        Op::BrIfI32GtU,
        Op::BrIfI32LeS,
        Op::BrIfI32LeU,
        Op::BrIfI32GeS,
        Op::BrIfI32GeU,
    ];
    let br64: [fn(BrCmp) -> Op; 10] = [
        Op::BrIfI64Eq,
        Op::BrIfI64Ne,
        Op::BrIfI64LtS,
        Op::BrIfI64LtU,
        Op::BrIfI64GtS,
        Op::BrIfI64GtU,
        Op::BrIfI64LeS,
        Op::BrIfI64LeU,
        Op::BrIfI64GeS,
        Op::BrIfI64GeU,
    ];
    ops.extend(br32.iter().map(|op| op(bc(A32, B32))));
    ops.extend(br64.iter().map(|op| op(bc(A64, B64))));
    ops.extend([Op::BrIfI32AndNez, Op::BrIfI32AndEqz].map(|op| op(bc(A32, B32))));
    ops.extend([Op::BrIfI64AndNez, Op::BrIfI64AndEqz].map(|op| op(bc(A64, B64))));
    let load_idx: [fn(LoadIdx) -> Op; 8] = [
        Op::I32LoadIdx,
        Op::I64LoadIdx,
        Op::F32LoadIdx,
        Op::F64LoadIdx,
        Op::I32Load8SIdx,
        Op::I32Load8UIdx,
        Op::I32Load16SIdx,
        Op::I32Load16UIdx,
    ];
    for op in load_idx {
        ops.push(op(LoadIdx {
            dst: OUT,
            base: ZERO,
            index: ZERO,
            offset: 8,
        }));
        // Skipped.
        ops.push(skipped());
    }
    // Loop latches: taken or not, they continue two instructions on.
    let latch = AddBr {
        var: OUT,
        step: 1,
        rhs: A32,
        offset: 2,
    };
    let latch_imm = AddBrImm {
        var: OUT,
        step: -1,
        offset: 2,
        bound: 5,
    };
    for op in [
        Op::I32AddBrNe(latch),
        Op::I32AddBrNeImm(latch_imm),
        Op::I32AddBrNez(latch),
    ] {
        ops.push(op);
        // Skipped.
        ops.push(skipped());
    }
    // Copies then a branch, here to the instruction after the one they
    // skip.
    ops.extend([
        Op::CopyBr {
            dst: OUT,
            src: A32,
            offset: 2,
        },
        skipped(),
        Op::Copy2Br {
            dst0: OUT,
            src0: A32,
            dst1: OUT + 1,
            src1: OUT,
            offset: 2,
        },
        skipped(),
    ]);
    // Scaled adds, the second reading its left operand from the
    // accumulator the `Copy` sets; each skips the `Trap` after it.
    let scaled = ShiftAdd {
        dst: OUT,
        lhs: A32,
        rhs: B32,
        shift: 2,
        imm: 0,
    };
    ops.extend([
        Op::I32ShlAdd(scaled),
        skipped(),
        Op::Copy { dst: OUT, src: A32 },
        Op::I32ShlAddAccL(ShiftAdd { lhs: OUT, ..scaled }),
        skipped(),
    ]);
    // Adds with a second write; each skips the `Trap` after it.
    let pair = Op::I32AddPair(AddPair {
        a: OUT,
        b: OUT + 1,
        step_a: 1,
        step_b: 2,
    });
    ops.extend([
        Op::I32AddCopy(AddCopy {
            dst: OUT,
            lhs: A32,
            rhs: B32,
            copy: OUT + 1,
            imm: 0,
        }),
        skipped(),
        pair,
        skipped(),
    ]);
    // Multiply-adds, the second taking its multiplicand from the
    // accumulator the add pair sets; each skips the `Trap` after it.
    let mul_add = MulAdd {
        dst: OUT,
        lhs: A32,
        rhs: B32,
        add: ONE,
        imm: 0,
    };
    ops.extend([
        Op::I32MulAdd(mul_add),
        skipped(),
        pair,
        skipped(),
        Op::I32MulAddAccL(MulAdd {
            lhs: OUT + 1,
            ..mul_add
        }),
        skipped(),
    ]);
    // Loads stepping an address that starts at 0; each skips the `Trap`
    // after it.
    let step = |step| LoadStep {
        dst: OUT,
        addr: OUT + 1,
        offset: 0,
        step,
    };
    ops.extend([
        Op::Const32 {
            dst: OUT + 1,
            value: 0,
        },
        Op::I32LoadStep(step(4)),
        skipped(),
        Op::I32Load8UStep(step(1)),
        skipped(),
    ]);
    // Xorshift steps, from the slot and from the accumulator the one
    // before sets; each skips the `Trap` after it.
    let step = XorShift {
        dst: OUT,
        src: A32,
        shift: 13,
    };
    let from_acc = XorShift { src: OUT, ..step };
    for op in [
        Op::I32XorShl(step),
        Op::I32XorShlAccL(from_acc),
        Op::I32XorShrU(step),
        Op::I32XorShrUAccL(from_acc),
    ] {
        ops.extend([op, skipped()]);
    }
    ops.extend([
        Op::Copy {
            dst: CALL,
            src: A32,
        },
        Op::Call {
            func: inc,
            base: CALL,
        },
        Op::Const32 {
            dst: CALL,
            value: 0,
        },
        Op::Copy {
            dst: CALL + 1,
            src: A32,
        },
        Op::CallIndirect {
            type_index: t_inc,
            table: 0,
            index: CALL,
            base: CALL + 1,
        },
        Op::Const32 { dst: OUT, value: 5 },
        Op::Copy2 {
            dst0: OUT,
            src0: A32,
            dst1: OUT + 1,
            src1: OUT,
        },
        // Skipped by the `Copy2`.
        skipped(),
        Op::Const64 { dst: OUT, value: 5 },
        Op::Select {
            dst: OUT,
            cond: ONE,
            if_true: A32,
            if_false: B32,
        },
        Op::GlobalGet {
            dst: OUT,
            global: 0,
        },
        Op::GlobalSet {
            src: A64,
            global: 0,
        },
        Op::RefFunc {
            dst: FUNC,
            func: inc,
        },
    ]);
    let loads: [fn(Load) -> Op; 14] = [
        Op::I32Load,
        Op::I64Load,
        Op::F32Load,
        Op::F64Load,
        Op::I32Load8S,
        Op::I32Load8U,
        Op::I32Load16S,
        Op::I32Load16U,
        Op::I64Load8S,
        Op::I64Load8U,
        Op::I64Load16S,
        Op::I64Load16U,
        Op::I64Load32S,
        Op::I64Load32U,
    ];
    let stores: [fn(Store) -> Op; 9] = [
        Op::I32Store,
        Op::I64Store,
        Op::F32Store,
        Op::F64Store,
        Op::I32Store8,
        Op::I32Store16,
        Op::I64Store8,
        Op::I64Store16,
        Op::I64Store32,
    ];
    ops.extend(loads.iter().map(|op| op(ld(OUT, ZERO, 8))));
    ops.extend(stores.iter().map(|op| op(st(ZERO, A64, 8))));
    ops.extend([
        Op::MemorySize {
            dst: OUT,
            memory: 0,
        },
        Op::MemoryGrow {
            dst: OUT,
            delta: ZERO,
            memory: 0,
        },
        Op::MemoryFill {
            dst: ZERO,
            value: ONE,
            len: ZERO,
        },
        Op::MemoryCopy {
            dst: ZERO,
            src: ZERO,
            len: ZERO,
        },
        Op::MemoryInit {
            data: 0,
            dst: ZERO,
            src: ZERO,
            len: ZERO,
        },
        Op::DataDrop { data: 0 },
        Op::TableGet {
            dst: OUT,
            index: ZERO,
            table: 0,
        },
        Op::TableSet {
            index: ZERO,
            value: FUNC,
            table: 0,
        },
        Op::TableSize { dst: OUT, table: 0 },
        Op::TableGrow {
            dst: OUT,
            init: FUNC,
            delta: ZERO,
            table: 0,
        },
        Op::TableFill {
            table: 0,
            dst: ZERO,
            value: FUNC,
            len: ZERO,
        },
        Op::TableCopy {
            dst: ZERO,
            src: ZERO,
            len: ZERO,
            dst_table: 0,
            src_table: 0,
        },
        Op::TableInit {
            dst: ZERO,
            src: ZERO,
            len: ZERO,
            table: 0,
            elem: 0,
        },
        Op::ElemDrop { elem: 0 },
    ]);

    // Numeric instructions, grouped by operand type.
    let bin32: [fn(Bin) -> Op; 25] = [
        Op::I32Eq,
        Op::I32Ne,
        Op::I32LtS,
        Op::I32LtU,
        Op::I32GtS,
        Op::I32GtU,
        Op::I32LeS,
        Op::I32LeU,
        Op::I32GeS,
        Op::I32GeU,
        Op::I32Add,
        Op::I32Sub,
        Op::I32Mul,
        Op::I32DivS,
        Op::I32DivU,
        Op::I32RemS,
        Op::I32RemU,
        Op::I32And,
        Op::I32Or,
        Op::I32Xor,
        Op::I32Shl,
        Op::I32ShrS,
        Op::I32ShrU,
        Op::I32Rotl,
        Op::I32Rotr,
    ];
    let bin64: [fn(Bin) -> Op; 25] = [
        Op::I64Eq,
        Op::I64Ne,
        Op::I64LtS,
        Op::I64LtU,
        Op::I64GtS,
        Op::I64GtU,
        Op::I64LeS,
        Op::I64LeU,
        Op::I64GeS,
        Op::I64GeU,
        Op::I64Add,
        Op::I64Sub,
        Op::I64Mul,
        Op::I64DivS,
        Op::I64DivU,
        Op::I64RemS,
        Op::I64RemU,
        Op::I64And,
        Op::I64Or,
        Op::I64Xor,
        Op::I64Shl,
        Op::I64ShrS,
        Op::I64ShrU,
        Op::I64Rotl,
        Op::I64Rotr,
    ];
    let binf32: [fn(Bin) -> Op; 13] = [
        Op::F32Eq,
        Op::F32Ne,
        Op::F32Lt,
        Op::F32Gt,
        Op::F32Le,
        Op::F32Ge,
        Op::F32Add,
        Op::F32Sub,
        Op::F32Mul,
        Op::F32Div,
        Op::F32Min,
        Op::F32Max,
        Op::F32Copysign,
    ];
    let binf64: [fn(Bin) -> Op; 13] = [
        Op::F64Eq,
        Op::F64Ne,
        Op::F64Lt,
        Op::F64Gt,
        Op::F64Le,
        Op::F64Ge,
        Op::F64Add,
        Op::F64Sub,
        Op::F64Mul,
        Op::F64Div,
        Op::F64Min,
        Op::F64Max,
        Op::F64Copysign,
    ];
    ops.extend(bin32.iter().map(|op| op(b(OUT, A32, B32))));
    ops.extend(bin64.iter().map(|op| op(b(OUT, A64, B64))));
    ops.extend(binf32.iter().map(|op| op(b(OUT, F32, F32))));
    ops.extend(binf64.iter().map(|op| op(b(OUT, F64, F64))));

    // Unary instructions and conversions, by operand slot.
    let from_i32: [fn(Un) -> Op; 12] = [
        Op::I32Eqz,
        Op::I32Clz,
        Op::I32Ctz,
        Op::I32Popcnt,
        Op::I64ExtendI32S,
        Op::I64ExtendI32U,
        Op::F32ConvertI32S,
        Op::F32ConvertI32U,
        Op::F64ConvertI32S,
        Op::F64ConvertI32U,
        Op::I32Extend8S,
        Op::I32Extend16S,
    ];
    let from_i64: [fn(Un) -> Op; 12] = [
        Op::I64Eqz,
        Op::I64Clz,
        Op::I64Ctz,
        Op::I64Popcnt,
        Op::I32WrapI64,
        Op::F32ConvertI64S,
        Op::F32ConvertI64U,
        Op::F64ConvertI64S,
        Op::F64ConvertI64U,
        Op::I64Extend8S,
        Op::I64Extend16S,
        Op::I64Extend32S,
    ];
    let from_f32: [fn(Un) -> Op; 16] = [
        Op::F32Abs,
        Op::F32Neg,
        Op::F32Ceil,
        Op::F32Floor,
        Op::F32Trunc,
        Op::F32Nearest,
        Op::F32Sqrt,
        Op::I32TruncF32S,
        Op::I32TruncF32U,
        Op::I64TruncF32S,
        Op::I64TruncF32U,
        Op::F64PromoteF32,
        Op::I32TruncSatF32S,
        Op::I32TruncSatF32U,
        Op::I64TruncSatF32S,
        Op::I64TruncSatF32U,
    ];
    let from_f64: [fn(Un) -> Op; 16] = [
        Op::F64Abs,
        Op::F64Neg,
        Op::F64Ceil,
        Op::F64Floor,
        Op::F64Trunc,
        Op::F64Nearest,
        Op::F64Sqrt,
        Op::I32TruncF64S,
        Op::I32TruncF64U,
        Op::I64TruncF64S,
        Op::I64TruncF64U,
        Op::F32DemoteF64,
        Op::I32TruncSatF64S,
        Op::I32TruncSatF64U,
        Op::I64TruncSatF64S,
        Op::I64TruncSatF64U,
    ];
    ops.extend(from_i32.iter().map(|op| op(u(OUT, A32))));
    ops.extend(from_i64.iter().map(|op| op(u(OUT, A64))));
    ops.extend(from_f32.iter().map(|op| op(u(OUT, F32))));
    ops.extend(from_f64.iter().map(|op| op(u(OUT, F64))));
    ops.extend(acc_ops());
    ops
}

/// Every accumulator variant, each preceded (as the bytecode contract
/// requires) by an instruction that wrote its accumulator operand's slot
/// and set the accumulator: a `Copy` of the slot to itself. Operands as in
/// [`body`], so nothing traps.
pub(super) fn acc_ops() -> Vec<Op> {
    let set = |slot: u16| Op::Copy {
        dst: slot,
        src: slot,
    };
    let mut ops = Vec::new();
    let bin_l: [fn(Bin) -> Op; 33] = [
        Op::I32AddAccL,
        Op::I32SubAccL,
        Op::I32MulAccL,
        Op::I32AndAccL,
        Op::I32OrAccL,
        Op::I32XorAccL,
        Op::I32ShlAccL,
        Op::I32ShrSAccL,
        Op::I32ShrUAccL,
        Op::I32RotlAccL,
        Op::I32RotrAccL,
        Op::I32DivUAccL,
        Op::I32RemUAccL,
        Op::I32EqAccL,
        Op::I32NeAccL,
        Op::I32LtSAccL,
        Op::I32LtUAccL,
        Op::I32GtSAccL,
        Op::I32GtUAccL,
        Op::I32LeSAccL,
        Op::I32LeUAccL,
        Op::I32GeSAccL,
        Op::I32GeUAccL,
        Op::I64AddAccL,
        Op::I64SubAccL,
        Op::I64MulAccL,
        Op::I64AndAccL,
        Op::I64OrAccL,
        Op::I64XorAccL,
        Op::I64ShlAccL,
        Op::I64ShrUAccL,
        Op::I64DivUAccL,
        Op::I64RemUAccL,
    ];
    for (i, op) in bin_l.iter().enumerate() {
        let (a, b) = if i < 23 { (A32, B32) } else { (A64, B64) };
        ops.extend([set(a), op(b_(OUT, a, b))]);
    }
    let bin_r: [fn(Bin) -> Op; 7] = [
        Op::I32SubAccR,
        Op::I32ShlAccR,
        Op::I32ShrSAccR,
        Op::I32ShrUAccR,
        Op::I64SubAccR,
        Op::I64ShlAccR,
        Op::I64ShrUAccR,
    ];
    for (i, op) in bin_r.iter().enumerate() {
        let (a, b) = if i < 4 { (A32, B32) } else { (A64, B64) };
        ops.extend([set(b), op(b_(OUT, a, b))]);
    }
    type Unary = fn(Un) -> Op;
    let un_ops: [(Unary, u16); 9] = [
        (Op::I32EqzAcc, A32),
        (Op::I64EqzAcc, A64),
        (Op::I32WrapI64Acc, A64),
        (Op::I64ExtendI32SAcc, A32),
        (Op::I64ExtendI32UAcc, A32),
        (Op::I32Extend8SAcc, A32),
        (Op::I32Extend16SAcc, A32),
        (Op::F32ConvertI32SAcc, A32),
        (Op::F64ConvertI32SAcc, A32),
    ];
    for (op, src) in un_ops {
        ops.extend([set(src), op(u(OUT, src))]);
    }
    let loads: [fn(Load) -> Op; 8] = [
        Op::I32LoadAcc,
        Op::I64LoadAcc,
        Op::F32LoadAcc,
        Op::F64LoadAcc,
        Op::I32Load8SAcc,
        Op::I32Load8UAcc,
        Op::I32Load16SAcc,
        Op::I32Load16UAcc,
    ];
    for op in loads {
        ops.extend([set(ZERO), op(ld(OUT, ZERO, 8))]);
    }
    let store_v: [fn(Store) -> Op; 4] = [
        Op::I32StoreAccV,
        Op::I64StoreAccV,
        Op::I32Store8AccV,
        Op::I32Store16AccV,
    ];
    for op in store_v {
        ops.extend([set(A64), op(st(ZERO, A64, 8))]);
    }
    let store_a: [fn(Store) -> Op; 5] = [
        Op::I32StoreAccA,
        Op::I64StoreAccA,
        Op::F32StoreAccA,
        Op::F64StoreAccA,
        Op::I32Store8AccA,
    ];
    for op in store_a {
        ops.extend([set(ZERO), op(st(ZERO, A64, 8))]);
    }
    ops.extend([
        set(ONE),
        Op::BrIfNezAcc {
            cond: ONE,
            offset: 1,
        },
        set(ONE),
        Op::BrIfEqzAcc {
            cond: ONE,
            offset: 1,
        },
        set(ZERO),
        Op::BrTableAcc {
            index: ZERO,
            len: 1,
        },
        Op::br(2),
        Op::br(1),
    ]);
    let br: [fn(BrCmp) -> Op; 10] = [
        Op::BrIfI32EqAccL,
        Op::BrIfI32NeAccL,
        Op::BrIfI32LtSAccL,
        Op::BrIfI32LtUAccL,
        Op::BrIfI32GtSAccL,
        Op::BrIfI32GtUAccL,
        Op::BrIfI32LeSAccL,
        Op::BrIfI32LeUAccL,
        Op::BrIfI32GeSAccL,
        Op::BrIfI32GeUAccL,
    ];
    for op in br {
        ops.extend([set(A32), op(bc(A32, B32))]);
    }
    for op in [Op::BrIfI32AndNezAccL, Op::BrIfI32AndEqzAccL] {
        ops.extend([set(A32), op(bc(A32, B32))]);
    }
    for op in [
        Op::BrIfI64EqAccL,
        Op::BrIfI64NeAccL,
        Op::BrIfI64AndNezAccL,
        Op::BrIfI64AndEqzAccL,
    ] {
        ops.extend([set(A64), op(bc(A64, B64))]);
    }
    // Float accumulators: set by a float operation writing the slot.
    type Binary = fn(Bin) -> Op;
    let float_ops: [(Binary, Binary, u16); 16] = [
        (Op::F32Add, Op::F32AddAccL, F32),
        (Op::F32Add, Op::F32AddAccR, F32),
        (Op::F32Add, Op::F32SubAccL, F32),
        (Op::F32Add, Op::F32SubAccR, F32),
        (Op::F32Add, Op::F32MulAccL, F32),
        (Op::F32Add, Op::F32MulAccR, F32),
        (Op::F32Add, Op::F32DivAccL, F32),
        (Op::F32Add, Op::F32DivAccR, F32),
        (Op::F64Add, Op::F64AddAccL, F64),
        (Op::F64Add, Op::F64AddAccR, F64),
        (Op::F64Add, Op::F64SubAccL, F64),
        (Op::F64Add, Op::F64SubAccR, F64),
        (Op::F64Add, Op::F64MulAccL, F64),
        (Op::F64Add, Op::F64MulAccR, F64),
        (Op::F64Add, Op::F64DivAccL, F64),
        (Op::F64Add, Op::F64DivAccR, F64),
    ];
    for (i, (set_float, op, slot)) in float_ops.into_iter().enumerate() {
        // `slot + slot` into `FLOAT`, then the variant reads it, on the left
        // or on the right.
        let operands = if i % 2 == 0 {
            b_(OUT, FLOAT, slot)
        } else {
            b_(OUT, slot, FLOAT)
        };
        ops.extend([set_float(b_(FLOAT, slot, slot)), op(operands)]);
    }
    let compares: [(Binary, Binary, u16); 12] = [
        (Op::F32Add, Op::F32EqAccL, F32),
        (Op::F32Add, Op::F32NeAccL, F32),
        (Op::F32Add, Op::F32LtAccL, F32),
        (Op::F32Add, Op::F32GtAccL, F32),
        (Op::F32Add, Op::F32LeAccL, F32),
        (Op::F32Add, Op::F32GeAccL, F32),
        (Op::F64Add, Op::F64EqAccL, F64),
        (Op::F64Add, Op::F64NeAccL, F64),
        (Op::F64Add, Op::F64LtAccL, F64),
        (Op::F64Add, Op::F64GtAccL, F64),
        (Op::F64Add, Op::F64LeAccL, F64),
        (Op::F64Add, Op::F64GeAccL, F64),
    ];
    for (set_float, op, slot) in compares {
        ops.extend([set_float(b_(FLOAT, slot, slot)), op(b_(OUT, FLOAT, slot))]);
    }
    ops.extend([
        Op::F32Add(b_(FLOAT, F32, F32)),
        Op::F32StoreAccV(st(ZERO, FLOAT, 8)),
        Op::F64Add(b_(FLOAT, F64, F64)),
        Op::F64StoreAccV(st(ZERO, FLOAT, 8)),
    ]);
    ops
}

/// Builds `every_op_loop(n)`: sets up its operands, then runs `body` `n`
/// times. `probe` is called at the start of each iteration.
fn every_op_loop(m: &mut Builder, probe: u32) -> (u32, u32) {
    m.memory(1, 2);
    m.table(1, 4);
    m.global(0);
    m.data(b"kiln");
    let t_inc = m.ty(&[I32], &[I32]);
    let inc = m.func(
        t_inc,
        0,
        2,
        vec![
            Op::Const32 { dst: 1, value: 1 },
            Op::I32Add(b(0, 0, 1)),
            Op::Return,
        ],
    );
    m.elem(&[Some(inc)]);

    let mut ops = vec![
        Op::Const32 { dst: ONE, value: 1 },
        Op::Const32 { dst: A32, value: 7 },
        Op::Const32 { dst: B32, value: 3 },
        Op::Const64 { dst: A64, value: 7 },
        Op::Const64 { dst: B64, value: 3 },
        Op::Const32 {
            dst: F32,
            value: 1.5f32.to_bits(),
        },
        Op::Const64 {
            dst: F64,
            value: 2.25f64.to_bits(),
        },
        Op::Const32 {
            dst: ZERO,
            value: 0,
        },
        Op::RefFunc {
            dst: FUNC,
            func: inc,
        },
    ];
    let start = ops.len();
    ops.extend(body(probe, inc, t_inc));
    ops.push(Op::I32Sub(b(N, N, ONE)));
    let back = start as i32 - ops.len() as i32;
    ops.extend([
        Op::BrIfNez {
            cond: N,
            offset: back,
        },
        Op::Return,
        // Never executed; here so that every variant occurs.
        skipped(),
    ]);
    let t = m.ty(&[I32], &[I32]);
    let f = m.func(t, FRAME - 1, FRAME, ops);
    (f, inc)
}

#[test]
fn every_instruction_has_its_handler() {
    let mut m = Builder::new();
    let t_void = m.ty(&[], &[]);
    let probe = m.host(t_void, |_, _| Ok(()));
    let ops = body(probe, 1, 0);
    let mut seen = vec![false; OP_COUNT];
    // Not in `body`: fuel, epoch and tier-up checks need a store and a
    // runtime configured for them (tests/interrupts.rs and tests/tiered.rs
    // run them end to end).
    let extra = [
        Op::Return,
        skipped(),
        Op::ConsumeFuel { amount: 1 },
        Op::CheckEpoch,
        Op::TierUp { amount: 1 },
        Op::TierUpLoop {
            amount: 1,
            loop_index: 0,
            stack: 0,
            height: 0,
        },
    ];
    for op in ops.iter().chain(&extra) {
        // SAFETY: `Op` is `#[repr(u16)]`: its first two bytes are the tag.
        let tag = unsafe { *(op as *const Op).cast::<u16>() } as usize;
        assert!(tag < OP_COUNT, "{op:?}");
        assert_eq!(
            HANDLERS[tag] as usize,
            handler_of(op) as usize,
            "HANDLERS is out of order at {op:?}"
        );
        assert_eq!(
            sets_acc(op),
            op.acc_dst().map(|(_, acc)| acc),
            "{op:?}: its handler and the bytecode disagree on the accumulator"
        );
        seen[tag] = true;
    }
    let missing: Vec<usize> = (0..OP_COUNT).filter(|&t| !seen[t]).collect();
    assert!(missing.is_empty(), "no instruction with tags {missing:?}");
}

#[test]
fn assemble_pairs_each_op_with_its_handler_and_links_branches() {
    let mut m = Builder::new();
    let t_void = m.ty(&[], &[]);
    let probe = m.host(t_void, |_, _| Ok(()));
    let ops = body(probe, 1, 0);
    let code = crate::exec::assemble(ops.clone(), &[], &mut Vec::new(), 0);
    assert_eq!(code.len(), ops.len());
    let mut branches = 0;
    for (pc, (inst, op)) in code.iter().zip(&ops).enumerate() {
        assert_eq!(inst.handler, handler_of(op) as usize, "at {pc}: {op:?}");
        match (inst.op, op) {
            (Op::Br { offset, to }, Op::Br { offset: o, .. }) => {
                // Counted in bytes once assembled.
                assert_eq!(offset, *o * size_of::<crate::bytecode::Inst>() as i32);
                let target = &ops[pc.checked_add_signed(*o as isize).unwrap()];
                assert_eq!(to.0, handler_of(target) as usize, "link of the Br at {pc}");
                branches += 1;
            }
            (assembled, op) => assert_eq!(assembled.in_instructions(), *op, "at {pc}"),
        }
    }
    assert!(branches >= 3, "the body has a `Br` and `BrTable` entries");
}

/// Runs every instruction (but `Trap`) a few million times in all, and
/// checks that the native stack pointer is the same at every iteration:
/// no handler leaves a frame behind. With the tail backend, a handler
/// that *called* the next one instead of jumping to it would grow the
/// stack by a frame per instruction executed and crash long before the end.
#[test]
fn dispatch_does_not_grow_the_native_stack() {
    const ITERATIONS: u64 = 20_000;
    let s = TestStore::new(1 << 20);
    let mut m = Builder::new();
    let t_void = m.ty(&[], &[]);
    let depths = Rc::new(RefCell::new(Vec::new()));
    let record = depths.clone();
    let probe = m.host(t_void, move |_, _| {
        let marker = 0u8;
        record
            .borrow_mut()
            .push(core::hint::black_box(&marker) as *const u8 as usize);
        Ok(())
    });
    let (f, inc) = every_op_loop(&mut m, probe);
    let inst = m.build(&s);
    inst.set_elem(0, 0, Some(inc));
    assert_eq!(inst.call1(f, &[ITERATIONS]).unwrap(), 0);
    let depths = depths.borrow();
    assert_eq!(depths.len() as u64, ITERATIONS);
    assert!(
        depths.iter().all(|&d| d == depths[0]),
        "the native stack moved: first {:#x}, last {:#x}",
        depths[0],
        depths[depths.len() - 1]
    );
    assert_eq!(s.live_frames(), 0);
}

/// The build that ships (optimised, no debug assertions, x86-64 or
/// aarch64) runs the tail backend, so `cargo test --release` (which CI
/// runs) really exercises it: were `build.rs` to stop selecting it, this
/// fails in that run. `KILN_INTERP_DISPATCH=loop` is the documented way to
/// force the loop backend, and then the test does not apply.
#[test]
#[cfg(all(
    not(debug_assertions),
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
fn release_builds_run_the_tail_backend() {
    if option_env!("KILN_INTERP_DISPATCH") == Some("loop") {
        return;
    }
    assert!(
        cfg!(kiln_tail_calls),
        "an optimised build without debug assertions must select the tail backend"
    );
}

#[test]
fn assemble_copies_constant_right_operands_into_binary_instructions() {
    // Slots 0 and 1 are locals, 2.. the constants.
    let consts = [7u64, 0xffff_ffff_8000_0000, 0x1_0000_0000, 0x9747_b28c];
    let ops = vec![
        // A 32-bit constant: always carried (read truncated).
        Op::I32Add(b_(0, 0, 5)),
        // A 64-bit constant that is its low half sign-extended: carried.
        Op::I64Add(b_(0, 0, 3)),
        // One that is not: the slot stays the source.
        Op::I64Add(b_(0, 0, 4)),
        // Not a constant.
        Op::I32Add(b_(0, 0, 1)),
        Op::Return,
    ];
    let mut pool = consts.to_vec();
    let code = crate::exec::assemble(ops.clone(), &[], &mut pool, 2);
    let imm = |pc: usize| match code[pc].op {
        Op::I32Add(b) | Op::I64Add(b) => b.imm,
        _ => unreachable!(),
    };
    let variants = |op: &Op| {
        // SAFETY: `Op` is `#[repr(u16)]`: its first two bytes are the tag.
        let tag = unsafe { *(op as *const Op).cast::<u16>() } as usize;
        crate::exec::handlers::VARIANTS[tag].expect("binary ops have variants")
    };
    assert_eq!(imm(0), 0x9747_b28c);
    assert_eq!(code[0].handler, variants(&ops[0]).immediate as usize);
    assert_eq!(imm(1), 0x8000_0000);
    assert_eq!(code[1].handler, variants(&ops[1]).immediate as usize);
    for pc in [2, 3] {
        assert_eq!(imm(pc), 0, "at {pc}");
        assert_eq!(code[pc].handler, handler_of(&ops[pc]) as usize, "at {pc}");
    }
    // Only the constant still read from its slot stays in the pool, moved
    // to the first constant slot; its reader follows it there.
    assert_eq!(pool, [0x1_0000_0000]);
    assert_eq!(code[2].op, Op::I64Add(b_(0, 0, 2)));
    assert_eq!(code[3].op, ops[3]);
}

#[test]
fn assemble_copies_constant_right_operands_into_compare_and_branches() {
    // Slot 0 is a local, 1.. the constants.
    let consts = [5u64, 0x1_0000_0000, u64::MAX];
    let ops = vec![
        Op::BrIfI32LtS(BrCmp::new(0, 1, 1)),
        // 64 bits: -1 is its low half sign-extended, 2^32 is not.
        Op::BrIfI64Eq(BrCmp::new(0, 3, 1)),
        Op::BrIfI64Ne(BrCmp::new(0, 2, 1)),
        // A constant on the left stays in its slot.
        Op::BrIfI32GeU(BrCmp::new(1, 0, 1)),
        Op::Return,
    ];
    let mut pool = consts.to_vec();
    let code = crate::exec::assemble(ops.clone(), &[], &mut pool, 1);
    let variants = |op: &Op| {
        // SAFETY: `Op` is `#[repr(u16)]`: its first two bytes are the tag.
        let tag = unsafe { *(op as *const Op).cast::<u16>() } as usize;
        crate::exec::handlers::VARIANTS[tag].expect("compare-and-branches have variants")
    };
    let imm = |pc: usize| match code[pc].op {
        fused_branch!(br) => br.imm,
        _ => unreachable!(),
    };
    assert_eq!(imm(0), 5);
    assert_eq!(code[0].handler, variants(&ops[0]).immediate as usize);
    assert_eq!(imm(1), u32::MAX);
    assert_eq!(code[1].handler, variants(&ops[1]).immediate as usize);
    assert_eq!(code[2].handler, handler_of(&ops[2]) as usize);
    assert_eq!(code[3].handler, handler_of(&ops[3]) as usize);
    // 5 (read by the last branch's left operand) and 2^32 stay, in order.
    assert_eq!(pool, [5, 0x1_0000_0000]);
    // Offsets are in bytes once assembled.
    let one = size_of::<crate::bytecode::Inst>() as i32;
    assert_eq!(code[2].op, Op::BrIfI64Ne(BrCmp::new(0, 2, one)));
    assert_eq!(code[3].op, Op::BrIfI32GeU(BrCmp::new(1, 0, one)));
}

#[test]
fn branches_link_to_the_handler_their_target_runs() {
    // The loop head takes its constant as an immediate, and the constant
    // leaves the pool: a `Br` linked to the plain handler would read the
    // constant's slot, which no longer holds it.
    let ops = vec![
        Op::Const32 { dst: 1, value: 0 },
        Op::I32Add(b_(1, 1, 2)),
        Op::BrIfI32GeU(BrCmp::new(1, 0, 2)),
        Op::br(-2),
        Op::Copy { dst: 0, src: 1 },
        Op::Return,
    ];
    let mut pool = vec![1];
    let code = crate::exec::assemble(ops, &[], &mut pool, 2);
    assert!(pool.is_empty());
    let Op::Br { to, .. } = code[3].op else {
        unreachable!()
    };
    assert_eq!(to.0, code[1].handler);
    assert_ne!(code[1].handler, handler_of(&code[1].op) as usize);
}

#[test]
fn scaled_adds_shift_wrap_and_take_immediates() {
    // Slot 0 is `x`, 1 `y`, 2 a copy of `x` (setting the accumulator), 3
    // the constant 1024.
    let run = |op: Op, x: u32, y: u32| {
        let ops = vec![Op::Copy { dst: 2, src: 0 }, op, skipped(), Op::Return];
        run_one(
            &[I32, I32],
            I32,
            1,
            4,
            ops,
            vec![1024],
            &[x.into(), y.into()],
        )
    };
    let op = |lhs, rhs, shift| ShiftAdd {
        dst: 0,
        lhs,
        rhs,
        shift,
        imm: 0,
    };
    for (x, y) in [(0u32, 0u32), (5, 7), (u32::MAX, 3), (0x4000_0001, u32::MAX)] {
        for shift in [0u8, 2, 31] {
            let expect = (x << shift).wrapping_add(y);
            assert_eq!(run(Op::I32ShlAdd(op(0, 1, shift)), x, y), u64::from(expect));
            assert_eq!(
                run(Op::I32ShlAddAccL(op(2, 1, shift)), x, y),
                u64::from(expect)
            );
            // The constant 1024 as `rhs`: carried as an immediate.
            let expect = (x << shift).wrapping_add(1024);
            assert_eq!(run(Op::I32ShlAdd(op(0, 3, shift)), x, y), u64::from(expect));
        }
    }
}

#[test]
fn add_copies_write_both_slots_and_the_accumulator() {
    // Slots 0 and 1 are `x` and `y`, 2 and 3 the two results, 4 the
    // constant -3. The fused add skips the `Trap`; what follows reads one
    // result from its slot and the other from the accumulator or its slot.
    let run = |rhs: u16, next: Op, x: u32, y: u32| {
        let ops = vec![
            Op::I32AddCopy(AddCopy {
                dst: 2,
                lhs: 0,
                rhs,
                copy: 3,
                imm: 0,
            }),
            skipped(),
            next,
            Op::Return,
        ];
        let args = [x.into(), y.into()];
        run_one(&[I32, I32], I32, 2, 5, ops, vec![0xffff_fffd], &args)
    };
    let from_slots = Op::I32Add(Bin::new(0, 2, 3));
    let from_acc = Op::I32AddAccL(Bin::new(0, 3, 2));
    for (x, y) in [
        (0u32, 0u32),
        (5, 7),
        (u32::MAX, 3),
        (0x8000_0000, 0x8000_0000),
    ] {
        let sum = x.wrapping_add(y);
        let twice = |v: u32| u64::from(v.wrapping_add(v));
        assert_eq!(run(1, from_slots, x, y), twice(sum));
        assert_eq!(run(1, from_acc, x, y), twice(sum));
        // The constant as `rhs`: carried as an immediate.
        let stepped = x.wrapping_sub(3);
        assert_eq!(run(4, from_slots, x, y), twice(stepped));
        assert_eq!(run(4, from_acc, x, y), twice(stepped));
    }
}

#[test]
fn multiply_adds_wrap_and_take_immediates() {
    // Slots 0 and 1 are `x` and `y`, 2 a copy of `x` (setting the
    // accumulator), 3 the constant -7 (the addend, as an immediate).
    let run = |op: Op, x: u32, y: u32| {
        let ops = vec![Op::Copy { dst: 2, src: 0 }, op, skipped(), Op::Return];
        let args = [x.into(), y.into()];
        run_one(&[I32, I32], I32, 1, 4, ops, vec![0xffff_fff9], &args)
    };
    let op = |lhs, add| MulAdd {
        dst: 0,
        lhs,
        rhs: 1,
        add,
        imm: 0,
    };
    for (x, y) in [(0u32, 0u32), (5, 7), (u32::MAX, 3), (0x1_0001, 0x1_0001)] {
        // `x * y + y`, with `x` from its slot and from the accumulator.
        let expect = u64::from(x.wrapping_mul(y).wrapping_add(y));
        assert_eq!(run(Op::I32MulAdd(op(0, 1)), x, y), expect);
        assert_eq!(run(Op::I32MulAddAccL(op(2, 1)), x, y), expect);
        let expect = u64::from(x.wrapping_mul(y).wrapping_sub(7));
        assert_eq!(run(Op::I32MulAdd(op(0, 3)), x, y), expect);
        assert_eq!(run(Op::I32MulAddAccL(op(2, 3)), x, y), expect);
    }
}

#[test]
fn xor_shifts_xor_a_value_with_itself_shifted() {
    // Slot 0 is `x`, 1 a copy of it (setting the accumulator); the fused
    // step skips the `Trap`.
    let run = |op: Op, x: u32| {
        let ops = vec![Op::Copy { dst: 1, src: 0 }, op, skipped(), Op::Return];
        run_one(&[I32], I32, 1, 2, ops, Vec::new(), &[x.into()])
    };
    let step = |src, shift| XorShift { dst: 0, src, shift };
    for x in [0u32, 1, 0x8000_0001, 0x9747_b28c, u32::MAX] {
        for shift in [0u8, 5, 13, 31] {
            let left = u64::from(x ^ (x << shift));
            let right = u64::from(x ^ (x >> shift));
            assert_eq!(run(Op::I32XorShl(step(0, shift)), x), left);
            assert_eq!(run(Op::I32XorShlAccL(step(1, shift)), x), left);
            assert_eq!(run(Op::I32XorShrU(step(0, shift)), x), right);
            assert_eq!(run(Op::I32XorShrUAccL(step(1, shift)), x), right);
        }
    }
}

#[test]
fn add_pairs_step_both_slots_in_order() {
    // Slots 0 and 1 are `x` and `y`; the pair skips the `Trap`, then the
    // result combines both slots, or the second from the accumulator.
    let run = |pair: AddPair, next: Op, x: u32, y: u32| {
        let ops = vec![Op::I32AddPair(pair), skipped(), next, Op::Return];
        run_one(
            &[I32, I32],
            I32,
            2,
            2,
            ops,
            Vec::new(),
            &[x.into(), y.into()],
        )
    };
    let two = AddPair {
        a: 0,
        b: 1,
        step_a: 5,
        step_b: u32::MAX,
    };
    // The same slot twice: the second step sees the first.
    let same = AddPair {
        a: 0,
        b: 0,
        step_a: 5,
        step_b: 7,
    };
    let sum = Op::I32Add(Bin::new(0, 0, 1));
    let acc_twice = Op::I32AddAccL(Bin::new(0, 1, 0));
    for (x, y) in [(0u32, 0u32), (5, 7), (u32::MAX, 3), (0x7fff_fffe, 0)] {
        let (a, b) = (x.wrapping_add(5), y.wrapping_sub(1));
        assert_eq!(run(two, sum, x, y), u64::from(a.wrapping_add(b)));
        assert_eq!(run(two, acc_twice, x, y), u64::from(b.wrapping_add(a)));
        let both = x.wrapping_add(12);
        assert_eq!(run(same, sum, x, y), u64::from(both.wrapping_add(y)));
        assert_eq!(
            run(same, acc_twice, x, y),
            u64::from(both.wrapping_add(both))
        );
    }
}

#[test]
fn copy_branches_copy_in_order_then_jump() {
    // `Copy2Br` reads its second source after the first copy: slot 2 gets
    // the argument through slot 1. Then `CopyBr` moves it to the result.
    let ops = vec![
        Op::Const32 { dst: 1, value: 7 },
        Op::Copy2Br {
            dst0: 1,
            src0: 0,
            dst1: 2,
            src1: 1,
            offset: 3,
        },
        skipped(),
        skipped(),
        Op::CopyBr {
            dst: 0,
            src: 2,
            offset: 2,
        },
        skipped(),
        Op::Return,
    ];
    for x in [0u64, 42, 0xffff_ffff] {
        assert_eq!(run_one(&[I32], I32, 2, 3, ops.clone(), Vec::new(), &[x]), x);
    }
}

#[test]
fn loop_latches_step_write_and_branch() {
    // Slot 0 is `n`, 1 the counter, 2 the sum; the loop head adds to the
    // sum, the latch steps and branches back to it or skips its leftover.
    let run = |latch: Op, head: Op, n: u64| {
        let ops = vec![
            Op::Const32 { dst: 1, value: 0 },
            Op::Const32 { dst: 2, value: 0 },
            head,
            latch,
            skipped(),
            Op::Copy { dst: 0, src: 2 },
            Op::Return,
        ];
        run_one(&[I32], I32, 2, 3, ops, Vec::new(), &[n])
    };
    let up = Op::I32AddBrNe(AddBr {
        var: 1,
        step: 1,
        rhs: 0,
        offset: -1,
    });
    // 0 + 1 + ... + (n - 1)
    assert_eq!(run(up, Op::I32Add(b_(2, 2, 1)), 5), 10);
    assert_eq!(run(up, Op::I32Add(b_(2, 2, 1)), 1), 0);
    let by_two = Op::I32AddBrNeImm(AddBrImm {
        var: 1,
        step: 2,
        offset: -1,
        bound: 10,
    });
    // 0 + 2 + 4 + 6 + 8, whatever `n`.
    assert_eq!(run(by_two, Op::I32Add(b_(2, 2, 1)), 99), 20);
    let down = Op::I32AddBrNez(AddBr {
        var: 0,
        step: -1,
        rhs: 0,
        offset: -1,
    });
    // n + (n - 1) + ... + 1
    assert_eq!(run(down, Op::I32Add(b_(2, 2, 0)), 4), 10);
    // The step wraps like `i32.add`: counting `n` down by 3 from 1 passes
    // 2^32 - 2 and ends at 2^32 - 5 (the bound) after two steps, summing 1
    // and 2^32 - 2 (wrapped).
    let wrap = Op::I32AddBrNeImm(AddBrImm {
        var: 0,
        step: -3,
        offset: -1,
        bound: u32::MAX - 4,
    });
    assert_eq!(run(wrap, Op::I32Add(b_(2, 2, 0)), 1), u64::from(u32::MAX));
}

#[test]
fn immediate_compare_and_branches_decide_as_the_slots_do() {
    // `x < -3` (i32, signed), `y == -1` and `y > 2^32` (i64, unsigned),
    // each branching over a `Trap`-free increment of the result.
    let run = |x: u64, y: u64| {
        let ops = vec![
            Op::Const32 { dst: 2, value: 0 },
            Op::BrIfI32LtS(BrCmp::new(0, 3, 2)),
            Op::I32Add(b_(2, 2, 6)),
            Op::BrIfI64Eq(BrCmp::new(1, 4, 2)),
            Op::I32Add(b_(2, 2, 7)),
            Op::BrIfI64GtU(BrCmp::new(1, 5, 2)),
            Op::I32Add(b_(2, 2, 8)),
            Op::Copy { dst: 0, src: 2 },
            Op::Return,
        ];
        let consts = vec![-3i64 as u64, u64::MAX, 1 << 32, 1, 2, 4];
        run_one(&[I32, I64], I32, 1, 9, ops, consts, &[x, y])
    };
    for (x, y) in [
        (0u64, 0u64),
        (-4i32 as u32 as u64, u64::MAX),
        (-3i32 as u32 as u64, (1 << 32) + 1),
        (7, 1 << 32),
    ] {
        let expected = u64::from((x as i32) >= -3)
            + 2 * u64::from(y != u64::MAX)
            + 4 * u64::from(y <= 1 << 32);
        assert_eq!(run(x, y), expected, "x = {x:#x}, y = {y:#x}");
    }
}

#[test]
fn immediate_operands_compute_what_the_slots_do() {
    // `(x + 0x9747b28c) as i32`, `(y + -2^31 as i64)`, `y - 0x1_0000_0000`
    // through `Module`-style constants: the frame holds the constants after
    // the locals, and `assemble` is told where.
    let run = |x: u64, y: u64| {
        let ops = vec![
            Op::I32Add(b_(2, 0, 5)),
            Op::I64Add(b_(3, 1, 6)),
            Op::I64Sub(b_(3, 3, 7)),
            Op::I64ExtendI32U(Un { dst: 4, src: 2 }),
            Op::I64Xor(b_(0, 3, 4)),
            Op::Return,
        ];
        let consts = vec![0x9747_b28c, 0xffff_ffff_8000_0000, 0x1_0000_0000];
        run_one(&[I32, I64], I64, 3, 8, ops, consts, &[x, y])
    };
    for (x, y) in [
        (0, 0),
        (0x7fff_ffff, 5),
        (u32::MAX as u64, u64::MAX),
        (123, 1 << 40),
    ] {
        let sum32 = (x as u32).wrapping_add(0x9747_b28c) as u64;
        let wide = y
            .wrapping_add(0xffff_ffff_8000_0000)
            .wrapping_sub(0x1_0000_0000);
        assert_eq!(run(x, y), wide ^ sum32, "x = {x:#x}, y = {y:#x}");
    }
}
