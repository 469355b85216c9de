; kiln-bench's real-program workload for Boolector (bench/src/programs.rs):
; is 268435399, the largest prime below 2^28, the product of two numbers
; above 1 and below 2^32? Multiplied as 64-bit vectors, so no wrap-around.
; Expected answer: unsat (about a second under wasmtime with Cranelift).
(set-logic QF_BV)
(declare-fun x () (_ BitVec 64))
(declare-fun y () (_ BitVec 64))
(assert (bvult x #x0000000100000000))
(assert (bvult y #x0000000100000000))
(assert (bvugt x #x0000000000000001))
(assert (bvugt y #x0000000000000001))
(assert (= (bvmul x y) #x000000000fffffc7))
(check-sat)
