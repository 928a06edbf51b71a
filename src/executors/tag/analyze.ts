/**
 * `POST /api/tag/analyze`: one image tagged synchronously, with the same analyzers and selection
 * rules as a task — the quick way to try thresholds before tagging a folder.
 */
import { readFile } from 'node:fs/promises';
import { ErrorCode, TailorError } from '../../domain/errors.js';
import { confineUserPath } from '../paths.js';
import { interrogateWebui, type TagServices } from './executor.js';
import type { Prediction, ScoredTag } from './labels.js';
import type { Analyzer } from './schema.js';
import { selectTags, type SelectOptions } from './select.js';
import { DEFAULT_WEBUI_TAGGER, WebuiTagger, WebuiTaggerError } from './webui.js';
import { predictionOf } from './wd14/labels.js';
import { scoreImages } from './wd14/pipeline.js';

export interface AnalyzeRequest extends SelectOptions {
  image?: string | undefined;
  path?: string | undefined;
  analyzer: Analyzer;
  model?: string | undefined;
}

export interface AnalyzeResult {
  caption: string;
  tags: ScoredTag[];
  rating: Record<string, number>;
  model: string;
  analyzer: Analyzer;
}

async function imageBytes(request: AnalyzeRequest, services: TagServices): Promise<Buffer> {
  if ((request.image === undefined) === (request.path === undefined)) {
    throw new TailorError(ErrorCode.VALIDATION, 'give exactly one of image (base64) and path', {
      field: '/image',
    });
  }
  if (request.path !== undefined) {
    const path = await confineUserPath(request.path, services.roots, 'path');
    try {
      return await readFile(path);
    } catch (error) {
      throw new TailorError(
        ErrorCode.VALIDATION,
        `/path: cannot read ${request.path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
        { field: '/path' },
      );
    }
  }
  const base64 = request.image!.replace(/^data:[^,]*,/, '');
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length === 0) {
    throw new TailorError(ErrorCode.VALIDATION, '/image: not base64 image data', {
      field: '/image',
    });
  }
  return bytes;
}

export async function analyzeImage(
  request: AnalyzeRequest,
  services: TagServices,
  signal: AbortSignal,
): Promise<AnalyzeResult> {
  const bytes = await imageBytes(request, services);
  let prediction: Prediction;
  let model: string;
  if (request.analyzer === 'webui') {
    const tagger = new WebuiTagger(services.webuiUrl, services.http);
    try {
      prediction = await interrogateWebui(tagger, bytes, request, signal);
    } catch (error) {
      if (error instanceof WebuiTaggerError) {
        throw new TailorError(
          error.kind === 'unreachable' ? ErrorCode.DEPENDENCY_UNAVAILABLE : ErrorCode.VALIDATION,
          error.message,
          { url: tagger.url },
        );
      }
      throw error;
    }
    model = request.model ?? DEFAULT_WEBUI_TAGGER;
  } else {
    model = await services.models.resolve(request.model, services.defaultModel);
    const lease = await services.models.acquire(model);
    try {
      let scored: Float32Array | null = null;
      let failure = 'not scored';
      for await (const batch of scoreImages(lease.model, [bytes], (b) => b, {
        batchSize: 1,
        signal,
      })) {
        const first = batch[0];
        if (first && 'scores' in first) scored = first.scores;
        else if (first) failure = first.error;
      }
      if (!scored) {
        throw new TailorError(ErrorCode.VALIDATION, `the image is unreadable: ${failure}`, {
          field: request.path === undefined ? '/image' : '/path',
        });
      }
      prediction = predictionOf(lease.model.labels, scored);
    } finally {
      lease.release();
    }
  }
  const selection = selectTags(prediction, request);
  return {
    caption: selection.caption,
    tags: selection.tags,
    rating: selection.rating,
    model,
    analyzer: request.analyzer,
  };
}
