//! How `Config::max_wasm_stack` becomes the two stack budgets of a store.
//!
//! wasmtime spends `max_wasm_stack` bytes on Cranelift-compiled frames,
//! which hold only the values live across a call. Kiln's frames are larger
//! for the same code: an interpreted frame keeps a slot for every local and
//! operand of the function (plus its return record), and Kiln's native
//! frames are somewhat larger than wasmtime's. So that every program that
//! fits in wasmtime's `max_wasm_stack` also fits in Kiln's, in every tier,
//! each budget is `max_wasm_stack` scaled by how much larger Kiln's frames
//! were measured to be, with room to spare (see `docs/architecture.md`,
//! "Stack budgets"):
//!
//! * interpreted frames (on the interpreter's heap stacks):
//!   [`INTERPRETER_SCALE`] times `max_wasm_stack`;
//! * native frames (below the outermost entry's stack pointer):
//!   [`NATIVE_SCALE`] times `max_wasm_stack`, still never below what the
//!   thread's stack holds (`stack_limit`).
//!
//! Runaway recursion still ends in `Trap::StackOverflow`, only later.

/// How many times `max_wasm_stack` interpreted frames may use. Measured:
/// `wasi/tests/programs/deep_parse.c` (clang -O2) needs 3.2 times
/// wasmtime's bytes per level of recursion in the interpreter, GCC's cc1
/// (parsing nested parentheses) 1.9 times; 8 leaves room for functions with
/// many more locals than live values.
pub(crate) const INTERPRETER_SCALE: usize = 8;

/// How many times `max_wasm_stack` native frames may use. Measured: Kiln's
/// Cranelift frames for `deep_parse.c` are 1.2 times wasmtime's. The native
/// budget is only a limit: the thread's own stack must hold it (else the
/// limit stops short of the thread's end, see `stack_limit`).
pub(crate) const NATIVE_SCALE: usize = 2;

/// Bytes the interpreter's value and frame stacks may grow to.
pub(crate) fn interpreter(max_wasm_stack: usize) -> usize {
    max_wasm_stack.saturating_mul(INTERPRETER_SCALE)
}

/// Bytes of native stack wasm frames may use below the outermost entry.
pub(crate) fn native(max_wasm_stack: usize) -> usize {
    max_wasm_stack.saturating_mul(NATIVE_SCALE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_scale_and_saturate() {
        assert_eq!(interpreter(512 * 1024), 4 << 20);
        assert_eq!(native(512 * 1024), 1 << 20);
        assert_eq!(interpreter(0), 0);
        assert_eq!(interpreter(usize::MAX / 2), usize::MAX);
        assert_eq!(native(usize::MAX), usize::MAX);
    }
}
