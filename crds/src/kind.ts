/** What the CRD generator, the webhooks and the controllers need to know about one Darwin kind. */
import type { z } from "zod";

export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description: string;
  /** 0 shows in `kubectl get`; 1 only with `-o wide`. */
  priority?: 0 | 1;
}

export interface KindDefinition<Spec extends z.ZodType = z.ZodType, Status extends z.ZodType = z.ZodType> {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  scope: "Namespaced" | "Cluster";
  /** Shown by `kubectl explain <kind>`. */
  description: string;
  spec: Spec;
  status: Status;
  /** The kind's own columns; Ready and Age follow them in every kind. */
  printerColumns: PrinterColumn[];
  /** Longest metadata.name this kind accepts (its children derive their names and labels from it). */
  maxNameLength: number;
  /**
   * Pattern metadata.name must match, when stricter than Kubernetes' own (e.g. an RFC 1035 label), and the
   * refusal's words (what is expected, with an example).
   */
  namePattern?: { pattern: RegExp; message: string };
}

export const defineKind = <Spec extends z.ZodType, Status extends z.ZodType>(
  def: KindDefinition<Spec, Status>,
): KindDefinition<Spec, Status> => def;
