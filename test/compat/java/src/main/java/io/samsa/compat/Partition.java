package io.samsa.compat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.apache.kafka.common.utils.Utils;

/**
 * Prints the partition kafka-clients' default partitioner picks for keyed records:
 * {@code Utils.toPositive(Utils.murmur2(key)) % N}, the formula of
 * {@code BuiltInPartitioner.partitionForKey}.
 *
 * <pre>
 * java -cp samsa-compat.jar io.samsa.compat.Partition N
 *     Reads one key a line (UTF-8) from stdin and prints one partition a line.
 * </pre>
 */
public final class Partition {
    private Partition() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: Partition NUM_PARTITIONS < keys");
            System.exit(2);
        }
        int n = Integer.parseInt(args[0]);
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String key; (key = in.readLine()) != null;) {
            byte[] b = key.getBytes(StandardCharsets.UTF_8);
            out.println(Utils.toPositive(Utils.murmur2(b)) % n);
        }
        out.flush();
    }
}
