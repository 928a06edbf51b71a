import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { ErrorCode, TailorError } from '../../src/domain/errors.js';
import type { JsonObject } from '../../src/domain/task.js';
import { GenerationConfigSchema } from '../../src/executors/generate/config-schema.js';
import { EXAMPLE_CONFIGS } from '../../src/executors/generate/examples.js';
import {
  generateTaskConfigFrom,
  mergeOverride,
  splitGenerationConfig,
  validateGenerationParams,
} from '../../src/executors/generate/override.js';
import { buildPrompt } from '../../src/executors/generate/prompt.js';
import { buildTxt2ImgRequest } from '../../src/executors/generate/request.js';
import type { StoredConfig } from '../../src/executors/generate/storage/configs.js';

function fieldPaths(error: unknown): string[] {
  assert.ok(error instanceof TailorError, `expected a TailorError, got ${String(error)}`);
  assert.equal(error.code, ErrorCode.VALIDATION);
  return (error.details as { fields: { path: string }[] }).fields.map((f) => f.path);
}

describe('generation prompt', () => {
  test('each LoRA is appended as <lora:name:weight> followed by its trigger words', () => {
    assert.equal(
      buildPrompt('1girl, solo', [
        { name: 'add_detail', weight: 0.6, trigger_words: [] },
        { name: 'style', weight: 1, trigger_words: ['neon lights', 'cyberpunk'] },
      ]),
      '1girl, solo, <lora:add_detail:0.6>, <lora:style:1>, neon lights, cyberpunk',
    );
  });

  test('empty parts and extra whitespace never produce doubled commas', () => {
    assert.equal(
      buildPrompt(' 1girl ,, \n solo,  ', [
        { name: 'x', weight: 0.5, trigger_words: [' a ', ',b,'] },
      ]),
      '1girl, solo, <lora:x:0.5>, a, b',
    );
    assert.equal(buildPrompt('', [{ name: 'x', weight: 1, trigger_words: [] }]), '<lora:x:1>');
    assert.equal(buildPrompt('  ,  '), '');
  });

  test('a trigger word already in the prompt is not added twice', () => {
    assert.equal(
      buildPrompt('Cyberpunk, city', [
        { name: 's', weight: 1, trigger_words: ['cyberpunk', 'night'] },
      ]),
      'Cyberpunk, city, <lora:s:1>, night',
    );
  });

  test('weights are written without floating-point noise', () => {
    assert.equal(
      buildPrompt('a', [{ name: 'w', weight: 0.1 + 0.2, trigger_words: [] }]),
      'a, <lora:w:0.3>',
    );
  });
});

describe('generation config schema', () => {
  test('defaults fill every omitted field; model, vae, clip skip and scheduler stay unset', () => {
    const params = validateGenerationParams({ prompt: 'a', loras: [{ name: 'x' }] });
    assert.deepEqual(params, {
      prompt: 'a',
      negative_prompt: '',
      steps: 20,
      cfg_scale: 7,
      width: 512,
      height: 512,
      sampler: 'Euler a',
      seed: -1,
      batch_size: 1,
      batch_count: 1,
      loop_count: 1,
      enable_hr: false,
      hr_scale: 2,
      hr_upscaler: 'Latent',
      hr_second_pass_steps: 0,
      denoising_strength: 0.7,
      loras: [{ name: 'x', weight: 1, trigger_words: [] }],
    });
  });

  test('out-of-range values, wrong types and unknown fields are each named', () => {
    assert.throws(
      () =>
        validateGenerationParams(
          {
            prompt: 'a',
            steps: 151,
            width: 60,
            height: 4100,
            batch_size: 17,
            seed: -2,
            cfg_scale: '7',
            denoising_strength: 1.5,
            extra: true,
            loras: [{ name: '<bad>' }, { name: 'ok', trigger_words: [''] }],
          },
          '/body',
        ),
      (error: unknown) => {
        const paths = fieldPaths(error);
        for (const path of [
          '/body/steps',
          '/body/width',
          '/body/height',
          '/body/batch_size',
          '/body/seed',
          '/body/cfg_scale',
          '/body/denoising_strength',
          '/body/extra',
          '/body/loras/0/name',
          '/body/loras/1/trigger_words/0',
        ]) {
          assert.ok(paths.includes(path), `${path} in ${paths.join(', ')}`);
        }
        return true;
      },
    );
  });

  test('a prompt is required', () => {
    assert.throws(
      () => validateGenerationParams({ steps: 20 }),
      (e: unknown) => {
        assert.deepEqual(fieldPaths(e), ['/prompt']);
        return true;
      },
    );
  });

  test('every example config is valid', () => {
    const validate = new Ajv({ strict: false }).compile(GenerationConfigSchema);
    assert.ok(EXAMPLE_CONFIGS.length >= 3);
    for (const example of EXAMPLE_CONFIGS) {
      assert.ok(
        validate(structuredClone(example)),
        `${example.name}: ${JSON.stringify(validate.errors)}`,
      );
      const { name, body } = splitGenerationConfig(example as unknown as JsonObject);
      assert.equal(name, example.name);
      validateGenerationParams(body);
    }
    assert.ok(EXAMPLE_CONFIGS.some((c) => c.enable_hr === true));
    assert.ok(EXAMPLE_CONFIGS.some((c) => (c.loras ?? []).length > 0));
  });

  test('a flat configs-API body splits into name, category and the generation body', () => {
    assert.deepEqual(splitGenerationConfig({ name: 'n', category: 'c', prompt: 'p', steps: 3 }), {
      name: 'n',
      category: 'c',
      body: { prompt: 'p', steps: 3 },
    });
  });
});

