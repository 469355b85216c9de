//! `ValRaw`: the untyped 16-byte slot values travel in across the array-call ABI.

use core::fmt;

/// One untyped value as passed through the array-call ABI.
///
/// Sixteen bytes so that a future `v128` fits; scalars occupy the low bytes in
/// little-endian order and the rest is zero. The reader must know the type.
/// References are raw: a `funcref` is a `*const VMFuncRef` (null is null) and
/// an `externref` is the store's non-zero handle for the host object (0 is null),
/// so both are exactly one 64-bit interpreter slot.
#[repr(C, align(16))]
#[derive(Copy, Clone)]
pub union ValRaw {
    i32: i32,
    i64: i64,
    f32: u32,
    f64: u64,
    bits: u64,
    v128: [u8; 16],
}

impl ValRaw {
    /// A slot holding all-zero bits: the default value of every type.
    #[inline]
    pub const fn zero() -> Self {
        ValRaw { v128: [0; 16] }
    }

    /// A slot holding the low 64 bits `bits` (upper 64 bits zero).
    #[inline]
    pub const fn from_bits(bits: u64) -> Self {
        let mut v = Self::zero();
        v.bits = bits.to_le();
        v
    }

    /// The low 64 bits of the slot, in the interpreter's slot encoding.
    #[inline]
    pub const fn bits(self) -> u64 {
        // SAFETY: every bit pattern of the union's first 8 bytes is a valid u64.
        u64::from_le(unsafe { self.bits })
    }

    /// An `i32` slot.
    #[inline]
    pub const fn i32(v: i32) -> Self {
        Self::from_bits(v as u32 as u64)
    }
    /// An `i64` slot.
    #[inline]
    pub const fn i64(v: i64) -> Self {
        Self::from_bits(v as u64)
    }
    /// An `f32` slot, given its bit pattern.
    #[inline]
    pub const fn f32(bits: u32) -> Self {
        Self::from_bits(bits as u64)
    }
    /// An `f64` slot, given its bit pattern.
    #[inline]
    pub const fn f64(bits: u64) -> Self {
        Self::from_bits(bits)
    }
    /// The slot read as `i32`.
    #[inline]
    pub const fn get_i32(self) -> i32 {
        self.bits() as u32 as i32
    }
    /// The slot read as `i64`.
    #[inline]
    pub const fn get_i64(self) -> i64 {
        self.bits() as i64
    }
    /// The slot read as an `f32` bit pattern.
    #[inline]
    pub const fn get_f32(self) -> u32 {
        self.bits() as u32
    }
    /// The slot read as an `f64` bit pattern.
    #[inline]
    pub const fn get_f64(self) -> u64 {
        self.bits()
    }
}

impl Default for ValRaw {
    fn default() -> Self {
        Self::zero()
    }
}

impl fmt::Debug for ValRaw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ValRaw({:#018x})", self.bits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_sixteen_bytes() {
        assert_eq!(core::mem::size_of::<ValRaw>(), 16);
        assert_eq!(core::mem::align_of::<ValRaw>(), 16);
    }

    #[test]
    fn scalars_round_trip_and_zero_extend() {
        assert_eq!(ValRaw::i32(-1).get_i32(), -1);
        assert_eq!(ValRaw::i32(-1).bits(), 0xffff_ffff);
        assert_eq!(ValRaw::i64(-2).get_i64(), -2);
        assert_eq!(ValRaw::f32(0x7fc0_0001).get_f32(), 0x7fc0_0001);
        assert_eq!(
            ValRaw::f64(0x7ff8_0000_0000_0001).get_f64(),
            0x7ff8_0000_0000_0001
        );
    }
}
