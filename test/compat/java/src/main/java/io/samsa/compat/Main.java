package io.samsa.compat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
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
 * consume BOOTSTRAP TOPIC COUNT [GROUP] [KEY=VALUE]...
 *     Reads COUNT records from the beginning of every partition (assigned, or by
 *     subscribing as GROUP and committing) and prints one JSON line per record:
 *     {"partition":p,"offset":o,"timestamp":t,"key":k,"value":v,"headers":[[hk,hv],...]}
 *     KEY=VALUE are extra consumer settings, e.g. isolation.level=read_committed.
 * txn-produce BOOTSTRAP TOPIC TXNID N K PATTERN
 *     Runs N transactions of K records each as transactional.id TXNID; transaction i
 *     commits if PATTERN[i % len] is 'c' and aborts (after flushing its records to
 *     the log) if it is 'a'. Record j of transaction i goes to partition j % partitions
 *     with key "TXNID-i-j" and value "TXNID-i-j-commit" or "-abort". After each
 *     transaction ends it prints {"txn":i,"committed":true|false}.
 * fence BOOTSTRAP TOPIC TXNID
 *     Zombie fencing: producer A begins a transaction and sends a record, producer B
 *     initialises the same TXNID, then A tries to commit. Prints
 *     {"commit_error":[class,cause class,...]} (empty for no error) and, after B commits
 *     one record, {"b_committed":true}. Values are "zombie-a-1" and "fenced-b".
 * streams-wordcount BOOTSTRAP INPUT OUTPUT APPID STATEDIR
 *     Kafka Streams word count with processing.guarantee=exactly_once_v2 and no record
 *     cache: every input line is split on spaces and OUTPUT gets (word, count as a
 *     decimal string) per word occurrence. Runs until stdin closes (or it is killed);
 *     prints {"event":"running"} once the application is RUNNING and {"event":"closed"}.
 * churn-member BOOTSTRAP TOPIC GROUP [KEY=VALUE]...
 *     Consumes TOPIC as a member of GROUP (extra consumer settings as KEY=VALUE, e.g.
 *     group.protocol=consumer) until stdin closes, then closes the consumer (leaving the
 *     group) and exits. After each poll it prints what it processed, then commits exactly
 *     that synchronously. One JSON line per event:
 *     {"event":"record","topic":t,"partition":p,"offset":o}
 *     {"event":"commit","topic":t,"partition":p,"offset":next}    (after commitSync returned)
 *     {"event":"commit_failed","error":e}
 *     {"event":"assigned"|"revoked"|"lost","partitions":[p,...]}
 *     {"event":"closed"}
 * share-consume BOOTSTRAP TOPIC GROUP [KEY=VALUE]...
 *     KafkaShareConsumer as a member of share group GROUP (see Share).
 * </pre>
 * If the environment variable SAMSA_COMPAT_CLIENT_PROPS names a properties file, its
 * settings (e.g. security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.*)
 * are applied to every client the command makes, over the defaults above and under
 * KEY=VALUE arguments.
 * Errors go to stderr with exit status 1.
 */
public final class Main {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    /** Names a properties file of extra client settings (see the class comment). */
    static final String CLIENT_PROPS_ENV = "SAMSA_COMPAT_CLIENT_PROPS";

