//! The last step of translation: a finished function's `Op`s become the
//! executor's [`Inst`]s.
//!
//! Everything here is a decision the executor makes about code that will
//! not change again: which handler runs each instruction (a plain one, or a
//! twin that drops a dead result or takes a constant operand from the
//! instruction), where each branch's target handler is, and which of the
//! function's constants a frame still needs in its slots once the
//! instructions that read them carry copies.

use super::handlers::{HANDLERS, VARIANTS};
use crate::bytecode::{Inst, Link, Op, Slot};

/// Assembles a finished function's instructions for execution: pairs each
/// `Op` with its handler (see [`Inst`]) and stores in every [`Op::Br`] (the
/// `br_table` entries included) its target's handler (see [`Link`]). The
/// translator calls it last, once no instruction will change. A `Br` whose
/// target lies outside `ops` is left unlinked (the translator never emits
/// one).
///
/// Two facts pick a variant of an instruction's handler, where it has one:
///
/// * `dead[pc]` (missing = `false`) says that the result slot of the
///   instruction at `pc` is never read — only the accumulator the next
///   instruction takes it from is — so it gets the variant that does not
///   write the slot. This is the translator's claim to make (it knows which
///   slots are temporaries and who reads them); a wrong one would leave a
///   stale value in the slot.
/// * A binary instruction or a fused compare-and-branch whose right operand
///   is one of the function's constants (`consts`, in slots from
///   `first_const`) gets the constant copied into it
///   ([`Bin::imm`](crate::bytecode::Bin::imm),
///   [`BrCmp::imm`](crate::bytecode::BrCmp::imm)) and the variant that
///   reads it from there — when 32 bits carry it: always for 32-bit
///   operands (read truncated), for 64-bit ones when the constant is its low
///   half sign-extended.
///
/// Then `consts` shrinks to the constants some instruction still reads from
/// a slot, renumbered to the front of the constant slots (see
/// [`live_constants_first`]): the constant pool a frame is entered with is
/// copied on every call, and most constants end up as immediates.
pub fn assemble(
    mut ops: Vec<Op>,
    dead: &[bool],
    consts: &mut Vec<u64>,
    first_const: Slot,
) -> Box<[Inst]> {
    // Only where an immediate twin exists to read it (every instruction
    // `immediate_mut` names has one; this keeps a mismatch from dropping a
    // constant its plain handler still reads).
    let immediate: Vec<bool> = ops
        .iter_mut()
        .map(|op| VARIANTS[tag_of(op)].is_some() && fill_immediate(op, consts, first_const))
        .collect();
    live_constants_first(&mut ops, &immediate, consts, first_const);
    let handlers: Vec<usize> = ops
        .iter()
        .enumerate()
        .map(|(pc, op)| {
            let tag = tag_of(op);
            let discard = dead.get(pc) == Some(&true);
            let h = match (VARIANTS[tag], discard, immediate[pc]) {
                (Some(v), true, true) => v.immediate_discarding,
                (Some(v), true, false) => v.discarding,
                (Some(v), false, true) => v.immediate,
                _ => HANDLERS[tag],
            };
            h as usize
        })
        .collect();
    link_branches(&mut ops, &handlers);
    offsets_in_bytes(&mut ops);
    ops.into_iter()
        .zip(handlers)
        .map(|(op, handler)| Inst { handler, op })
        .collect()
}

/// `op`'s tag: its index in `HANDLERS`.
fn tag_of(op: &Op) -> usize {
    // SAFETY: `Op` is `#[repr(u16)]`: its first two bytes are its tag, an
    // index into `HANDLERS` (one entry per variant).
    usize::from(unsafe { *core::ptr::from_ref(op).cast::<u16>() })
}

