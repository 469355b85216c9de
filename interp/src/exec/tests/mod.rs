//! Executor tests: hand-written bytecode run through `interp_array_call` on
//! instances built by hand in the vmctx layout (see [`harness`]).

mod harness;

mod acc;
mod calls;
mod dispatch;
mod memory;
mod numeric;
mod tables;
