//! Host functions before they are placed in a store: [`HostFunc`] (a type
//! plus a closure over raw slots) and the [`IntoFunc`] conversions that
//! build one from an ordinary Rust closure.
//!
//! Every host function, however it was defined, ends up as one closure
//! `Fn(Caller<T>, &mut [ValRaw]) -> Result<()>` that reads its parameters
//! from the slots and writes its results back — exactly the array-call
//! convention, so the trampoline does no conversion of its own. `Func::wrap`
//! closures convert with [`WasmTy`] (no allocation); `Func::new` closures go
//! through `Val`s and have their results type-checked.
//!
//! A `HostFunc` is independent of any store, which is what lets a `Linker`
//! define a function once and instantiate it into many stores.

use super::wasm_ty::{WasmParams, WasmRet, WasmTy};
use crate::runtime::host::create_host_func;
use crate::types::registry::FuncSig;
use crate::{Caller, Engine, Func, FuncType, StoreContextMut, Val, ValType};
use anyhow::{Result, bail};
use kiln_vm::ValRaw;
use smallvec::SmallVec;
use std::sync::Arc;

/// A host function at the raw-slot level.
pub(crate) type HostFn<T> = dyn Fn(Caller<'_, T>, &mut [ValRaw]) -> Result<()> + Send + Sync;

/// A host function not yet placed in a store: its type and closure.
#[doc(hidden)]
pub struct HostFunc<T: 'static> {
    ty: FuncType,
    func: Arc<HostFn<T>>,
}

impl<T: 'static> HostFunc<T> {
    /// A function of type `ty` running `func` on raw slots.
    pub(crate) fn from_raw_fn(ty: FuncType, func: Arc<HostFn<T>>) -> Self {
        HostFunc { ty, func }
    }

    /// A function of type `ty` running `func` on `Val`s (`Func::new`).
    pub(crate) fn new_dynamic<F>(ty: FuncType, func: F) -> Self
    where
        F: Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    {
        let sig_ty = ty.clone();
        let raw = move |caller: Caller<'_, T>, slots: &mut [ValRaw]| -> Result<()> {
            let store = caller.store_id();
            let sig = sig_ty.sig();
            let (num_params, num_results) = (sig.params.len(), sig.results.len());
            if slots.len() < num_params.max(num_results) {
                bail!("host function called with too few argument slots");
            }
            let mut vals: SmallVec<[Val; 8]> = SmallVec::with_capacity(num_params + num_results);
            for (slot, ty) in slots.iter().zip(sig.params.iter()) {
                vals.push(Val::from_vm_raw(store, *slot, *ty)?);
            }
            for ty in sig.results.iter() {
                vals.push(default_val(ty)?);
            }
            let (params, results) = vals.split_at_mut(num_params);
            func(caller, params, results)?;
            for ((slot, val), ty) in slots.iter_mut().zip(results.iter()).zip(sig.results.iter()) {
                if !val.ty_unchecked().matches(ty) {
                    bail!(
                        "function attempted to return an incompatible value: expected `{ty}`, found `{}`",
                        val.ty_unchecked()
                    );
                }
                *slot = val.to_vm_raw(store)?;
            }
            Ok(())
        };
        HostFunc {
            ty,
            func: Arc::new(raw),
        }
    }

    /// The function's type.
    pub(crate) fn ty(&self) -> &FuncType {
        &self.ty
    }

    /// Places a new instance of this function in `store`.
    pub(crate) fn to_func(&self, store: &mut StoreContextMut<'_, T>) -> Func {
        let type_index = self.ty.in_engine(store.engine()).type_index();
        create_host_func(store, type_index, self.func.clone())
    }
}

fn default_val(ty: &ValType) -> Result<Val> {
    Val::default_for_ty(ty)
        .ok_or_else(|| anyhow::anyhow!("host functions cannot return `{ty}` values"))
}

/// A Rust closure that can become a host function: `Fn(A1, ..., An) -> R`
/// or `Fn(Caller<'_, T>, A1, ..., An) -> R` with up to 16 [`WasmTy`]
/// parameters, where `R` is `()`, a [`WasmTy`], a tuple of them, or a
/// `Result` of those ([`WasmRet`]).
pub trait IntoFunc<T, Params, Results>: Send + Sync + 'static {
    /// Builds the host function, registering its type in `engine`.
    #[doc(hidden)]
    fn into_host_func(self, engine: &Engine) -> HostFunc<T>;
}

/// The function type of a closure with parameters `P` returning `R`.
fn func_type<P: WasmParams, R: WasmRet>(engine: &Engine) -> FuncType {
    let mut params = Vec::with_capacity(P::COUNT);
    P::push_valtypes(&mut params);
    let mut results = Vec::with_capacity(<R::Results as WasmParams>::COUNT);
    <R::Results as WasmParams>::push_valtypes(&mut results);
    FuncType::from_sig(
        engine,
        FuncSig {
            params: params.into(),
            results: results.into(),
        },
    )
}

macro_rules! into_func {
    ($($a:ident)*) => {
        #[allow(non_snake_case)]
        impl<T, F, $($a,)* R> IntoFunc<T, ($($a,)*), R> for F
        where
            T: 'static,
            F: Fn($($a),*) -> R + Send + Sync + 'static,
            $($a: WasmTy,)*
            R: WasmRet,
        {
            fn into_host_func(self, engine: &Engine) -> HostFunc<T> {
                let raw = move |caller: Caller<'_, T>, slots: &mut [ValRaw]| -> Result<()> {
                    let store = caller.store_id();
                    let ($($a,)*) = <($($a,)*) as WasmParams>::load(store, slots);
                    let results = (self)($($a),*).into_results()?;
                    results.store(store, slots)
                };
                HostFunc::from_raw_fn(func_type::<($($a,)*), R>(engine), Arc::new(raw))
            }
        }

        #[allow(non_snake_case)]
        impl<T, F, $($a,)* R> IntoFunc<T, (Caller<'_, T>, $($a,)*), R> for F
        where
            T: 'static,
            F: Fn(Caller<'_, T>, $($a),*) -> R + Send + Sync + 'static,
            $($a: WasmTy,)*
            R: WasmRet,
        {
            fn into_host_func(self, engine: &Engine) -> HostFunc<T> {
                let raw = move |caller: Caller<'_, T>, slots: &mut [ValRaw]| -> Result<()> {
                    let store = caller.store_id();
                    let ($($a,)*) = <($($a,)*) as WasmParams>::load(store, slots);
                    let results = (self)(caller, $($a),*).into_results()?;
                    results.store(store, slots)
                };
                HostFunc::from_raw_fn(func_type::<($($a,)*), R>(engine), Arc::new(raw))
            }
        }
    };
}

into_func!();
into_func!(A1);
into_func!(A1 A2);
into_func!(A1 A2 A3);
into_func!(A1 A2 A3 A4);
into_func!(A1 A2 A3 A4 A5);
into_func!(A1 A2 A3 A4 A5 A6);
into_func!(A1 A2 A3 A4 A5 A6 A7);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14 A15);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14 A15 A16);
