/**
 * Dataset readers: MNIST (IDX), CIFAR-10 (binary records), MNIST stroke
 * sequences (streamed tar.gz), and the embedded MNIST test split. This folder
 * imports nothing from the rest of ohmic except the error types.
 *
 * @packageDocumentation
 */
export {
  IDX_IMAGES_MAGIC,
  IDX_LABELS_MAGIC,
  loadMnist,
  parseIdxImages,
  parseIdxLabels,
  readIdxImages,
  readIdxLabels,
} from './idx';
export type { IdxImages, IdxReadOptions, MnistData, MnistSplit } from './idx';
export {
  CIFAR10_CLASS_NAMES,
  CIFAR_CHANNELS,
  CIFAR_RECORD_BYTES,
  CIFAR_SIDE,
  readCifarBinary,
} from './cifarBinary';
export type { Cifar10ClassName, CifarData, CifarReadOptions } from './cifarBinary';
export {
  loadStrokes,
  parseStrokeInputData,
  parseStrokeLabels,
  STROKE_FEATURES,
  STROKES_DEFAULT_COORDINATE_DIVISOR,
  STROKES_DEFAULT_MAX_LENGTH,
} from './strokes';
export type { StrokeData, StrokeLoadOptions, StrokeSplit } from './strokes';
export { readTarArchive, TarParser } from './tarStream';
export type { TarEntry, TarVisitor } from './tarStream';
export { defaultDataDir, embeddedMnistDir, packageRoot, sharedDatasetPaths } from './paths';
export type { SharedDatasetPaths } from './paths';
export { isGzip, readMaybeGzip } from './fileBytes';
