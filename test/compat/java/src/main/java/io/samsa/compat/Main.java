package io.samsa.compat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Drives kafka-clients for Samsa's compatibility tests (test/compat).
 *
 * <pre>
 * produce BOOTSTRAP TOPIC CODEC INPUT.tsv
 *     Produces each line of INPUT (key TAB value TAB timestampMs [TAB hkey=hvalue]...)
 *     with default producer settings (idempotent, acks=all) and compression.type=CODEC,
 *     then prints one JSON line per record in input order:
 *     {"index":i,"partition":p,"offset":o,"timestamp":t}
 * consume BOOTSTRAP TOPIC COUNT [GROUP]
 *     Reads COUNT records from the beginning of every partition (assigned, or by
 *     subscribing as GROUP and committing) and prints one JSON line per record:
 *     {"partition":p,"offset":o,"timestamp":t,"key":k,"value":v,"headers":[[hk,hv],...]}
 * </pre>
 * Errors go to stderr with exit status 1.
 */
public final class Main {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    public static void main(String[] args) throws Exception {
        // slf4j-simple logs to stderr; keep it to warnings unless asked.
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        if (args.length >= 5 && args[0].equals("produce")) {
            produce(out, args[1], args[2], args[3], args[4]);
        } else if ((args.length == 4 || args.length == 5) && args[0].equals("consume")) {
            consume(out, args[1], args[2], Integer.parseInt(args[3]), args.length == 5 ? args[4] : null);
        } else {
            System.err.println("usage: produce BOOTSTRAP TOPIC CODEC INPUT | consume BOOTSTRAP TOPIC COUNT [GROUP]");
            System.exit(2);
        }
        out.flush();
        System.exit(out.checkError() ? 1 : 0);
    }

    private static void produce(PrintStream out, String bootstrap, String topic, String codec, String input)
            throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "samsa-compat-java");
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "60000");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());

        List<ProducerRecord<byte[], byte[]>> records = readInput(topic, input);
        List<Future<RecordMetadata>> acks = new ArrayList<>(records.size());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            for (ProducerRecord<byte[], byte[]> r : records) {
                acks.add(producer.send(r));
            }
            producer.flush();
            for (int i = 0; i < acks.size(); i++) {
                RecordMetadata md = acks.get(i).get();
                out.printf("{\"index\":%d,\"partition\":%d,\"offset\":%d,\"timestamp\":%d}%n",
                        i, md.partition(), md.offset(), md.timestamp());
            }
        }
    }

    private static List<ProducerRecord<byte[], byte[]>> readInput(String topic, String input) throws IOException {
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(Paths.get(input), StandardCharsets.UTF_8)) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isEmpty()) {
                    continue;
                }
                String[] f = line.split("\t", -1);
                if (f.length < 3) {
                    throw new IOException("bad input line: " + line);
                }
                List<Header> headers = new ArrayList<>();
                for (int i = 3; i < f.length; i++) {
                    int eq = f[i].indexOf('=');
                    if (eq < 0) {
                        throw new IOException("bad header: " + f[i]);
                    }
                    headers.add(new RecordHeader(f[i].substring(0, eq),
                            f[i].substring(eq + 1).getBytes(StandardCharsets.UTF_8)));
                }
                records.add(new ProducerRecord<>(topic, null, Long.parseLong(f[2]),
                        f[0].getBytes(StandardCharsets.UTF_8), f[1].getBytes(StandardCharsets.UTF_8), headers));
            }
        }
        return records;
    }

    private static void consume(PrintStream out, String bootstrap, String topic, int count, String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "samsa-compat-java");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        if (group != null) {
            p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        }
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            if (group != null) {
                consumer.subscribe(List.of(topic));
            } else {
                List<TopicPartition> tps = new ArrayList<>();
                for (PartitionInfo pi : consumer.partitionsFor(topic, TIMEOUT)) {
                    tps.add(new TopicPartition(topic, pi.partition()));
                }
                consumer.assign(tps);
                consumer.seekToBeginning(tps);
            }
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            int seen = 0;
            while (seen < count && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    printRecord(out, r);
                    seen++;
                }
            }
            // One more short poll so that duplicates or extra records show up.
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(300))) {
                printRecord(out, r);
                seen++;
            }
            if (group != null) {
                consumer.commitSync(TIMEOUT);
            }
            if (seen < count) {
                System.err.printf("consumed %d of %d records before timeout%n", seen, count);
                out.flush();
                System.exit(1);
            }
        }
    }

    private static void printRecord(PrintStream out, ConsumerRecord<byte[], byte[]> r) {
        StringBuilder b = new StringBuilder(256);
        b.append("{\"partition\":").append(r.partition())
                .append(",\"offset\":").append(r.offset())
                .append(",\"timestamp\":").append(r.timestamp())
                .append(",\"timestamp_type\":");
        quote(b, r.timestampType().name);
        b.append(",\"key\":");
        quote(b, r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8));
        b.append(",\"value\":");
        quote(b, r.value() == null ? null : new String(r.value(), StandardCharsets.UTF_8));
        b.append(",\"headers\":[");
        boolean first = true;
        for (Header h : r.headers()) {
            if (!first) {
                b.append(',');
            }
            first = false;
            b.append('[');
            quote(b, h.key());
            b.append(',');
            quote(b, h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8));
            b.append(']');
        }
        b.append("]}");
        out.println(b);
    }

    private static void quote(StringBuilder b, String s) {
        if (s == null) {
            b.append("null");
            return;
        }
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                default:
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
            }
        }
        b.append('"');
    }
}
