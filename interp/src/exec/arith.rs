//! Integer instructions (`i32.*`, `i64.*`, the integer extensions and
//! `i32.wrap_i64`) as pure functions on typed values. The loop applies
//! them to slots through [`super::regs`]'s `bin`/`un` helpers.
//!
//! Arithmetic wraps; shift and rotate counts are taken modulo the width;
//! division and remainder trap as the spec says.

use super::regs::trap;
use crate::vm::TrapCode;

macro_rules! int_ops {
    ($t:ty, $u:ty,
     eqz = $eqz:ident, clz = $clz:ident, ctz = $ctz:ident, popcnt = $popcnt:ident,
     add = $add:ident, sub = $sub:ident, mul = $mul:ident,
     div_s = $div_s:ident, div_u = $div_u:ident, rem_s = $rem_s:ident, rem_u = $rem_u:ident,
     and = $and:ident, or = $or:ident, xor = $xor:ident,
     shl = $shl:ident, shr_s = $shr_s:ident, shr_u = $shr_u:ident, rotl = $rotl:ident, rotr = $rotr:ident,
     eq = $eq:ident, ne = $ne:ident, lt_s = $lt_s:ident, lt_u = $lt_u:ident, gt_s = $gt_s:ident,
     gt_u = $gt_u:ident, le_s = $le_s:ident, le_u = $le_u:ident, ge_s = $ge_s:ident, ge_u = $ge_u:ident) => {
        #[doc = concat!("`", stringify!($t), ".eqz`.")]
        #[inline(always)]
        pub(super) fn $eqz(a: $u) -> bool {
            a == 0
        }
        #[doc = concat!("`", stringify!($t), ".clz`.")]
        #[inline(always)]
        pub(super) fn $clz(a: $u) -> $u {
            a.leading_zeros() as $u
        }
        #[doc = concat!("`", stringify!($t), ".ctz`.")]
        #[inline(always)]
        pub(super) fn $ctz(a: $u) -> $u {
            a.trailing_zeros() as $u
        }
        #[doc = concat!("`", stringify!($t), ".popcnt`.")]
        #[inline(always)]
        pub(super) fn $popcnt(a: $u) -> $u {
            a.count_ones() as $u
        }
        #[doc = concat!("`", stringify!($t), ".add`.")]
        #[inline(always)]
        pub(super) fn $add(a: $u, b: $u) -> $u {
            a.wrapping_add(b)
        }
        #[doc = concat!("`", stringify!($t), ".sub`.")]
        #[inline(always)]
        pub(super) fn $sub(a: $u, b: $u) -> $u {
            a.wrapping_sub(b)
        }
        #[doc = concat!("`", stringify!($t), ".mul`.")]
        #[inline(always)]
        pub(super) fn $mul(a: $u, b: $u) -> $u {
            a.wrapping_mul(b)
        }
        #[doc = concat!("`", stringify!($t), ".div_s`: traps on a zero divisor and on `MIN / -1`.")]
        #[inline(always)]
        pub(super) fn $div_s(a: $t, b: $t) -> Result<$t, TrapCode> {
            if b == 0 {
                return trap(TrapCode::IntegerDivisionByZero);
            }
            match a.checked_div(b) {
                Some(q) => Ok(q),
                None => trap(TrapCode::IntegerOverflow),
            }
        }
        #[doc = concat!("`", stringify!($t), ".div_u`: traps on a zero divisor.")]
        #[inline(always)]
        pub(super) fn $div_u(a: $u, b: $u) -> Result<$u, TrapCode> {
            match a.checked_div(b) {
                Some(q) => Ok(q),
                None => trap(TrapCode::IntegerDivisionByZero),
            }
        }
        #[doc = concat!("`", stringify!($t), ".rem_s`: traps on a zero divisor; `MIN % -1` is 0.")]
        #[inline(always)]
        pub(super) fn $rem_s(a: $t, b: $t) -> Result<$t, TrapCode> {
            if b == 0 {
                return trap(TrapCode::IntegerDivisionByZero);
            }
            Ok(a.wrapping_rem(b))
        }
        #[doc = concat!("`", stringify!($t), ".rem_u`: traps on a zero divisor.")]
        #[inline(always)]
        pub(super) fn $rem_u(a: $u, b: $u) -> Result<$u, TrapCode> {
            match a.checked_rem(b) {
                Some(r) => Ok(r),
                None => trap(TrapCode::IntegerDivisionByZero),
            }
        }
        #[doc = concat!("`", stringify!($t), ".and`.")]
        #[inline(always)]
        pub(super) fn $and(a: $u, b: $u) -> $u {
            a & b
        }
        #[doc = concat!("`", stringify!($t), ".or`.")]
        #[inline(always)]
        pub(super) fn $or(a: $u, b: $u) -> $u {
            a | b
        }
        #[doc = concat!("`", stringify!($t), ".xor`.")]
        #[inline(always)]
        pub(super) fn $xor(a: $u, b: $u) -> $u {
            a ^ b
        }
        #[doc = concat!("`", stringify!($t), ".shl` (count modulo the width).")]
        #[inline(always)]
        pub(super) fn $shl(a: $u, b: $u) -> $u {
            a.wrapping_shl(b as u32)
        }
        #[doc = concat!("`", stringify!($t), ".shr_s` (count modulo the width).")]
        #[inline(always)]
        pub(super) fn $shr_s(a: $t, b: $t) -> $t {
            a.wrapping_shr(b as u32)
        }
        #[doc = concat!("`", stringify!($t), ".shr_u` (count modulo the width).")]
        #[inline(always)]
        pub(super) fn $shr_u(a: $u, b: $u) -> $u {
            a.wrapping_shr(b as u32)
        }
        #[doc = concat!("`", stringify!($t), ".rotl` (count modulo the width).")]
        #[inline(always)]
        pub(super) fn $rotl(a: $u, b: $u) -> $u {
            a.rotate_left((b % <$u>::BITS as $u) as u32)
        }
        #[doc = concat!("`", stringify!($t), ".rotr` (count modulo the width).")]
        #[inline(always)]
        pub(super) fn $rotr(a: $u, b: $u) -> $u {
            a.rotate_right((b % <$u>::BITS as $u) as u32)
        }
        #[doc = concat!("`", stringify!($t), ".eq`.")]
        #[inline(always)]
        pub(super) fn $eq(a: $u, b: $u) -> bool {
            a == b
        }
        #[doc = concat!("`", stringify!($t), ".ne`.")]
        #[inline(always)]
        pub(super) fn $ne(a: $u, b: $u) -> bool {
            a != b
        }
        #[doc = concat!("`", stringify!($t), ".lt_s`.")]
        #[inline(always)]
        pub(super) fn $lt_s(a: $t, b: $t) -> bool {
            a < b
        }
        #[doc = concat!("`", stringify!($t), ".lt_u`.")]
        #[inline(always)]
        pub(super) fn $lt_u(a: $u, b: $u) -> bool {
            a < b
        }
        #[doc = concat!("`", stringify!($t), ".gt_s`.")]
        #[inline(always)]
        pub(super) fn $gt_s(a: $t, b: $t) -> bool {
            a > b
        }
        #[doc = concat!("`", stringify!($t), ".gt_u`.")]
        #[inline(always)]
        pub(super) fn $gt_u(a: $u, b: $u) -> bool {
            a > b
        }
        #[doc = concat!("`", stringify!($t), ".le_s`.")]
        #[inline(always)]
        pub(super) fn $le_s(a: $t, b: $t) -> bool {
            a <= b
        }
        #[doc = concat!("`", stringify!($t), ".le_u`.")]
        #[inline(always)]
        pub(super) fn $le_u(a: $u, b: $u) -> bool {
            a <= b
        }
        #[doc = concat!("`", stringify!($t), ".ge_s`.")]
        #[inline(always)]
        pub(super) fn $ge_s(a: $t, b: $t) -> bool {
            a >= b
        }
        #[doc = concat!("`", stringify!($t), ".ge_u`.")]
        #[inline(always)]
        pub(super) fn $ge_u(a: $u, b: $u) -> bool {
            a >= b
        }
    };
}

