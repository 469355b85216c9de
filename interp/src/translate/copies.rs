//! Consecutive copies fused in pairs: a step after the accumulator pass.
//!
//! Moves come in runs: the values a branch carries to a loop header or a
//! block end, the arguments of a call, a `local.tee` feeding a
//! `local.set`. Each `Copy` is a dispatch for two memory operations, so
//! two in a row become one [`Op::Copy2`]. The second copy stays where it
//! was, skipped by the `Copy2` (so no instruction index moves and no branch
//! needs patching); a pair is fused only when no branch lands on its second
//! copy.

use super::acc::branch_targets;
use crate::bytecode::Op;

/// Fuses each pair of consecutive `Copy`s into a `Copy2` (see the module
/// docs).
pub(super) fn fuse_copy_pairs(ops: &mut [Op]) {
    let target = branch_targets(ops);
    let mut pc = 0;
    while pc + 1 < ops.len() {
        if let (
            Op::Copy {
                dst: dst0,
                src: src0,
            },
            Op::Copy {
                dst: dst1,
                src: src1,
            },
        ) = (ops[pc], ops[pc + 1])
            && !target[pc + 1]
        {
            ops[pc] = Op::Copy2 {
                dst0,
                src0,
                dst1,
                src1,
            };
            pc += 2;
        } else {
            pc += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_fuse_unless_a_branch_lands_between() {
        let copy = |dst, src| Op::Copy { dst, src };
        let mut ops = vec![
            copy(1, 0),
            copy(2, 1),
            // A branch lands on the next copy: it pairs with the one after.
            copy(3, 2),
            copy(4, 3),
            copy(5, 4),
            Op::br(-2),
        ];
        fuse_copy_pairs(&mut ops);
        assert_eq!(
            ops,
            [
                Op::Copy2 {
                    dst0: 1,
                    src0: 0,
                    dst1: 2,
                    src1: 1
                },
                copy(2, 1),
                copy(3, 2),
                Op::Copy2 {
                    dst0: 4,
                    src0: 3,
                    dst1: 5,
                    src1: 4
                },
                copy(5, 4),
                Op::br(-2),
            ]
        );
    }
}
