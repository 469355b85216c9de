//! `kiln FILE ARGS` without a subcommand, the help that shows ARGS, how a
//! failure is reported (a shortened backtrace, a text-format error naming
//! the file) and `kiln wast`'s report of a module that failed, run as a
//! process.

#[allow(dead_code)]
mod common;

use common::{TRAP_STATUS, kiln, stderr, stdout, temp_file};

#[test]
fn a_file_without_a_subcommand_runs_as_kiln_run_does() {
    for args in [
        &["--invoke", "fib", "examples/fib.wat", "20"][..],
        &["run", "--invoke", "fib", "examples/fib.wat", "20"],
        // The older order, `--invoke` right after the file.
        &["examples/fib.wat", "--invoke", "fib", "20"],
        &["run", "examples/fib.wat", "--invoke", "fib", "20"],
    ] {
        let out = kiln(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), "6765\n", "{args:?}");
    }
    let out = kiln(&["examples/hello.wat"]);
    let with_run = kiln(&["run", "examples/hello.wat"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&out).is_empty());
    assert_eq!(stdout(&out), stdout(&with_run));

    // Options after FILE are the program's, not Kiln's.
    let out = kiln(&["examples/fib.wat", "--invoke", "fib", "--fuel"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "error: invalid i32 argument `--fuel`\n");
}

#[test]
fn help_shows_the_programs_arguments() {
    for args in [&["--help"][..], &["run", "--help"]] {
        let out = kiln(args);
        assert!(out.status.success(), "{}", stderr(&out));
        let help = stdout(&out);
        assert!(help.contains("<FILE> [ARGS]..."), "{args:?}:\n{help}");
        assert!(
            help.contains("ARGS: everything after it, the program's arguments"),
            "{args:?}:\n{help}"
        );
    }
    let help = stdout(&kiln(&["--help"]));
    assert!(
        help.contains("`kiln [OPTIONS] FILE [ARGS]...` runs FILE as `kiln run` does"),
        "{help}"
    );
}

/// A function that calls itself until the stack runs out.
const FOREVER: &str = r#"(module $rec
  (func $deeper (export "deeper") (call $deeper)))"#;

#[test]
fn an_endless_recursion_prints_the_20_innermost_frames() {
    let path = temp_file("forever.wat", FOREVER);
    for strategy in ["interpreter", "cranelift", "tiered"] {
        let codegen = format!("strategy={strategy}");
        let out = kiln(&["-C", &codegen, "--invoke", "deeper", path.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            TRAP_STATUS,
            "{strategy}: {}",
            stderr(&out)
        );
        let err = stderr(&out);
        let lines: Vec<&str> = err.lines().collect();
        assert!(
            lines[0].contains("call stack exhausted"),
            "{strategy}: {}",
            lines[0]
        );
        assert_eq!(lines[2], "wasm backtrace:", "{strategy}");
        // The engine keeps the 20 innermost frames, as wasmtime's default
        // `wasm_backtrace_max_frames` does: an endless recursion prints 20
        // lines, not one per frame.
        let frames = &lines[3..];
        let numbers: Vec<usize> = frames
            .iter()
            .map(|line| {
                let (number, rest) = line.split_once(": ").expect("a frame line");
                assert!(rest.ends_with(" - rec!deeper"), "{line}");
                number.trim().parse().expect("a frame number")
            })
            .collect();
        assert_eq!(numbers, (0..20).collect::<Vec<_>>(), "{strategy}:\n{err}");
    }
}

#[test]
fn a_text_format_error_names_the_file_line_and_column() {
    let path = temp_file(
        "broken.wat",
        "(module\n  (func (export \"f\") (result i32)\n    (i32.const nope)))\n",
    );
    let out = kiln(&[path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let shown = path.display().to_string();
    assert!(
        err.starts_with(&format!("error: failed to parse {shown}: ")),
        "{err}"
    );
    assert!(err.contains(&format!("{shown}:3:16")), "{err}");

    // A module that parses but is invalid also names the file.
    let path = temp_file(
        "invalid.wat",
        "(module (func (export \"f\") (result i32) (i64.const 1)))",
    );
    let out = kiln(&[path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with(&format!("error: failed to compile {}: ", path.display())),
        "{}",
        stderr(&out)
    );
}

#[test]
fn wast_reports_a_failed_module_once_and_counts_what_needed_it() {
    // An unsupported module (SIMD) followed by 300 directives that need it.
    let mut script = String::from(
        "(module (func (export \"one\") (result i32) (i32.const 1)))\n\
         (assert_return (invoke \"one\") (i32.const 1))\n\
         (module (func (export \"v\") (result v128) (v128.const i64x2 0 0)))\n",
    );
    for _ in 0..300 {
        script += "(assert_return (invoke \"v\") (v128.const i64x2 0 0))\n";
    }
    script += "(module (func (export \"two\") (result i32) (i32.const 2)))\n\
               (assert_return (invoke \"two\") (i32.const 3))\n";
    let path = temp_file("simd.wast", &script);
    let name = path.display().to_string();
    let out = kiln(&["wast", "-C", "strategy=interpreter", &name]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = stdout(&out);
    let failures: Vec<&str> = report.lines().filter(|l| l.starts_with("FAIL ")).collect();
    assert_eq!(failures.len(), 2, "{report}");
    assert!(
        failures[0].starts_with(&format!("FAIL {name}:3:2: module: compilation failed")),
        "{report}"
    );
    assert!(
        failures[0].ends_with("[300 later directives needed this module: counted as failed]"),
        "{report}"
    );
    assert!(
        failures[1].starts_with(&format!("FAIL {name}:305:2: assert_return: ")),
        "{report}"
    );
    // Every directive still counts: 3 passed, 302 failed.
    let summary: Vec<&str> = report.lines().skip(2).collect();
    assert_eq!(
        summary,
        [
            format!("{name}: 3 passed, 302 failed").as_str(),
            "0 skipped directives",
            "3 passed, 302 failed"
        ],
        "{report}"
    );
}
