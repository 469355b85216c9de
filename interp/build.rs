//! Chooses the executor's dispatch backend (see `src/exec/dispatch.rs`).
//!
//! The threaded backend ends every instruction handler with a call to the
//! next handler in tail position and relies on LLVM turning that call into
//! a jump (sibling-call optimisation). LLVM only does that when optimising,
//! and we only rely on it on targets where it is known to work for our
//! handler signature; anywhere else every executed instruction would push a
//! native stack frame. So `cfg(kiln_tail_calls)` is set only for opt-level
//! 2, 3, `s` or `z` on x86_64 and aarch64, and without debug assertions
//! (they add run-time checks to the pointer accesses on a handler's
//! dispatch path, which keep LLVM from turning the final call into a jump);
//! other builds (tests at opt-level 0/1, other targets) get the portable
//! loop backend.
//!
//! `KILN_INTERP_DISPATCH=loop` forces the loop backend in any build (for
//! comparisons and for testing it optimised). Forcing the tail backend is
//! deliberately not possible.

use std::env;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=KILN_INTERP_DISPATCH");
    println!("cargo::rustc-check-cfg=cfg(kiln_tail_calls)");

    let opt_level = env::var("OPT_LEVEL").unwrap_or_default();
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let optimising = matches!(opt_level.as_str(), "2" | "3" | "s" | "z");
    let reliable_target = matches!(arch.as_str(), "x86_64" | "aarch64");
    let debug_assertions = env::var_os("CARGO_CFG_DEBUG_ASSERTIONS").is_some();
    let forced_loop = env::var("KILN_INTERP_DISPATCH").is_ok_and(|v| v == "loop");
    if optimising && reliable_target && !debug_assertions && !forced_loop {
        println!("cargo::rustc-cfg=kiln_tail_calls");
    }
}
