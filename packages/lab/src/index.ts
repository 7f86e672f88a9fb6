export { EnergyNet, type EnergyNetOptions } from './energy-net.js';
export { type FittedGaussian, fitGaussian } from './gaussian-baseline.js';
export {
  type Box,
  energiesAt,
  energiesFromLogDensity,
  evaluateEnergy,
  evaluateLogDensity,
  type Grid,
  type GridEvaluation,
  gridNll,
  LAB_BOX,
  logPartition,
  makeGrid,
} from './grid.js';
export {
  labHtml,
  labMarkdown,
  labSections,
  rbmSelectionMarkdown,
  rbmTableMarkdown,
  toyTableMarkdown,
} from './lab-report.js';
export {
  fitTemperature,
  LAB_METHOD_NAMES,
  type LabMethod,
  type LabMethodName,
  labMethod,
  type MethodContext,
  ML_TRAIN_GRID,
  maximumLikelihoodMethod,
  type TrainableEnergy,
} from './methods/index.js';
export {
  densityPanel,
  grayImage,
  type PanelGridLayout,
  type RgbImage,
  viridis,
  writePanelGrid,
} from './pictures.js';
export {
  RBM_OPTIMIZERS,
  RBM_TITLES,
  type RbmLabOptions,
  type RbmLabResult,
  type RbmLabRow,
  type RbmLabTable,
  type RbmProgress,
  runRbmLab,
} from './rbm-lab.js';
export {
  RBM_OPTIMIZER_GRID,
  type RbmSelection,
  type RbmSelectionOptions,
  type RbmSelectionProgress,
  type RbmSelectionRow,
  rbmValidationSplit,
  selectRbmOptimizers,
} from './rbm-select.js';
export { type LabProgress, type LabResult, type RunLabOptions, runLab } from './run-lab.js';
export {
  logBesselI0,
  TOY_DATASET_NAMES,
  type ToyDataset,
  type ToyDatasetName,
  toyDataset,
  toySplit,
} from './toy-data.js';
export {
  runToyLab,
  type ToyLabOptions,
  type ToyLabRow,
  type ToyLabSurfaces,
  type ToyLabTable,
  type ToyMethodResult,
  type ToyProgress,
} from './toy-lab.js';
export { type ToyTrainOptions, type ToyTrainResult, trainToy } from './train-toy.js';
