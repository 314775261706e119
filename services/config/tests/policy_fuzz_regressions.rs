//! Inputs the `policy` fuzz target (`fuzz/fuzz_targets/policy.rs`) found, pinned.

use wismo_config::policy::parse_policy;
use wismo_config::ConfigError;

/// An empty top-level key (`"" = 1`, minimised from a fuzzer input) was refused
/// with `field: Some("")`, shown as "policy file p.toml: field : unknown field
/// ``". It names no field now.
#[test]
fn an_empty_key_is_not_an_empty_field_name() {
    match parse_policy("\"\" = 1\n", "p.toml") {
        Err(ConfigError::Policy { field, reason, .. }) => {
            assert_ne!(field.as_deref(), Some(""), "{reason}");
        }
        other => panic!("expected a policy error, got {other:?}"),
    }
}
