//! `Val` and `Ref`: WebAssembly values as the embedder sees them.
//!
//! Inside the runtime every value is an untyped 64-bit slot (see
//! `ValRaw`); these enums carry the type alongside. References are `Copy`
//! handles: a `funcref` is the address of the function's `VMFuncRef`
//! wrapped as a [`Func`], an `externref` is a handle into the store's table
//! of host objects. Converting either to a raw slot checks that it belongs
//! to the store it is used with.

use crate::store::StoreId;
use crate::{AsContext, ExternRef, Func, HeapType, RefType, ValType};
use anyhow::{Result, bail};
use kiln_vm::ValRaw;

/// A WebAssembly value.
#[derive(Debug, Clone, Copy)]
pub enum Val {
    /// A 32-bit integer.
    I32(i32),
    /// A 64-bit integer.
    I64(i64),
    /// A 32-bit float, as its bit pattern (`f32::from_bits` to convert).
    F32(u32),
    /// A 64-bit float, as its bit pattern (`f64::from_bits` to convert).
    F64(u64),
    /// A function reference (`None` is null).
    FuncRef(Option<Func>),
    /// An external reference (`None` is null).
    ExternRef(Option<ExternRef>),
}

macro_rules! accessors {
    ($($variant:ident($ty:ty) $get:ident $unwrap:ident $conv:expr;)*) => {$(
        /// The value, if it is of this type.
        pub fn $get(&self) -> Option<$ty> {
            match self {
                Val::$variant(v) => Some($conv(v)),
                _ => None,
            }
        }

        /// The value; panics if it is of another type.
        pub fn $unwrap(&self) -> $ty {
            self.$get().expect(concat!("Val::", stringify!($unwrap), " on a value of another type"))
        }
    )*};
}

impl Val {
    /// The null reference of `heap_type`.
    pub fn null_ref(heap_type: &HeapType) -> Val {
        match heap_type {
            HeapType::Func => Val::FuncRef(None),
            HeapType::Extern => Val::ExternRef(None),
        }
    }

    /// The null `funcref`.
    pub const fn null_func_ref() -> Val {
        Val::FuncRef(None)
    }

    /// The null `externref`.
    pub const fn null_extern_ref() -> Val {
        Val::ExternRef(None)
    }

