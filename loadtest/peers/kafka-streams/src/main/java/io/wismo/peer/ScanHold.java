package io.wismo.peer;

import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Scans whose tracking number the table does not know yet wait here, as wismo's scan-matcher
 * holds them, until the table learns the number. The join needs it on a backlog: the
 * shipment-created events reach the table through a repartition topic that two upstream tasks
 * fill at their own pace, so a scan can be joined before its shipment, though stamped later.
 * Both processors run in the join's task, so a scan is either joined or held before its
 * number's table update is processed, never lost between the two.
 */
public final class ScanHold {
    public static final String STORE = "held-scans";
    /** Most scans held per tracking number, as wismo's matcher; the rest are dropped. */
    private static final int MAX_PER_NUMBER = 50;

    private ScanHold() {}

    /** The held scans of one tracking number, in the store and its changelog. */
    public static final class Held {
        public List<Waiting> scans = new ArrayList<>();
    }

    /** A held scan and its record's timestamp. */
    public record Waiting(long at, CarrierScan scan) {}

    /** Forwards joined scans; holds the others. */
    public static final class Route implements Processor<String, RoutedScan, String, RoutedScan> {
        private final Progress progress;
        private ProcessorContext<String, RoutedScan> context;
        private KeyValueStore<String, Held> store;

        public Route(Progress progress) {
            this.progress = progress;
        }

        @Override
        public void init(ProcessorContext<String, RoutedScan> context) {
            this.context = context;
            this.store = context.getStateStore(STORE);
        }

        @Override
        public void process(Record<String, RoutedScan> record) {
            if (record.value().matched()) {
                context.forward(record);
                return;
            }
            Held held = store.get(record.key());
            if (held == null) {
                held = new Held();
            }
            CarrierScan scan = record.value().scan();
            if (held.scans.stream().anyMatch(w -> w.scan().scanId().equals(scan.scanId()))) {
                progress.dropped(); // a resend of a held scan: the tracker would ignore it
                return;
            }
            if (held.scans.size() >= MAX_PER_NUMBER) {
                progress.dropped();
                return;
            }
            held.scans.add(new Waiting(record.timestamp(), scan));
            store.put(record.key(), held);
            progress.held();
        }
    }

    /** On a table update (tracking number → order id), forwards that number's held scans. */
    public static final class Release implements Processor<String, String, String, RoutedScan> {
        private ProcessorContext<String, RoutedScan> context;
        private KeyValueStore<String, Held> store;

        @Override
        public void init(ProcessorContext<String, RoutedScan> context) {
            this.context = context;
            this.store = context.getStateStore(STORE);
        }

        @Override
        public void process(Record<String, String> update) {
            if (update.value() == null) {
                return;
            }
            Held held = store.delete(update.key());
            if (held == null) {
                return;
            }
            for (Waiting w : held.scans) {
                // Stamped no earlier than it was held, as wismo's matcher stamps a release.
                RoutedScan routed = new RoutedScan(update.value(), w.scan());
                long at = Math.max(update.timestamp(), w.at());
                context.forward(update.withValue(routed).withTimestamp(at));
            }
        }
    }
}
