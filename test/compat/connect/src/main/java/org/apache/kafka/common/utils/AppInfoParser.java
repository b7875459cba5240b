package org.apache.kafka.common.utils;

/**
 * Bridge for plugins built against Kafka 4.3: connect-test-plugins 4.3.2 and
 * connect-file 4.3.1 (Maven Central serves neither for 4.4.0) call
 * {@code org.apache.kafka.common.utils.AppInfoParser.getVersion()}, which
 * kafka-clients 4.4.0 moved to {@code org.apache.kafka.common.utils.internals}.
 * This class answers the one call they make with the running client's version.
 */
public final class AppInfoParser {
    private AppInfoParser() {
    }

    /** The running kafka-clients version, as the 4.3 method returned it. */
    public static String getVersion() {
        return org.apache.kafka.common.utils.internals.AppInfoParser.getVersion();
    }

    /** The running kafka-clients commit id. */
    public static String getCommitId() {
        return org.apache.kafka.common.utils.internals.AppInfoParser.getCommitId();
    }
}
