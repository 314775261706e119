package io.wismo.peer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Confluent framing (magic 0, 4-byte big-endian schema id, Avro binary) to a value: the writer
 * schema by id, resolved to the subject's current schema, as Confluent's own deserializer does.
 * One resolving reader per writer schema, shared by the stream threads.
 */
public final class FramedAvroDeserializer<T> implements Deserializer<T> {
    private static final int HEADER = 5;

    private final SchemaCatalog catalog;
    private final String subject;
    private final Schema reader;
    private final Function<GenericRecord, T> convert;
    private final Map<Integer, GenericDatumReader<GenericRecord>> readers =
            new ConcurrentHashMap<>();

    public FramedAvroDeserializer(
            SchemaCatalog catalog, String subject, Function<GenericRecord, T> convert) {
        this.catalog = catalog;
        this.subject = subject;
        this.reader = catalog.current(subject);
        this.convert = convert;
    }

    /** A serde for input topics: it reads, and refuses to write. */
    public static <T> Serde<T> serde(
            SchemaCatalog catalog, String subject, Function<GenericRecord, T> convert) {
        Serializer<T> never =
                (topic, value) -> {
                    throw new UnsupportedOperationException("the peer never writes " + subject);
                };
        return Serdes.serdeFrom(never, new FramedAvroDeserializer<>(catalog, subject, convert));
    }

    @Override
    public T deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        if (data.length < HEADER || data[0] != 0) {
            throw new SerializationException(topic + ": not a Confluent-framed Avro record");
        }
        int id = ByteBuffer.wrap(data, 1, 4).getInt();
        GenericDatumReader<GenericRecord> datumReader =
                readers.computeIfAbsent(id, this::readerFor);
        if (datumReader == null) {
            throw new SerializationException(topic + ": unknown " + subject + " schema id " + id);
        }
        try {
            BinaryDecoder decoder =
                    DecoderFactory.get().binaryDecoder(data, HEADER, data.length - HEADER, null);
            GenericRecord record = datumReader.read(null, decoder);
            if (!decoder.isEnd()) {
                throw new SerializationException(topic + ": trailing bytes after the record");
            }
            return convert.apply(record);
        } catch (IOException | RuntimeException e) {
            throw new SerializationException(topic + ": undecodable " + subject, e);
        }
    }

    private GenericDatumReader<GenericRecord> readerFor(int id) {
        Schema writer = catalog.writer(subject, id);
        return writer == null ? null : new GenericDatumReader<>(writer, reader);
    }
}