    /// The default (zero or null) value of `ty`, if it has one Kiln can
    /// represent.
    pub fn default_for_ty(ty: &ValType) -> Option<Val> {
        Some(match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => return None,
            ValType::Ref(r) => match r.heap_type() {
                HeapType::Func => Val::FuncRef(None),
                HeapType::Extern => Val::ExternRef(None),
            },
        })
    }

    accessors! {
        I32(i32) i32 unwrap_i32 |v: &i32| *v;
        I64(i64) i64 unwrap_i64 |v: &i64| *v;
        F32(f32) f32 unwrap_f32 |v: &u32| f32::from_bits(*v);
        F64(f64) f64 unwrap_f64 |v: &u64| f64::from_bits(*v);
    }

    /// The function reference, if this is a `funcref` value.
    pub fn funcref(&self) -> Option<Option<&Func>> {
        match self {
            Val::FuncRef(f) => Some(f.as_ref()),
            _ => None,
        }
    }

    /// The function reference; panics if this is not a `funcref` value.
    pub fn unwrap_funcref(&self) -> Option<&Func> {
        self.funcref()
            .expect("Val::unwrap_funcref on a value of another type")
    }

    /// The external reference, if this is an `externref` value.
    pub fn externref(&self) -> Option<Option<&ExternRef>> {
        match self {
            Val::ExternRef(e) => Some(e.as_ref()),
            _ => None,
        }
    }

    /// The external reference; panics if this is not an `externref` value.
    pub fn unwrap_externref(&self) -> Option<&ExternRef> {
        self.externref()
            .expect("Val::unwrap_externref on a value of another type")
    }

    /// The reference, if this is a reference value.
    pub fn ref_(self) -> Option<Ref> {
        match self {
            Val::FuncRef(f) => Some(Ref::Func(f)),
            Val::ExternRef(e) => Some(Ref::Extern(e)),
            _ => None,
        }
    }

    /// The value's type. Fails if it is a reference owned by another store.
    pub fn ty(&self, store: impl AsContext) -> Result<ValType> {
        self.check_store(store.as_context().opaque().id)?;
        Ok(self.ty_unchecked())
    }

    /// Whether the value is of type `ty` (or a subtype). Fails if it is a
    /// reference owned by another store.
    pub fn matches_ty(&self, store: impl AsContext, ty: &ValType) -> Result<bool> {
        self.check_store(store.as_context().opaque().id)?;
        Ok(self.ty_unchecked().matches(ty))
    }

    /// The type, without checking store ownership.
    pub(crate) fn ty_unchecked(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::FuncRef(_) => ValType::FUNCREF,
            Val::ExternRef(_) => ValType::EXTERNREF,
        }
    }

    fn check_store(&self, store: StoreId) -> Result<()> {
        match self {
            Val::FuncRef(Some(f)) => f.check_store(store),
            Val::ExternRef(Some(e)) => e.check_store(store),
            _ => Ok(()),
        }
    }

    /// The value as a raw slot of store `store`.
    pub(crate) fn to_vm_raw(self, store: StoreId) -> Result<ValRaw> {
        Ok(match self {
            Val::I32(v) => ValRaw::i32(v),
            Val::I64(v) => ValRaw::i64(v),
            Val::F32(v) => ValRaw::f32(v),
            Val::F64(v) => ValRaw::f64(v),
            Val::FuncRef(f) => ValRaw::from_bits(Ref::Func(f).to_raw(store)?),
            Val::ExternRef(e) => ValRaw::from_bits(Ref::Extern(e).to_raw(store)?),
        })
    }

    /// Reads a raw slot of store `store` holding a value of type `ty`.
    pub(crate) fn from_vm_raw(store: StoreId, raw: ValRaw, ty: ValType) -> Result<Val> {
        Ok(match ty {
            ValType::I32 => Val::I32(raw.get_i32()),
            ValType::I64 => Val::I64(raw.get_i64()),
            ValType::F32 => Val::F32(raw.get_f32()),
            ValType::F64 => Val::F64(raw.get_f64()),
            ValType::V128 => bail!("v128 values are not supported"),
            ValType::Ref(r) => Ref::from_raw(store, raw.bits(), &r).into(),
        })
    }
}

impl From<i32> for Val {
    fn from(v: i32) -> Val {
        Val::I32(v)
    }
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::I64(v)
    }
}

impl From<f32> for Val {
    fn from(v: f32) -> Val {
        Val::F32(v.to_bits())
    }
}

impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::F64(v.to_bits())
    }
}

impl From<Func> for Val {
    fn from(f: Func) -> Val {
        Val::FuncRef(Some(f))
    }
}

impl From<Option<Func>> for Val {
    fn from(f: Option<Func>) -> Val {
        Val::FuncRef(f)
    }
}

impl From<ExternRef> for Val {
    fn from(e: ExternRef) -> Val {
        Val::ExternRef(Some(e))
    }
}

impl From<Option<ExternRef>> for Val {
    fn from(e: Option<ExternRef>) -> Val {
        Val::ExternRef(e)
    }
}

impl From<Ref> for Val {
    fn from(r: Ref) -> Val {
        match r {
            Ref::Func(f) => Val::FuncRef(f),
            Ref::Extern(e) => Val::ExternRef(e),
        }
    }
}

/// A reference value: what tables hold.
#[derive(Debug, Clone, Copy)]
pub enum Ref {
    /// A function reference (`None` is null).
    Func(Option<Func>),
    /// An external reference (`None` is null).
    Extern(Option<ExternRef>),
}

impl Ref {
    /// Whether this is a null reference.
    pub fn is_null(&self) -> bool {
        matches!(self, Ref::Func(None) | Ref::Extern(None))
    }

    /// Whether this is a non-null reference.
    pub fn is_non_null(&self) -> bool {
        !self.is_null()
    }

    /// Whether this is a function reference.
    pub fn is_func(&self) -> bool {
        matches!(self, Ref::Func(_))
    }

    /// Whether this is an external reference.
    pub fn is_extern(&self) -> bool {
        matches!(self, Ref::Extern(_))
    }

    /// The function reference, if this is one.
    pub fn as_func(&self) -> Option<Option<&Func>> {
        match self {
            Ref::Func(f) => Some(f.as_ref()),
            Ref::Extern(_) => None,
        }
    }

