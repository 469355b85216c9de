//! The fuel cost model, the one every tier charges by.
//!
//! With `Config::consume_fuel`, a program must consume exactly the same fuel
//! and run out at exactly the same point whichever tier runs each of its
//! functions, so the model is defined here once and both translators follow
//! it:
//!
//! * **Cost.** Every operator costs one unit, except `nop`, `drop`,
//!   `block`, `loop`, `end` and `else`, which are free ([`fuel_cost!`],
//!   [`operator_cost`]). Operators in unreachable code cost nothing.
//! * **Regions.** Fuel is charged once per straight-line *region*, at its
//!   start, for every operator of the region: a region left early (by a
//!   branch, a return or a trap) has still paid for all of it. A region
//!   starts at
//!   - the function's entry,
//!   - right after a `loop` (its header: every iteration pays again),
//!   - right after the `else` of a reachable `if` (the else-arm),
//!   - right after the `end` of a `block` or `if` that is a *label*: some
//!     reachable branch targets it (a reachable then-arm falling through
//!     to the `else` counts as a branch to the `end`), or it closes a
//!     reachable `if` without an `else`. An `end` reached only by falling
//!     through does not start a region: the region before it goes on. A
//!     `loop`'s `end` never does.
//!
//!   The charge subtracts the region's cost from
//!   [`VMStoreContext::fuel`](crate::VMStoreContext) and traps with
//!   [`TrapCode::OutOfFuel`](crate::TrapCode) if the result is negative (the
//!   fuel stays negative; embedders see 0 left).
//! * **Epochs.** With epoch interruption, the function entry and every loop
//!   header also compare the engine's epoch with the store's deadline,
//!   before the region's charge.

/// Fuel charged for the operator named `$op` (as in wasmparser's
/// `for_each_operator!` list): 0 for `Nop`, `Drop`, `Block`, `Loop`, `End`
/// and `Else`, 1 for everything else. A macro so that a translator driven
/// by wasmparser's visitor can fold it into a constant per operator.
#[macro_export]
macro_rules! fuel_cost {
    (Nop) => {
        0u32
    };
    (Drop) => {
        0u32
    };
    (Block) => {
        0u32
    };
    (Loop) => {
        0u32
    };
    (End) => {
        0u32
    };
    (Else) => {
        0u32
    };
    ($op:ident) => {
        1u32
    };
}

macro_rules! define_operator_cost {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*) )*) => {
        /// Fuel charged for `op`: [`fuel_cost!`] of its name.
        pub fn operator_cost(op: &wasmparser::Operator<'_>) -> u32 {
            match op {
                $( wasmparser::Operator::$op { .. } => fuel_cost!($op), )*
                // Operators newer than this crate's list cost like the rest.
                #[allow(unreachable_patterns)]
                _ => 1,
            }
        }
    };
}
wasmparser::for_each_operator!(define_operator_cost);

#[cfg(test)]
mod tests {
    use super::*;
    use wasmparser::{BlockType, Operator};

    #[test]
    fn structure_and_no_ops_are_free_everything_else_costs_one() {
        let free = [
            Operator::Nop,
            Operator::Drop,
            Operator::Block {
                blockty: BlockType::Empty,
            },
            Operator::Loop {
                blockty: BlockType::Empty,
            },
            Operator::End,
            Operator::Else,
        ];
        for op in &free {
            assert_eq!(operator_cost(op), 0, "{op:?}");
        }
        let paid = [
            Operator::If {
                blockty: BlockType::Empty,
            },
            Operator::Br { relative_depth: 0 },
            Operator::Unreachable,
            Operator::Return,
            Operator::LocalGet { local_index: 0 },
            Operator::I32Const { value: 1 },
            Operator::I32Add,
            Operator::Call { function_index: 0 },
            Operator::Select,
        ];
        for op in &paid {
            assert_eq!(operator_cost(op), 1, "{op:?}");
        }
        assert_eq!(fuel_cost!(Nop) + fuel_cost!(I64Mul), 1);
    }
}
