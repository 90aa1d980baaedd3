"""Tiny random-weight versions of the real diffusers pipelines, for offline tests.

Each is the real pipeline class with every component shrunk (one transformer layer, a small VAE with
the production compression ratios, a tiny T5/UMT5/Gemma 3 and a tokenizer trained here with
``tokenizers``), saved with ``save_pretrained`` so it loads through the same ``from_pretrained`` path as
a hub id. A ``videobot.json`` beside the weights names the preset the folder runs as (``base``) and gives
it small sizes so a clip takes well under a second on a CPU.

LTX-2 comes with its audio VAE, vocoder and text connectors; Wan 2.2 TI2V with ``expand_timesteps`` and
the Wan 2.2 VAE layout (48 latent channels, 16x spatial), so ``WanImageToVideoPipeline.from_pipe`` takes
a picture as it does for the 5B model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from diffusers import (
    AutoencoderKLLTX2Audio,
    AutoencoderKLLTX2Video,
    AutoencoderKLLTXVideo,
    AutoencoderKLWan,
    FlowMatchEulerDiscreteScheduler,
    LTX2Pipeline,
    LTX2VideoTransformer3DModel,
    LTXPipeline,
    LTXVideoTransformer3DModel,
    UniPCMultistepScheduler,
    WanPipeline,
    WanTransformer3DModel,
)
from diffusers.pipelines.ltx2 import LTX2TextConnectors
from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
from transformers import (
    Gemma3Config,
    Gemma3ForConditionalGeneration,
    GemmaTokenizer,
    T5Config,
    T5EncoderModel,
    T5Tokenizer,
    UMT5Config,
    UMT5EncoderModel,
)

TEXT_DIM = 32
VOCAB_SIZE = 200

_CORPUS = [
    "a cat walking on a beach at sunset",
    "eine Katze läuft bei Sonnenuntergang am Strand",
    "a red car driving through a neon city at night, rain, reflections",
    "slow motion waves crashing on rocks, cinematic lighting",
    "ein Hund spielt im Schnee, Zeitlupe",
    "a dragon flying over mountains, clouds, epic wide shot",
    "timelapse of flowers blooming in a garden",
    "astronaut riding a horse on the moon, photorealistic",
    "blurry, low quality, distorted, watermark, text",
    "0 1 2 3 4 5 6 7 8 9 ! ? . , : ; - _ @ # everyone here",
]


def train_tokenizer() -> T5Tokenizer:
    """A Unigram tokenizer trained on a small corpus, in T5's layout (<pad>=0, </s>=1, <unk>=2)."""
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=VOCAB_SIZE, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>"
    )
    tok.train_from_iterator(_CORPUS * 20, trainer=trainer)
    vocab = [(piece, score) for piece, score in json.loads(tok.to_str())["model"]["vocab"]]
    return T5Tokenizer(vocab=vocab, extra_ids=0)


