/** A plain-text table: columns padded to their widest cell, three spaces apart, as kubectl prints. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("   ")
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join("\n")}\n`;
}
