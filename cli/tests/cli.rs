//! The `kiln` command line, run as a process: `kiln run` and `kiln wast`.

use std::io::Write;
use std::process::{Command, Output};

fn kiln(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        // The workspace root, where `examples/` is.
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("run the kiln binary")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("kiln-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(contents.as_bytes())
        .unwrap();
    path
}

#[test]
fn run_invokes_a_function_and_prints_results() {
    let out = kiln(&["run", "examples/fib.wat", "--invoke", "fib", "20"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "6765\n");
}

#[test]
fn run_prints_each_result_on_its_own_line_and_parses_typed_args() {
    let path = temp_file(
        "multi.wat",
        r#"(module (func (export "f") (param i64 f64) (result i64 f64 i32)
             local.get 0 i64.const 1 i64.add local.get 1 f64.const 2 f64.mul i32.const -7))"#,
    );
    let out = kiln(&[
        "run",
        path.to_str().unwrap(),
        "--invoke",
        "f",
        "0x10",
        "1.25",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "17\n2.5\n-7\n");
}

#[test]
fn run_reports_a_trap_and_exits_non_zero() {
    let path = temp_file(
        "trap.wat",
        r#"(module (func $boom (export "boom") (result i32) i32.const 1 i32.const 0 i32.div_s))"#,
    );
    let out = kiln(&["run", path.to_str().unwrap(), "--invoke", "boom"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("integer divide by zero"), "{err}");
    assert!(err.contains("boom"), "backtrace names the function: {err}");
}

#[test]
fn run_rejects_bad_input_with_a_message() {
    let out = kiln(&["run", "examples/fib.wat", "--invoke", "fib", "not-a-number"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("error"), "{}", stderr(&out));

    let out = kiln(&["run", "examples/fib.wat", "--invoke", "missing"]);
    assert_eq!(out.status.code(), Some(1));

    let path = temp_file("bad.wasm", "\0asm\x01\0\0\0\x05garbage");
    let out = kiln(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn wast_runs_scripts_and_prints_the_closing_line() {
    let good = temp_file(
        "good.wast",
        r#"(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
           (assert_return (invoke "add" (i32.const 2) (i32.const 3)) (i32.const 5))
           (assert_trap (module (func (export "u") unreachable) (start 0)) "unreachable")"#,
    );
    let out = kiln(&["wast", good.to_str().unwrap()]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(stdout(&out).lines().last(), Some("3 passed, 0 failed"));

    let bad = temp_file(
        "bad.wast",
        r#"(module (func (export "one") (result i32) i32.const 1))
           (assert_return (invoke "one") (i32.const 2))"#,
    );
    let out = kiln(&["wast", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out).lines().last(), Some("1 passed, 1 failed"));
}

#[test]
fn version_and_help() {
    let out = kiln(&["--version"]);
    assert!(out.status.success());
    assert!(stdout(&out).starts_with("kiln "), "{}", stdout(&out));
    let out = kiln(&["--help"]);
    assert!(stdout(&out).contains("run") && stdout(&out).contains("wast"));
}

#[test]
fn run_accepts_invoke_before_the_file_like_wasmtime() {
    let out = kiln(&["run", "--invoke", "fib", "examples/fib.wat", "20"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "6765\n");
}

#[test]
fn run_gives_a_wat_command_wasi_and_exits_with_its_code() {
    // No C toolchain needed: a hand-written WASI command.
    let path = temp_file(
        "wasi-hello.wat",
        r#"(module
             (import "wasi_snapshot_preview1" "fd_write"
               (func $fd_write (param i32 i32 i32 i32) (result i32)))
             (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
             (memory (export "memory") 1)
             (data (i32.const 16) "hi from wasi\n")
             (func (export "_start")
               (i32.store (i32.const 0) (i32.const 16))
               (i32.store (i32.const 4) (i32.const 13))
               (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
               (call $proc_exit (i32.const 3))
               unreachable))"#,
    );
    let out = kiln(&["run", path.to_str().unwrap()]);
    assert_eq!(stdout(&out), "hi from wasi\n");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
}

#[test]
fn run_preloads_modules_under_a_name() {
    let lib = temp_file(
        "lib.wat",
        r#"(module (func (export "double") (param i32) (result i32)
             local.get 0 i32.const 2 i32.mul))"#,
    );
    let main = temp_file(
        "main.wat",
        r#"(module (import "math" "double" (func $double (param i32) (result i32)))
             (func (export "quadruple") (param i32) (result i32)
               local.get 0 call $double call $double))"#,
    );
    let preload = format!("math={}", lib.display());
    let out = kiln(&[
        "run",
        "--preload",
        &preload,
        "--invoke",
        "quadruple",
        main.to_str().unwrap(),
        "5",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "20\n");

    // Without the preload the import is unknown.
    let out = kiln(&["run", main.to_str().unwrap(), "--invoke", "quadruple", "5"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("math::double"), "{}", stderr(&out));
}

#[test]
fn run_reports_a_missing_file_and_a_bad_dir() {
    let out = kiln(&["run", "no/such/file.wasm"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("failed to read"), "{}", stderr(&out));

    let out = kiln(&["run", "--dir", "no/such/dir", "examples/hello.wat"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no/such/dir"), "{}", stderr(&out));
}

#[test]
fn fuel_bounds_a_run() {
    let spin = temp_file("spin.wat", r#"(module (func (export "spin") (loop br 0)))"#);
    let out = kiln(&[
        "run",
        "--fuel",
        "100000",
        "--invoke",
        "spin",
        spin.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("all fuel consumed"),
        "{}",
        stderr(&out)
    );
    // Enough fuel: the program finishes normally.
    let out = kiln(&[
        "run",
        "--fuel",
        "100000",
        "examples/fib.wat",
        "--invoke",
        "fib",
        "10",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "55\n");
}
