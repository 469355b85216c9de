//! `Func`: a handle to a function — WebAssembly or host — that the host can
//! call and pass around as a `funcref`.
//!
//! A `Func` is the address of the function's `VMFuncRef` tagged with the
//! owning store's id. That address *is* the function's `funcref` value
//! inside WebAssembly, so converting between the two is free and a `Func`
//! obtained from a table or a call result is the same function as the one
//! exported. The record lives (at a fixed address) as long as the store.

mod host_func;
mod typed;
mod wasm_ty;

pub(crate) use host_func::HostFn;
pub use host_func::{HostFunc, IntoFunc};
pub use typed::TypedFunc;
pub use wasm_ty::{WasmParams, WasmResults, WasmRet, WasmTy};

use crate::runtime::call::invoke;
use crate::store::{StoreId, StoreOpaque};
use crate::{AsContext, AsContextMut, Caller, FuncType, Val, ValType};
use anyhow::{Context, Result, anyhow, bail};
use kiln_vm::{VMFuncRef, ValRaw};
use smallvec::{SmallVec, smallvec};
use std::ptr::NonNull;

/// A function owned by a store: exported by an instance, or defined by the
/// host with [`Func::wrap`] (typed closure) or [`Func::new`] (dynamic
/// signature). [`Func::call`] checks `Val`s against its type on every call;
/// [`Func::typed`] checks once and gives a faster [`TypedFunc`].
///
/// ```
/// # fn main() -> kiln::Result<()> {
/// use kiln::{Engine, Func, FuncType, Instance, Module, Store, Val, ValType};
///
/// let engine = Engine::default();
/// let mut store = Store::new(&engine, ());
/// // A host function with a signature known only at run time...
/// let ty = FuncType::new(&engine, [ValType::I32, ValType::I32], [ValType::I32]);
/// let max = Func::new(&mut store, ty, |_caller, params, results| {
///     results[0] = Val::I32(params[0].unwrap_i32().max(params[1].unwrap_i32()));
///     Ok(())
/// });
/// // ...imported by a module and called from WebAssembly.
/// let module = Module::new(&engine, r#"
///     (module
///       (import "" "max" (func $max (param i32 i32) (result i32)))
///       (func (export "clamp_low") (param i32) (result i32)
///         (call $max (local.get 0) (i32.const 10))))
/// "#)?;
/// let instance = Instance::new(&mut store, &module, &[max.into()])?;
/// let clamp_low = instance.get_func(&mut store, "clamp_low").unwrap();
/// let mut results = [Val::I32(0)];
/// clamp_low.call(&mut store, &[Val::I32(3)], &mut results)?;
/// assert_eq!(results[0].unwrap_i32(), 10);
/// // Arguments of the wrong type are an error.
/// assert!(clamp_low.call(&mut store, &[Val::I64(3)], &mut results).is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Copy, Clone, Debug)]
pub struct Func {
    store: StoreId,
    func_ref: NonNull<VMFuncRef>,
}

// SAFETY: a `Func` is an identifier; the record it names is only accessed
// through the owning store, which the caller must provide (and which checks
// the id).
unsafe impl Send for Func {}
// SAFETY: as above.
unsafe impl Sync for Func {}

/// wasmtime's fallible constructors and type test; the rest is below.
impl Func {
    /// [`Func::new`], returning a `Result` as wasmtime's allocation-aware
    /// constructor does. Kiln's never fails.
    pub fn try_new<T: 'static>(
        store: impl AsContextMut<Data = T>,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<Func> {
        Ok(Func::new(store, ty, func))
    }

    /// [`Func::wrap`], returning a `Result` as wasmtime's allocation-aware
    /// constructor does. Kiln's never fails.
    pub fn try_wrap<T: 'static, Params, Results>(
        store: impl AsContextMut<Data = T>,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Result<Func> {
        Ok(Func::wrap(store, func))
    }

