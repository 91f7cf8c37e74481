// Builds small ONNX models as bytes with onnx-proto's generated *encoder* — code independent of the
// engine's hand-written decoder — so unit tests can state expected values by hand.

import { onnx } from 'onnx-proto';

export type Dims = (number | string)[];

export function valueInfo(name: string, elemType: number, dims?: Dims): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: dims ? { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } : undefined,
      },
    },
  };
}

export function floatTensor(name: string, dims: number[], values: number[]): onnx.ITensorProto {
  const raw = new Uint8Array(new Float32Array(values).buffer);
  return { name, dims, dataType: 1, rawData: raw };
}

/** A tensor whose values are deterministic but not trivial: value i = sin(i + 1). */
export function filledTensor(name: string, dims: number[]): onnx.ITensorProto {
  const n = dims.reduce((a, b) => a * b, 1);
  return floatTensor(name, dims, Array.from({ length: n }, (_, i) => Math.sin(i + 1)));
}

export function node(opType: string, inputs: string[], outputs: string[], attrs: onnx.IAttributeProto[] = [], name = ''): onnx.INodeProto {
  return { opType, input: inputs, output: outputs, attribute: attrs, name };
}

export const attr = {
  int: (name: string, i: number): onnx.IAttributeProto => ({ name, type: 2, i }),
  ints: (name: string, ints: number[]): onnx.IAttributeProto => ({ name, type: 7, ints }),
  float: (name: string, f: number): onnx.IAttributeProto => ({ name, type: 1, f }),
  floats: (name: string, floats: number[]): onnx.IAttributeProto => ({ name, type: 6, floats }),
  string: (name: string, s: string): onnx.IAttributeProto => ({ name, type: 3, s: new TextEncoder().encode(s) }),
  tensor: (name: string, t: onnx.ITensorProto): onnx.IAttributeProto => ({ name, type: 4, t }),
  graph: (name: string, g: onnx.IGraphProto): onnx.IAttributeProto => ({ name, type: 5, g }),
};

export function graph(g: onnx.IGraphProto): onnx.IGraphProto {
  return { name: 'g', ...g };
}

export function modelBytes(g: onnx.IGraphProto, extra: onnx.IModelProto = {}, opset = 17): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 8, producerName: 'unit-test', opsetImport: [{ domain: '', version: opset }], graph: g, ...extra,
  }).finish();
}
