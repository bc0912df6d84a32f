import { useEffect, useState } from 'react';
import type { ConceptSummary } from '../library/concept-record';
import type { ConceptChange } from '../library/concept-store';
import { updateConcept } from './library';

interface SliderProps {
  id: string;
  label: string;
  ariaLabel: string;
  stored: number;
  /** The change that saves `value`. */
  changeOf: (value: number) => ConceptChange;
}

/** A strength that is saved when the slider is let go. */
function StrengthSlider({ id, label, ariaLabel, stored, changeOf }: SliderProps) {
  const [value, setValue] = useState(stored);
  useEffect(() => setValue(stored), [stored]);
  const save = () => value !== stored && void updateConcept(id, changeOf(value));
  return (
    <label>
      {label} {value.toFixed(2)}
      <input
        type="range"
        min={0}
        max={1.5}
        step={0.05}
        value={value}
        aria-label={ariaLabel}
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
