package io.wismo.peer;

/** A scan and the order its tracking number belongs to (null: not known yet). */
public record RoutedScan(String orderId, CarrierScan scan) {

    /** The order from the tracking table, else the one the publisher named on the scan. */
    public static RoutedScan of(CarrierScan scan, String orderOfTracking) {
        return new RoutedScan(orderOfTracking != null ? orderOfTracking : scan.orderId(), scan);
    }

    public boolean matched() {
        return orderId != null;
    }
}
