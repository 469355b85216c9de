//! The benchmark kernels (`bench/kernels/*.c`) as a correctness test: each
//! is compiled with clang for wasm32 (freestanding, as the bench does) and
//! natively, and `run(n)` must return the same value under Kiln, in every
//! tier (interpreter lazy and eager, Cranelift), as natively. Real compiled C exercises the translator's
//! fusions in the combinations clang actually emits, which the hand-written
//! tests only sample; the bench checks the same thing but is not part of
//! `cargo test`.
//!
//! `n` is much smaller than the bench's, so this runs in seconds in a debug
//! build. A missing toolchain fails the test with the install command (the
//! CI script installs it); it never passes silently. `CLANG` (default
//! `clang`) overrides the compiler.
//!
//! Nothing here can hang the suite: clang and the native kernels run as
//! processes killed after [`LIMIT`], and each kernel runs under Kiln on a
//! thread the test stops waiting for after [`LIMIT`] (a kernel stuck in a
//! loop cannot be stopped from outside without changing the engine's
//! configuration, so it is left spinning until the test process exits).

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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

/// How long one compiler run, one native kernel or one kernel under Kiln
/// (every tier) may take before the test fails; each takes well under a
/// second.
const LIMIT: Duration = Duration::from_secs(60);

/// Runs `cmd` like `Command::output` (stdin closed, output read on
/// threads), but kills it and fails the test if it runs longer than
/// [`LIMIT`]. `Err` if it cannot be started.
fn output_within_limit(cmd: &mut Command, what: &str) -> std::io::Result<Output> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdout = drain(child.stdout.take().expect("piped stdout"));
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {LIMIT:?}; killed it");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Ok(Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    })
}

/// Reads `pipe` to its end on a thread.
fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// Runs a compiler, failing the test with its output (and the toolchain
/// hint) if it cannot be started or fails.
fn compile(cmd: &mut Command, what: &str) {
    let out = output_within_limit(cmd, &format!("compiling {what}"))
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
    let run = output_within_limit(
        Command::new(&exe).arg(n.to_string()),
        &format!("native {name}({n})"),
    )
    .expect("the native kernel runs");
    assert!(run.status.success(), "native {name} failed");
    String::from_utf8_lossy(&run.stdout)
        .trim()
        .parse()
        .expect("the native kernel prints its result")
}

#[test]
fn kernels_match_native_code_in_every_tier() {
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
        // Every tier agrees (checked by the helper) and matches native.
        let got = in_every_tier_within_limit(name, bytes, n);
        assert_eq!(got, expect, "{name}({n})");
    }
}

/// `common::call_in_every_tier(bytes, "run", n)` on its own thread, failing
/// the test if it has not returned within [`LIMIT`]; a panic in it (lazy
/// and eager disagree, a trap) is passed on.
fn in_every_tier_within_limit(name: &str, bytes: Vec<u8>, n: i32) -> i32 {
    let (done, finished) = channel();
    let worker = std::thread::Builder::new()
        .name(format!("kernel {name}"))
        .spawn(move || {
            let result: i32 = common::call_in_every_tier(&bytes, "run", n);
            // The receiver is gone only after a timeout has failed the test.
            let _ = done.send(result);
        })
        .expect("spawn the kernel thread");
    match finished.recv_timeout(LIMIT) {
        Ok(result) => {
            worker.join().expect("the kernel thread");
            result
        }
        // Dropped without a result: the run panicked; pass the panic on.
        Err(RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the kernel thread ended without a result"),
        },
        Err(RecvTimeoutError::Timeout) => {
            panic!(
                "{name}({n}) under Kiln did not finish within {LIMIT:?} (lazy, eager, cranelift)"
            )
        }
    }
}
