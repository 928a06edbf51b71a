/**
 * A tiny WD14 tagger with the real interface, built as an ONNX file for tests: input
 * `input_1:0` float32 [batch (dynamic), S, S, 3] (NHWC, BGR, 0–255), output
 * `predictions_sigmoid` float32 [batch, N]. The graph is
 *
 *   ReduceMean over H, W  →  [batch, 3]  (mean B, G, R in 0–255)
 *   MatMul W (3×N, scaled by 1/255) + bias  →  Sigmoid
 *
 * so every score is a function of the image's mean colour. The tags are chosen so that each
 * preprocessing mistake changes a caption: RGB instead of BGR turns `red_hair` into `blue_eyes`,
 * 0–1 instead of 0–255 drops every colour tag, black padding or alpha onto black drops
 * `white_background`. `expectedScores` computes the same function in JS for exact assertions.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export interface FakeTag {
  name: string;
  /** WD14 categories: 9 rating, 4 character, 0 general. */
  category: 0 | 4 | 9;
  /** Logit = b·B + g·G + r·R + bias, with B, G, R the channel means scaled to 0–1. */
  weights: { b: number; g: number; r: number };
  bias: number;
}

/**
 * Scores of solid colours (sigmoid of the logit):
 *   red (255,0,0):    red_hair 0.9997, 1girl 0.8176, sensitive 0.88 (top rating)
 *   blue (0,0,255):   blue_eyes 0.9997, rem_(re:zero) 0.8176 (< 0.85 character threshold), 1girl
 *   green (0,255,0):  ^_^ 0.9933, long_hair 0.9820, hatsune_miku 0.9526, 1girl 0.8176
 *   white:            white_background 0.9975, 1girl; red padded with white: + white_background 0.88
 */
export const FAKE_TAGS: readonly FakeTag[] = [
  { name: 'general', category: 9, weights: { b: 0, g: 0, r: -4 }, bias: 2 },
  { name: 'sensitive', category: 9, weights: { b: 0, g: 0, r: 4 }, bias: -2 },
  { name: 'questionable', category: 9, weights: { b: 0, g: 0, r: 0 }, bias: -3 },
  { name: 'explicit', category: 9, weights: { b: 0, g: 0, r: 0 }, bias: -4 },
  { name: '1girl', category: 0, weights: { b: 0, g: 0, r: 0 }, bias: 1.5 },
  { name: 'red_hair', category: 0, weights: { b: -10, g: 0, r: 10 }, bias: -2 },
  { name: 'blue_eyes', category: 0, weights: { b: 10, g: 0, r: -10 }, bias: -2 },
  { name: 'white_background', category: 0, weights: { b: 4, g: 4, r: 4 }, bias: -6 },
  { name: '^_^', category: 0, weights: { b: 0, g: 10, r: 0 }, bias: -5 },
  { name: 'long_hair', category: 0, weights: { b: 0, g: 8, r: 0 }, bias: -4 },
  { name: 'hatsune_miku', category: 4, weights: { b: 0, g: 10, r: 0 }, bias: -7 },
  { name: 'rem_(re:zero)', category: 4, weights: { b: 10, g: 0, r: 0 }, bias: -8.5 },
];

export const INPUT_NAME = 'input_1:0';
export const OUTPUT_NAME = 'predictions_sigmoid';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** The scores the model gives an image whose mean colour is (r, g, b) in 0–255. */
export function expectedScores(rgb: readonly [number, number, number]): Map<string, number> {
  const [r, g, b] = rgb.map((v) => v / 255) as [number, number, number];
  return new Map(
    FAKE_TAGS.map((tag) => [
      tag.name,
      sigmoid(tag.weights.b * b + tag.weights.g * g + tag.weights.r * r + tag.bias),
    ]),
  );
}

function floatTensor(name: string, dims: number[], values: number[]) {
  return onnx.TensorProto.create({
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: new Uint8Array(new Float32Array(values).buffer),
  });
}

function valueInfo(name: string, dims: (number | string)[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: onnx.TensorShapeProto.create({
          dim: dims.map((d) =>
            typeof d === 'number'
              ? onnx.TensorShapeProto.Dimension.create({ dimValue: d })
              : onnx.TensorShapeProto.Dimension.create({ dimParam: d }),
          ),
        }),
      }),
    }),
  });
}

/** The ONNX bytes of the fake tagger at `size`×`size`; `batch` fixes the batch dimension. */
export function buildWd14Model(
  options: {
    size?: number;
    batch?: number;
    tags?: readonly FakeTag[];
    /** Adds an unused initializer of this many bytes: a file large enough to cut mid-download. */
    paddingBytes?: number;
  } = {},
): Uint8Array {
  const size = options.size ?? 32;
  const tags = options.tags ?? FAKE_TAGS;
  const batchDim: number | string = options.batch ?? 'batch_size';
  // Rows of W follow the input's channel order: B, G, R.
  const weights = [
    ...tags.map((t) => t.weights.b / 255),
    ...tags.map((t) => t.weights.g / 255),
    ...tags.map((t) => t.weights.r / 255),
  ];
  const graph = onnx.GraphProto.create({
    name: 'fake_wd14',
    node: [
      onnx.NodeProto.create({
        opType: 'ReduceMean',
        input: [INPUT_NAME],
        output: ['means'],
        attribute: [
          onnx.AttributeProto.create({
            name: 'axes',
            type: onnx.AttributeProto.AttributeType.INTS,
            ints: [1, 2],
          }),
          onnx.AttributeProto.create({
            name: 'keepdims',
            type: onnx.AttributeProto.AttributeType.INT,
            i: 0,
          }),
        ],
      }),
      onnx.NodeProto.create({ opType: 'MatMul', input: ['means', 'W'], output: ['logits0'] }),
      onnx.NodeProto.create({ opType: 'Add', input: ['logits0', 'bias'], output: ['logits'] }),
      onnx.NodeProto.create({ opType: 'Sigmoid', input: ['logits'], output: [OUTPUT_NAME] }),
    ],
    initializer: [
      floatTensor('W', [3, tags.length], weights),
      floatTensor(
        'bias',
        [tags.length],
        tags.map((t) => t.bias),
      ),
      ...(options.paddingBytes
        ? [
            floatTensor(
              'unused_padding',
              [Math.ceil(options.paddingBytes / 4)],
              Array.from({ length: Math.ceil(options.paddingBytes / 4) }, (_, i) => Math.sin(i)),
            ),
          ]
        : []),
    ],
    input: [valueInfo(INPUT_NAME, [batchDim, size, size, 3])],
    output: [valueInfo(OUTPUT_NAME, [batchDim, tags.length])],
  });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'pixivtailor-tests',
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: 13 })],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/** `selected_tags.csv` as SmilingWolf's repos ship it. */
export function selectedTagsCsv(tags: readonly FakeTag[] = FAKE_TAGS): string {
  const rows = tags.map((t, i) => `${100000 + i},${t.name},${t.category},${1000 - i}`);
  return `tag_id,name,category,count\n${rows.join('\n')}\n`;
}

/** Writes `<modelsDir>/wd14/<name>/model.onnx` + `selected_tags.csv`; returns the folder. */
export function installWd14Model(
  modelsDir: string,
  name = 'fake-tagger',
  options: { size?: number; batch?: number; tags?: readonly FakeTag[] } = {},
): string {
  const dir = join(modelsDir, 'wd14', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.onnx'), buildWd14Model(options));
  writeFileSync(join(dir, 'selected_tags.csv'), selectedTagsCsv(options.tags));
  return dir;
}