    /// Whether this function may be used where a function of type `ty` is
    /// expected (its type [`matches`](FuncType::matches) `ty`). Panics if
    /// the function does not belong to `store`.
    pub fn matches_ty(&self, store: impl AsContext, ty: &FuncType) -> bool {
        self.ty(store).matches(ty)
    }
}

impl Func {
    /// A host function of type `ty` implemented by `func`, which receives
    /// the parameters as `Val`s and must fill `results` with values of the
    /// declared result types (checked after it returns).
    pub fn new<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Func {
        HostFunc::new_dynamic(ty, func).to_func(&mut store.as_context_mut())
    }

    /// A host function implemented by a Rust closure whose parameter and
    /// result types give the function's type. The closure may take a
    /// [`Caller`] first, and may return a `Result` to fail the call.
    pub fn wrap<T: 'static, Params, Results>(
        mut store: impl AsContextMut<Data = T>,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Func {
        let mut store = store.as_context_mut();
        let engine = store.engine().clone();
        func.into_host_func(&engine).to_func(&mut store)
    }

    /// The function's type.
    ///
    /// # Panics
    /// If the function belongs to another store (wasmtime's signature has
    /// no room for an error).
    pub fn ty(&self, store: impl AsContext) -> FuncType {
        let store = store.as_context();
        store.opaque().assert_owns(self.store, "function");
        self.load_ty(store.opaque())
            .expect("function types are registered in the store's engine")
    }

