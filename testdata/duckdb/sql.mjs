// Runs SQL with DuckDB (the npm build) and prints the result as a table,
// for the README's examples when the duckdb CLI is not installed:
//   node testdata/duckdb/sql.mjs "select count(*) from 'out/messages/**/*.parquet'"
import { DuckDBInstance } from '@duckdb/node-api';

const sql = process.argv[2];
if (!sql) {
  console.error('usage: node sql.mjs SQL');
  process.exit(2);
}
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
const r = await c.runAndReadAll(sql);
const cols = r.columnNames();
const rows = r.getRowsJson().map((row) => row.map((v) => (v === null ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v))));
const width = cols.map((name, i) => Math.max(name.length, ...rows.map((row) => row[i].length)));
const line = (cells) => cells.map((s, i) => s.padEnd(width[i])).join('  ').trimEnd();
console.log(line(cols));
for (const row of rows) console.log(line(row));
