//! Tests of the runner itself, with the real engine: each checks that a
//! directive passes when Kiln behaves as the script says and fails (with a
//! useful message) when it does not.

use super::{Skip, WastRunner, run_script};

/// Runs `script` and returns (passed, failed, failure messages).
fn run(script: &str) -> (usize, usize, Vec<String>) {
    let r = run_script("test.wast", script);
    let messages = r.failures.iter().map(|f| f.to_string()).collect();
    (r.passed, r.failed, messages)
}

const MODULE: &str = r#"
(module
  (global (export "g") i32 (i32.const 7))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "nan") (result f32) (f32.div (f32.const 0) (f32.const 0)))
  (func (export "id") (param externref) (result externref) (local.get 0))
  (func (export "null") (result funcref) (ref.null func))
  (func $f (export "self") (result funcref) (ref.func $f))
  (func $loop (export "loop") (call $loop)))
"#;

#[test]
fn assert_return_compares_values() {
    let script = format!(
        r#"{MODULE}
        (assert_return (invoke "div" (i32.const 7) (i32.const 2)) (i32.const 3))
        (assert_return (invoke "div" (i32.const 7) (i32.const 2)) (i32.const 4))
        (assert_return (invoke "nan") (f32.const nan:canonical))
        (assert_return (invoke "nan") (f32.const 0))
        (assert_return (get "g") (i32.const 7))
        (assert_return (invoke "div" (i32.const 1) (i32.const 1)))
        "#
    );
    let (passed, failed, messages) = run(&script);
    assert_eq!((passed, failed), (4, 3), "{messages:#?}");
    assert_eq!(
        messages[0],
        "test.wast:12:10: assert_return: result 0: expected i32 4, got i32 3"
    );
    assert!(messages[1].contains("expected f32 0 (0x00000000), got f32 NaN"));
    assert!(messages[2].contains("expected 0 results, got 1"));
}

#[test]
fn references_are_matched_by_kind_and_host_value() {
    let script = format!(
        r#"{MODULE}
        (assert_return (invoke "id" (ref.extern 5)) (ref.extern 5))
        (assert_return (invoke "id" (ref.extern 5)) (ref.extern 6))
        (assert_return (invoke "id" (ref.null extern)) (ref.null extern))
        (assert_return (invoke "id" (ref.extern 1)) (ref.extern))
        (assert_return (invoke "null") (ref.null func))
        (assert_return (invoke "null") (ref.null extern))
        (assert_return (invoke "self") (ref.func))
        (assert_return (invoke "self") (ref.null func))
        "#
    );
    let (passed, failed, messages) = run(&script);
    assert_eq!((passed, failed), (6, 3), "{messages:#?}");
    assert!(messages[0].contains("expected ref.extern 6, got ref.extern 5"));
    assert!(messages[1].contains("expected ref.null extern, got ref.null func"));
    assert!(messages[2].contains("expected ref.null func, got ref.func"));
}

#[test]
fn assert_trap_requires_a_matching_trap() {
    let script = format!(
        r#"{MODULE}
        (assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "integer divide by zero")
        (assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "integer overflow")
        (assert_trap (invoke "div" (i32.const 1) (i32.const 1)) "integer divide by zero")
        (assert_trap (invoke "missing") "")
        (assert_exhaustion (invoke "loop") "call stack exhausted")
        "#
    );
    let (passed, failed, messages) = run(&script);
    assert_eq!((passed, failed), (3, 3), "{messages:#?}");
    assert!(messages[0].contains("expected a trap (\"integer overflow\"), got:"));
    assert!(messages[1].contains("got [i32 1]"));
    // A missing export is a script error, even when any message would match.
    assert!(messages[2].contains("no export named `missing`"));
}

#[test]
fn module_assertions() {
    let script = r#"
        (assert_invalid (module (func (result i32))) "type mismatch")
        (assert_invalid (module (func)) "nothing wrong")
        (assert_malformed (module quote "(func") "unexpected end")
        (assert_malformed (module binary "\00asm\01\00\00\00\ff") "malformed section id")
        (assert_malformed (module binary "\00asm\01\00\00\00") "fine")
        (assert_unlinkable (module (import "spectest" "nope" (func))) "unknown import")
        (assert_unlinkable (module (import "spectest" "print_i32" (func))) "incompatible import type")
        (assert_trap (module (func $s unreachable) (start $s)) "unreachable")
        (assert_unlinkable (module) "nothing to link")
    "#;
    let (passed, failed, messages) = run(script);
    assert_eq!((passed, failed), (6, 3), "{messages:#?}");
    assert!(messages[0].contains("assert_invalid: expected the module to be invalid"));
    assert!(messages[1].contains("assert_malformed: expected the module to be malformed"));
    assert!(messages[2].contains("assert_unlinkable: expected instantiation to fail"));
}