    /// Calls the function with `params`, writing its results to `results`.
    ///
    /// Fails if the number or types of `params`, or the length of
    /// `results`, do not match the function's type, if a reference argument
    /// belongs to another store, if the function traps (a
    /// [`Trap`](crate::Trap) error with a backtrace) or if a host function
    /// returns an error (returned unchanged).
    pub fn call(
        &self,
        mut store: impl AsContextMut,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()> {
        let mut store = store.as_context_mut();
        let id = store.opaque().id;
        self.check_store(id)?;
        let ty = self.load_ty(store.opaque())?;
        let sig = ty.sig();
        if params.len() != sig.params.len() {
            bail!(
                "expected {} arguments, got {}",
                sig.params.len(),
                params.len()
            );
        }
        if results.len() != sig.results.len() {
            bail!(
                "expected {} results, got {}",
                sig.results.len(),
                results.len()
            );
        }
        let capacity = params.len().max(results.len());
        let mut slots: SmallVec<[ValRaw; 8]> = smallvec![ValRaw::zero(); capacity];
        for ((slot, arg), expected) in slots.iter_mut().zip(params).zip(sig.params.iter()) {
            if !arg.ty_unchecked().matches(expected) {
                bail!(
                    "argument type mismatch: found {} but expected {expected}",
                    arg.ty_unchecked()
                );
            }
            *slot = arg.to_vm_raw(id)?;
        }
        // SAFETY: the arguments were checked against the function's type and
        // the buffer has room for the results; the function belongs to this
        // store; no reference into the store is held during the call.
        unsafe { invoke(store.opaque_ptr(), self.func_ref, &mut slots)? };
        for ((result, slot), ty) in results.iter_mut().zip(&slots).zip(sig.results.iter()) {
            *result = Val::from_vm_raw(id, *slot, *ty)?;
        }
        Ok(())
    }

    /// This function as a [`TypedFunc`], after checking that its type is
    /// `Params -> Results`.
    pub fn typed<Params, Results>(
        &self,
        store: impl AsContext,
    ) -> Result<TypedFunc<Params, Results>>
    where
        Params: WasmParams,
        Results: WasmResults,
    {
        let store = store.as_context();
        self.check_store(store.opaque().id)?;
        let ty = self.load_ty(store.opaque())?;
        let mut params = Vec::with_capacity(Params::COUNT);
        Params::push_valtypes(&mut params);
        let mut results = Vec::with_capacity(Results::COUNT);
        Results::push_valtypes(&mut results);
        // Parameters flow into the function, results out of it.
        typecheck(&params, &ty.sig().params, true).context("type mismatch with parameters")?;
        typecheck(&results, &ty.sig().results, false).context("type mismatch with results")?;
        Ok(TypedFunc::from_checked(*self))
    }

    /// The `Func` for a `VMFuncRef` of store `store`.
    pub(crate) fn from_vm(store: StoreId, func_ref: NonNull<VMFuncRef>) -> Func {
        Func { store, func_ref }
    }

    /// The `Func` for a raw `funcref` slot of store `store` (0 is null).
    pub(crate) fn from_raw_bits(store: StoreId, bits: u64) -> Option<Func> {
        NonNull::new(bits as usize as *mut VMFuncRef).map(|func_ref| Func { store, func_ref })
    }

    /// The function's record.
    pub(crate) fn vm_func_ref(&self) -> NonNull<VMFuncRef> {
        self.func_ref
    }

    /// The id of the owning store.
    pub(crate) fn store_id(&self) -> StoreId {
        self.store
    }

    /// Fails unless the function belongs to store `store`.
    pub(crate) fn check_store(&self, store: StoreId) -> Result<()> {
        if self.store != store {
            bail!("function used with the wrong store: cross-`Store` values are not supported");
        }
        Ok(())
    }

    /// The function's type, looked up in the store's engine.
    pub(crate) fn load_ty(&self, store: &StoreOpaque) -> Result<FuncType> {
        self.check_store(store.id)?;
        // SAFETY: the function belongs to this store (checked), which keeps
        // its record alive at this address; the type index is never written
        // after creation.
        let index = unsafe { (*self.func_ref.as_ptr()).type_index };
        FuncType::from_index(&store.engine, index)
            .ok_or_else(|| anyhow!("function has an unregistered type"))
    }
}

/// Whether each of `actual` may be used where the corresponding `expected`
/// is required (and the lengths agree).
/// Checks the Rust side's types `typed` against the function's `func`
/// (`param`: whether they are parameters, which flow into the function),
/// reporting the first difference as wasmtime does: a type that does not
/// match, or the counts (the Rust side's, then the function's).
fn typecheck(typed: &[ValType], func: &[ValType], param: bool) -> Result<()> {
    for (i, rust) in typed.iter().enumerate() {
        let Some(wasm) = func.get(i) else {
            bail!("expected {} types, found {}", typed.len(), func.len());
        };
        let (from, to) = if param { (rust, wasm) } else { (wasm, rust) };
        if !from.matches(to) {
            bail!("type mismatch: expected {to}, found {from}");
        }
    }
    if func.len() > typed.len() {
        bail!("expected {} types, found {}", typed.len(), func.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Engine, Instance, Module, Store, Trap};

    #[test]
    fn smoke_add_through_a_typed_func() {
        let engine = Engine::default();
        let module = Module::new(
            &engine,
            r#"(module (func (export "add") (param i32 i32) (result i32)
                 local.get 0 local.get 1 i32.add))"#,
        )
        .unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let add = instance
            .get_typed_func::<(i32, i32), i32>(&mut store, "add")
            .unwrap();
        assert_eq!(add.call(&mut store, (2, 40)).unwrap(), 42);
        let ty = add.func().ty(&store);
        assert_eq!(ty.to_string(), "(func (param i32 i32) (result i32))");
    }

    #[test]
    fn host_functions_called_from_the_host() {
        let engine = Engine::default();
        let mut store = Store::new(&engine, 10i32);
        let add = Func::wrap(&mut store, |mut caller: Caller<'_, i32>, x: i32| {
            // Called by the host: there is no calling instance.
            assert!(caller.get_export("memory").is_none());
            *caller.data_mut() += x;
            *caller.data()
        });
        let typed = add.typed::<i32, i32>(&store).unwrap();
        assert_eq!(typed.call(&mut store, 5).unwrap(), 15);
        assert!(add.typed::<i64, i32>(&store).is_err());
        assert!(add.typed::<i32, ()>(&store).is_err());

