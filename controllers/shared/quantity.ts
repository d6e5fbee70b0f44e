/** Kubernetes resource quantities in the operator's configuration (build pods, the Ray autoscaler). */
import { z } from "zod";

/** A Kubernetes quantity (500m, 2, 1Gi, 1.5G). */
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;

/** A CPU amount: 500m, 2. */
export const cpuQuantity = () => z.string().regex(QUANTITY, "a Kubernetes quantity, e.g. 500m or 2");
/** A memory amount: 1Gi, 512Mi. */
export const memoryQuantity = () => z.string().regex(QUANTITY, "a Kubernetes quantity, e.g. 1Gi");
