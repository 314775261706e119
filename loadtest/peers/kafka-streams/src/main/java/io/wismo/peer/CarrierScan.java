package io.wismo.peer;

import org.apache.avro.generic.GenericRecord;

/** A carrier scan from {@code schemas/carrier_scan.avsc}, with the fields the peer decides on. */
public record CarrierScan(
        String scanId,
        String trackingNumber,
        String carrier,
        String rawStatus,
        String rawStatusDetail,
        long occurredAt,
        String orderId)
        implements TrackerInput {

    public static CarrierScan fromAvro(GenericRecord r) {
        return new CarrierScan(
                Avro.string(r, "scan_id"),
                Avro.string(r, "tracking_number"),
                Avro.string(r, "carrier"),
                Avro.string(r, "raw_status"),
                Avro.string(r, "raw_status_detail"),
                Avro.millis(r, "occurred_at"),
                Avro.string(r, "order_id"));
    }
}
