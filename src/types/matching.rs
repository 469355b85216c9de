//! Import matching: whether a provided item may satisfy an import.
//!
//! These are the WebAssembly 2.0 "external type matching" rules. Limits are
//! compared against the provided item's *current* size (a memory that has
//! grown satisfies a larger minimum), as the spec's `externtype` of a runtime
//! object is defined. Each function returns the reason for a mismatch; the
//! caller adds which import it was.

use super::{ExternType, FuncType, GlobalType, MemoryType, Mutability, TableType};
use anyhow::{Result, bail};

/// Checks that a provided function of type `actual` satisfies `expected`.
pub(crate) fn match_func(expected: &FuncType, actual: &FuncType) -> Result<()> {
    if !actual.matches(expected) {
        bail!(
            "function types incompatible: expected func of type `{expected}`, found func of type `{actual}`"
        );
    }
    Ok(())
}

/// Checks that a provided global of type `actual` satisfies `expected`:
/// same mutability; immutable globals may provide a subtype, mutable ones
/// must have exactly the expected type.
pub(crate) fn match_global(expected: &GlobalType, actual: &GlobalType) -> Result<()> {
    let content_ok = match expected.mutability() {
        Mutability::Const => actual.content().matches(expected.content()),
        Mutability::Var => actual.content() == expected.content(),
    };
    if expected.mutability() != actual.mutability() || !content_ok {
        bail!("global types incompatible: expected global `{expected}`, found global `{actual}`");
    }
    Ok(())
}

/// Checks that a provided table of type `actual`, currently holding
/// `actual_size` elements, satisfies `expected`.
pub(crate) fn match_table(
    expected: &TableType,
    actual: &TableType,
    actual_size: u64,
) -> Result<()> {
    if actual.element() != expected.element() {
        bail!(
            "table types incompatible: expected table of `{}`, found table of `{}`",
            expected.element(),
            actual.element()
        );
    }
    match_limits(
        "table",
        "elements",
        expected.minimum(),
        expected.maximum(),
        actual_size,
        actual.maximum(),
    )
}

/// Checks that a provided memory of type `actual`, currently `actual_pages`
/// pages large, satisfies `expected`.
pub(crate) fn match_memory(
    expected: &MemoryType,
    actual: &MemoryType,
    actual_pages: u64,
) -> Result<()> {
    match_limits(
        "memory",
        "pages",
        expected.minimum(),
        expected.maximum(),
        actual_pages,
        actual.maximum(),
    )
}

/// The limits rule: the provided size must be at least the expected
/// minimum, and if a maximum is expected the provided item must have one no
/// larger.
fn match_limits(
    kind: &str,
    unit: &str,
    expected_min: u64,
    expected_max: Option<u64>,
    actual_min: u64,
    actual_max: Option<u64>,
) -> Result<()> {
    if actual_min < expected_min {
        bail!(
            "{kind} types incompatible: minimum size mismatch: expected at least {expected_min} {unit}, found {actual_min}"
        );
    }
    if let Some(expected_max) = expected_max {
        match actual_max {
            None => bail!(
                "{kind} types incompatible: maximum size mismatch: expected at most {expected_max} {unit}, found no maximum"
            ),
            Some(actual_max) if actual_max > expected_max => bail!(
                "{kind} types incompatible: maximum size mismatch: expected at most {expected_max} {unit}, found {actual_max}"
            ),
            Some(_) => {}
        }
    }
    Ok(())
}

/// The error for providing one kind of item where another is expected.
pub(crate) fn kind_mismatch(expected: &ExternType, actual: &ExternType) -> anyhow::Error {
    anyhow::anyhow!(
        "expected {}, but found {}",
        expected.kind_name(),
        actual.kind_name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Engine, RefType, ValType};

    #[test]
    fn function_types_must_be_equal() {
        let engine = Engine::default();
        let a = FuncType::new(&engine, [ValType::I32], []);
        let b = FuncType::new(&engine, [ValType::I64], []);
        match_func(&a, &a.clone()).unwrap();
        let err = match_func(&a, &b).unwrap_err().to_string();
        assert!(
            err.contains("(func (param i32))") && err.contains("(func (param i64))"),
            "{err}"
        );
    }

    #[test]
    fn globals_match_on_mutability_and_type() {
        let c_i32 = GlobalType::new(ValType::I32, Mutability::Const);
        let v_i32 = GlobalType::new(ValType::I32, Mutability::Var);
        let c_i64 = GlobalType::new(ValType::I64, Mutability::Const);
        match_global(&c_i32, &c_i32).unwrap();
        match_global(&v_i32, &v_i32).unwrap();
        assert!(match_global(&c_i32, &v_i32).is_err());
        assert!(match_global(&v_i32, &c_i32).is_err());
        assert!(match_global(&c_i32, &c_i64).is_err());
    }

    #[test]
    fn limits_follow_the_spec() {
        let want = MemoryType::new(1, Some(2));
        // Current size counts, not the declared minimum.
        match_memory(&want, &MemoryType::new(0, Some(2)), 1).unwrap();
        assert!(match_memory(&want, &MemoryType::new(1, Some(2)), 0).is_err());
        // A maximum is required when one is expected, and must not be larger.
        assert!(match_memory(&want, &MemoryType::new(1, None), 1).is_err());
        assert!(match_memory(&want, &MemoryType::new(1, Some(3)), 1).is_err());
        match_memory(&want, &MemoryType::new(2, Some(2)), 2).unwrap();
        // No expected maximum: anything goes.
        match_memory(&MemoryType::new(1, None), &MemoryType::new(1, Some(5)), 1).unwrap();
    }

    #[test]
    fn tables_match_element_types_and_limits() {
        let want = TableType::new(RefType::FUNCREF, 10, Some(20));
        match_table(&want, &TableType::new(RefType::FUNCREF, 10, Some(20)), 10).unwrap();
        match_table(&want, &TableType::new(RefType::FUNCREF, 10, Some(15)), 12).unwrap();
        assert!(match_table(&want, &TableType::new(RefType::EXTERNREF, 10, Some(20)), 10).is_err());
        assert!(match_table(&want, &TableType::new(RefType::FUNCREF, 5, Some(20)), 5).is_err());
        assert!(match_table(&want, &TableType::new(RefType::FUNCREF, 10, None), 10).is_err());
    }
}
