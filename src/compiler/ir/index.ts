/**
 * ohmic's compiler IR: typed ops, graphs, shape inference, verification, printing.
 * @packageDocumentation
 */
export type {
  AddAttrs,
  AnalogOpKind,
  AvgPoolAttrs,
  BatchNormAttrs,
  BinaryAttrs,
  ClipAttrs,
  ConcatAttrs,
  ConstTensor,
  Conv2dAttrs,
  DenseAttrs,
  FlattenAttrs,
  GateActivation,
  GeluAttrs,
  GlobalAvgPoolAttrs,
  GruAttrs,
  HardSigmoidAttrs,
  InputAttrs,
  LayerNormAttrs,
  LstmAttrs,
  MatMulAttrs,
  MaxPoolAttrs,
  NoAttrs,
  NoiseAttrs,
  OpAttrs,
  OpKind,
  Padding,
  PowAttrs,
  ReduceAttrs,
  ReshapeAttrs,
  Shape,
  SliceAttrs,
  SoftmaxAttrs,
  TransposeAttrs,
} from './ops';
export { ANALOG_OP_KINDS, OP_ARITY, OP_KINDS, constTensorsOf, sizeOf } from './ops';
export type { AnalogNode, Graph, Node, NodeOf } from './graph';
export { consumers, findNode, isAnalog, nodeMap, staticSampleDims } from './graph';
export { explicitPadding, formatShape, inferShape } from './shapes';
export { verifyGraph } from './verify';
export { printGraph, printNeighbourhood, printNode } from './print';
export { GraphBuilder } from './builder';
export { mvmGroupCount, mvmMatrix } from './mvmMatrix';
