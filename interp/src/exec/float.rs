//! Float instructions (`f32.*`, `f64.*`) and every conversion between
//! floats and integers, as pure functions on typed values.
//!
//! Arithmetic uses Rust's IEEE 754 operations, which give the results the
//! spec requires (NaN results are quiet NaNs). `abs`, `neg` and `copysign`
//! are pure sign-bit operations on the bit patterns, so NaN payloads pass
//! through untouched. `min`/`max` return a NaN when either operand is one
//! and order `-0` below `+0`.

use super::regs::trap;
use crate::vm::TrapCode;

/// Sets the quiet bit of a NaN result: rounding done in software (no
/// SSE4.1) hands a signalling NaN input back unchanged, but the spec requires
/// an arithmetic (quiet) NaN.
macro_rules! quiet_nan {
    ($f:ty, $r:expr) => {{
        let r: $f = $r;
        if r.is_nan() {
            <$f>::from_bits(r.to_bits() | (1 << (<$f>::MANTISSA_DIGITS - 2)))
        } else {
            r
        }
    }};
}

macro_rules! float_ops {
    ($f:ty, $bits:ty,
     eq = $eq:ident, ne = $ne:ident, lt = $lt:ident, gt = $gt:ident, le = $le:ident, ge = $ge:ident,
     abs = $abs:ident, neg = $neg:ident, copysign = $copysign:ident,
     ceil = $ceil:ident, floor = $floor:ident, trunc = $trunc:ident, nearest = $nearest:ident,
     sqrt = $sqrt:ident, add = $add:ident, sub = $sub:ident, mul = $mul:ident, div = $div:ident,
     min = $min:ident, max = $max:ident, nan = $nan:ident, quiet = $quiet:expr,
     ordered = $ordered:ident) => {
        #[doc = concat!("`", stringify!($f), ".eq`.")]
        #[inline(always)]
        pub(super) fn $eq(a: $f, b: $f) -> bool {
            a == b
        }
        #[doc = concat!("`", stringify!($f), ".ne`.")]
        #[inline(always)]
        pub(super) fn $ne(a: $f, b: $f) -> bool {
            a != b
        }
        #[doc = concat!("`", stringify!($f), ".lt`.")]
        #[inline(always)]
        pub(super) fn $lt(a: $f, b: $f) -> bool {
            a < b
        }
        #[doc = concat!("`", stringify!($f), ".gt`.")]
        #[inline(always)]
        pub(super) fn $gt(a: $f, b: $f) -> bool {
            a > b
        }
        #[doc = concat!("`", stringify!($f), ".le`.")]
        #[inline(always)]
        pub(super) fn $le(a: $f, b: $f) -> bool {
            a <= b
        }
        #[doc = concat!("`", stringify!($f), ".ge`.")]
        #[inline(always)]
        pub(super) fn $ge(a: $f, b: $f) -> bool {
            a >= b
        }
        #[doc = concat!("`", stringify!($f), ".abs`: clears the sign bit.")]
        #[inline(always)]
        pub(super) fn $abs(a: $bits) -> $bits {
            a & !(1 << (<$bits>::BITS - 1))
        }
        #[doc = concat!("`", stringify!($f), ".neg`: flips the sign bit.")]
        #[inline(always)]
        pub(super) fn $neg(a: $bits) -> $bits {
            a ^ (1 << (<$bits>::BITS - 1))
        }
        #[doc = concat!("`", stringify!($f), ".copysign`: `a`'s magnitude bits with `b`'s sign bit.")]
        #[inline(always)]
        pub(super) fn $copysign(a: $bits, b: $bits) -> $bits {
            let sign: $bits = 1 << (<$bits>::BITS - 1);
            (a & !sign) | (b & sign)
        }
        #[doc = concat!("`", stringify!($f), ".ceil`.")]
        #[inline(always)]
        pub(super) fn $ceil(a: $f) -> $f {
            quiet_nan!($f, a.ceil())
        }
        #[doc = concat!("`", stringify!($f), ".floor`.")]
        #[inline(always)]
        pub(super) fn $floor(a: $f) -> $f {
            quiet_nan!($f, a.floor())
        }
        #[doc = concat!("`", stringify!($f), ".trunc`.")]
        #[inline(always)]
        pub(super) fn $trunc(a: $f) -> $f {
            quiet_nan!($f, a.trunc())
        }
        #[doc = concat!("`", stringify!($f), ".nearest`: round half to even.")]
        #[inline(always)]
        pub(super) fn $nearest(a: $f) -> $f {
            quiet_nan!($f, a.round_ties_even())
        }
        #[doc = concat!("`", stringify!($f), ".sqrt`.")]
        #[inline(always)]
        pub(super) fn $sqrt(a: $f) -> $f {
            a.sqrt()
        }
        #[doc = concat!("`", stringify!($f), ".add`.")]
        #[inline(always)]
        pub(super) fn $add(a: $f, b: $f) -> $f {
            $ordered(a + b, a, b)
        }
        #[doc = concat!("`", stringify!($f), ".sub`.")]
        #[inline(always)]
        pub(super) fn $sub(a: $f, b: $f) -> $f {
            $ordered(a - b, a, b)
        }
        #[doc = concat!("`", stringify!($f), ".mul`.")]
        #[inline(always)]
        pub(super) fn $mul(a: $f, b: $f) -> $f {
            $ordered(a * b, a, b)
        }
        #[doc = concat!("`", stringify!($f), ".div`.")]
        #[inline(always)]
        pub(super) fn $div(a: $f, b: $f) -> $f {
            $ordered(a / b, a, b)
        }
        #[doc = concat!("`", stringify!($f), ".min`: NaN if either is NaN; `-0 < +0`.")]
        #[inline(always)]
        pub(super) fn $min(a: $f, b: $f) -> $f {
            if a < b {
                a
            } else if b < a {
                b
            } else if a == b {
                // Equal, possibly zeros of different signs: the result is
                // negative if either is (identical bits otherwise).
                <$f>::from_bits(a.to_bits() | b.to_bits())
            } else {
                $nan(a, b)
            }
        }
        #[doc = concat!("`", stringify!($f), ".max`: NaN if either is NaN; `-0 < +0`.")]
        #[inline(always)]
        pub(super) fn $max(a: $f, b: $f) -> $f {
            if a > b {
                a
            } else if b > a {
                b
            } else if a == b {
                // Equal: positive if either is (identical bits otherwise).
                <$f>::from_bits(a.to_bits() & b.to_bits())
            } else {
                $nan(a, b)
            }
        }
        #[doc = concat!("The NaN an `", stringify!($f), "` operation on `a` and `b` returns when")]
        #[doc = "either is a NaN: the first NaN operand, quieted — Kiln's rule in every"]
        #[doc = "tier. Spelled out rather than left to the hardware, whose choice between"]
        #[doc = "two NaNs follows an operand order the compiler may swap."]
        #[inline(always)]
        pub(super) fn $nan(a: $f, b: $f) -> $f {
            let first = if a.is_nan() { a } else { b };
            <$f>::from_bits(first.to_bits() | $quiet)
        }
        #[doc = concat!("The result `r` of an `", stringify!($f), "` arithmetic operation on `a` and `b`,")]
        #[doc = "with Kiln's NaN rule: a NaN operand propagates as the first NaN operand,"]
        #[doc = "quieted (a NaN made from numbers, like `inf - inf`, is the hardware's)."]
        #[doc = ""]
        #[doc = "That is x86-64's own rule for the instruction's operand order, but the"]
        #[doc = "compiler of these handlers may swap the operands of an addition or a"]
        #[doc = "multiplication, so the choice is checked here. The check is off the"]
        #[doc = "value's dependency chain: a predicted branch on the result."]
        #[inline(always)]
        pub(super) fn $ordered(r: $f, a: $f, b: $f) -> $f {
            if r.is_nan() && (a.is_nan() || b.is_nan()) {
                core::hint::cold_path();
                $nan(a, b)
            } else {
                r
            }
        }
    };
}

