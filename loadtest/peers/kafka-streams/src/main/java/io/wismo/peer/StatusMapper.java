package io.wismo.peer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Carrier code to canonical status from wismo's CSV tables ({@code services/core/mappings/}),
 * with wismo's lookup: the carrier's table, else {@code generic}; the {@code (code, detail)}
 * row, else the code's any-detail row; else {@code unknown/unmapped}. Keys are trimmed and
 * lower-cased.
 */
public final class StatusMapper {
    private static final String GENERIC = "generic";
    private static final String HEADER = "code,detail,status,sub_status,description";

    /** carrier → code → detail ("" for any) → mapping. */
    private final Map<String, Map<String, Map<String, Normalized>>> tables = new HashMap<>();

    public static StatusMapper load(Path dir) throws IOException {
        StatusMapper mapper = new StatusMapper();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                String name = file.getFileName().toString();
                if (name.toLowerCase(Locale.ROOT).endsWith(".csv")) {
                    String carrier = key(name.substring(0, name.length() - 4));
                    mapper.tables.put(carrier, parse(file));
                }
            }
        }
        if (!mapper.tables.containsKey(GENERIC)) {
            throw new IOException(dir + " has no generic.csv");
        }
        return mapper;
    }

    public Normalized normalize(String carrier, String rawStatus, String rawDetail) {
        Map<String, Map<String, Normalized>> table = tables.get(key(carrier));
        if (table == null) {
            table = tables.get(GENERIC);
        }
        Map<String, Normalized> byDetail = table.get(key(rawStatus));
        if (byDetail == null) {
            return Normalized.UNMAPPED;
        }
        Normalized row = byDetail.get(rawDetail == null ? "" : key(rawDetail));
        if (row == null) {
            row = byDetail.get("");
        }
        return row == null ? Normalized.UNMAPPED : row;
    }

    private static Map<String, Map<String, Normalized>> parse(Path file) throws IOException {
        Map<String, Map<String, Normalized>> rows = new HashMap<>();
        boolean header = true;
        for (String line : Files.readAllLines(file)) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            if (header) {
                if (!line.trim().equals(HEADER)) {
                    throw new IOException(file + ": header must be " + HEADER);
                }
                header = false;
                continue;
            }
            List<String> f = fields(line);
            if (f.size() != 5) {
                throw new IOException(file + ": expected 5 fields in: " + line);
            }
            Normalized mapping = new Normalized(Status.parse(f.get(2)), key(f.get(3)), true);
            rows.computeIfAbsent(key(f.get(0)), c -> new HashMap<>()).put(key(f.get(1)), mapping);
        }
        return rows;
    }

    /** One CSV line's fields; quoted fields may hold commas and doubled quotes. */
    private static List<String> fields(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    field.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                out.add(field.toString());
                field.setLength(0);
            } else {
                field.append(c);
            }
        }
        out.add(field.toString());
        return out;
    }

    private static String key(String s) {
        return s.trim().toLowerCase(Locale.ROOT);
    }
}
