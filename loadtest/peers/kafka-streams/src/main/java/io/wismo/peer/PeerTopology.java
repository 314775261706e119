package io.wismo.peer;

import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Joined;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * wismo's hops as a Kafka Streams topology:
 *
 * <ol>
 *   <li>shipment-created events of {@code orders}, re-keyed by tracking number through a
 *       repartition topic, become the table tracking number → order id (RocksDB, changelog);
 *   <li>scans, keyed by tracking number, are left-joined with that table (co-partitioned); a scan
 *       the table does not know yet waits in the {@link ScanHold} until it does; then each is
 *       re-keyed by order id through a second repartition topic, co-partitioned with {@code
 *       orders};
 *   <li>order events and routed scans go to the {@link OrderTracker}, whose per-order state is a
 *       RocksDB store with a changelog, and its commands to the output topic.
 * </ol>
 */
public final class PeerTopology {
    private PeerTopology() {}

    public static Topology build(
            Options options,
            int orderPartitions,
            SchemaCatalog schemas,
            StatusMapper mapper,
            Progress progress) {
        Serde<String> strings = Serdes.String();
        Serde<OrderEvent> orderEvents =
                FramedAvroDeserializer.serde(
                        schemas, SchemaCatalog.ORDER_EVENT, OrderEvent::fromAvro);
        Serde<CarrierScan> scans =
                FramedAvroDeserializer.serde(
                        schemas, SchemaCatalog.CARRIER_SCAN, CarrierScan::fromAvro);

        StreamsBuilder builder = new StreamsBuilder();
        KStream<String, OrderEvent> orders =
                builder.stream(options.ordersTopic, Consumed.with(strings, orderEvents));

        KTable<String, String> orderOfTracking =
                orders.filter((orderId, event) -> event.shipment() != null)
                        .map(
                                (orderId, event) ->
                                        KeyValue.pair(event.shipment().trackingNumber(), orderId),
                                Named.as("shipments-by-tracking"))
                        .toTable(
                                Named.as("tracking-to-order"),
                                Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as(
                                                "tracking-to-order")
                                        .withKeySerde(strings)
                                        .withValueSerde(strings)
                                        // Its updates release held scans at once, not at commit.
                                        .withCachingDisabled());

        builder.addStateStore(
                Stores.keyValueStoreBuilder(
                                Stores.persistentKeyValueStore(ScanHold.STORE),
                                strings,
                                JsonSerde.of(ScanHold.Held.class))
                        .withCachingEnabled());
        KStream<String, RoutedScan> released =
                orderOfTracking.toStream().process(ScanHold.Release::new, ScanHold.STORE);

        KStream<String, TrackerInput> routedScans =
                builder.stream(options.scansTopic, Consumed.with(strings, scans))
                        .leftJoin(
                                orderOfTracking,
                                RoutedScan::of,
                                Joined.with(strings, scans, strings).withName("scan-to-order"))
                        .process(() -> new ScanHold.Route(progress), ScanHold.STORE)
                        .merge(released)
                        .selectKey((tracking, routed) -> routed.orderId())
                        .repartition(
                                Repartitioned.with(strings, JsonSerde.of(RoutedScan.class))
                                        .withName("scans-by-order")
                                        .withNumberOfPartitions(orderPartitions))
                        .<TrackerInput>mapValues(RoutedScan::scan);

        builder.addStateStore(
                Stores.keyValueStoreBuilder(
                                Stores.persistentKeyValueStore(OrderTracker.STORE),
                                strings,
                                JsonSerde.of(OrderState.class))
                        .withCachingEnabled());
        orders.<TrackerInput>mapValues(event -> event)
                .merge(routedScans)
                .process(() -> new OrderTracker(mapper, progress), OrderTracker.STORE)
                .to(options.outputTopic, Produced.with(strings, JsonSerde.of(Command.class)));
        return builder.build();
    }
}
