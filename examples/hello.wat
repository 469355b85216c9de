;; A module with a `_start` function, so `kiln run examples/hello.wat` needs
;; no `--invoke`. With no imports available it cannot print; it returns the
;; answer instead.
(module
  (func (export "_start") (result i32)
    (i32.const 42)))
