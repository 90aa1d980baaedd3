"""Seconds per clip on the GPU: each preset's default clip, stock diffusers against the project's path.

    python -m bench.gpu [--presets ltx-video wan-1.3b ltx-2 ltx-2-distilled wan-2.2-5b] [--steps N]
                        [--small] [--write-results] [--results FILE]
    python -m bench.gpu --smoke [--small] [--results FILE] [--budget-s 480]
    python -m bench.gpu --hd [--presets ltx-2.3-distilled] [--small] [--write-results] [--results FILE]
    python -m bench.gpu --styles [--presets ltx-video] [--steps 8] [--frames N] [--style-slots 4] [--small]
                        [--write-results] [--results FILE]

Full size, on the preset's default clip: LTX-Video 2B, Wan 2.1 1.3B, LTX-2 19B (audio-video transformer
18.9 B, Gemma 3 12B text encoder 12.2 B, connectors 1.4 B, video VAE 1.2 B, audio VAE and vocoder; 1280x704,
121 frames at 24 fps, with sound) and its distilled preset (the same architecture built again: 8 steps,
its own sigmas), and Wan 2.2 TI2V-5B (5.0 B transformer with ``expand_timesteps``, the 48-channel Wan 2.2
VAE in float32, umT5-XXL; 1280x704, 121 frames). In bf16 everything stays on an H200 (LTX-2's weights are
about 63 GiB), so the presets' offload rule is not applied; LTX-2's ``vae_tiling`` load option is.

No weights can be downloaded, so each preset's pipeline is built from its real architecture (the configs
below, with where each number comes from) with random weights: created on the meta device, materialised
on the target device with ``to_empty`` and filled with a normal init (uninitialised memory can hold NaN).
Speed does not depend on the values of the weights; step-skipping caches do (see below).

Each preset's default clip (size, frames, steps, guidance from ``db.presets.BUILTIN_PRESETS``) is rendered
two ways in one run, on the same pipeline object and the same seed:

1. ``stock``: the pipeline in bf16 on the device, called as the model card shows (no attention backend
   change, no compile; Wan's VAE in float32 as its card loads it).
2. ``project``: ``generator.speedups.apply_speedups`` with the preset's ``speedups`` (fastest attention
   backend, ``compile_repeated_blocks``); ``project+fp8`` in addition when torchao is installed.

Each path makes a short first call (``--warmup-steps``: compile, autotuning, lazy initialisation) and then
a timed call; ``callback_on_step_end`` timestamps (after ``torch.cuda.synchronize()``) split the timed call
into preparation (text encoding, latents), steps and VAE decode. Seconds per clip are for the preset's
default steps: measured when ``--steps`` is the default, else preparation + default steps x step + decode.

Transformer TFLOP/s are the analytic FLOPs of one step (``transformer_flops``, both CFG branches) over the
measured step time, against the card's bf16 matrix rate measured in the same run (a large timed matmul).

First-Block Cache and MagCache decide from activations whether to skip a step; with random weights those
decisions are meaningless, so they are not run: their rows are the speed at a fixed fraction of computed
steps (``--cache-fraction``, 50 % by default), computed from the measured step time, and say so.

``--small`` runs the same code on scaled-down configs on the CPU in seconds (float32, compile backend
"eager", matmul rate in float32): tests/test_gpu_bench.py keeps this file from rotting.

``--smoke`` is the first thing to run on a GPU that was never tried: one short clip per preset family
(LTX-Video, Wan 2.1, Wan 2.2 TI2V, CogVideoX, LTX-2 with its sound; the preset's smallest frame count at its
default size, 2 steps) through the worker's own path: ``generator.render.render`` with the worker's warm
cache (``BuiltPipelineCache``, a ``generator.loader.PipelineCache`` whose load builds the full-size
random-weight pipeline, placed with the loader's offload choice and sped up with the preset's speed-ups,
inductor included). Each row says whether the frames (and the sound) are finite, before the worker rounds
them to 8 bits, and whether the peak GPU memory (``torch.cuda.max_memory_allocated``, reset per preset,
build included) stayed within the preset's ``gpu_memory_gb``; a family that fails is a row with its error.
The table is appended to ``bench/RESULTS.md`` (``--results``; with ``--small`` only when given); the exit
status is 1 when a family failed. ``--smoke --small`` runs on the CPU in half a minute
(tests/test_gpu_bench.py).

``--hd`` times issue 18's two-stage recipe: for each LTX preset with an upsampler (``HD_PRESETS``:
ltx-2.3-distilled; LTX-2.5 has no architecture here, its configs being unconfirmed), on one built pipeline
and its latent upsampler (``LTX2LatentUpsamplerModel``, the real config with random weights, which
``BuiltPipelineCache`` hands the loader's HD stage instead of ``from_pretrained``), the preset's frame count
nearest 5 s (121 frames at 24 fps) three ways: ``draft`` at the draft size (768x512) through
``generator.render.render``, which keeps its latents; ``hd``: ``generator.hd.upscale`` of those latents
(upsampled 2x, refined in the preset's 3 steps) to the preset's size (1536x1024); ``one-shot``: the clip at
that size straight from noise with the draft's sigmas. Each stage is run ``stock`` (diffusers called as the
model card shows, no speed-up) and then ``project`` (the preset's speed-ups, the worker's cache and code),
each path warmed up on all three stages before its timed calls (``torch.cuda.synchronize`` around each);
the table (seconds, peak GiB, finite output, max difference from stock) ends with whether the goals (a 5-s
768x512 draft under 6 s, its HD version under 20 s) are met on this device. ``--hd --small`` runs on the
CPU in seconds (tests/test_gpu_bench.py).

``--styles`` (bench/gpu_styles.py) times issue 20's styles on the compiled default preset: its pipeline
built as ``--smoke`` builds it in the worker's cache, its speed-ups on (inductor), two random LoRAs (A and B,
made with peft, rank 32 on every attention's projections), and after a warm-up clip six clips through
``generator.render.render``: no style, A (first use), A again, B (the first after a switch: hotswapped
into A's slot, since a compiled transformer keeps one slot per style of the clip, ``generator.styles``),
B again, no style again. Each row: seconds per clip (the style's load or hotswap included), the
median and first step, the clip at the preset's 40 steps (estimated), whether
torch._dynamo compiled a graph (and the guard that failed), and its frames against the clip they must equal
or differ from (no style after styles is the first no-style clip bit for bit). A short clip (the preset's
default size, its shortest length, 8 steps: ``--frames``, ``--steps``), so that the run stays within a few
minutes of an H100, compilation included; ``--write-results`` appends the table. ``--styles --small`` runs
on the CPU in seconds (tests/test_gpu_bench.py).

The architectures of CogVideoX, Wan 2.1 14B and LTX-2.3 are here too: the smoke runs CogVideoX-2B, and
tests/test_gpu_path.py reads their full-size component sizes for the offload choice.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import gc
import importlib.util
import math
import statistics
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import diffusers
import numpy as np
import torch
from accelerate import init_empty_weights
from diffusers.pipelines.ltx2 import LTX2TextConnectors
from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder
from transformers import (
    Gemma3Config,
    Gemma3ForConditionalGeneration,
    PreTrainedModel,
    T5Config,
    T5EncoderModel,
    UMT5Config,
    UMT5EncoderModel,
)

from db.presets import BUILTIN_PRESETS, DEFAULT_MODEL, Preset, PresetCatalog
from db.spec import JobSpec, RenderPlan, resolve_spec
from generator.encode import to_uint8
from generator.hd import CLI_DRAFT_ID, upscale
from generator.loader import (
    PipelineCache,
    _Entry,
    apply_offload,
    choose_offload,
    exact_sigmas_scheduler,
    module_bytes,
)
from generator.render import DraftLatents, decode_latents, render
from generator.speedups import apply_speedups
from generator.styles import SLOTS, StyleSlots

RESULTS = Path(__file__).with_name("RESULTS.md")
PROMPT = (
    "A red fox trots through fresh snow at the edge of a pine forest at dawn, its breath steaming in the "
    "cold air; the camera tracks it at ground level, soft golden light, shallow depth of field"
)
NEGATIVE = "worst quality, inconsistent motion, blurry, jittery, distorted"
INIT_STD = 0.02

# ---------------------------------------------------------------------------------------------------------
# Architectures. Every full-size number below was checked against the diffusers/transformers source
# installed here (constructor defaults, conversion scripts) and the published hub configs.
# ---------------------------------------------------------------------------------------------------------

# LTX-Video 2B transformer (Lightricks/LTX-Video transformer/config.json). These are exactly the
# defaults of diffusers' LTXVideoTransformer3DModel.__init__ (0.42), which were written from that config.
LTX_TRANSFORMER: dict[str, Any] = {
    "in_channels": 128,
    "out_channels": 128,
    "patch_size": 1,
    "patch_size_t": 1,
    "num_attention_heads": 32,
    "attention_head_dim": 64,  # inner dim 2048
    "cross_attention_dim": 2048,
    "num_layers": 28,
    "activation_fn": "gelu-approximate",  # FeedForward mult 4: 2048 -> 8192 -> 2048
    "qk_norm": "rms_norm_across_heads",
    "norm_elementwise_affine": False,
    "norm_eps": 1e-6,
    "caption_channels": 4096,  # T5-XXL d_model
    "attention_bias": True,
    "attention_out_bias": True,
}

# LTX-Video VAE, the 0.9.1 variant: timestep-conditioned decoder with noise injection and residual
# depth-to-space upsampling (channels 1024 -> 512 -> 256 -> 128). From get_vae_config("0.9.1") in
# diffusers' scripts/convert_ltx_to_diffusers.py (current version: decoder_inject_noise (True, True, True,
# False), down_block_types all LTXVideoDownBlock3D). Chosen over the 0.9.0 decoder (the constructor's
# defaults: 512-wide, no timestep conditioning) because the preset's call_kwargs (decode_timestep 0.03,
# decode_noise_scale 0.025) are the 0.9.1+ recipe, and because its decoder is the heavier one (the
# benchmark's VAE figure is then an upper bound). The encoder is the same in both.
LTX_VAE: dict[str, Any] = {
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": 128,
    "block_out_channels": (128, 256, 512, 512),
    "down_block_types": ("LTXVideoDownBlock3D",) * 4,
    "decoder_block_out_channels": (256, 512, 1024),
    "layers_per_block": (4, 3, 3, 3, 4),
    "decoder_layers_per_block": (5, 6, 7, 8),
    "spatio_temporal_scaling": (True, True, True, False),
    "decoder_spatio_temporal_scaling": (True, True, True),
    "decoder_inject_noise": (True, True, True, False),
    "downsample_type": ("conv", "conv", "conv", "conv"),
    "upsample_residual": (True, True, True),
    "upsample_factor": (2, 2, 2),
    "timestep_conditioning": True,
    "patch_size": 4,  # with three 2x space-time scalings: 32x spatial, 8x temporal compression
    "patch_size_t": 1,
    "resnet_norm_eps": 1e-6,
    "scaling_factor": 1.0,
    "encoder_causal": True,
    "decoder_causal": False,
}

# T5-XXL encoder (google/t5-v1_1-xxl config.json, the text encoder LTX-Video's conversion script loads):
# d_model 4096, d_ff 10240, 24 layers, 64 heads x d_kv 64, vocab 32128, gated-gelu. 4.9 B parameters.
T5_XXL: dict[str, Any] = {
    "vocab_size": 32128,
    "d_model": 4096,
    "d_kv": 64,
    "d_ff": 10240,
    "num_layers": 24,
    "num_heads": 64,
    "relative_attention_num_buckets": 32,
    "relative_attention_max_distance": 128,
    "feed_forward_proj": "gated-gelu",
    "layer_norm_epsilon": 1e-6,
    "decoder_start_token_id": 0,
    "pad_token_id": 0,
    "eos_token_id": 1,
}

# Wan 2.1 T2V 1.3B transformer (Wan-AI/Wan2.1-T2V-1.3B-Diffusers transformer/config.json; the original
# repo's wan/configs/wan_t2v_1_3B.py: dim 1536, ffn_dim 8960, freq_dim 256, num_heads 12, num_layers 30,
# patch (1, 2, 2), qk_norm, cross_attn_norm, eps 1e-6). The other fields are WanTransformer3DModel's
# defaults, which are the 14B config.
WAN_TRANSFORMER: dict[str, Any] = {
    "patch_size": (1, 2, 2),
    "num_attention_heads": 12,
    "attention_head_dim": 128,  # dim 1536
    "in_channels": 16,
    "out_channels": 16,
    "text_dim": 4096,  # umT5-XXL d_model
    "freq_dim": 256,
    "ffn_dim": 8960,
    "num_layers": 30,
    "cross_attn_norm": True,
    "qk_norm": "rms_norm_across_heads",
    "eps": 1e-6,
    "rope_max_seq_len": 1024,
}

# Wan 2.1 VAE (Wan-AI/Wan2.1-T2V-1.3B-Diffusers vae/config.json): the defaults of AutoencoderKLWan,
# 8x spatial and 4x temporal compression to 16 channels.
WAN_VAE: dict[str, Any] = {
    "base_dim": 96,
    "z_dim": 16,
    "dim_mult": [1, 2, 4, 4],
    "num_res_blocks": 2,
    "attn_scales": [],
    "temperal_downsample": [False, True, True],
    "dropout": 0.0,
}

# umT5-XXL encoder (google/umt5-xxl config.json): as T5-XXL but vocab 256384 (1.05 B of its 5.7 B
# parameters are the embedding) and a relative attention bias in every layer.
UMT5_XXL: dict[str, Any] = {**T5_XXL, "vocab_size": 256384}

# LTX-Video's scheduler (the hub scheduler/scheduler_config.json, as the conversion script writes it).
LTX_SCHEDULER: dict[str, Any] = {
    "use_dynamic_shifting": True,
    "base_shift": 0.95,
    "max_shift": 2.05,
    "base_image_seq_len": 1024,
    "max_image_seq_len": 4096,
    "shift_terminal": 0.1,
}
# Wan: UniPC with flow sigmas; flow_shift 3.0 for 480p, as the model card sets it (and the preset's
# load_options).
WAN_SCHEDULER: dict[str, Any] = {
    "prediction_type": "flow_prediction",
    "use_flow_sigmas": True,
    "num_train_timesteps": 1000,
    "flow_shift": 3.0,
}

# ---- LTX-2 19B (Lightricks/LTX-2; ltx-2 and ltx-2-distilled: the same architecture, another schedule) ----
# Transformer: get_ltx2_transformer_config() of diffusers' scripts/convert_ltx2_to_diffusers.py (the version
# that writes separate connectors; it adds rope_type "split" to the constructor defaults, which were written
# from the same config): video 32 heads x 128 = 4096 wide, audio 32 x 64 = 2048, 48 audio-video blocks,
# caption_channels 3840 (Gemma 3 12B). perturbed_attn is left at False as there (see ltx2_passes).
LTX2_TRANSFORMER: dict[str, Any] = {
    "in_channels": 128,
    "out_channels": 128,
    "patch_size": 1,
    "patch_size_t": 1,
    "num_attention_heads": 32,
    "attention_head_dim": 128,  # video inner dim 4096; FeedForward 4096 -> 16384 -> 4096
    "cross_attention_dim": 4096,
    "vae_scale_factors": (8, 32, 32),
    "pos_embed_max_pos": 20,
    "base_height": 2048,
    "base_width": 2048,
    "audio_in_channels": 128,  # audio VAE: 8 latent channels x 16 latent mel bins
    "audio_out_channels": 128,
    "audio_patch_size": 1,
    "audio_patch_size_t": 1,
    "audio_num_attention_heads": 32,
    "audio_attention_head_dim": 64,  # audio inner dim 2048; a2v / v2a attention 2048 wide
    "audio_cross_attention_dim": 2048,
    "audio_scale_factor": 4,
    "audio_pos_embed_max_pos": 20,
    "audio_sampling_rate": 16000,
    "audio_hop_length": 160,
    "num_layers": 48,
    "activation_fn": "gelu-approximate",
    "qk_norm": "rms_norm_across_heads",
    "norm_elementwise_affine": False,
    "norm_eps": 1e-6,
    "caption_channels": 3840,
    "attention_bias": True,
    "attention_out_bias": True,
    "rope_theta": 10000.0,
    "rope_double_precision": True,
    "causal_offset": 1,
    "timestep_scale_multiplier": 1000,
    "cross_attn_timestep_scale_multiplier": 1000,
    "rope_type": "split",
}
# Text connectors (get_ltx2_connectors_config() of the same script): the 49 stacked Gemma hidden states
# (188160 features) -> 3840, then two 2-layer 1-D transformers (30 x 128) with 128 learnable registers
# that replace the padding (so the text sequence, max_sequence_length 1024, is a multiple of 128).
LTX2_CONNECTORS: dict[str, Any] = {
    "caption_channels": 3840,
    "text_proj_in_factor": 49,
    "video_connector_num_attention_heads": 30,
    "video_connector_attention_head_dim": 128,
    "video_connector_num_layers": 2,
    "video_connector_num_learnable_registers": 128,
    "audio_connector_num_attention_heads": 30,
    "audio_connector_attention_head_dim": 128,
    "audio_connector_num_layers": 2,
    "audio_connector_num_learnable_registers": 128,
    "connector_rope_base_seq_len": 4096,
    "rope_theta": 10000.0,
    "rope_double_precision": True,
    "causal_temporal_positioning": False,
    "rope_type": "split",
}
# Video VAE (get_ltx2_video_vae_config(), same script): 32x spatial, 8x temporal to 128 channels, decoder
# 1024 -> 512 -> 256 without timestep conditioning or noise injection.
LTX2_VAE: dict[str, Any] = {
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": 128,
    "block_out_channels": (256, 512, 1024, 2048),
    "down_block_types": ("LTX2VideoDownBlock3D",) * 4,
    "decoder_block_out_channels": (256, 512, 1024),
    "layers_per_block": (4, 6, 6, 2, 2),
    "decoder_layers_per_block": (5, 5, 5, 5),
    "spatio_temporal_scaling": (True, True, True, True),
    "decoder_spatio_temporal_scaling": (True, True, True),
    "decoder_inject_noise": (False, False, False, False),
    "downsample_type": ("spatial", "temporal", "spatiotemporal", "spatiotemporal"),
    "upsample_residual": (True, True, True),
    "upsample_factor": (2, 2, 2),
    "timestep_conditioning": False,
    "patch_size": 4,
    "patch_size_t": 1,
    "resnet_norm_eps": 1e-6,
    "encoder_causal": True,
    "decoder_causal": False,
    "encoder_spatial_padding_mode": "zeros",
    "decoder_spatial_padding_mode": "reflect",
    "spatial_compression_ratio": 32,
    "temporal_compression_ratio": 8,
}
# Audio VAE (get_ltx2_audio_vae_config()): 64-bin mel at 16 kHz, hop 160 (100 frames/s), 4x down in time
# and mel to 8 channels: 25 audio tokens a second.
LTX2_AUDIO_VAE: dict[str, Any] = {
    "base_channels": 128,
    "output_channels": 2,
    "ch_mult": (1, 2, 4),
    "num_res_blocks": 2,
    "attn_resolutions": None,
    "in_channels": 2,
    "resolution": 256,
    "latent_channels": 8,
    "norm_type": "pixel",
    "causality_axis": "height",
    "dropout": 0.0,
    "mid_block_add_attention": False,
    "sample_rate": 16000,
    "mel_hop_length": 160,
    "is_causal": True,
    "mel_bins": 64,
    "double_z": True,
}
# Vocoder (get_ltx2_vocoder_config()): HiFi-GAN style, mel -> 24 kHz stereo (upsampling 6*5*2*2*2 = 240).
LTX2_VOCODER: dict[str, Any] = {
    "in_channels": 128,
    "hidden_channels": 1024,
    "out_channels": 2,
    "upsample_kernel_sizes": [16, 15, 8, 4, 4],
    "upsample_factors": [6, 5, 2, 2, 2],
    "resnet_kernel_sizes": [3, 7, 11],
    "resnet_dilations": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
    "leaky_relu_negative_slope": 0.1,
    "output_sampling_rate": 24000,
}
# Gemma 3 12B (google/gemma-3-12b-it config.json, the text encoder the conversion script loads,
# gemma-3-12b-it-qat-q4_0-unquantized): text 48 layers, 3840 wide, MLP 15360, 16 query / 8 key-value heads
# of 256, sliding window 1024, vocab 262208; SigLIP vision tower 27 x 1152 (built, never run: text-only
# prompts). RoPE theta and the linear x8 scaling of the global layers are left at transformers' defaults:
# they change no FLOP or byte. About 12.2 B parameters, as Gemma3ForConditionalGeneration in bf16.
GEMMA3_12B: dict[str, Any] = {
    "text_config": {
        "vocab_size": 262208,
        "hidden_size": 3840,
        "intermediate_size": 15360,
        "num_hidden_layers": 48,
        "num_attention_heads": 16,
        "num_key_value_heads": 8,
        "head_dim": 256,
        "query_pre_attn_scalar": 256,
        "sliding_window": 1024,
        "max_position_embeddings": 131072,
        "pad_token_id": 0,
        "eos_token_id": 1,
        "bos_token_id": 2,
    },
    "vision_config": {
        "hidden_size": 1152,
        "intermediate_size": 4304,
        "num_hidden_layers": 27,
        "num_attention_heads": 16,
        "image_size": 896,
        "patch_size": 14,
    },
    "mm_tokens_per_image": 256,
    "boi_token_index": 255999,
    "eoi_token_index": 256000,
    "image_token_index": 262144,
}
# LTX-2's scheduler: FlowMatchEuler with LTX-Video's resolution-dependent shift (LTX2Pipeline reads
# base/max_shift and base/max_image_seq_len from it; the hub scheduler config itself was not checked).
LTX2_SCHEDULER: dict[str, Any] = dict(LTX_SCHEDULER)

# ---- Wan 2.2 TI2V-5B (Wan-AI/Wan2.2-TI2V-5B-Diffusers) ----
# Transformer (transformer/config.json; the original repo's wan/configs/wan_ti2v_5B.py: dim 3072, ffn_dim
# 14336, num_heads 24, num_layers 30, in/out_dim 48, freq_dim 256, text_dim 4096, eps 1e-6). About 5.0 B.
WAN22_TRANSFORMER: dict[str, Any] = {
    **WAN_TRANSFORMER,
    "num_attention_heads": 24,
    "attention_head_dim": 128,  # dim 3072
    "in_channels": 48,
    "out_channels": 48,
    "ffn_dim": 14336,
    "num_layers": 30,
}
# the Wan 2.2 VAE's per-channel latent statistics (Wan-AI/Wan2.2-TI2V-5B-Diffusers vae/config.json)
# fmt: off
_WAN22_LATENTS_MEAN = (
    -0.2289, -0.0052, -0.1323, -0.2339, -0.2799, 0.0174, 0.1838, 0.1557,
    -0.1382, 0.0542, 0.2813, 0.0891, 0.1570, -0.0098, 0.0375, -0.1825,
    -0.2246, -0.1207, -0.0698, 0.5109, 0.2665, -0.2108, -0.2158, 0.2502,
    -0.2055, -0.0322, 0.1109, 0.1567, -0.0729, 0.0899, -0.2799, -0.1230,
    -0.0313, -0.1649, 0.0117, 0.0723, -0.2839, -0.2083, -0.0520, 0.3748,
    0.0152, 0.1957, 0.1433, -0.2944, 0.3573, -0.0548, -0.1681, -0.0667,
)
_WAN22_LATENTS_STD = (
    0.4765, 1.0364, 0.4514, 1.1677, 0.5313, 0.4990, 0.4818, 0.5013,
    0.8158, 1.0344, 0.5894, 1.0901, 0.6885, 0.6165, 0.8454, 0.4978,
    0.5759, 0.3523, 0.7135, 0.6804, 0.5833, 1.4146, 0.8986, 0.5659,
    0.7069, 0.5338, 0.4889, 0.4917, 0.4069, 0.4999, 0.6866, 0.4093,
    0.5709, 0.6065, 0.6415, 0.4944, 0.5726, 1.2042, 0.5458, 1.6887,
    0.3971, 1.0600, 0.3943, 0.5537, 0.5444, 0.4089, 0.7468, 0.7744,
)
# fmt: on
# Wan 2.2 VAE (vae/config.json): pixels patchified 2x2 into 12 channels, residual blocks, a wider decoder
# (base 256 against the encoder's 160), 16x spatial and 4x temporal compression to 48 channels, with the
# hub's per-channel latent statistics.
WAN22_VAE: dict[str, Any] = {
    "base_dim": 160,
    "decoder_base_dim": 256,
    "z_dim": 48,
    "dim_mult": [1, 2, 4, 4],
    "num_res_blocks": 2,
    "attn_scales": [],
    "temperal_downsample": [False, True, True],
    "dropout": 0.0,
    "is_residual": True,
    "in_channels": 12,
    "out_channels": 12,
    "patch_size": 2,
    "scale_factor_spatial": 16,
    "scale_factor_temporal": 4,
    "latents_mean": list(_WAN22_LATENTS_MEAN),
    "latents_std": list(_WAN22_LATENTS_STD),
}
# Wan 2.2's scheduler: UniPC with flow sigmas, flow_shift 5.0 for 720p (the hub scheduler config and the
# original repo's sample_shift for ti2v-5B; the preset sets none).
WAN22_SCHEDULER: dict[str, Any] = {**WAN_SCHEDULER, "flow_shift": 5.0}

# ---- Wan 2.1 T2V 14B (Wan-AI/Wan2.1-T2V-14B-Diffusers; the original repo's wan/configs/wan_t2v_14B.py:
# dim 5120, ffn_dim 13824, num_heads 40, num_layers 40). 14.3 B. Same VAE and text encoder as 1.3B.
WAN14_TRANSFORMER: dict[str, Any] = {
    **WAN_TRANSFORMER,
    "num_attention_heads": 40,  # dim 5120
    "ffn_dim": 13824,
    "num_layers": 40,
}
WAN14_SCHEDULER: dict[str, Any] = {**WAN_SCHEDULER, "flow_shift": 5.0}  # 720p, as the preset's load_options

# ---- CogVideoX (THUDM/CogVideoX-2b and -5b), as diffusers' scripts/convert_cogvideox_to_diffusers.py
# writes them: the 2B transformer is CogVideoXTransformer3DModel's defaults (30 heads x 64 = 1920 wide,
# 30 layers, FFN 4x GELU, text 4096 wide (T5-XXL) over 226 tokens joined to the video tokens in one
# attention, 2x2 patches, sinusoidal positions); 1.69 B. The 5B: 48 heads (3072 wide), 42 layers, RoPE;
# 5.57 B. The VAE (AutoencoderKLCogVideoX's defaults: 8x spatial, 4x temporal to 16 channels) scales
# latents by 1.15258426 (2B) or 0.7 (5B). The scheduler is the script's CogVideoXDDIMScheduler (v-prediction,
# zero-SNR, trailing); the 5B repository's scheduler was not checked (it changes no weight and no FLOP).
COGVIDEOX_TRANSFORMER: dict[str, Any] = {
    "num_attention_heads": 30,
    "attention_head_dim": 64,
    "in_channels": 16,
    "out_channels": 16,
    "time_embed_dim": 512,
    "text_embed_dim": 4096,
    "num_layers": 30,
    "sample_width": 90,  # latent size of the 720x480, 49-frame clip it was trained on
    "sample_height": 60,
    "sample_frames": 49,
    "patch_size": 2,
    "temporal_compression_ratio": 4,
    "max_text_seq_length": 226,
    "activation_fn": "gelu-approximate",
    "use_rotary_positional_embeddings": False,
}
COGVIDEOX5_TRANSFORMER: dict[str, Any] = {
    **COGVIDEOX_TRANSFORMER,
    "num_attention_heads": 48,
    "num_layers": 42,
    "use_rotary_positional_embeddings": True,
}
COGVIDEOX_VAE: dict[str, Any] = {
    "block_out_channels": (128, 256, 256, 512),
    "latent_channels": 16,
    "layers_per_block": 3,
    "temporal_compression_ratio": 4,
    "scaling_factor": 1.15258426,
}
COGVIDEOX_SCHEDULER: dict[str, Any] = {
    "snr_shift_scale": 3.0,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "clip_sample": False,
    "num_train_timesteps": 1000,
    "prediction_type": "v_prediction",
    "rescale_betas_zero_snr": True,
    "set_alpha_to_one": True,
    "timestep_spacing": "trailing",
}

# ---- LTX-2.3 (diffusers/LTX-2.3-Diffusers and -Distilled-Diffusers): get_ltx2_transformer_config("2.3") and
# get_ltx2_connectors_config("2.3") of diffusers' LTX-2 conversion recipe: the LTX-2 transformer with gated
# attention and cross-attention modulation (video and audio), no prompt embeddings in the transformer,
# perturbed attention for STG (19.0 B); connectors of 8 layers a modality with their own projections
# (3.2 B). Its video VAE and its vocoder (LTX2VocoderWithBWE) are LTX-2.0's here: their 2.3 configs were
# not checked (the VAE is 1.2 B of 25, the vocoder under 0.1 B).
_LTX23_SWITCHES: dict[str, Any] = {
    "gated_attn": True,
    "cross_attn_mod": True,
    "audio_gated_attn": True,
    "audio_cross_attn_mod": True,
    "use_prompt_embeddings": False,
    "perturbed_attn": True,
}
LTX23_TRANSFORMER: dict[str, Any] = {**LTX2_TRANSFORMER, **_LTX23_SWITCHES}
LTX23_CONNECTORS: dict[str, Any] = {
    **LTX2_CONNECTORS,
    "video_connector_num_attention_heads": 32,
    "video_connector_num_layers": 8,
    "video_gated_attn": True,
    "audio_connector_num_attention_heads": 32,
    "audio_connector_attention_head_dim": 64,
    "audio_connector_num_layers": 8,
    "audio_gated_attn": True,
    "per_modality_projections": True,
    "video_hidden_dim": 4096,
    "audio_hidden_dim": 2048,
    "proj_bias": True,
}

# ---- The LTX-2.x latent upsampler (LTX2LatentUpsamplerModel, diffusers.pipelines.ltx2), the HD stage of the
# presets with an ``upsampler``: the configs of diffusers' LTX-2 conversion recipe
# (docs/notes/ltx-draft-hd.md §1): 2x in space on the VAE's 128 latent channels, 1024 wide, 4 residual
# blocks a stage, 0.50 B. LTX-2.0's resamples with the rational resampler, LTX-2.3's (dg845/LTX-2.3-Spatial-
# Upsampler-Diffusers, what ltx-2.3-distilled names) with a convolution and a 2x pixel shuffle.
LTX2_UPSAMPLER: dict[str, Any] = {
    "in_channels": 128,
    "mid_channels": 1024,
    "num_blocks_per_stage": 4,
    "dims": 3,
    "spatial_upsample": True,
    "temporal_upsample": False,
    "rational_spatial_scale": 2.0,
    "use_rational_resampler": True,
}
LTX23_UPSAMPLER: dict[str, Any] = {**LTX2_UPSAMPLER, "use_rational_resampler": False}

# Scaled-down versions for --small: the same classes and code paths (timestep-conditioned LTX decoder,
# CFG, both text encoder kinds) with a few layers and small dims.
_SMALL_TEXT: dict[str, Any] = {
    "vocab_size": 256,  # above the tokenizer's 200 pieces
    "d_model": 32,
    "d_kv": 8,
    "d_ff": 48,
    "num_layers": 1,
    "num_heads": 4,
    "relative_attention_num_buckets": 8,
    "feed_forward_proj": "gated-gelu",
    "decoder_start_token_id": 0,
    "pad_token_id": 0,
    "eos_token_id": 1,
}
_SMALL_LTX_TRANSFORMER: dict[str, Any] = {
    **LTX_TRANSFORMER,
    "in_channels": 16,
    "out_channels": 16,
    "num_attention_heads": 2,
    "attention_head_dim": 16,
    "cross_attention_dim": 32,
    "num_layers": 2,
    "caption_channels": 32,
}
_SMALL_LTX_VAE: dict[str, Any] = {
    **LTX_VAE,
    "latent_channels": 16,
    "block_out_channels": (8, 8, 16, 16),
    "decoder_block_out_channels": (8, 16, 32),
    "layers_per_block": (1, 1, 1, 1, 1),
    "decoder_layers_per_block": (1, 1, 1, 1),
}
_SMALL_WAN_TRANSFORMER: dict[str, Any] = {
    **WAN_TRANSFORMER,
    "num_attention_heads": 2,
    "attention_head_dim": 16,
    "text_dim": 32,
    "freq_dim": 32,
    "ffn_dim": 64,
    "num_layers": 2,
    "rope_max_seq_len": 32,
}
_SMALL_WAN_VAE: dict[str, Any] = {**WAN_VAE, "base_dim": 8, "dim_mult": [1, 1, 2, 2], "num_res_blocks": 1}
_SMALL_GEMMA: dict[str, Any] = {
    "text_config": {
        **GEMMA3_12B["text_config"],
        "vocab_size": 256,  # above the Gemma-layout test tokenizer's 200 pieces
        "hidden_size": 32,
        "intermediate_size": 48,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "head_dim": 16,
        "query_pre_attn_scalar": 16,
        "sliding_window": 8,  # below the 16 text tokens: the sliding layers are exercised
        "max_position_embeddings": 256,
    },
    "vision_config": {
        "hidden_size": 16,
        "intermediate_size": 16,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "image_size": 8,
        "patch_size": 4,
    },
    "mm_tokens_per_image": 4,
    "boi_token_index": 250,
    "eoi_token_index": 251,
    "image_token_index": 252,
}
_SMALL_LTX2_TRANSFORMER: dict[str, Any] = {
    **LTX2_TRANSFORMER,
    "in_channels": 16,
    "out_channels": 16,
    "num_attention_heads": 2,
    "attention_head_dim": 16,
    "cross_attention_dim": 32,
    "audio_in_channels": 4,  # the small audio VAE: 2 latent channels x 2 latent mel bins
    "audio_out_channels": 4,
    "audio_num_attention_heads": 2,
    "audio_attention_head_dim": 8,
    "audio_cross_attention_dim": 16,
    "num_layers": 2,
    "caption_channels": 32,
}
_SMALL_LTX2_CONNECTORS: dict[str, Any] = {
    **LTX2_CONNECTORS,
    "caption_channels": 32,
    "text_proj_in_factor": 3,  # two Gemma layers + the embeddings
    "video_connector_num_attention_heads": 4,
    "video_connector_attention_head_dim": 8,
    "video_connector_num_layers": 1,
    "video_connector_num_learnable_registers": 8,
    "audio_connector_num_attention_heads": 4,
    "audio_connector_attention_head_dim": 8,
    "audio_connector_num_layers": 1,
    "audio_connector_num_learnable_registers": 8,
    "connector_rope_base_seq_len": 32,
}
_SMALL_LTX2_VAE: dict[str, Any] = {
    **LTX2_VAE,
    "latent_channels": 16,
    "block_out_channels": (8, 8, 16, 16),
    "decoder_block_out_channels": (8, 16, 32),
    "layers_per_block": (1, 1, 1, 1, 1),
    "decoder_layers_per_block": (1, 1, 1, 1),
}
_SMALL_LTX2_AUDIO_VAE: dict[str, Any] = {
    **LTX2_AUDIO_VAE,
    "base_channels": 4,
    "ch_mult": (1,),
    "num_res_blocks": 1,
    "resolution": 32,
    "latent_channels": 2,
    "mel_bins": 8,
}
_SMALL_LTX2_VOCODER: dict[str, Any] = {
    **LTX2_VOCODER,
    "in_channels": 16,  # 2 output channels x 8 mel bins
    "hidden_channels": 16,
    "upsample_kernel_sizes": [4, 4],
    "upsample_factors": [2, 2],
    "resnet_kernel_sizes": [3],
    "resnet_dilations": [[1, 3, 5]],
    "output_sampling_rate": 400,  # 100 mel frames a second, upsampled 4x
}
_SMALL_LTX23_TRANSFORMER: dict[str, Any] = {**_SMALL_LTX2_TRANSFORMER, **_LTX23_SWITCHES}
_SMALL_LTX23_CONNECTORS: dict[str, Any] = {
    **_SMALL_LTX2_CONNECTORS,
    "video_connector_num_attention_heads": 4,  # 32 wide: the small transformer's video width
    "video_gated_attn": True,
    "audio_connector_num_attention_heads": 2,  # 16 wide: its audio width
    "audio_gated_attn": True,
    "per_modality_projections": True,
    "video_hidden_dim": 32,
    "audio_hidden_dim": 16,
    "proj_bias": True,
}
_SMALL_LTX23_UPSAMPLER: dict[str, Any] = {
    **LTX23_UPSAMPLER,
    "in_channels": 16,  # the small VAE's latent channels
    "mid_channels": 32,  # the least its GroupNorm(32, ·) takes
    "num_blocks_per_stage": 1,
}
_SMALL_WAN22_TRANSFORMER: dict[str, Any] = {
    **_SMALL_WAN_TRANSFORMER,
    "in_channels": 48,
    "out_channels": 48,
}
_SMALL_COGVIDEOX_TRANSFORMER: dict[str, Any] = {
    **COGVIDEOX_TRANSFORMER,
    "num_attention_heads": 2,
    "attention_head_dim": 16,
    "time_embed_dim": 32,
    "text_embed_dim": 32,
    "num_layers": 2,
    "sample_width": 8,  # the small clip's latent size: 64x32, 9 frames
    "sample_height": 4,
    "sample_frames": 9,
    "max_text_seq_length": 16,
}
_SMALL_COGVIDEOX_VAE: dict[str, Any] = {
    **COGVIDEOX_VAE,
    "block_out_channels": (8, 8, 16, 16),
    "layers_per_block": 1,
    "norm_num_groups": 4,
}
_SMALL_WAN22_VAE: dict[str, Any] = {
    **WAN22_VAE,
    "base_dim": 8,
    "decoder_base_dim": 16,
    "dim_mult": [1, 1, 2, 2],
    "num_res_blocks": 1,
}


@dataclass(frozen=True)
class Arch:
    """One preset's pipeline as configs: enough to build it and to count its FLOPs."""

    preset: str  # a name in BUILTIN_PRESETS
    pipeline: str  # diffusers pipeline class
    transformer_class: str
    transformer: Mapping[str, Any]
    vae_class: str
    vae: Mapping[str, Any]
    text_class: type[Any]
    text_config_class: type[Any]
    text: Mapping[str, Any]
    scheduler_class: str
    scheduler: Mapping[str, Any]
    spatial_ratio: int  # VAE compression
    temporal_ratio: int
    text_tokens: int  # what the transformer cross-attends to (max_sequence_length)
    # --small: the clip replaces the preset's defaults
    clip: Mapping[str, int] = field(default_factory=dict)
    tokenizer: str = "t5"  # the project's test tokenizer in T5's layout, or "gemma"
    # further pipeline components: name -> (class, config); LTX-2's audio VAE, vocoder and connectors
    components: Mapping[str, tuple[type[Any], Mapping[str, Any]]] = field(default_factory=dict)
    pipeline_options: Mapping[str, Any] = field(default_factory=dict)  # e.g. Wan 2.2's expand_timesteps
    # LTX2LatentUpsamplerModel's config, for a preset with an ``upsampler`` (its HD stage, --hd)
    upsampler: Mapping[str, Any] = field(default_factory=dict)


