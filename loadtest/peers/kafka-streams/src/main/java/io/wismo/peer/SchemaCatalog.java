package io.wismo.peer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.avro.Schema;

/**
 * The input schemas by Confluent schema id, read from wismo's {@code schemas/} folder with the
 * ids wismo's codec assigns: the current schema of a subject has its base id, version {@code v}
 * from {@code history/<subject>/v<v>.avsc} has {@code 100 * v + base}.
 */
public final class SchemaCatalog {
    /** Subjects the peer decodes, with wismo's base ids. */
    public static final String ORDER_EVENT = "order_event";
    public static final String CARRIER_SCAN = "carrier_scan";
    private static final Map<String, Integer> BASE_IDS = Map.of(ORDER_EVENT, 1, CARRIER_SCAN, 2);
    private static final Pattern VERSION = Pattern.compile("v(\\d+)\\.avsc");

    private final Map<Integer, Schema> byId = new HashMap<>();
    private final Map<Integer, String> subjectOf = new HashMap<>();

    public static SchemaCatalog load(Path dir) throws IOException {
        SchemaCatalog catalog = new SchemaCatalog();
        for (Map.Entry<String, Integer> subject : BASE_IDS.entrySet()) {
            String name = subject.getKey();
            int base = subject.getValue();
            catalog.add(base, name, dir.resolve(name + ".avsc"));
            Path history = dir.resolve("history").resolve(name);
            if (!Files.isDirectory(history)) {
                continue;
            }
            try (Stream<Path> files = Files.list(history)) {
                for (Path file : (Iterable<Path>) files::iterator) {
                    Matcher m = VERSION.matcher(file.getFileName().toString());
                    if (m.matches()) {
                        catalog.add(100 * Integer.parseInt(m.group(1)) + base, name, file);
                    }
                }
            }
        }
        return catalog;
    }

    private void add(int id, String subject, Path file) throws IOException {
        // One parser per file: the versions of a subject reuse the same record names.
        byId.put(id, new Schema.Parser().parse(Files.readString(file)));
        subjectOf.put(id, subject);
    }

    /** The current schema of {@code subject}: what records are resolved to. */
    public Schema current(String subject) {
        return byId.get(BASE_IDS.get(subject));
    }

    /** The schema a record of {@code subject} framed with {@code id} was written with, or null. */
    public Schema writer(String subject, int id) {
        return subject.equals(subjectOf.get(id)) ? byId.get(id) : null;
    }
}