def train_gemma_tokenizer() -> GemmaTokenizer:
    """A BPE tokenizer trained on the same corpus, in Gemma's layout (<pad>=0, <eos>=1, <bos>=2)."""
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE, special_tokens=["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"]
    )
    tok.train_from_iterator(_CORPUS * 20, trainer=trainer)
    model = json.loads(tok.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    return GemmaTokenizer(vocab=model["vocab"], merges=merges)


def _text_config(vocab: int) -> dict[str, Any]:
    return {
        "vocab_size": vocab,
        "d_model": TEXT_DIM,
        "d_kv": 8,
        "d_ff": 37,
        "num_layers": 1,
        "num_heads": 4,
        "relative_attention_num_buckets": 8,
        "decoder_start_token_id": 0,
        "pad_token_id": 0,
        "eos_token_id": 1,
    }


def _write_preset(folder: Path, overrides: dict[str, Any]) -> None:
    # a tiny pipeline renders in well under a second on a CPU: a CPU worker serves it
    (folder / "videobot.json").write_text(json.dumps({**overrides, "cpu": True}, indent=2))


# diffusers' names for the LTX transformer's weights and the original checkpoints' names
# (diffusers.loaders.single_file_utils.convert_ltx_transformer_checkpoint_to_diffusers, read backwards)
_LTX_ORIGINAL_NAMES = {
    "proj_in": "patchify_proj",
    "time_embed": "adaln_single",
    "norm_q": "q_norm",
    "norm_k": "k_norm",
}


def save_ltx_single_file(transformer: LTXVideoTransformer3DModel, path: Path) -> Path:
    """``transformer`` as Lightricks publish LTX-Video checkpoints: one safetensors file with the
    original layout (``model.diffusion_model.…``), which diffusers reads with ``from_single_file``."""
    from safetensors.torch import save_file

    state = {}
    for key, tensor in transformer.state_dict().items():
        for ours, theirs in _LTX_ORIGINAL_NAMES.items():
            key = key.replace(ours, theirs)
        state[f"model.diffusion_model.{key}"] = tensor.detach().clone().contiguous()
    save_file(state, str(path))
    return path


def tiny_ltx_transformer(seed: int) -> LTXVideoTransformer3DModel:
    """The tiny LTX transformer of :func:`build_tiny_ltx`, with the weights of ``seed``."""
    torch.manual_seed(seed)
    return _ltx_transformer()


def _ltx_transformer() -> LTXVideoTransformer3DModel:
    return LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=2,
        attention_head_dim=8,
        cross_attention_dim=16,
        num_layers=1,
        caption_channels=TEXT_DIM,
    )


def build_tiny_ltx(folder: Path, seed: int = 0, *, decoder_noise: bool = False) -> Path:
    """``decoder_noise``: the VAE's decoder adds noise in its blocks, as LTX-Video 0.9.1 and later do
    (drawn from torch's global generator, not the pipeline's)."""
    torch.manual_seed(seed)
    tokenizer = train_tokenizer()
    text_encoder = T5EncoderModel(T5Config(**_text_config(len(tokenizer))))
    transformer = _ltx_transformer()
    # patch 4 and three space-time downsamplings: 32x spatial, 8x temporal, as LTX-Video 2B
    vae = AutoencoderKLLTXVideo(
        in_channels=3,
        out_channels=3,
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, True, False),
        decoder_spatio_temporal_scaling=(True, True, True, False),
        decoder_inject_noise=(decoder_noise,) * 5,
        upsample_residual=(False, False, False, False),
        upsample_factor=(1, 1, 1, 1),
        timestep_conditioning=False,
        patch_size=4,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )
    with torch.no_grad():
        for name, weight in vae.named_parameters():
            if "per_channel_scale" in name:  # zeros when made: the noise would add nothing
                weight.fill_(0.5)
    pipe = LTXPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
    )
    pipe.save_pretrained(folder)
    _write_preset(
        folder,
        {
            "base": "ltx-video",
            "title": "Tiny LTX",
            "sizes": {"3:2": [96, 64], "16:9": [128, 64], "9:16": [64, 128], "1:1": [64, 64]},
            "default_steps": 2,
            "max_steps": 8,
            "default_frames": 25,
            "call_kwargs": {"max_sequence_length": 16},
            "dtype": "float32",
        },
    )
    return folder


def _tiny_wan_transformer(latent_channels: int) -> WanTransformer3DModel:
    """One layer of the Wan transformer, for a VAE with ``latent_channels`` (16 in Wan 2.1, 48 in 2.2)."""
    return WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=latent_channels,
        out_channels=latent_channels,
        text_dim=TEXT_DIM,
        freq_dim=32,
        ffn_dim=32,
        num_layers=1,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
    )


def build_tiny_wan(folder: Path, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    tokenizer = train_tokenizer()
    text_encoder = UMT5EncoderModel(UMT5Config(**_text_config(len(tokenizer))))
    transformer = _tiny_wan_transformer(latent_channels=16)
    # 8x spatial, 4x temporal, as Wan 2.1
    vae = AutoencoderKLWan(
        base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]
    )
    pipe = WanPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        transformer=transformer,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0),
    )
    pipe.save_pretrained(folder)
    _write_preset(
        folder,
        {
            "base": "wan-1.3b",
            "title": "Tiny Wan",
            "sizes": {"16:9": [64, 32], "9:16": [32, 64], "1:1": [32, 32]},
            "default_steps": 2,
            "max_steps": 8,
            "default_frames": 17,
            "call_kwargs": {"max_sequence_length": 16},
            "dtype": "float32",
            "load_options": {},
        },
    )
    return folder


