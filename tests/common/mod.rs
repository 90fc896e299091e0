//! Code shared by the integration tests (each test file includes what it uses).

pub mod suite;
pub mod tolerance;
