//! The runtime layer: the raw objects behind the API's handles, laid out as
//! `kiln_vm` (the ABI every tier shares) prescribes.
//!
//! The public types (`Instance`, `Memory`, `Func`, ...) are thin, checked
//! handles; this module holds what they point at and the unsafe code that
//! builds it: vmctx blocks (in `kiln_vm`'s layout, [`instance`]), memories and tables whose
//! definitions running code reads directly ([`memory`], [`table`]), the
//! builtins running code calls to grow them ([`builtins`]), instantiation
//! ([`instantiate`]), host functions at the ABI level ([`host`]), and the
//! single path by which the host calls into WebAssembly ([`call`]).
//!
//! One file, one job; the `// SAFETY:` comments state the invariants each
//! relies on, most of them "the module was validated" and "the object is
//! owned by the same store, which outlives every pointer to it".

pub(crate) mod backtrace;
pub(crate) mod builtins;
pub(crate) mod call;
pub(crate) mod const_eval;
pub(crate) mod global;
pub(crate) mod host;
pub(crate) mod instance;
pub(crate) mod instantiate;
pub(crate) mod memory;
pub(crate) mod memory_buffer;
#[cfg(unix)]
pub(crate) mod mmap;
pub(crate) mod pooling;
pub(crate) mod stable_box;
pub(crate) mod stack_budget;
pub(crate) mod stack_limit;
pub(crate) mod table;
