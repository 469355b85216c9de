//! Constants, integer and float operators, and conversions.
//!
//! Cranelift's operators have wasm's semantics (shift counts modulo the
//! width, IEEE float arithmetic, `fmin`/`fmax` propagating NaN and ordering
//! -0 below +0, saturating conversions), with three exceptions handled
//! here with explicit checks so that nothing in the code can fault:
//! integer division and remainder by zero and `MIN / -1` trap with the
//! spec's codes before the divide, `MIN % -1` is 0, and the trapping
//! float-to-int truncations check for NaN and range before a saturating
//! conversion.

use super::Translator;
use crate::Unsupported;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Type, Value, types};
use kiln_vm::TrapCode;
use wasmparser::Operator;

/// The binary integer operators Cranelift computes directly.
#[derive(Copy, Clone)]
enum IntBin {
    Add,
    Sub,
    Mul,
    And,
    Or,
    Xor,
    Shl,
    ShrS,
    ShrU,
    Rotl,
    Rotr,
}

/// Division and remainder, which need checks.
#[derive(Copy, Clone)]
enum Div {
    DivS,
    DivU,
    RemS,
    RemU,
}

/// The binary float operators.
#[derive(Copy, Clone)]
enum FloatBin {
    Add,
    Sub,
    Mul,
    Div,
    Min,
    Max,
    Copysign,
}

/// The unary float operators.
#[derive(Copy, Clone)]
enum FloatUn {
    Abs,
    Neg,
    Ceil,
    Floor,
    Trunc,
    Nearest,
    Sqrt,
}

