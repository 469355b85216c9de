//! Integer and float instructions, their traps, constants, `select` and
//! globals, executed through the interpreter.

use super::harness::*;
use crate::bytecode::{Bin, Op, Un};
use crate::vm::TrapCode;
use wasmparser::ValType;

/// Runs `op` on `(a, c)` as `(func (param p p) (result r))`, writing the
/// result to a scratch slot first so `dst` is really honoured.
fn binop(op: fn(Bin) -> Op, p: ValType, r: ValType, a: u64, c: u64) -> Result<u64, TrapCode> {
    let store = TestStore::new(1 << 16);
    let mut m = Builder::new();
    let t = m.ty(&[p, p], &[r]);
    let f = m.func(
        t,
        0,
        3,
        vec![op(b(2, 0, 1)), Op::Copy { dst: 0, src: 2 }, Op::Return],
    );
    let inst = m.build(&store);
    inst.call1(f, &[a, c]).map_err(|e| e.trap())
}

/// Runs `op` on `a` as `(func (param p) (result r))`.
fn unop(op: fn(Un) -> Op, p: ValType, r: ValType, a: u64) -> Result<u64, TrapCode> {
    let store = TestStore::new(1 << 16);
    let mut m = Builder::new();
    let t = m.ty(&[p], &[r]);
    let f = m.func(
        t,
        0,
        2,
        vec![op(u(1, 0)), Op::Copy { dst: 0, src: 1 }, Op::Return],
    );
    let inst = m.build(&store);
    inst.call1(f, &[a]).map_err(|e| e.trap())
}

fn i32b(op: fn(Bin) -> Op, a: i32, c: i32) -> Result<u64, TrapCode> {
    binop(op, I32, I32, a as u32 as u64, c as u32 as u64)
}

fn i64b(op: fn(Bin) -> Op, a: i64, c: i64) -> Result<u64, TrapCode> {
    binop(op, I64, I64, a as u64, c as u64)
}

fn i32v(v: i32) -> Result<u64, TrapCode> {
    Ok(v as u32 as u64)
}

fn i64v(v: i64) -> Result<u64, TrapCode> {
    Ok(v as u64)
}

fn f32v(v: f32) -> u64 {
    v.to_bits() as u64
}

fn f64v(v: f64) -> u64 {
    v.to_bits()
}

#[test]
fn i32_arithmetic_wraps_and_results_are_zero_extended() {
    assert_eq!(i32b(Op::I32Add, i32::MAX, 1), i32v(i32::MIN));
    assert_eq!(i32b(Op::I32Sub, 0, 1), Ok(0xffff_ffff));
    assert_eq!(i32b(Op::I32Mul, 0x10000, 0x10001), i32v(0x10000));
    assert_eq!(i32b(Op::I32DivS, -7, 2), i32v(-3));
    assert_eq!(i32b(Op::I32DivU, -7, 2), i32v(0x7fff_fffc));
    assert_eq!(i32b(Op::I32RemS, -7, 2), i32v(-1));
    assert_eq!(i32b(Op::I32RemU, -7, 2), i32v(1));
    assert_eq!(i32b(Op::I32And, 0b1100, 0b1010), i32v(0b1000));
    assert_eq!(i32b(Op::I32Or, 0b1100, 0b1010), i32v(0b1110));
    assert_eq!(i32b(Op::I32Xor, 0b1100, 0b1010), i32v(0b0110));
    assert_eq!(i32b(Op::I32Shl, 1, 35), i32v(8));
    assert_eq!(i32b(Op::I32ShrS, -16, 2), i32v(-4));
    assert_eq!(i32b(Op::I32ShrU, -16, 28), i32v(0xf));
    assert_eq!(i32b(Op::I32Rotl, 0x8000_0001u32 as i32, 1), i32v(3));
    assert_eq!(i32b(Op::I32Rotr, 3, 33), i32v(0x8000_0001u32 as i32));
}

#[test]
fn i32_operands_ignore_the_upper_half_of_slots() {
    assert_eq!(binop(Op::I32Add, I32, I32, 0xdead_beef_0000_0001, 2), Ok(3));
    assert_eq!(binop(Op::I32Eq, I32, I32, 0x1_0000_0005, 5), Ok(1));
    assert_eq!(unop(Op::I32Eqz, I32, I32, 0x1_0000_0000), Ok(1));
}

