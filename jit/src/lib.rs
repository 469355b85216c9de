//! `kiln-jit`: the native tier of Kiln's pipeline.
//!
//! ```text
//! bytes → validate+translate → bytecode → execute (kiln-interp)
//!       → validated body → CLIF (translate/) → Cranelift → machine code (this crate)
//! ```
//!
//! A validated function body becomes Cranelift IR with `cranelift-frontend`
//! ([`translate`]), Cranelift compiles it for the host, and the code of a
//! whole module lands in one mapping of Kiln's own ([`code_memory`]):
//! written while read+write, then made read+execute, never both. There are
//! no relocations: native code reaches everything — callees, memories,
//! tables, globals, the store's fuel and stack limit, the runtime's
//! builtins — through the instance's vmctx, at the offsets of the ABI crate
//! `kiln-vm`, exactly as the interpreter does. This crate does not depend on
//! the interpreter.
//!
//! Every compiled function has two entries, the two of its `VMFuncRef`:
//!
//! * `wasm_call`, the body, in Cranelift's `tail` calling convention:
//!   `(callee_vmctx, caller_vmctx, params...) -> (status, results...)`.
//!   Native callers call it directly when a callee has one.
//! * `array_call`, a trampoline in the host's calling convention
//!   ([`trampoline`]): what the host, the interpreter and native callers of
//!   a function without `wasm_call` use.
//!
//! **Traps** are values here too. A trapping instruction branches to a
//! cold exit that asks the runtime to record the trap as the store's pending
//! reason ([`kiln_vm::VMBuiltins::raise_trap`]), appends the function's
//! frame to the backtrace and returns status 0; every call site checks its
//! callee's status and leaves the same way. So a trap unwinds native frames
//! one ordinary return at a time, and the innermost `array_call` returns
//! `false` exactly as an interpreted function does. No signal handler, no
//! non-local jump: Rust frames between native frames are never skipped, and
//! the price is one predicted branch per call. Bounds, division, conversion
//! and stack-limit checks are explicit compare-and-branches; the code
//! contains no instruction that can fault by design.

#![cfg_attr(
    not(all(
        any(target_arch = "x86_64", target_arch = "aarch64"),
        any(target_os = "linux", target_os = "macos")
    )),
    allow(dead_code, unused_imports)
)]

mod abi;
pub mod adapter;
pub mod code_memory;
mod compile;
mod env;
mod isa;
pub mod trampoline;
pub mod translate;

pub use compile::{
    Adapters, CompileStats, CompiledModule, Compiler, ModuleParts, NativeFunction, OptLevel,
    OsrEntry,
};
pub use env::{GlobalInfo, ModuleEnv};

/// Why a function was not compiled: it uses something this tier does not
/// translate yet. The runtime then leaves that function interpreted (and
/// counts it, see [`CompiledModule::fallbacks`]); it is never an error for
/// the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub String);

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not supported by the native tier: {}", self.0)
    }
}

impl std::error::Error for Unsupported {}
