package io.wismo.peer;

import org.apache.avro.generic.GenericRecord;

/** Reading fields of a decoded generic record. */
final class Avro {
    private Avro() {}

    /** A string field (Avro gives {@code Utf8}), null when the union is null. */
    static String string(GenericRecord record, String field) {
        Object value = record.get(field);
        return value == null ? null : value.toString();
    }

    static long millis(GenericRecord record, String field) {
        return (Long) record.get(field);
    }

    /** A nested record, null when the union is null. */
    static GenericRecord record(GenericRecord record, String field) {
        return (GenericRecord) record.get(field);
    }
}
