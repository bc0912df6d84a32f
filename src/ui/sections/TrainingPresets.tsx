/** The New concept form's presets as a radio group: choosing one fills the settings it sets; edited settings read "Custom". */
import { matchingPreset, PRESET_LABELS, PRESETS, presetSettings, type PresetModel, type PresetName } from '../../engine/training-presets';
import type { TrainerOptions } from '../../train/config';

export function TrainingPresets({ options, model, choose }: { options: TrainerOptions; model: PresetModel; choose: (preset: PresetName) => void }) {
  const current = matchingPreset(options, model);
  return (
    <fieldset className="row presets" data-testid="training-presets">
      <legend>Preset</legend>
      {PRESETS.map((preset) => (
        <label key={preset} className="check">
          <input type="radio" name="preset" value={preset} checked={current === preset} onChange={() => choose(preset)} />
          {PRESET_LABELS[preset]} ({presetSettings(options.method, preset, model).steps} steps)
        </label>
      ))}
      {current === null && (
        <span className="muted" data-testid="preset-custom">
          Custom
        </span>
      )}
    </fieldset>
  );
}
