/** Decodes a Kubernetes watch stream: one JSON event per line. */
import { z } from "zod";

export const watchEvent = z.object({
  type: z.enum(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]),
  object: z.unknown(),
});
export type WatchEvent = z.infer<typeof watchEvent>;

/**
 * The object of a BOOKMARK event: the watched kind with nothing but metadata.resourceVersion (and, at the
 * end of a streamed initial list, the annotation k8s.io/initial-events-end). It has no name.
 */
export const watchBookmark = z.looseObject({
  metadata: z.looseObject({
    resourceVersion: z.string().min(1),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
});

/** Yields the events of a watch response body as they arrive; a malformed line ends it with an error. */
export async function* readWatchEvents(body: AsyncIterable<Buffer | string>): AsyncGenerator<WatchEvent> {
  let pending = "";
  for await (const chunk of body) {
    pending += typeof chunk === "string" ? chunk : chunk.toString("utf8");
    let newline = pending.indexOf("\n");
    while (newline >= 0) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (line.length > 0) yield parseLine(line);
      newline = pending.indexOf("\n");
    }
  }
  const rest = pending.trim();
  if (rest.length > 0) yield parseLine(rest);
}

function parseLine(line: string): WatchEvent {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw new Error(`watch stream sent a line that is not JSON: ${line.slice(0, 200)}`);
  }
  return watchEvent.parse(json);
}
