package io.wismo.peer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Per-order state and milestone decisions, the order-tracker's hop: folds order events and routed
 * scans (keyed by order id) into the order's state in the store, and forwards one command per
 * milestone a shipment reaches. A scan is applied once (by scan id), maps its raw code with
 * wismo's tables, and moves the shipment's status only if it is mapped and outranks the current
 * one. A scan for a shipment the order does not have yet is held until the shipment is created.
 */
public final class OrderTracker implements Processor<String, TrackerInput, String, Command> {
    public static final String STORE = "order-state";
    private static final Comparator<CarrierScan> SCAN_ORDER =
            Comparator.comparingLong(CarrierScan::occurredAt).thenComparing(CarrierScan::scanId);

    private final StatusMapper mapper;
    private final Progress progress;
    private ProcessorContext<String, Command> context;
    private KeyValueStore<String, OrderState> store;

    public OrderTracker(StatusMapper mapper, Progress progress) {
        this.mapper = mapper;
        this.progress = progress;
    }

    @Override
    public void init(ProcessorContext<String, Command> context) {
        this.context = context;
        this.store = context.getStateStore(STORE);
    }

    @Override
    public void process(Record<String, TrackerInput> record) {
        String orderId = record.key();
        OrderState order = store.get(orderId);
        if (order == null) {
            order = new OrderState();
        }
        List<Command> out = new ArrayList<>();
        boolean changed;
        if (record.value() instanceof OrderEvent event) {
            changed = applyEvent(orderId, order, event, record.timestamp(), out);
        } else if (record.value() instanceof CarrierScan scan) {
            changed = applyScan(orderId, order, scan, record.timestamp(), out);
        } else {
            changed = false;
        }
        if (changed) {
            store.put(orderId, order);
        }
        for (Command command : out) {
            context.forward(record.withValue(command));
        }
        progress.decided(out.size());
    }

    /** False when the event changes nothing (a resend, or a kind the peer does not track). */
    private boolean applyEvent(
            String orderId, OrderState order, OrderEvent event, long now, List<Command> out) {
        if (event.placed() != null) {
            if (order.placed) {
                return false;
            }
            order.placed = true;
            order.customerId = event.placed().customerId();
            order.channel = event.placed().channel();
            if (order.channel != null) {
                out.add(Command.of(orderId, order, null, null, Milestone.ORDER_CONFIRMED, now));
            }
            return true;
        }
        OrderEvent.ShipmentCreated created = event.shipment();
        if (created == null || order.shipments.containsKey(created.trackingNumber())) {
            return false;
        }
        order.shipments.put(
                created.trackingNumber(),
                new OrderState.Shipment(created.shipmentId(), created.carrier()));
        List<CarrierScan> released =
                order.heldScans.stream()
                        .filter(held -> held.trackingNumber().equals(created.trackingNumber()))
                        .sorted(SCAN_ORDER)
                        .toList();
        order.heldScans.removeAll(released);
        for (CarrierScan scan : released) {
            applyScan(orderId, order, scan, now, out);
        }
        return true;
    }

    /** False for a resend, which changes nothing. */
    private boolean applyScan(
            String orderId, OrderState order, CarrierScan scan, long now, List<Command> out) {
        OrderState.Shipment shipment = order.shipments.get(scan.trackingNumber());
        if (shipment == null) {
            return hold(order, scan);
        }
        if (!shipment.seenScanIds.add(scan.scanId())) {
            return false;
        }
        Normalized status =
                mapper.normalize(scan.carrier(), scan.rawStatus(), scan.rawStatusDetail());
        // An unmapped code never decides the status.
        if (!status.mapped()
                || !shipment.outranks(scan.occurredAt(), status.status(), scan.scanId())) {
            return true;
        }
        shipment.status = status.status();
        shipment.subStatus = status.subStatus();
        shipment.statusAt = scan.occurredAt();
        shipment.statusScanId = scan.scanId();
        Milestone milestone = Milestone.of(status);
        // Milestones wait for the customer: without a placed order nothing is marked sent.
        if (milestone != null && order.placed && milestone.allowedAfter(shipment.milestonesSent)) {
            shipment.milestonesSent.add(milestone);
            if (order.channel != null) {
                String tracking = scan.trackingNumber();
                out.add(Command.of(orderId, order, tracking, shipment, milestone, now));
            }
        }
        return true;
    }

    private static boolean hold(OrderState order, CarrierScan scan) {
        boolean known = order.heldScans.stream().anyMatch(h -> h.scanId().equals(scan.scanId()));
        if (known || order.heldScans.size() >= OrderState.MAX_HELD_SCANS) {
            return false;
        }
        order.heldScans.add(scan);
        return true;
    }
}