#[test]
fn i32_comparisons_and_bit_counts() {
    assert_eq!(i32b(Op::I32Eq, 3, 3), Ok(1));
    assert_eq!(i32b(Op::I32Ne, 3, 3), Ok(0));
    assert_eq!(i32b(Op::I32LtS, -1, 0), Ok(1));
    assert_eq!(i32b(Op::I32LtU, -1, 0), Ok(0));
    assert_eq!(i32b(Op::I32GtS, -1, 0), Ok(0));
    assert_eq!(i32b(Op::I32GtU, -1, 0), Ok(1));
    assert_eq!(i32b(Op::I32LeS, 5, 5), Ok(1));
    assert_eq!(i32b(Op::I32LeU, 6, 5), Ok(0));
    assert_eq!(i32b(Op::I32GeS, i32::MIN, 0), Ok(0));
    assert_eq!(i32b(Op::I32GeU, i32::MIN, 0), Ok(1));
    assert_eq!(unop(Op::I32Eqz, I32, I32, 0), Ok(1));
    assert_eq!(unop(Op::I32Clz, I32, I32, 1), Ok(31));
    assert_eq!(unop(Op::I32Clz, I32, I32, 0), Ok(32));
    assert_eq!(unop(Op::I32Ctz, I32, I32, 0x8000_0000), Ok(31));
    assert_eq!(unop(Op::I32Popcnt, I32, I32, 0xf0f0_0001), Ok(9));
}

#[test]
fn i64_arithmetic_comparisons_and_bit_counts() {
    assert_eq!(i64b(Op::I64Add, i64::MAX, 1), i64v(i64::MIN));
    assert_eq!(i64b(Op::I64Sub, 0, 1), i64v(-1));
    assert_eq!(i64b(Op::I64Mul, 1 << 32, 1 << 32), i64v(0));
    assert_eq!(i64b(Op::I64DivS, -9, 4), i64v(-2));
    assert_eq!(i64b(Op::I64DivU, -1, 2), i64v(i64::MAX));
    assert_eq!(i64b(Op::I64RemS, -9, 4), i64v(-1));
    assert_eq!(i64b(Op::I64RemU, -1, 10), i64v(5));
    assert_eq!(i64b(Op::I64And, -1, 0xff), i64v(0xff));
    assert_eq!(i64b(Op::I64Or, 1 << 40, 1), i64v((1 << 40) | 1));
    assert_eq!(i64b(Op::I64Xor, -1, 1), i64v(-2));
    assert_eq!(i64b(Op::I64Shl, 1, 67), i64v(8));
    assert_eq!(i64b(Op::I64ShrS, i64::MIN, 63), i64v(-1));
    assert_eq!(i64b(Op::I64ShrU, i64::MIN, 63), i64v(1));
    assert_eq!(i64b(Op::I64Rotl, i64::MIN, 1), i64v(1));
    assert_eq!(i64b(Op::I64Rotr, 1, 1), i64v(i64::MIN));
    assert_eq!(i64b(Op::I64LtS, -1, 0), Ok(1));
    assert_eq!(i64b(Op::I64LtU, -1, 0), Ok(0));
    assert_eq!(i64b(Op::I64GtS, 1, 0), Ok(1));
    assert_eq!(i64b(Op::I64GtU, 0, -1), Ok(0));
    assert_eq!(i64b(Op::I64LeS, 1, 1), Ok(1));
    assert_eq!(i64b(Op::I64LeU, -1, 1), Ok(0));
    assert_eq!(i64b(Op::I64GeS, -1, 1), Ok(0));
    assert_eq!(i64b(Op::I64GeU, -1, 1), Ok(1));
    assert_eq!(i64b(Op::I64Eq, 1 << 33, 1), Ok(0));
    assert_eq!(i64b(Op::I64Ne, 1 << 33, 1), Ok(1));
    assert_eq!(unop(Op::I64Eqz, I64, I32, 1 << 33), Ok(0));
    assert_eq!(unop(Op::I64Clz, I64, I64, 1 << 33), Ok(30));
    assert_eq!(unop(Op::I64Ctz, I64, I64, 0), Ok(64));
    assert_eq!(unop(Op::I64Popcnt, I64, I64, u64::MAX), Ok(64));
}