    /// The function reference; panics if this is not one.
    pub fn unwrap_func(&self) -> Option<&Func> {
        self.as_func()
            .expect("Ref::unwrap_func on an external reference")
    }

    /// The external reference, if this is one.
    pub fn as_extern(&self) -> Option<Option<&ExternRef>> {
        match self {
            Ref::Extern(e) => Some(e.as_ref()),
            Ref::Func(_) => None,
        }
    }

    /// The external reference; panics if this is not one.
    pub fn unwrap_extern(&self) -> Option<&ExternRef> {
        self.as_extern()
            .expect("Ref::unwrap_extern on a function reference")
    }

    /// The reference's type. Fails if it belongs to another store.
    pub fn ty(&self, store: impl AsContext) -> Result<RefType> {
        Val::from(*self).check_store(store.as_context().opaque().id)?;
        Ok(self.ty_unchecked())
    }

    /// Whether the reference is of type `ty`. Fails if it belongs to
    /// another store.
    pub fn matches_ty(&self, store: impl AsContext, ty: &RefType) -> Result<bool> {
        Ok(self.ty(store)?.matches(ty))
    }

    /// The type, without checking store ownership.
    pub(crate) fn ty_unchecked(&self) -> RefType {
        match self {
            Ref::Func(_) => RefType::FUNCREF,
            Ref::Extern(_) => RefType::EXTERNREF,
        }
    }

    /// The reference as a raw 64-bit slot of store `store`.
    pub(crate) fn to_raw(self, store: StoreId) -> Result<u64> {
        Ok(match self {
            Ref::Func(None) | Ref::Extern(None) => 0,
            Ref::Func(Some(f)) => {
                f.check_store(store)?;
                f.vm_func_ref().as_ptr() as u64
            }
            Ref::Extern(Some(e)) => {
                e.check_store(store)?;
                e.to_handle()
            }
        })
    }

    /// Reads a raw slot of store `store` holding a reference of type `ty`.
    pub(crate) fn from_raw(store: StoreId, raw: u64, ty: &RefType) -> Ref {
        match ty.heap_type() {
            HeapType::Func => Ref::Func(Func::from_raw_bits(store, raw)),
            HeapType::Extern => Ref::Extern(ExternRef::from_handle(store, raw)),
        }
    }
}

impl From<Func> for Ref {
    fn from(f: Func) -> Ref {
        Ref::Func(Some(f))
    }
}

impl From<Option<Func>> for Ref {
    fn from(f: Option<Func>) -> Ref {
        Ref::Func(f)
    }
}

impl From<ExternRef> for Ref {
    fn from(e: ExternRef) -> Ref {
        Ref::Extern(Some(e))
    }
}

impl From<Option<ExternRef>> for Ref {
    fn from(e: Option<ExternRef>) -> Ref {
        Ref::Extern(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Engine, Store};

    #[test]
    fn scalars_round_trip_through_raw_slots() {
        let store = Store::new(&Engine::default(), ());
        let id = store.as_context().opaque().id;
        for (val, ty) in [
            (Val::I32(-5), ValType::I32),
            (Val::I64(-6), ValType::I64),
            (Val::F32(0x7fc0_0001), ValType::F32),
            (Val::F64(0x7ff8_0000_0000_0001), ValType::F64),
        ] {
            let raw = val.to_vm_raw(id).unwrap();
            let back = Val::from_vm_raw(id, raw, ty).unwrap();
            assert_eq!(format!("{val:?}"), format!("{back:?}"));
            assert!(back.matches_ty(&store, &ty).unwrap());
        }
        let null = Val::from_vm_raw(id, ValRaw::zero(), ValType::FUNCREF).unwrap();
        assert!(matches!(null, Val::FuncRef(None)));
        assert_eq!(
            Val::null_extern_ref().ty(&store).unwrap(),
            ValType::EXTERNREF
        );
    }

    #[test]
    fn accessors() {
        assert_eq!(Val::from(1.5f32).unwrap_f32(), 1.5);
        assert_eq!(Val::I32(3).i64(), None);
        assert_eq!(Val::from(7i64).unwrap_i64(), 7);
        assert!(Val::null_func_ref().ref_().unwrap().is_null());
        assert!(Val::default_for_ty(&ValType::V128).is_none());
    }
}
