//! The `kiln` command line, run as a process: `kiln run` and `kiln wast`.
//! The processes are run by `common::run_bounded`, bounded in time.

#[allow(dead_code)]
mod common;

use std::time::{Duration, Instant};

use common::{TRAP_STATUS, kiln, kiln_command, run_bounded, stderr, stdout, temp_file};

/// What `kiln run` printed on stderr for a trap, taken apart:
///
/// ```text
/// error: <the error's messages>
/// trap code: <the Trap variant>
/// wasm backtrace:
///     0:     0x36 - <module>!<function>
///     1: ...
/// ```
#[derive(Debug)]
struct TrapReport {
    error: String,
    code: String,
    /// `(offset, "module!function")`, innermost frame first.
    frames: Vec<(u64, String)>,
}

impl TrapReport {
    fn parse(stderr: &str) -> TrapReport {
        let mut lines = stderr.lines();
        let mut field = |prefix: &str| {
            lines
                .next()
                .and_then(|line| line.strip_prefix(prefix))
                .unwrap_or_else(|| panic!("no `{prefix}` line where expected:\n{stderr}"))
                .to_string()
        };
        let error = field("error: ");
        let code = field("trap code: ");
        assert_eq!(field("wasm backtrace:"), "", "{stderr}");
        let frames = lines
            .enumerate()
            .map(|(i, line)| {
                let (number, rest) = line
                    .split_once(": ")
                    .unwrap_or_else(|| panic!("not a frame: {line:?}\n{stderr}"));
                assert_eq!(
                    number.trim(),
                    i.to_string(),
                    "frames count from 0:\n{stderr}"
                );
                let (offset, name) = rest
                    .split_once(" - ")
                    .unwrap_or_else(|| panic!("not a frame: {line:?}\n{stderr}"));
                let offset = offset
                    .trim()
                    .strip_prefix("0x")
                    .and_then(|hex| u64::from_str_radix(hex, 16).ok())
                    .unwrap_or_else(|| panic!("not a hex offset: {line:?}\n{stderr}"));
                (offset, name.to_string())
            })
            .collect();
        TrapReport {
            error,
            code,
            frames,
        }
    }

    fn names(&self) -> Vec<&str> {
        self.frames.iter().map(|(_, name)| name.as_str()).collect()
    }

    /// The offset printed for function `name` (the start of its body).
    fn offset_of(&self, name: &str) -> u64 {
        self.frames
            .iter()
            .find(|(_, frame)| frame == name)
            .unwrap_or_else(|| panic!("no frame {name} in {self:?}"))
            .0
    }
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

/// Module `demo`: its functions are named in the `name` section except the
/// one at index 4. With argument 1, `entry` (via `middle`) and `outer` (via
/// function 4) reach `divide` with 2 and divide by zero, three calls deep;
/// with 3 they return 100 / (4 - 2).
const DEEP_TRAP: &str = r#"(module $demo
  (func $entry (export "entry") (param i32) (result i32)
    local.get 0 call $middle)
  (func $middle (param i32) (result i32)
    local.get 0 i32.const 1 i32.add call $divide)
  (func $divide (param i32) (result i32)
    i32.const 100 local.get 0 i32.const 2 i32.sub i32.div_u)
  (func $outer (export "outer") (param i32) (result i32)
    local.get 0 call 4)
  (func (param i32) (result i32)
    local.get 0 i32.const 1 i32.add call $divide))"#;

