//! wasmtime's option groups on the `kiln` command line, run as a process:
//! `-W` (fuel, stack, timeout, proposals), `-S` (WASI), `-C` (strategy) and
//! `-O` (optimization), their `help`, and the usage errors for unknown
//! options and keys; `--fuel` and `--strategy` stay as aliases.

#[allow(dead_code)]
mod common;

use std::time::{Duration, Instant};

use common::{TRAP_STATUS, kiln, kiln_command, run_bounded, stderr, stdout, temp_file};

/// The strategies a run is checked in: every execution tier.
const STRATEGIES: [&str; 3] = ["interpreter", "cranelift", "tiered"];

/// Recursion `depth` calls deep; returns `depth`.
const RECURSE: &str = r#"(module
  (func $down (export "down") (param i32) (result i32)
    (if (result i32) (local.get 0)
      (then (i32.add (call $down (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))
      (else (i32.const 0)))))"#;

/// A loop that never ends.
const SPIN: &str = r#"(module (func (export "spin") (loop br 0)))"#;

/// A WASI command that writes its arguments and then its environment to
/// stdout, each string ending in a NUL byte (as WASI hands them over).
const ARGS_AND_ENV: &str = r#"(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $env_sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $env (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 4)
  ;; Writes the `len` bytes at `ptr` to stdout (iovec at 16, count at 24).
  (func $print (param $ptr i32) (param $len i32)
    (i32.store (i32.const 16) (local.get $ptr))
    (i32.store (i32.const 20) (local.get $len))
    (drop (call $write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24))))
  (func (export "_start")
    (drop (call $args_sizes (i32.const 0) (i32.const 4)))
    (drop (call $args (i32.const 1024) (i32.const 8192)))
    (call $print (i32.const 8192) (i32.load (i32.const 4)))
    (drop (call $env_sizes (i32.const 0) (i32.const 4)))
    (drop (call $env (i32.const 1024) (i32.const 65536)))
    (call $print (i32.const 65536) (i32.load (i32.const 4)))))"#;

#[test]
fn each_group_lists_its_keys_with_help() {
    let groups: [(&str, &str, &[&str]); 4] = [
        (
            "-W",
            "--wasm",
            &[
                "-W fuel=N ",
                "-W max-wasm-stack=N ",
                "-W timeout=",
                "-W simd[=y|n]",
                "-W tail-call[=y|n]",
            ],
        ),
        ("-S", "--wasi", &["-S cli[=y|n]", "-S inherit-env[=y|n]"]),
        (
            "-C",
            "--codegen",
            &["-C strategy=auto|tiered|cranelift|interpreter "],
        ),
        ("-O", "--optimize", &["-O opt-level=0|1|2|s "]),
    ];
    for (short, long, keys) in groups {
        for args in [
            vec![short, "help"],
            vec![long, "help"],
            vec!["run", short, "help"],
            // `help` wins over whatever else is on the line, as in wasmtime.
            vec![short, "help", "no-such-file.wasm"],
        ] {
            let out = kiln(&args);
            assert!(out.status.success(), "{args:?}: {}", stderr(&out));
            let help = stdout(&out);
            assert!(
                help.starts_with(&format!("Available {short} ({long}) options:\n")),
                "{args:?}:\n{help}"
            );
            for key in keys {
                assert!(help.contains(key), "{args:?}: {key} missing:\n{help}");
            }
        }
    }
    // The engine groups apply to `kiln wast` and `kiln compile` as well.
    let out = kiln(&["wast", "-C", "help"]);
    assert!(stdout(&out).contains("-C strategy="), "{}", stdout(&out));
}

