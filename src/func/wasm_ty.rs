//! The traits that map Rust types to WebAssembly values for typed calls
//! and `Func::wrap`: [`WasmTy`] for single values, [`WasmParams`] /
//! [`WasmResults`] for parameter and result lists (a single value, `()`,
//! or a tuple of up to 16), and [`WasmRet`] for what a wrapped closure may
//! return (results, or a `Result` of them).
//!
//! Their methods convert straight between Rust values and raw `ValRaw`
//! slots, so typed calls avoid `Val` and, for small signatures, allocation.

use crate::store::StoreId;
use crate::{ExternRef, Func, ValType};
use anyhow::Result;
use kiln_vm::ValRaw;

mod sealed {
    /// Only Kiln implements [`WasmTy`](super::WasmTy).
    pub trait Sealed {}
}

/// A Rust type that is a WebAssembly value: `i32`, `u32`, `i64`, `u64`,
/// `f32`, `f64`, `Option<Func>` (`funcref`), `Option<ExternRef>`
/// (`externref`).
pub trait WasmTy: sealed::Sealed + Send + Sized + 'static {
    /// The WebAssembly type.
    #[doc(hidden)]
    fn valtype() -> ValType;
    /// The value as a raw slot of store `store`.
    #[doc(hidden)]
    fn into_raw(self, store: StoreId) -> Result<ValRaw>;
    /// The value held by a raw slot of store `store`.
    #[doc(hidden)]
    fn from_raw(store: StoreId, raw: ValRaw) -> Self;
}

macro_rules! scalar_wasm_ty {
    ($($ty:ty => $valtype:ident, $to:expr, $from:expr;)*) => {$(
        impl sealed::Sealed for $ty {}
        impl WasmTy for $ty {
            fn valtype() -> ValType {
                ValType::$valtype
            }
            fn into_raw(self, _store: StoreId) -> Result<ValRaw> {
                Ok($to(self))
            }
            fn from_raw(_store: StoreId, raw: ValRaw) -> Self {
                $from(raw)
            }
        }
    )*};
}

scalar_wasm_ty! {
    i32 => I32, ValRaw::i32, ValRaw::get_i32;
    u32 => I32, |v: u32| ValRaw::i32(v as i32), |r: ValRaw| r.get_i32() as u32;
    i64 => I64, ValRaw::i64, ValRaw::get_i64;
    u64 => I64, |v: u64| ValRaw::i64(v as i64), |r: ValRaw| r.get_i64() as u64;
    f32 => F32, |v: f32| ValRaw::f32(v.to_bits()), |r: ValRaw| f32::from_bits(r.get_f32());
    f64 => F64, |v: f64| ValRaw::f64(v.to_bits()), |r: ValRaw| f64::from_bits(r.get_f64());
}

impl sealed::Sealed for Option<Func> {}
impl WasmTy for Option<Func> {
    fn valtype() -> ValType {
        ValType::FUNCREF
    }
    fn into_raw(self, store: StoreId) -> Result<ValRaw> {
        Ok(ValRaw::from_bits(crate::Ref::Func(self).to_raw(store)?))
    }
    fn from_raw(store: StoreId, raw: ValRaw) -> Self {
        Func::from_raw_bits(store, raw.bits())
    }
}

impl sealed::Sealed for Option<ExternRef> {}
impl WasmTy for Option<ExternRef> {
    fn valtype() -> ValType {
        ValType::EXTERNREF
    }
    fn into_raw(self, store: StoreId) -> Result<ValRaw> {
        Ok(ValRaw::from_bits(crate::Ref::Extern(self).to_raw(store)?))
    }
    fn from_raw(store: StoreId, raw: ValRaw) -> Self {
        ExternRef::from_handle(store, raw.bits())
    }
}

/// A list of WebAssembly values: `()`, a single [`WasmTy`], or a tuple of
/// up to 16 of them. The parameters of a [`TypedFunc`](crate::TypedFunc).
pub trait WasmParams: Send + Sized {
    /// How many values.
    #[doc(hidden)]
    const COUNT: usize;
    /// Appends the values' types to `out`.
    #[doc(hidden)]
    fn push_valtypes(out: &mut Vec<ValType>);
    /// Writes the values to the front of `slots` (at least `COUNT` long).
    #[doc(hidden)]
    fn store(self, store: StoreId, slots: &mut [ValRaw]) -> Result<()>;
    /// Reads the values from the front of `slots` (at least `COUNT` long).
    #[doc(hidden)]
    fn load(store: StoreId, slots: &[ValRaw]) -> Self;
}

