//! `TypedFunc`: a function whose signature was checked once, so calls skip
//! per-call type checks and `Val` conversions.

use super::wasm_ty::{WasmParams, WasmResults};
use crate::runtime::call::invoke;
use crate::{AsContext, AsContextMut, Func};
use anyhow::Result;
use kiln_vm::ValRaw;
use smallvec::{SmallVec, smallvec};
use std::marker::PhantomData;

/// A [`Func`] known to take `Params` and return `Results`; made by
/// [`Func::typed`] or [`Instance::get_typed_func`](crate::Instance::get_typed_func).
///
/// Parameters are a single type or a tuple, results likewise (`()` for
/// none); the signature is checked when the `TypedFunc` is made, so calls
/// pass Rust values without converting through [`Val`](crate::Val).
///
/// ```
/// # fn main() -> kiln::Result<()> {
/// use kiln::{Engine, Instance, Module, Store, TypedFunc};
///
/// let engine = Engine::default();
/// let module = Module::new(&engine, r#"
///     (module
///       (func (export "divmod") (param i32 i32) (result i32 i32)
///         (i32.div_u (local.get 0) (local.get 1))
///         (i32.rem_u (local.get 0) (local.get 1))))
/// "#)?;
/// let mut store = Store::new(&engine, ());
/// let instance = Instance::new(&mut store, &module, &[])?;
/// let divmod: TypedFunc<(u32, u32), (u32, u32)> =
///     instance.get_typed_func(&mut store, "divmod")?;
/// assert_eq!(divmod.call(&mut store, (17, 5))?, (3, 2));
/// // A trap is an error, and the function stays usable.
/// assert!(divmod.call(&mut store, (1, 0)).is_err());
/// assert_eq!(divmod.call(&mut store, (9, 3))?, (3, 0));
/// // Asking for the wrong signature fails up front.
/// assert!(instance.get_typed_func::<i64, i64>(&mut store, "divmod").is_err());
/// # Ok(())
/// # }
/// ```
pub struct TypedFunc<Params, Results> {
    func: Func,
    _signature: PhantomData<fn(Params) -> Results>,
}

impl<Params, Results> Clone for TypedFunc<Params, Results> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<Params, Results> Copy for TypedFunc<Params, Results> {}

impl<Params, Results> std::fmt::Debug for TypedFunc<Params, Results> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedFunc")
            .field("func", &self.func)
            .finish()
    }
}

impl<Params: WasmParams, Results: WasmResults> TypedFunc<Params, Results> {
    /// Wraps `func`, whose signature the caller has checked.
    pub(crate) fn from_checked(func: Func) -> Self {
        TypedFunc {
            func,
            _signature: PhantomData,
        }
    }

    /// [`Func::typed`] without the signature check: `func` is assumed to
    /// take `Params` and return `Results`. `store` is not used (it is in
    /// the signature because wasmtime's has it); calls still check that
    /// the function belongs to the store they run in.
    ///
    /// # Safety
    ///
    /// `func.typed::<Params, Results>(store)` must succeed: calling a
    /// `TypedFunc` whose types do not match the function's reads and writes
    /// argument and result slots with the wrong types.
    pub unsafe fn new_unchecked(store: impl AsContext, func: Func) -> TypedFunc<Params, Results> {
        let _ = store;
        TypedFunc::from_checked(func)
    }

    /// The underlying function.
    pub fn func(&self) -> &Func {
        &self.func
    }

    /// Calls the function. A trap comes back as a [`Trap`](crate::Trap)
    /// error with a backtrace, a host function's error as it was returned.
    pub fn call(&self, mut store: impl AsContextMut, params: Params) -> Result<Results> {
        let mut store = store.as_context_mut();
        let id = store.opaque().id;
        self.func.check_store(id)?;
        let capacity = Params::COUNT.max(Results::COUNT);
        let mut slots: SmallVec<[ValRaw; 8]> = smallvec![ValRaw::zero(); capacity];
        params.store(id, &mut slots)?;
        // SAFETY: the signature was checked when this `TypedFunc` was made,
        // so the slots hold correctly typed parameters and have room for the
        // results; the function belongs to this store; no reference into the
        // store is held during the call.
        unsafe { invoke(store.opaque_ptr(), self.func.vm_func_ref(), &mut slots)? };
        Ok(Results::load(id, &slots))
    }
}
