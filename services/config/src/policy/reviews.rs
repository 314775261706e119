//! `[reviews]`: when to ask for a review.

use super::PolicyDuration;
use serde::Deserialize;
use std::collections::BTreeMap;
use wismo_core::policy::ReviewPolicy;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReviews {
    default_delay: Option<PolicyDuration>,
    fallback_after_fulfilled: Option<PolicyDuration>,
    late_extra: Option<PolicyDuration>,
    delay_by_category: Option<BTreeMap<String, PolicyDuration>>,
}

pub(super) fn merge_reviews(r: &mut ReviewPolicy, raw: RawReviews) -> Result<(), (String, String)> {
    if let Some(v) = raw.default_delay {
        r.default_delay = v.0;
    }
    if let Some(v) = raw.fallback_after_fulfilled {
        r.fallback_after_fulfilled = v.0;
    }
    if let Some(v) = raw.late_extra {
        r.late_extra = v.0;
    }
    if let Some(categories) = raw.delay_by_category {
        for (key, delay) in categories {
            let field = format!("reviews.delay_by_category.{key}");
            let name = key.trim().to_ascii_lowercase();
            if name.is_empty() {
                return Err((field, "a category name cannot be empty".to_string()));
            }
            if r.delay_by_category.contains_key(&name) {
                return Err((
                    field,
                    format!("category `{name}` is given twice (category names ignore case)"),
                ));
            }
            r.delay_by_category.insert(name, delay.0);
        }
    }
    Ok(())
}
