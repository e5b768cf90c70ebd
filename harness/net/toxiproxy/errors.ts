/**
 * An error the HTTP API reports as `{"error": message, "status": status}`. Messages for the
 * cases Toxiproxy itself reports use Toxiproxy's wording, so clients that match on them work.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const proxyNotFound = () => new ApiError(404, 'proxy not found');
export const proxyExists = () => new ApiError(409, 'proxy already exists');
export const toxicNotFound = () => new ApiError(404, 'toxic not found');
export const toxicExists = () => new ApiError(409, 'toxic already exists');
export const missingField = (field: string) => new ApiError(400, `missing required field: ${field}`);
export const badBody = (detail: string) => new ApiError(400, `bad request body: ${detail}`);
