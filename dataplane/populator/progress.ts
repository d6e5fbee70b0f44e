/** Progress of a load as a user reads it: rows done of the total, rows per second, time left. Pure. */

export interface Progress {
  rows: number;
  total: number;
  elapsedMs: number;
}

const seconds = (s: number) =>
  s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`
      : `${Math.round(s)}s`;

/** Rows per second so far (0 before any time has passed). */
export const rowsPerSecond = (p: Progress) => (p.elapsedMs > 0 ? (p.rows * 1000) / p.elapsedMs : 0);

/** E.g. `4,096/10,000 rows (41%), 2,310 rows/s, ETA 3s`. */
export function progressLine(p: Progress): string {
  const rate = rowsPerSecond(p);
  const pct = p.total > 0 ? Math.floor((p.rows * 100) / p.total) : 100;
  const eta = rate > 0 ? seconds((p.total - p.rows) / rate) : "-";
  const n = (x: number) => Math.round(x).toLocaleString("en-US");
  return `${n(p.rows)}/${n(p.total)} rows (${pct}%), ${n(rate)} rows/s, ETA ${eta}`;
}
