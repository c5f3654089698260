/**
 * The HTTP front door: hono app over the node's services.
 * @module
 */
export {
  createHttpApp,
  HTTP_BODY_BYTES_MAX,
  HTTP_READ_RECORDS_MAX,
  HTTP_RECORDS_PER_REQUEST_MAX,
  HTTP_WAIT_MS_MAX,
  type HttpDeps,
} from "./http_app.ts";
export { HttpError, HttpErrors } from "./http_error.ts";
