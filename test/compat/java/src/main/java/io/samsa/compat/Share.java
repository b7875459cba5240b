package io.samsa.compat;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * share-consume BOOTSTRAP TOPIC GROUP [KEY=VALUE]...
 *     Consumes TOPIC as a member of share group GROUP with KafkaShareConsumer
 *     (share.acknowledgement.mode=explicit) until stdin closes, then closes the
 *     consumer and exits. Each record is ACCEPTed, then commitSync runs after each
 *     poll. One JSON line per event:
 *     {"event":"record","partition":p,"offset":o,"delivery":n,"value":v}
 *     {"event":"commit_failed","error":e}
 *     {"event":"closed"}
 */
final class Share {
    private Share() {
    }

    static void consume(PrintStream out, String bootstrap, String topic, String group, String[] settings) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "samsa-compat-java-share");
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put("share.acknowledgement.mode", "explicit");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        Main.putClientProps(p);
        Main.putSettings(p, settings);
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
        try (KafkaShareConsumer<byte[], byte[]> consumer = new KafkaShareConsumer<>(p)) {
            consumer.subscribe(List.of(topic));
            while (!stop.get()) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    StringBuilder b = new StringBuilder(96).append("{\"event\":\"record\",\"partition\":")
                            .append(r.partition()).append(",\"offset\":").append(r.offset())
                            .append(",\"delivery\":").append(r.deliveryCount().orElse((short) -1))
                            .append(",\"value\":");
                    Main.quote(b, new String(r.value(), StandardCharsets.UTF_8));
                    out.println(b.append('}'));
                    consumer.acknowledge(r, AcknowledgeType.ACCEPT);
                }
                out.flush();
                if (records.isEmpty()) {
                    continue;
                }
                try {
                    consumer.commitSync(Duration.ofSeconds(30)).forEach((tp, err) -> err.ifPresent(e -> {
                        StringBuilder b = new StringBuilder(128).append("{\"event\":\"commit_failed\",\"error\":");
                        Main.quote(b, e.toString());
                        out.println(b.append('}'));
                    }));
                } catch (RuntimeException e) {
                    StringBuilder b = new StringBuilder(128).append("{\"event\":\"commit_failed\",\"error\":");
                    Main.quote(b, e.toString());
                    out.println(b.append('}'));
                }
                out.flush();
            }
        }
        out.println("{\"event\":\"closed\"}");
        out.flush();
    }
}
