//! Which WebAssembly proposals an engine accepts: wasmtime's
//! `Config::wasm_*` toggles.
//!
//! Every toggle wasmtime has is here under its name, so an embedding that
//! configures proposals compiles unchanged. A proposal Kiln runs — in the
//! interpreter *and* the native tier — maps onto the validator's
//! [`WasmFeatures`]; one it does not run yet can still be switched off (a
//! no-op: it is off by default), but switching it on makes
//! [`Engine::new`](crate::Engine::new) fail with an error naming it, rather
//! than accepting modules Kiln cannot execute.

use super::Config;
use anyhow::{Result, bail};
use wasmparser::WasmFeatures;

/// The proposals Kiln runs in every tier: WebAssembly 2.0 without SIMD
/// (multi-value, bulk memory, reference types, sign extension,
/// non-trapping float-to-int, mutable globals, floats). This is also the
/// default set: wasmtime enables more by default (see
/// `docs/wasmtime-api.md`), but Kiln cannot run those.
pub(crate) const SUPPORTED: WasmFeatures = WasmFeatures::WASM2.difference(WasmFeatures::SIMD);

/// The proposals a configuration asked for explicitly, on top of
/// [`SUPPORTED`] (wasmtime's model: explicit settings win over defaults).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Proposals {
    enabled: WasmFeatures,
    disabled: WasmFeatures,
}

impl Default for Proposals {
    /// No explicit choices. (Not derived: `WasmFeatures::default()` is
    /// wasmparser's default proposal set, not the empty set.)
    fn default() -> Proposals {
        Proposals {
            enabled: WasmFeatures::empty(),
            disabled: WasmFeatures::empty(),
        }
    }
}

impl Proposals {
    /// Records an explicit choice for `flag`.
    fn set(&mut self, flag: WasmFeatures, enable: bool) {
        self.enabled.set(flag, enable);
        self.disabled.set(flag, !enable);
    }

    /// The feature set these choices give.
    pub(crate) fn features(&self) -> WasmFeatures {
        (SUPPORTED - self.disabled) | self.enabled
    }

    /// Fails, naming the first proposal Kiln cannot run, if one is on;
    /// checks the dependencies between the ones it can.
    pub(crate) fn validate(&self) -> Result<()> {
        let features = self.features();
        let unsupported = features - SUPPORTED;
        if let Some((flag_name, _)) = unsupported.iter_names().next() {
            let (name, method) = describe(flag_name);
            bail!(
                "the WebAssembly {name} proposal is not supported by Kiln yet \
                 (it was enabled with `Config::{method}`)"
            );
        }
        if features.contains(WasmFeatures::REFERENCE_TYPES)
            && !features.contains(WasmFeatures::BULK_MEMORY)
        {
            bail!("feature 'reference_types' requires 'bulk_memory' to be enabled");
        }
        Ok(())
    }
}

/// The proposal's usual name and the `Config` method that turns it on, for
/// a `WasmFeatures` flag name.
fn describe(flag_name: &str) -> (String, String) {
    let known = match flag_name {
        "SIMD" => Some(("SIMD", "wasm_simd")),
        "RELAXED_SIMD" => Some(("relaxed SIMD", "wasm_relaxed_simd")),
        "THREADS" => Some(("threads", "wasm_threads")),
        "SHARED_EVERYTHING_THREADS" => Some((
            "shared-everything-threads",
            "wasm_shared_everything_threads",
        )),
        "TAIL_CALL" => Some(("tail-call", "wasm_tail_call")),
        "MULTI_MEMORY" => Some(("multi-memory", "wasm_multi_memory")),
        "EXCEPTIONS" => Some(("exception-handling", "wasm_exceptions")),
        "LEGACY_EXCEPTIONS" => Some(("legacy exception-handling", "wasm_legacy_exceptions")),
        "MEMORY64" => Some(("memory64", "wasm_memory64")),
        "EXTENDED_CONST" => Some(("extended-const", "wasm_extended_const")),
        "FUNCTION_REFERENCES" => Some(("function-references", "wasm_function_references")),
        "GC" => Some(("GC", "wasm_gc")),
        "CUSTOM_PAGE_SIZES" => Some(("custom-page-sizes", "wasm_custom_page_sizes")),
        "STACK_SWITCHING" => Some(("stack-switching", "wasm_stack_switching")),
        "WIDE_ARITHMETIC" => Some(("wide-arithmetic", "wasm_wide_arithmetic")),
        "COMPONENT_MODEL" => Some(("component model", "wasm_component_model")),
        "CM_ASYNC" => Some(("component-model async", "wasm_component_model_async")),
        "CM_MORE_ASYNC_BUILTINS" => Some((
            "component-model async builtins",
            "wasm_component_model_more_async_builtins",
        )),
        "CM_ASYNC_STACKFUL" => Some((
            "component-model stackful async",
            "wasm_component_model_async_stackful",
        )),
        "CM_THREADING" => Some((
            "component-model threading",
            "wasm_component_model_threading",
        )),
        "CM_ERROR_CONTEXT" => Some((
            "component-model error-context",
            "wasm_component_model_error_context",
        )),
        "CM_GC" => Some(("component-model GC", "wasm_component_model_gc")),
        "CM_MAP" => Some(("component-model map", "wasm_component_model_map")),
        "CM64" => Some(("component-model memory64", "wasm_component_model_memory64")),
        "CM_FIXED_LENGTH_LISTS" => Some((
            "component-model fixed-length lists",
            "wasm_component_model_fixed_length_lists",
        )),
        "CM_IMPLEMENTS" => Some((
            "component-model implements",
            "wasm_component_model_implements",
        )),
        _ => None,
    };
    match known {
        Some((name, method)) => (name.to_owned(), method.to_owned()),
        None => (
            flag_name.to_ascii_lowercase().replace('_', "-"),
            format!("wasm_features(WasmFeatures::{flag_name}, true)"),
        ),
    }
}

