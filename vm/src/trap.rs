//! Trap codes: why a WebAssembly computation stopped.

use core::fmt;

/// The reason code of a trap, shared by every tier.
///
/// The names and messages follow wasmtime's `Trap` so embedders can match on
/// them the same way. `repr(u8)` because native code stores them as bytes.
#[repr(u8)]
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrapCode {
    /// The call stack (`Config::max_wasm_stack`) was exhausted.
    StackOverflow = 0,
    /// A load or store was out of the memory's bounds.
    MemoryOutOfBounds = 1,
    /// A misaligned atomic access (unused until threads are supported).
    HeapMisaligned = 2,
    /// A table access was out of the table's bounds.
    TableOutOfBounds = 3,
    /// `call_indirect` found a null entry.
    IndirectCallToNull = 4,
    /// `call_indirect` found a function of another type.
    BadSignature = 5,
    /// An integer arithmetic operation overflowed (`i32.div_s` of `MIN / -1`).
    IntegerOverflow = 6,
    /// Integer division or remainder by zero.
    IntegerDivisionByZero = 7,
    /// A float-to-int conversion was out of range or NaN.
    BadConversionToInteger = 8,
    /// The `unreachable` instruction was executed.
    UnreachableCodeReached = 9,
    /// Execution was interrupted (epoch deadline reached).
    Interrupt = 10,
    /// The store ran out of fuel.
    OutOfFuel = 11,
    /// A null reference was dereferenced.
    NullReference = 12,
    /// A call to a function that the linker defined as a trap
    /// (`Linker::define_unknown_imports_as_traps`).
    UnknownImport = 13,
}

impl TrapCode {
    /// Every trap code, in numbering order.
    pub const ALL: [TrapCode; 14] = [
        TrapCode::StackOverflow,
        TrapCode::MemoryOutOfBounds,
        TrapCode::HeapMisaligned,
        TrapCode::TableOutOfBounds,
        TrapCode::IndirectCallToNull,
        TrapCode::BadSignature,
        TrapCode::IntegerOverflow,
        TrapCode::IntegerDivisionByZero,
        TrapCode::BadConversionToInteger,
        TrapCode::UnreachableCodeReached,
        TrapCode::Interrupt,
        TrapCode::OutOfFuel,
        TrapCode::NullReference,
        TrapCode::UnknownImport,
    ];

    /// The trap code numbered `n` (its `repr(u8)` value), if any.
    pub fn from_u8(n: u8) -> Option<TrapCode> {
        Self::ALL.get(usize::from(n)).copied()
    }

    /// The human-readable description, as wasmtime words it.
    pub const fn message(self) -> &'static str {
        match self {
            TrapCode::StackOverflow => "call stack exhausted",
            TrapCode::MemoryOutOfBounds => "out of bounds memory access",
            TrapCode::HeapMisaligned => "unaligned atomic",
            TrapCode::TableOutOfBounds => "undefined element: out of bounds table access",
            TrapCode::IndirectCallToNull => "uninitialized element",
            TrapCode::BadSignature => "indirect call type mismatch",
            TrapCode::IntegerOverflow => "integer overflow",
            TrapCode::IntegerDivisionByZero => "integer divide by zero",
            TrapCode::BadConversionToInteger => "invalid conversion to integer",
            TrapCode::UnreachableCodeReached => "wasm `unreachable` instruction executed",
            TrapCode::Interrupt => "interrupt",
            TrapCode::OutOfFuel => "all fuel consumed by WebAssembly",
            TrapCode::NullReference => "null reference",
            TrapCode::UnknownImport => "called an unknown imported function",
        }
    }
}

/// Displays as wasmtime's `Trap` does: `wasm trap: <message>`.
impl fmt::Display for TrapCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "wasm trap: {}", self.message())
    }
}

/// A trap is an error value: embedders get it back inside an
/// `anyhow::Error` (and host functions may return one with `?`).
impl std::error::Error for TrapCode {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_declaration() {
        for (i, code) in TrapCode::ALL.iter().enumerate() {
            assert_eq!(*code as u8 as usize, i);
            assert_eq!(TrapCode::from_u8(i as u8), Some(*code));
        }
        assert_eq!(TrapCode::from_u8(TrapCode::ALL.len() as u8), None);
    }
}
