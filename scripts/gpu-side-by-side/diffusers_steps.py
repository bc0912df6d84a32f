"""The diffusers half of the GPU side-by-side run (scripts/gpu-side-by-side/run.sh).

SD1.5-shaped models from their configs with random weights (no download): diffusers'
UNet2DConditionModel and AutoencoderKL, transformers' CLIPTextModel. The same work as the
studio's steps, as diffusers' training scripts do it:
  ti    textual_inversion.py: one new token row trained (AdamW 5e-3 on the token table, the
        other rows put back after each step), text encoder fwd+bwd, frozen UNet fwd+bwd
  lora  LoRA r4 on every attn2's to_k and to_v (a plain wrapper, fp32 parameters, AdamW 1e-4),
        text encoder without gradient, frozen UNet fwd+bwd
  generation  DDIM, CFG at batch 2 (guidance 7.5), VAE decode
Batch 1; the latents are cached (random), the VAE is off the GPU during training, as in the
studio. Variants: fp32 and fp16 (frozen weights fp16 under autocast, trained weights fp32, as
`--mixed_precision fp16` runs them), SDPA attention, gradient checkpointing off and on.
One JSON line per measurement: seconds_per_step (CUDA-synchronised median of the timed steps
after one warm-up step) and high_water_bytes (torch.cuda.max_memory_allocated over them).

  python3 diffusers_steps.py --pixels 512 --configs DIR --scheduler DIR [--device cpu]
"""
import argparse
import contextlib
import gc
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pixels", type=int, default=512)
    p.add_argument("--device", default="cuda")
    p.add_argument("--configs", required=True, help="folder with unet.json, text_encoder.json, vae.json")
    p.add_argument("--scheduler", required=True, help="folder with scheduler_config.json")
    p.add_argument("--timed", type=int, default=2)
    p.add_argument("--gen-steps", type=int, default=25)
    p.add_argument("--dtypes", default="fp32,fp16")
    p.add_argument("--checkpointing", default="off,on")
    p.add_argument("--tasks", default="ti,lora,generation")
    return p.parse_args(argv)


class LoRALinear(torch.nn.Module):
    """base(x) + up(down(x)) · alpha/r, up starting at zero (as PEFT's default init)."""

    def __init__(self, base, rank=4):
        super().__init__()
        self.base = base
        self.down = torch.nn.Linear(base.in_features, rank, bias=False, device=base.weight.device)
        self.up = torch.nn.Linear(rank, base.out_features, bias=False, device=base.weight.device)
        torch.nn.init.kaiming_uniform_(self.down.weight, a=5 ** 0.5)
        torch.nn.init.zeros_(self.up.weight)

    def forward(self, x):
        return self.base(x) + self.up(self.down(x.to(self.down.weight.dtype))).to(x.dtype)