FULL: dict[str, Arch] = {
    "ltx-video": Arch(
        preset="ltx-video",
        pipeline="LTXPipeline",
        transformer_class="LTXVideoTransformer3DModel",
        transformer=LTX_TRANSFORMER,
        vae_class="AutoencoderKLLTXVideo",
        vae=LTX_VAE,
        text_class=T5EncoderModel,
        text_config_class=T5Config,
        text=T5_XXL,
        scheduler_class="FlowMatchEulerDiscreteScheduler",
        scheduler=LTX_SCHEDULER,
        spatial_ratio=32,
        temporal_ratio=8,
        text_tokens=128,  # the preset's max_sequence_length
    ),
    "wan-1.3b": Arch(
        preset="wan-1.3b",
        pipeline="WanPipeline",
        transformer_class="WanTransformer3DModel",
        transformer=WAN_TRANSFORMER,
        vae_class="AutoencoderKLWan",
        vae=WAN_VAE,
        text_class=UMT5EncoderModel,
        text_config_class=UMT5Config,
        text=UMT5_XXL,
        scheduler_class="UniPCMultistepScheduler",
        scheduler=WAN_SCHEDULER,
        spatial_ratio=8,
        temporal_ratio=4,
        text_tokens=512,  # WanPipeline pads the umT5 embeddings to 512
    ),
    "ltx-2": Arch(
        preset="ltx-2",
        pipeline="LTX2Pipeline",
        transformer_class="LTX2VideoTransformer3DModel",
        transformer=LTX2_TRANSFORMER,
        vae_class="AutoencoderKLLTX2Video",
        vae=LTX2_VAE,
        text_class=Gemma3ForConditionalGeneration,
        text_config_class=Gemma3Config,
        text=GEMMA3_12B,
        scheduler_class="FlowMatchEulerDiscreteScheduler",
        scheduler=LTX2_SCHEDULER,
        spatial_ratio=32,
        temporal_ratio=8,
        text_tokens=1024,  # LTX2Pipeline's max_sequence_length (the preset sets none)
        tokenizer="gemma",
        components={
            "audio_vae": (diffusers.AutoencoderKLLTX2Audio, LTX2_AUDIO_VAE),
            "vocoder": (LTX2Vocoder, LTX2_VOCODER),
            "connectors": (LTX2TextConnectors, LTX2_CONNECTORS),
        },
        upsampler=LTX2_UPSAMPLER,
    ),
    "wan-2.2-5b": Arch(
        preset="wan-2.2-5b",
        pipeline="WanPipeline",
        transformer_class="WanTransformer3DModel",
        transformer=WAN22_TRANSFORMER,
        vae_class="AutoencoderKLWan",
        vae=WAN22_VAE,
        text_class=UMT5EncoderModel,
        text_config_class=UMT5Config,
        text=UMT5_XXL,
        scheduler_class="UniPCMultistepScheduler",
        scheduler=WAN22_SCHEDULER,
        spatial_ratio=16,
        temporal_ratio=4,
        text_tokens=512,
        pipeline_options={"expand_timesteps": True},  # TI2V: per-token timesteps (the picture's stay 0)
    ),
}
# the distilled checkpoint is the same architecture: its preset differs in steps, sigmas and guidance only
FULL["ltx-2-distilled"] = replace(FULL["ltx-2"], preset="ltx-2-distilled")
FULL["cogvideox-2b"] = Arch(
    preset="cogvideox-2b",
    pipeline="CogVideoXPipeline",
    transformer_class="CogVideoXTransformer3DModel",
    transformer=COGVIDEOX_TRANSFORMER,
    vae_class="AutoencoderKLCogVideoX",
    vae=COGVIDEOX_VAE,
    text_class=T5EncoderModel,
    text_config_class=T5Config,
    text=T5_XXL,
    scheduler_class="CogVideoXDDIMScheduler",
    scheduler=COGVIDEOX_SCHEDULER,
    spatial_ratio=8,
    temporal_ratio=4,
    text_tokens=226,  # CogVideoXPipeline's max_sequence_length, the transformer's max_text_seq_length
)
# the presets below are here for their sizes (the offload choice, tests/test_gpu_path.py) and can be timed
FULL["cogvideox-5b"] = replace(
    FULL["cogvideox-2b"],
    preset="cogvideox-5b",
    transformer=COGVIDEOX5_TRANSFORMER,
    vae={**COGVIDEOX_VAE, "scaling_factor": 0.7},
)
FULL["wan-14b"] = replace(
    FULL["wan-1.3b"], preset="wan-14b", transformer=WAN14_TRANSFORMER, scheduler=WAN14_SCHEDULER
)
# LTX-Video 2B distilled (0.9.6) in the 0.9.5 pipeline: the 2B architecture
FULL["ltx-video-cpu"] = replace(FULL["ltx-video"], preset="ltx-video-cpu")
FULL["ltx-2.3"] = replace(
    FULL["ltx-2"],
    preset="ltx-2.3",
    transformer=LTX23_TRANSFORMER,
    components={**FULL["ltx-2"].components, "connectors": (LTX2TextConnectors, LTX23_CONNECTORS)},
    upsampler=LTX23_UPSAMPLER,
)
FULL["ltx-2.3-distilled"] = replace(FULL["ltx-2.3"], preset="ltx-2.3-distilled")
# what a plain `python -m bench.gpu` times: one preset of each family but CogVideoX, and LTX-2's distilled one
SPEED_PRESETS = ["ltx-video", "wan-1.3b", "ltx-2", "ltx-2-distilled", "wan-2.2-5b"]

