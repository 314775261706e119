package io.wismo.peer;

import java.util.Locale;

/**
 * Level 1 of wismo's status taxonomy ({@code services/core/src/status/taxonomy.rs}), with the
 * precedence that breaks ties between scans of the same time.
 */
public enum Status {
    UNKNOWN(0),
    PENDING(1),
    INFO_RECEIVED(2),
    IN_TRANSIT(3),
    OUT_FOR_DELIVERY(4),
    ATTEMPT_FAIL(5),
    AVAILABLE_FOR_PICKUP(6),
    EXCEPTION(7),
    DELIVERED(8),
    RETURNING_TO_SENDER(9),
    RETURNED_TO_SENDER(10),
    EXPIRED(11);

    public final int precedence;

    Status(int precedence) {
        this.precedence = precedence;
    }

    /** From the snake_case name the mapping tables use. */
    public static Status parse(String name) {
        return valueOf(name.trim().toUpperCase(Locale.ROOT));
    }

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }
}
