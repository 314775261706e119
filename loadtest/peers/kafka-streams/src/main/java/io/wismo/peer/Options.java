package io.wismo.peer;

import java.nio.file.Path;
import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Command-line options. Kafka Streams settings a user would tune have their own flag; any other
 * goes through {@code --property key=value}.
 */
public final class Options {
    public String bootstrap;
    public String applicationId;
    public String ordersTopic = "orders";
    public String scansTopic = "carrier-scans";
    public String outputTopic;
    public Path schemas;
    public Path mappings;
    public Path stateDir;
    /** Input records to decide before printing {@code done}; 0 runs without it. */
    public long expectRecords;
    public int threads = Runtime.getRuntime().availableProcessors();
    public String guarantee = StreamsConfig.AT_LEAST_ONCE;
    /** Null: Kafka Streams' default (30 s at least once, 100 ms exactly once). */
    public String commitIntervalMs;
    /** Null: Kafka Streams' default (10 MiB over all threads). */
    public String cacheBytes;
    /** Null: Kafka Streams' default (0: a task with an input caught up does not wait for it). */
    public String maxTaskIdleMs;
    public final Properties extra = new Properties();

    public static Options parse(String[] args) {
        Options o = new Options();
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(flag + " needs a value");
            }
            String value = args[++i];
            switch (flag) {
                case "--bootstrap" -> o.bootstrap = value;
                case "--application-id" -> o.applicationId = value;
                case "--orders-topic" -> o.ordersTopic = value;
                case "--scans-topic" -> o.scansTopic = value;
                case "--output-topic" -> o.outputTopic = value;
                case "--schemas" -> o.schemas = Path.of(value);
                case "--mappings" -> o.mappings = Path.of(value);
                case "--state-dir" -> o.stateDir = Path.of(value);
                case "--expect-records" -> o.expectRecords = Long.parseLong(value);
                case "--threads" -> o.threads = Integer.parseInt(value);
                case "--processing-guarantee" -> o.guarantee = value;
                case "--commit-interval-ms" -> o.commitIntervalMs = value;
                case "--cache-bytes" -> o.cacheBytes = value;
                case "--max-task-idle-ms" -> o.maxTaskIdleMs = value;
                case "--property" -> {
                    int eq = value.indexOf('=');
                    if (eq <= 0) {
                        throw new IllegalArgumentException("--property wants key=value: " + value);
                    }
                    o.extra.setProperty(value.substring(0, eq), value.substring(eq + 1));
                }
                default -> throw new IllegalArgumentException("unknown option " + flag);
            }
        }
        for (Object[] required :
                new Object[][] {
                    {"--bootstrap", o.bootstrap},
                    {"--application-id", o.applicationId},
                    {"--output-topic", o.outputTopic},
                    {"--schemas", o.schemas},
                    {"--mappings", o.mappings},
                }) {
            if (required[1] == null) {
                throw new IllegalArgumentException(required[0] + " is required");
            }
        }
        return o;
    }

    /** The Kafka Streams configuration these options stand for. */
    public Properties streamsConfig() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
        if (maxTaskIdleMs != null) {
            p.put(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG, maxTaskIdleMs);
        }
        if (commitIntervalMs != null) {
            p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitIntervalMs);
        }
        if (cacheBytes != null) {
            p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, cacheBytes);
        }
        if (stateDir != null) {
            p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        }
        // A record that does not decode is skipped and logged, not fatal (wismo dead-letters it).
        p.put(
                StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
                org.apache.kafka.streams.errors.LogAndContinueExceptionHandler.class);
        p.putAll(extra);
        return p;
    }
}