/// Declares `Config` methods that switch one proposal on or off.
macro_rules! proposal_toggles {
    ($($(#[$doc:meta])* $method:ident => $flag:ident;)*) => {
        impl Config {
            $(
                $(#[$doc])*
                pub fn $method(&mut self, enable: bool) -> &mut Self {
                    self.proposals.set(WasmFeatures::$flag, enable);
                    self
                }
            )*
        }
    };
}

proposal_toggles! {
    /// The multi-value proposal: functions and blocks with several
    /// results. Supported; on by default.
    wasm_multi_value => MULTI_VALUE;
    /// The bulk-memory proposal: `memory.copy`, `memory.fill`, passive
    /// segments, `table.copy`/`table.init`. Supported; on by default, and
    /// reference types need it.
    wasm_bulk_memory => BULK_MEMORY;
    /// The reference-types proposal: `funcref`/`externref` values, several
    /// tables, the `table.*` and `ref.*` instructions. Supported; on by
    /// default.
    wasm_reference_types => REFERENCE_TYPES;
    /// The fixed-width SIMD proposal (`v128`). Kiln does not run SIMD yet:
    /// off by default (wasmtime: on), and enabling it makes `Engine::new`
    /// fail.
    wasm_simd => SIMD;
    /// The relaxed-SIMD proposal. Not supported by Kiln yet: off by default
    /// (wasmtime: on), and enabling it makes `Engine::new` fail.
    wasm_relaxed_simd => RELAXED_SIMD;
    /// The threads proposal: shared memories and atomic instructions. Not
    /// supported by Kiln yet: off by default (wasmtime: on with its
    /// default `threads` feature), and enabling it makes `Engine::new` fail.
    wasm_threads => THREADS;
    /// The shared-everything-threads proposal. Not supported by Kiln: off
    /// by default (as in wasmtime), and enabling it makes `Engine::new`
    /// fail.
    wasm_shared_everything_threads => SHARED_EVERYTHING_THREADS;
    /// The tail-call proposal (`return_call`, `return_call_indirect`). Not
    /// supported by Kiln yet: off by default (wasmtime: on), and enabling it
    /// makes `Engine::new` fail.
    wasm_tail_call => TAIL_CALL;
    /// The multi-memory proposal: several memories per module. Not
    /// supported by Kiln yet: off by default (wasmtime: on), and enabling it
    /// makes `Engine::new` fail.
    wasm_multi_memory => MULTI_MEMORY;
    /// The 64-bit memory proposal. Not supported by Kiln yet: off by
    /// default (as in wasmtime), and enabling it makes `Engine::new` fail.
    wasm_memory64 => MEMORY64;
    /// The extended-constant-expressions proposal. Not supported by Kiln
    /// yet: off by default (wasmtime: on), and enabling it makes
    /// `Engine::new` fail.
    wasm_extended_const => EXTENDED_CONST;
    /// The typed function-references proposal. Not supported by Kiln yet:
    /// off by default (wasmtime: on), and enabling it makes `Engine::new`
    /// fail.
    wasm_function_references => FUNCTION_REFERENCES;
    /// The garbage-collection proposal. Not supported by Kiln: off by
    /// default (wasmtime: on), and enabling it makes `Engine::new` fail.
    wasm_gc => GC;
    /// The exception-handling proposal (`try_table`, `throw`, `exnref`).
    /// Not supported by Kiln yet: off by default (wasmtime: on), and
    /// enabling it makes `Engine::new` fail.
    wasm_exceptions => EXCEPTIONS;
    /// The legacy (phase-3) exception-handling instructions. Not supported
    /// by Kiln: off by default (as in wasmtime), and enabling it makes
    /// `Engine::new` fail.
    wasm_legacy_exceptions => LEGACY_EXCEPTIONS;
    /// The custom-page-sizes proposal. Not supported by Kiln yet: off by
    /// default (as in wasmtime), and enabling it makes `Engine::new` fail.
    wasm_custom_page_sizes => CUSTOM_PAGE_SIZES;
    /// The stack-switching proposal. Not supported by Kiln: off by default
    /// (as in wasmtime), and enabling it makes `Engine::new` fail.
    wasm_stack_switching => STACK_SWITCHING;
    /// The wide-arithmetic proposal (128-bit add/sub/mul). Not supported by
    /// Kiln yet: off by default (as in wasmtime), and enabling it makes
    /// `Engine::new` fail.
    wasm_wide_arithmetic => WIDE_ARITHMETIC;
    /// The component model. Kiln runs core modules only: off by default
    /// (wasmtime: on), and enabling it makes `Engine::new` fail.
    wasm_component_model => COMPONENT_MODEL;
    /// The component model's async support. Kiln has no component model:
    /// off by default, and enabling it makes `Engine::new` fail.
    wasm_component_model_async => CM_ASYNC;
    /// The component model's extra async built-ins. Kiln has no component
    /// model: off by default, and enabling it makes `Engine::new` fail.
    wasm_component_model_more_async_builtins => CM_MORE_ASYNC_BUILTINS;
    /// The component model's stackful async. Kiln has no component model:
    /// off by default, and enabling it makes `Engine::new` fail.
    wasm_component_model_async_stackful => CM_ASYNC_STACKFUL;
    /// The component model's threading built-ins. Kiln has no component
    /// model: off by default, and enabling it makes `Engine::new` fail.
    wasm_component_model_threading => CM_THREADING;
    /// The component model's `error-context` type. Kiln has no component
    /// model: off by default, and enabling it makes `Engine::new` fail.
    wasm_component_model_error_context => CM_ERROR_CONTEXT;
    /// The component model's GC-based lifting and lowering. Kiln has no
    /// component model: off by default, and enabling it makes `Engine::new`
    /// fail.
    wasm_component_model_gc => CM_GC;
    /// The component model's `map` type. Kiln has no component model: off
    /// by default, and enabling it makes `Engine::new` fail.
    wasm_component_model_map => CM_MAP;
    /// The component model's 64-bit memories. Kiln has no component model:
    /// off by default, and enabling it makes `Engine::new` fail.
    wasm_component_model_memory64 => CM64;
    /// The component model's fixed-length lists. Kiln has no component
    /// model: off by default, and enabling it makes `Engine::new` fail.
    wasm_component_model_fixed_length_lists => CM_FIXED_LENGTH_LISTS;
    /// The component model's `implements` annotations. Kiln has no
    /// component model: off by default, and enabling it makes `Engine::new`
    /// fail.
    wasm_component_model_implements => CM_IMPLEMENTS;
}

impl Config {
    /// Switches the proposals in `flag` on or off directly, by the
    /// validator's [`WasmFeatures`] flags: the general form of the
    /// `wasm_*` methods. As with them, `Engine::new` fails if a flag Kiln
    /// cannot run ends up on.
    pub fn wasm_features(&mut self, flag: WasmFeatures, enable: bool) -> &mut Self {
        self.proposals.set(flag, enable);
        self
    }

    /// Whether WebAssembly branch hints (the `metadata.code.branch_hint`
    /// custom section) are used. Hints never change what a program does;
    /// Kiln does not use them for code layout, so this is accepted and has
    /// no effect (off by default, as in wasmtime).
    pub fn wasm_branch_hinting(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// Whether relaxed-SIMD instructions give the same results on every
    /// machine. Kiln does not run relaxed SIMD (see
    /// [`Config::wasm_relaxed_simd`]), so there is nothing for this to
    /// change: it is accepted and has no effect.
    pub fn relaxed_simd_deterministic(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_wasm2_without_simd() {
        let features = Proposals::default().features();
        assert_eq!(features, SUPPORTED);
        assert!(!features.contains(WasmFeatures::SIMD));
        assert!(features.contains(WasmFeatures::REFERENCE_TYPES));
        assert!(features.contains(WasmFeatures::MULTI_VALUE));
        assert!(features.contains(WasmFeatures::SIGN_EXTENSION));
    }

    #[test]
    fn explicit_choices_win_and_the_last_one_counts() {
        let mut p = Proposals::default();
        p.set(WasmFeatures::MULTI_VALUE, false);
        assert!(!p.features().contains(WasmFeatures::MULTI_VALUE));
        p.set(WasmFeatures::TAIL_CALL, true);
        assert!(p.validate().is_err());
        p.set(WasmFeatures::TAIL_CALL, false);
        p.validate().unwrap();
        p.set(WasmFeatures::MULTI_VALUE, true);
        assert_eq!(p.features(), SUPPORTED);
    }

    #[test]
    fn every_flag_outside_the_supported_set_is_named() {
        for (flag_name, flag) in (WasmFeatures::all() - SUPPORTED).iter_names() {
            let mut p = Proposals::default();
            p.set(flag, true);
            let err = p.validate().unwrap_err().to_string();
            let (name, _) = describe(flag_name);
            assert!(
                err.contains(&format!("the WebAssembly {name} proposal is not supported")),
                "{flag_name}: {err}"
            );
        }
    }
}
