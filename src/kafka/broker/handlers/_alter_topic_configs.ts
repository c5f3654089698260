/**
 * The part AlterConfigs (KIP-133) and IncrementalAlterConfigs (KIP-339) share: per resource,
 * refuse duplicates, broker resources (not alterable yet) and other types with
 * INVALID_REQUEST, and apply a topic's change through the admin service.
 */
import type { AdminService, ConfigChange } from "../../../cluster/mod.ts";
import type { BrokerContext } from "../broker_context.ts";
import { ErrorCode } from "../error_codes.ts";
import { adminErrorCode, adminOf, duplicatesOf, ResourceType } from "./_admin_common.ts";

/** A resource's change, in the form the admin service takes. */
export type TopicConfigChange = Parameters<AdminService["alterTopicConfigs"]>[1];

/** One resource's answer (AlterConfigsResourceResponse, the same in both APIs). */
export interface AlterResult {
  errorCode: number;
  errorMessage: string | null;
  resourceType: number;
  resourceName: string;
}

/** Applies each resource's change in order and answers each. */
export function alterResources<R extends { resourceType: number; resourceName: string }>(
  resources: readonly R[],
  changeOf: (r: R) => TopicConfigChange,
  validateOnly: boolean,
  b: BrokerContext,
): Promise<AlterResult[]> {
  const admin = adminOf(b);
  const dup = duplicatesOf(resources.map((r) => `${r.resourceType}:${r.resourceName}`));
  return Promise.all(resources.map(async (r) => {
    const answer = (errorCode: number, errorMessage: string | null): AlterResult => ({
      errorCode,
      errorMessage,
      resourceType: r.resourceType,
      resourceName: r.resourceName,
    });
    if (dup.has(`${r.resourceType}:${r.resourceName}`)) {
      return answer(
        ErrorCode.INVALID_REQUEST,
        `Resource "${r.resourceName}" is named more than once`,
      );
    }
    if (r.resourceType === ResourceType.BROKER) {
      return answer(
        ErrorCode.INVALID_REQUEST,
        "Broker configs cannot be altered yet: set them with pyralog serve flags",
      );
    }
    if (r.resourceType !== ResourceType.TOPIC) {
      return answer(
        ErrorCode.INVALID_REQUEST,
        `Unsupported config resource type "${r.resourceType}": use 2 (topic)`,
      );
    }
    const out = await admin.alterTopicConfigs(r.resourceName, changeOf(r), validateOnly);
    if (out.type === "error") return answer(adminErrorCode(out.kind), out.message);
    if (!validateOnly) {
      b.log("info", `Altered configs of topic "${r.resourceName}": ${JSON.stringify(out.configs)}`);
    }
    return answer(ErrorCode.NONE, null);
  }));
}

/** IncrementalAlterConfigs entries as the admin service takes them. */
export function incrementalChanges(
  configs: ReadonlyArray<{ name: string; configOperation: number; value: string | null }>,
): ConfigChange[] {
  return configs.map((c) => ({ name: c.name, operation: c.configOperation, value: c.value }));
}
