/**
 * The Kafka protocol broker: listener, connection loop and one handler per API.
 * @module
 */
export type { BrokerContext, Handler, HandlerTable, RequestContext } from "./broker_context.ts";
export { ErrorCode, type ErrorCodeValue } from "./error_codes.ts";
export { HANDLERS } from "./handlers/mod.ts";
export { type KafkaBroker, type KafkaBrokerOptions, startKafkaBroker } from "./kafka_broker.ts";
export {
  advertisedVersions,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_FRAME_BYTES,
  KafkaServer,
  type RequestObserver,
} from "./kafka_server.ts";