def main(argv):
    a = parse(argv)
    import diffusers
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel

    try:
        import transformers
        from transformers import CLIPTextConfig, CLIPTextModel
    except ImportError as e:
        transformers = None
        print(f"# transformers missing ({e}): TI skipped, LoRA and generation take random text states")
    dev = torch.device(a.device)
    cuda = dev.type == "cuda"
    info = {"side": "diffusers", "pixels": a.pixels, "torch": torch.__version__, "diffusers": diffusers.__version__,
            "adapter": torch.cuda.get_device_name(dev) if cuda else "cpu"}
    if transformers:
        info["transformers"] = transformers.__version__

    def emit(**o):
        print(json.dumps({**info, **o}), flush=True)

    load = lambda name: json.load(open(f"{a.configs}/{name}.json"))
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    t0 = time.perf_counter()
    # random weights, made on the device itself where torch can (torch >= 2)
    with dev if hasattr(torch.device, "__enter__") else contextlib.nullcontext():
        unet = UNet2DConditionModel.from_config(load("unet"))
        text = None
        if transformers:
            cfg = load("text_encoder")
            cfg.pop("architectures", None)
            text = CLIPTextModel(CLIPTextConfig(**cfg, attn_implementation="sdpa"))
    unet.to(dev).requires_grad_(False)
    if text is not None:
        text.to(dev).requires_grad_(False)
        text.resize_token_embeddings(text.config.vocab_size + 1)  # the new token, last row
    vae = AutoencoderKL.from_config(load("vae")).requires_grad_(False)  # on the CPU until generation
    sched_cfg = json.load(open(f"{a.scheduler}/scheduler_config.json"))
    train_sched = DDIMScheduler.from_config(sched_cfg)
    sync()
    emit(task="weights", seconds=round(time.perf_counter() - t0, 2),
         bytes=torch.cuda.memory_allocated(dev) if cuda else None, attention=type(unet.attn_processors[next(iter(unet.attn_processors))]).__name__)

    h = a.pixels // 8
    gen = torch.Generator(device="cpu").manual_seed(1)
    latents = (torch.randn(1, 4, h, h, generator=gen)).to(dev)
    new_id = text.config.vocab_size - 1 if text is not None else 49408
    ids = torch.randint(0, 49407, (1, 77), generator=gen)
    ids[0, 0], ids[0, 5], ids[0, 6:] = 49406, new_id, 49407  # <start> … <token> <end>…
    ids = ids.to(dev)

    def states_of(ids, grad):
        if text is None:
            return torch.randn(ids.shape[0], 77, 768, device=dev)
        with torch.set_grad_enabled(grad):
            return text(ids)[0]

    def reset():
        gc.collect()
        if cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(dev)

    def set_checkpointing(on):
        if on:
            unet.enable_gradient_checkpointing()
            if text is not None:
                text.gradient_checkpointing_enable()
        else:
            unet.disable_gradient_checkpointing()
            if text is not None:
                text.gradient_checkpointing_disable()
        unet.train(on)  # diffusers' scripts keep the UNet in train mode for checkpointing (dropout 0)
        if text is not None:
            text.train(on)

    def timed(step, n):
        step()  # warm-up: kernels chosen, optimizer state made
        sync()
        reset()
        times = []
        for _ in range(n):
            t = time.perf_counter()
            step()
            sync()
            times.append(time.perf_counter() - t)
        return statistics.median(times), (torch.cuda.max_memory_allocated(dev) if cuda else None), len(times)

    def train(task, dtype_name, ckpt):
        fp16 = dtype_name == "fp16"
        set_checkpointing(ckpt)
        autocast = lambda: torch.autocast(dev.type, dtype=torch.float16) if fp16 else contextlib.nullcontext()
        if task == "ti":
            emb = text.get_input_embeddings().weight
            emb.requires_grad_(True)
            keep = torch.ones(emb.shape[0], dtype=torch.bool, device=dev)
            keep[new_id] = False
            orig = emb.detach().clone()
            params = [emb]
            opt = torch.optim.AdamW(params, lr=5e-3, weight_decay=1e-2)
        else:
            wrapped = []
            for name, m in unet.named_modules():
                if name.endswith("attn2"):
                    for proj in ("to_k", "to_v"):
                        lora = LoRALinear(getattr(m, proj))
                        setattr(m, proj, lora)
                        wrapped.append((m, proj, lora))
            params = [p for _, _, l in wrapped for p in (l.down.weight, l.up.weight)]
            opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=1e-2)

        def step():
            noise = torch.randn_like(latents)
            t = torch.randint(0, train_sched.config.num_train_timesteps, (1,), device=dev)
            noisy = train_sched.add_noise(latents, noise, t)
            with autocast():
                states = states_of(ids, grad=task == "ti")
                pred = unet(noisy.to(unet.dtype), t, states.to(unet.dtype)).sample
            loss = F.mse_loss(pred.float(), noise.float())
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            if task == "ti":
                with torch.no_grad():
                    emb[keep] = orig[keep]

        s, peak, n = timed(step, a.timed)
        emit(task=task, precision=dtype_name, checkpointing=ckpt, seconds_per_step=round(s, 4), steps_timed=n, high_water_bytes=peak,
             unet_dtype=str(unet.dtype), text_encoder_dtype=str(text.dtype) if text is not None else "random states")
        if task == "ti":
            emb.requires_grad_(False)
            del orig, keep
        else:
            for m, proj, lora in wrapped:
                setattr(m, proj, lora.base)
            del wrapped
        del opt, params
        set_checkpointing(False)
        reset()

    @torch.no_grad()
    def generate(dtype_name):
        vae.to(dev)
        sched = DDIMScheduler.from_config(sched_cfg)
        ctx_ids = ids.repeat(2, 1)
        ctx_ids[0, 1:6] = 49407  # the unconditional prompt: "" (start, then end tokens)

        def run(steps, times):
            states = states_of(ctx_ids, grad=False).to(unet.dtype)
            sched.set_timesteps(steps)
            x = torch.randn(1, 4, h, h, generator=torch.Generator(device="cpu").manual_seed(1)).to(dev, unet.dtype)
            for t in sched.timesteps:
                t0 = time.perf_counter()
                eps = unet(torch.cat([x, x]), t, states).sample
                u, c = eps.chunk(2)
                x = sched.step(u + 7.5 * (c - u), t, x).prev_sample
                sync()
                times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            image = vae.decode(x.to(vae.dtype) / vae.config.scaling_factor).sample
            sync()
            return image, time.perf_counter() - t0

        run(2, [])  # warm-up
        reset()
        times = []
        start = time.perf_counter()
        _, decode_s = run(a.gen_steps, times)
        emit(task="generation", precision=dtype_name, sampler_steps=a.gen_steps, batch=2, seconds_per_step=round(statistics.median(times), 4),
             decode_seconds=round(decode_s, 4), seconds=round(time.perf_counter() - start, 3),
             high_water_bytes=torch.cuda.max_memory_allocated(dev) if cuda else None)
        vae.to("cpu")
        reset()

    tasks = a.tasks.split(",")
    ckpts = [c == "on" for c in a.checkpointing.split(",")]
    for dtype_name in a.dtypes.split(","):
        if dtype_name == "fp16":
            unet.half()  # frozen: fp16; the trained token table stays fp32 (TI)
        for task in ("ti", "lora"):
            if task not in tasks:
                continue
            if task == "ti" and text is None:
                emit(task="ti", precision=dtype_name, skipped="transformers missing")
                continue
            if task == "lora" and dtype_name == "fp16" and text is not None:
                text.half()  # frozen in LoRA: fp16, as train_text_to_image_lora.py casts it
            for ckpt in ckpts:
                t = time.perf_counter()
                train(task, dtype_name, ckpt)
                print(f"# {task} {dtype_name} ckpt={ckpt}: {time.perf_counter() - t:.1f} s in all", flush=True)
        if "generation" in tasks:
            if dtype_name == "fp16":
                vae.half()
                if text is not None:
                    text.half()
            generate(dtype_name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
