//! Slot access for the running frame, and the generic plumbing that applies
//! a pure operator function (from `int`, `float`) to an instruction's slots.

use crate::bytecode::{Bin, Slot, Un};
use crate::vm::TrapCode;

/// The running frame's slots: a pointer to its slot 0 on the value stack.
///
/// Every accessor is `unsafe` with one contract: the slot index is below the
/// running function's `frame_size`, and the stack has `frame_size` allocated
/// slots from this base (the executor reserves them before entering the
/// frame, and the translator names only slots below `frame_size`).
#[derive(Copy, Clone, Debug)]
pub(super) struct Regs(*mut u64);

impl Regs {
    /// The frame whose slot 0 is at `base`.
    #[inline(always)]
    pub(super) fn new(base: *mut u64) -> Regs {
        Regs(base)
    }

    /// Address of slot `s`.
    ///
    /// # Safety
    /// `s` is within the frame (see the type's docs).
    #[inline(always)]
    pub(super) unsafe fn ptr(self, s: usize) -> *mut u64 {
        // SAFETY: the caller keeps `s` inside the frame's allocated slots.
        unsafe { self.0.add(s) }
    }

    /// The 64 bits of slot `s`.
    ///
    /// # Safety
    /// `s` is within the frame.
    #[inline(always)]
    pub(super) unsafe fn get(self, s: Slot) -> u64 {
        // SAFETY: in-frame slots are allocated and initialised `u64`s.
        unsafe { self.0.add(s as usize).read() }
    }

    /// Writes the 64 bits of slot `s`.
    ///
    /// # Safety
    /// `s` is within the frame.
    #[inline(always)]
    pub(super) unsafe fn set(self, s: Slot, v: u64) {
        // SAFETY: in-frame slots are allocated `u64`s owned by this frame.
        unsafe { self.0.add(s as usize).write(v) }
    }

    /// Slot `s` read as a `u32` (low half; i32 and f32 slots).
    ///
    /// # Safety
    /// `s` is within the frame.
    #[inline(always)]
    pub(super) unsafe fn get_u32(self, s: Slot) -> u32 {
        // SAFETY: forwarded to the caller.
        unsafe { self.get(s) as u32 }
    }

    /// Writes a typed value to slot `s` in the slot encoding.
    ///
    /// # Safety
    /// `s` is within the frame.
    #[inline(always)]
    pub(super) unsafe fn put<T: SlotValue>(self, s: Slot, v: T) {
        // SAFETY: forwarded to the caller.
        unsafe { self.set(s, v.into_slot()) }
    }

    /// Reads slot `s` as a typed value.
    ///
    /// # Safety
    /// `s` is within the frame.
    #[inline(always)]
    pub(super) unsafe fn take<T: SlotValue>(self, s: Slot) -> T {
        // SAFETY: forwarded to the caller.
        T::from_slot(unsafe { self.get(s) })
    }

    /// Zeroes slots `from..to` (a new frame's declared locals).
    ///
    /// # Safety
    /// `from..to` is within the frame.
    #[inline(always)]
    pub(super) unsafe fn zero(self, from: u16, to: u16) {
        let n = to.saturating_sub(from) as usize;
        // Most functions declare no locals: skip the `memset` call then.
        if n != 0 {
            // SAFETY: the caller keeps the range inside the frame.
            unsafe { core::ptr::write_bytes(self.0.add(from as usize), 0, n) }
        }
    }
}

impl Regs {
    /// Prepares a new frame of `f` whose parameters are in place: zeroes the
    /// declared locals and copies in the constant pool.
    ///
    /// # Safety
    /// The frame has `f.frame_size` allocated slots.
    #[inline(always)]
    pub(super) unsafe fn init_frame(self, f: &crate::bytecode::CompiledFunc) {
        // SAFETY: `num_params <= num_locals` and `num_locals + consts.len()
        // <= frame_size` by construction of `CompiledFunc`; the caller
        // guarantees `frame_size` slots.
        unsafe {
            self.zero(f.num_params, f.num_locals);
            if !f.consts.is_empty() {
                core::ptr::copy_nonoverlapping(
                    f.consts.as_ptr(),
                    self.0.add(f.num_locals as usize),
                    f.consts.len(),
                );
            }
        }
    }
}

/// A wasm value type's slot encoding: `i32`/`f32` zero-extended in the low
/// 32 bits, `i64`/`f64` in all 64, floats as bit patterns, booleans as 0/1.
pub(super) trait SlotValue: Copy {
    /// Decodes a slot (32-bit types read only the low half).
    fn from_slot(bits: u64) -> Self;
    /// Encodes into a slot (32-bit types zero-extended).
    fn into_slot(self) -> u64;
}

impl SlotValue for i32 {
    #[inline(always)]
    fn from_slot(bits: u64) -> Self {
        bits as u32 as i32
    }
    #[inline(always)]
    fn into_slot(self) -> u64 {
        self as u32 as u64
    }
}