float_ops! {
    f32, u32,
    eq = f32_eq, ne = f32_ne, lt = f32_lt, gt = f32_gt, le = f32_le, ge = f32_ge,
    abs = f32_abs, neg = f32_neg, copysign = f32_copysign,
    ceil = f32_ceil, floor = f32_floor, trunc = f32_trunc, nearest = f32_nearest,
    sqrt = f32_sqrt, add = f32_add, sub = f32_sub, mul = f32_mul, div = f32_div,
    min = f32_min, max = f32_max, nan = f32_first_nan, quiet = 0x0040_0000,
    ordered = f32_nan_ordered
}

float_ops! {
    f64, u64,
    eq = f64_eq, ne = f64_ne, lt = f64_lt, gt = f64_gt, le = f64_le, ge = f64_ge,
    abs = f64_abs, neg = f64_neg, copysign = f64_copysign,
    ceil = f64_ceil, floor = f64_floor, trunc = f64_trunc, nearest = f64_nearest,
    sqrt = f64_sqrt, add = f64_add, sub = f64_sub, mul = f64_mul, div = f64_div,
    min = f64_min, max = f64_max, nan = f64_first_nan, quiet = 0x0008_0000_0000_0000,
    ordered = f64_nan_ordered
}

/// Trapping float → int truncation. `$fits` is the exact range of inputs
/// whose truncation fits the target, with bounds exactly representable in
/// the source type.
macro_rules! trunc_trapping {
    ($(#[$doc:meta] $name:ident: $f:ty => $i:ty, |$x:ident| $fits:expr;)*) => {$(
        #[$doc]
        #[inline(always)]
        pub(super) fn $name($x: $f) -> Result<$i, TrapCode> {
            if $x.is_nan() {
                return trap(TrapCode::BadConversionToInteger);
            }
            if !$fits {
                return trap(TrapCode::IntegerOverflow);
            }
            // In range: `as` truncates toward zero exactly.
            Ok($x as $i)
        }
    )*};
}