    public static void main(String[] args) throws Exception {
        // slf4j-simple logs to stderr; keep it to warnings unless asked.
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        if (args.length >= 5 && args[0].equals("produce")) {
            produce(out, args[1], args[2], args[3], args[4]);
        } else if (args.length >= 4 && args[0].equals("consume")) {
            String group = null;
            List<String> settings = new ArrayList<>();
            for (String a : Arrays.copyOfRange(args, 4, args.length)) {
                if (a.indexOf('=') > 0) {
                    settings.add(a);
                } else {
                    group = a;
                }
            }
            consume(out, args[1], args[2], Integer.parseInt(args[3]), group, settings.toArray(new String[0]));
        } else if (args.length == 7 && args[0].equals("txn-produce")) {
            Eos.txnProduce(out, args[1], args[2], args[3], Integer.parseInt(args[4]), Integer.parseInt(args[5]), args[6]);
        } else if (args.length == 4 && args[0].equals("fence")) {
            Eos.fence(out, args[1], args[2], args[3]);
        } else if (args.length == 6 && args[0].equals("streams-wordcount")) {
            Eos.streamsWordCount(out, args[1], args[2], args[3], args[4], args[5]);
        } else if (args.length >= 4 && args[0].equals("share-consume")) {
            Share.consume(out, args[1], args[2], args[3], Arrays.copyOfRange(args, 4, args.length));
        } else if (args.length >= 4 && args[0].equals("churn-member")) {
            churnMember(out, args[1], args[2], args[3], Arrays.copyOfRange(args, 4, args.length));
        } else {
            System.err.println("usage: produce BOOTSTRAP TOPIC CODEC INPUT | consume BOOTSTRAP TOPIC COUNT [GROUP] [KEY=VALUE]..."
                    + " | churn-member BOOTSTRAP TOPIC GROUP [KEY=VALUE]... | txn-produce BOOTSTRAP TOPIC TXNID N K PATTERN"
                    + " | fence BOOTSTRAP TOPIC TXNID | streams-wordcount BOOTSTRAP INPUT OUTPUT APPID STATEDIR");
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
        putClientProps(p);

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

    private static void consume(PrintStream out, String bootstrap, String topic, int count, String group,
            String[] settings) {
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
        putClientProps(p);
        putSettings(p, settings);
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

    private static void churnMember(PrintStream out, String bootstrap, String topic, String group, String[] settings) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "samsa-compat-java");
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        putClientProps(p);
        putSettings(p, settings);
        // The test stops a member by closing its stdin and kills one with SIGKILL.
        AtomicBoolean stop = new AtomicBoolean();
        Thread stdin = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // discard
                }
            } catch (IOException e) {
                // treat as closed
            }
            stop.set(true);
        }, "stdin-watch");
        stdin.setDaemon(true);
        stdin.start();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> ps) {
                    printPartitions(out, "revoked", ps);
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> ps) {
                    printPartitions(out, "assigned", ps);
                }

                @Override
                public void onPartitionsLost(Collection<TopicPartition> ps) {
                    printPartitions(out, "lost", ps);
                }
            });
            while (!stop.get()) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
                if (records.isEmpty()) {
                    continue;
                }
                Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    StringBuilder b = new StringBuilder(96).append("{\"event\":\"record\",\"topic\":");
                    quote(b, r.topic());
                    out.println(b.append(",\"partition\":").append(r.partition())
                            .append(",\"offset\":").append(r.offset()).append('}'));
                    next.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                }
                out.flush(); // processed before committed
                try {
                    consumer.commitSync(next, TIMEOUT);
                    for (Map.Entry<TopicPartition, OffsetAndMetadata> e : next.entrySet()) {
                        StringBuilder b = new StringBuilder(96).append("{\"event\":\"commit\",\"topic\":");
                        quote(b, e.getKey().topic());
                        out.println(b.append(",\"partition\":").append(e.getKey().partition())
                                .append(",\"offset\":").append(e.getValue().offset()).append('}'));
                    }
                } catch (KafkaException e) {
                    // A rebalance can fence the commit; the next owner re-reads those records.
                    StringBuilder b = new StringBuilder(128).append("{\"event\":\"commit_failed\",\"error\":");
                    quote(b, e.toString());
                    out.println(b.append('}'));
                }
                out.flush();
            }
        }
        out.println("{\"event\":\"closed\"}");
    }

    /**
     * Applies the properties file named by SAMSA_COMPAT_CLIENT_PROPS, if set, to p.
     */
    static void putClientProps(Properties p) {
        String path = System.getenv(CLIENT_PROPS_ENV);
        if (path == null || path.isEmpty()) {
            return;
        }
        Properties extra = new Properties();
        try (BufferedReader r = Files.newBufferedReader(Paths.get(path), StandardCharsets.UTF_8)) {
            extra.load(r);
        } catch (IOException e) {
            throw new UncheckedIOException(CLIENT_PROPS_ENV + "=" + path, e);
        }
        p.putAll(extra);
    }

    static void putSettings(Properties p, String[] settings) {
        for (String kv : settings) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("setting is not KEY=VALUE: " + kv);
            }
            p.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
    }

    private static void printPartitions(PrintStream out, String event, Collection<TopicPartition> ps) {
        StringBuilder b = new StringBuilder(64).append("{\"event\":\"").append(event).append("\",\"partitions\":[");
        boolean first = true;
        for (TopicPartition tp : ps) {
            if (!first) {
                b.append(',');
            }
            first = false;
            b.append(tp.partition());
        }
        out.println(b.append("]}"));
        out.flush();
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

    static void quote(StringBuilder b, String s) {
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
