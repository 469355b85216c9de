//! Tiered execution needs the native tier: without it there is no tiered
//! state (`Strategy::Tiered` is an `Engine::new` error).

use super::native::TierStats;
use kiln_vm::{VMArrayCallFn, VMContext};
use std::sync::Arc;

/// Never exists in this build.
pub(crate) enum TierState {}

impl TierState {
    pub(crate) fn new(
        _config: &crate::Config,
        compiler: Arc<super::native::NativeCompiler>,
        _queue: Arc<TierQueue>,
        _info: &super::ModuleInfo,
        _types: &kiln_interp::ModuleTypes,
        _bytes: Arc<[u8]>,
    ) -> anyhow::Result<TierState> {
        match *compiler {}
    }

    pub(crate) fn stats(&self, _num_imported_funcs: u32) -> TierStats {
        match *self {}
    }

    pub(crate) fn func_at(&self, _addr: usize) -> Option<u32> {
        match *self {}
    }
}

/// Never used in this build.
pub(crate) struct TierQueue;

impl TierQueue {
    pub(crate) fn new() -> Arc<TierQueue> {
        Arc::new(TierQueue)
    }

    pub(crate) fn shut_down(&self) {}
}

/// Never called in this build.
///
/// # Safety
/// None needed: there is no tiered state to call it with.
pub(crate) unsafe fn tier_up(
    _vmctx: *mut VMContext,
    tier: &Arc<TierState>,
    _func_index: u32,
    _loop_index: u32,
) -> Option<VMArrayCallFn> {
    match **tier {}
}

/// Never called in this build.
///
/// # Safety
/// None needed: there is no tiered state to call it with.
pub(crate) unsafe fn instantiate(_vmctx: *mut VMContext, tier: &TierState) {
    match *tier {}
}
