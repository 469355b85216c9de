//! The native stack limit of a host → wasm entry.
//!
//! Native code traps with `StackOverflow` once the stack pointer goes below
//! `VMStoreContext::stack_limit`. The outermost entry sets it to
//! `max_wasm_stack` below the current stack pointer — but never below what
//! the thread's stack can hold: a thread smaller than `max_wasm_stack` (or
//! entered with less than that left) gets a limit [`HOST_RESERVE`] bytes
//! above the bottom of its stack, so recursion traps instead of running
//! into the guard page, which Kiln has no signal handler for.

/// Stack kept free below the limit for what runs below wasm frames: host
/// functions called from wasm, the runtime's builtins, trap handling.
pub(crate) const HOST_RESERVE: usize = 128 * 1024;

/// The limit for an entry with `max_wasm_stack` bytes of budget, made from
/// the address of a local of the entering function. Never 0 (0 means "no
/// entry is live").
pub(crate) fn entry_limit(max_wasm_stack: usize) -> usize {
    let marker = 0u8;
    let sp = core::hint::black_box(&marker) as *const u8 as usize;
    let wanted = sp.saturating_sub(max_wasm_stack);
    let floor = thread_stack_bottom().map_or(0, |bottom| bottom.saturating_add(HOST_RESERVE));
    wanted.max(floor).max(1)
}

/// The lowest address of the current thread's stack, if the platform says.
fn thread_stack_bottom() -> Option<usize> {
    thread_local! {
        static BOTTOM: Option<usize> = platform::stack_bottom();
    }
    BOTTOM.with(|bottom| *bottom)
}

#[cfg(target_os = "linux")]
mod platform {
    use core::ffi::{c_int, c_void};

    /// `pthread_attr_t`, opaque: 56 bytes on x86-64 glibc, 64 on aarch64;
    /// larger and aligned for any libc.
    #[repr(C, align(16))]
    struct PthreadAttr([u8; 128]);

    unsafe extern "C" {
        fn pthread_self() -> usize;
        fn pthread_getattr_np(thread: usize, attr: *mut PthreadAttr) -> c_int;
        fn pthread_attr_getstack(
            attr: *const PthreadAttr,
            addr: *mut *mut c_void,
            size: *mut usize,
        ) -> c_int;
        fn pthread_attr_destroy(attr: *mut PthreadAttr) -> c_int;
    }

    /// The bottom of the calling thread's stack, from its attributes.
    pub(super) fn stack_bottom() -> Option<usize> {
        let mut attr = PthreadAttr([0; 128]);
        let mut addr: *mut c_void = core::ptr::null_mut();
        let mut size = 0usize;
        // SAFETY: `pthread_getattr_np` initialises `attr` (large enough for
        // any libc's `pthread_attr_t`) for the calling thread; it is read
        // with `pthread_attr_getstack` and destroyed once, only if
        // initialisation succeeded.
        unsafe {
            if pthread_getattr_np(pthread_self(), &mut attr) != 0 {
                return None;
            }
            let ok = pthread_attr_getstack(&attr, &mut addr, &mut size) == 0;
            pthread_attr_destroy(&mut attr);
            ok.then_some(addr as usize)
        }
    }
}

#[cfg(target_os = "macos")]
mod platform {
    use core::ffi::c_void;

    unsafe extern "C" {
        fn pthread_self() -> *mut c_void;
        fn pthread_get_stackaddr_np(thread: *mut c_void) -> *mut c_void;
        fn pthread_get_stacksize_np(thread: *mut c_void) -> usize;
    }

    /// The bottom of the calling thread's stack: its top minus its size.
    pub(super) fn stack_bottom() -> Option<usize> {
        // SAFETY: both functions only read the calling thread's record.
        unsafe {
            let me = pthread_self();
            let top = pthread_get_stackaddr_np(me) as usize;
            top.checked_sub(pthread_get_stacksize_np(me))
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
mod platform {
    /// Unknown here: the limit is `max_wasm_stack` below the entry.
    pub(super) fn stack_bottom() -> Option<usize> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_stays_above_the_thread_stack() {
        let bottom = thread_stack_bottom();
        if cfg!(any(target_os = "linux", target_os = "macos")) {
            assert!(bottom.is_some());
        }
        let marker = 0u8;
        let here = &marker as *const u8 as usize;
        if let Some(bottom) = bottom {
            assert!(bottom < here, "the stack's bottom is below its locals");
            // A budget far larger than any stack is clamped to the thread.
            assert_eq!(entry_limit(usize::MAX / 2), bottom + HOST_RESERVE);
        }
        // A small budget is measured from the entry.
        let limit = entry_limit(4096);
        assert!(limit < here && here - limit < 4096 + 4096);
    }

    #[test]
    fn small_threads_get_a_limit_inside_their_stack() {
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let marker = 0u8;
                let here = &marker as *const u8 as usize;
                let limit = entry_limit(512 * 1024);
                assert!(limit < here);
                assert!(here - limit < 256 * 1024, "limit below the thread's stack");
            })
            .unwrap()
            .join()
            .unwrap();
    }
}