impl Translator<'_, '_> {
    /// Any operator not handled by the other families.
    pub(super) fn numeric(&mut self, op: &Operator<'_>) -> Result<(), Unsupported> {
        use Operator as O;
        use types::{F32, F64, I32, I64};
        match *op {
            O::I32Const { value } => {
                let v = self.i32_const(value);
                self.push(v);
            }
            O::I64Const { value } => {
                let v = self.i64_const(value);
                self.push(v);
            }
            O::F32Const { value } => {
                let v = self.b.ins().f32const(Ieee32::with_bits(value.bits()));
                self.push(v);
            }
            O::F64Const { value } => {
                let v = self.b.ins().f64const(Ieee64::with_bits(value.bits()));
                self.push(v);
            }

            O::I32Eqz | O::I64Eqz => {
                let x = self.pop();
                let c = self.b.ins().icmp_imm_s(IntCC::Equal, x, 0);
                self.push_bool(c);
            }
            O::I32Eq | O::I64Eq => self.icmp(IntCC::Equal),
            O::I32Ne | O::I64Ne => self.icmp(IntCC::NotEqual),
            O::I32LtS | O::I64LtS => self.icmp(IntCC::SignedLessThan),
            O::I32LtU | O::I64LtU => self.icmp(IntCC::UnsignedLessThan),
            O::I32GtS | O::I64GtS => self.icmp(IntCC::SignedGreaterThan),
            O::I32GtU | O::I64GtU => self.icmp(IntCC::UnsignedGreaterThan),
            O::I32LeS | O::I64LeS => self.icmp(IntCC::SignedLessThanOrEqual),
            O::I32LeU | O::I64LeU => self.icmp(IntCC::UnsignedLessThanOrEqual),
            O::I32GeS | O::I64GeS => self.icmp(IntCC::SignedGreaterThanOrEqual),
            O::I32GeU | O::I64GeU => self.icmp(IntCC::UnsignedGreaterThanOrEqual),

            O::F32Eq | O::F64Eq => self.fcmp(FloatCC::Equal),
            O::F32Ne | O::F64Ne => self.fcmp(FloatCC::NotEqual),
            O::F32Lt | O::F64Lt => self.fcmp(FloatCC::LessThan),
            O::F32Gt | O::F64Gt => self.fcmp(FloatCC::GreaterThan),
            O::F32Le | O::F64Le => self.fcmp(FloatCC::LessThanOrEqual),
            O::F32Ge | O::F64Ge => self.fcmp(FloatCC::GreaterThanOrEqual),

            O::I32Clz | O::I64Clz => self.unary(|ins, x| ins.clz(x)),
            O::I32Ctz | O::I64Ctz => self.unary(|ins, x| ins.ctz(x)),
            O::I32Popcnt | O::I64Popcnt => self.unary(|ins, x| ins.popcnt(x)),

            O::I32Add | O::I64Add => self.int_bin(IntBin::Add),
            O::I32Sub | O::I64Sub => self.int_bin(IntBin::Sub),
            O::I32Mul | O::I64Mul => self.int_bin(IntBin::Mul),
            O::I32And | O::I64And => self.int_bin(IntBin::And),
            O::I32Or | O::I64Or => self.int_bin(IntBin::Or),
            O::I32Xor | O::I64Xor => self.int_bin(IntBin::Xor),
            O::I32Shl | O::I64Shl => self.int_bin(IntBin::Shl),
            O::I32ShrS | O::I64ShrS => self.int_bin(IntBin::ShrS),
            O::I32ShrU | O::I64ShrU => self.int_bin(IntBin::ShrU),
            O::I32Rotl | O::I64Rotl => self.int_bin(IntBin::Rotl),
            O::I32Rotr | O::I64Rotr => self.int_bin(IntBin::Rotr),
            O::I32DivS | O::I64DivS => self.div(Div::DivS),
            O::I32DivU | O::I64DivU => self.div(Div::DivU),
            O::I32RemS | O::I64RemS => self.div(Div::RemS),
            O::I32RemU | O::I64RemU => self.div(Div::RemU),

            O::F32Abs | O::F64Abs => self.float_un(FloatUn::Abs),
            O::F32Neg | O::F64Neg => self.float_un(FloatUn::Neg),
            O::F32Ceil | O::F64Ceil => self.float_un(FloatUn::Ceil),
            O::F32Floor | O::F64Floor => self.float_un(FloatUn::Floor),
            O::F32Trunc | O::F64Trunc => self.float_un(FloatUn::Trunc),
            O::F32Nearest | O::F64Nearest => self.float_un(FloatUn::Nearest),
            O::F32Sqrt | O::F64Sqrt => self.float_un(FloatUn::Sqrt),
            O::F32Add | O::F64Add => self.float_bin(FloatBin::Add),
            O::F32Sub | O::F64Sub => self.float_bin(FloatBin::Sub),
            O::F32Mul | O::F64Mul => self.float_bin(FloatBin::Mul),
            O::F32Div | O::F64Div => self.float_bin(FloatBin::Div),
            O::F32Min | O::F64Min => self.float_bin(FloatBin::Min),
            O::F32Max | O::F64Max => self.float_bin(FloatBin::Max),
            O::F32Copysign | O::F64Copysign => self.float_bin(FloatBin::Copysign),

            O::I32WrapI64 => self.unary(|ins, x| ins.ireduce(I32, x)),
            O::I64ExtendI32S => self.unary(|ins, x| ins.sextend(I64, x)),
            O::I64ExtendI32U => self.unary(|ins, x| ins.uextend(I64, x)),
            O::I32Extend8S => self.extend_from(types::I8, I32),
            O::I32Extend16S => self.extend_from(types::I16, I32),
            O::I64Extend8S => self.extend_from(types::I8, I64),
            O::I64Extend16S => self.extend_from(types::I16, I64),
            O::I64Extend32S => self.extend_from(I32, I64),

            O::I32TruncF32S | O::I32TruncF64S => self.trunc(I32, true)?,
            O::I32TruncF32U | O::I32TruncF64U => self.trunc(I32, false)?,
            O::I64TruncF32S | O::I64TruncF64S => self.trunc(I64, true)?,
            O::I64TruncF32U | O::I64TruncF64U => self.trunc(I64, false)?,
            O::I32TruncSatF32S | O::I32TruncSatF64S => {
                self.unary(|ins, x| ins.fcvt_to_sint_sat(I32, x))
            }
            O::I32TruncSatF32U | O::I32TruncSatF64U => {
                self.unary(|ins, x| ins.fcvt_to_uint_sat(I32, x))
            }
            O::I64TruncSatF32S | O::I64TruncSatF64S => {
                self.unary(|ins, x| ins.fcvt_to_sint_sat(I64, x))
            }
            O::I64TruncSatF32U | O::I64TruncSatF64U => {
                self.unary(|ins, x| ins.fcvt_to_uint_sat(I64, x))
            }

            O::F32ConvertI32S | O::F32ConvertI64S => {
                self.unary(|ins, x| ins.fcvt_from_sint(F32, x))
            }
            O::F32ConvertI32U | O::F32ConvertI64U => {
                self.unary(|ins, x| ins.fcvt_from_uint(F32, x))
            }
            O::F64ConvertI32S | O::F64ConvertI64S => {
                self.unary(|ins, x| ins.fcvt_from_sint(F64, x))
            }
            O::F64ConvertI32U | O::F64ConvertI64U => {
                self.unary(|ins, x| ins.fcvt_from_uint(F64, x))
            }
            O::F32DemoteF64 => self.unary(|ins, x| ins.fdemote(F32, x)),
            O::F64PromoteF32 => self.unary(|ins, x| ins.fpromote(F64, x)),
            O::I32ReinterpretF32 => self.reinterpret(I32),
            O::I64ReinterpretF64 => self.reinterpret(I64),
            O::F32ReinterpretI32 => self.reinterpret(F32),
            O::F64ReinterpretI64 => self.reinterpret(F64),

            ref other => return Err(Unsupported(format!("{other:?}"))),
        }
        Ok(())
    }

