//! The single pass: wasmparser decodes each operator once and hands it to
//! [`Driver`], which validates it (when a validator is given) and then
//! translates it.
//!
//! The driver is a `VisitOperator` rather than a loop over
//! `OperatorsReader::read`: decoding through a visitor skips a layer of
//! `Operator` moves that costs more than the whole translation, and lets
//! each operator go to the validator's own visit method — exactly what
//! `FuncValidator::op` does after re-dispatching on the `Operator`.

use super::Translator;
use super::dispatch::{dead_op, translate_op};
use wasmparser::{
    BinaryReader, FrameKind, FrameStack, FuncValidator, ValidatorResources, VisitOperator,
};

/// Validates and translates the operators of one body.
pub(super) struct Driver<'t, 'a, 'v> {
    /// The translation state.
    translator: &'t mut Translator<'a>,
    /// The body's validator, if it has not been validated before.
    validator: Option<&'v mut FuncValidator<ValidatorResources>>,
    /// Offset of the operator being visited (for the validator's errors).
    offset: u64,
    /// Kinds of the open blocks, dead ones included: the decoder checks
    /// `else`/`end` placement against it (as `OperatorsReader` does).
    frames: Vec<FrameKind>,
}

impl<'t, 'a, 'v> Driver<'t, 'a, 'v> {
    /// A driver for a body whose operators start now.
    pub(super) fn new(
        translator: &'t mut Translator<'a>,
        validator: Option<&'v mut FuncValidator<ValidatorResources>>,
    ) -> Self {
        let mut frames = Vec::with_capacity(8);
        frames.push(FrameKind::Block);
        Driver {
            translator,
            validator,
            offset: 0,
            frames,
        }
    }

    /// Decodes, validates and translates every operator of `reader`, then
    /// checks that the body ended where it should.
    pub(super) fn run(&mut self, reader: &mut BinaryReader<'_>) -> anyhow::Result<()> {
        while !reader.eof() {
            self.offset = reader.original_position();
            reader.visit_operator(self)??;
        }
        reader.finish_expression(self)?;
        Ok(())
    }

    /// Adds the offset to a translation error.
    #[inline(always)]
    fn located(&self, result: anyhow::Result<()>) -> anyhow::Result<()> {
        match result {
            Ok(()) => Ok(()),
            Err(e) => Err(self.context(e)),
        }
    }

    #[cold]
    fn context(&self, e: anyhow::Error) -> anyhow::Error {
        e.context(format!(
            "cannot translate the operator at offset {:#x}",
            self.offset
        ))
    }
}

impl FrameStack for Driver<'_, '_, '_> {
    #[inline]
    fn current_frame(&self) -> Option<FrameKind> {
        self.frames.last().copied()
    }
}

/// Every `visit_*` method: validate, track block kinds, translate.
macro_rules! define_visit_operator {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*) )*) => {
        $(
            #[inline]
            fn $visit(&mut self $($(, $arg: $argty)*)?) -> Self::Output {
                if let Some(validator) = self.validator.as_deref_mut() {
                    validator.visitor(self.offset).$visit($($($arg.clone()),*)?)?;
                }
                define_visit_operator!(@frames self $op);
                let t = &mut *self.translator;
                if t.reachable {
                    define_visit_operator!(@fuel t $op);
                }
                let result = if t.reachable {
                    translate_op!(t $op ($($($arg),*)?))
                } else {
                    $($(let _ = $arg;)*)?
                    dead_op!(t $proposal $op)
                };
                self.located(result)
            }
        )*
    };
    (@frames $s:ident Block) => { $s.frames.push(FrameKind::Block) };
    (@frames $s:ident Loop) => { $s.frames.push(FrameKind::Loop) };
    (@frames $s:ident If) => { $s.frames.push(FrameKind::If) };
    (@frames $s:ident Else) => {{
        $s.frames.pop();
        $s.frames.push(FrameKind::Else);
    }};
    (@frames $s:ident End) => {{
        $s.frames.pop();
    }};
    // Other block-structured operators are not Wasm 2.0: the translator
    // rejects them before the frame kinds could matter.
    (@frames $s:ident $op:ident) => {};
    // The fuel cost model every tier shares (`kiln_vm::fuel`): a constant
    // per operator, 0 for structure and no-ops.
    (@fuel $t:ident $op:ident) => { $t.charge(crate::vm::fuel_cost!($op)) };
}

#[allow(clippy::clone_on_copy, clippy::redundant_clone)]
impl<'a> VisitOperator<'a> for Driver<'_, '_, '_> {
    type Output = anyhow::Result<()>;

    wasmparser::for_each_visit_operator!(define_visit_operator);
}
