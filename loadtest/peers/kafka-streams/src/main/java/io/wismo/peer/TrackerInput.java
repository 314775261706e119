package io.wismo.peer;

/** What the order tracker folds into an order's state: an order event or a routed scan. */
public sealed interface TrackerInput permits OrderEvent, CarrierScan {}
