/**
 * The ONNX frontend's table of op handlers (default domain): layout, window and
 * weight ops (`opHandlers.ts`), element-wise arithmetic, normalisation, reduction
 * and slicing (`elementwiseHandlers.ts`), and the recurrent layers
 * (`recurrentHandlers.ts`).
 */
import type { Handler } from './converter';
import { ELEMENTWISE_ONNX_HANDLERS } from './elementwiseHandlers';
import { BASE_ONNX_HANDLERS } from './opHandlers';
import { RECURRENT_ONNX_HANDLERS } from './recurrentHandlers';

/** One handler per supported ONNX op type (default domain). */
export const ONNX_HANDLERS: Readonly<Record<string, Handler>> = { ...BASE_ONNX_HANDLERS, ...ELEMENTWISE_ONNX_HANDLERS, ...RECURRENT_ONNX_HANDLERS };

/** ONNX operators (default domain) the frontend converts, in alphabetical order. */
export const SUPPORTED_ONNX_OPS: readonly string[] = Object.keys(ONNX_HANDLERS).sort();
