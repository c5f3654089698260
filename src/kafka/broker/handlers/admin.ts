/**
 * The admin handlers: topics (CreateTopics, DeleteTopics, CreatePartitions), configs
 * (DescribeConfigs, AlterConfigs, IncrementalAlterConfigs), records (DeleteRecords), epochs
 * (OffsetForLeaderEpoch), the cluster (DescribeCluster) and producers (DescribeProducers).
 * Each API has its own file naming its versions and KIPs.
 */
import type { HandlerTable } from "../broker_context.ts";
import { handleAlterConfigs } from "./alter_configs.ts";
import { handleCreatePartitions } from "./create_partitions.ts";
import { handleCreateTopics } from "./create_topics.ts";
import { handleDeleteRecords } from "./delete_records.ts";
import { handleDeleteTopics } from "./delete_topics.ts";
import { handleDescribeCluster } from "./describe_cluster.ts";
import { handleDescribeConfigs } from "./describe_configs.ts";
import { handleDescribeProducers } from "./describe_producers.ts";
import { handleIncrementalAlterConfigs } from "./incremental_alter_configs.ts";
import { handleOffsetForLeaderEpoch } from "./offset_for_leader_epoch.ts";

/** Handlers of the admin APIs. */
export const ADMIN_HANDLERS: HandlerTable = {
  CreateTopics: handleCreateTopics,
  DeleteTopics: handleDeleteTopics,
  CreatePartitions: handleCreatePartitions,
  DescribeConfigs: handleDescribeConfigs,
  AlterConfigs: handleAlterConfigs,
  IncrementalAlterConfigs: handleIncrementalAlterConfigs,
  DeleteRecords: handleDeleteRecords,
  OffsetForLeaderEpoch: handleOffsetForLeaderEpoch,
  DescribeCluster: handleDescribeCluster,
  DescribeProducers: handleDescribeProducers,
};
