// Runs Kafka Connect 4.4.0's VerifiableSourceTask and VerifiableSinkTask
// outside a worker, with fixed inputs, so that
// test/connect/plug_verifiable_test.go can compare their standard output
// with Samsa's connectors fed the same inputs. Launched as a single-file
// program: java -cp <pom.xml's classpath> VerifiableHarness.java
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTaskContext;
import org.apache.kafka.connect.storage.OffsetStorageReader;
import org.apache.kafka.connect.tools.VerifiableSinkTask;
import org.apache.kafka.connect.tools.VerifiableSourceTask;

public class VerifiableHarness {
    // Task 1 has a stored offset {"seqno": 4}; task 0 none.
    static OffsetStorageReader reader() {
        return (OffsetStorageReader) Proxy.newProxyInstance(VerifiableHarness.class.getClassLoader(),
            new Class<?>[] {OffsetStorageReader.class}, (proxy, m, args) -> {
                if (m.getName().equals("offset")) {
                    Map<?, ?> partition = (Map<?, ?>) args[0];
                    return Integer.valueOf(1).equals(partition.get("id")) ? Map.of("seqno", 4L) : null;
                }
                if (m.getName().equals("offsets")) {
                    return Map.of();
                }
                return null;
            });
    }

    static SourceTaskContext context(OffsetStorageReader r) {
        return (SourceTaskContext) Proxy.newProxyInstance(VerifiableHarness.class.getClassLoader(),
            new Class<?>[] {SourceTaskContext.class}, (proxy, m, args) -> {
                if (m.getName().equals("offsetStorageReader")) {
                    return r;
                }
                if (m.getName().equals("configs")) {
                    return Map.of();
                }
                return null;
            });
    }

    public static void main(String[] argv) throws Exception {
        SourceTaskContext ctx = context(reader());
        for (int id = 0; id < 2; id++) {
            Map<String, String> props = new HashMap<>();
            props.put("name", "src");
            props.put("id", String.valueOf(id));
            props.put("topic", "vt");
            props.put("throughput", "-1");
            VerifiableSourceTask task = new VerifiableSourceTask();
            task.initialize(ctx);
            task.start(props);
            List<SourceRecord> records = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                records.addAll(task.poll());
            }
            for (SourceRecord r : records) {
                task.commitRecord(r, null);
            }
            task.stop();
        }

        VerifiableSinkTask sink = new VerifiableSinkTask();
        sink.start(Map.of("name", "snk", "id", "0"));
        List<SinkRecord> in = new ArrayList<>();
        for (int p = 0; p < 2; p++) {
            for (long i = 0; i < 3; i++) {
                in.add(new SinkRecord("vt", p, Schema.INT32_SCHEMA, p, Schema.INT64_SCHEMA, i, 10 + i));
            }
        }
        sink.put(in);
        sink.flush(Map.of(new TopicPartition("vt", 0), new OffsetAndMetadata(13)));
        sink.flush(Map.of(new TopicPartition("vt", 1), new OffsetAndMetadata(13)));
        sink.stop();
        System.out.flush();
    }
}
