/**
 * The controllers the operator runs. Each Darwin kind's controller (controllers/<kind>/) exports a
 * ControllerDefinition and is listed here.
 */
import type { ControllerDefinition } from "./controller.ts";

export const CONTROLLERS: ControllerDefinition[] = [];
