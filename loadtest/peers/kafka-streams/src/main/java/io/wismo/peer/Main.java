package io.wismo.peer;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;

/**
 * Runs the peer until SIGTERM. Prints {@code first} and {@code done ...} on stdout (see {@link
 * Progress}); Kafka Streams logs warnings to stderr. Exits 1 if the application fails.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("wismo Kafka Streams peer: " + e.getMessage());
            System.exit(2);
            return;
        }
        SchemaCatalog schemas = SchemaCatalog.load(options.schemas);
        StatusMapper mapper = StatusMapper.load(options.mappings);
        Progress progress = new Progress(options.expectRecords, System.out);
        Topology topology =
                PeerTopology.build(options, partitionsOf(options), schemas, mapper, progress);

        KafkaStreams streams = new KafkaStreams(topology, options.streamsConfig());
        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean failed = new AtomicBoolean();
        streams.setUncaughtExceptionHandler(
                e -> {
                    System.err.println("wismo Kafka Streams peer failed: " + e);
                    failed.set(true);
                    return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse
                            .SHUTDOWN_CLIENT;
                });
        streams.setStateListener(
                (now, before) -> {
                    if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
                        stopped.countDown();
                    }
                });
        Runtime.getRuntime()
                .addShutdownHook(
                        new Thread(
                                () -> {
                                    streams.close(Duration.ofSeconds(10));
                                    stopped.countDown();
                                }));
        streams.start();
        stopped.await();
        if (failed.get() || streams.state() == KafkaStreams.State.ERROR) {
            System.exit(1);
        }
    }

    /**
     * The partition count of the orders topic: the routed scans' repartition topic gets as many,
     * so the tracker finds an order's events and scans in the same task.
     */
    private static int partitionsOf(Options options) throws Exception {
        Map<String, Object> config =
                Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, options.bootstrap);
        try (Admin admin = Admin.create(config)) {
            return admin.describeTopics(List.of(options.ordersTopic))
                    .allTopicNames()
                    .get(30, TimeUnit.SECONDS)
                    .get(options.ordersTopic)
                    .partitions()
                    .size();
        }
    }
}
