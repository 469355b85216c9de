//! Deep recursion under Kiln's default stack budget, in every tier:
//! `programs/deep_parse.c` (a recursive-descent parser with compiler-like
//! frames, built with clang at -O2 as a WASI command) must reach the depth
//! it reaches under wasmtime's default `max_wasm_stack` (512 KiB), with the
//! same output as the program built natively, and runaway recursion must
//! still trap with `Trap::StackOverflow`.
//!
//! Needs clang for `wasm32-wasi` (Debian's clang, lld, wasi-libc and
//! libclang-rt-dev-wasm32) and `cc`; `CLANG` and `WASI_SYSROOT` override
//! where they are. A missing toolchain fails the test with the install
//! command.

#[path = "../../tests/common/tiers.rs"]
mod tiers;

use kiln::{Engine, Linker, Module, Store, Trap};
use kiln_wasi::p1::{self, WasiP1Ctx};
use kiln_wasi::{I32Exit, MemoryOutputPipe, WasiCtxBuilder};
use std::path::{Path, PathBuf};
use std::process::Command;
use tiers::Tier;

/// The deepest input wasmtime 50 (whose Cranelift frames are wasmtime 48's
/// too) runs `deep_parse` at with its default 512 KiB `max_wasm_stack`:
/// measured by bisection, one level more overflows its stack.
const WASMTIME_DEPTH: u32 = 1195;

const TOOLCHAIN_HINT: &str = "this test compiles C with clang for wasm32-wasi; install the \
     toolchain with `apt-get install -y clang lld wasi-libc libclang-rt-dev-wasm32` (or set \
     CLANG / WASI_SYSROOT)";

fn source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs/deep_parse.c")
}

/// Runs a compiler, failing the test with its output if it fails.
fn compile(mut cmd: Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run the compiler for {what} ({e}): {TOOLCHAIN_HINT}"));
    assert!(
        out.status.success(),
        "compiling {what} failed:\n{}\n{TOOLCHAIN_HINT}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `deep_parse.c` built for wasm32-wasi at -O2 (as a compiler would be).
fn wasm() -> Vec<u8> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("deep-stack");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("deep_parse.wasm");
    let clang = std::env::var("CLANG").unwrap_or_else(|_| "clang".to_string());
    let sysroot = std::env::var("WASI_SYSROOT").unwrap_or_else(|_| "/usr".to_string());
    let mut cmd = Command::new(clang);
    cmd.arg("--target=wasm32-wasi")
        .arg(format!("--sysroot={sysroot}"))
        .arg("-O2")
        .arg("-o")
        .arg(&out)
        .arg(source());
    compile(cmd, "deep_parse.c for wasm32-wasi");
    std::fs::read(out).unwrap()
}

/// What the natively built program prints for `args` (its stack is the
/// host's 8 MiB, deep enough for the depths used here).
fn native_output(args: &[&str]) -> String {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("deep-stack");
    std::fs::create_dir_all(&dir).unwrap();
    let exe = dir.join("deep_parse.native");
    let mut cmd = Command::new("cc");
    cmd.arg("-O2").arg("-o").arg(&exe).arg(source());
    compile(cmd, "deep_parse.c natively");
    let out = Command::new(&exe).args(args).output().unwrap();
    assert!(out.status.success(), "the native build failed: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Runs the command's `_start` in `tier` with Kiln's default stack budget
/// and `args`; returns how the run ended and what it printed.
fn run(tier: Tier, bytes: &[u8], args: &[&str]) -> (kiln::Result<()>, String) {
    let engine = Engine::new(&tiers::config(tier)).unwrap();
    let module = Module::new(&engine, bytes).unwrap();
    let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |cx| cx).unwrap();
    let stdout = MemoryOutputPipe::new(1 << 16);
    let wasi = WasiCtxBuilder::new()
        .arg("deep_parse")
        .args(args)
        .stdout(stdout.clone())
        .build_p1();
    let mut store = Store::new(&engine, wasi);
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .unwrap();
    let result = start.call(&mut store, ());
    (result, String::from_utf8(stdout.contents()).unwrap())
}

/// The tiers a WASI program runs in: the interpreter, native code, and
/// tiered execution moving functions to native code mid-recursion.
const TIERS: [Tier; 3] = [Tier::Interpreter, Tier::Cranelift, Tier::Tiered];

#[test]
fn recursion_that_fits_wasmtimes_default_stack_fits_every_tier() {
    let bytes = wasm();
    let depth = WASMTIME_DEPTH.to_string();
    let expected = native_output(&[&depth]);
    assert!(
        expected.starts_with(&format!("depth {depth}: ")),
        "{expected}"
    );
    for tier in TIERS {
        let (result, stdout) = run(tier, &bytes, &[&depth]);
        if let Err(e) = result {
            panic!("{}: depth {depth} failed: {e:?}", tier.name());
        }
        assert_eq!(stdout, expected, "{}", tier.name());
    }
}

#[test]
fn runaway_recursion_still_overflows_in_every_tier() {
    let bytes = wasm();
    for tier in TIERS {
        let (result, stdout) = run(tier, &bytes, &["1", "runaway"]);
        let err = result.expect_err("runaway recursion cannot finish");
        assert!(
            err.downcast_ref::<I32Exit>().is_none(),
            "{}: exited instead of trapping: {stdout}",
            tier.name()
        );
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::StackOverflow),
            "{}: {err:?}",
            tier.name()
        );
        assert_eq!(stdout, "", "{}", tier.name());
    }
}