#[test]
fn register_links_instances_by_name() {
    let script = r#"
        (module $a (func (export "f") (result i32) (i32.const 11)))
        (register "A" $a)
        (module $b
          (import "A" "f" (func $f (result i32)))
          (import "spectest" "global_i32" (global i32))
          (import "spectest" "memory" (memory 1))
          (import "spectest" "table" (table 10 funcref))
          (import "spectest" "print_i32" (func (param i32)))
          (func (export "g") (result i32) (i32.add (call $f) (global.get 0))))
        (assert_return (invoke "g") (i32.const 677))
        (assert_return (invoke $a "f") (i32.const 11))
        (assert_return (invoke $b "g") (i32.const 677))
        (invoke $c "g")
    "#;
    let (passed, failed, messages) = run(script);
    assert_eq!((passed, failed), (6, 1), "{messages:#?}");
    assert!(messages[0].contains("no instance named `$c`"));
}

#[test]
fn a_failed_module_is_not_left_current() {
    let script = r#"
        (module (func (export "f") (result i32) (i32.const 1)))
        (module (import "nowhere" "x" (func)) (func (export "f") (result i32) (i32.const 2)))
        (assert_return (invoke "f") (i32.const 1))
    "#;
    let (passed, failed, messages) = run(script);
    assert_eq!((passed, failed), (1, 2), "{messages:#?}");
    // The invoke failed because the module did: it counts on its line.
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert!(messages[0].contains("instantiation failed"));
    assert!(
        messages[0].ends_with("[1 later directive needed this module: counted as failed]"),
        "{messages:#?}"
    );

    // With no module at all, the invoke fails on its own line.
    let (passed, failed, messages) = run(r#"(assert_return (invoke "f") (i32.const 1))"#);
    assert_eq!((passed, failed), (0, 1), "{messages:#?}");
    assert!(
        messages[0].contains("no module is instantiated"),
        "{messages:#?}"
    );
}

#[test]
fn directives_that_needed_a_failed_module_count_on_its_entry() {
    let script = r#"
        (module $m (import "nowhere" "x" (func)) (func (export "f") (result i32) (i32.const 2)))
        (assert_return (invoke "f") (i32.const 2))
        (assert_trap (invoke "f") "unreachable")
        (assert_return (get "g") (i32.const 1))
        (invoke $m "f")
        (register "M" $m)
        (module $user (import "M" "f" (func (result i32))))
        (assert_return (invoke $user "f") (i32.const 2))
        (assert_return (invoke "f") (i32.const 2))
        (module definition $d (func (export "h") (result i32) (i64.const 0)))
        (module instance $i $d)
        (assert_return (invoke $i "h") (i32.const 0))
        (module (func (export "ok") (result i32) (i32.const 5)))
        (assert_return (invoke "ok") (i32.const 5))
        (assert_return (invoke "ok") (i32.const 6))
        (assert_return (invoke $m "f") (i32.const 2))
        (assert_return (invoke $nobody "f") (i32.const 2))
    "#;
    let r = run_script("test.wast", script);
    let messages: Vec<String> = r.failures.iter().map(|f| f.to_string()).collect();
    // Every directive counts exactly once: 2 pass, 15 fail.
    assert_eq!((r.passed, r.failed), (2, 15), "{messages:#?}");
    // One line each for: the module $m, with 9 dependents (the 8
    // directives after it up to the definition, including `register`, $user
    // which imports the name $m would have registered, and the directives
    // on $user; and `invoke $m` after a later module succeeded); the
    // invalid definition, with 2 (the instance of it and its invoke); the
    // wrong result; and the unknown `$nobody`.
    let lines: Vec<(usize, &str, usize)> = r
        .failures
        .iter()
        .map(|f| (f.location.line, f.directive, f.dependents))
        .collect();
    assert_eq!(
        lines,
        [
            (2, "module", 9),
            (11, "module definition", 2),
            (16, "assert_return", 0),
            (18, "assert_return", 0),
        ],
        "{messages:#?}"
    );
    assert_eq!(
        lines.iter().map(|l| 1 + l.2).sum::<usize>(),
        r.failed,
        "{messages:#?}"
    );
    assert!(
        messages[0].contains("instantiation failed"),
        "{messages:#?}"
    );
    assert!(
        messages[2].contains("expected i32 6, got i32 5"),
        "{messages:#?}"
    );
    assert!(
        messages[3].contains("no instance named `$nobody`"),
        "{messages:#?}"
    );
}

#[test]
fn module_definitions_can_be_instantiated_later() {
    let script = r#"
        (module definition $d (func (export "f") (result i32) (i32.const 3)))
        (module instance $i $d)
        (assert_return (invoke $i "f") (i32.const 3))
        (assert_return (invoke "f") (i32.const 3))
    "#;
    let (passed, failed, messages) = run(script);
    assert_eq!((passed, failed), (4, 0), "{messages:#?}");
}

#[test]
fn unsupported_directives_fail_instead_of_being_ignored() {
    let script = r#"
        (module (func (export "v") (result v128) (v128.const i32x4 0 0 0 0)))
        (assert_return (invoke "v") (v128.const i32x4 0 0 0 0))
        (assert_invalid_custom (module) "x")
        (thread $t (module))
        (wait $t)
    "#;
    let r = run_script("test.wast", script);
    assert_eq!(r.passed + r.failed, 5);
    assert!(r.failed >= 4, "{:#?}", r.failures);
    assert!(
        r.failures
            .iter()
            .any(|f| f.message.contains("threads are not supported"))
    );
}

#[test]
fn unparseable_scripts_are_one_failure() {
    let (passed, failed, messages) = run("(module (func)) (assert_return");
    assert_eq!((passed, failed), (0, 1));
    assert!(messages[0].starts_with("test.wast:1:"), "{messages:?}");
    assert!(messages[0].contains("failed to parse script"));
}

#[test]
fn skipped_directives_are_listed_not_counted() {
    const SKIPS: &[Skip] = &[Skip {
        file: "s.wast",
        line: 2,
        reason: "demonstration",
    }];
    let script = "(module)\n(assert_return (invoke \"missing\"))\n(module)";
    let runner = WastRunner::new().skips(SKIPS);
    let r = runner.run_script("s.wast", script);
    assert_eq!((r.passed, r.failed), (2, 0));
    assert_eq!(r.skipped.len(), 1);
    assert_eq!(
        r.skipped[0].to_string(),
        "s.wast:2:2: assert_return: demonstration"
    );
    // The same line in another file is not skipped.
    let other = runner.run_script("t.wast", script);
    assert_eq!((other.passed, other.failed), (2, 1));
}

#[test]
fn assert_trap_matches_the_trap_message_not_the_backtrace() {
    // `$unreachable` divides by zero: its name is in the backtrace, but the
    // trap is a division by zero, so "unreachable" must not match.
    let script = r#"
        (module $m
          (func $unreachable (export "f") (result i32) (i32.div_u (i32.const 1) (i32.const 0)))
          (func (export "g") (result i32) (call $unreachable)))
        (assert_trap (invoke "f") "unreachable")
        (assert_trap (invoke "g") "unreachable")
        (assert_trap (invoke "f") "integer divide by zero")
        (assert_trap (invoke "g") "integer divide by zero")
    "#;
    let (passed, failed, messages) = run(script);
    assert_eq!((passed, failed), (3, 2), "{messages:#?}");
    for message in &messages {
        assert!(
            message.contains(
                "expected a trap (\"unreachable\"), got: wasm trap: integer divide by zero"
            ),
            "{message}"
        );
    }
}

#[test]
fn an_empty_expected_message_still_needs_a_trap() {
    let script = r#"
        (module
          (func (export "ok") (result i32) (i32.const 1))
          (func (export "trap") unreachable)
          (func $f (export "deep") (call $f)))
        (assert_trap (invoke "trap") "")
        (assert_trap (invoke "ok") "")
        (assert_exhaustion (invoke "deep") "")
        (assert_exhaustion (invoke "ok") "")
    "#;
    let (passed, failed, messages) = run(script);
    assert_eq!((passed, failed), (3, 2), "{messages:#?}");
    assert!(messages[0].contains("expected a trap (\"\"), got [i32 1]"));
    assert!(messages[1].contains("expected a trap (\"\"), got [i32 1]"));
}

#[test]
fn the_phase_of_a_failure_must_be_the_expected_one() {
    let script = r#"
        (assert_unlinkable (module (func $s unreachable) (start $s)) "unreachable")
        (assert_trap (module (import "spectest" "nope" (func))) "")
        (assert_unlinkable (module (func (result i32))) "type mismatch")
        (assert_trap (module (func (result i32))) "")
        (assert_unlinkable (module (import "spectest" "nope" (func))) "unknown import")
        (assert_trap (module (func $s unreachable) (start $s)) "unreachable")
    "#;
    let (passed, failed, messages) = run(script);
    assert_eq!((passed, failed), (2, 4), "{messages:#?}");
    // A trap in the start function is not a link error.
    assert!(messages[0].contains("expected a link error, but instantiation trapped"));
    // A link error is not a trap.
    assert!(messages[1].contains("got an error that is not a trap"));
    // An invalid module is neither: it fails before linking.
    assert!(messages[2].contains("compilation failed"));
    assert!(messages[3].contains("compilation failed"));
}

#[test]
fn quoted_modules_go_through_kilns_text_path() {
    // A quoted module is text for `Module::new`; a valid one runs, and its
    // malformed and invalid siblings are refused by Kiln, not the script
    // parser.
    let script = r#"
        (module quote "(func (export \"f\") (result i32)" "(i32.const 42))")
        (assert_return (invoke "f") (i32.const 42))
        (assert_malformed (module quote "(func (result i32) (i32.const 0x1_))") "unknown operator")
        (assert_invalid (module quote "(func (result i32))") "type mismatch")
        (assert_malformed (module quote "(func (export \"f\") (result i32) (i32.const 1))") "ok")
    "#;
    let (passed, failed, messages) = run(script);
    assert_eq!((passed, failed), (4, 1), "{messages:#?}");
    assert!(messages[0].contains("expected the module to be malformed, but it compiled"));
}