describe('override of a stored config', () => {
  const stored: JsonObject = {
    prompt: 'a',
    steps: 30,
    loras: [{ name: 'x', weight: 1, trigger_words: [] }],
  };

  test('override fields replace stored ones and the rest keeps stored values and defaults', () => {
    const merged = mergeOverride(stored, { steps: 10, loras: [], seed: 42 });
    assert.equal(merged.prompt, 'a');
    assert.equal(merged.steps, 10);
    assert.equal(merged.seed, 42);
    assert.deepEqual(merged.loras, []);
    assert.equal(merged.width, 512);
    assert.equal(stored.steps, 30, 'the stored body is not modified');
  });

  test('no override means the stored config as it is, validated', () => {
    assert.equal(mergeOverride(stored, undefined).steps, 30);
    assert.equal(mergeOverride(stored, null).steps, 30);
  });

  test('a bad override names the override fields; a stale stored value names the config', () => {
    assert.throws(
      () =>
        mergeOverride({ ...stored, width: 100 }, { steps: 500, stepz: 1, loras: [{ name: '' }] }),
      (error: unknown) => {
        assert.deepEqual(fieldPaths(error).sort(), [
          '/config/width',
          '/override/loras/0/name',
          '/override/steps',
          '/override/stepz',
        ]);
        return true;
      },
    );
  });

  test('an override that is not an object is refused', () => {
    for (const override of [[], 'steps=10', 5]) {
      assert.throws(
        () => mergeOverride(stored, override),
        (e: unknown) => {
          assert.deepEqual(fieldPaths(e), ['/override']);
          return true;
        },
      );
    }
  });

  test('a task config made from a stored config records where it came from', () => {
    const config: StoredConfig = {
      id: 'cfg-1',
      name: 'Portrait',
      category: 'examples',
      body: stored,
      created_at: '2025-01-01T00:00:00.000Z',
      updated_at: '2025-01-01T00:00:00.000Z',
    };
    const task = generateTaskConfigFrom(config, { steps: 12 });
    assert.equal(task.config_id, 'cfg-1');
    assert.equal(task.config_name, 'Portrait');
    assert.equal(task.steps, 12);
  });
});

describe('txt2img request', () => {
  const params = validateGenerationParams({
    prompt: 'a',
    seed: 100,
    batch_size: 2,
    batch_count: 3,
  });

  test('a fixed seed advances by the images of each loop; a random seed stays random', () => {
    assert.deepEqual(
      [0, 1, 2].map((loop) => buildTxt2ImgRequest(params, loop).seed),
      [100, 106, 112],
    );
    const random = validateGenerationParams({ prompt: 'a' });
    assert.equal(buildTxt2ImgRequest(random, 3).seed, -1);
  });

  test('the WebUI keeps its own model, VAE and clip skip unless the config names them', () => {
    assert.deepEqual(buildTxt2ImgRequest(params, 0).override_settings, {});
    const named = validateGenerationParams({ prompt: 'a', model: 'm', vae: '', clip_skip: 2 });
    assert.deepEqual(buildTxt2ImgRequest(named, 0).override_settings, {
      sd_model_checkpoint: 'm',
      CLIP_stop_at_last_layers: 2,
    });
  });

  test('hires fields are sent only with hires fix enabled', () => {
    const plain = buildTxt2ImgRequest(params, 0);
    assert.equal(plain.enable_hr, false);
    assert.equal(plain.hr_scale, undefined);
    assert.equal(plain.denoising_strength, undefined);
    const hires = buildTxt2ImgRequest(
      validateGenerationParams({
        prompt: 'a',
        enable_hr: true,
        hr_scale: 1.5,
        hr_upscaler: 'R-ESRGAN 4x+',
      }),
      0,
    );
    assert.equal(hires.enable_hr, true);
    assert.equal(hires.hr_scale, 1.5);
    assert.equal(hires.hr_upscaler, 'R-ESRGAN 4x+');
    assert.equal(hires.denoising_strength, 0.7);
    assert.equal(hires.n_iter, 1);
  });
});
