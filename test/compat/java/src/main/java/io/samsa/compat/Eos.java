package io.samsa.compat;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Produced;

/** The exactly-once modes of the driver (see Main): txn-produce, fence, streams-wordcount. */
final class Eos {
    private Eos() {}

    private static KafkaProducer<byte[], byte[]> txnProducer(String bootstrap, String txnID) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "samsa-eos-java");
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, txnID);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "60000");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "60000");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        Main.putClientProps(p);
        return new KafkaProducer<>(p);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static void txnProduce(PrintStream out, String bootstrap, String topic, String txnID, int n, int k, String pattern) {
        try (KafkaProducer<byte[], byte[]> producer = txnProducer(bootstrap, txnID)) {
            int partitions = producer.partitionsFor(topic).size();
            producer.initTransactions();
            for (int i = 0; i < n; i++) {
                boolean commit = pattern.charAt(i % pattern.length()) == 'c';
                producer.beginTransaction();
                for (int j = 0; j < k; j++) {
                    String key = txnID + "-" + i + "-" + j;
                    producer.send(new ProducerRecord<>(topic, j % partitions, utf8(key),
                            utf8(key + (commit ? "-commit" : "-abort"))));
                }
                if (commit) {
                    producer.commitTransaction();
                } else {
                    producer.flush(); // the aborted records reach the log
                    producer.abortTransaction();
                }
                out.printf("{\"txn\":%d,\"committed\":%b}%n", i, commit);
                out.flush();
            }
        }
    }

    static void fence(PrintStream out, String bootstrap, String topic, String txnID) throws Exception {
        KafkaProducer<byte[], byte[]> a = txnProducer(bootstrap, txnID);
        a.initTransactions();
        a.beginTransaction();
        a.send(new ProducerRecord<>(topic, 0, null, utf8("zombie-a-1"))).get();
        try (KafkaProducer<byte[], byte[]> b = txnProducer(bootstrap, txnID)) {
            b.initTransactions(); // fences A and aborts its transaction
            // As Kafka's TransactionsTest.testFencingOnCommit: the zombie's
            // commit is refused. (A send after the fence fails first with the
            // abortable InvalidProducerEpochException, as in Kafka.)
            Throwable commitErr = null;
            try {
                a.commitTransaction();
            } catch (Exception e) {
                commitErr = e;
            }
            StringBuilder line = new StringBuilder("{\"commit_error\":");
            causes(line, commitErr);
            out.println(line.append('}'));
            out.flush();
            b.beginTransaction();
            b.send(new ProducerRecord<>(topic, 0, null, utf8("fenced-b"))).get();
            b.commitTransaction();
            out.println("{\"b_committed\":true}");
        } finally {
            a.close(Duration.ofSeconds(5));
        }
    }

    /** Appends the class names of err and its causes as a JSON array. */
    private static void causes(StringBuilder line, Throwable err) {
        line.append('[');
        boolean first = true;
        for (Throwable c = err; c != null; c = c.getCause()) {
            if (!first) {
                line.append(',');
            }
            first = false;
            Main.quote(line, c.getClass().getName());
            if (c.getCause() == c) {
                break;
            }
        }
        line.append(']');
    }

    static void streamsWordCount(PrintStream out, String bootstrap, String input, String output, String appID,
            String stateDir) throws Exception {
        Properties p = new Properties();
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, appID);
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, "0");
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100");
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, "1");
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, "1");
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), "10000");
        // Static membership: a restarted instance takes its place at once.
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG), appID + "-instance");
        p.put(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG), "10000");
        Main.putClientProps(p);

        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
                .flatMapValues(line -> Arrays.asList(line.trim().split(" +")))
                .filter((k, w) -> !w.isEmpty())
                .groupBy((k, w) -> w, Grouped.with(Serdes.String(), Serdes.String()))
                .count()
                .toStream()
                .mapValues(c -> Long.toString(c))
                .to(output, Produced.with(Serdes.String(), Serdes.String()));

        CountDownLatch stopped = new CountDownLatch(1);
        Thread stdin = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // discard
                }
            } catch (IOException e) {
                // treat as closed
            }
            stopped.countDown();
        }, "stdin-watch");
        stdin.setDaemon(true);
        stdin.start();

        try (KafkaStreams streams = new KafkaStreams(builder.build(), p)) {
            streams.setStateListener((now, before) -> {
                if (now == KafkaStreams.State.RUNNING) {
                    out.println("{\"event\":\"running\"}");
                    out.flush();
                } else if (now == KafkaStreams.State.ERROR) {
                    out.println("{\"event\":\"error\"}");
                    out.flush();
                    stopped.countDown();
                }
            });
            streams.setUncaughtExceptionHandler(e -> {
                StringBuilder b = new StringBuilder("{\"event\":\"exception\",\"error\":");
                Main.quote(b, e.toString());
                out.println(b.append('}'));
                out.flush();
                return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse
                        .REPLACE_THREAD;
            });
            streams.start();
            stopped.await();
            streams.close(Duration.ofSeconds(30));
        }
        out.println("{\"event\":\"closed\"}");
        out.flush();
    }
}
