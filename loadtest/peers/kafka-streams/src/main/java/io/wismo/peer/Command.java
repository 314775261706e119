package io.wismo.peer;

/**
 * One milestone notification for the messaging service, written as JSON to the output topic,
 * keyed by order id. The id is derived from what caused it, so a redelivery repeats it.
 */
public record Command(
        String commandId,
        String orderId,
        String customerId,
        String shipmentId,
        String trackingNumber,
        String milestone,
        String channel,
        String status,
        String subStatus,
        long decidedAt) {

    public static Command of(
            String orderId,
            OrderState order,
            String trackingNumber,
            OrderState.Shipment shipment,
            Milestone milestone,
            long decidedAt) {
        String shipmentId = shipment == null ? null : shipment.shipmentId;
        return new Command(
                orderId + "/" + (shipmentId == null ? "-" : shipmentId) + "/" + milestone.wire(),
                orderId,
                order.customerId,
                shipmentId,
                trackingNumber,
                milestone.wire(),
                order.channel,
                shipment == null ? null : shipment.status.wire(),
                shipment == null ? null : shipment.subStatus,
                decidedAt);
    }
}
