// Reads a wsdump Parquet dataset directory with DuckDB (the engine
// itself, from npm) and prints what cmd/wsdump TestParquetDuckDB compares
// with the jsonl of the same captures, as one JSON object:
//   node query.mjs DIR
// Numbers are printed as strings (BIGINT does not fit a JSON number).
import { DuckDBInstance } from '@duckdb/node-api';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node query.mjs DIR');
  process.exit(2);
}
const q = (s) => s.replaceAll("'", "''");
const ds = (name) => `read_parquet('${q(dir)}/${name}/**/*.parquet', hive_partitioning = true)`;

const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
const rows = async (sql) => (await c.runAndReadAll(sql)).getRowObjectsJson();

const out = { counts: {} };
for (const name of ['handshakes', 'frames', 'messages', 'conns', 'heartbeats', 'reconnect_groups']) {
  out.counts[name] = (await rows(`select count(*)::VARCHAR as n from ${ds(name)}`))[0].n;
}
out.frames = (await rows(`select sum(len)::VARCHAR as sum_len, sum(octet_length(payload))::VARCHAR as sum_payload
  from ${ds('frames')}`))[0];
out.messages = (await rows(`select sum(len)::VARCHAR as sum_len, sum(octet_length(data))::VARCHAR as sum_data,
  count(app)::VARCHAR as with_app from ${ds('messages')}`))[0];
// Every (capture, conn) pair, and the dates the rows fell in.
out.conns = await rows(`select capture, t.conn::VARCHAR as conn from ${ds('conns')} t order by capture, t.conn`);
out.dates = (await rows(`select distinct date::VARCHAR as d from ${ds('messages')} order by d`)).map((r) => r.d);
// Close codes per connection, as sent by each side.
out.close_codes = await rows(`select capture, t.conn::VARCHAR as conn, dir, t.close_code::VARCHAR as code
  from ${ds('frames')} t where t.close_code is not null order by capture, t.conn, dir, t.close_code`);
// The biggest STOMP destinations: STOMP frames and body bytes by destination.
out.stomp = await rows(`select json_extract_string(a, '$.fields.destination') as destination,
    count(*)::VARCHAR as frames, sum(json_extract(a, '$.body_len')::BIGINT)::VARCHAR as body_bytes
  from (select unnest(from_json(app, '["json"]')) as a from ${ds('messages')} where app is not null)
  where json_extract_string(a, '$.protocol') = 'stomp' and destination is not null
  group by destination order by sum(json_extract(a, '$.body_len')::BIGINT) desc, destination`);
// The connections whose TLS session renegotiated (tls.renegotiations).
out.renegotiations = await rows(`select capture, t.conn::VARCHAR as conn, t.tls.renegotiations::VARCHAR as renegotiations
  from ${ds('conns')} t where t.tls.renegotiations > 0 order by capture, t.conn`);
// The types DuckDB reads for a few columns.
out.types = Object.fromEntries((await rows(`select column_name, column_type from (describe select * from ${ds('messages')})`))
  .map((r) => [r.column_name, r.column_type]));
console.log(JSON.stringify(out));
