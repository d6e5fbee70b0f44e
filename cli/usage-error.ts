/** A mistake of the user's: printed as `error: <message>`, exit 2. */
export class UsageError extends Error {}