SMALL: dict[str, Arch] = {
    "ltx-video": replace(
        FULL["ltx-video"],
        transformer=_SMALL_LTX_TRANSFORMER,
        vae=_SMALL_LTX_VAE,
        text=_SMALL_TEXT,
        text_tokens=16,
        clip={"width": 96, "height": 64, "frames": 17, "steps": 3},
    ),
    "wan-1.3b": replace(
        FULL["wan-1.3b"],
        transformer=_SMALL_WAN_TRANSFORMER,
        vae=_SMALL_WAN_VAE,
        text=_SMALL_TEXT,
        text_tokens=16,
        clip={"width": 64, "height": 32, "frames": 9, "steps": 3},
    ),
    "ltx-2": replace(
        FULL["ltx-2"],
        transformer=_SMALL_LTX2_TRANSFORMER,
        vae=_SMALL_LTX2_VAE,
        text=_SMALL_GEMMA,
        text_tokens=16,
        components={
            "audio_vae": (diffusers.AutoencoderKLLTX2Audio, _SMALL_LTX2_AUDIO_VAE),
            "vocoder": (LTX2Vocoder, _SMALL_LTX2_VOCODER),
            "connectors": (LTX2TextConnectors, _SMALL_LTX2_CONNECTORS),
        },
        upsampler={**_SMALL_LTX23_UPSAMPLER, "use_rational_resampler": True},
        clip={"width": 96, "height": 64, "frames": 17, "steps": 3},
    ),
    "wan-2.2-5b": replace(
        FULL["wan-2.2-5b"],
        transformer=_SMALL_WAN22_TRANSFORMER,
        vae=_SMALL_WAN22_VAE,
        text=_SMALL_TEXT,
        text_tokens=16,
        clip={"width": 128, "height": 64, "frames": 9, "steps": 3},
    ),
}
SMALL["ltx-2-distilled"] = replace(SMALL["ltx-2"], preset="ltx-2-distilled")
# --hd: the clip is the preset's (HD) size, whose drafts render at half (96x64: 3x2 latents); 3 of its 8
# distilled sigmas, evenly spaced (as the worker takes fewer steps), for the draft and the one-shot
SMALL["ltx-2.3-distilled"] = replace(
    SMALL["ltx-2"],
    preset="ltx-2.3-distilled",
    transformer=_SMALL_LTX23_TRANSFORMER,
    components={**SMALL["ltx-2"].components, "connectors": (LTX2TextConnectors, _SMALL_LTX23_CONNECTORS)},
    upsampler=_SMALL_LTX23_UPSAMPLER,
    clip={"width": 192, "height": 128, "frames": 17, "steps": 3},
)
SMALL["cogvideox-2b"] = replace(
    FULL["cogvideox-2b"],
    transformer=_SMALL_COGVIDEOX_TRANSFORMER,
    vae=_SMALL_COGVIDEOX_VAE,
    text=_SMALL_TEXT,
    text_tokens=16,
    clip={"width": 64, "height": 32, "frames": 9, "steps": 3},
)


