import { describe, expect, it } from "vitest";
import { readWatchEvents } from "./watch-events.ts";

async function collect(chunks: string[]) {
  async function* source() {
    for (const chunk of chunks) yield Buffer.from(chunk);
  }
  const events = [];
  for await (const event of readWatchEvents(source())) events.push(event);
  return events;
}

describe("readWatchEvents", () => {
  it("splits events across and within chunks", async () => {
    const events = await collect([
      '{"type":"ADDED","object":{"a":1}}\n{"type":"MOD',
      'IFIED","object":{"a":2}}\n',
      '{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}',
    ]);
    expect(events.map((e) => e.type)).toEqual(["ADDED", "MODIFIED", "BOOKMARK"]);
    expect(events[1]?.object).toEqual({ a: 2 });
  });

  it("fails on a line that is not an event", async () => {
    await expect(collect(["not json\n"])).rejects.toThrow(/not JSON/);
    await expect(collect(['{"type":"WHAT","object":{}}\n'])).rejects.toThrow();
  });
});
