//! Loads and stores on memory 0: bounds-checked, unaligned, little-endian.

use super::memory::Mem;
use super::regs::{Regs, SlotValue};
use crate::bytecode::{Load, Store};
use crate::vm::TrapCode;

/// `dst = decode(mem[addr + offset .. + N])`.
///
/// # Safety
/// `m` is the current view of memory 0; the slots are in the frame.
#[inline(always)]
unsafe fn load<const N: usize, T: SlotValue>(
    r: Regs,
    m: Mem,
    l: Load,
    decode: impl FnOnce([u8; N]) -> T,
) -> Result<(), TrapCode> {
    // SAFETY: the slots are in the frame (caller); `check` proved the N bytes
    // at `at` lie inside the memory, and the read is unaligned.
    unsafe {
        let at = m.check(r.get_u32(l.addr), l.offset, N as u64)?;
        let bytes = m.base.add(at).cast::<[u8; N]>().read_unaligned();
        r.put(l.dst, decode(bytes));
    }
    Ok(())
}

/// `mem[addr + offset .. + N] = encode(value)`.
///
/// # Safety
/// `m` is the current view of memory 0; the slots are in the frame.
#[inline(always)]
unsafe fn store<const N: usize>(
    r: Regs,
    m: Mem,
    s: Store,
    encode: impl FnOnce(u64) -> [u8; N],
) -> Result<(), TrapCode> {
    // SAFETY: the slots are in the frame (caller); `check` proved the N bytes
    // at `at` lie inside the memory, and the write is unaligned.
    unsafe {
        let at = m.check(r.get_u32(s.addr), s.offset, N as u64)?;
        let bytes = encode(r.get(s.value));
        m.base.add(at).cast::<[u8; N]>().write_unaligned(bytes);
    }
    Ok(())
}

macro_rules! loads {
    ($($(#[$doc:meta])* $name:ident = |$b:ident: [u8; $n:literal]| -> $t:ty $body:block)*) => {$(
        $(#[$doc])*
        ///
        /// # Safety
        /// `m` is the current view of memory 0; the slots are in the frame.
        #[inline(always)]
        pub(super) unsafe fn $name(r: Regs, m: Mem, l: Load) -> Result<(), TrapCode> {
            // SAFETY: forwarded to the caller.
            unsafe { load(r, m, l, |$b: [u8; $n]| -> $t { $body }) }
        }
    )*};
}

macro_rules! stores {
    ($($(#[$doc:meta])* $name:ident = |$v:ident| -> [u8; $n:literal] $body:block)*) => {$(
        $(#[$doc])*
        ///
        /// # Safety
        /// `m` is the current view of memory 0; the slots are in the frame.
        #[inline(always)]
        pub(super) unsafe fn $name(r: Regs, m: Mem, s: Store) -> Result<(), TrapCode> {
            // SAFETY: forwarded to the caller.
            unsafe { store(r, m, s, |$v: u64| -> [u8; $n] { $body }) }
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