#[test]
fn integer_traps_of_every_kind() {
    use TrapCode::{IntegerDivisionByZero as DivZero, IntegerOverflow as Overflow};
    assert_eq!(i32b(Op::I32DivS, 1, 0), Err(DivZero));
    assert_eq!(i32b(Op::I32DivU, 1, 0), Err(DivZero));
    assert_eq!(i32b(Op::I32RemS, 1, 0), Err(DivZero));
    assert_eq!(i32b(Op::I32RemU, 1, 0), Err(DivZero));
    assert_eq!(i32b(Op::I32DivS, i32::MIN, -1), Err(Overflow));
    assert_eq!(i32b(Op::I32RemS, i32::MIN, -1), Ok(0));
    assert_eq!(i64b(Op::I64DivS, 1, 0), Err(DivZero));
    assert_eq!(i64b(Op::I64DivU, 1, 0), Err(DivZero));
    assert_eq!(i64b(Op::I64RemS, 1, 0), Err(DivZero));
    assert_eq!(i64b(Op::I64RemU, 1, 0), Err(DivZero));
    assert_eq!(i64b(Op::I64DivS, i64::MIN, -1), Err(Overflow));
    assert_eq!(i64b(Op::I64RemS, i64::MIN, -1), Ok(0));
}

#[test]
fn trapping_float_to_int_conversions() {
    use TrapCode::{BadConversionToInteger as Nan, IntegerOverflow as Overflow};
    assert_eq!(unop(Op::I32TruncF32S, F32, I32, f32v(-3.9)), i32v(-3));
    assert_eq!(unop(Op::I32TruncF32S, F32, I32, f32v(f32::NAN)), Err(Nan));
    assert_eq!(
        unop(Op::I32TruncF32S, F32, I32, f32v(2_147_483_648.0)),
        Err(Overflow)
    );
    assert_eq!(
        unop(Op::I32TruncF32U, F32, I32, f32v(4_294_967_040.0)),
        Ok(4_294_967_040)
    );
    assert_eq!(unop(Op::I32TruncF32U, F32, I32, f32v(-1.0)), Err(Overflow));
    assert_eq!(
        unop(Op::I32TruncF64S, F64, I32, f64v(-2_147_483_648.5)),
        i32v(i32::MIN)
    );
    assert_eq!(
        unop(Op::I32TruncF64S, F64, I32, f64v(f64::INFINITY)),
        Err(Overflow)
    );
    assert_eq!(unop(Op::I32TruncF64U, F64, I32, f64v(-0.99)), Ok(0));
    assert_eq!(unop(Op::I32TruncF64U, F64, I32, f64v(-f64::NAN)), Err(Nan));
    assert_eq!(unop(Op::I64TruncF32S, F32, I64, f32v(-1.5)), i64v(-1));
    assert_eq!(
        unop(Op::I64TruncF32U, F32, I64, f32v(1.9e19)),
        Err(Overflow)
    );
    assert_eq!(
        unop(Op::I64TruncF64S, F64, I64, f64v(-9.3e18)),
        Err(Overflow)
    );
    assert_eq!(
        unop(Op::I64TruncF64U, F64, I64, f64v(1.8e19)),
        Ok(18_000_000_000_000_000_000)
    );
    assert_eq!(unop(Op::I64TruncF64U, F64, I64, f64v(f64::NAN)), Err(Nan));
}

