//! Loads and stores on memory 0: bounds-checked, unaligned, little-endian.
//!
//! The address (and a store's value) are passed in as values, so that the
//! handlers can take them from their slots or from the accumulator.

use super::memory::Mem;
use super::regs::{Regs, SlotValue};
use crate::bytecode::{Load, LoadStep};
use crate::vm::TrapCode;

/// `dst = decode(mem[addr + offset .. + N])`, `addr` being the value of
/// the instruction's address operand. Returns the bits written.
///
/// # Safety
/// `m` is the current view of memory 0; `l.dst` is in the frame.
#[inline(always)]
unsafe fn load<const S: bool, const I: bool, const N: usize, T: SlotValue>(
    r: Regs<S, I>,
    m: Mem,
    addr: u32,
    l: &Load,
    decode: impl FnOnce([u8; N]) -> T,
) -> Result<u64, TrapCode> {
    // SAFETY: the slot is in the frame (caller); `check` proved the N bytes
    // at `at` lie inside the memory, and the read is unaligned.
    unsafe {
        let at = m.check(addr, l.offset, N as u64)?;
        let bytes = m.base.add(at).cast::<[u8; N]>().read_unaligned();
        let v = decode(bytes).into_slot();
        r.set(l.dst, v);
        Ok(v)
    }
}

/// `mem[addr + offset .. + N] = encode(value)`.
///
/// # Safety
/// `m` is the current view of memory 0.
#[inline(always)]
unsafe fn store<const N: usize>(
    m: Mem,
    addr: u32,
    offset: u32,
    value: u64,
    encode: impl FnOnce(u64) -> [u8; N],
) -> Result<(), TrapCode> {
    // SAFETY: `check` proved the N bytes at `at` lie inside the memory, and
    // the write is unaligned.
    unsafe {
        let at = m.check(addr, offset, N as u64)?;
        m.base
            .add(at)
            .cast::<[u8; N]>()
            .write_unaligned(encode(value));
    }
    Ok(())
}

/// `dst = load(mem[addr + offset])`, then `addr += step` (`i32`,
/// wrapping); a trap leaves both slots untouched. Returns the stepped
/// address (the bits the fused `i32.add` wrote).
///
/// # Safety
/// `m` is the current view of memory 0; the slots are in the frame and
/// differ.
#[inline(always)]
pub(super) unsafe fn load_step<const S: bool, const I: bool>(
    r: Regs<S, I>,
    m: Mem,
    s: &LoadStep,
    load: unsafe fn(Regs<S, I>, Mem, u32, &Load) -> Result<u64, TrapCode>,
) -> Result<u64, TrapCode> {
    // SAFETY: forwarded to the caller.
    unsafe {
        let addr = r.get_u32(s.addr);
        let l = Load {
            dst: s.dst,
            addr: s.addr,
            offset: s.offset,
        };
        load(r, m, addr, &l)?;
        let next = u64::from(addr.wrapping_add(s.step));
        r.set(s.addr, next);
        Ok(next)
    }
}

macro_rules! loads {
    ($($(#[$doc:meta])* $name:ident = |$b:ident: [u8; $n:literal]| -> $t:ty $body:block)*) => {$(
        $(#[$doc])*
        ///
        /// Returns the bits written to `dst`.
        ///
        /// # Safety
        /// `m` is the current view of memory 0; `l.dst` is in the frame.
        #[inline(always)]
        pub(super) unsafe fn $name<const S: bool, const I: bool>(
            r: Regs<S, I>,
            m: Mem,
            addr: u32,
            l: &Load,
        ) -> Result<u64, TrapCode> {
            // SAFETY: forwarded to the caller.
            unsafe { load(r, m, addr, l, |$b: [u8; $n]| -> $t { $body }) }
        }
    )*};
}

macro_rules! stores {
    ($($(#[$doc:meta])* $name:ident = |$v:ident| -> [u8; $n:literal] $body:block)*) => {$(
        $(#[$doc])*
        ///
        /// # Safety
        /// `m` is the current view of memory 0.
        #[inline(always)]
        pub(super) unsafe fn $name(m: Mem, addr: u32, offset: u32, value: u64) -> Result<(), TrapCode> {
            // SAFETY: forwarded to the caller.
            unsafe { store(m, addr, offset, value, |$v: u64| -> [u8; $n] { $body }) }
        }
    )*};
}

loads! {
    /// `i32.load` (also `f32.load`: the slot holds the bit pattern).
    i32_load = |b: [u8; 4]| -> u32 { u32::from_le_bytes(b) }
    /// `i64.load` (also `f64.load`).
    i64_load = |b: [u8; 8]| -> u64 { u64::from_le_bytes(b) }
    /// `i32.load8_s`.
    i32_load8_s = |b: [u8; 1]| -> i32 { b[0] as i8 as i32 }
    /// `i32.load8_u`.
    i32_load8_u = |b: [u8; 1]| -> u32 { b[0] as u32 }
    /// `i32.load16_s`.
    i32_load16_s = |b: [u8; 2]| -> i32 { i16::from_le_bytes(b) as i32 }
    /// `i32.load16_u`.
    i32_load16_u = |b: [u8; 2]| -> u32 { u16::from_le_bytes(b) as u32 }
    /// `i64.load8_s`.
    i64_load8_s = |b: [u8; 1]| -> i64 { b[0] as i8 as i64 }
    /// `i64.load8_u`.
    i64_load8_u = |b: [u8; 1]| -> u64 { b[0] as u64 }
    /// `i64.load16_s`.
    i64_load16_s = |b: [u8; 2]| -> i64 { i16::from_le_bytes(b) as i64 }
    /// `i64.load16_u`.
    i64_load16_u = |b: [u8; 2]| -> u64 { u16::from_le_bytes(b) as u64 }
    /// `i64.load32_s`.
    i64_load32_s = |b: [u8; 4]| -> i64 { i32::from_le_bytes(b) as i64 }
    /// `i64.load32_u`.
    i64_load32_u = |b: [u8; 4]| -> u64 { u32::from_le_bytes(b) as u64 }
}

stores! {
    /// `i32.store` (also `f32.store`).
    i32_store = |v| -> [u8; 4] { (v as u32).to_le_bytes() }
    /// `i64.store` (also `f64.store`).
    i64_store = |v| -> [u8; 8] { v.to_le_bytes() }
    /// `i32.store8` and `i64.store8`.
    store8 = |v| -> [u8; 1] { [v as u8] }
    /// `i32.store16` and `i64.store16`.
    store16 = |v| -> [u8; 2] { (v as u16).to_le_bytes() }
}
