package io.wismo.peer;

import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts input records decided, across the stream threads, and prints the two lines the loadtest
 * reads: {@code first at=<epoch ms>} when the first input record is decided and, once {@code
 * expected} records are, {@code done records=N commands=M held=H dropped=D}. A record is decided
 * when the tracker has folded it in, or when the scan hold dropped it (a resend of a held scan, or
 * a full hold). H counts the scans that waited in the hold for their tracking number.
 */
public final class Progress {
    private final long expected;
    private final PrintStream out;
    private final AtomicLong decided = new AtomicLong();
    private final AtomicLong commands = new AtomicLong();
    private final AtomicLong held = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicBoolean started = new AtomicBoolean();

    /** {@code expected} 0: count, never print done. */
    public Progress(long expected, PrintStream out) {
        this.expected = expected;
        this.out = out;
    }

    /** The tracker decided one input record, which produced {@code produced} commands. */
    public void decided(int produced) {
        commands.addAndGet(produced);
        count();
    }

    /** A scan waits for its tracking number; it is decided later, by the tracker. */
    public void held() {
        held.incrementAndGet();
    }

    /** A scan the hold dropped. */
    public void dropped() {
        dropped.incrementAndGet();
        count();
    }

    private void count() {
        if (!started.get() && started.compareAndSet(false, true)) {
            out.println("first at=" + System.currentTimeMillis());
            out.flush();
        }
        if (decided.incrementAndGet() == expected) {
            // Commands are counted before the record counter moves, so this total is complete.
            out.printf(
                    "done records=%d commands=%d held=%d dropped=%d%n",
                    expected, commands.get(), held.get(), dropped.get());
            out.flush();
        }
    }
}