def build_tiny_ltx2(folder: Path, seed: int = 0) -> Path:
    """LTX-2: a Gemma 3 text encoder (two layers, a one-layer vision tower it never uses), the text
    connectors, the audio-video transformer, the video VAE at 32x spatial and 8x temporal compression,
    the audio VAE and a vocoder. Its sound plays at 400 Hz (100 mel frames a second, upsampled 4x)."""
    torch.manual_seed(seed)
    tokenizer = train_gemma_tokenizer()
    text_config = {
        "vocab_size": len(tokenizer),
        "hidden_size": TEXT_DIM,
        "intermediate_size": 37,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "head_dim": 16,
        "query_pre_attn_scalar": 16,
        "sliding_window": 16,
        "max_position_embeddings": 256,
        "pad_token_id": 0,
        "eos_token_id": 1,
        "bos_token_id": 2,
    }
    vision_config = {
        "hidden_size": 16,
        "intermediate_size": 16,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "image_size": 8,
        "patch_size": 4,
    }
    text_encoder = Gemma3ForConditionalGeneration(
        Gemma3Config(
            text_config=text_config,
            vision_config=vision_config,
            mm_tokens_per_image=4,
            boi_token_index=3,
            eoi_token_index=4,
            image_token_index=4,
        )
    )
    connectors = LTX2TextConnectors(
        caption_channels=TEXT_DIM,
        text_proj_in_factor=text_config["num_hidden_layers"] + 1,
        video_connector_num_attention_heads=4,
        video_connector_attention_head_dim=8,
        video_connector_num_layers=1,
        video_connector_num_learnable_registers=None,
        audio_connector_num_attention_heads=4,
        audio_connector_attention_head_dim=8,
        audio_connector_num_layers=1,
        audio_connector_num_learnable_registers=None,
        connector_rope_base_seq_len=32,
        rope_double_precision=False,
        rope_type="split",
    )
    transformer = LTX2VideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        num_attention_heads=2,
        attention_head_dim=8,
        cross_attention_dim=16,
        audio_in_channels=4,
        audio_out_channels=4,
        audio_num_attention_heads=2,
        audio_attention_head_dim=4,
        audio_cross_attention_dim=8,
        num_layers=1,
        caption_channels=TEXT_DIM,
        rope_double_precision=False,
        rope_type="split",
    )
    # LTX-2's layout: patch 4, then spatial, temporal and two space-time downsamplings
    vae = AutoencoderKLLTX2Video(
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1),
        decoder_inject_noise=(False, False, False, False),
        upsample_residual=(False, False, False),
        upsample_factor=(1, 1, 1),
        decoder_causal=False,
        spatial_compression_ratio=32,
        temporal_compression_ratio=8,
    )
    audio_vae = AutoencoderKLLTX2Audio(
        base_channels=4,
        ch_mult=(1,),
        num_res_blocks=1,
        resolution=32,
        latent_channels=2,
        mel_bins=8,
    )
    mel_frames_per_second = audio_vae.config.sample_rate / audio_vae.config.mel_hop_length
    vocoder = LTX2Vocoder(
        in_channels=audio_vae.config.output_channels * audio_vae.config.mel_bins,
        hidden_channels=16,
        upsample_kernel_sizes=[4, 4],
        upsample_factors=[2, 2],
        resnet_kernel_sizes=[3],
        resnet_dilations=[[1, 3, 5]],
        output_sampling_rate=int(mel_frames_per_second * 4),
    )
    pipe = LTX2Pipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        audio_vae=audio_vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        connectors=connectors,
        transformer=transformer,
        vocoder=vocoder,
    )
    pipe.save_pretrained(folder)
    _write_preset(
        folder,
        {
            "base": "ltx-2",
            "title": "Tiny LTX-2",
            "sizes": {"16:9": [128, 64], "9:16": [64, 128], "1:1": [64, 64], "3:2": [96, 64]},
            "default_steps": 2,
            "max_steps": 8,
            "default_frames": 25,
            # the one transformer block takes the spatio-temporal guidance the 48 of LTX-2 give block 29
            "call_kwargs": {
                "spatio_temporal_guidance_blocks": [0],
                "use_cross_timestep": False,
                "max_sequence_length": 16,
            },
            "dtype": "float32",
        },
    )
    return folder