#[test]
fn unknown_options_and_keys_are_usage_errors() {
    let cases: [(&[&str], &str); 9] = [
        (
            &["-W", "frobnicate", "examples/fib.wat"],
            "unknown -W / --wasm option: `frobnicate` (`-W help` lists them)",
        ),
        (
            &["run", "-S", "frobnicate", "examples/fib.wat"],
            "unknown -S / --wasi option: `frobnicate`",
        ),
        (
            &["-W", "fuel=lots", "examples/fib.wat"],
            "invalid -W option `fuel=lots`: `lots` is not a number",
        ),
        (
            &["-W", "timeout=soon", "examples/fib.wat"],
            "invalid -W option `timeout=soon`",
        ),
        (
            &["-C", "strategy=winch", "examples/fib.wat"],
            "Kiln has no Winch baseline compiler",
        ),
        (
            &["-O", "opt-level=3", "examples/fib.wat"],
            "unknown optimization level `3`",
        ),
        (
            &["-W", "tail-call", "examples/fib.wat"],
            "Kiln does not support this (the tail-call proposal)",
        ),
        (
            &["--frobnicate", "examples/fib.wat"],
            "unexpected argument '--frobnicate'",
        ),
        (
            &["compile", "-W", "frobnicate", "examples/fib.wat"],
            "unknown -W / --wasm option: `frobnicate`",
        ),
    ];
    for (args, message) in cases {
        let out = kiln(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "kiln {args:?}: {}",
            stderr(&out)
        );
        assert_eq!(stdout(&out), "", "kiln {args:?}");
        let err = stderr(&out);
        assert!(
            err.contains(message),
            "kiln {args:?}: {message:?} missing:\n{err}"
        );
        assert!(!err.contains("failed to read"), "kiln {args:?}:\n{err}");
    }
    // Turning a missing proposal off is accepted.
    let out = kiln(&[
        "-W",
        "tail-call=n",
        "--invoke",
        "fib",
        "examples/fib.wat",
        "20",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "6765\n");
}

#[test]
fn fuel_is_set_by_w_fuel_or_the_old_flag() {
    let spin = temp_file("fuel-spin.wat", SPIN);
    let spin = spin.to_str().unwrap();
    for strategy in STRATEGIES {
        let codegen = format!("strategy={strategy}");
        for fuel in [&["-W", "fuel=100000"][..], &["--fuel", "100000"]] {
            let mut args = vec!["-C", &codegen];
            args.extend_from_slice(fuel);
            args.extend_from_slice(&["--invoke", "spin", spin]);
            let out = kiln(&args);
            assert_eq!(out.status.code(), TRAP_STATUS, "{args:?}: {}", stderr(&out));
            assert!(
                stderr(&out).contains("all fuel consumed"),
                "{args:?}: {}",
                stderr(&out)
            );
        }
        // Enough fuel: the run completes.
        let out = kiln(&[
            "-C",
            &codegen,
            "-W",
            "fuel=100000",
            "--invoke",
            "fib",
            "examples/fib.wat",
            "20",
        ]);
        assert!(out.status.success(), "{strategy}: {}", stderr(&out));
        assert_eq!(stdout(&out), "6765\n");
    }
    let out = kiln(&["--fuel", "5", "-W", "fuel=6", "--invoke", "spin", spin]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("disagree"), "{}", stderr(&out));
}

#[test]
fn max_wasm_stack_bounds_recursion() {
    let path = temp_file("recurse.wat", RECURSE);
    let path = path.to_str().unwrap();
    for strategy in STRATEGIES {
        let codegen = format!("strategy={strategy}");
        let deep = ["-C", &codegen, "--invoke", "down", path, "5000"];
        let out = kiln(&deep);
        assert!(out.status.success(), "{strategy}: {}", stderr(&out));
        assert_eq!(stdout(&out), "5000\n");

        let mut small = vec!["-W", "max-wasm-stack=16384"];
        small.extend_from_slice(&deep);
        let out = kiln(&small);
        assert_eq!(
            out.status.code(),
            TRAP_STATUS,
            "{strategy}: {}",
            stderr(&out)
        );
        assert!(
            stderr(&out).contains("call stack exhausted"),
            "{strategy}: {}",
            stderr(&out)
        );
        // Shallow recursion still fits in the small stack.
        *small.last_mut().unwrap() = "10";
        let out = kiln(&small);
        assert!(out.status.success(), "{strategy}: {}", stderr(&out));
        assert_eq!(stdout(&out), "10\n");
    }
}

#[test]
fn timeout_interrupts_a_run_that_takes_too_long() {
    let spin = temp_file("timeout-spin.wat", SPIN);
    let spin = spin.to_str().unwrap();
    for strategy in STRATEGIES {
        let codegen = format!("strategy={strategy}");
        let started = Instant::now();
        let out = kiln(&[
            "-W",
            "timeout=300ms",
            "-C",
            &codegen,
            "--invoke",
            "spin",
            spin,
        ]);
        assert_eq!(
            out.status.code(),
            TRAP_STATUS,
            "{strategy}: {}",
            stderr(&out)
        );
        assert!(
            stderr(&out).starts_with(
                "error: timed out after 300ms: failed to run `spin`: wasm trap: interrupt\n"
            ),
            "{strategy}: {}",
            stderr(&out)
        );
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{strategy}: {:?}",
            started.elapsed()
        );
        // A run that finishes in time is not disturbed.
        let out = kiln(&[
            "-W",
            "timeout=30s",
            "-C",
            &codegen,
            "--invoke",
            "fib",
            "examples/fib.wat",
            "20",
        ]);
        assert!(out.status.success(), "{strategy}: {}", stderr(&out));
        assert_eq!(stdout(&out), "6765\n");
    }
}

