import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { pbjs } from 'protobufjs-cli';
import { describe, expect, it } from 'vitest';
import { onnxSchema } from '../src/generated/onnx-schema.js';
import { onnxModelType } from '../src/onnx-proto.js';

const schemaPath = fileURLToPath(new URL('../schema/onnx.proto', import.meta.url));

describe('vendored ONNX schema', () => {
  it('src/generated/onnx-schema.ts is what `pnpm gen:proto` produces from schema/onnx.proto', async () => {
    const output = await new Promise<string>((resolve, reject) => {
      pbjs.main(['--target', 'json', '--keep-case', schemaPath], (error, text) =>
        error ? reject(error) : resolve(text ?? ''),
      );
    });
    expect(onnxSchema).toEqual(JSON.parse(output));
  });

  it('keeps the field numbers of onnx.proto (spot checks against the ONNX IR spec)', async () => {
    const model = onnxModelType();
    const field = (type: string, name: string) =>
      model.root.lookupType(`onnx.${type}`).fields[name]!.id;
    expect([
      field('ModelProto', 'ir_version'),
      field('ModelProto', 'opset_import'),
      field('ModelProto', 'graph'),
    ]).toEqual([1, 8, 7]);
    expect([field('ModelProto', 'metadata_props'), field('ModelProto', 'functions')]).toEqual([
      14, 25,
    ]);
    expect([
      field('GraphProto', 'node'),
      field('GraphProto', 'initializer'),
      field('GraphProto', 'input'),
      field('GraphProto', 'output'),
    ]).toEqual([1, 5, 11, 12]);
    expect([
      field('NodeProto', 'op_type'),
      field('NodeProto', 'attribute'),
      field('NodeProto', 'domain'),
    ]).toEqual([4, 5, 7]);
    expect([
      field('AttributeProto', 'type'),
      field('AttributeProto', 'ints'),
      field('AttributeProto', 'f'),
    ]).toEqual([20, 8, 2]);
    expect([
      field('TensorProto', 'dims'),
      field('TensorProto', 'data_type'),
      field('TensorProto', 'raw_data'),
    ]).toEqual([1, 2, 9]);
    expect([field('TypeProto', 'tensor_type'), field('ValueInfoProto', 'type')]).toEqual([1, 2]);
    const text = await readFile(schemaPath, 'utf8');
    // proto2 like onnx/onnx.proto: fields have explicit presence (see the next test).
    expect(text).toContain('syntax = "proto2";');
  });

  it('writes attributes byte for byte as onnx.helper.make_attribute does (0 and "" kept, ints unpacked)', () => {
    // Under proto3 semantics `keepdims: 0` lost its `i` field and OpenCV's importer refused it
    // ("DNN/ONNX/Attribute[keepdims]: unsupported attribute format"). Expected bytes are
    // python3-onnx 1.12's helper.make_attribute(...).SerializeToString().
    const type = onnxModelType().root.lookupType('onnx.AttributeProto');
    const hex = (o: Record<string, unknown>) =>
      Buffer.from(type.encode(type.fromObject(o)).finish()).toString('hex');
    expect(hex({ name: 'keepdims', type: 2, i: 0 })).toBe('0a086b65657064696d731800a00102');
    expect(hex({ name: 'alpha', type: 1, f: 0 })).toBe('0a05616c7068611500000000a00101');
    expect(hex({ name: 'axes', type: 7, ints: [2, 3] })).toBe('0a046178657340024003a00107');
    expect(hex({ name: 'mode', type: 3, s: new Uint8Array(0) })).toBe('0a046d6f64652200a00103');
  });
});