/// A list of WebAssembly results; the same shapes as [`WasmParams`].
pub trait WasmResults: WasmParams {}

impl<T: WasmParams> WasmResults for T {}

impl<T: WasmTy> WasmParams for T {
    const COUNT: usize = 1;
    fn push_valtypes(out: &mut Vec<ValType>) {
        out.push(T::valtype());
    }
    fn store(self, store: StoreId, slots: &mut [ValRaw]) -> Result<()> {
        slots[0] = self.into_raw(store)?;
        Ok(())
    }
    fn load(store: StoreId, slots: &[ValRaw]) -> Self {
        T::from_raw(store, slots[0])
    }
}

macro_rules! tuple_wasm_params {
    ($($t:ident)*) => {
        #[allow(non_snake_case, unused_variables, unused_mut, unused_assignments, clippy::unused_unit)]
        impl<$($t: WasmTy,)*> WasmParams for ($($t,)*) {
            const COUNT: usize = 0 $(+ { let _ = stringify!($t); 1 })*;
            fn push_valtypes(out: &mut Vec<ValType>) {
                $(out.push($t::valtype());)*
            }
            fn store(self, store: StoreId, slots: &mut [ValRaw]) -> Result<()> {
                let ($($t,)*) = self;
                let mut i = 0;
                $(
                    slots[i] = $t.into_raw(store)?;
                    i += 1;
                )*
                Ok(())
            }
            fn load(store: StoreId, slots: &[ValRaw]) -> Self {
                let mut i = 0;
                ($({
                    let value = $t::from_raw(store, slots[i]);
                    i += 1;
                    value
                },)*)
            }
        }
    };
}

tuple_wasm_params!();
tuple_wasm_params!(A1);
tuple_wasm_params!(A1 A2);
tuple_wasm_params!(A1 A2 A3);
tuple_wasm_params!(A1 A2 A3 A4);
tuple_wasm_params!(A1 A2 A3 A4 A5);
tuple_wasm_params!(A1 A2 A3 A4 A5 A6);
tuple_wasm_params!(A1 A2 A3 A4 A5 A6 A7);
tuple_wasm_params!(A1 A2 A3 A4 A5 A6 A7 A8);
tuple_wasm_params!(A1 A2 A3 A4 A5 A6 A7 A8 A9);
tuple_wasm_params!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10);
tuple_wasm_params!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11);
tuple_wasm_params!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12);
tuple_wasm_params!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13);
tuple_wasm_params!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14);
tuple_wasm_params!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14 A15);
tuple_wasm_params!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14 A15 A16);

/// What a closure given to [`Func::wrap`](crate::Func::wrap) may return:
/// [`WasmResults`], or `Result<R>` of them to fail (or trap) the call.
pub trait WasmRet {
    /// The results.
    #[doc(hidden)]
    type Results: WasmResults;
    /// The results, or the error to return from the call.
    #[doc(hidden)]
    fn into_results(self) -> Result<Self::Results>;
}

impl<T: WasmResults> WasmRet for T {
    type Results = T;
    fn into_results(self) -> Result<T> {
        Ok(self)
    }
}

impl<T: WasmResults> WasmRet for Result<T> {
    type Results = T;
    fn into_results(self) -> Result<T> {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types<P: WasmParams>() -> Vec<ValType> {
        let mut out = Vec::new();
        P::push_valtypes(&mut out);
        out
    }

    #[test]
    fn shapes_and_counts() {
        assert_eq!(<() as WasmParams>::COUNT, 0);
        assert_eq!(<i32 as WasmParams>::COUNT, 1);
        assert_eq!(<(i32, f64, Option<Func>) as WasmParams>::COUNT, 3);
        assert_eq!(
            types::<(i32, u64, f32)>(),
            [ValType::I32, ValType::I64, ValType::F32]
        );
        assert_eq!(types::<Option<ExternRef>>(), [ValType::EXTERNREF]);
    }

    #[test]
    fn values_round_trip() {
        let engine = crate::Engine::default();
        let store = crate::Store::new(&engine, ());
        let id = crate::AsContext::as_context(&store).opaque().id;
        let mut slots = [ValRaw::zero(); 4];
        (-1i32, u64::MAX, 2.5f32, None::<Func>)
            .store(id, &mut slots)
            .unwrap();
        assert_eq!(slots[0].bits(), 0xffff_ffff);
        let (a, b, c, d) = <(i32, u64, f32, Option<Func>)>::load(id, &slots);
        assert_eq!((a, b, c, d.is_none()), (-1, u64::MAX, 2.5, true));
        assert_eq!(<u32 as WasmParams>::load(id, &slots), u32::MAX);
    }
}