trunc_trapping! {
    /// `i32.trunc_f32_s`: valid for `-2^31 <= x < 2^31`.
    i32_trunc_f32_s: f32 => i32, |x| (-2_147_483_648.0..2_147_483_648.0).contains(&x);
    /// `i32.trunc_f32_u`: valid for `-1 < x < 2^32`.
    i32_trunc_f32_u: f32 => u32, |x| x > -1.0 && x < 4_294_967_296.0;
    /// `i32.trunc_f64_s`: valid for `-2^31 - 1 < x < 2^31`.
    i32_trunc_f64_s: f64 => i32, |x| x > -2_147_483_649.0 && x < 2_147_483_648.0;
    /// `i32.trunc_f64_u`: valid for `-1 < x < 2^32`.
    i32_trunc_f64_u: f64 => u32, |x| x > -1.0 && x < 4_294_967_296.0;
    /// `i64.trunc_f32_s`: valid for `-2^63 <= x < 2^63`.
    i64_trunc_f32_s: f32 => i64,
        |x| (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&x);
    /// `i64.trunc_f32_u`: valid for `-1 < x < 2^64`.
    i64_trunc_f32_u: f32 => u64, |x| x > -1.0 && x < 18_446_744_073_709_551_616.0;
    /// `i64.trunc_f64_s`: valid for `-2^63 <= x < 2^63`.
    i64_trunc_f64_s: f64 => i64,
        |x| (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&x);
    /// `i64.trunc_f64_u`: valid for `-1 < x < 2^64`.
    i64_trunc_f64_u: f64 => u64, |x| x > -1.0 && x < 18_446_744_073_709_551_616.0;
}

/// Conversions Rust's `as` performs exactly as the spec requires: saturating
/// float → int (NaN → 0), correctly rounded int → float, and
/// promote/demote (round to nearest even).
macro_rules! convert_as {
    ($(#[$doc:meta] $name:ident: $from:ty => $to:ty;)*) => {$(
        #[$doc]
        #[inline(always)]
        pub(super) fn $name(x: $from) -> $to {
            x as $to
        }
    )*};
}

