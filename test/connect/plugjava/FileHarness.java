// Runs Kafka's FileStreamSourceTask and FileStreamSinkTask outside a
// worker for test/connect/plug_file_test.go:
//
//   java -cp <pom.xml's classpath> FileHarness.java source <file> <position|-1> <batch.size>
//     prints each poll's records as "<poll>\t<value>\t<filename>\t<position>",
//     polling until a poll returns nothing;
//   java -cp … FileHarness.java sink <file>
//     writes a fixed list of values (the test knows them) to <file>.
import java.lang.reflect.Proxy;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;

import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.file.FileStreamSinkTask;
import org.apache.kafka.connect.file.FileStreamSourceTask;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTaskContext;
import org.apache.kafka.connect.storage.OffsetStorageReader;

public class FileHarness {
    public static void main(String[] a) throws Exception {
        if (a[0].equals("source")) {
            source(a[1], Long.parseLong(a[2]), a[3]);
        } else {
            sink(a[1]);
        }
    }

    static void source(String file, long position, String batch) throws Exception {
        OffsetStorageReader reader = (OffsetStorageReader) Proxy.newProxyInstance(FileHarness.class.getClassLoader(),
            new Class<?>[] {OffsetStorageReader.class}, (p, m, args) ->
                m.getName().equals("offset") && position >= 0 ? Map.of("position", position) : null);
        SourceTaskContext ctx = (SourceTaskContext) Proxy.newProxyInstance(FileHarness.class.getClassLoader(),
            new Class<?>[] {SourceTaskContext.class}, (p, m, args) ->
                m.getName().equals("offsetStorageReader") ? reader : null);
        FileStreamSourceTask task = new FileStreamSourceTask();
        task.initialize(ctx);
        task.start(Map.of("file", file, "topic", "lines", "batch.size", batch));
        for (int poll = 0; ; poll++) {
            List<SourceRecord> recs = task.poll();
            if (recs == null) {
                break;
            }
            for (SourceRecord r : recs) {
                System.out.println(poll + "\t" + r.value() + "\t" + r.sourcePartition().get("filename")
                    + "\t" + r.sourceOffset().get("position"));
            }
        }
        task.stop();
    }

    static void sink(String file) {
        Schema s = SchemaBuilder.struct().field("a", Schema.INT32_SCHEMA)
            .field("b", Schema.OPTIONAL_STRING_SCHEMA).field("c", Schema.STRING_SCHEMA).build();
        Struct st = new Struct(s).put("a", 1).put("c", "x");
        Object[] values = {"text", null, 42L, 1.0, 1.5e10, 0.001, 1.25e-4, -3.5, true, st,
            List.of("p", 2), Map.of("k", true), new BigDecimal("123.45")};
        FileStreamSinkTask task = new FileStreamSinkTask();
        task.start(Map.of("file", file));
        for (Object v : values) {
            task.put(List.of(new SinkRecord("t", 0, null, null, null, v, 0)));
        }
        task.flush(Map.of());
        task.stop();
    }
}
