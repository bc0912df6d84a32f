/** A labelled `<select>` over a fixed list of `[value, label]` choices. */
export function SelectField<T extends string>({
  label,
  name,
  value,
  choices,
  onChange,
  describedBy,
}: {
  label: string;
  name: string;
  value: T;
  choices: readonly (readonly [T, string])[];
  onChange: (value: T) => void;
  /** The id of a sentence that says more about the choice (aria-describedby). */
  describedBy?: string;
}) {
  return (
    <label>
      {label}
      <select name={name} value={value} aria-describedby={describedBy} onChange={(e) => onChange(choices.find(([v]) => v === e.target.value)?.[0] ?? value)}>
        {choices.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}
