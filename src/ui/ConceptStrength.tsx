import { useEffect, useState } from 'react';
import type { ConceptSummary } from '../library/concept-record';
import { updateConcept } from './library';

/** A LoRA strength that is saved when the slider is let go. */
export function ConceptStrength({ concept }: { concept: ConceptSummary }) {
  const [value, setValue] = useState(concept.loraStrength);
  useEffect(() => setValue(concept.loraStrength), [concept.loraStrength]);
  const save = () => value !== concept.loraStrength && void updateConcept(concept.id, { loraStrength: value });
  return (
    <label>
      LoRA strength {value.toFixed(2)}
      <input
        type="range"
        min={0}
        max={1.5}
        step={0.05}
        value={value}
        aria-label={`LoRA strength of ${concept.token}`}
        onChange={(e) => setValue(Number(e.target.value))}
        onPointerUp={save}
        onKeyUp={save}
        onBlur={save}
      />
    </label>
  );
}