# ---------------------------------------------------------------------------------------------------------
# FLOPs
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flops:
    """Multiply-adds x 2 of one transformer forward for one sample (one CFG branch), by part."""

    linear: float  # per-token projections in the blocks: self-attn QKVO, cross-attn Q and O, FFN
    self_attention: float  # QK^T and AV over the video tokens (LTX-2: and over the audio tokens)
    cross_attention: float  # K and V of the text tokens, QK^T and AV against them
    io: float  # patch embedding, output projection, caption/text embedding
    # LTX-2 only: QK^T and AV of the audio-to-video and video-to-audio attention
    av_attention: float = 0.0
    # LTX-2 only: the part of ``linear`` that is those two attentions' projections (not added again)
    av_linear: float = 0.0

    @property
    def total(self) -> float:
        return self.linear + self.self_attention + self.cross_attention + self.io + self.av_attention

    @property
    def isolated(self) -> float:
        """LTX-2's modality-isolation forward: the blocks skip the audio-video attention."""
        return self.total - self.av_linear - self.av_attention


def video_tokens(arch: Arch, width: int, height: int, frames: int) -> int:
    """Transformer sequence length for a clip: VAE compression, then the transformer's patches."""
    cfg = arch.transformer
    if isinstance(cfg.get("patch_size"), tuple | list):
        pt, ph, pw = cfg["patch_size"]
    else:
        pt, ph, pw = cfg.get("patch_size_t") or 1, cfg["patch_size"], cfg["patch_size"]
    latent_frames = (frames - 1) // arch.temporal_ratio + 1
    return (latent_frames // pt) * (height // arch.spatial_ratio // ph) * (width // arch.spatial_ratio // pw)


def audio_tokens(arch: Arch, frames: int, fps: int) -> int:
    """LTX-2's audio sequence length for a clip of ``frames`` at ``fps`` (as LTX2Pipeline counts it: mel
    frames a second over the audio VAE's 4x temporal compression); 0 for a model without sound."""
    if "audio_in_channels" not in arch.transformer:
        return 0
    cfg = arch.transformer
    per_second = cfg["audio_sampling_rate"] / cfg["audio_hop_length"] / cfg["audio_scale_factor"]
    return round(frames / fps * per_second)


def transformer_flops(arch: Arch, tokens: int, audio: int = 0) -> Flops:
    """FLOPs of one forward of ``arch``'s transformer for one sample of ``tokens`` video tokens (and, for
    LTX-2, ``audio`` audio tokens: :func:`ltx2_flops`).

    With d = heads x head_dim, f the FFN width, N video tokens, L text tokens, c the text encoder width,
    per layer (a matmul of m x k by k x n is 2mkn FLOPs):

    - self-attention projections Q, K, V, O:  4 x 2Nd²
    - self-attention QK^T and AV:             2N²d + 2N²d = 4N²d
    - cross-attention Q and O (video tokens): 2 x 2Nd²;  K and V (text tokens): 2 x 2Ld²
    - cross-attention QK^T and AV:            4NLd
    - FFN (two matmuls; LTX 4d GELU, Wan 8960 GELU): 2 x 2Ndf
    outside the layers: patch embedding 2N·C_in·d, output projection 2N·d·C_out, text embedding
    (two layers, c -> d -> d) 2L(cd + d²). Norms, modulation, RoPE, softmax and the timestep embedding are
    below 1 % and left out. A CFG step runs two samples (LTX as a batch of 2, Wan as two calls).
    Wan 2.2 TI2V-5B is the Wan formula with its own config (d 3072, f 14336, 30 layers, C 48).

    CogVideoX has no cross-attention: the L text tokens join the N video tokens in one sequence of
    S = N + L that every layer's attention and FFN (4d, GELU) see: linear 4 x 2Sd² + 2 x 2S·d·4d,
    attention 4S²d (counted as self-attention); io 2N·C·p²·d in, 2N·d·C·p² out and 2L·c·d for the text
    projection.
    """
    if arch.transformer_class == "LTX2VideoTransformer3DModel":
        return ltx2_flops(arch, tokens, audio)
    cfg = arch.transformer
    d = cfg["num_attention_heads"] * cfg["attention_head_dim"]
    layers = cfg["num_layers"]
    if arch.transformer_class == "CogVideoXTransformer3DModel":
        s, n, length = float(tokens + arch.text_tokens), float(tokens), float(arch.text_tokens)
        patch = cfg["patch_size"] ** 2 * (cfg.get("patch_size_t") or 1)
        io = 2 * n * cfg["in_channels"] * patch * d + 2 * n * d * cfg["out_channels"] * patch
        return Flops(
            linear=layers * (4 * 2 * s * d * d + 2 * 2 * s * d * 4 * d),
            self_attention=layers * 4 * s * s * d,
            cross_attention=0.0,
            io=io + 2 * length * cfg["text_embed_dim"] * d,
        )
    if arch.transformer_class == "LTXVideoTransformer3DModel":
        ffn, text_width = 4 * d, cfg["caption_channels"]
        patch = cfg["patch_size"] ** 2 * cfg["patch_size_t"]
    else:
        ffn, text_width = cfg["ffn_dim"], cfg["text_dim"]
        patch = math.prod(cfg["patch_size"])
    n, length = float(tokens), float(arch.text_tokens)
    linear = layers * (4 * 2 * n * d * d + 2 * 2 * n * d * d + 2 * 2 * n * d * ffn)
    self_attention = layers * 4 * n * n * d
    cross_attention = layers * (2 * 2 * length * d * d + 4 * n * length * d)
    io = 2 * n * cfg["in_channels"] * patch * d + 2 * n * d * cfg["out_channels"] * patch
    io += 2 * length * (text_width * d + d * d)
    return Flops(linear=linear, self_attention=self_attention, cross_attention=cross_attention, io=io)


def ltx2_flops(arch: Arch, tokens: int, audio: int) -> Flops:
    """FLOPs of one LTX-2 forward for one sample: N video tokens (width d), M audio tokens (width a),
    L text tokens (the connectors' output, c = caption_channels wide), x = the audio-video attention width
    (audio heads x audio head dim), per layer, with the notation of :func:`transformer_flops`:

    - video: self-attention QKVO 4 x 2Nd², QK^T/AV 4N²d; text cross-attention Q, O 2 x 2Nd², K, V
      2 x 2Ld² (the caption projection is d wide), QK^T/AV 4NLd; FFN (4d, GELU) 2 x 2N·d·4d
    - audio: the same with M and a: 4 x 2Ma² + 4M²a; 2 x 2Ma² + 2 x 2La² + 4MLa; 2 x 2M·a·4a
    - audio-to-video (Q video, K/V audio) and video-to-audio (Q audio, K/V video) attention, x wide:
      projections 2 x 2Ndx + 2 x 2Max (a2v) + 2 x 2Max + 2 x 2Ndx (v2a) = 8x(Nd + Ma),
      QK^T/AV 4NMx each: 8NMx
    outside the layers: patch embeddings and output projections 2N(C_v·d + d·C_v) + 2M(C_a·a + a·C_a),
    caption projections (two layers each) 2L(cd + d²) + 2L(ca + a²). Norms, modulation, RoPE, softmax
    and the timestep embeddings are left out (< 1 %). At the default clip (1280x704, 121 frames at 24 fps:
    N = 16 x 22 x 40 = 14080, M = 126, L = 1024) this is 0.537 PFLOP. The modality-isolation pass
    (:func:`forward_passes`) skips the audio-video attention: ``Flops.isolated``, 0.490 PFLOP.
    """
    cfg = arch.transformer
    d = cfg["num_attention_heads"] * cfg["attention_head_dim"]
    a = cfg["audio_num_attention_heads"] * cfg["audio_attention_head_dim"]
    x = a  # a2v / v2a use the audio heads
    c = cfg["caption_channels"]
    layers = cfg["num_layers"]
    n, m, length = float(tokens), float(audio), float(arch.text_tokens)
    video_linear = 4 * 2 * n * d * d + 2 * 2 * n * d * d + 2 * 2 * n * d * 4 * d
    audio_linear = 4 * 2 * m * a * a + 2 * 2 * m * a * a + 2 * 2 * m * a * 4 * a
    av_linear = layers * 8 * x * (n * d + m * a)
    linear = layers * (video_linear + audio_linear) + av_linear
    self_attention = layers * (4 * n * n * d + 4 * m * m * a)
    cross_attention = layers * (2 * 2 * length * (d * d + a * a) + 4 * length * (n * d + m * a))
    av_attention = layers * 8 * n * m * x
    io = 4 * n * cfg["in_channels"] * d + 4 * m * cfg["audio_in_channels"] * a
    io += 2 * length * (c * d + d * d) + 2 * length * (c * a + a * a)
    return Flops(
        linear=linear,
        self_attention=self_attention,
        cross_attention=cross_attention,
        io=io,
        av_attention=av_attention,
        av_linear=av_linear,
    )


def forward_passes(pipe: Any, kwargs: Mapping[str, Any], flops: Flops) -> tuple[float, str]:
    """Transformer FLOPs of one denoising step for one clip, and what runs, for ``pipe`` called with
    ``kwargs`` (the rest at the pipeline's defaults).

    LTX-2 (LTX2Pipeline) runs up to three forwards a step: classifier-free guidance (a batch of 2) when
    ``guidance_scale`` or ``audio_guidance_scale`` > 1; spatio-temporal guidance (1 sample) when
    ``stg_scale`` or ``audio_stg_scale`` > 0; modality isolation (1 sample, no audio-video attention) when
    ``modality_scale`` or ``audio_modality_scale`` > 1. The STG pass perturbs the named blocks' self-
    attention only in a transformer built with ``perturbed_attn`` (LTX-2.0's config has it off): it is
    counted as a full forward. Other pipelines: 2 samples with CFG (guidance_scale > 1), else 1.
    """
    import inspect

    defaults = {
        k: v.default
        for k, v in inspect.signature(pipe.__call__).parameters.items()
        if v.default is not inspect.Parameter.empty
    }
    given = {**defaults, **kwargs}

    def value(name: str, fallback: float) -> float:
        raw = given.get(name)
        return fallback if raw is None else float(raw)

    if type(pipe).__name__.startswith("LTX2"):
        guidance = value("guidance_scale", 1.0)
        cfg = guidance > 1.0 or value("audio_guidance_scale", guidance) > 1.0
        stg = value("stg_scale", 0.0) > 0.0 or value("audio_stg_scale", 0.0) > 0.0
        modality = value("modality_scale", 1.0) > 1.0 or value("audio_modality_scale", 1.0) > 1.0
        total = (2 if cfg else 1) * flops.total + (flops.total if stg else 0.0)
        total += flops.isolated if modality else 0.0
        parts = ["CFG x2" if cfg else "x1"] + ["STG x1"] * stg + ["modality isolation x1"] * modality
        return total, " + ".join(parts)
    cfg = value("guidance_scale", 1.0) > 1.0
    return (2 if cfg else 1) * flops.total, "CFG x2" if cfg else "x1"


# ---------------------------------------------------------------------------------------------------------
# Building: meta device -> to_empty on the device -> normal init
# ---------------------------------------------------------------------------------------------------------


def _keep_fp32(model: torch.nn.Module, name: str, dtype: torch.dtype) -> bool:
    # diffusers' from_pretrained keeps these in float32 whatever the dtype (Wan: rope, time_embedder,
    # scale_shift_table, norm1..3); transformers' keeps ``_keep_in_fp32_modules`` in float32 for float16
    # (T5's "wo": CogVideoX-2B runs in float16) and ``_keep_in_fp32_modules_strict`` for bf16 too
    if isinstance(model, diffusers.ModelMixin):
        keep = set(getattr(model, "_keep_in_fp32_modules", None) or ())
    else:
        keep = set(getattr(model, "_keep_in_fp32_modules", None) or ()) if dtype == torch.float16 else set()
        if dtype in (torch.float16, torch.bfloat16):
            keep |= set(getattr(model, "_keep_in_fp32_modules_strict", None) or ())
    return any(part in name.split(".") for part in keep)


def _is_norm(module: torch.nn.Module) -> bool:
    return isinstance(module, torch.nn.LayerNorm | torch.nn.GroupNorm | torch.nn.RMSNorm) or (
        "norm" in type(module).__name__.lower()
    )


@torch.no_grad()
def init_weights(model: torch.nn.Module, std: float = INIT_STD) -> None:
    """Normal(0, std) for weights, zeros for biases, ones for norm weights: no NaN from empty memory."""
    for module in model.modules():
        for name, param in module.named_parameters(recurse=False):
            if name.endswith("bias"):
                param.zero_()
            elif _is_norm(module) or (param.ndim == 1 and "norm" in name):
                param.fill_(1.0)
            else:
                param.normal_(0.0, std)


def on_meta(build: Callable[[], torch.nn.Module], dtype: torch.dtype) -> torch.nn.Module:
    """``build()`` on the meta device (buffers real: RoPE tables, latent statistics), its parameters and
    buffers in the dtypes ``from_pretrained`` would give them: no memory for the weights, their real sizes."""
    with init_empty_weights(include_buffers=False):
        model = build()
    for module_name, module in model.named_modules():
        for name, param in list(module.named_parameters(recurse=False)):
            full = f"{module_name}.{name}" if module_name else name
            if param.is_floating_point() and not _keep_fp32(model, full, dtype):
                module._parameters[name] = torch.nn.Parameter(param.to(dtype), requires_grad=False)
    if not getattr(model, "_keep_in_fp32_modules", None) or not isinstance(model, diffusers.ModelMixin):
        # as from_pretrained: model.to(dtype) casts the buffers too unless some modules stay float32
        for module in model.modules():
            for name, buf in list(module.named_buffers(recurse=False)):
                if buf is not None and buf.is_floating_point():
                    module._buffers[name] = buf.to(dtype)
    return model


def materialize(
    build: Callable[[], torch.nn.Module], device: torch.device, dtype: torch.dtype
) -> torch.nn.Module:
    """Build on the meta device (:func:`on_meta`), allocate on ``device`` with ``to_empty``, restore the
    buffers and fill the parameters with ``init_weights``. The full-size weights never exist in CPU memory
    unless ``device`` is the CPU."""
    model = on_meta(build, dtype)
    buffers = {name: buf.detach().clone() for name, buf in model.named_buffers()}
    model.to_empty(device=device)
    with torch.no_grad():
        for name, value in buffers.items():
            model.get_buffer(name).copy_(value)
    init_weights(model)
    if isinstance(model, PreTrainedModel):
        model.tie_weights()  # T5's shared and encoder embeddings: one tensor, as from_pretrained leaves them
    model.requires_grad_(False)
    return model.eval()


def _component(cls: type[Any], config: Mapping[str, Any]) -> Callable[[], torch.nn.Module]:
    return lambda: cls(**config)


def build_pipeline(
    arch: Arch,
    device: torch.device,
    dtype: torch.dtype,
    vae_dtype: torch.dtype,
    load_options: Mapping[str, Any] | None = None,
) -> Any:
    """``arch``'s pipeline on ``device`` with random weights and the project's test tokenizer (T5's or
    Gemma's layout); ``load_options`` as generator/loader.py applies them (``vae_tiling``)."""
    from tests.tiny_models import train_gemma_tokenizer, train_tokenizer

    # ids stay below every vocab size here
    tokenizer = train_gemma_tokenizer() if arch.tokenizer == "gemma" else train_tokenizer()
    transformer_cls = getattr(diffusers, arch.transformer_class)
    vae_cls = getattr(diffusers, arch.vae_class)
    transformer = materialize(_component(transformer_cls, arch.transformer), device, dtype)
    vae = materialize(_component(vae_cls, arch.vae), device, vae_dtype)
    text_encoder = materialize(lambda: arch.text_class(arch.text_config_class(**arch.text)), device, dtype)
    extras = {
        name: materialize(_component(cls, cfg), device, dtype) for name, (cls, cfg) in arch.components.items()
    }
    scheduler = getattr(diffusers, arch.scheduler_class)(**arch.scheduler)
    pipe = getattr(diffusers, arch.pipeline)(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        transformer=transformer,
        vae=vae,
        scheduler=scheduler,
        **extras,
        **arch.pipeline_options,
    )
    tiling = getattr(vae, "enable_tiling", None)
    if (load_options or {}).get("vae_tiling") and callable(tiling):
        tiling()  # as generator/loader.py does for such a preset, on both paths
    pipe.set_progress_bar_config(disable=True)
    return pipe


# ---------------------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------------------


def sync(device: torch.device) -> None:
    if device.type == "cuda" and torch.cuda.is_available():
        torch.cuda.synchronize(device)


def free_memory(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda" and torch.cuda.is_available():
        torch.cuda.empty_cache()


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda" and torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats(device)


def peak_gib(device: torch.device) -> float | None:
    if device.type == "cuda" and torch.cuda.is_available():
        return torch.cuda.max_memory_allocated(device) / 2**30
    return None


def card_name(device: torch.device) -> str:
    if device.type == "cuda" and torch.cuda.is_available():
        return torch.cuda.get_device_name(device)
    import platform

    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def matmul_tflops(device: torch.device, dtype: torch.dtype, n: int, iters: int) -> float:
    """The card's dense matrix rate: a timed n x n x n matmul in ``dtype``."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    out = torch.empty(n, n, device=device, dtype=dtype)
    for _ in range(10):  # cuBLAS heuristics, clocks up
        torch.matmul(a, b, out=out)
    sync(device)
    started = time.perf_counter()
    for _ in range(iters):
        torch.matmul(a, b, out=out)
    sync(device)
    elapsed = time.perf_counter() - started
    del a, b, out
    return 2.0 * n**3 * iters / elapsed / 1e12


@dataclass
class CallTiming:
    """One pipeline call split by ``callback_on_step_end`` timestamps."""

    total_s: float
    step_ends: list[float]  # seconds after the call started
    frames: np.ndarray  # (frames, height, width, 3), float in [0, 1]

    @property
    def step_s(self) -> float:
        gaps = [b - a for a, b in zip(self.step_ends, self.step_ends[1:], strict=False)]
        return statistics.median(gaps) if gaps else self.step_ends[0]

    @property
    def prepare_s(self) -> float:
        """Text encoding, latents and timesteps: up to the first step's start."""
        return max(0.0, self.step_ends[0] - self.step_s)

    @property
    def decode_s(self) -> float:
        return self.total_s - self.step_ends[-1]

    def clip_s(self, steps: int) -> float:
        return self.prepare_s + steps * self.step_s + self.decode_s


def timed_call(
    pipe: Any, device: torch.device, kwargs: Mapping[str, Any], steps: int, seed: int
) -> CallTiming:
    ends: list[float] = []
    started = 0.0

    def on_step_end(_pipe: Any, _step: int, _t: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        sync(device)
        ends.append(time.perf_counter() - started)
        return tensors

    sigmas = kwargs.get("sigmas")
    if sigmas is not None and 0 < steps < len(sigmas):
        # a distilled preset's fixed schedule: fewer steps take evenly spaced sigmas, as generator/render.py
        kwargs = {
            **kwargs,
            "sigmas": [sigmas[i] for i in np.linspace(0, len(sigmas) - 1, steps).round().astype(int)],
        }
    generator = torch.Generator(device="cpu").manual_seed(seed)
    # LTX's 0.9.1 decoder injects noise from the global RNG (vae.decode gets no generator)
    torch.manual_seed(seed)
    sync(device)
    started = time.perf_counter()
    with torch.inference_mode():
        output = pipe(
            **kwargs, num_inference_steps=steps, generator=generator, callback_on_step_end=on_step_end
        )
    sync(device)
    total = time.perf_counter() - started
    return CallTiming(total_s=total, step_ends=ends, frames=np.asarray(output.frames[0], dtype=np.float32))


# ---------------------------------------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clip:
    width: int
    height: int
    frames: int
    steps: int  # the preset's default: seconds per clip are for these
    guidance: float
    fps: int


def preset_clip(preset: Preset, arch: Arch) -> Clip:
    width, height = preset.sizes[preset.default_aspect]
    clip = Clip(
        width, height, preset.default_frames, preset.default_steps, preset.default_guidance, preset.fps
    )
    return replace(clip, **arch.clip) if arch.clip else clip


@dataclass
class Row:
    preset: str
    path: str
    clip_s: float
    step_s: float
    first_call_s: float | None = None
    compile_s: float | None = None
    prepare_s: float | None = None
    decode_s: float | None = None
    tflops: float | None = None
    matmul_fraction: float | None = None
    peak_gib: float | None = None
    max_diff: float | None = None  # max |frame difference| against stock, same seed (frames in [0, 1])
    frames: int | None = None
    note: str = ""
    estimated: bool = False


@dataclass
class Report:
    card: str
    matmul_tflops: float
    matmul_dtype: str
    rows: list[Row]
    flops: dict[str, Flops]  # per preset: one forward, one sample
    clips: dict[str, Clip]
    steps_run: dict[str, int]
    passes: dict[str, str] = field(default_factory=dict)  # per preset: the forwards of one step
    step_flops: dict[str, float] = field(default_factory=dict)  # per preset: transformer FLOPs a step


def _call_kwargs(pipe: Any, preset: Preset, arch: Arch, clip: Clip) -> dict[str, Any]:
    import inspect

    wanted: dict[str, Any] = {
        "prompt": PROMPT,
        "negative_prompt": NEGATIVE,
        "width": clip.width,
        "height": clip.height,
        "num_frames": clip.frames,
        "frame_rate": clip.fps,
        "guidance_scale": clip.guidance,
        "output_type": "np",
        **preset.call_kwargs,
        "max_sequence_length": arch.text_tokens,
    }
    accepted = inspect.signature(pipe.__call__).parameters
    return {k: v for k, v in wanted.items() if k in accepted}


def _fp8_available(device: torch.device) -> str | None:
    """None if FP8 (torchao, compute capability >= 8.9) can run here, else why not."""
    if device.type != "cuda" or not torch.cuda.is_available():
        return "FP8 needs a CUDA GPU"
    if torch.cuda.get_device_capability(device) < (8, 9):
        return "FP8 needs compute capability 8.9+"
    if importlib.util.find_spec("torchao") is None:
        return "torchao is not installed"
    return None


def _apply_fp8(pipe: Any) -> str:
    from torchao.quantization import Float8DynamicActivationFloat8WeightConfig, PerRow, quantize_

    quantize_(pipe.transformer, Float8DynamicActivationFloat8WeightConfig(granularity=PerRow()))
    return "fp8 dynamic per-row (torchao)"


def _cache_rows(
    preset: str, base: Row, timing: CallTiming, clip: Clip, layers: int, fraction: float
) -> list[Row]:
    """First-Block Cache and MagCache at a fixed fraction of computed steps: estimates, not runs."""
    rows: list[Row] = []
    kinds = (
        # a skipped step still runs the first block (its residual decides); MagCache skips the whole model
        ("FirstBlockCacheConfig", "First-Block Cache", 1.0 / layers),
        ("MagCacheConfig", "MagCache", 0.0),
    )
    for config_name, label, skipped_cost in kinds:
        if not hasattr(diffusers, config_name):
            continue
        step = timing.step_s * (fraction + (1.0 - fraction) * skipped_cost)
        rows.append(
            Row(
                preset=preset,
                path=f"project + {label}",
                clip_s=timing.prepare_s + clip.steps * step + timing.decode_s,
                step_s=step,
                peak_gib=base.peak_gib,
                note=f"ESTIMATE: {fraction:.0%} of steps computed (random weights: skip decisions "
                "meaningless)",
                estimated=True,
            )
        )
    return rows


def bench_preset(
    name: str,
    arch: Arch,
    device: torch.device,
    dtype: torch.dtype,
    *,
    steps: int | None,
    warmup_steps: int,
    matmul_rate: float,
    speedups: Mapping[str, Any] | None,
    fp8: bool,
    cache_fraction: float,
    small: bool = False,
    seed: int = 0,
    log: Callable[[str], None] = print,
    passes: dict[str, tuple[float, str]] | None = None,
) -> tuple[list[Row], Clip, Flops, int]:
    preset = next(p for p in BUILTIN_PRESETS if p.name == name)
    clip = preset_clip(preset, arch)
    run_steps = steps or clip.steps
    tokens = video_tokens(arch, clip.width, clip.height, clip.frames)
    sound = audio_tokens(arch, clip.frames, clip.fps)
    flops = transformer_flops(arch, tokens, sound)
    vae_name = preset.load_options.get("vae_dtype")
    vae_dtype = getattr(torch, vae_name) if vae_name and dtype != torch.float32 else dtype

    what = f"{tokens} video tokens" + (f", {sound} audio tokens" if sound else "")
    log(f"{name}: building ({arch.transformer_class}, {what}) on {device}")
    started = time.perf_counter()
    pipe = build_pipeline(arch, device, dtype, vae_dtype, preset.load_options)
    sync(device)
    log(f"{name}: built in {time.perf_counter() - started:.1f} s")
    kwargs = _call_kwargs(pipe, preset, arch, clip)
    step_flops, step_passes = forward_passes(pipe, kwargs, flops)
    if passes is not None:
        passes[name] = (step_flops, step_passes)

    def measure(path: str, note: str) -> tuple[Row, CallTiming]:
        sync(device)
        reset_peak(device)
        first = time.perf_counter()
        timed_call(pipe, device, kwargs, warmup_steps, seed)
        first_s = time.perf_counter() - first
        free_memory(device)
        reset_peak(device)
        timing = timed_call(pipe, device, kwargs, run_steps, seed)
        warm_estimate = timing.prepare_s + warmup_steps * timing.step_s + timing.decode_s
        tflops = step_flops / timing.step_s / 1e12
        row = Row(
            preset=name,
            path=path,
            clip_s=timing.total_s if run_steps == clip.steps else timing.clip_s(clip.steps),
            step_s=timing.step_s,
            first_call_s=first_s,
            compile_s=max(0.0, first_s - warm_estimate),
            prepare_s=timing.prepare_s,
            decode_s=timing.decode_s,
            tflops=tflops,
            matmul_fraction=tflops / matmul_rate if matmul_rate > 0 else None,
            peak_gib=peak_gib(device),
            frames=int(timing.frames.shape[0]),
            note=note,
        )
        log(f"{name}/{path}: {row.clip_s:.3g} s/clip, {row.step_s:.3g} s/step, {tflops:.3g} TFLOP/s")
        return row, timing

    rows: list[Row] = []
    # set_attention_backend also sets diffusers' process-wide default, which every processor without its
    # own backend uses: the next preset's stock path must start from the default again
    registry = diffusers.models.attention_dispatch._AttentionBackendRegistry
    default_backend = registry._active_backend
    try:
        stock, stock_timing = measure("stock", "diffusers as the model card calls it")
        stock.max_diff = 0.0
        rows.append(stock)
        options = dict(speedups if speedups is not None else preset.speedups)
        if device.type != "cuda":
            options["compile_backend"] = "eager"  # inductor on a CPU compiles for minutes
        try:
            applied = apply_speedups(pipe, options, device, allow_cpu=True)
            project, project_timing = measure("project", ", ".join(applied) or "no speed-ups applied")
        except Exception as exc:  # keep the stock row and the other presets: the failure is the finding
            if small:
                raise
            log(f"{name}: the project path failed: {type(exc).__name__}: {exc}")
            rows.append(Row(name, "project", math.nan, math.nan, note=f"FAILED: {type(exc).__name__}: {exc}"))
            return rows, clip, flops, run_steps
        project.max_diff = float(np.abs(project_timing.frames - stock_timing.frames).max())
        rows.append(project)
        layers = int(arch.transformer["num_layers"])
        rows.extend(_cache_rows(name, project, project_timing, clip, layers, cache_fraction))
        if fp8:
            why_not = _fp8_available(device)
            if why_not is not None:
                log(f"{name}: FP8 skipped: {why_not}")
            else:
                try:
                    what = _apply_fp8(pipe)  # last: it changes the weights in place
                    fp8_row, fp8_timing = measure("project + fp8", f"{', '.join(applied)}, {what}")
                    fp8_row.max_diff = float(np.abs(fp8_timing.frames - stock_timing.frames).max())
                    rows.append(fp8_row)
                except Exception as exc:  # an optional path must not lose the rows measured so far
                    log(f"{name}: FP8 failed: {type(exc).__name__}: {exc}")
    finally:
        registry.set_active_backend(default_backend)
        torch._dynamo.reset()  # drop the compiled blocks with the pipeline
        pipe = None  # the closure above holds the variable; this drops the pipeline
        free_memory(device)
    return rows, clip, flops, run_steps


def run(
    presets: list[str],
    *,
    small: bool = False,
    device: torch.device | None = None,
    steps: int | None = None,
    warmup_steps: int = 2,
    speedups: Mapping[str, Any] | None = None,
    fp8: bool = True,
    cache_fraction: float = 0.5,
    log: Callable[[str], None] = print,
) -> Report:
    archs = SMALL if small else FULL
    if device is None:
        device = torch.device("cuda" if torch.cuda.is_available() and not small else "cpu")
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    if device.type == "cuda":
        rate = matmul_tflops(device, torch.bfloat16, n=8192, iters=200)
    else:
        rate = matmul_tflops(device, torch.float32, n=512 if small else 2048, iters=10)
    log(f"{card_name(device)}: {rate:.1f} TFLOP/s dense matmul ({dtype})")
    free_memory(device)
    report = Report(card_name(device), rate, str(dtype).removeprefix("torch."), [], {}, {}, {})
    passes: dict[str, tuple[float, str]] = {}
    for name in presets:
        if name not in archs:
            raise SystemExit(f"no architecture for preset {name!r} (known: {', '.join(archs)})")
        rows, clip, flops, run_steps = bench_preset(
            name,
            archs[name],
            device,
            dtype,
            steps=steps,
            warmup_steps=warmup_steps,
            matmul_rate=rate,
            speedups=speedups,
            fp8=fp8,
            cache_fraction=cache_fraction,
            small=small,
            log=log,
            passes=passes,
        )
        report.step_flops[name], report.passes[name] = passes[name]
        report.rows.extend(rows)
        report.flops[name] = flops
        report.clips[name] = clip
        report.steps_run[name] = run_steps
    return report


# ---------------------------------------------------------------------------------------------------------
# --smoke: one short clip per family through the worker's own path
# ---------------------------------------------------------------------------------------------------------

# one preset per family, the biggest last: a slow one leaves the others' rows in the table
SMOKE_FAMILIES: dict[str, str] = {
    "LTX-Video": "ltx-video",
    "Wan 2.1": "wan-1.3b",
    "Wan 2.2 TI2V": "wan-2.2-5b",
    "CogVideoX": "cogvideox-2b",
    "LTX-2 (with sound)": "ltx-2",
}
SMOKE_STEPS = 2
SMOKE_BUDGET_S = 480.0  # 8 minutes of a lent GPU: a family not started by then is a row that says so


def meta_components(
    arch: Arch,
    dtype: torch.dtype,
    vae_dtype: torch.dtype,
    memo: dict[tuple[Any, ...], torch.nn.Module] | None = None,
) -> dict[str, torch.nn.Module]:
    """``arch``'s pipeline components on the meta device, in the dtypes the loader gives them: their real
    sizes, no memory (what the loader's offload choice reads). ``memo`` keeps components built before
    (the same class, config and dtype) for the next call."""
    built = memo if memo is not None else {}

    def component(cls: Any, config: Mapping[str, Any], as_dtype: torch.dtype) -> torch.nn.Module:
        key = (cls, id(config), as_dtype)
        if key not in built:
            if isinstance(cls, type) and issubclass(cls, PreTrainedModel):
                text: Any = on_meta(lambda: cls(arch.text_config_class(**config)), as_dtype)
                text.tie_weights()  # one embedding, as from_pretrained leaves it
                built[key] = text
            else:
                built[key] = on_meta(_component(cls, config), as_dtype)
        return built[key]

    return {
        "transformer": component(getattr(diffusers, arch.transformer_class), arch.transformer, dtype),
        "vae": component(getattr(diffusers, arch.vae_class), arch.vae, vae_dtype),
        "text_encoder": component(arch.text_class, arch.text, dtype),
        **{name: component(cls, cfg, dtype) for name, (cls, cfg) in arch.components.items()},
    }


@dataclass
class _Components:
    """A pipeline as the loader's offload choice sees it: its components."""

    components: dict[str, torch.nn.Module]


def loader_offload(
    preset: Preset, arch: Arch, device: torch.device, dtype: torch.dtype, vae_dtype: torch.dtype
) -> str:
    """How the worker's loader places ``preset`` on ``device`` (``generator.loader.choose_offload`` on the
    architecture's real component sizes and the GPU's memory): "none", "model" or "group"."""
    if device.type != "cuda":
        return "none"
    return choose_offload(preset, _Components(meta_components(arch, dtype, vae_dtype)), device)


def _recording(pipe: Any, outputs: list[Any]) -> Any:
    """``pipe``, its calls' outputs appended to ``outputs``: the frames before the worker rounds them to
    8 bits (NaN would become black), and the sound. Its call signature stays the pipeline's (the render
    passes only the arguments the pipeline takes)."""
    cls = type(pipe)
    call = cls.__call__

    @functools.wraps(call)
    def recorded(self: Any, *args: Any, **kwargs: Any) -> Any:
        output = call(self, *args, **kwargs)
        outputs.append(output)
        return output

    pipe.__class__ = type(cls.__name__, (cls,), {"__call__": recorded, "__module__": cls.__module__})
    return pipe


def place_pipeline(
    preset: Preset,
    arch: Arch,
    device: torch.device,
    dtype: torch.dtype,
    vae_dtype: torch.dtype,
    log: Callable[[str], None] = print,
) -> tuple[Any, str]:
    """``arch``'s random-weight pipeline placed as ``generator.loader.load_pipeline`` places the preset's
    (the offload its real sizes call for; a distilled schedule's sigmas taken as they are), without its
    speed-ups (:func:`speedup_options`); the pipeline and its offload."""
    offload = loader_offload(preset, arch, device, dtype, vae_dtype)
    where = device if offload == "none" else torch.device("cpu")  # the loader loads, then places
    log(f"{preset.name}: building {arch.transformer_class} on {where} ({offload} offload)")
    pipe = build_pipeline(arch, where, dtype, vae_dtype, preset.load_options)
    if "sigmas" in preset.call_kwargs and hasattr(pipe, "scheduler"):
        pipe.scheduler = exact_sigmas_scheduler(pipe.scheduler)
    apply_offload(pipe, offload, device)
    return pipe, offload


def speedup_options(preset: Preset, device: torch.device, offload: str) -> dict[str, Any]:
    """The preset's speed-ups as the loader applies them; the compile backend "eager" on a CPU."""
    options = dict(preset.speedups)
    if device.type != "cuda":
        options["compile_backend"] = "eager"  # inductor on a CPU compiles for long
    if offload == "group":
        options["compile"] = False  # as the loader: the offload hooks run inside each layer
    return options


class BuiltPipelineCache(PipelineCache):
    """The worker's warm cache (``generator.loader.PipelineCache``) whose load builds the bench's
    random-weight pipeline instead of ``from_pretrained`` (full-size weights cannot be downloaded here nor
    saved to disk), placed on the device and sped up as ``generator.loader.load_pipeline`` does.

    With ``build_upsampler`` the HD stage's latent upsampler is that random-weight model instead of
    ``from_pretrained`` (``PipelineCache._load_upsampler``); the rest of the loader's ``_derive`` (where
    the upsampler goes, its bytes, the two pipelines built by ``from_pipe``) runs as it is."""

    def __init__(
        self,
        device: torch.device,
        build: Callable[[Preset], tuple[Any, str]],
        build_upsampler: Callable[[Preset], torch.nn.Module] | None = None,
        *,
        style_slots: int = SLOTS,
    ) -> None:
        super().__init__(device=device, budget_bytes=2**62, style_slots=style_slots)
        self._build = build
        self._build_upsampler = build_upsampler

    def _load_upsampler(self, preset: Preset, model_class: str) -> Any:
        if self._build_upsampler is None:
            return super()._load_upsampler(preset, model_class)
        return self._build_upsampler(preset)

    def _load(self, key: tuple[str, str, str, str], preset: Preset) -> _Entry:
        started = time.perf_counter()
        pipe, offload = self._build(preset)
        self.loads += 1
        entry = _Entry(
            pipe,
            module_bytes(pipe),
            time.perf_counter() - started,
            offload,
            hooked=pipe,
            styles=StyleSlots(self.style_slots),
        )
        self._entries[key] = entry
        return entry


@dataclass
class SmokeRow:
    family: str
    preset: str
    clip: str = ""  # "768×512, 25 frames, 2 steps"
    offload: str = ""  # the loader's placement: "none", "model" or "group"
    speedups: str = ""  # what apply_speedups applied
    build_s: float | None = None
    render_s: float | None = None  # the pipeline call (the first: compilation included)
    peak_gib: float | None = None  # torch.cuda.max_memory_allocated over build and render; None on a CPU
    stated_gib: float = 0.0  # the preset's gpu_memory_gb
    finite: bool | None = None  # the frames (and the sound) hold no NaN or inf
    sound: bool | None = None  # a sound track came back; None for a preset that makes none
    error: str = ""

    @property
    def within_memory(self) -> bool | None:
        if self.peak_gib is None or not self.stated_gib:
            return None
        return self.peak_gib <= self.stated_gib

    @property
    def ok(self) -> bool:
        return (
            not self.error
            and self.finite is True
            and self.within_memory is not False
            and self.sound is not False
        )


@dataclass
class SmokeReport:
    card: str
    device: str
    rows: list[SmokeRow]
    seconds: float


def smoke_preset_for(preset: Preset, arch: Arch, small: bool) -> Preset:
    """The preset the smoke clip (and ``--hd``) renders: the built-in one; with ``--small`` its
    scaled-down clip's size, frames and text length."""
    if not small:
        return preset
    clip = arch.clip
    return replace(
        preset,
        sizes={preset.default_aspect: (clip["width"], clip["height"])},
        min_frames=clip["frames"],
        default_frames=clip["frames"],
        call_kwargs={**preset.call_kwargs, "max_sequence_length": arch.text_tokens},
    )


def _failure(exc: BaseException) -> str:
    cause = exc.__cause__ or exc
    return f"{type(cause).__name__}: {cause}".splitlines()[0][:300]


def _finite(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return bool(torch.isfinite(value.float()).all())
    return bool(np.isfinite(np.asarray(value, dtype=np.float32)).all())


def smoke_preset(
    family: str,
    name: str,
    device: torch.device,
    *,
    small: bool = False,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> SmokeRow:
    """One short clip of preset ``name`` (the preset's smallest frame count, its default size, 2 steps)
    through ``generator.render.render`` and the worker's warm cache, with the preset's speed-ups; a row
    with what went wrong instead of an exception."""
    preset = next(p for p in BUILTIN_PRESETS if p.name == name)
    row = SmokeRow(family, name, stated_gib=preset.gpu_memory_gb)
    outputs: list[Any] = []
    try:
        arch = (SMALL if small else FULL)[name]
        dtype = getattr(torch, preset.dtype) if device.type == "cuda" else torch.float32
        vae_name = preset.load_options.get("vae_dtype")
        vae_dtype = getattr(torch, str(vae_name)) if vae_name and dtype != torch.float32 else dtype
        serving = smoke_preset_for(preset, arch, small)
        spec = JobSpec(
            PROMPT,
            negative_prompt=NEGATIVE,
            model=name,
            seconds=serving.min_frames / serving.fps,
            steps=SMOKE_STEPS,
            seed=seed,
        )
        plan = resolve_spec(spec, PresetCatalog([serving], default=name))
        row.clip = f"{plan.width}×{plan.height}, {plan.num_frames} frames, {SMOKE_STEPS} steps"

        def build(loaded: Preset) -> tuple[Any, str]:
            started = time.perf_counter()
            pipe, offload = place_pipeline(loaded, arch, device, dtype, vae_dtype, log)
            applied = apply_speedups(pipe, speedup_options(loaded, device, offload), device, allow_cpu=True)
            row.offload, row.speedups = offload, ", ".join(applied) or "none"
            sync(device)
            row.build_s = time.perf_counter() - started
            return _recording(pipe, outputs), offload

        free_memory(device)
        reset_peak(device)
        out = render(plan, cache=BuiltPipelineCache(device, build))
        row.render_s = out.seconds
        expected = (plan.num_frames, plan.height, plan.width, 3)
        if out.frames.shape != expected:
            row.error = f"frames {out.frames.shape}, asked for {expected}"
        raw = outputs[-1]
        row.finite = _finite(raw.frames)
        if preset.audio:
            sound = getattr(raw, "audio", None)
            row.sound = out.audio is not None and sound is not None
            row.finite = row.finite and (sound is None or _finite(sound))
        log(f"{name}: {row.clip} in {row.render_s:.1f} s, finite: {row.finite}")
    except Exception as exc:  # one family's failure is its row, not the end of the run
        row.error = _failure(exc)
        log(f"{name}: FAILED: {row.error}")
    finally:
        row.peak_gib = peak_gib(device)
        outputs.clear()
        torch._dynamo.reset()  # drop the compiled blocks with the pipeline
        free_memory(device)
    return row


def run_smoke(
    families: Mapping[str, str] | None = None,
    *,
    small: bool = False,
    device: torch.device | None = None,
    budget_s: float = SMOKE_BUDGET_S,
    log: Callable[[str], None] = print,
) -> SmokeReport:
    """:func:`smoke_preset` for each family (default :data:`SMOKE_FAMILIES`); a family not started within
    ``budget_s`` is a row that says so."""
    if device is None:
        device = torch.device("cuda" if torch.cuda.is_available() and not small else "cpu")
    started = time.perf_counter()
    rows: list[SmokeRow] = []
    for family, name in (families or SMOKE_FAMILIES).items():
        if time.perf_counter() - started > budget_s:
            preset = next(p for p in BUILTIN_PRESETS if p.name == name)
            rows.append(
                SmokeRow(
                    family, name, stated_gib=preset.gpu_memory_gb, error=f"not run: past {budget_s:.0f} s"
                )
            )
            continue
        rows.append(smoke_preset(family, name, device, small=small, log=log))
    return SmokeReport(card_name(device), device.type, rows, time.perf_counter() - started)


def smoke_table(report: SmokeReport) -> str:
    good = sum(row.ok for row in report.rows)
    lines = [
        f"Smoke test (`python -m bench.gpu --smoke`): {report.card}; torch {torch.__version__}, diffusers "
        f"{diffusers.__version__}; {good} of {len(report.rows)} families passed in {report.seconds:.0f} s.",
        "",
        "| family | preset | clip | offload | speed-ups | build s | render s | peak GiB | stated GiB "
        "| output | result |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report.rows:
        if r.peak_gib is not None:
            peak = f"{r.peak_gib:.1f}"
        else:
            peak = "n/a on cpu" if report.device != "cuda" else "–"
        if r.finite is None:
            output = "–"
        else:
            output = "finite" if r.finite else "NaN or inf"
            output += {None: "", True: " + sound", False: ", NO SOUND"}[r.sound]
        if r.error:
            result = f"FAILED: {r.error}".replace("|", "\\|")
        elif r.within_memory is False:
            result = f"over memory: {r.peak_gib:.1f} > {r.stated_gib:g} GiB"
        else:
            result = "ok" if r.ok else "FAILED"
        cells = [
            r.family,
            r.preset,
            r.clip or "–",
            r.offload or "–",
            r.speedups or "–",
            _fmt(r.build_s, ".1f"),
            _fmt(r.render_s, ".1f"),
            peak,
            f"{r.stated_gib:g}",
            output,
            result,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Random weights (normal init): frames are noise, but finite. Build = the pipeline made and placed "
        "as the worker's loader would (offload, attention backend, regional compile set up); render = the "
        "first pipeline call, compilation included; peak = torch.cuda.max_memory_allocated over both.",
    ]
    return "\n".join(lines)


def append_results(title: str, table: str, path: Path = RESULTS) -> None:
    """Add a run's table to ``path`` (bench/RESULTS.md) under a heading with the time and ``title``."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    with path.open("a", encoding="utf-8") as out:
        out.write(f"\n## {stamp} · {title}\n\n{table}\n")


def write_smoke(report: SmokeReport, path: Path = RESULTS) -> None:
    append_results(f"{report.card} · smoke", smoke_table(report), path)


# ---------------------------------------------------------------------------------------------------------
# --hd: draft, HD and one-shot HD of each LTX preset with an upsampler, stock diffusers against the project
# ---------------------------------------------------------------------------------------------------------

# the presets with an upsampler whose architecture is here. ltx-2.5 is not: its transformer, duration head,
# prompt enhancer and upsampler configs are unconfirmed (no conversion recipe in diffusers to read them from)
HD_PRESETS = ["ltx-2.3-distilled"]
HD_SECONDS = 5.0  # the clip: the preset's frame count nearest 5 s
HD_STAGES = ("draft", "hd", "one-shot")
# issue 18's goals for the project path on one H100-class GPU: a 5-s 768x512 draft, and its HD version
HD_GOALS: dict[str, float] = {"draft": 6.0, "hd": 20.0}
HD_GOAL_DRAFT_SIZE = (768, 512)


@dataclass
class HDRow:
    preset: str
    path: str  # "stock" or "project"
    stage: str  # "draft", "hd" or "one-shot"
    width: int  # of the frames that came back (the plan's when the stage failed)
    height: int
    frames: int
    steps: int  # denoising steps (hd: the refine's, after the upsample)
    seconds: float = math.nan  # the timed call, warm
    warmup_s: float | None = None  # the first call (compilation included), with --warmup-steps steps
    warmup_steps: int = 0
    peak_gib: float | None = None  # torch.cuda.max_memory_allocated over the timed call; None on a CPU
    finite: bool | None = None  # the decoded frames, the sound and the upsampled latents hold no NaN or inf
    max_diff: float | None = None  # max |frame difference| against stock's same stage (frames in [0, 1])
    note: str = ""
    error: str = ""


@dataclass
class HDReport:
    card: str
    device: str
    small: bool
    rows: list[HDRow]
    clips: dict[str, str]  # per preset: what the three stages render, in words
    seconds: float


@dataclass
class _StageOut:
    frames: np.ndarray  # uint8 (n, h, w, 3)
    latents: DraftLatents | None = None  # a draft's, for its HD stage
    finite: bool = True  # what the stage returned besides the watched modules' outputs (a draft's latents)


class _FiniteWatch:
    """Forward hooks on the modules whose outputs make a clip (the VAE's decoder, the vocoder, the latent
    upsampler): whether every output since :meth:`reset` was finite, whatever path called them. The frames
    the worker returns are rounded to 8 bits, where NaN no longer shows."""

    def __init__(self, modules: list[torch.nn.Module]) -> None:
        self.seen = 0
        self.finite = True
        self._handles = [m.register_forward_hook(self._check) for m in modules]

    def _check(self, _module: torch.nn.Module, _inputs: Any, output: Any) -> None:
        tensors = output if isinstance(output, tuple | list) else (output,)
        for tensor in tensors:
            if isinstance(tensor, torch.Tensor) and tensor.is_floating_point():
                self.seen += 1  # checked in its own dtype: no float32 copy of a decoded clip on the GPU
                self.finite = self.finite and bool(torch.isfinite(tensor).all())

    def reset(self) -> None:
        self.seen, self.finite = 0, True

    def result(self) -> bool | None:
        return self.finite if self.seen else None

    def close(self) -> None:
        for handle in self._handles:
            handle.remove()


def _thinned(kwargs: Mapping[str, Any], steps: int) -> dict[str, Any]:
    """``kwargs`` for ``steps`` steps: a distilled schedule's evenly spaced sigmas, as generator/render.py."""
    sigmas = kwargs.get("sigmas")
    if sigmas is None or not 0 < steps < len(sigmas):
        return {**kwargs, "num_inference_steps": steps}
    picked = [sigmas[i] for i in np.linspace(0, len(sigmas) - 1, steps).round().astype(int)]
    return {**kwargs, "sigmas": picked, "num_inference_steps": steps}


def _run_timed(device: torch.device, call: Callable[[], _StageOut]) -> tuple[float, _StageOut]:
    sync(device)
    started = time.perf_counter()
    out = call()
    sync(device)
    return time.perf_counter() - started, out


StageCall = Callable[[int, "_StageOut | None"], _StageOut]  # (steps, the draft's output) -> the stage's


def _time_stages(
    name: str,
    path: str,
    calls: Mapping[str, StageCall],
    planned: Mapping[str, tuple[int, int, int, int]],
    device: torch.device,
    watch: _FiniteWatch,
    *,
    warmup_steps: int,
    note: str,
    small: bool,
    log: Callable[[str], None],
) -> tuple[list[HDRow], dict[str, _StageOut]]:
    """The three stages of one path: a warm-up call of each (compilation for each shape: a worker serves
    drafts and HD versions with the same compiled blocks), then each timed; the HD stage upsamples the
    draft made just before it. ``planned``: (width, height, frames, steps) by stage. A stage that fails
    is a row with its error (with ``small``, the error is raised)."""
    errors: dict[str, str] = {}
    first: dict[str, float] = {}
    warm_steps = {stage: min(warmup_steps, planned[stage][3]) for stage in HD_STAGES}
    warm_steps["hd"] = planned["hd"][3]  # the refine's steps are the preset's

    def attempt(stage: str, steps: int, draft: _StageOut | None) -> tuple[float, _StageOut] | None:
        if stage == "hd" and draft is None:
            errors.setdefault(stage, "no draft to upsample")
            return None
        try:
            return _run_timed(device, lambda: calls[stage](steps, draft))
        except Exception as exc:  # one stage's failure is its row; the others still run
            if small:
                raise
            errors.setdefault(stage, _failure(exc))
            log(f"{name}/{path}/{stage}: FAILED: {errors[stage]}")
        free_memory(device)  # what a failed call left (an out-of-memory one)
        return None

    draft: _StageOut | None = None
    for stage in HD_STAGES:
        done = attempt(stage, warm_steps[stage], draft)
        if done is not None:
            first[stage] = done[0]
            draft = done[1] if stage == "draft" else draft
    draft = None
    rows: list[HDRow] = []
    outputs: dict[str, _StageOut] = {}
    for stage in HD_STAGES:
        width, height, frames, steps = planned[stage]
        row = HDRow(name, path, stage, width, height, frames, steps, note=note)
        row.warmup_s, row.warmup_steps = first.get(stage), warm_steps[stage]
        if stage not in errors:
            free_memory(device)
            reset_peak(device)
            watch.reset()
            done = attempt(stage, steps, draft)
            if done is not None:
                row.seconds, out = done
                row.frames, row.height, row.width = (int(n) for n in out.frames.shape[:3])
                row.finite = bool(out.finite and watch.result() is not False)
                row.peak_gib = peak_gib(device)
                outputs[stage] = out
                draft = out if stage == "draft" else draft
                size = f"{row.width}×{row.height}, {row.frames} frames"
                log(f"{name}/{path}/{stage}: {size} in {row.seconds:.3g} s")
        row.error = errors.get(stage, "")
        rows.append(row)
    return rows, outputs


def _uint8_diff(a: np.ndarray, b: np.ndarray) -> float | None:
    if a.shape != b.shape:
        return None
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).max()) / 255.0


def bench_hd_preset(
    name: str,
    device: torch.device,
    *,
    small: bool = False,
    warmup_steps: int = 2,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> tuple[list[HDRow], str]:
    """Preset ``name``'s 5-s clip three ways, on one built pipeline: ``draft`` at the draft size through
    ``generator.render.render`` (its latents kept), ``hd``: ``generator.hd.upscale`` of those latents
    (the latent upsampler, then the refine steps) to the preset's size, and ``one-shot``: the clip
    rendered at the preset's size directly with the draft's sigmas. Each stage stock (diffusers called as
    the model card shows, before any speed-up) and then the project's (the preset's speed-ups, the
    worker's cache and code). The rows and the clip in words."""
    from diffusers.pipelines.ltx2 import LTX2LatentUpsamplePipeline, LTX2LatentUpsamplerModel

    preset = next(p for p in BUILTIN_PRESETS if p.name == name)
    arch = (SMALL if small else FULL)[name]
    if not preset.has_hd or not arch.upsampler:
        raise ValueError(f"{name} has no HD stage here (an upsampler in the preset and its config)")
    dtype = getattr(torch, preset.dtype) if device.type == "cuda" else torch.float32
    vae_name = preset.load_options.get("vae_dtype")
    vae_dtype = getattr(torch, str(vae_name)) if vae_name and dtype != torch.float32 else dtype
    serving = smoke_preset_for(preset, arch, small)
    one_shot = replace(serving, upsampler="", refine_kwargs={})  # the same model, no HD stage: full size
    seconds = arch.clip["frames"] / serving.fps if small else HD_SECONDS
    steps = arch.clip["steps"] if small else serving.default_steps
    spec = JobSpec(PROMPT, negative_prompt=NEGATIVE, model=name, seconds=seconds, steps=steps, seed=seed)
    draft_plan = resolve_spec(spec, PresetCatalog([serving], default=name))
    hd_plan = resolve_spec(replace(spec, upscales=CLI_DRAFT_ID), PresetCatalog([serving], default=name))
    one_plan = resolve_spec(spec, PresetCatalog([one_shot], default=name))
    plans = {"draft": draft_plan, "hd": hd_plan, "one-shot": one_plan}
    planned = {s: (p.width, p.height, p.num_frames, p.spec.steps or 0) for s, p in plans.items()}
    clip = (
        f"{draft_plan.num_frames} frames ({draft_plan.num_frames / draft_plan.fps:.2f} s at {draft_plan.fps} "
        f"fps); draft {draft_plan.width}×{draft_plan.height} in {planned['draft'][3]} steps, HD "
        f"{hd_plan.width}×{hd_plan.height} by the 2x latent upsampler and {planned['hd'][3]} refine steps, "
        f"one-shot {one_plan.width}×{one_plan.height} in {planned['one-shot'][3]} steps"
    )

    free_memory(device)
    reset_peak(device)
    started = time.perf_counter()
    pipe, offload = place_pipeline(serving, arch, device, dtype, vae_dtype, log)
    # the loader leaves the upsampler on the device but with model offload (generator/loader.py _derive)
    upsampler: Any = materialize(
        _component(LTX2LatentUpsamplerModel, arch.upsampler),
        torch.device("cpu") if offload == "model" else device,
        dtype,
    )
    sync(device)
    clip += f"; {offload} offload, built in {time.perf_counter() - started:.0f} s"
    log(f"{name}: {clip}")
    watched = (pipe.vae.decoder, getattr(pipe, "vocoder", None), upsampler)
    watch = _FiniteWatch([m for m in watched if m is not None])

    # stock: diffusers as the model card shows it (docs/notes/ltx-draft-hd.md §1), before any speed-up
    stock_upsample = LTX2LatentUpsamplePipeline(vae=pipe.vae, latent_upsampler=upsampler)
    stock_upsample.set_progress_bar_config(disable=True)
    hooked: list[Any] = [pipe]

    def use(target: Any) -> Any:
        if offload == "model" and hooked[0] is not target:  # the shared components follow the caller
            target.enable_model_cpu_offload(device=device)
            hooked[0] = target
        return target

    def stock_kwargs(stage: str, steps: int) -> dict[str, Any]:
        plan = plans[stage]
        size = Clip(plan.width, plan.height, plan.num_frames, steps, plan.spec.guidance or 1.0, plan.fps)
        kwargs = _call_kwargs(pipe, serving, arch, size)
        if stage == "hd":
            kwargs.update(serving.refine_kwargs)
        return _thinned(kwargs, steps)

    @torch.inference_mode()
    def stock_draft(steps: int, _draft: _StageOut | None) -> _StageOut:
        generator = torch.Generator(device="cpu").manual_seed(seed)
        kwargs = {**stock_kwargs("draft", steps), "output_type": "latent"}
        output = use(pipe)(**kwargs, generator=generator)
        audio = output.audio if isinstance(output.audio, torch.Tensor) else None
        decoded = decode_latents(pipe, output.frames, audio)  # the pipeline's own decode of its latents
        latents = DraftLatents(output.frames, audio)
        return _StageOut(to_uint8(np.asarray(decoded.frames)), latents, _finite(output.frames))

    @torch.inference_mode()
    def stock_hd(steps: int, draft: _StageOut | None) -> _StageOut:
        assert draft is not None and draft.latents is not None
        upsampled = use(stock_upsample)(
            latents=draft.latents.video, latents_normalized=False, output_type="latent", return_dict=False
        )[0]
        generator = torch.Generator(device="cpu").manual_seed(seed)
        kwargs = stock_kwargs("hd", steps)
        if draft.latents.audio is not None:
            kwargs["audio_latents"] = draft.latents.audio
        output = use(pipe)(**kwargs, latents=upsampled, generator=generator)
        return _StageOut(to_uint8(np.asarray(output.frames)))

    @torch.inference_mode()
    def stock_one_shot(steps: int, _draft: _StageOut | None) -> _StageOut:
        generator = torch.Generator(device="cpu").manual_seed(seed)
        output = use(pipe)(**stock_kwargs("one-shot", steps), generator=generator)
        return _StageOut(to_uint8(np.asarray(output.frames)))

    # the project's: the worker's warm cache holding this pipeline and upsampler, its render and upscale
    cache: Any = BuiltPipelineCache(device, lambda _preset: (pipe, offload), lambda _preset: upsampler)

    def steps_of(plan: RenderPlan, steps: int) -> RenderPlan:
        return replace(plan, spec=replace(plan.spec, steps=steps))

    def project_draft(steps: int, _draft: _StageOut | None) -> _StageOut:
        out = render(steps_of(draft_plan, steps), cache=cache)
        latents = out.latents
        finite = latents is not None and _finite(latents.video)
        return _StageOut(out.frames, latents, finite)

    def project_hd(_steps: int, draft: _StageOut | None) -> _StageOut:
        assert draft is not None
        return _StageOut(upscale(hd_plan, fps=draft_plan.fps, latents=draft.latents, cache=cache).frames)

    def project_one_shot(steps: int, _draft: _StageOut | None) -> _StageOut:
        return _StageOut(render(steps_of(one_plan, steps), cache=cache).frames)

    rows: list[HDRow] = []
    registry = diffusers.models.attention_dispatch._AttentionBackendRegistry
    default_backend = registry._active_backend
    try:
        stock_calls = {"draft": stock_draft, "hd": stock_hd, "one-shot": stock_one_shot}
        stock_rows, stock_out = _time_stages(
            name,
            "stock",
            stock_calls,
            planned,
            device,
            watch,
            warmup_steps=warmup_steps,
            note="diffusers as the model card calls it",
            small=small,
            log=log,
        )
        rows += stock_rows
        use(pipe)
        applied = apply_speedups(pipe, speedup_options(serving, device, offload), device, allow_cpu=True)
        note = ", ".join(applied) or "no speed-ups applied"
        project_calls = {"draft": project_draft, "hd": project_hd, "one-shot": project_one_shot}
        project_rows, project_out = _time_stages(
            name,
            "project",
            project_calls,
            planned,
            device,
            watch,
            warmup_steps=warmup_steps,
            note=note,
            small=small,
            log=log,
        )
        for row in project_rows:
            mine, theirs = project_out.get(row.stage), stock_out.get(row.stage)
            if mine is not None and theirs is not None:
                row.max_diff = _uint8_diff(mine.frames, theirs.frames)
        rows += project_rows
    finally:
        registry.set_active_backend(default_backend)
        watch.close()
        torch._dynamo.reset()  # drop the compiled blocks with the pipeline
        pipe = upsampler = stock_upsample = cache = None  # the closures hold these: dropped before freeing
        free_memory(device)
    return rows, clip


def run_hd(
    presets: list[str] | None = None,
    *,
    small: bool = False,
    device: torch.device | None = None,
    warmup_steps: int = 2,
    log: Callable[[str], None] = print,
) -> HDReport:
    """:func:`bench_hd_preset` for each preset (default :data:`HD_PRESETS`), in one run."""
    if device is None:
        device = torch.device("cuda" if torch.cuda.is_available() and not small else "cpu")
    started = time.perf_counter()
    report = HDReport(card_name(device), device.type, small, [], {}, 0.0)
    for name in presets or HD_PRESETS:
        rows, clip = bench_hd_preset(name, device, small=small, warmup_steps=warmup_steps, log=log)
        report.rows += rows
        report.clips[name] = clip
    report.seconds = time.perf_counter() - started
    return report


def hd_goals(report: HDReport) -> str:
    """Whether the project path meets issue 18's goals on this device, in one line."""
    goal = (
        f"a 5-s {HD_GOAL_DRAFT_SIZE[0]}×{HD_GOAL_DRAFT_SIZE[1]} draft in under {HD_GOALS['draft']:g} s and "
        f"its HD version in under {HD_GOALS['hd']:g} s on one H100-class GPU"
    )
    if report.small or report.device != "cuda":
        why = "scaled-down models (--small)" if report.small else "no CUDA GPU"
        return f"Goals ({goal}): not judged here: {why} on {report.card}."
    parts: list[str] = []
    met = True
    for name in report.clips:
        for stage, limit in HD_GOALS.items():
            row = next(
                (r for r in report.rows if (r.preset, r.path, r.stage) == (name, "project", stage)), None
            )
            if row is None or row.error or not math.isfinite(row.seconds):
                met = False
                parts.append(f"{name} {stage}: no figure")
                continue
            size = (row.width, row.height) if stage == "draft" else None
            ok = row.seconds < limit and (size is None or size == HD_GOAL_DRAFT_SIZE)
            met = met and ok
            what = f"{row.width}×{row.height} {stage}"
            parts.append(f"{name} {what} {row.seconds:.1f} s (< {limit:g} s): {'met' if ok else 'NOT met'}")
    verdict = "met" if met and parts else "NOT met"
    return f"Goals ({goal}) on {report.card}, project path: {verdict}. " + "; ".join(parts) + "."


def hd_table(report: HDReport) -> str:
    lines = [
        f"Draft, HD and one-shot HD (`python -m bench.gpu --hd`): {report.card}; torch {torch.__version__}, "
        f"diffusers {diffusers.__version__}; {report.seconds:.0f} s in all.",
        "",
        *(f"- {name}: {clip}" for name, clip in report.clips.items()),
        "",
        "| preset | path | stage | size | frames | steps | s | warm-up s | peak GiB | output "
        "| max Δ vs stock | notes |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report.rows:
        if r.peak_gib is not None:
            peak = f"{r.peak_gib:.1f}"
        else:
            peak = "n/a on cpu" if report.device != "cuda" else "–"
        output = "–" if r.finite is None else ("finite" if r.finite else "NaN or inf")
        warm = "–" if r.warmup_s is None else f"{r.warmup_s:.3g} ({r.warmup_steps} steps)"
        steps = f"upsample + {r.steps}" if r.stage == "hd" else str(r.steps)
        note = f"FAILED: {r.error}" if r.error else r.note
        cells = [
            r.preset,
            r.path,
            r.stage,
            f"{r.width}×{r.height}",
            str(r.frames),
            steps,
            f"{r.seconds:.3g}",
            warm,
            peak,
            output,
            _fmt(r.max_diff, ".2g"),
            note.replace("|", "\\|"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        hd_goals(report),
        "",
        "Random weights (normal init): speeds are real, pictures are not. One built pipeline per preset and "
        "its latent upsampler (the real config, random weights), each path warmed up on all three stages "
        "(compilation for each shape) before the timed calls. s = the warm call, start to frames (for the "
        "project: `render`/`upscale` as the worker calls them, text encoding and VAE decode included); hd = "
        "the draft's latents upsampled 2x and refined (with its sound); one-shot = the clip at the HD size "
        "from noise in the draft's steps. Stock: the pipeline called as the model card shows, no speed-up. "
        "Output: the decoded frames, sound and upsampled latents before rounding to 8 bits.",
    ]
    return "\n".join(lines)


def write_hd(report: HDReport, path: Path = RESULTS) -> None:
    append_results(f"{report.card} · HD", hd_table(report), path)


def _fmt(value: float | None, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def markdown_table(report: Report) -> str:
    lines = [
        f"Card: {report.card}; measured dense matmul rate {report.matmul_tflops:.1f} TFLOP/s "
        f"({report.matmul_dtype}). torch {torch.__version__}, diffusers {diffusers.__version__}.",
        "",
    ]
    for name, clip in report.clips.items():
        f = report.flops[name]
        ran = report.steps_run[name]
        extrapolated = (
            "" if ran == clip.steps else f" (timed {ran} steps; s/clip extrapolated to {clip.steps})"
        )
        audio_video = f", audio-video attention {f.av_attention / 1e12:.3g}" if f.av_attention else ""
        per_step = report.step_flops.get(name, 2 * f.total)
        passes = report.passes.get(name, "CFG x2")
        lines.append(
            f"- {name}: {clip.width}×{clip.height}, {clip.frames} frames, {clip.steps} steps, guidance "
            f"{clip.guidance:g}{extrapolated}; transformer {f.total / 1e12:.3g} TFLOP per forward per sample "
            f"(linear {f.linear / 1e12:.3g}, self-attention {f.self_attention / 1e12:.3g}, cross-attention "
            f"{f.cross_attention / 1e12:.3g}{audio_video}, io {f.io / 1e12:.3g}); "
            f"{per_step / 1e12:.3g} TFLOP per step ({passes})"
        )
    lines += [
        "",
        "| preset | path | s/clip | s/step | first call s | compile s | prepare s | decode s | transformer "
        "TFLOP/s | % of matmul | peak GiB | max Δ vs stock | notes |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report.rows:
        mark = " (est.)" if r.estimated else ""
        percent = None if r.matmul_fraction is None else 100 * r.matmul_fraction
        cells = [
            r.preset,
            r.path,
            f"{r.clip_s:.3g}{mark}",
            f"{r.step_s:.3g}{mark}",
            _fmt(r.first_call_s, ".3g"),
            _fmt(r.compile_s, ".3g"),
            _fmt(r.prepare_s, ".3g"),
            _fmt(r.decode_s, ".3g"),
            _fmt(r.tflops, ".3g"),
            _fmt(percent, ".3g"),
            _fmt(r.peak_gib, ".1f"),
            _fmt(r.max_diff, ".2g"),
            r.note,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Random weights (normal init): speeds are real, pictures are not. First call = a "
        "short warm-up call (compile, autotuning, lazy init); compile s = first call minus the same call in "
        "steady state. Cache rows are ESTIMATES at a fixed fraction of computed steps from the measured step "
        "time, not runs: with random weights their skip decisions mean nothing.",
    ]
    return "\n".join(lines)


def write_results(report: Report, path: Path = RESULTS) -> None:
    append_results(report.card, markdown_table(report), path)


@contextmanager
def _quiet_libraries() -> Iterator[None]:
    diffusers.utils.logging.disable_progress_bar()
    level = diffusers.utils.logging.get_verbosity()
    diffusers.utils.logging.set_verbosity_error()
    try:
        yield
    finally:
        diffusers.utils.logging.set_verbosity(level)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--presets",
        nargs="+",
        default=None,
        choices=list(FULL),
        help=f"default: {' '.join(SPEED_PRESETS)}; with --hd: {' '.join(HD_PRESETS)}",
    )
    parser.add_argument("--steps", type=int, default=None, help="timed steps (default: the preset's)")
    parser.add_argument("--warmup-steps", type=int, default=2, help="steps of the first (compiling) call")
    parser.add_argument("--small", action="store_true", help="scaled-down configs on the CPU, in seconds")
    parser.add_argument("--device", default=None, help="default: cuda if available (cpu with --small)")
    parser.add_argument("--no-fp8", action="store_true", help="skip the FP8 row even if torchao is installed")
    parser.add_argument("--cache-fraction", type=float, default=0.5, help="computed steps for cache rows")
    parser.add_argument("--write-results", action="store_true", help="append the table to --results")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="one short clip per family through the worker's path, speed-ups on: finite output, peak memory "
        "within the preset's gpu_memory_gb; appends its table to --results (with --small only if given)",
    )
    parser.add_argument(
        "--hd",
        action="store_true",
        help="seconds per 5-s clip for the draft, its HD version and the one-shot HD clip of each LTX preset "
        "with an upsampler, stock against the project's path; --write-results appends the table",
    )
    parser.add_argument(
        "--styles",
        action="store_true",
        help="seconds per clip with and without a style (LoRA) on the compiled default preset, and whether "
        "a switch recompiles (issue 20); a short clip: the preset's shortest at its default size, 8 steps; "
        "--write-results appends the table",
    )
    parser.add_argument(
        "--frames", type=int, default=None, help="--styles: frames a clip (default: the shortest)"
    )
    parser.add_argument(
        "--style-slots",
        type=int,
        default=SLOTS,
        help="--styles: LoRAs the cache keeps loaded (a worker's 4; compiled, it keeps one per style in use)",
    )
    parser.add_argument("--results", type=Path, default=None, help=f"the results file (default {RESULTS})")
    parser.add_argument(
        "--budget-s", type=float, default=SMOKE_BUDGET_S, help="--smoke: start no family after"
    )
    args = parser.parse_args(argv)
    if args.steps is not None and args.steps < 2:
        parser.error("--steps must be at least 2 (a step time needs two step ends)")
    results = args.results or RESULTS
    if args.styles:
        from bench import gpu_styles

        archs = SMALL if args.small else FULL
        presets = args.presets or [DEFAULT_MODEL]
        if len(presets) != 1 or presets[0] not in archs:
            parser.error(f"--styles times one preset (one of: {', '.join(archs)})")
        device = torch.device(args.device) if args.device else None
        on_gpu = device.type == "cuda" if device is not None else torch.cuda.is_available()
        if not args.small and not on_gpu:
            parser.error("--styles builds the full-size model: it needs a CUDA GPU (or --small)")
        if args.style_slots < 1:
            parser.error("--style-slots must be at least 1")
        with _quiet_libraries():
            styles = gpu_styles.run_styles(
                presets[0],
                small=args.small,
                device=device,
                steps=args.steps,
                frames=args.frames,
                slots=args.style_slots,
                warmup_steps=args.warmup_steps,
                log=functools.partial(print, flush=True),
            )
        print()
        print(gpu_styles.styles_table(styles))
        if args.write_results:
            gpu_styles.write_styles(styles, results)
            print(f"\nappended to {results}")
        if gpu_styles.failed(styles):
            raise SystemExit(1)
        return
    if args.hd:
        presets = args.presets or HD_PRESETS
        archs = SMALL if args.small else FULL
        for name in presets:
            preset = next(p for p in BUILTIN_PRESETS if p.name == name)
            if not preset.has_hd or name not in archs or not archs[name].upsampler:
                able = [n for n in HD_PRESETS if n in archs]
                parser.error(f"--hd: {name} has no HD stage to time here (one of: {', '.join(able)})")
        device = torch.device(args.device) if args.device else None
        on_gpu = device.type == "cuda" if device is not None else torch.cuda.is_available()
        if not args.small and not on_gpu:
            parser.error("--hd builds the full-size models: it needs a CUDA GPU (or --small)")
        with _quiet_libraries():
            hd = run_hd(
                presets,
                small=args.small,
                device=device,
                warmup_steps=args.warmup_steps,
                log=functools.partial(print, flush=True),  # each stage's figure, even if the run is cut off
            )
        print()
        print(hd_table(hd))
        if args.write_results:
            write_hd(hd, results)
            print(f"\nappended to {results}")
        if any(row.error for row in hd.rows):
            raise SystemExit(1)
        return
    if args.smoke:
        with _quiet_libraries():
            smoke = run_smoke(
                small=args.small,
                device=torch.device(args.device) if args.device else None,
                budget_s=args.budget_s,
            )
        print()
        print(smoke_table(smoke))
        if not args.small or args.results is not None:
            write_smoke(smoke, results)
            print(f"\nappended to {results}")
        if not all(row.ok for row in smoke.rows):
            raise SystemExit(1)
        return
    with _quiet_libraries():
        report = run(
            args.presets or SPEED_PRESETS,
            small=args.small,
            device=torch.device(args.device) if args.device else None,
            steps=args.steps,
            warmup_steps=args.warmup_steps,
            fp8=not args.no_fp8,
            cache_fraction=args.cache_fraction,
        )
    print()
    print(markdown_table(report))
    if args.write_results:
        write_results(report, results)
        print(f"\nappended to {results}")


if __name__ == "__main__":
    main()
