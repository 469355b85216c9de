//! Spec tests
