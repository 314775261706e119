//! What decoding needs of a schema, worked out once per schema rather than once
//! per record: its record name (to refuse records of another subject), the schema
//! with its named references inlined (so the structural check and the direct
//! decoder look nothing up), and its canonical form (to know a writer that is the
//! reader's schema under another id).
//!
//! [`SchemaCatalog`](crate::SchemaCatalog) prepares one per registered schema when
//! it loads; a registry that has none gets one built per record, the same way.

use apache_avro::schema::{
    ArraySchema, MapSchema, NamesRef, Namespace, RecordField, RecordSchema, ResolvedSchema,
    UnionSchema,
};
use apache_avro::Schema;

/// How deep references may nest before a schema counts as recursive (none of
/// wismo's is): such a schema is decoded the general way.
const MAX_DEPTH: usize = 32;

/// A schema prepared for decoding.
#[derive(Debug, Clone)]
pub struct DecodePlan {
    /// The full name of the top-level type, e.g. `io.wismo.CarrierScan`.
    pub(crate) record: String,
    /// The schema without references; `None` if it is recursive.
    pub(crate) inlined: Option<Schema>,
    /// Parsing canonical form: equal for two ids of one schema.
    pub(crate) canonical: String,
}

impl DecodePlan {
    pub fn new(schema: &Schema) -> Self {
        let inlined = ResolvedSchema::try_from(schema)
            .ok()
            .and_then(|resolved| inline(schema, resolved.get_names(), &None, 0));
        DecodePlan {
            record: record_name(schema),
            inlined,
            canonical: schema.canonical_form(),
        }
    }

    /// Whether a record written with this plan's schema reads as `reader` as it is.
    pub(crate) fn same_as(&self, reader: &DecodePlan) -> bool {
        self.canonical == reader.canonical
    }
}

/// The full name of a schema's top-level type, e.g. `io.wismo.CarrierScan`; the
/// canonical form for unnamed types such as `"string"`.
pub(crate) fn record_name(schema: &Schema) -> String {
    match schema.name() {
        Some(name) => name.fullname(None),
        None => schema.canonical_form(),
    }
}

/// `schema` with every `Ref` replaced by the type it names.
fn inline(schema: &Schema, names: &NamesRef<'_>, ns: &Namespace, depth: usize) -> Option<Schema> {
    if depth > MAX_DEPTH {
        return None;
    }
    Some(match schema {
        Schema::Ref { name } => {
            let full = name.fully_qualified_name(ns);
            let target = names.get(&full)?;
            inline(target, names, &full.namespace, depth + 1)?
        }
        Schema::Record(record) => {
            let inner = record.name.fully_qualified_name(ns).namespace;
            let fields = record
                .fields
                .iter()
                .map(|f| {
                    Some(RecordField {
                        schema: inline(&f.schema, names, &inner, depth + 1)?,
                        ..f.clone()
                    })
                })
                .collect::<Option<Vec<_>>>()?;
            Schema::Record(RecordSchema {
                fields,
                ..record.clone()
            })
        }
        Schema::Array(array) => Schema::Array(ArraySchema {
            items: Box::new(inline(&array.items, names, ns, depth + 1)?),
            attributes: array.attributes.clone(),
        }),
        Schema::Map(map) => Schema::Map(MapSchema {
            types: Box::new(inline(&map.types, names, ns, depth + 1)?),
            attributes: map.attributes.clone(),
        }),
        Schema::Union(union) => {
            let variants = union
                .variants()
                .iter()
                .map(|v| inline(v, names, ns, depth + 1))
                .collect::<Option<Vec<_>>>()?;
            Schema::Union(UnionSchema::new(variants).ok()?)
        }
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_inlined() {
        let schema = Schema::parse_str(
            r#"{"type":"record","name":"R","namespace":"n","fields":[
                {"name":"a","type":{"type":"record","name":"L","fields":[{"name":"x","type":"int"}]}},
                {"name":"b","type":["null","L"]},
                {"name":"c","type":{"type":"array","items":"n.L"}}]}"#,
        )
        .unwrap();
        let plan = DecodePlan::new(&schema);
        assert_eq!(plan.record, "n.R");
        let inlined = plan.inlined.expect("not recursive");
        let debug = format!("{inlined:?}");
        assert!(!debug.contains("Ref"), "{debug}");
        assert_eq!(debug.matches("name: \"x\"").count(), 3, "{debug}");
    }

    #[test]
    fn a_recursive_schema_is_not_inlined() {
        let schema = Schema::parse_str(
            r#"{"type":"record","name":"Node","fields":[
                {"name":"next","type":["null","Node"]}]}"#,
        )
        .unwrap();
        assert!(DecodePlan::new(&schema).inlined.is_none());
    }
}