#[test]
fn saturating_and_other_conversions() {
    assert_eq!(unop(Op::I32TruncSatF32S, F32, I32, f32v(f32::NAN)), Ok(0));
    assert_eq!(unop(Op::I32TruncSatF32U, F32, I32, f32v(-5.0)), Ok(0));
    assert_eq!(
        unop(Op::I32TruncSatF64S, F64, I32, f64v(-1e20)),
        i32v(i32::MIN)
    );
    assert_eq!(unop(Op::I32TruncSatF64U, F64, I32, f64v(1e20)), i32v(-1));
    assert_eq!(
        unop(Op::I64TruncSatF32S, F32, I64, f32v(f32::INFINITY)),
        i64v(i64::MAX)
    );
    assert_eq!(unop(Op::I64TruncSatF32U, F32, I64, f32v(2.5)), Ok(2));
    assert_eq!(
        unop(Op::I64TruncSatF64S, F64, I64, f64v(f64::NEG_INFINITY)),
        i64v(i64::MIN)
    );
    assert_eq!(unop(Op::I64TruncSatF64U, F64, I64, f64v(f64::NAN)), Ok(0));
    assert_eq!(
        unop(Op::I32WrapI64, I64, I32, 0x1_2345_6789),
        Ok(0x2345_6789)
    );
    assert_eq!(
        unop(Op::I64ExtendI32S, I32, I64, 0x8000_0000),
        i64v(-2_147_483_648)
    );
    assert_eq!(
        unop(Op::I64ExtendI32U, I32, I64, 0xdead_0000_8000_0000),
        Ok(0x8000_0000)
    );
    assert_eq!(unop(Op::I32Extend8S, I32, I32, 0x180), i32v(-128));
    assert_eq!(unop(Op::I32Extend16S, I32, I32, 0x7fff), i32v(0x7fff));
    assert_eq!(unop(Op::I64Extend8S, I64, I64, 0xff), i64v(-1));
    assert_eq!(unop(Op::I64Extend16S, I64, I64, 0x8000), i64v(-32768));
    assert_eq!(unop(Op::I64Extend32S, I64, I64, 0xffff_ffff), i64v(-1));
    assert_eq!(
        unop(Op::F32ConvertI32S, I32, F32, 0xffff_ffff),
        Ok(f32v(-1.0))
    );
    assert_eq!(
        unop(Op::F32ConvertI32U, I32, F32, 0xffff_ffff),
        Ok(f32v(4_294_967_296.0))
    );
    assert_eq!(
        unop(Op::F32ConvertI64S, I64, F32, (-3i64) as u64),
        Ok(f32v(-3.0))
    );
    assert_eq!(
        unop(Op::F32ConvertI64U, I64, F32, u64::MAX),
        Ok(f32v(18_446_744_073_709_551_616.0))
    );
    assert_eq!(
        unop(Op::F64ConvertI32S, I32, F64, 0x8000_0000),
        Ok(f64v(-2_147_483_648.0))
    );
    assert_eq!(
        unop(Op::F64ConvertI32U, I32, F64, 0x8000_0000),
        Ok(f64v(2_147_483_648.0))
    );
    assert_eq!(
        unop(Op::F64ConvertI64S, I64, F64, i64::MIN as u64),
        Ok(f64v(-9_223_372_036_854_775_808.0))
    );
    assert_eq!(
        unop(Op::F64ConvertI64U, I64, F64, (1 << 53) + 1),
        Ok(f64v(9_007_199_254_740_992.0))
    );
    assert_eq!(
        unop(Op::F32DemoteF64, F64, F32, f64v(1e300)),
        Ok(f32v(f32::INFINITY))
    );
    assert_eq!(
        unop(Op::F64PromoteF32, F32, F64, f32v(-0.25)),
        Ok(f64v(-0.25))
    );
}

#[test]
fn float_min_max_order_zeros_and_return_nan() {
    let neg0_32 = f32v(-0.0);
    assert_eq!(binop(Op::F32Min, F32, F32, f32v(0.0), neg0_32), Ok(neg0_32));
    assert_eq!(binop(Op::F32Min, F32, F32, neg0_32, f32v(0.0)), Ok(neg0_32));
    assert_eq!(binop(Op::F32Max, F32, F32, neg0_32, f32v(0.0)), Ok(0));
    assert_eq!(binop(Op::F32Max, F32, F32, f32v(0.0), neg0_32), Ok(0));
    assert_eq!(
        binop(Op::F64Min, F64, F64, f64v(0.0), f64v(-0.0)),
        Ok(f64v(-0.0))
    );
    assert_eq!(binop(Op::F64Max, F64, F64, f64v(-0.0), f64v(0.0)), Ok(0));
    let nan32 = |r: Result<u64, TrapCode>| f32::from_bits(r.unwrap() as u32).is_nan();
    let nan64 = |r: Result<u64, TrapCode>| f64::from_bits(r.unwrap()).is_nan();
    assert!(nan32(binop(
        Op::F32Min,
        F32,
        F32,
        f32v(f32::NAN),
        f32v(f32::NEG_INFINITY)
    )));
    assert!(nan32(binop(
        Op::F32Max,
        F32,
        F32,
        f32v(f32::INFINITY),
        f32v(f32::NAN)
    )));
    assert!(nan64(binop(
        Op::F64Min,
        F64,
        F64,
        f64v(1.0),
        f64v(f64::NAN)
    )));
    assert!(nan64(binop(
        Op::F64Max,
        F64,
        F64,
        f64v(f64::NAN),
        f64v(1.0)
    )));
    assert_eq!(
        binop(Op::F32Min, F32, F32, f32v(-1.0), f32v(2.0)),
        Ok(f32v(-1.0))
    );
    assert_eq!(
        binop(Op::F64Max, F64, F64, f64v(-1.0), f64v(2.0)),
        Ok(f64v(2.0))
    );
}

