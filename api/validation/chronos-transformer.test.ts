import { describe, expect, it } from "vitest";
import { validateChronosTransformer } from "./chronos-transformer.ts";
import { resource } from "./fixtures.ts";

const rule = (spec: Record<string, unknown> = {}) =>
  resource("ChronosTransformer", {
    source: "darwin-compute",
    match: 'type = "cluster_created"',
    transform: `{ "entities": [{"type": "cluster", "id": payload.cluster_id}],
  "relationships": [{"from": {"type": "user", "id": payload.user}, "to": {"type": "cluster", "id": payload.cluster_id}, "type": "owns"}] }`,
    ...spec,
  });

describe("validateChronosTransformer", () => {
  it("accepts expressions that compile", () => {
    expect(validateChronosTransformer(rule())).toEqual([]);
  });

  it("reports each syntax error with its line and column", () => {
    const errors = validateChronosTransformer(
      rule({ match: "type = ", transform: '{ "entities": [\n  payload.x\n' }),
    );
    const misplaced = validateChronosTransformer(rule({ transform: '{\n  "a": payload.x,\n  "b": )\n}' }));
    expect(errors).toEqual([
      {
        field: "spec.match",
        message: "JSONata syntax error at the end of the expression: Unexpected end of expression (S0207)",
        fix: "correct the expression after `type =`; try it against a sample event at https://try.jsonata.org",
      },
      {
        field: "spec.transform",
        message:
          'JSONata syntax error at the end of the expression: Expected "]" before end of expression (S0203)',
        fix: expect.stringMatching(/^correct the expression after `entities": \[ payload.x`/),
      },
    ]);
    expect(misplaced).toEqual([
      {
        field: "spec.transform",
        message:
          'JSONata syntax error at line 3, column 8: The symbol ")" cannot be used as a unary operator (S0211)',
        fix: 'correct the expression near `"a": payload.x, "b": )`; try it against a sample event at https://try.jsonata.org',
      },
    ]);
  });
});
