package io.wismo.peer;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * One order's state in the RocksDB store (and its changelog), as JSON: the customer, the
 * shipments by tracking number, and scans that came before their shipment. Mutable, with public
 * fields, the plain Jackson way.
 */
public final class OrderState {
    /** Most scans held for shipments the order does not know yet, as wismo's tracker. */
    public static final int MAX_HELD_SCANS = 50;

    public String customerId;
    /** The first channel the customer allows order updates on; null: none, or not placed. */
    public String channel;
    public boolean placed;
    public TreeMap<String, Shipment> shipments = new TreeMap<>();
    public List<CarrierScan> heldScans = new ArrayList<>();

    /** One parcel: its current status and what was said about it. */
    public static final class Shipment {
        public String shipmentId;
        public String carrier;
        public Status status;
        public String subStatus;
        public long statusAt;
        public String statusScanId;
        public EnumSet<Milestone> milestonesSent = EnumSet.noneOf(Milestone.class);
        public Set<String> seenScanIds = new HashSet<>();

        public Shipment() {}

        Shipment(String shipmentId, String carrier) {
            this.shipmentId = shipmentId;
            this.carrier = carrier;
        }

        /** Whether a scan at {@code at} with {@code to} outranks the current status. */
        boolean outranks(long at, Status to, String scanId) {
            if (status == null) {
                return true;
            }
            if (at != statusAt) {
                return at > statusAt;
            }
            if (to.precedence != status.precedence) {
                return to.precedence > status.precedence;
            }
            return scanId.compareTo(statusScanId) > 0;
        }
    }
}
