package io.wismo.peer;

import java.util.Locale;
import java.util.Set;

/**
 * What is worth telling the customer, with wismo's rules
 * ({@code services/core/src/tracker/milestones.rs}): once per milestone per shipment, and never
 * a step backwards on the way to the door.
 */
public enum Milestone {
    ORDER_CONFIRMED(0),
    SHIPPED(1),
    OUT_FOR_DELIVERY(2),
    FAILED_ATTEMPT(3),
    AVAILABLE_FOR_PICKUP(4),
    DELIVERED(5),
    EXCEPTION(0),
    RETURNED_TO_SENDER(0);

    /** Exceptions the customer can act on; only these are worth a message. */
    private static final Set<String> CUSTOMER_ACTION =
            Set.of(
                    "address_issue",
                    "duties_due",
                    "id_required",
                    "awaiting_pickup",
                    "recipient_not_available",
                    "no_secure_location",
                    "access_problem");

    /** Position on the way to the door; 0 for milestones off that path. */
    private final int progress;

    Milestone(int progress) {
        this.progress = progress;
    }

    /** The milestone a shipment's current status stands for, or null. */
    public static Milestone of(Normalized status) {
        switch (status.status()) {
            case IN_TRANSIT:
                return SHIPPED;
            case OUT_FOR_DELIVERY:
                return OUT_FOR_DELIVERY;
            case AVAILABLE_FOR_PICKUP:
                return AVAILABLE_FOR_PICKUP;
            case ATTEMPT_FAIL:
                return FAILED_ATTEMPT;
            case DELIVERED:
                return DELIVERED;
            case EXCEPTION:
                return CUSTOMER_ACTION.contains(status.subStatus()) ? EXCEPTION : null;
            case RETURNED_TO_SENDER:
                return RETURNED_TO_SENDER;
            default:
                return null;
        }
    }

    /** Not sent yet, and nothing further along the way to the door was sent. */
    public boolean allowedAfter(Set<Milestone> sent) {
        if (sent.contains(this)) {
            return false;
        }
        return progress == 0 || sent.stream().noneMatch(m -> m.progress > progress);
    }

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }
}