#[test]
fn strategy_is_set_by_c_strategy_or_the_old_flag() {
    // An explanation of which tier ran is only visible through the
    // native-code report of `kiln wast`.
    let script = temp_file(
        "strategy.wast",
        r#"(module (func (export "one") (result i32) (i32.const 1)))
           (assert_return (invoke "one") (i32.const 1))"#,
    );
    let script = script.to_str().unwrap();
    for args in [
        &["wast", "-C", "strategy=cranelift", script][..],
        &["wast", "-C", "compiler=cranelift", script],
        &["wast", "--strategy", "cranelift", script],
    ] {
        let out = kiln(args);
        assert!(out.status.success(), "{args:?}: {}", stdout(&out));
        assert!(
            stdout(&out).contains("1 functions ran as native code"),
            "{args:?}: {}",
            stdout(&out)
        );
    }
    let out = kiln(&["wast", "-C", "strategy=interpreter", script]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(!stdout(&out).contains("native code"), "{}", stdout(&out));

    let out = kiln(&[
        "--strategy",
        "cranelift",
        "-C",
        "strategy=interpreter",
        "examples/fib.wat",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--strategy cranelift and -C strategy=interpreter disagree"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn opt_level_shapes_the_compiled_code() {
    let dir = temp_file("opt-level.wat", "")
        .parent()
        .unwrap()
        .to_path_buf();
    let cwasm = dir.join("fib-o0.cwasm");
    let cwasm = cwasm.to_str().unwrap();
    let out = kiln(&[
        "compile",
        "-C",
        "strategy=cranelift",
        "-O",
        "opt-level=0",
        "-o",
        cwasm,
        "examples/fib.wat",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let run = |level: &str| {
        kiln(&[
            "--allow-precompiled",
            "-C",
            "strategy=cranelift",
            "-O",
            level,
            "--invoke",
            "fib",
            cwasm,
            "20",
        ])
    };
    let out = run("opt-level=0");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "6765\n");
    // Compiled at another level, the code does not load.
    let out = run("opt-level=2");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("incompatible engine"),
        "{}",
        stderr(&out)
    );
}

/// Runs `kiln args` with the environment variable `KILN_TEST_MARKER` set,
/// and returns stdout's NUL-terminated strings.
fn strings_of(args: &[&str]) -> Vec<String> {
    let mut cmd = kiln_command(args);
    cmd.env("KILN_TEST_MARKER", "from-the-host");
    let out = run_bounded(cmd, common::TIMEOUT);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    let text = stdout(&out);
    assert!(text.ends_with('\0'), "{text:?}");
    text.trim_end_matches('\0')
        .split('\0')
        .map(str::to_string)
        .collect()
}

#[test]
fn wasi_options_and_argv0() {
    let path = temp_file("args-and-env.wat", ARGS_AND_ENV);
    let path = path.to_str().unwrap();

    // argv[0] is the file's name without its directories; the environment
    // is empty unless asked for.
    assert_eq!(
        strings_of(&[path, "a b", "c"]),
        ["args-and-env.wat", "a b", "c"]
    );
    assert_eq!(strings_of(&["--argv0", "prog", path, "x"]), ["prog", "x"]);
    assert_eq!(
        strings_of(&["--env", "A=1", path]),
        ["args-and-env.wat", "A=1"]
    );

    // `-S inherit-env` passes the host's variables; `--env` still adds.
    let strings = strings_of(&["-S", "inherit-env", "--env", "A=1", path]);
    assert!(
        strings.contains(&"KILN_TEST_MARKER=from-the-host".to_string()),
        "{strings:?}"
    );
    assert!(strings.contains(&"A=1".to_string()), "{strings:?}");
    let strings = strings_of(&["-S", "inherit-env=n", path]);
    assert_eq!(strings, ["args-and-env.wat"]);

    // `-S cli=n`: no WASI, so the command's imports are unknown.
    let out = kiln(&["-S", "cli=n", path]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("wasi_snapshot_preview1"),
        "{}",
        stderr(&out)
    );
}
