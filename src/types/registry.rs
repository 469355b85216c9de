//! The engine-wide function type registry.
//!
//! Every function signature used in an engine — by a module's type section,
//! by `FuncType::new`, by `Func::wrap` — is interned here once and named by a
//! [`VMSharedTypeIndex`]. Equal signatures get equal indices, so runtime type
//! checks (`call_indirect`, import matching, `Func::typed`) compare integers.
//!
//! Entries are never removed: the registry grows with the number of
//! *distinct* signatures an engine has seen, which is small in practice.

use super::ValType;
use kiln_vm::VMSharedTypeIndex;
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

/// A function signature: parameter and result types.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct FuncSig {
    /// Parameter types, in order.
    pub(crate) params: Box<[ValType]>,
    /// Result types, in order.
    pub(crate) results: Box<[ValType]>,
}

/// Interns [`FuncSig`]s into [`VMSharedTypeIndex`]es. Thread-safe.
#[derive(Debug, Default)]
pub(crate) struct TypeRegistry {
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    by_sig: HashMap<Arc<FuncSig>, VMSharedTypeIndex>,
    sigs: Vec<Arc<FuncSig>>,
}

impl TypeRegistry {
    /// The index of `sig`, registering it if it is new.
    pub(crate) fn register(&self, sig: FuncSig) -> (VMSharedTypeIndex, Arc<FuncSig>) {
        if let Some((sig, index)) = self
            .inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .by_sig
            .get_key_value(&sig)
        {
            return (*index, sig.clone());
        }
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if let Some((sig, index)) = inner.by_sig.get_key_value(&sig) {
            return (*index, sig.clone());
        }
        // Each entry holds at least one allocation, so memory runs out long
        // before four billion distinct signatures.
        let index = VMSharedTypeIndex(
            u32::try_from(inner.sigs.len()).expect("more than 2^32 distinct function types"),
        );
        let sig = Arc::new(sig);
        inner.sigs.push(sig.clone());
        inner.by_sig.insert(sig.clone(), index);
        (index, sig)
    }

    /// The signature registered as `index`, if any.
    pub(crate) fn lookup(&self, index: VMSharedTypeIndex) -> Option<Arc<FuncSig>> {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        inner.sigs.get(index.0 as usize).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(params: &[ValType], results: &[ValType]) -> FuncSig {
        FuncSig {
            params: params.into(),
            results: results.into(),
        }
    }

    #[test]
    fn equal_signatures_share_an_index() {
        let registry = TypeRegistry::default();
        let (a, _) = registry.register(sig(&[ValType::I32], &[ValType::I64]));
        let (b, _) = registry.register(sig(&[ValType::I32], &[]));
        let (c, shared) = registry.register(sig(&[ValType::I32], &[ValType::I64]));
        assert_eq!(a, c);
        assert_ne!(a, b);
        assert_eq!(&*shared.results, &[ValType::I64]);
        assert_eq!(registry.lookup(b).unwrap().results.len(), 0);
        assert!(registry.lookup(VMSharedTypeIndex(99)).is_none());
    }
}
