//! Slot access for the running frame, and the generic plumbing that applies
//! a pure operator function (from `int`, `float`) to an instruction's slots.

use crate::bytecode::{AddCopy, AddPair, Bin, BrCmp, MulAdd, ShiftAdd, Slot, Un, XorShift};
use crate::vm::TrapCode;

/// The running frame's slots: a pointer to its slot 0 on the value stack.
///
/// Every accessor is `unsafe` with one contract: the slot index is below the
/// running function's `frame_size`, and the stack has `frame_size` allocated
/// slots from this base (the executor reserves them before entering the
/// frame, and the translator names only slots below `frame_size`).
///
/// `STORE` is `false` in the handlers of instructions whose result slot the
/// translator proved dead (see [`crate::exec::assemble`]): their writes to
/// it are dropped, and the result lives on only in the accumulator. `IMM`
/// is `true` in the handlers of binary instructions whose right operand is
/// a constant `assemble` copied into the instruction ([`Bin::imm`]): they
/// read it from there instead of from the frame.
#[derive(Copy, Clone, Debug)]
#[repr(transparent)]
pub(super) struct Regs<const STORE: bool = true, const IMM: bool = false>(*mut u64);

impl Regs {
    /// The frame whose slot 0 is at `base`.
    #[inline(always)]
    pub(super) fn new(base: *mut u64) -> Regs {
        Regs(base)
    }

    /// The same frame, with writes to result slots dropped (`STORE`) and
    /// right operands taken from the instruction (`IMM`); see the type's
    /// docs.
    #[inline(always)]
    pub(super) fn variant<const STORE: bool, const IMM: bool>(self) -> Regs<STORE, IMM> {
        Regs(self.0)
    }
}

