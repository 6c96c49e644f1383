/**
 * IR drop on a tile's word and bit lines: the resistive network (tileNetwork.ts),
 * its exact nodal solve (nodalSolve.ts), the fast first-order and line models
 * (firstOrder.ts, lineModel.ts), their application to a programmed layer
 * (tileApplication.ts), the chip fields (wireConfig.ts) and the bit-line current
 * bound (bitLineCurrent.ts).
 */
export * from './tileNetwork';
export * from './nodalSolve';
export * from './firstOrder';
export * from './lineModel';
export * from './tileApplication';
export * from './wireConfig';
export * from './bitLineCurrent';
