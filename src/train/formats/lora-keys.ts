/**
 * What one tensor name of a LoRA file means: which layout, component and module it belongs to
 * and which part it is (down, up, alpha), or which kind of adapter the studio does not apply
 * (LoHa, LoKr, DoRA, …). Module names are still the file's (kohya's underscored ones included);
 * lora-import.ts maps them onto the model.
 */
import type { LoraImportLayout } from './lora-layout';
import type { LoraComponent } from './lora-modules';

export type LoraPart = 'down' | 'up' | 'alpha';

export interface LoraKey {
  layout: LoraImportLayout;
  /** 'sdxl': a second text encoder or SDXL naming, which SD 1.x/2.x models do not have. */
  component: LoraComponent | 'sdxl';
  /** kohya: the underscored name after `lora_unet_`/`lora_te_`; others: a dotted module path. */
  module: string;
  part: LoraPart | null;
  /** Set when the tensor belongs to an adapter kind the studio does not apply. */
  unsupported?: string;
}

/** kohya / LyCORIS tensor suffixes of kinds the studio does not apply, by what they are. */
const KOHYA_UNSUPPORTED: [RegExp, string][] = [
  [/^hada_/, 'LoHa'],
  [/^lokr_/, 'LoKr'],
  [/^dora_scale$/, 'DoRA'],
  [/^lora_mid\.weight$/, 'LoCon CP-decomposed (lora_mid)'],
  [/^diff(_b)?$/, 'full weight-difference (LyCORIS "full")'],
  [/^[wb]_norm$/, 'norm-layer'],
  [/^(a1|a2|b1|b2)\.weight$/, 'GLoRA'],
];

const KOHYA = /^lora_(unet|te|te1|te2)_([^.]+)\.(.+)$/;
const PEFT = /^(unet|text_encoder|text_encoder_2)\.(.+)\.(lora_A|lora_B)(?:\.default)?\.weight$/;
const PEFT_DORA = /^(unet|text_encoder|text_encoder_2)\.(.+)\.lora_magnitude_vector(?:\.default)?(?:\.weight)?$/;
const PEFT_BIAS = /^(unet|text_encoder|text_encoder_2)\.(.+)\.lora_B(?:\.default)?\.bias$/;
const PEFT_ALPHA = /^(unet|text_encoder|text_encoder_2)\.(.+)\.alpha$/;
/** A PEFT model's own state dict (`get_peft_model_state_dict` of a bare UNet or CLIP). */
const PEFT_BARE = /^base_model\.model\.(.+)\.(lora_A|lora_B)(?:\.default)?\.weight$/;
/** diffusers 0.21–0.24 (LoRACompatibleLinear/Conv; also the studio's training keys). */
const OLD_COMPATIBLE = /^(unet|text_encoder)\.(.+)\.lora(?:_layer)?\.(down|up)\.weight$/;
/** diffusers before 0.21: attention processors (UNet) and text-encoder attn procs. */
const OLD_PROCESSOR = /^(?:(unet|text_encoder)\.)?(.+?)(\.processor)?\.(to_q|to_k|to_v|to_out)_lora\.(down|up)\.weight$/;
const OLD_LINEAR_LAYER = /^(unet|text_encoder)\.(.+)\.lora_linear_layer\.(down|up)\.weight$/;

const UNET_PROC: Record<string, string> = { to_q: 'to_q', to_k: 'to_k', to_v: 'to_v', to_out: 'to_out.0' };
const TEXT_PROC: Record<string, string> = { to_q: 'q_proj', to_k: 'k_proj', to_v: 'v_proj', to_out: 'out_proj' };

function component(name: string): LoraComponent | 'sdxl' {
  return name === 'unet' ? 'unet' : name === 'text_encoder' ? 'text_encoder' : 'sdxl';
}

/** The text encoder's module path as the studio's weights name it (without `text_model.`). */
function textPath(path: string): string {
  return path.startsWith('text_model.') ? path.slice('text_model.'.length) : path;
}

function dotted(c: LoraComponent | 'sdxl', path: string): string {
  return c === 'text_encoder' ? textPath(path) : path;
}

export function classifyLoraKey(key: string): LoraKey | null {
  let m = KOHYA.exec(key);
  if (m) {
    const c: LoraComponent | 'sdxl' = m[1] === 'unet' ? 'unet' : m[1] === 'te' ? 'text_encoder' : 'sdxl';
    const suffix = m[3];
    const part: LoraPart | null = suffix === 'lora_down.weight' ? 'down' : suffix === 'lora_up.weight' ? 'up' : suffix === 'alpha' ? 'alpha' : null;
    if (part) return { layout: 'kohya', component: c, module: m[2], part };
    const kind = KOHYA_UNSUPPORTED.find(([re]) => re.test(suffix))?.[1] ?? `'.${suffix}'`;
    return { layout: 'kohya', component: c, module: m[2], part: null, unsupported: kind };
  }
  if ((m = PEFT.exec(key))) return { layout: 'peft', component: component(m[1]), module: dotted(component(m[1]), m[2]), part: m[3] === 'lora_A' ? 'down' : 'up' };
  if ((m = PEFT_DORA.exec(key))) return { layout: 'peft', component: component(m[1]), module: dotted(component(m[1]), m[2]), part: null, unsupported: 'DoRA' };
  if ((m = PEFT_BIAS.exec(key))) return { layout: 'peft', component: component(m[1]), module: dotted(component(m[1]), m[2]), part: null, unsupported: 'LoRA-bias' };
  if ((m = PEFT_BARE.exec(key))) {
    const text = m[1].startsWith('text_model.');
    return { layout: 'peft', component: text ? 'text_encoder' : 'unet', module: text ? textPath(m[1]) : m[1], part: m[2] === 'lora_A' ? 'down' : 'up' };
  }
  if ((m = OLD_COMPATIBLE.exec(key))) return { layout: 'diffusers-old', component: component(m[1]), module: dotted(component(m[1]), m[2]), part: m[3] as LoraPart };
  if ((m = OLD_LINEAR_LAYER.exec(key))) return { layout: 'diffusers-old', component: component(m[1]), module: dotted(component(m[1]), m[2]), part: m[3] as LoraPart };
  if ((m = OLD_PROCESSOR.exec(key))) {
    const text = m[1] === 'text_encoder';
    const linear = (text ? TEXT_PROC : UNET_PROC)[m[4]];
    return { layout: 'diffusers-old', component: text ? 'text_encoder' : 'unet', module: dotted(text ? 'text_encoder' : 'unet', `${m[2]}.${linear}`), part: m[5] as LoraPart };
  }
  if ((m = PEFT_ALPHA.exec(key))) return { layout: 'peft', component: component(m[1]), module: dotted(component(m[1]), m[2]), part: 'alpha' };
  return null;
}