    /// Pushes a Cranelift boolean (an `i8` 0 or 1) as a wasm `i32`.
    fn push_bool(&mut self, c: Value) {
        let v = self.b.ins().uextend(types::I32, c);
        self.push(v);
    }

    fn icmp(&mut self, cc: IntCC) {
        let (a, b) = self.pop2();
        let c = self.b.ins().icmp(cc, a, b);
        self.push_bool(c);
    }

    fn fcmp(&mut self, cc: FloatCC) {
        let (a, b) = self.pop2();
        let c = self.b.ins().fcmp(cc, a, b);
        self.push_bool(c);
    }

    /// Replaces the top operand with `f` of it.
    fn unary(
        &mut self,
        f: impl FnOnce(cranelift_frontend::FuncInstBuilder<'_, '_>, Value) -> Value,
    ) {
        let x = self.pop();
        let v = f(self.b.ins(), x);
        self.push(v);
    }

    fn int_bin(&mut self, op: IntBin) {
        let (a, b) = self.pop2();
        let ins = self.b.ins();
        let v = match op {
            IntBin::Add => ins.iadd(a, b),
            IntBin::Sub => ins.isub(a, b),
            IntBin::Mul => ins.imul(a, b),
            IntBin::And => ins.band(a, b),
            IntBin::Or => ins.bor(a, b),
            IntBin::Xor => ins.bxor(a, b),
            IntBin::Shl => ins.ishl(a, b),
            IntBin::ShrS => ins.sshr(a, b),
            IntBin::ShrU => ins.ushr(a, b),
            IntBin::Rotl => ins.rotl(a, b),
            IntBin::Rotr => ins.rotr(a, b),
        };
        self.push(v);
    }

    /// Division and remainder, with the spec's traps checked first.
    fn div(&mut self, op: Div) {
        let (a, b) = self.pop2();
        let ty = self.b.func.dfg.value_type(b);
        let zero = self.b.ins().icmp_imm_s(IntCC::Equal, b, 0);
        self.trap_if(zero, TrapCode::IntegerDivisionByZero);
        let v = match op {
            Div::DivS => {
                let min = if ty == types::I32 {
                    i64::from(i32::MIN)
                } else {
                    i64::MIN
                };
                let a_min = self.b.ins().icmp_imm_s(IntCC::Equal, a, min);
                let b_neg1 = self.b.ins().icmp_imm_s(IntCC::Equal, b, -1);
                let overflow = self.b.ins().band(a_min, b_neg1);
                self.trap_if(overflow, TrapCode::IntegerOverflow);
                self.b.ins().sdiv(a, b)
            }
            Div::DivU => self.b.ins().udiv(a, b),
            Div::RemS => {
                // `MIN % -1` is 0 in wasm; `x % 1` is 0 too and cannot
                // overflow the divide.
                let b_neg1 = self.b.ins().icmp_imm_s(IntCC::Equal, b, -1);
                let one = self.b.ins().iconst(ty, 1);
                let divisor = self.b.ins().select(b_neg1, one, b);
                self.b.ins().srem(a, divisor)
            }
            Div::RemU => self.b.ins().urem(a, b),
        };
        self.push(v);
    }

