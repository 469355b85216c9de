;; A WASI command importing the older `wasi_unstable` module (snapshot 0),
;; checking the layouts in which snapshot 0 differs from preview 1. Run it
;; with a directory preopened as descriptor 3 (`kiln run --dir DIR::.`).
;;
;; It prints a greeting, creates data.txt holding "0123456789", seeks with
;; snapshot 0's `whence` numbers (cur 0, end 1, set 2: preview 1's are
;; set 0, cur 1, end 2), reads the file's `filestat` by descriptor and by
;; path (56 bytes: a 32-bit link count at 20, the size at 24; preview 1
;; has a 64-bit count at 24 and the size at 32) and waits 1 ms with a
;; clock subscription (56 bytes: an `identifier` at 16 pushes the clock id
;; to 24). It exits with the number of the first check that fails, or
;; prints "checks passed" and returns. The results stay in memory for an
;; embedder to inspect: seek offsets at 24, 32 and 40, the filestats at 64
;; and 128, the event at 256.
(module
  (import "wasi_unstable" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_unstable" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_unstable" "fd_filestat_get" (func $fd_filestat_get (param i32 i32) (result i32)))
  (import "wasi_unstable" "path_filestat_get"
    (func $path_filestat_get (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 512) "hello from wasi_unstable\n")
  (data (i32.const 560) "data.txt")
  (data (i32.const 576) "0123456789")
  (data (i32.const 600) "checks passed\n")

  ;; Exits with `code` unless `ok`.
  (func $check (param $ok i32) (param $code i32)
    (if (i32.eqz (local.get $ok)) (then (call $proc_exit (local.get $code)))))

  ;; Writes `len` bytes at `ptr` to `fd` in one iovec (at 0; count at 8).
  (func $write (param $fd i32) (param $ptr i32) (param $len i32) (result i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)))

  (func (export "_start")
    (local $fd i32)
    (call $check (i32.eqz (call $write (i32.const 1) (i32.const 512) (i32.const 25))) (i32.const 1))

    ;; data.txt, created and truncated (oflags creat | trunc), with the
    ;; rights fd_read, fd_seek, fd_tell, fd_write and fd_filestat_get.
    (call $check
      (i32.eqz (call $path_open (i32.const 3) (i32.const 0) (i32.const 560) (i32.const 8)
        (i32.const 9) (i64.const 2097254) (i64.const 0) (i32.const 0) (i32.const 16)))
      (i32.const 10))
    (local.set $fd (i32.load (i32.const 16)))
    (call $check (i32.eqz (call $write (local.get $fd) (i32.const 576) (i32.const 10))) (i32.const 11))

    ;; whence set (2): offset 2.
    (call $check
      (i32.eqz (call $fd_seek (local.get $fd) (i64.const 2) (i32.const 2) (i32.const 24)))
      (i32.const 19))
    (call $check (i64.eq (i64.load (i32.const 24)) (i64.const 2)) (i32.const 20))
    ;; whence cur (0): 2 + 3.
    (call $check
      (i32.eqz (call $fd_seek (local.get $fd) (i64.const 3) (i32.const 0) (i32.const 32)))
      (i32.const 19))
    (call $check (i64.eq (i64.load (i32.const 32)) (i64.const 5)) (i32.const 21))
    ;; whence end (1): 10 - 1.
    (call $check
      (i32.eqz (call $fd_seek (local.get $fd) (i64.const -1) (i32.const 1) (i32.const 40)))
      (i32.const 19))
    (call $check (i64.eq (i64.load (i32.const 40)) (i64.const 9)) (i32.const 22))

    ;; filestat by descriptor at 64: filetype (regular file, 4) at +16,
    ;; nlink (u32) at +20, size at +24.
    (call $check (i32.eqz (call $fd_filestat_get (local.get $fd) (i32.const 64))) (i32.const 30))
    (call $check (i64.eq (i64.load (i32.const 88)) (i64.const 10)) (i32.const 31))
    (call $check (i32.eq (i32.load (i32.const 84)) (i32.const 1)) (i32.const 32))
    (call $check (i32.eq (i32.load8_u (i32.const 80)) (i32.const 4)) (i32.const 33))
    ;; filestat by path at 128 (lookupflags symlink_follow).
    (call $check
      (i32.eqz (call $path_filestat_get (i32.const 3) (i32.const 1) (i32.const 560) (i32.const 8)
        (i32.const 128)))
      (i32.const 40))
    (call $check (i64.eq (i64.load (i32.const 152)) (i64.const 10)) (i32.const 41))
    (call $check (i32.eq (i32.load8_u (i32.const 144)) (i32.const 4)) (i32.const 42))

    ;; A clock subscription at 192: userdata 0x1234, tag clock (0),
    ;; identifier 0x99, clock monotonic (1), timeout 1 ms, precision 0,
    ;; flags 0 (relative).
    (i64.store (i32.const 192) (i64.const 0x1234))
    (i32.store8 (i32.const 200) (i32.const 0))
    (i64.store (i32.const 208) (i64.const 0x99))
    (i32.store (i32.const 216) (i32.const 1))
    (i64.store (i32.const 224) (i64.const 1000000))
    (i64.store (i32.const 232) (i64.const 0))
    (i32.store16 (i32.const 240) (i32.const 0))
    (call $check
      (i32.eqz (call $poll_oneoff (i32.const 192) (i32.const 256) (i32.const 1) (i32.const 288)))
      (i32.const 50))
    (call $check (i32.eq (i32.load (i32.const 288)) (i32.const 1)) (i32.const 51))
    ;; The event: userdata, errno 0 (success), type clock.
    (call $check (i64.eq (i64.load (i32.const 256)) (i64.const 0x1234)) (i32.const 52))
    (call $check (i32.eqz (i32.load16_u (i32.const 264))) (i32.const 53))
    (call $check (i32.eqz (i32.load8_u (i32.const 266))) (i32.const 54))

    (drop (call $write (i32.const 1) (i32.const 600) (i32.const 14)))))
