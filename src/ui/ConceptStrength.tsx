import { useEffect, useState } from 'react';
import type { ConceptSummary } from '../library/concept-record';
import type { ConceptChange } from '../library/concept-store';
import { updateConcept } from './library';
import { clampGateBias, GATE_BIAS, GATE_BIAS_HELP } from './gate-bias';

interface SliderProps {
  id: string;
  label: string;
  ariaLabel: string;
  stored: number;
  /** The change that saves `value`. */
  changeOf: (value: number) => ConceptChange;
  /** Absent: 0 to 1.5 in steps of 0.05 (a LoRA strength). */
  range?: { min: number; max: number; step: number };
  /** The id of a sentence that says what moving it does. */
  describedBy?: string;
}

/** A strength that is saved when the slider is let go. */
function StrengthSlider({ id, label, ariaLabel, stored, changeOf, range = { min: 0, max: 1.5, step: 0.05 }, describedBy }: SliderProps) {
  const [value, setValue] = useState(stored);
  useEffect(() => setValue(stored), [stored]);
  const save = () => value !== stored && void updateConcept(id, changeOf(value));
  return (
    <label>
      {label} {value.toFixed(2)}
      <input
        type="range"
        min={range.min}
        max={range.max}
        step={range.step}
        value={value}
        aria-label={ariaLabel}
        aria-describedby={describedBy}
        onChange={(e) => setValue(Number(e.target.value))}
        onPointerUp={save}
        onKeyUp={save}
        onBlur={save}
      />
    </label>
  );
}

/**
 * The LoRA's strength, and its text-encoder layers' own (A1111's `<lora:name:te:unet>`, ComfyUI's
 * strength_clip) when it has some; until that is moved it follows the LoRA strength.
 */
export function ConceptStrength({ concept }: { concept: ConceptSummary }) {
  const te = concept.textEncoderLayers ?? 0;
  const unetLayers = concept.loraLayers - te;
  return (
    <>
      {unetLayers > 0 && (
        <StrengthSlider
          id={concept.id}
          label={te > 0 ? 'LoRA strength (UNet)' : 'LoRA strength'}
          ariaLabel={`LoRA strength of ${concept.token}`}
          stored={concept.loraStrength}
          changeOf={(loraStrength) => ({ loraStrength })}
        />
      )}
      {te > 0 && (
        <StrengthSlider
          id={concept.id}
          label="Text-encoder strength"
          ariaLabel={`Text-encoder strength of ${concept.token}`}
          stored={concept.textEncoderStrength ?? concept.loraStrength}
          changeOf={(textEncoderStrength) => ({ textEncoderStrength })}
        />
      )}
    </>
  );
}

/** Perfusion's runtime knob: the gate bias, saved on the concept as `perfusion.gateBias`. */
export function ConceptGateBias({ concept }: { concept: ConceptSummary }) {
  const help = `gate-bias-help-${concept.id}`;
  return (
    <div>
      <StrengthSlider
        id={concept.id}
        label="Gate bias"
        ariaLabel={`Gate bias of ${concept.token}`}
        stored={clampGateBias(concept.gateBias ?? GATE_BIAS.default)}
        changeOf={(gateBias) => ({ gateBias })}
        range={GATE_BIAS}
        describedBy={help}
      />
      <p className="muted" id={help}>
        {GATE_BIAS_HELP}
      </p>
    </div>
  );
}
