export { type KnnMonitorOptions, knnMonitor } from './knn-monitor.js';
export type { Monitor, MonitorContext } from './monitor.js';
export { type OnlineLinearProbeOptions, onlineLinearProbe } from './online-linear-probe.js';
export {
  type TrainingMonitors,
  type TrainingMonitorsOptions,
  trainingMonitors,
} from './training-monitors.js';
