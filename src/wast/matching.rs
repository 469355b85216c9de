//! The engine-independent halves of the assertions: float patterns and trap
//! messages.
//!
//! These are pure functions over bits and strings so that they can be tested
//! without an engine, and so that every place that compares a result (the
//! `assert_return` of a float, a lane of an `either`, a trap message) applies
//! exactly the same rule.

use ::wast::core::NanPattern;
use ::wast::token::{F32, F64};

/// Sign-less bits of the canonical `f32` NaN (quiet bit only).
const F32_CANONICAL_NAN: u32 = 0x7fc0_0000;
/// Sign-less bits of the canonical `f64` NaN (quiet bit only).
const F64_CANONICAL_NAN: u64 = 0x7ff8_0000_0000_0000;

/// Does the `f32` with these bits match `pattern`?
///
/// * `nan:canonical`: a NaN whose payload is exactly the quiet bit, either sign;
/// * `nan:arithmetic`: a NaN with the quiet bit set (any payload, either sign);
/// * a literal: the bits must be identical (so `-0` differs from `+0` and a
///   NaN literal only matches the same payload).
pub fn f32_matches(pattern: &NanPattern<F32>, bits: u32) -> bool {
    match pattern {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == F32_CANONICAL_NAN,
        NanPattern::ArithmeticNan => bits & F32_CANONICAL_NAN == F32_CANONICAL_NAN,
        NanPattern::Value(expected) => expected.bits == bits,
    }
}

/// Does the `f64` with these bits match `pattern`? Same rules as
/// [`f32_matches`].
pub fn f64_matches(pattern: &NanPattern<F64>, bits: u64) -> bool {
    match pattern {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == F64_CANONICAL_NAN,
        NanPattern::ArithmeticNan => bits & F64_CANONICAL_NAN == F64_CANONICAL_NAN,
        NanPattern::Value(expected) => expected.bits == bits,
    }
}

/// Renders an `f32` pattern for a failure message.
pub fn describe_f32(pattern: &NanPattern<F32>) -> String {
    match pattern {
        NanPattern::CanonicalNan => "f32 nan:canonical".to_string(),
        NanPattern::ArithmeticNan => "f32 nan:arithmetic".to_string(),
        NanPattern::Value(v) => describe_f32_bits(v.bits),
    }
}

/// Renders an `f64` pattern for a failure message.
pub fn describe_f64(pattern: &NanPattern<F64>) -> String {
    match pattern {
        NanPattern::CanonicalNan => "f64 nan:canonical".to_string(),
        NanPattern::ArithmeticNan => "f64 nan:arithmetic".to_string(),
        NanPattern::Value(v) => describe_f64_bits(v.bits),
    }
}

/// Renders an `f32` value with its bits, which is what tells two NaNs apart.
pub fn describe_f32_bits(bits: u32) -> String {
    format!("f32 {} (0x{bits:08x})", f32::from_bits(bits))
}

/// Renders an `f64` value with its bits, which is what tells two NaNs apart.
pub fn describe_f64_bits(bits: u64) -> String {
    format!("f64 {} (0x{bits:016x})", f64::from_bits(bits))
}

/// Messages the spec suite uses, each with the other wordings that mean the
/// same failure.
///
/// Kiln's traps read like wasmtime's (`TrapCode::message`), and most of the
/// suite's texts are substrings of those. This table covers the rest: the
/// reference interpreter and wasmtime disagree on which of "undefined element"
/// and "out of bounds table access" an out-of-range table index is, both
/// wordings exist for a stack overflow, and so on. An expected message is
/// accepted when the actual error contains it or one of its equivalents.
const EQUIVALENT_MESSAGES: &[(&str, &[&str])] = &[
    ("undefined element", &["out of bounds table access"]),
    ("out of bounds table access", &["undefined element"]),
    ("indirect call type mismatch", &["signature mismatch"]),
    ("call stack exhausted", &["stack overflow"]),
    ("out of bounds memory access", &["memory out of bounds"]),
    ("integer divide by zero", &["division by zero"]),
    (
        "invalid conversion to integer",
        &["bad conversion to integer"],
    ),
];

/// Does a trap whose own message (its `Display`, without the backtrace or
/// any other context) is `actual` satisfy a script's `expected` trap
/// message?
///
/// The rule is substring matching, widened by a small table of equivalent
/// wordings. Two quirks of the suite are handled here too: an empty expected
/// message accepts any trap's message (the caller still requires a trap),
/// and a trailing detail the reference interpreter appends (the `2` of
/// `"uninitialized element 2"`) is not required.
pub fn trap_message_matches(expected: &str, actual: &str) -> bool {
    let expected = expected.trim();
    if expected.is_empty() || actual.contains(expected) {
        return true;
    }
    // Compare against the message without a trailing index, if it has one.
    let base = strip_trailing_number(expected);
    if base != expected && !base.is_empty() && actual.contains(base) {
        return true;
    }
    EQUIVALENT_MESSAGES.iter().any(|(known, alternatives)| {
        (expected.starts_with(known) || base == *known)
            && alternatives.iter().any(|alt| actual.contains(alt))
    })
}

