/** Renders the CustomResourceDefinition of a Darwin kind from its definition (pure). */
import { ADMIN_CATEGORY, CATEGORY, type CelRule, celString, GROUP, VERSION } from "./common.ts";
import type { KindDefinition, PrinterColumn } from "./kind.ts";
import { type JSONSchemaProps, toStructuralSchema } from "./openapi.ts";

/** Columns every kind shows last, after its own: the Ready condition and the age. */
const COMMON_COLUMNS: PrinterColumn[] = [
  {
    name: "Ready",
    type: "string",
    jsonPath: '.status.conditions[?(@.type=="Ready")].status',
    description: "Status of the Ready condition.",
  },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp", description: "Time since creation." },
];

export function renderCrd(def: KindDefinition): JSONSchemaProps {
  const name: JSONSchemaProps = {
    type: "string",
    maxLength: def.maxNameLength,
    description: "Name of the resource, unique in its namespace.",
  };
  // a CEL rule rather than an OpenAPI pattern, whose refusal would show the raw regular expression
  const rootRules: CelRule[] = def.namePattern
    ? [
        {
          rule: `self.metadata.name.matches(${celString(def.namePattern.pattern.source)})`,
          message: def.namePattern.message,
          fieldPath: ".metadata.name",
        },
      ]
    : [];
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${def.plural}.${GROUP}`,
      labels: { "app.kubernetes.io/part-of": "darwin" },
    },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: [def.scope === "Cluster" ? ADMIN_CATEGORY : CATEGORY],
      },
      scope: def.scope,
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [...def.printerColumns, ...COMMON_COLUMNS],
          schema: {
            openAPIV3Schema: {
              type: "object",
              description: def.description,
              required: ["spec"],
              ...(rootRules.length > 0 && { "x-kubernetes-validations": rootRules }),
              properties: {
                apiVersion: {
                  type: "string",
                  description:
                    "Versioned schema of this representation of an object: darwin.dreamhorizon.org/v1alpha1.",
                },
                kind: { type: "string", description: `Kind of the object: ${def.kind}.` },
                metadata: { type: "object", properties: { name } },
                spec: toStructuralSchema(def.spec, "spec"),
                status: toStructuralSchema(def.status, "status"),
              },
            },
          },
        },
      ],
    },
  };
}

/** File name of a kind's CRD, kubebuilder style: <group>_<plural>.yaml. */
export const crdFileName = (def: KindDefinition): string => `${GROUP}_${def.plural}.yaml`;
