// An error with an HTTP status and a stable code; the server renders it as { error: { code, message, hint, details } }.
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

export const badRequest = (message: string, details?: unknown) => new HttpError(400, 'BAD_REQUEST', message, undefined, details);
export const notFound = (what: string, id: string) => new HttpError(404, 'NOT_FOUND', `${what} ${id} not found.`);
export const forbidden = (message: string) => new HttpError(403, 'FORBIDDEN', message);
export const conflict = (code: string, message: string, hint?: string, details?: unknown) => new HttpError(409, code, message, hint, details);