convert_as! {
    /// `i32.trunc_sat_f32_s`.
    i32_trunc_sat_f32_s: f32 => i32;
    /// `i32.trunc_sat_f32_u`.
    i32_trunc_sat_f32_u: f32 => u32;
    /// `i32.trunc_sat_f64_s`.
    i32_trunc_sat_f64_s: f64 => i32;
    /// `i32.trunc_sat_f64_u`.
    i32_trunc_sat_f64_u: f64 => u32;
    /// `i64.trunc_sat_f32_s`.
    i64_trunc_sat_f32_s: f32 => i64;
    /// `i64.trunc_sat_f32_u`.
    i64_trunc_sat_f32_u: f32 => u64;
    /// `i64.trunc_sat_f64_s`.
    i64_trunc_sat_f64_s: f64 => i64;
    /// `i64.trunc_sat_f64_u`.
    i64_trunc_sat_f64_u: f64 => u64;
    /// `f32.convert_i64_u`.
    f32_convert_i64_u: u64 => f32;
    /// `f64.convert_i64_u`.
    f64_convert_i64_u: u64 => f64;
    /// `f32.demote_f64`.
    f32_demote_f64: f64 => f32;
    /// `f64.promote_f32`.
    f64_promote_f32: f32 => f64;
}

/// Integer → float conversions that do not wait for unrelated float
/// results.
///
/// x86-64's `cvtsi2ss`/`cvtsi2sd` write only the low lane of their
/// destination register and keep the rest, so they depend on whatever last
/// wrote that register. Within one function LLVM breaks such false
/// dependencies, but each handler is a function of its own, and LLVM treats
/// registers the function has not written as free — so the conversion would
/// wait for the last float instruction of some *other* handler (in a loop,
/// typically a division of the previous iteration), serialising work the
/// CPU could overlap. On x86-64 these conversions clear the destination
/// first; elsewhere they are plain `as` casts. The results are the same:
/// exact or rounded to nearest, as `as` does (the unsigned 32-bit sources
/// are converted from their 64-bit zero extension, which is exact).
macro_rules! convert_from_int {
    ($(#[$doc:meta] $name:ident: $from:ty => $to:ty = $insn:literal, $operand:ty;)*) => {$(
        #[$doc]
        #[inline(always)]
        pub(super) fn $name(x: $from) -> $to {
            #[cfg(target_arch = "x86_64")]
            {
                let r: $to;
                // SAFETY: two register-only instructions (clear `r`, convert
                // `x` into its low lane): no memory, stack or flags touched.
                unsafe {
                    core::arch::asm!(
                        "xorps {r}, {r}",
                        $insn,
                        r = out(xmm_reg) r,
                        x = in(reg) x as $operand,
                        options(pure, nomem, nostack, preserves_flags),
                    );
                }
                r
            }
            #[cfg(not(target_arch = "x86_64"))]
            {
                x as $to
            }
        }
    )*};
}

