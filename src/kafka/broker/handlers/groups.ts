/**
 * The consumer-group handlers: FindCoordinator, the classic rebalance protocol (JoinGroup,
 * SyncGroup, Heartbeat, LeaveGroup), committed offsets (OffsetCommit, OffsetFetch,
 * OffsetDelete) and group administration (DescribeGroups, ListGroups, DeleteGroups). They
 * translate wire versions to `GroupService` calls and map outcomes to error codes; the
 * rules live in src/cluster/group_coordinator.ts.
 */
import type { HandlerTable } from "../broker_context.ts";
import { handleDeleteGroups } from "./delete_groups.ts";
import { handleDescribeGroups } from "./describe_groups.ts";
import { handleFindCoordinator } from "./find_coordinator.ts";
import { handleHeartbeat } from "./heartbeat.ts";
import { handleJoinGroup } from "./join_group.ts";
import { handleLeaveGroup } from "./leave_group.ts";
import { handleListGroups } from "./list_groups.ts";
import { handleOffsetCommit } from "./offset_commit.ts";
import { handleOffsetDelete } from "./offset_delete.ts";
import { handleOffsetFetch } from "./offset_fetch.ts";
import { handleSyncGroup } from "./sync_group.ts";

/** Handlers of the group APIs. */
export const GROUP_HANDLERS: HandlerTable = {
  FindCoordinator: handleFindCoordinator,
  JoinGroup: handleJoinGroup,
  SyncGroup: handleSyncGroup,
  Heartbeat: handleHeartbeat,
  LeaveGroup: handleLeaveGroup,
  OffsetCommit: handleOffsetCommit,
  OffsetFetch: handleOffsetFetch,
  OffsetDelete: handleOffsetDelete,
  DescribeGroups: handleDescribeGroups,
  ListGroups: handleListGroups,
  DeleteGroups: handleDeleteGroups,
};