impl<const STORE: bool, const IMM: bool> Regs<STORE, IMM> {
    /// The address of slot 0 (what handlers pass on in a register).
    #[inline(always)]
    pub(super) fn as_ptr(self) -> *mut u64 {
        self.0
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

    /// Writes the 64 bits of slot `s` (nothing if `STORE` is false).
    ///
    /// # Safety
    /// `s` is within the frame.
    #[inline(always)]
    pub(super) unsafe fn set(self, s: Slot, v: u64) {
        if STORE {
            // SAFETY: in-frame slots are allocated `u64`s owned by this frame.
            unsafe { self.0.add(s as usize).write(v) }
        }
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
        // guarantees `frame_size` slots. The pool is not in the frame.
        unsafe {
            let consts = f.consts.as_ptr();
            let locals = self.0.add(f.num_params as usize);
            let n = (f.num_locals - f.num_params) as usize;
            if n <= SMALL && f.consts.len() <= SMALL {
                fill_small(locals, n, |_| 0);
                fill_small(self.0.add(f.num_locals as usize), f.consts.len(), |i| {
                    consts.add(i).read()
                });
            } else {
                core::ptr::write_bytes(locals, 0, n);
                let to = self.0.add(f.num_locals as usize);
                core::ptr::copy_nonoverlapping(consts, to, f.consts.len());
            }
        }
    }

    /// [`Regs::init_frame`] for a frame known to be small: at most
    /// [`SMALL`] declared locals and constants. Makes no calls.
    ///
    /// # Safety
    /// As for [`Regs::init_frame`], and the frame is small.
    #[inline(always)]
    pub(super) unsafe fn init_small_frame(self, f: &crate::bytecode::CompiledFunc) {
        // SAFETY: as for `init_frame`; the caller guarantees the counts.
        unsafe {
            let consts = f.consts.as_ptr();
            let n = (f.num_locals - f.num_params) as usize;
            fill_small(self.0.add(f.num_params as usize), n, |_| 0);
            fill_small(self.0.add(f.num_locals as usize), f.consts.len(), |i| {
                consts.add(i).read()
            });
        }
    }
}

/// The most declared locals and constants a frame may have to count as
/// small: frames are entered on every call and usually have a handful of
/// each, which [`fill_small`] writes inline instead of calling `memset` or
/// `memcpy`.
pub(super) const SMALL: usize = 8;

/// Writes `value(i)` to `dst[i]` for `i` in `0..n`, where `value` reads
/// memory that `dst` does not overlap, with two (possibly overlapping)
/// fixed-size blocks and no calls.
///
/// # Safety
/// `n <= SMALL`, `dst..dst + n` is writable, and `value` is valid for
/// `0..n`.
#[inline(always)]
unsafe fn fill_small(dst: *mut u64, n: usize, value: impl Fn(usize) -> u64) {
    /// Writes `value(from..from + K)`, a block of constant size. (Word by
    /// word, not through a `[u64; K]`: a temporary array may end up on the
    /// stack, and a handler with an escaping stack slot loses its tail call.)
    ///
    /// # Safety
    /// As for `fill_small`, for `from..from + K`.
    #[inline(always)]
    unsafe fn block<const K: usize>(dst: *mut u64, from: usize, value: &impl Fn(usize) -> u64) {
        for i in from..from + K {
            // SAFETY: forwarded to the caller.
            unsafe { dst.add(i).write(value(i)) }
        }
    }
    // SAFETY: each block lies within `0..n` (`n >= K` in its arm).
    unsafe {
        match n {
            0 => {}
            1..=2 => {
                block::<1>(dst, 0, &value);
                block::<1>(dst, n - 1, &value);
            }
            3..=4 => {
                block::<2>(dst, 0, &value);
                block::<2>(dst, n - 2, &value);
            }
            5..=SMALL => {
                block::<4>(dst, 0, &value);
                block::<4>(dst, n - 4, &value);
            }
            _ => core::hint::unreachable_unchecked(),
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

/// Where an instruction's operand comes from: its slot, or the accumulator
/// (which then holds the slot's bits, see `crate::bytecode`).
#[derive(Copy, Clone, Debug)]
pub(super) enum Src {
    /// Read the slot.
    Slot,
    /// Use these bits, the accumulator's.
    Acc(u64),
}

impl<const STORE: bool, const IMM: bool> Regs<STORE, IMM> {
    /// The bits of the operand an instruction's immediate twin takes from
    /// the instruction: slot `s`, or with `IMM` the copy `imm` of that
    /// slot's constant (sign-extended: exact for 32-bit operands, which are
    /// read truncated, and for the 64-bit constants `assemble` copies).
    ///
    /// # Safety
    /// `s` is within the frame.
    #[inline(always)]
    pub(super) unsafe fn slot_or_imm(self, s: Slot, imm: u32) -> u64 {
        if IMM {
            imm as i32 as i64 as u64
        } else {
            // SAFETY: forwarded to the caller.
            unsafe { self.get(s) }
        }
    }

    /// The bits of `o`'s right operand, taken from where `from` says: the
    /// accumulator, or else [`Regs::slot_or_imm`].
    ///
    /// # Safety
    /// `o.rhs` is within the frame.
    #[inline(always)]
    pub(super) unsafe fn rhs(self, o: &Bin, from: Src) -> u64 {
        match from {
            // SAFETY: forwarded to the caller.
            Src::Slot => unsafe { self.slot_or_imm(o.rhs, o.imm) },
            Src::Acc(bits) => bits,
        }
    }

    /// The bits of a compare-and-branch's right operand
    /// ([`Regs::slot_or_imm`]).
    ///
    /// # Safety
    /// `b.rhs` is within the frame.
    #[inline(always)]
    pub(super) unsafe fn branch_rhs(self, b: &BrCmp) -> u64 {
        // SAFETY: forwarded to the caller.
        unsafe { self.slot_or_imm(b.rhs, b.imm) }
    }

    /// The bits of operand slot `s`, taken from where `from` says.
    ///
    /// # Safety
    /// `s` is within the frame.
    #[inline(always)]
    pub(super) unsafe fn operand(self, s: Slot, from: Src) -> u64 {
        match from {
            // SAFETY: forwarded to the caller.
            Src::Slot => unsafe { self.get(s) },
            Src::Acc(bits) => bits,
        }
    }
}

/// `dst = (lhs << shift) + rhs` (`i32`, wrapping), `lhs` taken from where
/// `l` says and `rhs` from its slot or, with `IMM`, the instruction. Returns
/// the bits written.
///
/// # Safety
/// The instruction's slots are within the frame.
#[inline(always)]
pub(super) unsafe fn shift_add<const S: bool, const I: bool>(
    r: Regs<S, I>,
    o: &ShiftAdd,
    l: Src,
) -> u64 {
    // SAFETY: the caller guarantees the slots are in the frame.
    unsafe {
        let rhs = r.slot_or_imm(o.rhs, o.imm) as u32;
        let v = (r.operand(o.lhs, l) as u32) << (o.shift & 31);
        let v = u64::from(v.wrapping_add(rhs));
        r.set(o.dst, v);
        v
    }
}

/// `dst = lhs + rhs` (`i32`, wrapping), `rhs` from its slot or, with `IMM`,
/// the instruction; the sum also goes to `copy`, always (only `dst` is
/// ever the dead result a discarding twin drops). Returns the bits written.
///
/// # Safety
/// The instruction's slots are within the frame.
#[inline(always)]
pub(super) unsafe fn add_copy<const S: bool, const I: bool>(r: Regs<S, I>, o: &AddCopy) -> u64 {
    // SAFETY: the caller guarantees the slots are in the frame.
    unsafe {
        let rhs = r.slot_or_imm(o.rhs, o.imm) as u32;
        let v = u64::from(r.get_u32(o.lhs).wrapping_add(rhs));
        r.set(o.dst, v);
        r.ptr(usize::from(o.copy)).write(v);
        v
    }
}

/// `dst = lhs * rhs + add` (`i32`, wrapping), `lhs` taken from where `l`
/// says and `add` from its slot or, with `IMM`, the instruction. Returns
/// the bits written.
///
/// # Safety
/// The instruction's slots are within the frame.
#[inline(always)]
pub(super) unsafe fn mul_add<const S: bool, const I: bool>(
    r: Regs<S, I>,
    o: &MulAdd,
    l: Src,
) -> u64 {
    // SAFETY: the caller guarantees the slots are in the frame.
    unsafe {
        let add = r.slot_or_imm(o.add, o.imm) as u32;
        let product = (r.operand(o.lhs, l) as u32).wrapping_mul(r.get_u32(o.rhs));
        let v = u64::from(product.wrapping_add(add));
        r.set(o.dst, v);
        v
    }
}

/// `dst = src ^ shifted(src, shift)` (`i32`), `src` taken from where `l`
/// says; `shifted` is a shift by an amount below 32. Returns the bits
/// written.
///
/// # Safety
/// The instruction's slots are within the frame.
#[inline(always)]
pub(super) unsafe fn xor_shift<const S: bool, const I: bool>(
    r: Regs<S, I>,
    o: &XorShift,
    l: Src,
    shifted: impl FnOnce(u32, u32) -> u32,
) -> u64 {
    // SAFETY: the caller guarantees the slots are in the frame.
    unsafe {
        let x = r.operand(o.src, l) as u32;
        let v = u64::from(x ^ shifted(x, u32::from(o.shift & 31)));
        r.set(o.dst, v);
        v
    }
}

/// `a += step_a`, then `b += step_b` (`i32`, wrapping; `b` is read after
/// `a` is written, so the same slot may be stepped twice). Returns the
/// bits written to `b`.
///
/// # Safety
/// The instruction's slots are within the frame.
#[inline(always)]
pub(super) unsafe fn add_pair<const S: bool, const I: bool>(r: Regs<S, I>, o: &AddPair) -> u64 {
    // SAFETY: the caller guarantees the slots are in the frame.
    unsafe {
        let a = r.get_u32(o.a).wrapping_add(o.step_a);
        r.set(o.a, u64::from(a));
        let b = u64::from(r.get_u32(o.b).wrapping_add(o.step_b));
        r.set(o.b, b);
        b
    }
}

/// `dst = f(lhs, rhs)`, with `lhs` and `rhs` taken from where `l` and `rh`
/// say. Returns the bits written (the accumulator's next value).
///
/// # Safety
/// The instruction's slots are within the frame.
#[inline(always)]
pub(super) unsafe fn bin_from<const S: bool, const I: bool, A: SlotValue, R: SlotValue>(
    r: Regs<S, I>,
    o: &Bin,
    l: Src,
    rh: Src,
    f: impl FnOnce(A, A) -> R,
) -> u64 {
    // SAFETY: the caller guarantees the three slots are in the frame.
    unsafe {
        let v = f(
            A::from_slot(r.operand(o.lhs, l)),
            A::from_slot(r.rhs(o, rh)),
        )
        .into_slot();
        r.set(o.dst, v);
        v
    }
}

/// `dst = f(lhs, rhs)`; returns the bits written.
///
/// # Safety
/// The instruction's slots are within the frame.
#[inline(always)]
pub(super) unsafe fn bin<const S: bool, const I: bool, A: SlotValue, R: SlotValue>(
    r: Regs<S, I>,
    o: &Bin,
    f: impl FnOnce(A, A) -> R,
) -> u64 {
    // SAFETY: forwarded to the caller.
    unsafe { bin_from(r, o, Src::Slot, Src::Slot, f) }
}

/// `dst = f(lhs, rhs)` for an operator that may trap, with `lhs` taken from
/// where `l` says; on a trap `dst` is left untouched. Returns the bits
/// written.
///
/// # Safety
/// The instruction's slots are within the frame.
#[inline(always)]
pub(super) unsafe fn bin_trap_from<const S: bool, const I: bool, A: SlotValue, R: SlotValue>(
    r: Regs<S, I>,
    o: &Bin,
    l: Src,
    f: impl FnOnce(A, A) -> Result<R, TrapCode>,
) -> Result<u64, TrapCode> {
    // SAFETY: the caller guarantees the three slots are in the frame.
    unsafe {
        let v = f(
            A::from_slot(r.operand(o.lhs, l)),
            A::from_slot(r.rhs(o, Src::Slot)),
        )?
        .into_slot();
        r.set(o.dst, v);
        Ok(v)
    }
}

/// `dst = f(lhs, rhs)` for an operator that may trap; on a trap `dst` is
/// left untouched. Returns the bits written.
///
/// # Safety
/// The instruction's slots are within the frame.
#[inline(always)]
pub(super) unsafe fn bin_trap<const S: bool, const I: bool, A: SlotValue, R: SlotValue>(
    r: Regs<S, I>,
    o: &Bin,
    f: impl FnOnce(A, A) -> Result<R, TrapCode>,
) -> Result<u64, TrapCode> {
    // SAFETY: forwarded to the caller.
    unsafe { bin_trap_from(r, o, Src::Slot, f) }
}

/// `dst = f(src)`, with `src` taken from where `from` says; returns the bits
/// written.
///
/// # Safety
/// The instruction's slots are within the frame.
#[inline(always)]
pub(super) unsafe fn un_from<const S: bool, const I: bool, A: SlotValue, R: SlotValue>(
    r: Regs<S, I>,
    o: &Un,
    from: Src,
    f: impl FnOnce(A) -> R,
) -> u64 {
    // SAFETY: the caller guarantees both slots are in the frame.
    unsafe {
        let v = f(A::from_slot(r.operand(o.src, from))).into_slot();
        r.set(o.dst, v);
        v
    }
}

/// `dst = f(src)`; returns the bits written.
///
/// # Safety
/// The instruction's slots are within the frame.
#[inline(always)]
pub(super) unsafe fn un<const S: bool, const I: bool, A: SlotValue, R: SlotValue>(
    r: Regs<S, I>,
    o: &Un,
    f: impl FnOnce(A) -> R,
) -> u64 {
    // SAFETY: forwarded to the caller.
    unsafe { un_from(r, o, Src::Slot, f) }
}

/// `dst = f(src)` for an operator that may trap; returns the bits written.
///
/// # Safety
/// The instruction's slots are within the frame.
#[inline(always)]
pub(super) unsafe fn un_trap<const S: bool, const I: bool, A: SlotValue, R: SlotValue>(
    r: Regs<S, I>,
    o: &Un,
    f: impl FnOnce(A) -> Result<R, TrapCode>,
) -> Result<u64, TrapCode> {
    // SAFETY: the caller guarantees both slots are in the frame.
    unsafe {
        let v = f(r.take(o.src))?.into_slot();
        r.set(o.dst, v);
        Ok(v)
    }
}

/// The error side of a trapping operator, kept out of the hot path.
///
/// Inlined but marked cold: a call here (even to a cold function) would make
/// every handler that can trap set up a stack frame and save registers on
/// its hot path too, while a cold block only moves the trap code aside.
#[inline(always)]
pub(super) fn trap<T>(code: TrapCode) -> Result<T, TrapCode> {
    core::hint::cold_path();
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
            bin(r, &Bin::new(2, 0, 1), |a: i32, b: i32| a - b);
            un(r, &Un { dst: 3, src: 2 }, |a: i32| -a);
            assert_eq!(
                bin_trap(r, &Bin::new(0, 0, 1), |_: i32, _: i32| trap::<i32>(
                    TrapCode::IntegerOverflow
                )),
                Err(TrapCode::IntegerOverflow)
            );
        }
        assert_eq!(slots, [7, 5, 2, 0xffff_fffe]);
    }

    #[test]
    fn discarding_frames_drop_result_writes() {
        let mut slots = [7u64, 5, 0];
        let r = Regs::new(slots.as_mut_ptr()).variant::<false, false>();
        // SAFETY: every slot named is below 3, the array's length.
        let bits = unsafe { bin(r, &Bin::new(2, 0, 1), |a: i32, b: i32| a * b) };
        assert_eq!(bits, 35, "the result still reaches the accumulator");
        assert_eq!(slots, [7, 5, 0], "but not the slot");
    }
}