int_ops! {
    i32, u32,
    eqz = i32_eqz, clz = i32_clz, ctz = i32_ctz, popcnt = i32_popcnt,
    add = i32_add, sub = i32_sub, mul = i32_mul,
    div_s = i32_div_s, div_u = i32_div_u, rem_s = i32_rem_s, rem_u = i32_rem_u,
    and = i32_and, or = i32_or, xor = i32_xor,
    shl = i32_shl, shr_s = i32_shr_s, shr_u = i32_shr_u, rotl = i32_rotl, rotr = i32_rotr,
    eq = i32_eq, ne = i32_ne, lt_s = i32_lt_s, lt_u = i32_lt_u, gt_s = i32_gt_s,
    gt_u = i32_gt_u, le_s = i32_le_s, le_u = i32_le_u, ge_s = i32_ge_s, ge_u = i32_ge_u
}

int_ops! {
    i64, u64,
    eqz = i64_eqz, clz = i64_clz, ctz = i64_ctz, popcnt = i64_popcnt,
    add = i64_add, sub = i64_sub, mul = i64_mul,
    div_s = i64_div_s, div_u = i64_div_u, rem_s = i64_rem_s, rem_u = i64_rem_u,
    and = i64_and, or = i64_or, xor = i64_xor,
    shl = i64_shl, shr_s = i64_shr_s, shr_u = i64_shr_u, rotl = i64_rotl, rotr = i64_rotr,
    eq = i64_eq, ne = i64_ne, lt_s = i64_lt_s, lt_u = i64_lt_u, gt_s = i64_gt_s,
    gt_u = i64_gt_u, le_s = i64_le_s, le_u = i64_le_u, ge_s = i64_ge_s, ge_u = i64_ge_u
}

