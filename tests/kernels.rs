//! The benchmark kernels (`bench/kernels/*.c`) as a correctness test: each
//! is compiled with clang for wasm32 (freestanding, as the bench does) and
//! natively, and `run(n)` must return the same value under Kiln, in lazy
//! and eager mode, as natively. Real compiled C exercises the translator's
//! fusions in the combinations clang actually emits, which the hand-written
//! tests only sample; the bench checks the same thing but is not part of
//! `cargo test`.
//!
//! `n` is much smaller than the bench's, so this runs in seconds in a debug
//! build. A missing toolchain fails the test with the install command (the
//! CI script installs it); it never passes silently. `CLANG` (default
//! `clang`) overrides the compiler.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const TOOLCHAIN_HINT: &str = "the kernel test compiles bench/kernels/*.c with clang for wasm32 \
     and natively; install it with `apt-get install -y clang lld libclang-rt-dev-wasm32` \
     (or set CLANG)";

/// Every kernel and the `n` it runs with here (the bench's `n` divided by
/// 10 to 100).
const KERNELS: &[(&str, i32)] = &[
    ("bulk_memory", 4),
    ("f32_math", 8),
    ("f64_math", 8),
    ("fib", 18),
    ("hash_table", 1),
    ("i64_math", 2000),
    ("indirect", 10_000),
    ("int_alu", 20_000),
    ("memory_loop", 1),
    ("sort", 1),
    ("strings", 4),
    ("switch_vm", 20),
];

fn kernel_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/kernels")
}

fn clang() -> String {
    std::env::var("CLANG").unwrap_or_else(|_| "clang".to_string())
}

/// Runs a compiler, failing the test with its output (and the toolchain
/// hint) if it cannot be started or fails.
fn compile(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run clang for {what} ({e}): {TOOLCHAIN_HINT}"));
    assert!(
        out.status.success(),
        "compiling {what} failed:\n{}\n{TOOLCHAIN_HINT}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The flags the bench compiles every kernel with, for both targets
/// (identical floating-point results: no FMA contraction).
const COMMON: [&str; 4] = ["-O2", "-ffp-contract=off", "-Wall", "-Werror"];

/// Compiles kernel `name` to wasm32 exactly as the bench does.
fn wasm(name: &str, out: &Path) -> Vec<u8> {
    let path = out.join(format!("{name}.wasm"));
    compile(
        Command::new(clang())
            .args(["--target=wasm32", "-nostdlib", "-mbulk-memory"])
            .args(COMMON)
            .args(["-Wl,--no-entry", "-o"])
            .arg(&path)
            .arg(kernel_dir().join(format!("{name}.c"))),
        &format!("{name}.c for wasm32"),
    );
    std::fs::read(&path).expect("the compiled kernel")
}

/// Compiles kernel `name` natively with a `main` that prints `run(n)`, runs
/// it and returns the result.
fn native(name: &str, n: i32, out: &Path) -> i32 {
    let main = out.join("main.c");
    std::fs::write(
        &main,
        "#include <stdio.h>\n#include <stdlib.h>\nint run(int n);\n\
         int main(int argc, char **argv) { (void)argc; printf(\"%d\\n\", run(atoi(argv[1]))); return 0; }\n",
    )
    .expect("scratch directory");
    let exe = out.join(format!("{name}.native"));
    compile(
        Command::new(clang())
            .args(COMMON)
            .arg("-o")
            .arg(&exe)
            .arg(kernel_dir().join(format!("{name}.c")))
            .arg(&main),
        &format!("{name}.c natively"),
    );
    let run = Command::new(&exe)
        .arg(n.to_string())
        .output()
        .expect("the native kernel runs");
    assert!(run.status.success(), "native {name} failed");
    String::from_utf8_lossy(&run.stdout)
        .trim()
        .parse()
        .expect("the native kernel prints its result")
}

#[test]
fn kernels_match_native_code_in_both_modes() {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kernels");
    std::fs::create_dir_all(&out).expect("scratch directory");
    // Every kernel in the directory is listed, so a new one is not missed.
    let mut on_disk: Vec<String> = std::fs::read_dir(kernel_dir())
        .expect("bench/kernels")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".c").map(str::to_string)
        })
        .collect();
    on_disk.sort();
    let listed: Vec<&str> = KERNELS.iter().map(|&(name, _)| name).collect();
    assert_eq!(on_disk, listed, "KERNELS must list every bench/kernels/*.c");
    for &(name, n) in KERNELS {
        let bytes = wasm(name, &out);
        let expect = native(name, n, &out);
        // Lazy and eager agree (checked by the helper) and match native.
        let got: i32 = common::call_in_both_modes(&bytes, "run", n);
        assert_eq!(got, expect, "{name}({n})");
    }
}
