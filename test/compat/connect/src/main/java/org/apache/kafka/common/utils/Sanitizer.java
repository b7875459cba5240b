package org.apache.kafka.common.utils;

/**
 * Bridge for Debezium 3.6.1 (built against Kafka 4.1): its metrics call
 * {@code org.apache.kafka.common.utils.Sanitizer.jmxSanitize}, which
 * kafka-clients 4.4.0 moved to {@code org.apache.kafka.common.utils.internals}.
 * This class forwards the calls to the moved one.
 */
public final class Sanitizer {
    private Sanitizer() {
    }

    /** Quotes a JMX name part when it needs it. */
    public static String jmxSanitize(String name) {
        return org.apache.kafka.common.utils.internals.Sanitizer.jmxSanitize(name);
    }

    /** URL-encodes a name for use in a metric or config entity. */
    public static String sanitize(String name) {
        return org.apache.kafka.common.utils.internals.Sanitizer.sanitize(name);
    }

    /** Undoes sanitize. */
    public static String desanitize(String name) {
        return org.apache.kafka.common.utils.internals.Sanitizer.desanitize(name);
    }
}
