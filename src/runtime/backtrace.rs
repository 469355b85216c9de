//! Listing the WebAssembly frames live on the stack right now, from host
//! code that WebAssembly called (`WasmBacktrace::capture`, and the outer
//! frames of a trap raised inside a nested call).
//!
//! The store's `VMStoreContext::activations` chain links every entry into
//! WebAssembly that has called out again (see [`VMActivation`]), innermost
//! first. An interpreter activation lists its own frames. A native record
//! holds the frame pointer of the native frame that called out (an adapter,
//! or a function calling the epoch builtin); its callers are found by
//! following the saved frame pointers (native code keeps them, see
//! `kiln_jit::isa`) for as long as the return addresses are inside a
//! function body of one of the store's modules. The first return address
//! that is not (a trampoline, the interpreter, the host) ends that stretch.

use crate::store::StoreOpaque;
use kiln_vm::{FrameInfo, VMActivation};

/// The WebAssembly frames on the stack, innermost first.
pub(crate) fn live_frames(store: &StoreOpaque) -> Vec<FrameInfo> {
    let mut out = Vec::new();
    let mut end = usize::MAX;
    let mut record = store.vm.activations;
    while !record.is_null() {
        // SAFETY: the chain links only records that are live: each is
        // unlinked by the frame that owns it before that frame returns,
        // and the frames that linked them are suspended below this call
        // (this runs on the store's thread, in host code they called).
        let activation = unsafe { &*record };
        match activation.kind {
            VMActivation::INTERP => {
                // SAFETY: an interpreter record's `data` is its context,
                // quiescent while it calls out; `end` starts above every
                // frame record and is lowered activation by activation.
                unsafe { kiln_interp::exec::activation_frames(activation.data, &mut end, &mut out) }
            }
            VMActivation::NATIVE => {
                if !activation.vmctx.is_null() {
                    out.push(FrameInfo {
                        vmctx: activation.vmctx,
                        func_index: activation.func_index as u32,
                        pc: 0,
                    });
                }
                // SAFETY: `data` is the frame pointer of a live native frame
                // that keeps frame pointers.
                unsafe { native_frames(store, activation.data, &mut out) };
            }
            _ => {}
        }
        record = activation.prev;
    }
    out
}

/// Appends the native WebAssembly callers of the native frame whose frame
/// pointer is `fp`, innermost first, up to the first caller that is not a
/// function body.
///
/// # Safety
/// `fp` is 0 or the frame pointer of a live frame of Kiln's native code
/// (which saves the caller's frame pointer at `fp` and the return address
/// one word above).
unsafe fn native_frames(store: &StoreOpaque, mut fp: usize, out: &mut Vec<FrameInfo>) {
    const WORD: usize = size_of::<usize>();
    while fp != 0 {
        // SAFETY: per the contract `fp` points at a live frame record of
        // two words: the saved frame pointer and the return address.
        let (saved_fp, ret) = unsafe { (*(fp as *const usize), *((fp + WORD) as *const usize)) };
        // The return address is in the caller; the instruction that called
        // is just before it.
        let Some(frame) = native_frame_at(store, ret.wrapping_sub(1)) else {
            return;
        };
        out.push(frame);
        // The stack grows down: a caller's frame is above its callee's. A
        // frame pointer that does not move up means the chain is broken.
        if saved_fp <= fp {
            return;
        }
        // The caller is a function body, which keeps its frame pointer.
        fp = saved_fp;
    }
}

/// The frame of the native function body holding code address `addr`, if
/// any module of the store has one there.
fn native_frame_at(store: &StoreOpaque, addr: usize) -> Option<FrameInfo> {
    store.instances.iter().find_map(|instance| {
        let func_index = instance.module.native_func_at(addr)?;
        Some(FrameInfo {
            vmctx: instance.vmctx.vmctx(),
            func_index,
            pc: 0,
        })
    })
}
