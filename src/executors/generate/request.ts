import type { GenerationParams } from './config-schema.js';
import { buildPrompt, cleanPrompt } from './prompt.js';
import type { Txt2ImgRequest } from './webui-client.js';

const SEED_SPACE = 2 ** 32;

/**
 * The `/sdapi/v1/txt2img` body for one loop. A fixed seed advances by the number of images each
 * loop makes — the WebUI numbers the images of one request `seed, seed+1, …` — so loops continue
 * the sequence instead of repeating the same images. Model, VAE and clip skip go through
 * `override_settings` and are restored afterwards, so other WebUI users keep their settings.
 */
export function buildTxt2ImgRequest(params: GenerationParams, loop: number): Txt2ImgRequest {
  const perLoop = params.batch_size * params.batch_count;
  const seed = params.seed === -1 ? -1 : (params.seed + loop * perLoop) % SEED_SPACE;
  const override: Record<string, string | number> = {};
  if (params.model) override.sd_model_checkpoint = params.model;
  if (params.vae) override.sd_vae = params.vae;
  if (params.clip_skip !== undefined) override.CLIP_stop_at_last_layers = params.clip_skip;

  const request: Txt2ImgRequest = {
    prompt: buildPrompt(params.prompt, params.loras),
    negative_prompt: cleanPrompt(params.negative_prompt),
    steps: params.steps,
    cfg_scale: params.cfg_scale,
    width: params.width,
    height: params.height,
    sampler_name: params.sampler,
    seed,
    batch_size: params.batch_size,
    n_iter: params.batch_count,
    enable_hr: params.enable_hr,
    override_settings: override,
    override_settings_restore_afterwards: true,
    send_images: true,
    // The images are saved here, next to their sidecars; the WebUI need not keep copies.
    save_images: false,
  };
  if (params.scheduler) request.scheduler = params.scheduler;
  if (params.enable_hr) {
    request.hr_scale = params.hr_scale;
    request.hr_upscaler = params.hr_upscaler;
    request.hr_second_pass_steps = params.hr_second_pass_steps;
    request.denoising_strength = params.denoising_strength;
  }
  return request;
}