# LTX-2's distilled recipe (diffusers.pipelines.ltx2.utils): the draft's 8 sigmas, then 3 to refine the 2x
# upsampled latents, every kind of guidance off (a distilled model needs none)
DISTILLED_SIGMAS = [1.0, 0.99375, 0.9875, 0.98125, 0.975, 0.909375, 0.725, 0.421875]
REFINE_SIGMAS = [0.909375, 0.725, 0.421875]
UNGUIDED = {
    "guidance_scale": 1.0,
    "audio_guidance_scale": 1.0,
    "stg_scale": 0.0,
    "audio_stg_scale": 0.0,
    "modality_scale": 1.0,
    "audio_modality_scale": 1.0,
    "guidance_rescale": 0.0,
    "audio_guidance_rescale": 0.0,
}


def build_tiny_ltx2_hd(folder: Path, seed: int = 0) -> Path:
    """The tiny LTX-2 as a two-stage preset: a tiny latent upsampler (LTX-2.3's layout: a convolution and
    a 2x pixel shuffle, no rational resampler) in ``latent_upsampler/``, where LTX repositories keep it,
    distilled sigmas, and sizes that are multiples of 64 (the drafts render at half)."""
    from diffusers.pipelines.ltx2 import LTX2LatentUpsamplerModel

    build_tiny_ltx2(folder, seed)
    torch.manual_seed(seed + 1)
    upsampler = LTX2LatentUpsamplerModel(
        in_channels=8,  # the tiny VAE's latent channels
        mid_channels=32,  # the least its GroupNorm(32, ·) takes
        num_blocks_per_stage=1,
        dims=3,
        spatial_upsample=True,
        temporal_upsample=False,
        rational_spatial_scale=2.0,
        use_rational_resampler=False,
    )
    upsampler.save_pretrained(folder / "latent_upsampler")
    _write_preset(
        folder,
        {
            "base": "ltx-2",
            "title": "Tiny LTX-2 HD",
            "sizes": {"16:9": [256, 128], "9:16": [128, 256], "1:1": [128, 128]},
            "default_steps": 8,
            "max_steps": 8,
            "default_frames": 25,
            "default_guidance": 1.0,
            "call_kwargs": {
                "sigmas": DISTILLED_SIGMAS,
                **UNGUIDED,
                "use_cross_timestep": False,
                "max_sequence_length": 16,
            },
            "upsampler": "latent_upsampler",
            "refine_kwargs": {"sigmas": REFINE_SIGMAS, "noise_scale": REFINE_SIGMAS[0]},
            "dtype": "float32",
        },
    )
    return folder


# the tiny duration head's answer for every prompt: its output layer has no weights, only this bias (log s)
HEAD_SECONDS = 1.5
# a chat template in Gemma's turn format: what the processor renders the enhancer's messages with
_GEMMA_CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<start_of_turn>{{ m['role'] }}\n{{ m['content'] }}<end_of_turn>\n"
    "{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)


