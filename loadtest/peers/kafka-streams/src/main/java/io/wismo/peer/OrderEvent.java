package io.wismo.peer;

import java.util.List;
import org.apache.avro.generic.GenericRecord;

/**
 * An order event from {@code schemas/order_event.avsc}, with the fields the peer decides on.
 * At most one of {@code placed} and {@code shipment} is set; cancellations and return requests
 * carry neither.
 */
public record OrderEvent(
        String eventId, String orderId, long occurredAt, Placed placed, ShipmentCreated shipment)
        implements TrackerInput {

    /** The customer, and the first channel they allow order updates on (null: none). */
    public record Placed(String customerId, String channel) {}

    public record ShipmentCreated(String shipmentId, String trackingNumber, String carrier) {}

    public static OrderEvent fromAvro(GenericRecord r) {
        return new OrderEvent(
                Avro.string(r, "event_id"),
                Avro.string(r, "order_id"),
                Avro.millis(r, "occurred_at"),
                placed(Avro.record(r, "placed")),
                shipment(Avro.record(r, "shipment_created")));
    }

    private static Placed placed(GenericRecord placed) {
        if (placed == null) {
            return null;
        }
        GenericRecord customer = Avro.record(placed, "customer");
        String channel = null;
        @SuppressWarnings("unchecked")
        List<GenericRecord> channels = (List<GenericRecord>) customer.get("channels");
        for (GenericRecord c : channels) {
            if ((Boolean) c.get("transactional_consent")) {
                channel = Avro.string(c, "kind").toLowerCase(java.util.Locale.ROOT);
                break;
            }
        }
        return new Placed(Avro.string(customer, "customer_id"), channel);
    }

    private static ShipmentCreated shipment(GenericRecord s) {
        if (s == null) {
            return null;
        }
        return new ShipmentCreated(
                Avro.string(s, "shipment_id"),
                Avro.string(s, "tracking_number"),
                Avro.string(s, "carrier"));
    }
}
