"""A stand-in for kohya-ss/sd-scripts' LoRA trainers, for tests.

It reads its arguments and both TOML files as sd-scripts would (refusing unknown or missing
keys and missing image folders), prints tqdm-style progress with carriage returns, and saves
epoch/final .safetensors files and sample PNGs. Behaviour on demand comes from a file
`fake_kohya.json` in the first image folder:
  steps_per_epoch  (int)    steps per epoch instead of images*repeats/batch
  step_delay       (float)  seconds per step (default 0.002)
  fail_at_step     (int)    print a traceback and exit 1 at this step
  ignore_sigint    (bool)   ignore SIGINT (a stop must escalate)
  ignore_sigterm   (bool)   ignore SIGTERM as well (only SIGKILL ends it)
  grandchild       (bool)   start a sleeping grandchild in the same process group
Every run records itself in `<output_dir>/fake_kohya_run.json` (argv, pid, pgid, grandchild).
"""
import argparse
import json
import math
import os
import signal
import subprocess
import sys
import time
import tomllib

# 1x1 transparent PNG
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)

TRAINING_KEYS = {
    "pretrained_model_name_or_path", "clip_l", "t5xxl", "ae", "output_dir", "output_name",
    "save_model_as", "network_module", "network_dim", "network_alpha", "max_train_epochs",
    "max_train_steps", "learning_rate", "unet_lr", "text_encoder_lr", "optimizer_type",
    "lr_scheduler", "mixed_precision", "save_every_n_epochs", "seed", "sample_prompts",
    "sample_every_n_epochs", "sample_sampler",
    # the allow-listed extra flags
    "gradient_checkpointing", "cache_latents", "cache_latents_to_disk",
    "cache_text_encoder_outputs", "xformers", "sdpa", "full_fp16", "full_bf16", "fp8_base",
    "network_train_unet_only", "network_train_text_encoder_only", "clip_skip",
    "max_token_length", "noise_offset", "min_snr_gamma", "network_dropout", "max_grad_norm",
    "prior_loss_weight", "scale_weight_norms", "lr_warmup_steps", "lr_scheduler_num_cycles",
    "max_data_loader_n_workers", "save_precision", "guidance_scale", "timestep_sampling",
    "discrete_flow_shift", "model_prediction_type",
}
REQUIRED = {"pretrained_model_name_or_path", "output_dir", "output_name", "network_module"}
FLUX_REQUIRED = {"clip_l", "t5xxl", "ae"}
GENERAL_KEYS = {"shuffle_caption", "caption_extension", "keep_tokens"}
DATASET_KEYS = {"resolution", "batch_size", "enable_bucket", "min_bucket_reso", "max_bucket_reso", "subsets"}
SUBSET_KEYS = {"image_dir", "num_repeats", "class_tokens"}
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".webp", ".bmp"}