/// Stores in every `Br` whose target is inside `ops` the handler chosen
/// for its target (`handlers[pc]`: a twin, where one was picked — the plain
/// handler would read a constant's slot that may no longer hold it).
fn link_branches(ops: &mut [Op], handlers: &[usize]) {
    for (pc, op) in ops.iter_mut().enumerate() {
        let Op::Br { offset, to } = op else {
            continue;
        };
        if let Some(&target) = pc
            .checked_add_signed(*offset as isize)
            .and_then(|t| handlers.get(t))
        {
            *to = Link(target);
        }
    }
}

/// Rescales every branch offset from instructions to bytes (see
/// [`Op::branch_offset`]). Cannot overflow: `translate` refuses a function
/// with more instructions than an `i32` of bytes spans.
fn offsets_in_bytes(ops: &mut [Op]) {
    for op in ops {
        if let Some(offset) = op.branch_offset_mut() {
            *offset *= size_of::<Inst>() as i32;
        }
    }
}

/// If `op` can take its right operand as an immediate and that operand is
/// a constant that fits (see [`assemble`]), copies the constant into it and
/// returns `true`.
fn fill_immediate(op: &mut Op, consts: &[u64], first_const: Slot) -> bool {
    let Some((rhs, imm, wide)) = op.immediate_mut() else {
        return false;
    };
    let Some(&c) = rhs
        .checked_sub(first_const)
        .and_then(|i| consts.get(usize::from(i)))
    else {
        return false;
    };
    let fits = !wide || c == c as i32 as i64 as u64;
    if fits {
        *imm = c as u32;
    }
    fits
}

/// Renumbers the constant slots so that the constants some instruction
/// still reads from its slot come first, in their old order, and truncates
/// `consts` to them. (An instruction marked `immediate` does not read its
/// right operand's slot, and the second instruction of a fused pair is
/// never executed.) The frame keeps its size: the slots of the dropped
/// constants are simply never read.
fn live_constants_first(
    ops: &mut [Op],
    immediate: &[bool],
    consts: &mut Vec<u64>,
    first_const: Slot,
) {
    let n = consts.len();
    let index = |s: Slot| {
        s.checked_sub(first_const)
            .map(usize::from)
            .filter(|&i| i < n)
    };
    let mut live = vec![false; n];
    let mut leftover = false;
    for (op, &imm) in ops.iter().zip(immediate) {
        // The second of a fused pair never runs (no branch lands on it).
        if core::mem::replace(&mut leftover, op.skips_next()) {
            continue;
        }
        let mut probe = *op;
        if imm && let Some((rhs, _, _)) = probe.immediate_mut() {
            // Above every slot of a frame (see the translator's layout).
            *rhs = Slot::MAX;
        }
        probe.map_slots(|s| {
            if let Some(i) = index(s) {
                live[i] = true;
            }
            s
        });
    }
    let num_live = live.iter().filter(|&&l| l).count();
    if num_live == n {
        return;
    }
    // The new position of each constant: live ones first, then the rest.
    let mut new_index = vec![0; n];
    let (mut next_live, mut next_dead) = (0, num_live);
    for (i, &l) in live.iter().enumerate() {
        let next = if l { &mut next_live } else { &mut next_dead };
        new_index[i] = *next;
        *next += 1;
    }
    for op in ops.iter_mut() {
        op.map_slots(|s| match index(s) {
            Some(i) => first_const + new_index[i] as Slot,
            None => s,
        });
    }
    let mut reordered = vec![0; n];
    for (i, &c) in consts.iter().enumerate() {
        reordered[new_index[i]] = c;
    }
    reordered.truncate(num_live);
    *consts = reordered;
}

/// Whether `inst` runs a handler that takes its right operand from the
/// instruction (for evaluators that model the executor in tests).
#[cfg(test)]
pub(crate) fn takes_immediate(inst: &Inst) -> bool {
    VARIANTS[tag_of(&inst.op)].is_some_and(|v| {
        [v.immediate as usize, v.immediate_discarding as usize].contains(&inst.handler)
    })
}