    fn float_bin(&mut self, op: FloatBin) {
        let (a, b) = self.pop2();
        let ins = self.b.ins();
        let v = match op {
            FloatBin::Add => ins.fadd(a, b),
            FloatBin::Sub => ins.fsub(a, b),
            FloatBin::Mul => ins.fmul(a, b),
            FloatBin::Div => ins.fdiv(a, b),
            FloatBin::Min => return self.min_max(a, b, true),
            FloatBin::Max => return self.min_max(a, b, false),
            FloatBin::Copysign => {
                let v = ins.fcopysign(a, b);
                return self.push(v);
            }
        };
        let v = if self.explicit_nan_order {
            self.first_nan(v, a, b)
        } else {
            v
        };
        self.push(v);
    }

    /// Kiln's NaN rule for the result `r` of an arithmetic operation on `a`
    /// and `b`: a NaN operand propagates as the first NaN operand, quieted
    /// (as the interpreter computes it). x86-64's instructions follow that
    /// rule by themselves; this is the explicit version for targets whose
    /// hardware prefers a signalling NaN over an earlier quiet one.
    fn first_nan(&mut self, r: Value, a: Value, b: Value) -> Value {
        let ty = self.b.func.dfg.value_type(r);
        let (int, quiet) = if ty == types::F32 {
            (types::I32, 0x0040_0000i64)
        } else {
            (types::I64, 0x0008_0000_0000_0000)
        };
        let flags = MemFlagsData::new();
        let ins = &mut self.b;
        let a_nan = ins.ins().fcmp(FloatCC::Unordered, a, a);
        let b_nan = ins.ins().fcmp(FloatCC::Unordered, b, b);
        let a_bits = ins.ins().bitcast(int, flags, a);
        let b_bits = ins.ins().bitcast(int, flags, b);
        let first = ins.ins().select(a_nan, a_bits, b_bits);
        let first = ins.ins().bor_imm_u(first, quiet);
        let first = ins.ins().bitcast(ty, flags, first);
        let any = ins.ins().bor(a_nan, b_nan);
        ins.ins().select(any, first, r)
    }

    /// `min` or `max`, spelled out as the interpreter computes it so the
    /// NaN a pair of NaNs gives is the same in both tiers (the first NaN
    /// operand, quieted; Cranelift's `fmin` would return the second): the
    /// smaller (larger) of ordered unequal operands; for equal ones the
    /// bitwise or (and) of their bits, which orders -0 below +0.
    fn min_max(&mut self, a: Value, b: Value, min: bool) {
        let ty = self.b.func.dfg.value_type(a);
        let int = if ty == types::F32 {
            types::I32
        } else {
            types::I64
        };
        let quiet: i64 = if ty == types::F32 {
            0x0040_0000
        } else {
            0x0008_0000_0000_0000
        };
        let flags = MemFlagsData::new();
        let (first_cc, second_cc) = if min {
            (FloatCC::LessThan, FloatCC::GreaterThan)
        } else {
            (FloatCC::GreaterThan, FloatCC::LessThan)
        };
        let ins = &mut self.b;
        let a_wins = ins.ins().fcmp(first_cc, a, b);
        let b_wins = ins.ins().fcmp(second_cc, a, b);
        let equal = ins.ins().fcmp(FloatCC::Equal, a, b);
        let a_bits = ins.ins().bitcast(int, flags, a);
        let b_bits = ins.ins().bitcast(int, flags, b);
        let merged = if min {
            ins.ins().bor(a_bits, b_bits)
        } else {
            ins.ins().band(a_bits, b_bits)
        };
        let merged = ins.ins().bitcast(ty, flags, merged);
        let a_nan = ins.ins().fcmp(FloatCC::Unordered, a, a);
        let nan_bits = ins.ins().select(a_nan, a_bits, b_bits);
        let nan_bits = ins.ins().bor_imm_u(nan_bits, quiet);
        let nan = ins.ins().bitcast(ty, flags, nan_bits);
        let v = ins.ins().select(equal, merged, nan);
        let v = ins.ins().select(b_wins, b, v);
        let v = ins.ins().select(a_wins, a, v);
        self.push(v);
    }