#[test]
fn float_sign_operations_keep_nan_payloads() {
    let payload32 = 0x7fa0_0123u64;
    assert_eq!(
        binop(Op::F32Copysign, F32, F32, payload32, f32v(-1.0)),
        Ok(0xffa0_0123)
    );
    assert_eq!(
        binop(Op::F32Copysign, F32, F32, 0xffa0_0123, f32v(1.0)),
        Ok(payload32)
    );
    assert_eq!(unop(Op::F32Neg, F32, F32, payload32), Ok(0xffa0_0123));
    assert_eq!(unop(Op::F32Abs, F32, F32, 0xffa0_0123), Ok(payload32));
    let payload64 = 0x7ff4_0000_0000_0abc;
    assert_eq!(
        binop(Op::F64Copysign, F64, F64, payload64, f64v(-0.0)),
        Ok(payload64 | 1 << 63)
    );
    assert_eq!(
        unop(Op::F64Neg, F64, F64, payload64),
        Ok(payload64 | 1 << 63)
    );
    assert_eq!(
        unop(Op::F64Abs, F64, F64, payload64 | 1 << 63),
        Ok(payload64)
    );
    assert_eq!(unop(Op::F64Neg, F64, F64, 0), Ok(1 << 63));
}

#[test]
fn float_rounding_and_arithmetic() {
    assert_eq!(unop(Op::F32Nearest, F32, F32, f32v(2.5)), Ok(f32v(2.0)));
    assert_eq!(unop(Op::F32Nearest, F32, F32, f32v(3.5)), Ok(f32v(4.0)));
    assert_eq!(unop(Op::F32Nearest, F32, F32, f32v(-0.5)), Ok(f32v(-0.0)));
    assert_eq!(unop(Op::F64Nearest, F64, F64, f64v(-2.5)), Ok(f64v(-2.0)));
    assert_eq!(
        unop(Op::F64Nearest, F64, F64, f64v(0.49999999999999994)),
        Ok(f64v(0.0))
    );
    assert_eq!(unop(Op::F32Ceil, F32, F32, f32v(-0.5)), Ok(f32v(-0.0)));
    assert_eq!(unop(Op::F32Floor, F32, F32, f32v(-0.5)), Ok(f32v(-1.0)));
    assert_eq!(unop(Op::F32Trunc, F32, F32, f32v(-1.7)), Ok(f32v(-1.0)));
    assert_eq!(unop(Op::F32Sqrt, F32, F32, f32v(2.25)), Ok(f32v(1.5)));
    assert_eq!(unop(Op::F64Ceil, F64, F64, f64v(1.1)), Ok(f64v(2.0)));
    assert_eq!(unop(Op::F64Floor, F64, F64, f64v(1.9)), Ok(f64v(1.0)));
    assert_eq!(unop(Op::F64Trunc, F64, F64, f64v(-1.9)), Ok(f64v(-1.0)));
    assert!(f64::from_bits(unop(Op::F64Sqrt, F64, F64, f64v(-1.0)).unwrap()).is_nan());
    assert_eq!(
        binop(Op::F32Add, F32, F32, f32v(0.1), f32v(0.2)),
        Ok(f32v(0.1 + 0.2))
    );
    assert_eq!(
        binop(Op::F32Sub, F32, F32, f32v(1.0), f32v(3.0)),
        Ok(f32v(-2.0))
    );
    assert_eq!(
        binop(Op::F32Mul, F32, F32, f32v(1e30), f32v(1e30)),
        Ok(f32v(f32::INFINITY))
    );
    assert_eq!(
        binop(Op::F32Div, F32, F32, f32v(1.0), f32v(-0.0)),
        Ok(f32v(f32::NEG_INFINITY))
    );
    assert_eq!(
        binop(Op::F64Add, F64, F64, f64v(0.1), f64v(0.2)),
        Ok(f64v(0.1 + 0.2))
    );
    assert_eq!(binop(Op::F64Sub, F64, F64, f64v(1.0), f64v(1.0)), Ok(0));
    assert_eq!(
        binop(Op::F64Mul, F64, F64, f64v(-2.0), f64v(0.5)),
        Ok(f64v(-1.0))
    );
    assert_eq!(
        binop(Op::F64Div, F64, F64, f64v(1.0), f64v(3.0)),
        Ok(f64v(1.0 / 3.0))
    );
}

