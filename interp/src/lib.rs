//! `kiln-interp`: the first two tiers of Kiln's pipeline.
//!
//! ```text
//! wasm bytes ──► translate (wasmparser validation drives it, one pass)
//!            ──► bytecode (CompiledFunc: register-style Ops over frame slots)
//!            ──► exec (the interpreter loop, entered through VMFuncRef::array_call)
//! ```
//!
//! The raw ABI every tier shares — the vmctx layout, `VMFuncRef`, `ValRaw`,
//! trap codes, the fuel cost model, the bulk operations — is the `kiln-vm`
//! crate (re-exported as [`vm`]); the `kiln` crate builds instances in that
//! layout and the native tier reads the same bytes. [`bytecode`]
//! is the instruction set, [`translate`] turns a validated function body into
//! it, and [`exec`] runs it. [`InterpModule`] holds a module's functions and
//! translates each on first call unless they were translated eagerly.

pub mod bytecode;
pub mod exec;
mod module;
pub mod translate;
pub use kiln_vm as vm;

pub use module::{InterpModule, ModuleTypes};
