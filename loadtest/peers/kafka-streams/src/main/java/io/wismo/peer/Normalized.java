package io.wismo.peer;

/** A raw carrier code mapped onto the taxonomy; {@code mapped} is false when no row matched. */
public record Normalized(Status status, String subStatus, boolean mapped) {
    public static final Normalized UNMAPPED = new Normalized(Status.UNKNOWN, "unmapped", false);
}
