package io.wismo.peer;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/** JSON with Jackson, for the state store, the internal scan topic and the commands. */
public final class JsonSerde {
    private static final ObjectMapper MAPPER =
            new ObjectMapper()
                    .setSerializationInclusion(JsonInclude.Include.NON_NULL)
                    .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private JsonSerde() {}

    public static <T> Serde<T> of(Class<T> type) {
        Serializer<T> serializer =
                (topic, value) -> {
                    try {
                        return value == null ? null : MAPPER.writeValueAsBytes(value);
                    } catch (IOException e) {
                        throw new SerializationException("encoding " + type.getSimpleName(), e);
                    }
                };
        Deserializer<T> deserializer =
                (topic, data) -> {
                    try {
                        return data == null ? null : MAPPER.readValue(data, type);
                    } catch (IOException e) {
                        throw new SerializationException("decoding " + type.getSimpleName(), e);
                    }
                };
        return Serdes.serdeFrom(serializer, deserializer);
    }
}