#[test]
fn float_comparisons() {
    let nan32 = f32v(f32::NAN);
    assert_eq!(binop(Op::F32Eq, F32, I32, nan32, nan32), Ok(0));
    assert_eq!(binop(Op::F32Ne, F32, I32, nan32, nan32), Ok(1));
    assert_eq!(binop(Op::F32Eq, F32, I32, f32v(0.0), f32v(-0.0)), Ok(1));
    assert_eq!(binop(Op::F32Lt, F32, I32, f32v(-1.0), f32v(1.0)), Ok(1));
    assert_eq!(binop(Op::F32Gt, F32, I32, nan32, f32v(1.0)), Ok(0));
    assert_eq!(binop(Op::F32Le, F32, I32, f32v(1.0), f32v(1.0)), Ok(1));
    assert_eq!(binop(Op::F32Ge, F32, I32, f32v(1.0), nan32), Ok(0));
    let nan64 = f64v(f64::NAN);
    assert_eq!(binop(Op::F64Eq, F64, I32, nan64, nan64), Ok(0));
    assert_eq!(binop(Op::F64Ne, F64, I32, f64v(1.0), f64v(1.0)), Ok(0));
    assert_eq!(binop(Op::F64Lt, F64, I32, f64v(-0.0), f64v(0.0)), Ok(0));
    assert_eq!(binop(Op::F64Gt, F64, I32, f64v(2.0), f64v(1.0)), Ok(1));
    assert_eq!(binop(Op::F64Le, F64, I32, nan64, f64v(1.0)), Ok(0));
    assert_eq!(binop(Op::F64Ge, F64, I32, f64v(-0.0), f64v(0.0)), Ok(1));
}

#[test]
fn constants_select_and_copy() {
    let store = TestStore::new(1 << 16);
    let mut m = Builder::new();
    let t = m.ty(&[I32], &[I64, I32]);
    // (select (i64.const big) (i64.const 7) (local.get 0)), f32.const 1.5
    let f = m.func(
        t,
        0,
        4,
        vec![
            Op::Const64 {
                dst: 1,
                value: 0x1234_5678_9abc_def0,
            },
            Op::Const64 { dst: 2, value: 7 },
            Op::Select {
                dst: 3,
                cond: 0,
                if_true: 1,
                if_false: 2,
            },
            Op::Const32 {
                dst: 1,
                value: 1.5f32.to_bits(),
            },
            Op::Copy { dst: 0, src: 3 },
            Op::Return,
        ],
    );
    let inst = m.build(&store);
    assert_eq!(
        inst.call(f, &[1]).unwrap(),
        vec![0x1234_5678_9abc_def0, 1.5f32.to_bits() as u64]
    );
    assert_eq!(
        inst.call(f, &[0]).unwrap(),
        vec![7, 1.5f32.to_bits() as u64]
    );
    // Only the low 32 bits of the condition count.
    assert_eq!(inst.call(f, &[1 << 32]).unwrap()[0], 7);
}

#[test]
fn globals_read_and_write_their_definitions() {
    let store = TestStore::new(1 << 16);
    let mut m = Builder::new();
    let g = m.global(41);
    let t = m.ty(&[I64], &[I64]);
    // old = global; global = param; return old + 1
    let f = m.func(
        t,
        0,
        3,
        vec![
            Op::GlobalGet { dst: 1, global: g },
            Op::GlobalSet { src: 0, global: g },
            Op::Const64 { dst: 2, value: 1 },
            Op::I64Add(b(0, 1, 2)),
            Op::Return,
        ],
    );
    let inst = m.build(&store);
    assert_eq!(inst.call1(f, &[u64::MAX]).unwrap(), 42);
    assert_eq!(inst.global(g), u64::MAX);
    assert_eq!(inst.call1(f, &[5]).unwrap(), 0);
    assert_eq!(inst.global(g), 5);
}