        let unit = Func::wrap(&mut store, || {});
        unit.call(&mut store, &[], &mut []).unwrap();
        let err = unit.call(&mut store, &[Val::I32(1)], &mut []).unwrap_err();
        assert!(err.to_string().contains("expected 0 arguments"), "{err}");
    }

    #[test]
    fn host_traps_and_errors_come_back_unchanged() {
        let engine = Engine::default();
        let mut store = Store::new(&engine, ());
        let trap = Func::wrap(&mut store, || -> Result<()> {
            Err(Trap::UnreachableCodeReached.into())
        });
        let err = trap.call(&mut store, &[], &mut []).unwrap_err();
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::UnreachableCodeReached)
        );
        let fail = Func::wrap(&mut store, || -> Result<i32> { Err(anyhow!("no luck")) });
        let err = fail
            .typed::<(), i32>(&store)
            .unwrap()
            .call(&mut store, ())
            .unwrap_err();
        assert_eq!(err.to_string(), "no luck");
    }

    #[test]
    fn a_panicking_host_function_resumes_in_the_caller() {
        let engine = Engine::default();
        let module = Module::new(
            &engine,
            r#"(module (import "" "boom" (func $boom)) (func (export "run") call $boom))"#,
        )
        .unwrap();
        let mut store = Store::new(&engine, ());
        let boom = Func::wrap(&mut store, || -> () { panic!("kaboom") });
        let instance = Instance::new(&mut store, &module, &[boom.into()]).unwrap();
        let run = instance
            .get_typed_func::<(), ()>(&mut store, "run")
            .unwrap();
        let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = run.call(&mut store, ());
        }))
        .unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"kaboom"));
        // The store is still usable afterwards.
        let ok = Func::wrap(&mut store, || 1i32);
        assert_eq!(
            ok.typed::<(), i32>(&store)
                .unwrap()
                .call(&mut store, ())
                .unwrap(),
            1
        );
    }

    #[test]
    fn funcrefs_round_trip_through_wasm() {
        let engine = Engine::default();
        let module = Module::new(
            &engine,
            r#"(module (func (export "id") (param funcref) (result funcref) local.get 0))"#,
        )
        .unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let id = instance
            .get_typed_func::<Option<Func>, Option<Func>>(&mut store, "id")
            .unwrap();
        let seven = Func::wrap(&mut store, || 7i32);
        let back = id.call(&mut store, Some(seven)).unwrap().unwrap();
        assert_eq!(
            back.typed::<(), i32>(&store)
                .unwrap()
                .call(&mut store, ())
                .unwrap(),
            7
        );
        assert!(id.call(&mut store, None).unwrap().is_none());

        let mut other = Store::new(&engine, ());
        let foreign = Func::wrap(&mut other, || 0i32);
        assert!(id.call(&mut store, Some(foreign)).is_err());
        let mut out = [Val::FuncRef(None)];
        assert!(
            id.func()
                .call(&mut store, &[foreign.into()], &mut out)
                .is_err()
        );
    }

    #[test]
    fn func_new_from_another_engines_type_is_reregistered() {
        let engine = Engine::default();
        let other = Engine::default();
        let ty = FuncType::new(&other, [ValType::I32], [ValType::I32]);
        let mut store = Store::new(&engine, ());
        let f = Func::new(&mut store, ty, |_, args, results| {
            results[0] = Val::I32(args[0].unwrap_i32() + 1);
            Ok(())
        });
        assert!(Engine::same(f.ty(&store).engine(), &engine));
        assert_eq!(
            f.typed::<i32, i32>(&store)
                .unwrap()
                .call(&mut store, 1)
                .unwrap(),
            2
        );
    }
}
