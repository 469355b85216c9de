//! Value types: `ValType`, `RefType`, `HeapType`.
//!
//! WebAssembly 2.0 has four numeric types, `v128`, and two nullable
//! reference types. The shapes follow wasmtime's (a `RefType` is a heap type
//! plus nullability) so that code matching on them ports unchanged, even
//! though only `funcref` and `externref` exist here.

use anyhow::{Result, bail};
use std::fmt;

/// What a reference points to.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HeapType {
    /// Any function.
    Func,
    /// Any host object (`externref`).
    Extern,
}

impl HeapType {
    /// Whether this is `extern`, the type of host references.
    pub fn is_extern(&self) -> bool {
        *self == HeapType::Extern
    }

    /// Whether this is `func`, the type of every function reference.
    pub fn is_func(&self) -> bool {
        *self == HeapType::Func
    }

    /// Whether this is an abstract heap type (not a concrete function, struct
    /// or array type): always, since Kiln has no concrete heap types.
    pub fn is_abstract(&self) -> bool {
        true
    }

    /// Whether this is a concrete (indexed) heap type: never in Kiln.
    pub fn is_concrete(&self) -> bool {
        false
    }

    /// The top of this type's hierarchy: `func` and `extern` are each their
    /// own top.
    pub fn top(&self) -> HeapType {
        *self
    }

    /// Whether this is the top of its hierarchy: always, for the two heap
    /// types Kiln has.
    pub fn is_top(&self) -> bool {
        true
    }

    /// Whether a reference to `self` may be used where one to `other` is
    /// expected: only the same type, since `func` and `extern` are unrelated.
    pub fn matches(&self, other: &HeapType) -> bool {
        self == other
    }

    /// Whether `a` and `b` are exactly the same heap type.
    // wasmtime's name for this associated function; it is not `PartialEq::eq`.
    #[allow(clippy::should_implement_trait)]
    pub fn eq(a: &HeapType, b: &HeapType) -> bool {
        a == b
    }
}

impl fmt::Display for HeapType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeapType::Func => f.write_str("func"),
            HeapType::Extern => f.write_str("extern"),
        }
    }
}

/// The type of a reference value: a [`HeapType`] and whether null is allowed.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct RefType {
    nullable: bool,
    heap_type: HeapType,
}

impl RefType {
    /// `funcref`: a nullable reference to any function.
    pub const FUNCREF: RefType = RefType {
        nullable: true,
        heap_type: HeapType::Func,
    };
    /// `externref`: a nullable reference to a host object.
    pub const EXTERNREF: RefType = RefType {
        nullable: true,
        heap_type: HeapType::Extern,
    };

    /// A reference type to `heap_type`, nullable or not.
    pub fn new(nullable: bool, heap_type: HeapType) -> RefType {
        RefType {
            nullable,
            heap_type,
        }
    }

    /// Whether null is a value of this type.
    pub fn is_nullable(&self) -> bool {
        self.nullable
    }

    /// What the reference points to.
    pub fn heap_type(&self) -> &HeapType {
        &self.heap_type
    }

    /// Whether a value of type `self` may be used where `other` is expected
    /// (same heap type; a nullable type does not match a non-nullable one).
    pub fn matches(&self, other: &RefType) -> bool {
        self.heap_type == other.heap_type && (other.nullable || !self.nullable)
    }

    /// Whether `a` and `b` are exactly the same type.
    // wasmtime's name for this associated function; it is not `PartialEq::eq`.
    #[allow(clippy::should_implement_trait)]
    pub fn eq(a: &RefType, b: &RefType) -> bool {
        a == b
    }

    /// Converts a reference type read by wasmparser.
    pub(crate) fn from_wasmparser(ty: wasmparser::RefType) -> Result<RefType> {
        let heap_type = if ty.is_func_ref() {
            HeapType::Func
        } else if ty.is_extern_ref() {
            HeapType::Extern
        } else {
            bail!("unsupported reference type `{ty}`");
        };
        Ok(RefType {
            nullable: ty.is_nullable(),
            heap_type,
        })
    }
}

impl fmt::Display for RefType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nullable {
            write!(f, "{}ref", self.heap_type)
        } else {
            write!(f, "(ref {})", self.heap_type)
        }
    }
}

/// The type of a WebAssembly value.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit float.
    F32,
    /// 64-bit float.
    F64,
    /// 128-bit vector (SIMD, not supported by Kiln's executor yet).
    V128,
    /// A reference.
    Ref(RefType),
}

impl ValType {
    /// `funcref`.
    pub const FUNCREF: ValType = ValType::Ref(RefType::FUNCREF);
    /// `externref`.
    pub const EXTERNREF: ValType = ValType::Ref(RefType::EXTERNREF);