/// `i32.wrap_i64`.
#[inline(always)]
pub(super) fn i32_wrap_i64(a: u64) -> u32 {
    a as u32
}

/// `i64.extend_i32_s`.
#[inline(always)]
pub(super) fn i64_extend_i32_s(a: i32) -> i64 {
    a as i64
}

/// `i64.extend_i32_u`.
#[inline(always)]
pub(super) fn i64_extend_i32_u(a: u32) -> u64 {
    a as u64
}

/// `i32.extend8_s`.
#[inline(always)]
pub(super) fn i32_extend8_s(a: i32) -> i32 {
    a as i8 as i32
}

/// `i32.extend16_s`.
#[inline(always)]
pub(super) fn i32_extend16_s(a: i32) -> i32 {
    a as i16 as i32
}

/// `i64.extend8_s`.
#[inline(always)]
pub(super) fn i64_extend8_s(a: i64) -> i64 {
    a as i8 as i64
}

/// `i64.extend16_s`.
#[inline(always)]
pub(super) fn i64_extend16_s(a: i64) -> i64 {
    a as i16 as i64
}

/// `i64.extend32_s`.
#[inline(always)]
pub(super) fn i64_extend32_s(a: i64) -> i64 {
    a as i32 as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_traps_and_edge_cases() {
        assert_eq!(i32_div_s(7, 0), Err(TrapCode::IntegerDivisionByZero));
        assert_eq!(i32_div_s(i32::MIN, -1), Err(TrapCode::IntegerOverflow));
        assert_eq!(i32_div_s(-7, 2), Ok(-3));
        assert_eq!(i32_rem_s(i32::MIN, -1), Ok(0));
        assert_eq!(i32_rem_s(-7, 2), Ok(-1));
        assert_eq!(i32_rem_s(1, 0), Err(TrapCode::IntegerDivisionByZero));
        assert_eq!(i32_div_u(u32::MAX, 2), Ok(0x7fff_ffff));
        assert_eq!(i32_rem_u(5, 0), Err(TrapCode::IntegerDivisionByZero));
        assert_eq!(i64_div_s(i64::MIN, -1), Err(TrapCode::IntegerOverflow));
        assert_eq!(i64_rem_s(i64::MIN, -1), Ok(0));
        assert_eq!(i64_div_u(1, 0), Err(TrapCode::IntegerDivisionByZero));
    }

    #[test]
    fn shifts_and_rotates_take_the_count_modulo_the_width() {
        assert_eq!(i32_shl(1, 33), 2);
        assert_eq!(i32_shr_s(-8, 33), -4);
        assert_eq!(i32_shr_u(0x8000_0000, 63), 1);
        assert_eq!(i32_rotl(0x8000_0001, 33), 3);
        assert_eq!(i32_rotr(3, 0xffff_ffe1), 0x8000_0001);
        assert_eq!(i64_shl(1, 65), 2);
        assert_eq!(i64_shr_s(-1, 200), -1);
        assert_eq!(i64_rotl(1, 64), 1);
        assert_eq!(i64_rotr(1, 65), 1 << 63);
    }

    #[test]
    fn bit_counts() {
        assert_eq!(i32_clz(0), 32);
        assert_eq!(i32_ctz(0), 32);
        assert_eq!(i32_popcnt(u32::MAX), 32);
        assert_eq!(i64_clz(1), 63);
        assert_eq!(i64_ctz(0), 64);
        assert_eq!(i64_popcnt(0x8000_0000_0000_0001), 2);
    }

    #[test]
    fn extensions() {
        assert_eq!(i32_extend8_s(0x80), -128);
        assert_eq!(i32_extend16_s(0x1_8000), -32768);
        assert_eq!(i64_extend32_s(0x8000_0000), -2_147_483_648);
        assert_eq!(i64_extend_i32_s(-1), -1);
        assert_eq!(i64_extend_i32_u(u32::MAX), 0xffff_ffff);
        assert_eq!(i32_wrap_i64(0x1_2345_6789), 0x2345_6789);
    }
}
