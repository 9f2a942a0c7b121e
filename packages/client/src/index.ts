export * from './status';
export * from './types';
export { ApiError, CloudSmithClient, type ClientOptions, type FetchLike } from './api';
export {
  followRuntimeLogs,
  logStreamUrl,
  runtimeLogStreamUrl,
  streamLogs,
  type FollowRuntimeLogsOptions,
  type ReconnectInfo,
  type RuntimeLogFollower,
  type StreamLogsOptions,
  type StreamResult,
  type StreamTransportOptions,
} from './logStream';
