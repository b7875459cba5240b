// Decodes Schema Registry framed record values with npm's
// @confluentinc/schemaregistry, as a Node consumer would after fetching
// them: crosslang_test.go hands it the raw values it read from Samsa.
//
// Usage: node decode.js REGISTRY_URL < records
//
// Each input line is {"topic", "format" (avro|protobuf|json), "value"
// (base64 of the record value)}; each output line is {"value"}, the
// deserializer's result as plain JSON (int64 as decimal strings; a
// Protobuf enum as its number, a nested message as an object).
'use strict';

const readline = require('readline');
const sr = require('@confluentinc/schemaregistry');

async function main() {
  const url = process.argv[2];
  const client = new sr.SchemaRegistryClient({ baseURLs: [url] });
  const deserializers = {
    avro: new sr.AvroDeserializer(client, sr.SerdeType.VALUE, {}),
    protobuf: new sr.ProtobufDeserializer(client, sr.SerdeType.VALUE, {}),
    json: new sr.JsonDeserializer(client, sr.SerdeType.VALUE, {}),
  };
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (line.trim() === '') continue;
    const rec = JSON.parse(line);
    const de = deserializers[rec.format];
    if (!de) throw new Error(`unknown format ${rec.format}`);
    const value = await de.deserialize(rec.topic, Buffer.from(rec.value, 'base64'));
    process.stdout.write(JSON.stringify({ value }, plain) + '\n');
  }
}

// plain turns what JSON cannot hold into strings: BigInt (Avro long,
// Protobuf int64) and Buffer-like bytes.
function plain(key, v) {
  if (typeof v === 'bigint') return v.toString();
  if (key === '$typeName' || key === '$unknown') return undefined;
  return v;
}

main().catch((e) => {
  process.stderr.write(`decode.js: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