/// `"uninitialized element 7"` → `"uninitialized element"`; other strings are
/// returned unchanged.
fn strip_trailing_number(message: &str) -> &str {
    match message.rsplit_once(' ') {
        Some((head, tail)) if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) => {
            head.trim_end()
        }
        _ => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32_lit(v: f32) -> NanPattern<F32> {
        NanPattern::Value(F32 { bits: v.to_bits() })
    }

    fn f64_lit(v: f64) -> NanPattern<F64> {
        NanPattern::Value(F64 { bits: v.to_bits() })
    }

    #[test]
    fn f32_canonical_nan_accepts_only_the_quiet_bit_payload() {
        let p = NanPattern::CanonicalNan;
        assert!(f32_matches(&p, 0x7fc0_0000));
        assert!(f32_matches(&p, 0xffc0_0000), "either sign");
        assert!(!f32_matches(&p, 0x7fc0_0001), "extra payload bit");
        assert!(!f32_matches(&p, 0x7fa0_0000), "signalling NaN");
        assert!(!f32_matches(&p, 0x7f80_0000), "infinity");
        assert!(!f32_matches(&p, 1.0f32.to_bits()));
    }

    #[test]
    fn f32_arithmetic_nan_requires_the_quiet_bit() {
        let p = NanPattern::ArithmeticNan;
        assert!(f32_matches(&p, 0x7fc0_0000));
        assert!(f32_matches(&p, 0x7fc0_0001));
        assert!(f32_matches(&p, 0xffff_ffff));
        assert!(!f32_matches(&p, 0x7f80_0001), "signalling NaN");
        assert!(!f32_matches(&p, 0x7f80_0000), "infinity");
        assert!(!f32_matches(&p, 0));
    }

    #[test]
    fn f32_literals_compare_bits_exactly() {
        assert!(f32_matches(&f32_lit(1.5), 1.5f32.to_bits()));
        assert!(!f32_matches(&f32_lit(0.0), (-0.0f32).to_bits()));
        assert!(!f32_matches(&f32_lit(-0.0), 0));
        let nan = NanPattern::Value(F32 { bits: 0x7fc0_0001 });
        assert!(f32_matches(&nan, 0x7fc0_0001));
        assert!(!f32_matches(&nan, 0x7fc0_0000));
    }

    #[test]
    fn f64_patterns() {
        let canonical = NanPattern::CanonicalNan;
        let arithmetic = NanPattern::ArithmeticNan;
        assert!(f64_matches(&canonical, 0x7ff8_0000_0000_0000));
        assert!(f64_matches(&canonical, 0xfff8_0000_0000_0000));
        assert!(!f64_matches(&canonical, 0x7ff8_0000_0000_0001));
        assert!(f64_matches(&arithmetic, 0x7ff8_0000_0000_0001));
        assert!(f64_matches(&arithmetic, 0xfffc_0000_0000_0000));
        assert!(!f64_matches(&arithmetic, 0x7ff0_0000_0000_0001));
        assert!(!f64_matches(&arithmetic, f64::INFINITY.to_bits()));
        assert!(f64_matches(&f64_lit(-2.25), (-2.25f64).to_bits()));
        assert!(!f64_matches(&f64_lit(0.0), (-0.0f64).to_bits()));
    }

    #[test]
    fn pattern_descriptions_show_bits() {
        assert_eq!(describe_f32_bits(0x7fc0_0000), "f32 NaN (0x7fc00000)");
        assert_eq!(describe_f64(&f64_lit(1.0)), "f64 1 (0x3ff0000000000000)");
        assert_eq!(describe_f32(&NanPattern::CanonicalNan), "f32 nan:canonical");
    }

    #[test]
    fn trap_messages_match_as_substrings() {
        assert!(trap_message_matches(
            "integer divide by zero",
            "wasm trap: integer divide by zero"
        ));
        assert!(trap_message_matches(
            "unreachable",
            "wasm `unreachable` instruction executed"
        ));
        assert!(trap_message_matches(
            "out of bounds table access",
            "undefined element: out of bounds table access"
        ));
        assert!(!trap_message_matches(
            "integer overflow",
            "integer divide by zero"
        ));
        assert!(!trap_message_matches(
            "out of bounds memory access",
            "unreachable"
        ));
    }

    #[test]
    fn empty_expected_message_accepts_any_trap_message() {
        assert!(trap_message_matches("", "wasm trap: anything at all"));
    }

    #[test]
    fn equivalent_wordings_are_accepted() {
        assert!(trap_message_matches(
            "undefined element",
            "out of bounds table access"
        ));
        assert!(trap_message_matches(
            "call stack exhausted",
            "stack overflow"
        ));
        assert!(trap_message_matches(
            "indirect call type mismatch",
            "indirect call signature mismatch"
        ));
        assert!(!trap_message_matches(
            "undefined element",
            "uninitialized element"
        ));
        assert!(!trap_message_matches(
            "uninitialized element",
            "undefined element"
        ));
    }

    #[test]
    fn trailing_element_index_is_not_required() {
        assert!(trap_message_matches(
            "uninitialized element 2",
            "uninitialized element"
        ));
        assert!(trap_message_matches(
            "uninitialized element 7",
            "x: uninitialized element"
        ));
        assert!(!trap_message_matches(
            "uninitialized element 2",
            "out of bounds table access"
        ));
        assert_eq!(
            strip_trailing_number("uninitialized element 7"),
            "uninitialized element"
        );
        assert_eq!(strip_trailing_number("unreachable"), "unreachable");
        assert_eq!(strip_trailing_number("abc "), "abc ");
    }
}
