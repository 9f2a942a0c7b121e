export * from './status';
export * from './types';
export { ApiError, CloudSmithClient, type ClientOptions, type FetchLike } from './api';
export { logStreamUrl, streamLogs, type ReconnectInfo, type StreamLogsOptions, type StreamResult } from './logStream';
