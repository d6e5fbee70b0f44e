/** The exact text the generator writes for a CRD, shared by the generator and the drift check. */
import { stringify } from "yaml";
import { crdFileName, renderCrd } from "./crd.ts";
import type { KindDefinition } from "./kind.ts";

export function crdYaml(def: KindDefinition): string {
  const header = `# Generated from crds/src by \`npm run gen:crds\`; do not edit. Kind: ${def.kind}.\n`;
  return header + stringify(renderCrd(def), { lineWidth: 0, aliasDuplicateObjects: false });
}

/** Every generated file: name -> content. */
export function crdFiles(kinds: readonly KindDefinition[]): Map<string, string> {
  return new Map(kinds.map((def) => [crdFileName(def), crdYaml(def)]));
}