#[test]
fn run_reports_a_trap_and_exits_non_zero() {
    let path = temp_file("deep-trap.wat", DEEP_TRAP);
    let path = path.to_str().unwrap();

    // The same calls without a trap: the arguments get through.
    let out = kiln(&["run", path, "--invoke", "entry", "3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "50\n");

    let out = kiln(&["run", path, "--invoke", "entry", "1"]);
    assert_eq!(out.status.code(), TRAP_STATUS, "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let entry = TrapReport::parse(&stderr(&out));
    assert_eq!(
        entry.error,
        "failed to run `entry`: wasm trap: integer divide by zero"
    );
    assert_eq!(entry.code, "IntegerDivisionByZero");
    // Innermost first, every frame of the chain and nothing else, named
    // `module!function` from the name section.
    assert_eq!(entry.names(), ["demo!divide", "demo!middle", "demo!entry"]);

    // A function the name section leaves out is shown by its index.
    let out = kiln(&["run", path, "--invoke", "outer", "1"]);
    assert_eq!(out.status.code(), TRAP_STATUS, "{}", stderr(&out));
    let outer = TrapReport::parse(&stderr(&out));
    assert_eq!(
        outer.error,
        "failed to run `outer`: wasm trap: integer divide by zero"
    );
    assert_eq!(outer.code, "IntegerDivisionByZero");
    assert_eq!(
        outer.names(),
        ["demo!divide", "demo!<wasm function 4>", "demo!outer"]
    );

    // Each frame's offset is its own function's: the bodies lie in the
    // binary in definition order, and `divide` is at one place.
    let offsets = [
        entry.offset_of("demo!entry"),
        entry.offset_of("demo!middle"),
        entry.offset_of("demo!divide"),
        outer.offset_of("demo!outer"),
        outer.offset_of("demo!<wasm function 4>"),
    ];
    assert!(
        offsets[0] > 0 && offsets.windows(2).all(|w| w[0] < w[1]),
        "{offsets:x?}"
    );
    assert_eq!(outer.offset_of("demo!divide"), offsets[2]);
}

#[test]
fn a_trap_in_a_wasi_command_is_reported_after_its_output() {
    let path = temp_file(
        "wasi-trap.wat",
        r#"(module $cmd
             (import "wasi_snapshot_preview1" "fd_write"
               (func $fd_write (param i32 i32 i32 i32) (result i32)))
             (memory (export "memory") 1)
             (data (i32.const 16) "before the trap\n")
             (func $crash unreachable)
             (func $start (export "_start")
               (i32.store (i32.const 0) (i32.const 16))
               (i32.store (i32.const 4) (i32.const 16))
               (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
               (call $crash)))"#,
    );
    let out = kiln(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), TRAP_STATUS, "{}", stderr(&out));
    assert_eq!(stdout(&out), "before the trap\n");
    let report = TrapReport::parse(&stderr(&out));
    assert_eq!(report.code, "UnreachableCodeReached");
    assert!(
        report
            .error
            .ends_with("wasm trap: wasm `unreachable` instruction executed"),
        "{report:?}"
    );
    assert_eq!(report.names(), ["cmd!crash", "cmd!start"]);
}

#[test]
fn run_rejects_bad_input_with_a_message() {
    let out = kiln(&["run", "examples/fib.wat", "--invoke", "fib", "not-a-number"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "error: invalid i32 argument `not-a-number`\n");
    assert_eq!(stdout(&out), "");

    let out = kiln(&["run", "examples/fib.wat", "--invoke", "fib"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "error: `fib` takes 1 arguments, 0 given\n");

    let out = kiln(&["run", "examples/fib.wat", "--invoke", "missing"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: no exported function named `missing`\n"
    );

    let path = temp_file("bad.wasm", "\0asm\x01\0\0\0\x05garbage");
    let out = kiln(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let prefix = format!("error: failed to compile {}: ", path.display());
    assert!(stderr(&out).starts_with(&prefix), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
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
fn version_prints_the_package_version() {
    for flag in ["--version", "-V"] {
        let out = kiln(&[flag]);
        assert!(out.status.success(), "{flag}: {}", stderr(&out));
        assert_eq!(
            stdout(&out),
            concat!("kiln ", env!("CARGO_PKG_VERSION"), "\n")
        );
        assert_eq!(stderr(&out), "");
    }
}

#[test]
fn help_lists_the_subcommands_and_their_options() {
    let out = kiln(&["--help"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let help = stdout(&out);
    assert!(
        help.contains("\nUsage: kiln [OPTIONS] <FILE> [ARGS]...\n       kiln <COMMAND>\n"),
        "{help}"
    );
    // The "Commands:" section: one line per subcommand, name first.
    let commands: Vec<(&str, &str)> = help
        .lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| !line.is_empty())
        .map(|line| line.trim().split_once(' ').unwrap_or((line.trim(), "")))
        .collect();
    let names: Vec<&str> = commands.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, ["run", "compile", "wast", "help"], "{help}");
    assert!(commands[0].1.contains("--invoke"), "{help}");
    assert!(commands[1].1.contains(".cwasm"), "{help}");
    assert!(commands[2].1.contains(".wast"), "{help}");

    // `run --help` lists every option the README documents.
    let out = kiln(&["run", "--help"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let help = stdout(&out);
    assert!(
        help.contains("Usage: kiln run [OPTIONS] <FILE> [ARGS]..."),
        "{help}"
    );
    for option in [
        "--dir <HOST[::GUEST]>",
        "--env <NAME[=VAL]>",
        "--invoke <NAME>",
        "--preload <NAME=PATH>",
        "--fuel <N>",
        "--strategy <STRATEGY>",
        "--tier-up-budget <N>",
        "--allow-precompiled",
        "--argv0 <NAME>",
        "-W, --wasm <KEY[=VAL[,..]]>",
        "-S, --wasi <KEY[=VAL[,..]]>",
        "-C, --codegen <KEY[=VAL[,..]]>",
        "-O, --optimize <KEY[=VAL[,..]]>",
    ] {
        assert!(help.contains(option), "{option} missing:\n{help}");
    }

    let out = kiln(&["wast", "--help"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Usage: kiln wast [OPTIONS] <FILES>..."),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("--strategy <STRATEGY>"));
}

#[test]
fn usage_errors_exit_non_zero_with_a_message() {
    let cases: [(&[&str], &[&str]); 6] = [
        (
            // Without a subcommand, the first argument is the file to run.
            &["frobnicate"],
            &["error: failed to read frobnicate: "],
        ),
        // No subcommand: the help, on stderr.
        (
            &[],
            &["Usage: kiln [OPTIONS] <FILE> [ARGS]...", "Commands:"],
        ),
        // No FILE: `run`'s help, on stderr.
        (&["run"], &["Usage: kiln run [OPTIONS] <FILE> [ARGS]..."]),
        (
            &["run", "--invoke", "fib"],
            &[
                "the following required arguments were not provided",
                "<FILE>",
            ],
        ),
        (
            &["wast"],
            &[
                "the following required arguments were not provided",
                "<FILES>",
            ],
        ),
        (
            &["run", "--fuel", "lots", "examples/fib.wat"],
            &["invalid value 'lots' for '--fuel <N>'"],
        ),
    ];
    for (args, messages) in cases {
        let out = kiln(args);
        assert!(
            matches!(out.status.code(), Some(code) if code != 0),
            "kiln {args:?} exited with {}",
            out.status
        );
        assert_eq!(stdout(&out), "", "kiln {args:?}");
        for message in messages {
            assert!(
                stderr(&out).contains(message),
                "kiln {args:?}: {message:?} missing from:\n{}",
                stderr(&out)
            );
        }
    }
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
    let spin = temp_file(
        "spin.wat",
        r#"(module $spinner (func $spin (export "spin") (loop br 0)))"#,
    );
    let out = kiln(&[
        "run",
        "--fuel",
        "100000",
        "--invoke",
        "spin",
        spin.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), TRAP_STATUS);
    let report = TrapReport::parse(&stderr(&out));
    assert_eq!(
        report.error,
        "failed to run `spin`: wasm trap: all fuel consumed by WebAssembly"
    );
    assert_eq!(report.code, "OutOfFuel");
    assert_eq!(report.names(), ["spinner!spin"]);
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

#[test]
fn a_run_that_never_finishes_is_killed_and_fails_the_test() {
    // Without `--fuel` this loops forever: the watchdog must end it.
    let spin = temp_file(
        "forever.wat",
        r#"(module (func (export "spin") (loop br 0)))"#,
    );
    let cmd = kiln_command(&["run", "--invoke", "spin", spin.to_str().unwrap()]);
    let started = Instant::now();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_bounded(cmd, Duration::from_millis(300))
    }));
    let payload = result.expect_err("an endless run must fail the test");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.contains("did not finish within 300ms; killed it"),
        "{message}"
    );
    assert!(started.elapsed() < Duration::from_secs(20), "{message}");
    // The process is gone (killed and reaped), not left spinning.
    let pid = message
        .split_once("(pid ")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(pid, _)| pid.to_string())
        .unwrap_or_else(|| panic!("no pid in {message:?}"));
    if cfg!(target_os = "linux") {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "kiln (pid {pid}) still exists"
        );
    }
}

#[test]
fn every_strategy_runs_the_same_and_reports_the_same_trap() {
    let path = temp_file("strategy-trap.wat", DEEP_TRAP);
    let path = path.to_str().unwrap();
    let mut reports = Vec::new();
    for strategy in ["interpreter", "cranelift", "tiered", "auto"] {
        let out = kiln(&[
            "run",
            "--strategy",
            strategy,
            "examples/fib.wat",
            "--invoke",
            "fib",
            "20",
        ]);
        assert!(out.status.success(), "{strategy}: {}", stderr(&out));
        assert_eq!(stdout(&out), "6765\n", "{strategy}");

        let out = kiln(&[
            "run",
            "--strategy",
            strategy,
            path,
            "--invoke",
            "entry",
            "1",
        ]);
        assert_eq!(
            out.status.code(),
            TRAP_STATUS,
            "{strategy}: {}",
            stderr(&out)
        );
        let report = TrapReport::parse(&stderr(&out));
        assert_eq!(report.code, "IntegerDivisionByZero", "{strategy}");
        assert_eq!(
            report.names(),
            ["demo!divide", "demo!middle", "demo!entry"],
            "{strategy}"
        );
        reports.push(stderr(&out));
    }
    // The whole report, offsets included, is the same whatever the tier.
    assert!(reports.windows(2).all(|w| w[0] == w[1]), "{reports:#?}");

    let out = kiln(&["run", "--strategy", "winch", "examples/fib.wat"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("invalid value 'winch'"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_tiny_tier_up_budget_moves_a_run_into_native_code_with_the_same_output() {
    let path = temp_file("tier-trap.wat", DEEP_TRAP);
    let path = path.to_str().unwrap();
    for args in [
        &["run", "--strategy", "tiered", "--tier-up-budget", "0"][..],
        &[
            "run",
            "--strategy",
            "tiered",
            "--tier-up-budget",
            "1000000000",
        ][..],
    ] {
        let mut fib = args.to_vec();
        fib.extend(["examples/fib.wat", "--invoke", "fib", "25"]);
        let out = kiln(&fib);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), "75025\n", "{args:?}");
        let mut trap = args.to_vec();
        trap.extend([path, "--invoke", "entry", "1"]);
        let out = kiln(&trap);
        assert_eq!(out.status.code(), TRAP_STATUS, "{args:?}");
        let report = TrapReport::parse(&stderr(&out));
        assert_eq!(report.names(), ["demo!divide", "demo!middle", "demo!entry"]);
    }
}

#[test]
fn wast_runs_scripts_natively_with_strategy_cranelift() {
    let script = temp_file(
        "native.wast",
        r#"(module (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s))
           (assert_return (invoke "div" (i32.const 7) (i32.const 2)) (i32.const 3))
           (assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "integer divide by zero")"#,
    );
    let out = kiln(&["wast", "--strategy", "cranelift", script.to_str().unwrap()]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("1 functions ran as native code, 0 were left to the interpreter"),
        "{text}"
    );
    assert_eq!(text.lines().last(), Some("3 passed, 0 failed"));
}

#[test]
fn compile_writes_a_module_that_run_loads_with_allow_precompiled() {
    let source = temp_file(
        "precompiled-fib.wat",
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/fib.wat"))
            .unwrap(),
    );
    let source = source.to_str().unwrap();
    for strategy in ["interpreter", "cranelift", "tiered"] {
        let cwasm = source.replace(".wat", &format!("-{strategy}.cwasm"));
        let out = kiln(&["compile", "--strategy", strategy, source, "-o", &cwasm]);
        assert!(out.status.success(), "{strategy}: {}", stderr(&out));
        assert!(std::fs::read(&cwasm).unwrap().starts_with(b"\0kilnmod"));

        let out = kiln(&[
            "run",
            "--allow-precompiled",
            "--strategy",
            strategy,
            &cwasm,
            "--invoke",
            "fib",
            "20",
        ]);
        assert!(out.status.success(), "{strategy}: {}", stderr(&out));
        assert_eq!(stdout(&out), "6765\n", "{strategy}");

        // Without the flag the file is refused, with the reason.
        let out = kiln(&[
            "run",
            "--strategy",
            strategy,
            &cwasm,
            "--invoke",
            "fib",
            "20",
        ]);
        assert_eq!(out.status.code(), Some(1), "{strategy}");
        assert!(
            stderr(&out).contains("--allow-precompiled"),
            "{}",
            stderr(&out)
        );
    }

    // Native code compiled for one configuration does not load in another.
    let cwasm = source.replace(".wat", "-cranelift.cwasm");
    let out = kiln(&[
        "run",
        "--allow-precompiled",
        "--strategy",
        "interpreter",
        &cwasm,
        "--invoke",
        "fib",
        "20",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("incompatible engine"),
        "{}",
        stderr(&out)
    );

    // The default output name is the input's with `.cwasm`.
    let out = kiln(&["compile", source]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::path::Path::new(&source.replace(".wat", ".cwasm")).exists());

    let out = kiln(&["compile", "no/such/module.wasm"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no/such/module.wasm"),
        "{}",
        stderr(&out)
    );
}