def build_tiny_ltx25(folder: Path, seed: int = 0) -> Path:
    """The tiny LTX-2 with LTX-2.5's helpers: a tiny duration head that says :data:`HEAD_SECONDS` for
    any prompt (the pipeline snaps it to 8k + 1 frames), and a ``Gemma3Processor`` (the tiny tokenizer
    with a chat template, a 8x8 image processor), so that ``enhance_prompt`` runs on the Gemma 3 text
    encoder, as LTX-2.0/2.3 enhance (random weights: the enhanced text is gibberish, but text). Loaded
    back through ``from_pretrained``; sizes as the tiny LTX-2's, 9 to 49 frames, 17 by default."""
    import math

    from diffusers.pipelines.ltx2 import LTX2DurationHead
    from transformers import Gemma3ImageProcessorPil, Gemma3Processor

    build_tiny_ltx2(folder, seed)
    pipe = LTX2Pipeline.from_pretrained(folder, use_safetensors=True)
    torch.manual_seed(seed + 2)
    head = LTX2DurationHead(
        video_cross_attention_dim=TEXT_DIM,
        audio_cross_attention_dim=TEXT_DIM,
        pooler_hidden_dim=16,
        num_pooler_heads=2,
        mlp_hidden_dim=16,
    )
    with torch.no_grad():
        head.mlp_out.weight.zero_()
        head.mlp_out.bias.fill_(math.log(HEAD_SECONDS))
    # the text encoder's image tokens (boi 3, image and eoi 4) are the tokenizer's <unk> and <mask>
    tokenizer = GemmaTokenizer.from_pretrained(
        folder,
        subfolder="tokenizer",
        extra_special_tokens={"boi_token": "<unk>", "eoi_token": "<mask>", "image_token": "<mask>"},
    )
    tokenizer.chat_template = _GEMMA_CHAT_TEMPLATE
    processor = Gemma3Processor(
        image_processor=Gemma3ImageProcessorPil(size={"height": 8, "width": 8}),
        tokenizer=tokenizer,
        chat_template=_GEMMA_CHAT_TEMPLATE,
        image_seq_length=4,
    )
    LTX2Pipeline(**{**pipe.components, "duration_head": head, "processor": processor}).save_pretrained(folder)
    preset = json.loads((folder / "videobot.json").read_text())
    preset.update(
        title="Tiny LTX-2.5",
        duration_head=True,
        min_frames=9,
        default_frames=17,
        max_frames=49,
        # the enhancer writes a short text: a few tokens are enough to tell it from the member's
        call_kwargs={**preset["call_kwargs"], "prompt_max_new_tokens": 24},
    )
    _write_preset(folder, preset)
    return folder


def build_tiny_wan22(folder: Path, seed: int = 0) -> Path:
    """Wan 2.2 TI2V: one transformer (no second expert), ``expand_timesteps``, the Wan 2.2 VAE layout
    (patch 2, 48 latent channels, 16x spatial and 4x temporal compression) and UniPC."""
    torch.manual_seed(seed)
    tokenizer = train_tokenizer()
    text_encoder = UMT5EncoderModel(UMT5Config(**_text_config(len(tokenizer))))
    transformer = _tiny_wan_transformer(latent_channels=48)
    vae = AutoencoderKLWan(
        base_dim=3,
        z_dim=48,
        in_channels=12,
        out_channels=12,
        is_residual=True,
        patch_size=2,
        latents_mean=[0.0] * 48,
        latents_std=[1.0] * 48,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        scale_factor_spatial=16,
        scale_factor_temporal=4,
        temperal_downsample=[False, True, True],
    )
    scheduler = UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=5.0
    )
    pipe = WanPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        transformer=transformer,
        vae=vae,
        scheduler=scheduler,
        expand_timesteps=True,
    )
    pipe.save_pretrained(folder)
    _write_preset(
        folder,
        {
            "base": "wan-2.2-5b",
            "title": "Tiny Wan 2.2",
            "sizes": {"16:9": [64, 32], "9:16": [32, 64], "1:1": [32, 32]},
            "default_steps": 2,
            "max_steps": 8,
            "default_frames": 25,
            "call_kwargs": {"max_sequence_length": 16},
            "dtype": "float32",
        },
    )
    return folder


def preset_entry(base: str, folder: Path, **extra: Any) -> dict[str, Any]:
    """A presets-file entry, as an operator writes one, naming a tiny pipeline folder and its sizes."""
    # the folder's videobot.json names its own base: the one asked for here wins
    return {
        **json.loads((folder / "videobot.json").read_text()),
        "base": base,
        "source": str(folder),
        **extra,
    }
