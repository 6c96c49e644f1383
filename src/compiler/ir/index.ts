/**
 * ohmic's compiler IR: typed ops, graphs, shape inference, verification, printing.
 * @packageDocumentation
 */
export type {
  AddAttrs,
  AnalogOpKind,
  AvgPoolAttrs,
  BatchNormAttrs,
  ConcatAttrs,
  ConstTensor,
  Conv2dAttrs,
  DenseAttrs,
  FlattenAttrs,
  GlobalAvgPoolAttrs,
  InputAttrs,
  LstmAttrs,
  MatMulAttrs,
  MaxPoolAttrs,
  NoAttrs,
  NoiseAttrs,
  OpAttrs,
  OpKind,
  Padding,
  ReshapeAttrs,
  Shape,
  SoftmaxAttrs,
  TransposeAttrs,
} from './ops';
export { ANALOG_OP_KINDS, OP_ARITY, OP_KINDS, constTensorsOf, sizeOf } from './ops';
export type { AnalogNode, Graph, Node, NodeOf } from './graph';
export { consumers, findNode, isAnalog, nodeMap } from './graph';
export { explicitPadding, formatShape, inferShape } from './shapes';
export { verifyGraph } from './verify';
export { printGraph, printNeighbourhood, printNode } from './print';
export { GraphBuilder } from './builder';
export { mvmGroupCount, mvmMatrix } from './mvmMatrix';
