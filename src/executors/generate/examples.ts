import type { GenerationConfigInput } from './config-schema.js';

/**
 * Starting points for the configs API and the console (plain data, valid against
 * `GenerationConfigSchema`; a test keeps them so). Model and LoRA names are common public ones and
 * may not exist on a given WebUI.
 */
export const EXAMPLE_CONFIGS: readonly GenerationConfigInput[] = [
  {
    name: 'Portrait',
    category: 'examples',
    prompt: 'masterpiece, best quality, 1girl, solo, upper body, looking at viewer, soft lighting',
    negative_prompt:
      'lowres, bad anatomy, bad hands, text, error, worst quality, low quality, watermark',
    steps: 28,
    cfg_scale: 7,
    width: 512,
    height: 768,
    sampler: 'DPM++ 2M',
    scheduler: 'Karras',
    seed: -1,
    batch_size: 2,
    batch_count: 1,
    loop_count: 1,
    clip_skip: 2,
    enable_hr: false,
    loras: [],
  },
  {
    name: 'Landscape (hires fix)',
    category: 'examples',
    prompt: 'scenery, mountains, lake, sunrise, clouds, detailed sky, no humans',
    negative_prompt: 'lowres, blurry, text, watermark, worst quality',
    steps: 25,
    cfg_scale: 6.5,
    width: 768,
    height: 512,
    sampler: 'Euler a',
    seed: -1,
    batch_size: 1,
    batch_count: 2,
    loop_count: 1,
    enable_hr: true,
    hr_scale: 2,
    hr_upscaler: 'R-ESRGAN 4x+',
    hr_second_pass_steps: 15,
    denoising_strength: 0.45,
    loras: [],
  },
  {
    name: 'Style LoRA',
    category: 'examples',
    prompt: '1girl, solo, city street, night, neon lights',
    negative_prompt: 'lowres, bad anatomy, worst quality',
    steps: 24,
    cfg_scale: 7,
    width: 512,
    height: 512,
    sampler: 'DPM++ 2M',
    scheduler: 'Karras',
    seed: 1234,
    batch_size: 1,
    batch_count: 1,
    loop_count: 4,
    clip_skip: 2,
    enable_hr: false,
    loras: [
      { name: 'add_detail', weight: 0.6, trigger_words: [] },
      { name: 'cyberpunk_style', weight: 0.8, trigger_words: ['cyberpunk', 'neon'] },
    ],
  },
];