    fn float_un(&mut self, op: FloatUn) {
        let x = self.pop();
        let ins = self.b.ins();
        let v = match op {
            FloatUn::Abs => ins.fabs(x),
            FloatUn::Neg => ins.fneg(x),
            FloatUn::Ceil => ins.ceil(x),
            FloatUn::Floor => ins.floor(x),
            FloatUn::Trunc => ins.trunc(x),
            FloatUn::Nearest => ins.nearest(x),
            FloatUn::Sqrt => ins.sqrt(x),
        };
        self.push(v);
    }

    /// Sign-extends the low `from` bits of the top operand to `to`.
    fn extend_from(&mut self, from: Type, to: Type) {
        let x = self.pop();
        let narrow = self.b.ins().ireduce(from, x);
        let v = self.b.ins().sextend(to, narrow);
        self.push(v);
    }

    fn reinterpret(&mut self, to: Type) {
        let x = self.pop();
        let v = self.b.ins().bitcast(to, MemFlagsData::new(), x);
        self.push(v);
    }

    /// A trapping float → int truncation to `to` (signed or not): NaN traps
    /// with `BadConversionToInteger`, a value whose truncation does not fit
    /// with `IntegerOverflow`; the rest converts exactly.
    fn trunc(&mut self, to: Type, signed: bool) -> Result<(), Unsupported> {
        let x = self.pop();
        let from = self.b.func.dfg.value_type(x);
        let nan = self.b.ins().fcmp(FloatCC::Unordered, x, x);
        self.trap_if(nan, TrapCode::BadConversionToInteger);
        // Inputs must lie in [MIN, 2^(bits-1)) (signed) or (-1, 2^bits)
        // (unsigned), as truncated: for a signed target whose MIN - 1 the
        // source type can hold (f64 → i32), anything above MIN - 1 still
        // truncates to at least MIN. Every bound is exact in the source.
        let bits = to.bits() as i32;
        let (lo, hi) = if signed {
            let min = -(2f64.powi(bits - 1));
            let lo = if from == types::F64 && bits == 32 {
                Bound::Above(min - 1.0)
            } else {
                Bound::AtLeast(min)
            };
            (lo, -min)
        } else {
            (Bound::Above(-1.0), 2f64.powi(bits))
        };
        let too_low = match lo {
            Bound::Above(v) => {
                let c = self.float_const(from, v);
                self.b.ins().fcmp(FloatCC::LessThanOrEqual, x, c)
            }
            Bound::AtLeast(v) => {
                let c = self.float_const(from, v);
                self.b.ins().fcmp(FloatCC::LessThan, x, c)
            }
        };
        let c = self.float_const(from, hi);
        let too_high = self.b.ins().fcmp(FloatCC::GreaterThanOrEqual, x, c);
        let out = self.b.ins().bor(too_low, too_high);
        self.trap_if(out, TrapCode::IntegerOverflow);
        let v = if signed {
            self.b.ins().fcvt_to_sint_sat(to, x)
        } else {
            self.b.ins().fcvt_to_uint_sat(to, x)
        };
        self.push(v);
        Ok(())
    }

    /// A float constant of type `ty` (exact: callers pass powers of two and
    /// small integers).
    fn float_const(&mut self, ty: Type, v: f64) -> Value {
        if ty == types::F32 {
            self.b.ins().f32const(v as f32)
        } else {
            self.b.ins().f64const(v)
        }
    }
}

/// The lower end of a truncation's valid inputs.
#[derive(Copy, Clone)]
enum Bound {
    /// Inputs must be greater than this.
    Above(f64),
    /// Inputs must be at least this.
    AtLeast(f64),
}