def refuse(message):
    print(f"ValueError: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


def check_keys(table, allowed, where):
    unknown = set(table) - allowed
    if unknown:
        refuse(f"unknown keys in {where}: {sorted(unknown)}")


def main(family):
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset_config", required=True)
    parser.add_argument("--config_file", required=True)
    args = parser.parse_args()
    with open(args.config_file, "rb") as f:
        config = tomllib.load(f)
    with open(args.dataset_config, "rb") as f:
        dataset = tomllib.load(f)

    check_keys(config, TRAINING_KEYS, "config_file")
    required = REQUIRED | (FLUX_REQUIRED if family == "flux" else set())
    missing = required - set(config)
    if missing:
        refuse(f"missing keys in config_file: {sorted(missing)}")
    for key in ("pretrained_model_name_or_path", "clip_l", "t5xxl", "ae"):
        if key in config and not os.path.isfile(config[key]):
            refuse(f"{key} does not exist: {config[key]}")
    check_keys(dataset, {"general", "datasets"}, "dataset_config")
    check_keys(dataset.get("general", {}), GENERAL_KEYS, "[general]")
    caption_extension = dataset.get("general", {}).get("caption_extension", ".caption")
    subsets = []
    for ds in dataset.get("datasets", []):
        check_keys(ds, DATASET_KEYS, "[[datasets]]")
        for subset in ds.get("subsets", []):
            check_keys(subset, SUBSET_KEYS, "[[datasets.subsets]]")
            if not os.path.isdir(subset["image_dir"]):
                refuse(f"image_dir does not exist: {subset['image_dir']}")
            subsets.append((subset, ds.get("batch_size", 1)))
    if not subsets:
        refuse("no subsets in dataset_config")

    knobs_path = os.path.join(subsets[0][0]["image_dir"], "fake_kohya.json")
    knobs = {}
    if os.path.isfile(knobs_path):
        with open(knobs_path) as f:
            knobs = json.load(f)
    if knobs.get("ignore_sigint"):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if knobs.get("ignore_sigterm"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)

    output_dir = config["output_dir"]
    name = config["output_name"]
    os.makedirs(output_dir, exist_ok=True)
    grandchild = None
    if knobs.get("grandchild"):
        code = "import signal, time\n"
        if knobs.get("ignore_sigint"):
            code += "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        if knobs.get("ignore_sigterm"):
            code += "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        code += "time.sleep(600)\n"
        grandchild = subprocess.Popen([sys.executable, "-c", code]).pid
    with open(os.path.join(output_dir, "fake_kohya_run.json"), "w") as f:
        json.dump({"argv": sys.argv, "family": family, "cwd": os.getcwd(), "pid": os.getpid(),
                   "pgid": os.getpgid(0), "grandchild": grandchild}, f)

    images = 0
    captions = 0
    steps_per_epoch = 0
    for subset, batch_size in subsets:
        names = os.listdir(subset["image_dir"])
        count = sum(1 for n in names if os.path.splitext(n)[1].lower() in IMAGE_EXTENSIONS)
        images += count
        captions += sum(
            1 for n in names
            if os.path.splitext(n)[1].lower() in IMAGE_EXTENSIONS
            and os.path.splitext(n)[0] + caption_extension in names
        )
        steps_per_epoch += math.ceil(count * subset.get("num_repeats", 1) / batch_size)
    steps_per_epoch = knobs.get("steps_per_epoch", steps_per_epoch)
    if "max_train_steps" in config:
        total = config["max_train_steps"]
        epochs = math.ceil(total / steps_per_epoch)
    else:
        epochs = config.get("max_train_epochs", 1)
        total = epochs * steps_per_epoch
    print(f"found {images} images, {captions} captions", file=sys.stderr, flush=True)
    print(f"num epochs / epoch数: {epochs}", flush=True)

    delay = knobs.get("step_delay", 0.002)
    fail_at = knobs.get("fail_at_step")
    save_every = config.get("save_every_n_epochs")
    sample_every = config.get("sample_every_n_epochs")
    prompts = []
    if "sample_prompts" in config:
        with open(config["sample_prompts"]) as f:
            prompts = [line.strip() for line in f if line.strip()]
    step = 0
    started = time.time()
    sys.stderr.write(f"\rsteps:   0%|          | 0/{total} [00:00<?, ?it/s]")
    sys.stderr.flush()
    for epoch in range(1, epochs + 1):
        sys.stderr.write(f"\n\nepoch {epoch}/{epochs}\n")
        sys.stderr.flush()
        for _ in range(steps_per_epoch):
            if step >= total:
                break
            step += 1
            time.sleep(delay)
            if fail_at is not None and step >= fail_at:
                sys.stderr.write("\n")
                print("Traceback (most recent call last):", file=sys.stderr)
                print('  File "train_network.py", line 1012, in train', file=sys.stderr)
                print("torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB",
                      file=sys.stderr, flush=True)
                sys.exit(1)
            loss = 0.2 / (1 + 0.05 * step)
            pct = int(100 * step / total)
            bar = "█" * (pct // 10) + " " * (10 - pct // 10)
            elapsed = time.time() - started
            sys.stderr.write(
                f"\rsteps: {pct:3d}%|{bar}| {step}/{total} [00:{int(elapsed):02d}<00:07, "
                f"{step / max(elapsed, 1e-6):.2f}it/s, avr_loss={loss:.5g}]"
            )
            sys.stderr.flush()
        if save_every and epoch % save_every == 0 and epoch < epochs:
            with open(os.path.join(output_dir, f"{name}-{epoch:06d}.safetensors"), "wb") as f:
                f.write(os.urandom(2048 + epoch))
        if sample_every and epoch % sample_every == 0:
            os.makedirs(os.path.join(output_dir, "sample"), exist_ok=True)
            for i, _prompt in enumerate(prompts):
                path = os.path.join(output_dir, "sample", f"{name}_e{epoch:06d}_{i:02d}.png")
                with open(path, "wb") as f:
                    f.write(PNG)
    sys.stderr.write("\n")
    with open(os.path.join(output_dir, f"{name}.safetensors"), "wb") as f:
        f.write(os.urandom(4096))
    print("model saved.", flush=True)
