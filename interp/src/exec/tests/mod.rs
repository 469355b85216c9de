//! Executor tests: hand-written bytecode run through `interp_array_call` on
//! instances built by hand in the vmctx layout (see [`harness`]).

mod harness;

mod calls;
mod memory;
mod numeric;
mod tables;