convert_from_int! {
    /// `f32.convert_i32_s`.
    f32_convert_i32_s: i32 => f32 = "cvtsi2ss {r}, {x:e}", i32;
    /// `f32.convert_i32_u`.
    f32_convert_i32_u: u32 => f32 = "cvtsi2ss {r}, {x}", u64;
    /// `f32.convert_i64_s`.
    f32_convert_i64_s: i64 => f32 = "cvtsi2ss {r}, {x}", i64;
    /// `f64.convert_i32_s`.
    f64_convert_i32_s: i32 => f64 = "cvtsi2sd {r}, {x:e}", i32;
    /// `f64.convert_i32_u`.
    f64_convert_i32_u: u32 => f64 = "cvtsi2sd {r}, {x}", u64;
    /// `f64.convert_i64_s`.
    f64_convert_i64_s: i64 => f64 = "cvtsi2sd {r}, {x}", i64;
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEG_ZERO_32: u32 = 0x8000_0000;

    #[test]
    fn min_max_order_zeros_and_propagate_nan() {
        assert_eq!(f32_min(0.0, -0.0).to_bits(), NEG_ZERO_32);
        assert_eq!(f32_min(-0.0, 0.0).to_bits(), NEG_ZERO_32);
        assert_eq!(f32_max(-0.0, 0.0).to_bits(), 0);
        assert_eq!(f32_max(0.0, -0.0).to_bits(), 0);
        assert_eq!(f64_min(0.0, -0.0).to_bits(), 1 << 63);
        assert_eq!(f64_max(-0.0, 0.0).to_bits(), 0);
        assert!(f32_min(f32::NAN, 1.0).is_nan());
        assert!(f32_max(1.0, f32::NAN).is_nan());
        assert!(f64_min(f64::NEG_INFINITY, f64::NAN).is_nan());
        assert!(f64_max(f64::NAN, f64::INFINITY).is_nan());
        // Two NaNs: the first, quieted, whatever the operand order the
        // compiler picks for the hardware (the native tier does the same).
        let (n1, n2) = (f32::from_bits(0x7fc0_0001), f32::from_bits(0xffc0_0002));
        assert_eq!(f32_min(n1, n2).to_bits(), 0x7fc0_0001);
        assert_eq!(f32_max(n2, n1).to_bits(), 0xffc0_0002);
        assert_eq!(f32_min(1.0, n2).to_bits(), 0xffc0_0002);
        let (d1, d2) = (
            f64::from_bits(0x7ff0_0000_0000_0001),
            f64::from_bits(0x7ff8_0000_0000_0002),
        );
        assert_eq!(f64_max(d1, d2).to_bits(), 0x7ff8_0000_0000_0001);
        // Arithmetic on two NaNs: the first, quieted, in either order.
        assert_eq!(f32_add(n1, n2).to_bits(), 0x7fc0_0001);
        assert_eq!(f32_mul(n2, n1).to_bits(), 0xffc0_0002);
        assert_eq!(f64_sub(d1, d2).to_bits(), 0x7ff8_0000_0000_0001);
        assert_eq!(f64_div(d2, d1).to_bits(), 0x7ff8_0000_0000_0002);
        assert_eq!(f32_add(1.0, n2).to_bits(), 0xffc0_0002);
        // A NaN made from numbers is the hardware's default NaN.
        assert!(f64_sub(f64::INFINITY, f64::INFINITY).is_nan());
        // A signalling NaN comes back quiet.
        let snan = f32::from_bits(0x7f80_0001);
        assert_eq!(f32_min(snan, 0.0).to_bits() & 0x0040_0000, 0x0040_0000);
        assert_eq!(f32_min(1.0, 2.0), 1.0);
        assert_eq!(f64_max(-1.0, -2.0), -1.0);
    }

    #[test]
    fn sign_operations_preserve_nan_payloads() {
        let nan = 0x7fa0_0123u32; // signalling, with a payload
        assert_eq!(f32_neg(nan), 0xffa0_0123);
        assert_eq!(f32_abs(0xffa0_0123), nan);
        assert_eq!(f32_copysign(nan, NEG_ZERO_32), 0xffa0_0123);
        assert_eq!(f32_copysign(0xffa0_0123, 0), nan);
        assert_eq!(
            f64_copysign(0x7ff0_0000_0000_0001, 1 << 63),
            0xfff0_0000_0000_0001
        );
        assert_eq!(f64_neg(0), 1 << 63);
    }

    #[test]
    fn rounding_quiets_signalling_nans() {
        let snan32 = f32::from_bits(0xffa0_0000);
        for r in [
            f32_ceil(snan32),
            f32_floor(snan32),
            f32_trunc(snan32),
            f32_nearest(snan32),
        ] {
            assert_eq!(r.to_bits() & 0x0040_0000, 0x0040_0000, "{:#x}", r.to_bits());
        }
        let snan64 = f64::from_bits(0x7ff4_0000_0000_0000);
        for r in [
            f64_ceil(snan64),
            f64_floor(snan64),
            f64_trunc(snan64),
            f64_nearest(snan64),
        ] {
            assert_eq!(r.to_bits() >> 51 & 1, 1, "{:#x}", r.to_bits());
        }
    }

    #[test]
    fn nearest_rounds_half_to_even() {
        assert_eq!(f32_nearest(0.5), 0.0);
        assert_eq!(f32_nearest(1.5), 2.0);
        assert_eq!(f32_nearest(2.5), 2.0);
        assert_eq!(f32_nearest(-0.5).to_bits(), NEG_ZERO_32);
        assert_eq!(f64_nearest(-3.5), -4.0);
        assert_eq!(
            f64_nearest(4_503_599_627_370_497.0),
            4_503_599_627_370_497.0
        );
    }

    #[test]
    fn trapping_truncations_have_exact_ranges() {
        assert_eq!(
            i32_trunc_f32_s(f32::NAN),
            Err(TrapCode::BadConversionToInteger)
        );
        assert_eq!(i32_trunc_f32_s(-2_147_483_648.0), Ok(i32::MIN));
        assert_eq!(
            i32_trunc_f32_s(2_147_483_648.0),
            Err(TrapCode::IntegerOverflow)
        );
        assert_eq!(
            i32_trunc_f32_s(-2_147_483_904.0),
            Err(TrapCode::IntegerOverflow)
        );
        assert_eq!(i32_trunc_f64_s(-2_147_483_648.9), Ok(i32::MIN));
        assert_eq!(
            i32_trunc_f64_s(-2_147_483_649.0),
            Err(TrapCode::IntegerOverflow)
        );
        assert_eq!(i32_trunc_f64_s(2_147_483_647.9), Ok(i32::MAX));
        assert_eq!(i32_trunc_f32_u(-0.9), Ok(0));
        assert_eq!(i32_trunc_f32_u(-1.0), Err(TrapCode::IntegerOverflow));
        assert_eq!(i32_trunc_f64_u(4_294_967_295.9), Ok(u32::MAX));
        assert_eq!(
            i32_trunc_f64_u(4_294_967_296.0),
            Err(TrapCode::IntegerOverflow)
        );
        assert_eq!(i64_trunc_f32_s(-9_223_372_036_854_775_808.0), Ok(i64::MIN));
        assert_eq!(
            i64_trunc_f64_s(9_223_372_036_854_775_808.0),
            Err(TrapCode::IntegerOverflow)
        );
        assert_eq!(
            i64_trunc_f64_u(18_446_744_073_709_549_568.0),
            Ok(18_446_744_073_709_549_568)
        );
        assert_eq!(
            i64_trunc_f32_u(f32::INFINITY),
            Err(TrapCode::IntegerOverflow)
        );
        assert_eq!(
            i64_trunc_f64_u(f64::NAN),
            Err(TrapCode::BadConversionToInteger)
        );
    }

    #[test]
    fn conversions_from_integers_round_as_casts_do() {
        let ints = [
            0i64,
            1,
            -1,
            i32::MIN as i64,
            i32::MAX as i64,
            u32::MAX as i64,
            0x0100_0001,
            0x0020_0000_0000_0001,
            i64::MIN,
            i64::MAX,
        ];
        for i in ints {
            let (w, u) = (i as i32, i as u32);
            assert_eq!(f32_convert_i32_s(w).to_bits(), (w as f32).to_bits());
            assert_eq!(f32_convert_i32_u(u).to_bits(), (u as f32).to_bits());
            assert_eq!(f32_convert_i64_s(i).to_bits(), (i as f32).to_bits());
            assert_eq!(f64_convert_i32_s(w).to_bits(), (w as f64).to_bits());
            assert_eq!(f64_convert_i32_u(u).to_bits(), (u as f64).to_bits());
            assert_eq!(f64_convert_i64_s(i).to_bits(), (i as f64).to_bits());
        }
    }

    #[test]
    fn saturating_and_exact_conversions() {
        assert_eq!(i32_trunc_sat_f32_s(f32::NAN), 0);
        assert_eq!(i32_trunc_sat_f64_s(-1e300), i32::MIN);
        assert_eq!(i32_trunc_sat_f64_u(-5.0), 0);
        assert_eq!(i64_trunc_sat_f32_u(f32::INFINITY), u64::MAX);
        // 2^64 - 1 rounds to 2^64 as f32 (nearest), not 2^64 - 2^40.
        assert_eq!(f32_convert_i64_u(u64::MAX), 18_446_744_073_709_551_616.0);
        // Round to nearest even at the halfway point.
        assert_eq!(f32_convert_i32_u(0x0100_0001), 16_777_216.0);
        assert_eq!(f32_convert_i32_u(0x0100_0003), 16_777_220.0);
        assert_eq!(f64_convert_i64_u(u64::MAX), 18_446_744_073_709_551_616.0);
        assert_eq!(f32_demote_f64(f64::MAX), f32::INFINITY);
        assert_eq!(f64_promote_f32(1.5), 1.5);
    }
}
