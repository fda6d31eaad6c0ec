// An error with an HTTP status and a stable code; every refusal the coordinator sends, plain or WebSocket, is its body.
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The one error-body shape (apiErrorSchema in src/api/schemas/network.ts): { error: { code, message, hint?, details? } }. */
export function errorBody(error: HttpError): { error: { code: string; message: string; hint?: string; details?: unknown } } {
  return { error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}), ...(error.details !== undefined ? { details: error.details } : {}) } };
}

export const badRequest = (message: string, details?: unknown) => new HttpError(400, 'BAD_REQUEST', message, undefined, details);
export const notFound = (what: string, id: string) => new HttpError(404, 'NOT_FOUND', `${what} ${id} not found.`);
export const forbidden = (message: string) => new HttpError(403, 'FORBIDDEN', message);
export const conflict = (code: string, message: string, hint?: string, details?: unknown) => new HttpError(409, code, message, hint, details);