impl SlotValue for u32 {
    #[inline(always)]
    fn from_slot(bits: u64) -> Self {
        bits as u32
    }
    #[inline(always)]
    fn into_slot(self) -> u64 {
        self as u64
    }
}

impl SlotValue for i64 {
    #[inline(always)]
    fn from_slot(bits: u64) -> Self {
        bits as i64
    }
    #[inline(always)]
    fn into_slot(self) -> u64 {
        self as u64
    }
}

impl SlotValue for u64 {
    #[inline(always)]
    fn from_slot(bits: u64) -> Self {
        bits
    }
    #[inline(always)]
    fn into_slot(self) -> u64 {
        self
    }
}

impl SlotValue for f32 {
    #[inline(always)]
    fn from_slot(bits: u64) -> Self {
        f32::from_bits(bits as u32)
    }
    #[inline(always)]
    fn into_slot(self) -> u64 {
        self.to_bits() as u64
    }
}

impl SlotValue for f64 {
    #[inline(always)]
    fn from_slot(bits: u64) -> Self {
        f64::from_bits(bits)
    }
    #[inline(always)]
    fn into_slot(self) -> u64 {
        self.to_bits()
    }
}

impl SlotValue for bool {
    #[inline(always)]
    fn from_slot(bits: u64) -> Self {
        bits as u32 != 0
    }
    #[inline(always)]
    fn into_slot(self) -> u64 {
        self as u64
    }
}

/// `dst = f(lhs, rhs)`.
///
/// # Safety
/// The instruction's slots are within the frame.
#[inline(always)]
pub(super) unsafe fn bin<A: SlotValue, R: SlotValue>(r: Regs, o: Bin, f: impl FnOnce(A, A) -> R) {
    // SAFETY: the caller guarantees the three slots are in the frame.
    unsafe {
        let v = f(r.take(o.lhs), r.take(o.rhs));
        r.put(o.dst, v);
    }
}

/// `dst = f(lhs, rhs)` for an operator that may trap; on a trap `dst` is
/// left untouched.
///
/// # Safety
/// The instruction's slots are within the frame.
#[inline(always)]
pub(super) unsafe fn bin_trap<A: SlotValue, R: SlotValue>(
    r: Regs,
    o: Bin,
    f: impl FnOnce(A, A) -> Result<R, TrapCode>,
) -> Result<(), TrapCode> {
    // SAFETY: the caller guarantees the three slots are in the frame.
    unsafe {
        let v = f(r.take(o.lhs), r.take(o.rhs))?;
        r.put(o.dst, v);
    }
    Ok(())
}

/// `dst = f(src)`.
///
/// # Safety
/// The instruction's slots are within the frame.
#[inline(always)]
pub(super) unsafe fn un<A: SlotValue, R: SlotValue>(r: Regs, o: Un, f: impl FnOnce(A) -> R) {
    // SAFETY: the caller guarantees both slots are in the frame.
    unsafe {
        let v = f(r.take(o.src));
        r.put(o.dst, v);
    }
}

/// `dst = f(src)` for an operator that may trap.
///
/// # Safety
/// The instruction's slots are within the frame.
#[inline(always)]
pub(super) unsafe fn un_trap<A: SlotValue, R: SlotValue>(
    r: Regs,
    o: Un,
    f: impl FnOnce(A) -> Result<R, TrapCode>,
) -> Result<(), TrapCode> {
    // SAFETY: the caller guarantees both slots are in the frame.
    unsafe {
        let v = f(r.take(o.src))?;
        r.put(o.dst, v);
    }
    Ok(())
}

/// The error side of a trapping operator, kept out of the hot path.
#[cold]
#[inline(never)]
pub(super) fn trap<T>(code: TrapCode) -> Result<T, TrapCode> {
    Err(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_two_bit_values_are_zero_extended_and_read_truncated() {
        assert_eq!((-1i32).into_slot(), 0xffff_ffff);
        assert_eq!(i32::from_slot(0xdead_beef_8000_0000), i32::MIN);
        assert_eq!((-0.0f32).into_slot(), 0x8000_0000);
        assert!(bool::from_slot(0x1_0000_0001));
        assert!(!bool::from_slot(0x1_0000_0000));
    }

    #[test]
    fn generic_helpers_apply_operators_to_slots() {
        let mut slots = [7u64, 5, 0, 0];
        let r = Regs::new(slots.as_mut_ptr());
        // SAFETY: every slot named is below 4, the array's length.
        unsafe {
            bin(
                r,
                Bin {
                    dst: 2,
                    lhs: 0,
                    rhs: 1,
                },
                |a: i32, b: i32| a - b,
            );
            un(r, Un { dst: 3, src: 2 }, |a: i32| -a);
            assert_eq!(
                bin_trap(
                    r,
                    Bin {
                        dst: 0,
                        lhs: 0,
                        rhs: 1
                    },
                    |_: i32, _: i32| trap::<i32>(TrapCode::IntegerOverflow)
                ),
                Err(TrapCode::IntegerOverflow)
            );
        }
        assert_eq!(slots, [7, 5, 2, 0xffff_fffe]);
    }
}