    /// Whether this is `i32`, `i64`, `f32` or `f64`.
    pub fn is_num(&self) -> bool {
        matches!(
            self,
            ValType::I32 | ValType::I64 | ValType::F32 | ValType::F64
        )
    }

    /// Whether this is `i32`.
    pub fn is_i32(&self) -> bool {
        matches!(self, ValType::I32)
    }

    /// Whether this is `i64`.
    pub fn is_i64(&self) -> bool {
        matches!(self, ValType::I64)
    }

    /// Whether this is `f32`.
    pub fn is_f32(&self) -> bool {
        matches!(self, ValType::F32)
    }

    /// Whether this is `f64`.
    pub fn is_f64(&self) -> bool {
        matches!(self, ValType::F64)
    }

    /// Whether this is `v128`.
    pub fn is_v128(&self) -> bool {
        matches!(self, ValType::V128)
    }

    /// Whether this is a reference type.
    pub fn is_ref(&self) -> bool {
        matches!(self, ValType::Ref(_))
    }

    /// Whether this is `funcref`.
    pub fn is_funcref(&self) -> bool {
        *self == ValType::FUNCREF
    }

    /// Whether this is `externref`.
    pub fn is_externref(&self) -> bool {
        *self == ValType::EXTERNREF
    }

    /// The reference type, if this is one.
    pub fn as_ref(&self) -> Option<&RefType> {
        match self {
            ValType::Ref(r) => Some(r),
            _ => None,
        }
    }

    /// The reference type; panics if this is not a reference type.
    pub fn unwrap_ref(&self) -> &RefType {
        self.as_ref()
            .expect("ValType::unwrap_ref on a non-reference type")
    }

    /// Whether a value of type `self` may be used where `other` is expected.
    pub fn matches(&self, other: &ValType) -> bool {
        match (self, other) {
            (ValType::Ref(a), ValType::Ref(b)) => a.matches(b),
            (a, b) => a == b,
        }
    }

    /// Whether `a` and `b` are exactly the same type.
    // wasmtime's name for this associated function; it is not `PartialEq::eq`.
    #[allow(clippy::should_implement_trait)]
    pub fn eq(a: &ValType, b: &ValType) -> bool {
        a == b
    }

    /// The value a local or table slot of this type starts with (zero, or
    /// null), or `None` for a type without one: a non-nullable reference,
    /// and `v128`, which Kiln's [`Val`](crate::Val) cannot hold.
    pub fn default_value(&self) -> Option<crate::Val> {
        match self {
            ValType::Ref(r) if !r.is_nullable() => None,
            ty => crate::Val::default_for_ty(ty),
        }
    }

    /// Converts a value type read by wasmparser.
    pub(crate) fn from_wasmparser(ty: wasmparser::ValType) -> Result<ValType> {
        Ok(match ty {
            wasmparser::ValType::I32 => ValType::I32,
            wasmparser::ValType::I64 => ValType::I64,
            wasmparser::ValType::F32 => ValType::F32,
            wasmparser::ValType::F64 => ValType::F64,
            wasmparser::ValType::V128 => ValType::V128,
            wasmparser::ValType::Ref(r) => ValType::Ref(RefType::from_wasmparser(r)?),
        })
    }
}

impl From<RefType> for ValType {
    fn from(ty: RefType) -> ValType {
        ValType::Ref(ty)
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValType::I32 => f.write_str("i32"),
            ValType::I64 => f.write_str("i64"),
            ValType::F32 => f.write_str("f32"),
            ValType::F64 => f.write_str("f64"),
            ValType::V128 => f.write_str("v128"),
            ValType::Ref(r) => r.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_matching_respects_nullability() {
        let non_null_func = RefType::new(false, HeapType::Func);
        assert!(non_null_func.matches(&RefType::FUNCREF));
        assert!(!RefType::FUNCREF.matches(&non_null_func));
        assert!(!RefType::FUNCREF.matches(&RefType::EXTERNREF));
        assert!(ValType::FUNCREF.matches(&ValType::FUNCREF));
        assert!(!ValType::I32.matches(&ValType::I64));
    }

    #[test]
    fn display_uses_text_format_names() {
        assert_eq!(ValType::I32.to_string(), "i32");
        assert_eq!(ValType::FUNCREF.to_string(), "funcref");
        assert_eq!(ValType::EXTERNREF.to_string(), "externref");
        assert_eq!(
            RefType::new(false, HeapType::Func).to_string(),
            "(ref func)"
        );
    }

    #[test]
    fn converts_wasmparser_types() {
        assert_eq!(
            ValType::from_wasmparser(wasmparser::ValType::F64).unwrap(),
            ValType::F64
        );
        assert_eq!(
            ValType::from_wasmparser(wasmparser::ValType::EXTERNREF).unwrap(),
            ValType::EXTERNREF
        );
    }
}
